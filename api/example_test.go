package api_test

import (
	"encoding/json"
	"fmt"

	"github.com/presigned-upload/presigned-upload/api"
)

// A consumer's function, the target of a rule that the construct's
// OnUploadVerified or OnUploadRejected creates, decodes each event as an
// api.Event of api.UploadEvent. With aws-lambda-go it takes the type
// directly:
//
//	lambda.Start(func(ctx context.Context, ev api.Event[api.UploadEvent]) error {
//		if ev.DetailType == api.EventUploadRejected { … }
//	})
//
// Deliveries come at least once: drop repeats by the idempotency key.
func ExampleEvent() {
	delivered := `{
	  "version": "0", "id": "5b1f0c1e-7a41-4cde-9d0b-2f4e5a6b7c8d",
	  "detail-type": "Upload Verified", "source": "presigned-upload",
	  "account": "111122223333", "time": "2026-03-02T09:14:28Z", "region": "eu-west-1", "resources": [],
	  "detail": {
	    "bucket": "presigned-upload-bucket",
	    "fileKey": "uploads/0h4k2q8v1r5m9t3c7b6n0d2f4g-report.png",
	    "fileName": "report.png", "size": 20481,
	    "contentType": "image/png", "detectedType": "image/png",
	    "etag": "6f5902ac237024bdd0c176cb93063dc4",
	    "idempotencyKey": "9c1185a5c5e9fc54612808977ee8f548b2258d31"
	  }
	}`
	var ev api.Event[api.UploadEvent]
	if err := json.Unmarshal([]byte(delivered), &ev); err != nil {
		panic(err)
	}
	seen := map[string]bool{} // a real consumer keeps these durably
	if ev.Source == api.EventSource && ev.DetailType == api.EventUploadVerified && !seen[ev.Detail.IdempotencyKey] {
		seen[ev.Detail.IdempotencyKey] = true
		fmt.Printf("%s: %s, %d bytes of %s\n", ev.DetailType, ev.Detail.FileName, ev.Detail.Size, ev.Detail.DetectedType)
	}
	// Output: Upload Verified: report.png, 20481 bytes of image/png
}

// ParseKey takes an issued key apart: with sign-in, the owner's caller ID
// comes first.
func ExampleParseKey() {
	owner := api.CallerID("https://issuer.example", "alice")
	key := api.BuildKey(api.OwnerPrefix("uploads/", owner), "0h4k2q8v1r5m9t3c7b6n0d2f4g", "Quarterly report (final).pdf")
	k, ok := api.ParseKey("uploads/", key, true)
	fmt.Println(ok, k.Owner == owner, k.FileName)
	// Output: true true Quarterly_report_final_.pdf
}
