// Package s3err reads S3's answer out of an error the AWS SDK returned,
// for the functions that act on it: the upload function, the verifier and
// the quota ledger they share.
package s3err

import (
	"errors"

	"github.com/aws/smithy-go"
)

// Status is the HTTP status of S3's answer that err carries, 0 when there
// was none (the request never got an answer).
func Status(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Code is S3's error code that err carries, such as "NoSuchKey"; "" when
// there is none.
func Code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
