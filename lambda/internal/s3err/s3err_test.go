package s3err_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/presigned-upload/presigned-upload/lambda/internal/s3err"
)

// S3's status and code are read through the SDK's wrapping, and through
// any wrapping of ours.
func TestStatusAndCode(t *testing.T) {
	answered := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusPreconditionFailed}},
		Err:      &smithy.GenericAPIError{Code: "PreconditionFailed"},
	}}
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"S3's answer", answered, 412, "PreconditionFailed"},
		{"wrapped", fmt.Errorf("write: %w", answered), 412, "PreconditionFailed"},
		{"a code without a response", &smithy.GenericAPIError{Code: "NoSuchKey"}, 0, "NoSuchKey"},
		{"no answer", errors.New("connection reset"), 0, ""},
		{"nil", nil, 0, ""},
	} {
		if got := s3err.Status(tc.err); got != tc.status {
			t.Errorf("%s: Status = %d, want %d", tc.name, got, tc.status)
		}
		if got := s3err.Code(tc.err); got != tc.code {
			t.Errorf("%s: Code = %q, want %q", tc.name, got, tc.code)
		}
	}
}
