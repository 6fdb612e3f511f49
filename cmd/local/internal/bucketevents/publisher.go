package bucketevents

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/presigned-upload/presigned-upload/api"
)

// LinePrefix starts each line a [Publisher] writes, before the event's
// JSON.
const LinePrefix = "event "

// Publisher takes the event bus's place for the verifier: it satisfies the
// verifier's Publisher (EventBridge's PutEvents). Each entry becomes the
// event an EventBridge rule's target receives (version, id, source,
// detail-type, time, region, account, resources, and the detail as JSON),
// written as one line, "event <JSON>", and POSTed to a URL when one is
// set.
type Publisher struct {
	out    io.Writer
	url    string
	region string
	client *http.Client
	log    *slog.Logger
	mu     sync.Mutex
}

// NewPublisher writes each event to out and, when url is not empty, POSTs
// it there as JSON. region is the one the events name.
func NewPublisher(out io.Writer, url, region string, log *slog.Logger) *Publisher {
	return &Publisher{out: out, url: url, region: region, log: log, client: &http.Client{Timeout: 5 * time.Second}}
}

// PutEvents publishes each entry. An entry whose detail is not a JSON
// object fails, as EventBridge fails it. A POST that fails is logged and
// does not fail the entry: the line written is the event's record, and a
// failed publish would keep the verifier from settling its outcome.
func (p *Publisher) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for _, entry := range in.Entries {
		detail := []byte(aws.ToString(entry.Detail))
		if !json.Valid(detail) || !bytes.HasPrefix(bytes.TrimSpace(detail), []byte("{")) {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{
				ErrorCode: aws.String("MalformedDetail"), ErrorMessage: aws.String("Detail is malformed.")})
			continue
		}
		ev := api.RawEvent{Version: "0", ID: newID(), DetailType: aws.ToString(entry.DetailType),
			Source: aws.ToString(entry.Source), Account: account, Time: time.Now().UTC(), Region: p.region,
			Resources: append([]string{}, entry.Resources...), Detail: detail}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		_, err = fmt.Fprintf(p.out, "%s%s\n", LinePrefix, b)
		p.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("write event: %w", err)
		}
		if p.url != "" {
			p.post(ctx, b)
		}
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String(ev.ID)})
	}
	return out, nil
}

func (p *Publisher) post(ctx context.Context, event []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(event))
	if err != nil {
		p.log.Warn("event not posted", "url", p.url, "error", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		p.log.Warn("event not posted", "url", p.url, "error", err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		p.log.Warn("event not accepted", "url", p.url, "status", resp.StatusCode)
	}
}
