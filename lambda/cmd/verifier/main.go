// Command verifier is the verifier function's bootstrap. It only wires: the
// settings are read once, the S3 and EventBridge clients are built once at
// init (no network calls), and every log line carries the request ID. The
// checks live in package verifier.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/verifier"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	settings, err := api.LoadSettings[api.VerifierSettings](os.Getenv)
	if err != nil {
		slog.Error("invalid settings", "error", err)
		os.Exit(1)
	}
	region := os.Getenv("AWS_REGION")
	// The Lambda runtime puts the role's credentials in the environment.
	creds := credentials.NewStaticCredentialsProvider(
		os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))
	h, err := verifier.New(settings,
		s3.New(s3.Options{Region: region, Credentials: creds}),
		eventbridge.New(eventbridge.Options{Region: region, Credentials: creds}))
	if err != nil {
		slog.Error("invalid settings", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
