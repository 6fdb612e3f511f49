package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// BenchmarkUploadToEvent uploads small PNGs one after the other through
// the API and reports, over all of them, the time from the last byte
// stored (the stored file's modification time) to the verifier's event
// being published, as p50 and p99 (go test -run '^$' -bench UploadToEvent
// -benchtime 200x ./cmd/local). ns/op includes the upload.
func BenchmarkUploadToEvent(b *testing.B) {
	f := newEventFlow(b, api.UploadSettings{}, nil)
	png := pixelPNG(b)
	var latencies []time.Duration
	for b.Loop() {
		key := uploadBench(b, f.flow, "pixel.png", "image/png", int64(len(png)), func() io.Reader { return bytes.NewReader(png) })
		st, err := os.Stat(filepath.Join(gw.Root, f.bucket, filepath.FromSlash(key)))
		if err != nil {
			b.Fatal(err)
		}
		waitFor(b, "event about "+key, func() bool { return len(f.published.forKey(key)) == 1 })
		latencies = append(latencies, f.published.forKey(key)[0].at.Sub(st.ModTime()))
	}
	slices.Sort(latencies)
	p50, p99 := latencies[len(latencies)/2], latencies[len(latencies)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.Logf("last byte stored → event published, %d uploads: p50 %v, p99 %v", len(latencies), p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
}

// BenchmarkVerifiedObject counts what the verifier asks of S3 for one
// object uploaded through the API and verified through local mode's
// notifications: calls, the object's bytes the server sent, and all bytes
// on the wire, per object, at 1 KiB, 64 MiB and 1 GiB (go test -run '^$'
// -bench VerifiedObject -benchtime 2x ./cmd/local). ns/op includes the
// upload.
func BenchmarkVerifiedObject(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int64
	}{{"1KiB", 1 << 10}, {"64MiB", 64 << 20}, {"1GiB", 1 << 30}} {
		b.Run(size.name, func(b *testing.B) {
			wire := newWireCounter()
			f := newEventFlow(b, api.UploadSettings{}, wire.client())
			var calls, object, onWire int64
			n := 0
			for b.Loop() {
				wire.reset()
				key := uploadBench(b, f.flow, "blob.bin", "application/octet-stream", size.bytes, func() io.Reader { return io.LimitReader(zeros{}, size.bytes) })
				f.events(key, 1)
				c, _, w := wire.totals()
				calls, object, onWire = calls+int64(c), object+wire.bodyBytes(key), onWire+w
				n++
			}
			b.ReportMetric(float64(calls)/float64(n), "s3calls/op")
			b.ReportMetric(float64(object)/float64(n), "objectbytes/op")
			b.ReportMetric(float64(onWire)/float64(n), "wirebytes/op")
		})
	}
}

// uploadBench asks the API for a URL and PUTs size bytes from body to it.
func uploadBench(b *testing.B, f *flow, name, contentType string, size int64, body func() io.Reader) string {
	b.Helper()
	got := f.uploadURL(api.UploadURLRequest{FileName: name, ContentType: contentType, Size: &size})
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, got.UploadURL, body())
	if err != nil {
		b.Fatal(err)
	}
	req.ContentLength = size
	for k, v := range got.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("PUT %s = %d %s", name, resp.StatusCode, msg)
	}
	return got.FileKey
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
