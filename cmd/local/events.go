package main

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/bucketevents"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
	"github.com/presigned-upload/presigned-upload/lambda/verifier"
)

// verifyUploads does for s's bucket what the deployment does after an
// upload: the verifier's own code, with the environment's settings, judges
// each object stored under the key prefix, from the S3 server's
// notifications turned into the events the deployed rule delivers, and
// publishes through pub; and pre-signed reads of objects that are not
// verified are refused, as the bucket policy refuses them. The verifier
// reads and tags through client.
func verifyUploads(notifications *bucketevents.Endpoint, gw *s3gw.Server, client *s3.Client, s api.VerifierSettings, pub verifier.Publisher, log *slog.Logger) error {
	v, err := verifier.New(s, client, pub, verifier.WithLogger(log))
	if err != nil {
		return err
	}
	s = s.WithDefaults()
	notifications.Verify(s.UploadSettings, v, client)
	gw.GuardReads(s.Bucket, s.KeyPrefix)
	return nil
}

// checkEventsURL accepts an empty -events-url or an absolute http(s) one.
func checkEventsURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-events-url %q: want an http:// or https:// URL", s)
	}
	return nil
}

func eventsTo(eventsURL string) string {
	if eventsURL == "" {
		return " (-events-url also POSTs them)"
	}
	return ", also POSTed to " + eventsURL
}
