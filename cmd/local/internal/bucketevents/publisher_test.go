package bucketevents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/bucketevents"
)

func entry(detailType, detail string) ebtypes.PutEventsRequestEntry {
	return ebtypes.PutEventsRequestEntry{EventBusName: aws.String("default"), Source: aws.String(api.EventSource),
		DetailType: aws.String(detailType), Detail: aws.String(detail)}
}

func TestPublisher(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	detail := `{"bucket":"b","fileKey":"uploads/x","size":3}`
	t.Run("one line each, and the same JSON posted", func(t *testing.T) {
		posted := make(chan []byte, 2)
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s with Content-Type %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
			}
			posted <- b
		}))
		defer sink.Close()
		var out bytes.Buffer
		p := bucketevents.NewPublisher(&out, sink.URL, "us-east-1", quiet)
		res, err := p.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
			entry(api.EventUploadVerified, detail), entry(api.EventUploadRejected, detail)}})
		if err != nil || res.FailedEntryCount != 0 || len(res.Entries) != 2 {
			t.Fatalf("PutEvents = %+v, %v", res, err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("wrote %d lines, want 2:\n%s", len(lines), out.String())
		}
		for i, want := range []string{api.EventUploadVerified, api.EventUploadRejected} {
			js, ok := strings.CutPrefix(lines[i], bucketevents.LinePrefix)
			var ev api.RawEvent
			if !ok || json.Unmarshal([]byte(js), &ev) != nil {
				t.Fatalf("line %q is not %q and an event's JSON", lines[i], bucketevents.LinePrefix)
			}
			if ev.Source != api.EventSource || ev.DetailType != want || string(ev.Detail) != detail || ev.ID != aws.ToString(res.Entries[i].EventId) {
				t.Errorf("line %d = %s, want %s from %s with the detail as given, under the ID PutEvents returned", i, js, want, api.EventSource)
			}
			if got := <-posted; string(got) != js {
				t.Errorf("posted %s, want the line's JSON %s", got, js)
			}
		}
	})
	t.Run("a detail that is not a JSON object fails its entry", func(t *testing.T) {
		var out bytes.Buffer
		p := bucketevents.NewPublisher(&out, "", "us-east-1", quiet)
		res, err := p.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry(api.EventUploadVerified, `"text"`)}})
		if err != nil || res.FailedEntryCount != 1 || aws.ToString(res.Entries[0].ErrorCode) != "MalformedDetail" || out.Len() != 0 {
			t.Errorf("PutEvents = %+v, %v, wrote %q; want one MalformedDetail entry and nothing written", res, err, out.String())
		}
	})
	t.Run("a URL that refuses does not fail the event", func(t *testing.T) {
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
		defer sink.Close()
		var out bytes.Buffer
		p := bucketevents.NewPublisher(&out, sink.URL, "us-east-1", quiet)
		res, err := p.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry(api.EventUploadVerified, detail)}})
		if err != nil || res.FailedEntryCount != 0 || !strings.HasPrefix(out.String(), bucketevents.LinePrefix) {
			t.Errorf("PutEvents = %+v, %v, wrote %q; want the event written and no failure", res, err, out.String())
		}
	})
}
