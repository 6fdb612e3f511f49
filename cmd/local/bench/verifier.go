package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// verifierEvent is a queue batch of one S3 Object Created event, as the
// deployed rule delivers it, for an object outside the key prefix: the
// verifier decodes it and leaves it alone without calling S3, which the
// bench cannot reach as the deployed function does (its client has no
// endpoint to point at a local server). So the cold start measured is
// exec, init (settings, clients, the sniffer's tables) and one batch
// decoded and answered.
func verifierEvent() ([]byte, error) {
	detail, err := json.Marshal(map[string]any{
		"version": "0", "bucket": map[string]any{"name": "bench-bucket"},
		"object": map[string]any{"key": "elsewhere/report.pdf", "size": 20481, "etag": "6f5902ac237024bdd0c176cb93063dc4", "sequencer": "0062E99A88DC407460"},
		"reason": "PutObject",
	})
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(events.EventBridgeEvent{Version: "0", ID: "bench", DetailType: "Object Created", Source: "aws.s3",
		AccountID: "123456789012", Time: time.Now().UTC(), Region: "us-east-1", Resources: []string{"arn:aws:s3:::bench-bucket"}, Detail: detail})
	if err != nil {
		return nil, err
	}
	return json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "bench-message", Body: string(body),
		EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:bench-verifier"}}})
}

// benchVerifierColdStart starts the verifier's bootstrap, built as the
// construct builds it, interleaved with hello world, each against a
// Runtime API of its own, and reports the p50 from exec to the answered
// batch.
func benchVerifierColdStart(ctx context.Context, root, work string, runs int) ([]row, error) {
	ours, err := buildBootstrap(root, filepath.Join(root, verifierFunction), filepath.Join(work, "verifier"))
	if err != nil {
		return nil, err
	}
	hello, err := buildBootstrap(filepath.Join(root, localModuleDir), filepath.Join(root, benchDir, "hello"), filepath.Join(work, "hello"))
	if err != nil {
		return nil, err
	}
	event, err := verifierEvent()
	if err != nil {
		return nil, err
	}
	env := lambdaEnv(api.VerifierSettings{UploadSettings: benchUploadSettings})
	bins := []string{ours, hello}
	times := make([][]time.Duration, len(bins))
	for i := -2; i < runs; i++ { // two warm-up rounds fill the page cache
		for j, bin := range bins {
			d, err := coldStart(ctx, event, bin, nil, env)
			if err != nil {
				return nil, err
			}
			if i >= 0 {
				times[j] = append(times[j], d)
			}
		}
	}
	p50 := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	oursP50, helloP50 := p50(times[0]), p50(times[1])
	return []row{{fmt.Sprintf("verifier cold start, exec → a batch answered (an event it leaves alone, no S3 call) (p50 of %d)", runs),
		ms(oursP50), "hello world " + ms(helloP50), fmt.Sprintf("%.2f×", float64(oursP50)/float64(helloP50)), "reported", "—"}}, nil
}
