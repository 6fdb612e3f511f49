package uploadapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// The handler answers API Gateway's proxy events. Signing happens locally,
// and this route never calls S3, so the example makes no network request.
func ExampleHandler_Handle() {
	client := s3.New(s3.Options{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	h, err := uploadapi.New(api.UploadSettings{Bucket: "my-uploads"}, s3.NewPresignClient(client), client,
		uploadapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}

	resp, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{
		Resource:   api.UploadURL.Resource,
		HTTPMethod: "POST",
		Body:       `{"fileName":"Q3 report.pdf","contentType":"application/pdf","size":52431}`,
	})
	var out api.UploadURLResponse
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		panic(err)
	}
	u, err := url.Parse(out.UploadURL)
	if err != nil {
		panic(err)
	}

	// The key holds a random ID: print its shape, not its value.
	fmt.Println("status:", resp.StatusCode)
	fmt.Println("key is issued under uploads/:", api.IsIssuedKey("uploads/", out.FileKey))
	fmt.Println("key ends with:", out.FileKey[strings.LastIndex(out.FileKey, "-"):])
	fmt.Println("method:", out.Method)
	fmt.Println("signed headers:", u.Query().Get("X-Amz-SignedHeaders"))
	for _, name := range slices.Sorted(maps.Keys(out.Headers)) {
		fmt.Printf("send %s: %s\n", name, out.Headers[name])
	}
	// Output:
	// status: 200
	// key is issued under uploads/: true
	// key ends with: -Q3_report.pdf
	// method: PUT
	// signed headers: content-length;content-type;host
	// send Content-Length: 52431
	// send Content-Type: application/pdf
}
