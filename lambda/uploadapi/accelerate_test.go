package uploadapi_test

import (
	"log/slog"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// With TransferAcceleration every URL the function issues, for each way of
// uploading and for downloads, names the bucket's accelerate endpoint and
// signs the same headers as without it; the function's own S3 calls are
// not its business (the BucketAPI client is not accelerated).
func TestTransferAccelerationURLs(t *testing.T) {
	client := s3.New(s3.Options{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	key := "uploads/" + api.CallerID("https://issuer.example", "alice") + "/0123456789abcdefghijklmnop-a.txt"
	issued := func(t *testing.T, accelerate bool) map[string]*url.URL {
		t.Helper()
		s := api.UploadSettings{Bucket: "upload-bucket", SignIn: true, TransferAcceleration: accelerate}
		fake := &fakeS3{objects: map[string][]byte{key: []byte("hello")}, algorithm: "CRC64NVME"}
		h, err := uploadapi.New(s, uploadapi.NewPresigner(client, s), fake, uploadapi.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		alice := func(req events.APIGatewayProxyRequest) events.APIGatewayProxyRequest { return as(req, "alice", true) }
		urls := map[string]*url.URL{}
		parse := func(name, raw string) {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			urls[name] = u
		}
		put := decodeJSON[api.UploadURLResponse](t, call(t, h, alice(post(`{"fileName":"a.txt","contentType":"text/plain","size":5,"checksumCRC64NVME":"rosUhgp5mIg="}`))))
		parse("PUT", put.UploadURL)
		form := decodeJSON[api.UploadFormResponse](t, call(t, h, alice(apiRequest("POST", "/get-upload-form", "", nil, `{"fileName":"a.txt","contentType":"text/plain"}`))))
		parse("form POST", form.URL)
		// A session of alice's for the part.
		fake.objects[sessionKey()] = []byte(`{"fileKey":"` + key + `","owner":"` + api.CallerID("https://issuer.example", "alice") +
			`","size":10,"partSize":16777216,"checksumAlgorithm":"CRC64NVME","secretSHA256":"` + secretHashOf(testSecret) + `"}`)
		parts := decodeJSON[api.SignPartsResponse](t, call(t, h, alice(apiRequest("POST", "/multipart/{uploadId}/parts", testUploadID, nil,
			`{"fileKey":"`+key+`","size":10,"partNumbers":[1],"checksumsCRC64NVME":["rosUhgp5mIg="]}`))))
		parse("part", parts.Parts[0].URL)
		down := decodeJSON[api.DownloadURLResponse](t, call(t, h, alice(apiRequest("POST", "/download-url", "", nil, `{"fileKey":"`+key+`"}`))))
		parse("download", down.DownloadURL)
		return urls
	}
	plain, fast := issued(t, false), issued(t, true)
	for name, u := range fast {
		t.Run(name, func(t *testing.T) {
			if u.Host != "upload-bucket.s3-accelerate.amazonaws.com" {
				t.Errorf("host = %s, want upload-bucket.s3-accelerate.amazonaws.com", u.Host)
			}
			if p := plain[name].Host; p != "upload-bucket.s3.eu-west-1.amazonaws.com" {
				t.Errorf("without acceleration host = %s, want the regional endpoint", p)
			}
			if name == "form POST" {
				return // signed by its policy, not by headers
			}
			if got, want := signedHeaders(t, u.String()), signedHeaders(t, plain[name].String()); !slices.Equal(got, want) {
				t.Errorf("signed headers = %v, want %v as without acceleration", got, want)
			}
			if got := u.Query().Get("X-Amz-Expires"); got == "" || got != plain[name].Query().Get("X-Amz-Expires") {
				t.Errorf("X-Amz-Expires = %q, want %q", got, plain[name].Query().Get("X-Amz-Expires"))
			}
		})
	}
	if len(fast) != 4 {
		t.Errorf("checked %d URLs, want 4", len(fast))
	}
}
