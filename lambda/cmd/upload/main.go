// Command upload is the upload function's bootstrap. It only wires: the
// settings are read once, the S3 presign client is built once at init (no
// network calls), and every log line carries the request ID. The routes
// live in package uploadapi.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	settings, err := api.LoadSettings[api.UploadSettings](os.Getenv)
	if err != nil {
		slog.Error("invalid settings", "error", err)
		os.Exit(1)
	}
	client := s3.New(s3.Options{
		Region: os.Getenv("AWS_REGION"),
		// The Lambda runtime puts the role's credentials in the environment.
		Credentials: credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
	})
	h, err := uploadapi.New(settings, uploadapi.NewPresigner(client, settings), client)
	if err != nil {
		slog.Error("invalid settings", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
