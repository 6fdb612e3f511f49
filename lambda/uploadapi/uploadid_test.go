package uploadapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"

	"github.com/aws/aws-lambda-go/events"
)

// TestUploadIDShape pins which uploadIds reach S3: IDs that S3, versitygw
// (UUIDs) and base64-minting servers issue pass; anything that could name
// another directory once joined into a file path is a 400.
func TestUploadIDShape(t *testing.T) {
	h, _ := newHandler(t, api.UploadSettings{})
	const malformed = "uploadId is missing or malformed"
	tests := []struct {
		id   string
		want string // the message of the 400; a valid ID fails next on the missing fileKey
	}{
		{"327e5979-0f7c-4428-b930-733ef5c2303b", "fileKey is required"},
		{"VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA", "fileKey is required"},
		{"2~iCw_lDY8VoNU.TvGQ-mdZQ+kg==", "fileKey is required"},
		{"a.b", "fileKey is required"},
		{strings.Repeat("x", 1024), "fileKey is required"},
		{"", malformed},
		{strings.Repeat("x", 1025), malformed},
		{".", malformed},
		{"..", malformed},
		{"....", malformed},
		{"../../sentinel", malformed},
		{"a/b", malformed},
		{`..\..\x`, malformed},
		{"a b", malformed},
		{"a\x00b", malformed},
		{"a%2Fb", malformed},
		{"ü", malformed},
	}
	for _, tc := range tests {
		resp := call(t, h, events.APIGatewayProxyRequest{Resource: api.AbortMultipart.Resource, HTTPMethod: "DELETE",
			PathParameters: map[string]string{"uploadId": tc.id}})
		var e api.ErrorResponse
		_ = json.Unmarshal([]byte(resp.Body), &e)
		if resp.StatusCode != 400 || e.Message != tc.want {
			t.Errorf("uploadId %q: %d %s, want 400 %q", tc.id, resp.StatusCode, resp.Body, tc.want)
		}
	}
}
