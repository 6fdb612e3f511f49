package uploadapi_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/presigned-upload/presigned-upload/api"
)

// crcParts are three parts of a threePartSize upload as S3 lists them after
// they were sent with CRC64NVME checksums.
func crcParts() []types.Part {
	parts := heldParts(false)
	for i := range parts {
		parts[i].ChecksumCRC64NVME = aws.String(api.EncodeCRC64NVME(uint64(i + 1)))
	}
	return parts
}

// An upload started with CRC64NVME completes only with the whole file's
// checksum, which S3 then compares with the parts' (FULL_OBJECT).
func TestMultipartCompleteWithTheWholeFileChecksum(t *testing.T) {
	const whole = "rosUhgp5mIg="
	complete := func(sum string) string {
		return jsonBody(t, api.CompleteRequest{FileKey: testKey, ChecksumCRC64NVME: sum,
			Parts: []api.CompletedPart{{PartNumber: 1, ETag: etag(1)}, {PartNumber: 2, ETag: etag(2)}, {PartNumber: 3, ETag: etag(3)}}})
	}
	t.Run("sent to S3 with every part's checksum", func(t *testing.T) {
		fake := &fakeS3{parts: crcParts(), algorithm: "CRC64NVME"}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		out := decodeJSON[api.CompleteResponse](t, call(t, h, apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, complete(whole))))
		if out.ChecksumCRC64NVME != whole {
			t.Errorf("response checksum = %q, want %q", out.ChecksumCRC64NVME, whole)
		}
		in := fake.completes[0]
		if aws.ToString(in.ChecksumCRC64NVME) != whole || in.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("CompleteMultipartUpload checksum %q type %q, want %q FULL_OBJECT", aws.ToString(in.ChecksumCRC64NVME), in.ChecksumType, whole)
		}
		for i, p := range in.MultipartUpload.Parts {
			if got, want := aws.ToString(p.ChecksumCRC64NVME), api.EncodeCRC64NVME(uint64(i+1)); got != want {
				t.Errorf("part %d checksum = %q, want %q as listed", i+1, got, want)
			}
		}
	})
	for _, tc := range []struct {
		name, algorithm, sum, contains string
	}{
		{"missing", "CRC64NVME", "", "whole file's CRC64NVME"},
		{"not a checksum", "CRC64NVME", "rosUhgp5mIgA", "whole file's CRC64NVME"},
		{"for an upload started without it", "SHA256", whole, "needs an upload started with checksumAlgorithm CRC64NVME"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			fake := &fakeS3{parts: crcParts(), algorithm: tc.algorithm}
			h, _ := newS3Handler(t, api.UploadSettings{}, fake)
			wantError(t, call(t, h, apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, complete(tc.sum))), 400, "BadRequest", tc.contains)
			wantCalls(t, fake, 0, 0, 0, 0)
		})
	}
}

// A single PUT signs at most one checksum, of the right shape.
func TestUploadURLChecksumRejects(t *testing.T) {
	sha := sha256Base64(1)
	for _, tc := range []struct{ name, body, contains string }{
		{"both checksums", `{"fileName":"a","contentType":"text/plain","checksumCRC64NVME":"rosUhgp5mIg=","checksumSHA256":"` + sha + `"}`, "not both"},
		{"seven bytes", `{"fileName":"a","contentType":"text/plain","checksumCRC64NVME":"AAAAAAAAAA=="}`, "8-byte"},
		{"not base64", `{"fileName":"a","contentType":"text/plain","checksumCRC64NVME":"!osUhgp5mIg="}`, "8-byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, api.UploadSettings{})
			wantError(t, call(t, h, post(tc.body)), 400, "BadRequest", tc.contains)
		})
	}
}

// Without the upload's secret, knowing its fileKey and uploadId is not
// enough: no call about it reaches S3 or signs a part.
func TestMultipartNeedsTheUploadSecret(t *testing.T) {
	routes := []struct {
		method, resource string
		query            map[string]string
		body             string
	}{
		{"POST", "/multipart/{uploadId}/parts", nil, `{"fileKey":"` + testKey + `","size":` + strconv.FormatInt(threePartSize, 10) + `,"partNumbers":[1]}`},
		{"GET", "/multipart/{uploadId}/parts", map[string]string{"fileKey": testKey}, ""},
		{"POST", "/multipart/{uploadId}/complete", nil, `{"fileKey":"` + testKey + `","parts":[{"partNumber":1,"etag":"abc"}]}`},
		{"DELETE", "/multipart/{uploadId}", map[string]string{"fileKey": testKey}, ""},
	}
	for _, r := range routes {
		for _, tc := range []struct{ name, secret, contains string }{
			{"no secret", "", "send the uploadSecret"},
			{"another secret", "dGhlIHdyb25nIHNlY3JldA", "not this upload's secret"},
			{"the secret's hash", "0000000000000000000000000000000000000000000000000000000000000000", "not this upload's secret"},
		} {
			t.Run(r.method+" "+r.resource+": "+tc.name, func(t *testing.T) {
				fake := &fakeS3{parts: heldParts(false)}
				h, _ := newS3Handler(t, api.UploadSettings{}, fake)
				req := apiRequest(r.method, r.resource, testUploadID, r.query, r.body)
				req.Headers = map[string]string{api.UploadSecretHeader: tc.secret}
				wantError(t, call(t, h, req), http.StatusForbidden, "Forbidden", tc.contains)
				wantCalls(t, fake, 0, 0, 0, 0)
			})
		}
	}
	t.Run("a session without a secret is refused", func(t *testing.T) {
		fake := &fakeS3{objects: map[string][]byte{sessionKey(): []byte(`{"fileKey":"` + testKey + `","size":10,"partSize":16777216}`)}}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		wantError(t, call(t, h, apiRequest("DELETE", "/multipart/{uploadId}", testUploadID, map[string]string{"fileKey": testKey}, "")), 403, "Forbidden", "not this upload's secret")
		wantCalls(t, fake, 0, 0, 0, 0)
	})
}

// S3's largest object, 10,000 parts of 5 GiB, is the default limit: a plan
// for exactly that is issued, one byte more is refused.
func TestMultipartUpToS3sLargestObject(t *testing.T) {
	start := func(size int64) events.APIGatewayProxyRequest {
		return apiRequest("POST", "/multipart", "", nil, `{"fileName":"huge.bin","contentType":"application/octet-stream","size":`+strconv.FormatInt(size, 10)+`}`)
	}
	fake := &fakeS3{objects: map[string][]byte{}}
	h, _ := newS3Handler(t, api.UploadSettings{}, fake)
	out := decodeJSON[api.MultipartStartResponse](t, call(t, h, start(api.MaxObjectSize)))
	if out.PartCount != api.MaxParts || out.PartSize != api.MaxPartSize {
		t.Errorf("plan = %d parts of %d bytes, want 10,000 of 5 GiB", out.PartCount, out.PartSize)
	}
	wantError(t, call(t, h, start(api.MaxObjectSize+1)), 413, "PayloadTooLarge", "53687091200001")
	wantCalls(t, fake, 1, 0, 0, 0)
}
