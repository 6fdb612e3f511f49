package uploadapi_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

const (
	// testUploadID is the upload ID the fake S3 hands out.
	testUploadID = "VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
	// testKey is a key the API could have issued under the default prefix.
	testKey = "uploads/0123456789abcdefghijklmnop-movie.mp4"
	// completedETag is the ETag the fake S3 gives the assembled object.
	completedETag = `"9b2cf535f27731c974343645a3985328-3"`
	// threePartSize makes three parts at the default 16 MiB part size, the
	// last one 5 bytes long.
	threePartSize = 2*int64(api.DefaultPartSize) + 5
	// testSecret is testUploadID's upload secret; apiRequest sends it.
	testSecret = "dGhlIHVwbG9hZCBzZWNyZXQgb2YgdGVzdFVwbG9hZElE"
)

// fakeS3 stands in for S3's multipart calls. It holds the parts of one
// upload, pages ListParts the way S3 does, records every input it gets and
// fails the operations named in errs.
type fakeS3 struct {
	parts    []types.Part     // ascending by part number
	pageSize int              // parts per ListParts page; 0 means the caller's MaxParts
	errs     map[string]error // by operation name, such as "ListParts"

	creates   []s3.CreateMultipartUploadInput
	lists     []s3.ListPartsInput
	completes []s3.CompleteMultipartUploadInput
	aborts    []s3.AbortMultipartUploadInput

	// objects are the session objects by key; nil starts with the session
	// of testUploadID: testKey, threePartSize bytes, 16 MiB parts, the
	// checksum algorithm in algorithm and testSecret.
	objects   map[string][]byte
	algorithm string
	tags      map[string]map[string]string // by key
	versions  map[string]string            // the current version's ID, by key; none without
	// quarantine refuses reads (GetObject, HeadObject) of an object under
	// the default key prefix whose status tag is not verified, as the
	// bucket policy of a verified deployment does for the function.
	quarantine  bool
	deletes     []string
	listObjects []s3.ListObjectsV2Input

	// assembled are the objects at the upload keys, as a listing shows
	// them: those completions stored, or a test put there.
	assembled map[string]types.Object
	// completed: S3 assembled the upload and no longer knows it.
	completed bool
}

var errNoSuchUpload = &smithy.GenericAPIError{Code: "NoSuchUpload", Message: "The specified upload does not exist."}

// sessionKey is where the handler keeps testUploadID's session.
func sessionKey() string {
	sum := sha256.Sum256([]byte(testUploadID))
	return api.DefaultSessionPrefix + hex.EncodeToString(sum[:])
}

func (f *fakeS3) store() map[string][]byte {
	if f.objects == nil {
		f.objects = map[string][]byte{sessionKey(): sessionJSON(threePartSize, f.algorithm)}
	}
	return f.objects
}

// sessionJSON is testUploadID's session as the handler writes it.
func sessionJSON(size int64, algorithm string) []byte {
	b, _ := json.Marshal(map[string]any{"fileKey": testKey, "size": size, "partSize": 16 << 20,
		"checksumAlgorithm": algorithm, "secretSHA256": secretHashOf(testSecret)})
	return b
}

// secretHashOf is the hash a session keeps of an upload secret.
func secretHashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if err := f.errs["PutObject"]; err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(in.Body)
	f.store()[aws.ToString(in.Key)] = b
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if f.quarantined(aws.ToString(in.Key)) {
		return nil, errAccessDenied
	}
	if err := f.errs["GetObject"]; err != nil {
		return nil, err
	}
	b, ok := f.store()[aws.ToString(in.Key)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "The specified key does not exist."}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.listObjects = append(f.listObjects, *in)
	if err := f.errs["ListObjectsV2"]; err != nil {
		return nil, err
	}
	var keys []string
	for k := range f.store() {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	for k := range f.assembled {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(false)}
	limit := int(aws.ToInt32(in.MaxKeys))
	if limit == 0 {
		limit = 1000 // S3's default
	}
	for _, k := range keys {
		if len(out.Contents) == limit {
			out.IsTruncated, out.NextContinuationToken = aws.Bool(true), out.Contents[len(out.Contents)-1].Key
			break
		}
		o, ok := f.assembled[k]
		if !ok {
			o = types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(f.objects[k]))), ETag: aws.String(objectETag(f.objects[k]))}
		}
		o.LastModified = aws.Time(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
		out.Contents = append(out.Contents, o)
	}
	return out, nil
}

// quarantined reports whether the quarantine refuses to read key.
func (f *fakeS3) quarantined(key string) bool {
	return f.quarantine && strings.HasPrefix(key, api.DefaultKeyPrefix) && f.tags[key][api.StatusTag] != api.StatusVerified
}

var errAccessDenied = &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}

func (f *fakeS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	if f.quarantined(aws.ToString(in.Key)) {
		return nil, errAccessDenied
	}
	if _, ok := f.store()[aws.ToString(in.Key)]; !ok {
		return nil, &smithy.GenericAPIError{Code: "NotFound", Message: "Not Found"}
	}
	return &s3.HeadObjectOutput{VersionId: f.version(aws.ToString(in.Key))}, nil
}

// version is key's current version ID, nil without one.
func (f *fakeS3) version(key string) *string {
	if v, ok := f.versions[key]; ok {
		return aws.String(v)
	}
	return nil
}

func (f *fakeS3) GetObjectTagging(_ context.Context, in *s3.GetObjectTaggingInput, _ ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	if _, ok := f.store()[aws.ToString(in.Key)]; !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "The specified key does not exist."}
	}
	out := &s3.GetObjectTaggingOutput{VersionId: f.version(aws.ToString(in.Key))}
	for k, v := range f.tags[aws.ToString(in.Key)] {
		out.TagSet = append(out.TagSet, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	b, ok := f.store()[aws.ToString(in.Key)]
	switch {
	case in.IfMatch != nil && !ok:
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "The specified key does not exist."}
	case in.IfMatch != nil && *in.IfMatch != objectETag(b):
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold"}
	}
	f.deletes = append(f.deletes, aws.ToString(in.Key))
	delete(f.store(), aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

// objectETag is the ETag S3 gives an object stored with one PUT.
func objectETag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (f *fakeS3) CreateMultipartUpload(_ context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f.creates = append(f.creates, *in)
	if err := f.errs["CreateMultipartUpload"]; err != nil {
		return nil, err
	}
	return &s3.CreateMultipartUploadOutput{Bucket: in.Bucket, Key: in.Key, UploadId: aws.String(testUploadID)}, nil
}

func (f *fakeS3) ListParts(_ context.Context, in *s3.ListPartsInput, _ ...func(*s3.Options)) (*s3.ListPartsOutput, error) {
	f.lists = append(f.lists, *in) // a copy: the caller may reuse in for the next page
	if err := f.errs["ListParts"]; err != nil {
		return nil, err
	}
	if f.completed {
		return nil, errNoSuchUpload
	}
	marker := 0
	if in.PartNumberMarker != nil {
		var err error
		if marker, err = strconv.Atoi(*in.PartNumberMarker); err != nil {
			return nil, &smithy.GenericAPIError{Code: "InvalidArgument", Message: "bad part number marker"}
		}
	}
	page := f.pageSize
	if page == 0 {
		page = int(aws.ToInt32(in.MaxParts))
	}
	if page == 0 {
		page = 1000
	}
	out := &s3.ListPartsOutput{IsTruncated: aws.Bool(false)}
	for _, p := range f.parts {
		if int(aws.ToInt32(p.PartNumber)) <= marker {
			continue
		}
		if len(out.Parts) == page {
			out.IsTruncated = aws.Bool(true)
			out.NextPartNumberMarker = aws.String(strconv.Itoa(int(aws.ToInt32(out.Parts[page-1].PartNumber))))
			break
		}
		out.Parts = append(out.Parts, p)
	}
	return out, nil
}

func (f *fakeS3) CompleteMultipartUpload(_ context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	f.completes = append(f.completes, *in)
	if err := f.errs["CompleteMultipartUpload"]; err != nil {
		return nil, err
	}
	if f.completed {
		return nil, errNoSuchUpload
	}
	if f.assembled == nil {
		f.assembled = map[string]types.Object{}
	}
	f.assembled[aws.ToString(in.Key)], f.completed = assembledObject(aws.ToInt64(in.MpuObjectSize), in), true
	return &s3.CompleteMultipartUploadOutput{Bucket: in.Bucket, Key: in.Key, ETag: aws.String(completedETag),
		ChecksumCRC64NVME: in.ChecksumCRC64NVME, ChecksumType: in.ChecksumType}, nil
}

// assembledObject is the object a completion stores, size bytes long, as
// a listing shows it: with a full-object CRC64NVME when the completion
// sent one, the SHA-256 of the parts when they have theirs.
func assembledObject(size int64, in *s3.CompleteMultipartUploadInput) types.Object {
	o := types.Object{Key: in.Key, Size: aws.Int64(size), ETag: aws.String(completedETag)}
	switch {
	case in.ChecksumCRC64NVME != nil:
		o.ChecksumAlgorithm, o.ChecksumType = []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc64nvme}, types.ChecksumTypeFullObject
	case in.MultipartUpload != nil && len(in.MultipartUpload.Parts) > 0 && in.MultipartUpload.Parts[0].ChecksumSHA256 != nil:
		o.ChecksumAlgorithm, o.ChecksumType = []types.ChecksumAlgorithm{types.ChecksumAlgorithmSha256}, types.ChecksumTypeComposite
	}
	return o
}

func (f *fakeS3) AbortMultipartUpload(_ context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.aborts = append(f.aborts, *in)
	if err := f.errs["AbortMultipartUpload"]; err != nil {
		return nil, err
	}
	return &s3.AbortMultipartUploadOutput{}, nil
}

// newS3Handler is a Handler that signs with the real presign client and
// sends its multipart calls to fake.
func newS3Handler(t *testing.T, cfg api.UploadSettings, fake *fakeS3) (*uploadapi.Handler, *bytes.Buffer) {
	t.Helper()
	if cfg.Bucket == "" {
		cfg.Bucket = "upload-bucket"
	}
	var logs bytes.Buffer
	h, err := uploadapi.New(cfg, testPresigner(), fake, uploadapi.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h, &logs
}

// apiRequest is the proxy event API Gateway sends for method on resource,
// with the uploadId path parameter set when id is not empty.
func apiRequest(method, resource, id string, query map[string]string, body string) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{Resource: resource, Path: resource, HTTPMethod: method, QueryStringParameters: query, Body: body}
	if id != "" {
		req.Headers = map[string]string{api.UploadSecretHeader: testSecret}
		req.PathParameters = map[string]string{"uploadId": id}
		req.Path = strings.Replace(resource, "{uploadId}", url.PathEscape(id), 1)
	}
	return req
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %+v: %v", v, err)
	}
	return string(b)
}

// decodeJSON asserts a 200 whose body is exactly a T.
func decodeJSON[T any](t *testing.T, resp events.APIGatewayProxyResponse) T {
	t.Helper()
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, resp.Body)
	}
	var out T
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode %s: %v", resp.Body, err)
	}
	return out
}

// wantError asserts resp is the JSON error shape with status and code and a
// message containing part, carrying the CORS headers.
func wantError(t *testing.T, resp events.APIGatewayProxyResponse, status int, code, part string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	var e api.ErrorResponse
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q is not the error shape: %v", resp.Body, err)
	}
	if e.Code != code || !strings.Contains(e.Message, part) {
		t.Errorf("error = %+v, want code %s and a message containing %q", e, code, part)
	}
	if resp.Headers["Content-Type"] != "application/json" || resp.Headers["Access-Control-Allow-Origin"] != "*" {
		t.Errorf("headers = %v, want JSON with CORS", resp.Headers)
	}
}

// wantCalls asserts how often each S3 operation was called.
func wantCalls(t *testing.T, f *fakeS3, create, list, complete, abort int) {
	t.Helper()
	got := []int{len(f.creates), len(f.lists), len(f.completes), len(f.aborts)}
	if want := []int{create, list, complete, abort}; !slices.Equal(got, want) {
		t.Errorf("S3 calls (create, list, complete, abort) = %v, want %v", got, want)
	}
}

func sha256Base64(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

func TestMultipartStart(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		wantChecksum types.ChecksumAlgorithm
	}{
		{"without checksums", `{"fileName":"my movie.mp4","contentType":"video/mp4","size":` + strconv.FormatInt(threePartSize, 10) + `}`, ""},
		{"SHA256 checksums", `{"fileName":"my movie.mp4","contentType":"video/mp4","size":` + strconv.FormatInt(threePartSize, 10) + `,"checksumAlgorithm":"SHA256"}`, types.ChecksumAlgorithmSha256},
		{"a whole-file CRC64NVME", `{"fileName":"my movie.mp4","contentType":"video/mp4","size":` + strconv.FormatInt(threePartSize, 10) + `,"checksumAlgorithm":"CRC64NVME"}`, types.ChecksumAlgorithmCrc64nvme},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{}
			h, _ := newS3Handler(t, api.UploadSettings{}, fake)
			out := decodeJSON[api.MultipartStartResponse](t, call(t, h, apiRequest("POST", "/multipart", "", nil, tc.body)))
			want := api.MultipartStartResponse{UploadID: testUploadID, FileKey: out.FileKey, UploadSecret: out.UploadSecret, PartSize: 16 << 20, PartCount: 3, ExpiresIn: 300}
			if out != want {
				t.Errorf("response = %+v, want %+v", out, want)
			}
			// 256 random bits; the session keeps only their hash.
			if secret, err := base64.RawURLEncoding.DecodeString(out.UploadSecret); err != nil || len(secret) != 32 {
				t.Errorf("uploadSecret = %q, want 32 random bytes in base64url", out.UploadSecret)
			}
			var sess map[string]any
			_ = json.Unmarshal(fake.objects[sessionKey()], &sess)
			sum := sha256.Sum256([]byte(out.UploadSecret))
			if sess["secretSHA256"] != hex.EncodeToString(sum[:]) || strings.Contains(string(fake.objects[sessionKey()]), out.UploadSecret) {
				t.Errorf("session = %s, want the secret's hash and not the secret", fake.objects[sessionKey()])
			}
			if !api.KeyPattern("uploads/").MatchString(out.FileKey) || !strings.HasSuffix(out.FileKey, "-my_movie.mp4") {
				t.Errorf("fileKey = %q, want an issued key under uploads/ ending in -my_movie.mp4", out.FileKey)
			}
			wantCalls(t, fake, 1, 0, 0, 0)
			in := fake.creates[0]
			if aws.ToString(in.Bucket) != "upload-bucket" || aws.ToString(in.Key) != out.FileKey || aws.ToString(in.ContentType) != "video/mp4" {
				t.Errorf("CreateMultipartUpload got bucket %q key %q type %q, want upload-bucket, %q, video/mp4",
					aws.ToString(in.Bucket), aws.ToString(in.Key), aws.ToString(in.ContentType), out.FileKey)
			}
			wantType := types.ChecksumType("")
			if tc.wantChecksum == types.ChecksumAlgorithmCrc64nvme {
				wantType = types.ChecksumTypeFullObject
			}
			if in.ChecksumType != wantType {
				t.Errorf("ChecksumType = %q, want %q", in.ChecksumType, wantType)
			}
			if in.ChecksumAlgorithm != tc.wantChecksum {
				t.Errorf("ChecksumAlgorithm = %q, want %q", in.ChecksumAlgorithm, tc.wantChecksum)
			}
		})
	}
}

func TestMultipartStartRejects(t *testing.T) {
	secret := errors.New("dial tcp 10.0.0.7:443: secret internal detail")
	tests := []struct {
		name     string
		body     string
		s3Err    error
		status   int
		code     string
		contains string
		calls    int // CreateMultipartUpload calls
	}{
		{"malformed JSON", `{"fileName":`, nil, 400, "BadRequest", "JSON", 0},
		{"size missing", `{"fileName":"a.bin","contentType":"application/octet-stream"}`, nil, 400, "BadRequest", "size is required", 0},
		{"size zero", `{"fileName":"a.bin","contentType":"application/octet-stream","size":0}`, nil, 400, "BadRequest", "at least 1", 0},
		{"size over MaxMultipartSize", `{"fileName":"a.bin","contentType":"application/octet-stream","size":1073741825}`, nil, 413, "PayloadTooLarge", "1073741825", 0},
		{"fileName missing", `{"contentType":"application/octet-stream","size":10}`, nil, 400, "BadRequest", "fileName", 0},
		{"checksum algorithm other than SHA256", `{"fileName":"a.bin","contentType":"application/octet-stream","size":10,"checksumAlgorithm":"CRC32"}`, nil, 400, "BadRequest", "CRC32", 0},
		{"checksum algorithm in lower case", `{"fileName":"a.bin","contentType":"application/octet-stream","size":10,"checksumAlgorithm":"sha256"}`, nil, 400, "BadRequest", "sha256", 0},
		{"S3 failure is hidden", `{"fileName":"a.bin","contentType":"application/octet-stream","size":10}`, secret, 500, "InternalError", "internal error", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{errs: map[string]error{"CreateMultipartUpload": tc.s3Err}}
			h, logs := newS3Handler(t, api.UploadSettings{MaxMultipartSize: 1 << 30}, fake)
			resp := call(t, h, apiRequest("POST", "/multipart", "", nil, tc.body))
			wantError(t, resp, tc.status, tc.code, tc.contains)
			if strings.Contains(resp.Body, "secret") || strings.Contains(resp.Body, "10.0.0.7") {
				t.Errorf("body %s leaks the S3 error", resp.Body)
			}
			if tc.s3Err != nil && !strings.Contains(logs.String(), tc.s3Err.Error()) {
				t.Errorf("log %q lacks the S3 error", logs.String())
			}
			wantCalls(t, fake, tc.calls, 0, 0, 0)
		})
	}
}

func TestMultipartSignParts(t *testing.T) {
	partLen := map[int]int64{1: 16 << 20, 2: 16 << 20, 3: 5}
	crc := func(b byte) string { return api.EncodeCRC64NVME(uint64(b) * 0x0101010101010101) }
	tests := []struct {
		name      string
		algorithm string
		parts     []int
		sums      []string
	}{
		{"every part, last one shorter", "", []int{1, 2, 3}, nil},
		{"in the order asked", "", []int{3, 1}, nil},
		{"SHA-256 checksums are signed", "SHA256", []int{2, 3}, []string{sha256Base64(2), sha256Base64(3)}},
		{"CRC64NVME checksums are signed", "CRC64NVME", []int{1, 3}, []string{crc(1), crc(3)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{algorithm: tc.algorithm}
			h, _ := newS3Handler(t, api.UploadSettings{}, fake)
			req := api.SignPartsRequest{FileKey: testKey, Size: threePartSize, PartNumbers: tc.parts}
			header := ""
			switch tc.algorithm {
			case "SHA256":
				req.ChecksumsSHA256, header = tc.sums, "X-Amz-Checksum-Sha256"
			case "CRC64NVME":
				req.ChecksumsCRC64NVME, header = tc.sums, "X-Amz-Checksum-Crc64nvme"
			}
			body := jsonBody(t, req)
			out := decodeJSON[api.SignPartsResponse](t, call(t, h, apiRequest("POST", "/multipart/{uploadId}/parts", testUploadID, nil, body)))
			if out.ExpiresIn != 300 {
				t.Errorf("expiresIn = %d, want 300", out.ExpiresIn)
			}
			if len(out.Parts) != len(tc.parts) {
				t.Fatalf("got %d parts, want %d", len(out.Parts), len(tc.parts))
			}
			for i, p := range out.Parts {
				n := tc.parts[i]
				if p.PartNumber != n {
					t.Errorf("parts[%d].partNumber = %d, want %d", i, p.PartNumber, n)
				}
				want := map[string]string{"Content-Length": strconv.FormatInt(partLen[n], 10)}
				wantSigned := []string{"content-length", "host"}
				if tc.sums != nil {
					want[header] = tc.sums[i]
					wantSigned = append(wantSigned, strings.ToLower(header))
				}
				if !mapsEqual(p.Headers, want) {
					t.Errorf("part %d headers = %v, want %v", n, p.Headers, want)
				}
				if got := signedHeaders(t, p.URL); !slices.Equal(got, wantSigned) {
					t.Errorf("part %d X-Amz-SignedHeaders = %v, want %v", n, got, wantSigned)
				}
				u, err := url.Parse(p.URL)
				if err != nil {
					t.Fatalf("parse url: %v", err)
				}
				q := u.Query()
				if q.Get("partNumber") != strconv.Itoa(n) || q.Get("uploadId") != testUploadID || q.Get("X-Amz-Expires") != "300" {
					t.Errorf("part %d url query = %v, want partNumber %d, uploadId %s and X-Amz-Expires 300", n, q, n, testUploadID)
				}
				if !strings.HasSuffix(u.Path, "/"+testKey) {
					t.Errorf("part %d url path = %q, want it to end with /%s", n, u.Path, testKey)
				}
			}
			wantCalls(t, fake, 0, 0, 0, 0)
		})
	}
}

func TestMultipartSignPartsRejects(t *testing.T) {
	thousandAndOne := make([]int, 1001)
	for i := range thousandAndOne {
		thousandAndOne[i] = i + 1
	}
	body := func(r api.SignPartsRequest) string {
		if r.FileKey == "" {
			r.FileKey = testKey
		}
		if r.Size == 0 {
			r.Size = threePartSize
		}
		return jsonBody(t, r)
	}
	tests := []struct {
		name     string
		id       string
		body     string
		status   int
		code     string
		contains string
	}{
		{"part number zero", testUploadID, body(api.SignPartsRequest{PartNumbers: []int{0}}), 400, "BadRequest", "outside 1 to 3"},
		{"part number past the plan", testUploadID, body(api.SignPartsRequest{PartNumbers: []int{1, 4}}), 400, "BadRequest", "part number 4 is outside 1 to 3"},
		{"part number repeated", testUploadID, body(api.SignPartsRequest{PartNumbers: []int{2, 1, 2}}), 400, "BadRequest", "part number 2 is listed twice"},
		{"no part numbers", testUploadID, body(api.SignPartsRequest{}), 400, "BadRequest", "partNumbers is required"},
		{"empty part numbers", testUploadID, `{"fileKey":"` + testKey + `","size":10,"partNumbers":[]}`, 400, "BadRequest", "1 to 1000"},
		{"more than 1000 part numbers", testUploadID, body(api.SignPartsRequest{Size: 20 << 30, PartNumbers: thousandAndOne}), 400, "BadRequest", "1 to 1000"},
		{"fewer checksums than parts", testUploadID, body(api.SignPartsRequest{PartNumbers: []int{1, 2}, ChecksumsSHA256: []string{sha256Base64(1)}}), 400, "BadRequest", "one digest per part"},
		{"checksum not base64", testUploadID, body(api.SignPartsRequest{PartNumbers: []int{1}, ChecksumsSHA256: []string{"not base64!"}}), 400, "BadRequest", "checksumsSHA256[0]"},
		{"checksum too short", testUploadID, body(api.SignPartsRequest{PartNumbers: []int{1, 2}, ChecksumsSHA256: []string{sha256Base64(1), base64.StdEncoding.EncodeToString(make([]byte, 31))}}), 400, "BadRequest", "checksumsSHA256[1]"},
		{"checksums of another algorithm", testUploadID, body(api.SignPartsRequest{PartNumbers: []int{1}, ChecksumsCRC64NVME: []string{"rosUhgp5mIg="}}), 400, "BadRequest", "started with checksumAlgorithm SHA256"},
		{"no checksums", testUploadID, body(api.SignPartsRequest{PartNumbers: []int{1}}), 400, "BadRequest", "one digest per part"},
		{"fileKey missing", testUploadID, `{"size":10,"partNumbers":[1]}`, 400, "BadRequest", "fileKey is required"},
		{"fileKey under another prefix", testUploadID, body(api.SignPartsRequest{FileKey: "private/0123456789abcdefghijklmnop-movie.mp4", PartNumbers: []int{1}}), 400, "BadRequest", "not a key this API issued"},
		{"fileKey with a path", testUploadID, body(api.SignPartsRequest{FileKey: "uploads/0123456789abcdefghijklmnop-a/../../b", PartNumbers: []int{1}}), 400, "BadRequest", "not a key this API issued"},
		{"fileKey without an ID", testUploadID, body(api.SignPartsRequest{FileKey: "uploads/movie.mp4", PartNumbers: []int{1}}), 400, "BadRequest", "not a key this API issued"},
		{"uploadId missing", "", body(api.SignPartsRequest{PartNumbers: []int{1}}), 400, "BadRequest", "uploadId"},
		{"uploadId with a newline", "abc\ndef", body(api.SignPartsRequest{PartNumbers: []int{1}}), 400, "BadRequest", "uploadId"},
		{"uploadId with a space", "abc def", body(api.SignPartsRequest{PartNumbers: []int{1}}), 400, "BadRequest", "uploadId"},
		{"uploadId with DEL", "abc\x7f", body(api.SignPartsRequest{PartNumbers: []int{1}}), 400, "BadRequest", "uploadId"},
		{"uploadId over 1024 bytes", strings.Repeat("a", 1025), body(api.SignPartsRequest{PartNumbers: []int{1}}), 400, "BadRequest", "uploadId"},
		{"size missing", testUploadID, `{"fileKey":"` + testKey + `","partNumbers":[1]}`, 400, "BadRequest", "size is required"},
		{"size over MaxMultipartSize", testUploadID, body(api.SignPartsRequest{Size: api.MaxObjectSize + 1, PartNumbers: []int{1}}), 413, "PayloadTooLarge", "53687091200001"},
		{"unknown field", testUploadID, `{"fileKey":"` + testKey + `","size":10,"partNumbers":[1],"bucket":"other"}`, 400, "BadRequest", "bucket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{algorithm: "SHA256"}
			h, _ := newS3Handler(t, api.UploadSettings{}, fake)
			wantError(t, call(t, h, apiRequest("POST", "/multipart/{uploadId}/parts", tc.id, nil, tc.body)), tc.status, tc.code, tc.contains)
			wantCalls(t, fake, 0, 0, 0, 0)
		})
	}
}

// failingPartSigner is the real signer except that signing a part fails.
type failingPartSigner struct {
	*s3.PresignClient
	err error
}

func (f failingPartSigner) PresignUploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	return nil, f.err
}

func TestMultipartSignPartsHidesSignerFailure(t *testing.T) {
	var logs bytes.Buffer
	h, err := uploadapi.New(api.UploadSettings{Bucket: "b"}, failingPartSigner{testPresigner(), errPresign}, &fakeS3{},
		uploadapi.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	body := jsonBody(t, api.SignPartsRequest{FileKey: testKey, Size: threePartSize, PartNumbers: []int{1}})
	resp := call(t, h, apiRequest("POST", "/multipart/{uploadId}/parts", testUploadID, nil, body))
	wantError(t, resp, 500, "InternalError", "internal error")
	if strings.Contains(resp.Body, errPresign.Error()) {
		t.Errorf("body %s leaks the signer's error", resp.Body)
	}
	if !strings.Contains(logs.String(), errPresign.Error()) {
		t.Errorf("log %q lacks the cause", logs.String())
	}
}

// etag is the quoted ETag S3 reports for part n.
func etag(n int) string { return fmt.Sprintf(`"%032x"`, n) }

// heldParts are three parts of a threePartSize upload as S3 lists them,
// with SHA-256 checksums when withSums is set.
func heldParts(withSums bool) []types.Part {
	var parts []types.Part
	for n, size := range []int64{16 << 20, 16 << 20, 5} {
		p := types.Part{PartNumber: aws.Int32(int32(n + 1)), ETag: aws.String(etag(n + 1)), Size: aws.Int64(size)}
		if withSums {
			p.ChecksumSHA256 = aws.String(sha256Base64(byte(n + 1)))
		}
		parts = append(parts, p)
	}
	return parts
}

func TestMultipartListParts(t *testing.T) {
	t.Run("pages through every part in order", func(t *testing.T) {
		held := append(heldParts(true),
			types.Part{PartNumber: aws.Int32(7), ETag: aws.String(etag(7)), Size: aws.Int64(1)},
			types.Part{PartNumber: aws.Int32(9), ETag: aws.String(etag(9)), Size: aws.Int64(2)})
		fake := &fakeS3{parts: held, pageSize: 2}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		out := decodeJSON[api.ListPartsResponse](t, call(t, h,
			apiRequest("GET", "/multipart/{uploadId}/parts", testUploadID, map[string]string{"fileKey": testKey}, "")))
		want := []api.UploadedPart{
			{PartNumber: 1, ETag: etag(1), Size: 16 << 20, ChecksumSHA256: sha256Base64(1)},
			{PartNumber: 2, ETag: etag(2), Size: 16 << 20, ChecksumSHA256: sha256Base64(2)},
			{PartNumber: 3, ETag: etag(3), Size: 5, ChecksumSHA256: sha256Base64(3)},
			{PartNumber: 7, ETag: etag(7), Size: 1},
			{PartNumber: 9, ETag: etag(9), Size: 2},
		}
		if !slices.Equal(out.Parts, want) {
			t.Errorf("parts = %+v, want %+v", out.Parts, want)
		}
		var markers []string
		for _, in := range fake.lists {
			markers = append(markers, aws.ToString(in.PartNumberMarker))
			if aws.ToString(in.Bucket) != "upload-bucket" || aws.ToString(in.Key) != testKey || aws.ToString(in.UploadId) != testUploadID {
				t.Errorf("ListParts got bucket %q key %q upload %q, want upload-bucket, %s, %s",
					aws.ToString(in.Bucket), aws.ToString(in.Key), aws.ToString(in.UploadId), testKey, testUploadID)
			}
		}
		if want := []string{"", "2", "7"}; !slices.Equal(markers, want) {
			t.Errorf("part number markers sent = %q, want %q", markers, want)
		}
	})
	t.Run("no parts yet is an empty list", func(t *testing.T) {
		fake := &fakeS3{}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		resp := call(t, h, apiRequest("GET", "/multipart/{uploadId}/parts", testUploadID, map[string]string{"fileKey": testKey}, ""))
		if resp.StatusCode != 200 || resp.Body != `{"parts":[]}` {
			t.Errorf("got %d %s, want 200 {\"parts\":[]}", resp.StatusCode, resp.Body)
		}
	})
	t.Run("fileKey is required", func(t *testing.T) {
		fake := &fakeS3{parts: heldParts(false)}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		wantError(t, call(t, h, apiRequest("GET", "/multipart/{uploadId}/parts", testUploadID, nil, "")), 400, "BadRequest", "fileKey is required")
		wantCalls(t, fake, 0, 0, 0, 0)
	})
}

// completeBody asks to complete testKey with parts numbered and tagged as
// given: numbers[i] with etags[i].
func completeBody(t *testing.T, numbers []int, etags []string) string {
	t.Helper()
	in := api.CompleteRequest{FileKey: testKey}
	for i, n := range numbers {
		in.Parts = append(in.Parts, api.CompletedPart{PartNumber: n, ETag: etags[i]})
	}
	return jsonBody(t, in)
}

func TestMultipartComplete(t *testing.T) {
	tests := []struct {
		name     string
		withSums bool
	}{
		{"without checksums", false},
		{"with checksums", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{parts: heldParts(tc.withSums), pageSize: 2}
			h, _ := newS3Handler(t, api.UploadSettings{}, fake)
			// Browsers read the ETag header quoted; some clients strip the quotes.
			body := completeBody(t, []int{1, 2, 3}, []string{strings.Trim(etag(1), `"`), etag(2), etag(3)})
			out := decodeJSON[api.CompleteResponse](t, call(t, h, apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, body)))
			if want := (api.CompleteResponse{FileKey: testKey, ETag: completedETag, Size: threePartSize}); out != want {
				t.Errorf("response = %+v, want %+v", out, want)
			}
			wantCalls(t, fake, 0, 2, 1, 0)
			in := fake.completes[0]
			if aws.ToString(in.Bucket) != "upload-bucket" || aws.ToString(in.Key) != testKey || aws.ToString(in.UploadId) != testUploadID {
				t.Errorf("CompleteMultipartUpload got bucket %q key %q upload %q, want upload-bucket, %s, %s",
					aws.ToString(in.Bucket), aws.ToString(in.Key), aws.ToString(in.UploadId), testKey, testUploadID)
			}
			if in.MultipartUpload == nil {
				t.Fatal("CompleteMultipartUpload got no parts")
			}
			got := in.MultipartUpload.Parts
			held := heldParts(tc.withSums)
			if len(got) != len(held) {
				t.Fatalf("completed %d parts, want %d", len(got), len(held))
			}
			for i, p := range got {
				w := held[i]
				if aws.ToInt32(p.PartNumber) != aws.ToInt32(w.PartNumber) || aws.ToString(p.ETag) != aws.ToString(w.ETag) ||
					aws.ToString(p.ChecksumSHA256) != aws.ToString(w.ChecksumSHA256) || (p.ChecksumSHA256 == nil) != (w.ChecksumSHA256 == nil) {
					t.Errorf("completed part %d = {%d %s %v}, want {%d %s %v} as ListParts reported it", i,
						aws.ToInt32(p.PartNumber), aws.ToString(p.ETag), p.ChecksumSHA256,
						aws.ToInt32(w.PartNumber), aws.ToString(w.ETag), w.ChecksumSHA256)
				}
			}
		})
	}
}

func TestMultipartCompleteRejects(t *testing.T) {
	all := []int{1, 2, 3}
	tags := []string{etag(1), etag(2), etag(3)}
	secret := errors.New("read tcp 10.0.0.7:443: secret internal detail")
	invalidPart := &smithy.GenericAPIError{Code: "InvalidPart", Message: "One or more of the specified parts could not be found."}
	tests := []struct {
		name     string
		cfg      api.UploadSettings
		body     string
		errs     map[string]error
		status   int
		code     string
		contains string
		lists    int // ListParts calls
		aborts   int
		complete int
		declared int64 // the size the session declares; 0 means threePartSize
	}{
		{"forged etag", api.UploadSettings{}, completeBody(t, all, []string{etag(1), `"00000000000000000000000000000bad"`, etag(3)}), nil,
			400, "BadRequest", "part 2", 1, 0, 0, 0},
		{"part beyond the plan", api.UploadSettings{}, completeBody(t, []int{1, 2, 3, 4}, append(tags, etag(4))), nil,
			400, "BadRequest", "part 4", 1, 0, 0, 0},
		{"missing parts are named and the upload kept", api.UploadSettings{}, completeBody(t, []int{1, 3}, []string{etag(1), etag(3)}), nil,
			400, "BadRequest", "parts 2 of 3 are missing", 1, 0, 0, 0},
		{"a malformed etag", api.UploadSettings{}, completeBody(t, all, []string{etag(1), `"` + strings.Repeat("e", 65) + `"`, etag(3)}), nil,
			400, "BadRequest", "parts[1].etag", 0, 0, 0, 0},
		{"parts out of order", api.UploadSettings{}, completeBody(t, []int{2, 1, 3}, tags), nil,
			400, "BadRequest", "ascending", 0, 0, 0, 0},
		{"part repeated", api.UploadSettings{}, completeBody(t, []int{1, 1, 3}, tags), nil,
			400, "BadRequest", "ascending", 0, 0, 0, 0},
		{"no parts", api.UploadSettings{}, `{"fileKey":"` + testKey + `","parts":[]}`, nil,
			400, "BadRequest", "1 to 10000", 0, 0, 0, 0},
		{"fileKey not issued", api.UploadSettings{}, `{"fileKey":"uploads/x","parts":[{"partNumber":1,"etag":"x"}]}`, nil,
			400, "BadRequest", "not a key this API issued", 0, 0, 0, 0},
		{"parts over the declared size are aborted", api.UploadSettings{}, completeBody(t, all, tags), nil,
			413, "PayloadTooLarge", "over the 33554432 declared", 1, 1, 0, 32 << 20},
		{"over-size abort failing still answers 413", api.UploadSettings{}, completeBody(t, all, tags),
			map[string]error{"AbortMultipartUpload": secret}, 413, "PayloadTooLarge", "aborted", 1, 1, 0, 32 << 20},
		{"a part off the plan is aborted", api.UploadSettings{}, completeBody(t, all, tags), nil,
			400, "UploadAborted", "part 3 holds 5 bytes where the plan of 33554438 bytes has 6", 1, 1, 0, threePartSize + 1},
		{"S3 refuses a part", api.UploadSettings{}, completeBody(t, all, tags), map[string]error{"CompleteMultipartUpload": invalidPart},
			400, "InvalidPart", invalidPart.Message, 1, 0, 1, 0},
		{"S3 failure is hidden", api.UploadSettings{}, completeBody(t, all, tags), map[string]error{"CompleteMultipartUpload": secret},
			500, "InternalError", "internal error", 1, 0, 1, 0},
		{"listing failure is hidden", api.UploadSettings{}, completeBody(t, all, tags), map[string]error{"ListParts": secret},
			500, "InternalError", "internal error", 1, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{parts: heldParts(true), errs: tc.errs}
			if tc.declared != 0 {
				fake.objects = map[string][]byte{sessionKey(): sessionJSON(tc.declared, "")}
			}
			h, _ := newS3Handler(t, tc.cfg, fake)
			resp := call(t, h, apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, tc.body))
			wantError(t, resp, tc.status, tc.code, tc.contains)
			if strings.Contains(resp.Body, "secret") {
				t.Errorf("body %s leaks the S3 error", resp.Body)
			}
			wantCalls(t, fake, 0, tc.lists, tc.complete, tc.aborts)
			for _, in := range fake.aborts {
				if aws.ToString(in.Bucket) != "upload-bucket" || aws.ToString(in.Key) != testKey || aws.ToString(in.UploadId) != testUploadID {
					t.Errorf("AbortMultipartUpload got bucket %q key %q upload %q, want upload-bucket, %s, %s",
						aws.ToString(in.Bucket), aws.ToString(in.Key), aws.ToString(in.UploadId), testKey, testUploadID)
				}
			}
		})
	}
}

func TestMultipartAbort(t *testing.T) {
	t.Run("answers 204 without a body", func(t *testing.T) {
		fake := &fakeS3{parts: heldParts(false)}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		resp := call(t, h, apiRequest("DELETE", "/multipart/{uploadId}", testUploadID, map[string]string{"fileKey": testKey}, ""))
		if resp.StatusCode != 204 || resp.Body != "" {
			t.Errorf("got %d %q, want 204 without a body", resp.StatusCode, resp.Body)
		}
		if resp.Headers["Access-Control-Allow-Origin"] != "*" {
			t.Errorf("headers = %v, want CORS", resp.Headers)
		}
		wantCalls(t, fake, 0, 0, 0, 1)
		in := fake.aborts[0]
		if aws.ToString(in.Bucket) != "upload-bucket" || aws.ToString(in.Key) != testKey || aws.ToString(in.UploadId) != testUploadID {
			t.Errorf("AbortMultipartUpload got bucket %q key %q upload %q, want upload-bucket, %s, %s",
				aws.ToString(in.Bucket), aws.ToString(in.Key), aws.ToString(in.UploadId), testKey, testUploadID)
		}
	})
	t.Run("fileKey is required", func(t *testing.T) {
		fake := &fakeS3{}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		wantError(t, call(t, h, apiRequest("DELETE", "/multipart/{uploadId}", testUploadID, nil, "")), 400, "BadRequest", "fileKey is required")
		wantCalls(t, fake, 0, 0, 0, 0)
	})
}

// S3 forgets an upload once it is completed or aborted; every route that
// names one answers 404 then.
func TestMultipartNoSuchUpload(t *testing.T) {
	noSuchUpload := errNoSuchUpload
	query := map[string]string{"fileKey": testKey}
	tests := []struct {
		name string
		op   string // the S3 operation that answers NoSuchUpload
		req  func(t *testing.T) events.APIGatewayProxyRequest
	}{
		{"list parts", "ListParts", func(*testing.T) events.APIGatewayProxyRequest {
			return apiRequest("GET", "/multipart/{uploadId}/parts", testUploadID, query, "")
		}},
		{"complete, when listing", "ListParts", func(t *testing.T) events.APIGatewayProxyRequest {
			return apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, completeBody(t, []int{1}, []string{etag(1)}))
		}},
		{"complete, when assembling", "CompleteMultipartUpload", func(t *testing.T) events.APIGatewayProxyRequest {
			return apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, completeBody(t, []int{1, 2, 3}, []string{etag(1), etag(2), etag(3)}))
		}},
		{"abort", "AbortMultipartUpload", func(*testing.T) events.APIGatewayProxyRequest {
			return apiRequest("DELETE", "/multipart/{uploadId}", testUploadID, query, "")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{parts: heldParts(false), errs: map[string]error{tc.op: noSuchUpload}}
			h, _ := newS3Handler(t, api.UploadSettings{}, fake)
			wantError(t, call(t, h, tc.req(t)), 404, "NoSuchUpload", "no such multipart upload")
		})
	}
}

// A completion sent again (API Gateway gave up on the first after its
// timeout, or the answer was lost on the way) finds that S3 no longer
// knows the upload, or, racing the first, that the key has an object or a
// write under way. When the object at the key is the one the upload makes,
// it answers as the first completion did.
func TestMultipartCompletionSentAgain(t *testing.T) {
	const whole = "rosUhgp5mIg="
	body := func(sum string) string {
		return jsonBody(t, api.CompleteRequest{FileKey: testKey, ChecksumCRC64NVME: sum,
			Parts: []api.CompletedPart{{PartNumber: 1, ETag: etag(1)}, {PartNumber: 2, ETag: etag(2)}, {PartNumber: 3, ETag: etag(3)}}})
	}
	complete := func(t *testing.T, h *uploadapi.Handler, sum string) events.APIGatewayProxyResponse {
		t.Helper()
		return call(t, h, apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, body(sum)))
	}
	for _, tc := range []struct {
		name, algorithm, sum string
		parts                []types.Part
		cfg                  api.UploadSettings
	}{
		{"without checksums", "", "", heldParts(false), api.UploadSettings{}},
		{"with each part's SHA-256", "SHA256", "", heldParts(true), api.UploadSettings{}},
		{"with the whole file's CRC64NVME", "CRC64NVME", whole, crcParts(), api.UploadSettings{}},
		{"with preventOverwrite", "CRC64NVME", whole, crcParts(), api.UploadSettings{PreventOverwrite: true}},
	} {
		t.Run("after one that succeeded, "+tc.name, func(t *testing.T) {
			fake := &fakeS3{parts: tc.parts, algorithm: tc.algorithm}
			h, _ := newS3Handler(t, tc.cfg, fake)
			first := decodeJSON[api.CompleteResponse](t, complete(t, h, tc.sum))
			again := decodeJSON[api.CompleteResponse](t, complete(t, h, tc.sum))
			if again != first || again.FileKey != testKey || again.ChecksumCRC64NVME != tc.sum {
				t.Errorf("sent again: %+v, want %+v, as the first answered", again, first)
			}
			wantCalls(t, fake, 0, 2, 1, 0) // the second finds no parts to list
			if in := fake.listObjects; len(in) != 1 || aws.ToString(in[0].Bucket) != "upload-bucket" || aws.ToString(in[0].Prefix) != testKey {
				t.Errorf("listings %+v, want one of %s", in, testKey)
			}
		})
	}

	// The object a CRC64NVME upload of threePartSize bytes makes, or one
	// like it changed by change.
	object := func(change func(*types.Object)) map[string]types.Object {
		o := types.Object{Key: aws.String(testKey), Size: aws.Int64(threePartSize), ETag: aws.String(completedETag),
			ChecksumAlgorithm: []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc64nvme}, ChecksumType: types.ChecksumTypeFullObject}
		if change != nil {
			change(&o)
		}
		return map[string]types.Object{testKey: o}
	}
	conflict := &smithy.GenericAPIError{Code: "ConditionalRequestConflict", Message: "A conflicting conditional operation is currently in progress"}
	exists := &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold"}
	for _, tc := range []struct {
		name    string
		objects map[string]types.Object
		errs    map[string]error
		status  int
		code    string
	}{
		// The first completion stored the object after this one listed the parts.
		{"S3's 412: the object is the upload's", object(nil), map[string]error{"CompleteMultipartUpload": exists}, 200, ""},
		{"S3's 409: the object is the upload's", object(nil), map[string]error{"CompleteMultipartUpload": conflict}, 200, ""},
		{"S3's NoSuchUpload when assembling: the object is the upload's", object(nil), map[string]error{"CompleteMultipartUpload": errNoSuchUpload}, 200, ""},

		{"S3's 412: another object has the key", object(func(o *types.Object) { o.Size = aws.Int64(12) }),
			map[string]error{"CompleteMultipartUpload": exists}, 412, "PreconditionFailed"},
		{"S3's 409: no object yet", nil, map[string]error{"CompleteMultipartUpload": conflict}, 503, "Busy"},
		{"an object of another size", object(func(o *types.Object) { o.Size = aws.Int64(threePartSize - 1) }),
			map[string]error{"ListParts": errNoSuchUpload}, 404, "NoSuchUpload"},
		{"an object without a CRC64NVME", object(func(o *types.Object) { o.ChecksumAlgorithm, o.ChecksumType = nil, "" }),
			map[string]error{"ListParts": errNoSuchUpload}, 404, "NoSuchUpload"},
		{"an object whose CRC64NVME is not of the whole object", object(func(o *types.Object) { o.ChecksumType = types.ChecksumTypeComposite }),
			map[string]error{"ListParts": errNoSuchUpload}, 404, "NoSuchUpload"},
		{"an object at a longer key", object(func(o *types.Object) { o.Key = aws.String(testKey + ".old") }),
			map[string]error{"ListParts": errNoSuchUpload}, 404, "NoSuchUpload"},
		{"the listing fails", object(nil),
			map[string]error{"ListParts": errNoSuchUpload, "ListObjectsV2": errors.New("secret")}, 404, "NoSuchUpload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{parts: crcParts(), algorithm: "CRC64NVME", errs: tc.errs, assembled: tc.objects}
			h, _ := newS3Handler(t, api.UploadSettings{PreventOverwrite: true}, fake)
			resp := complete(t, h, whole)
			if tc.status != 200 {
				wantError(t, resp, tc.status, tc.code, "")
				return
			}
			want := api.CompleteResponse{FileKey: testKey, ETag: completedETag, Size: threePartSize, ChecksumCRC64NVME: whole}
			if got := decodeJSON[api.CompleteResponse](t, resp); got != want {
				t.Errorf("response = %+v, want %+v", got, want)
			}
		})
	}
}

// checkPlan asserts what S3 requires of any plan for size bytes: at most
// 10,000 parts of at most 5 GiB, each but the last at least 5 MiB, the
// last not empty, and lengths that add up to size.
func checkPlan(t *testing.T, p api.Plan, size int64) {
	t.Helper()
	if p.Size != size {
		t.Fatalf("plan size = %d, want %d", p.Size, size)
	}
	if p.PartCount < 1 || p.PartCount > api.MaxParts {
		t.Fatalf("plan for %d bytes has %d parts, want 1 to %d", size, p.PartCount, api.MaxParts)
	}
	if p.PartSize < api.MinPartSize || p.PartSize > api.MaxPartSize {
		t.Fatalf("plan for %d bytes has part size %d, want %d to %d", size, p.PartSize, api.MinPartSize, api.MaxPartSize)
	}
	var sum int64
	for n := 1; n <= p.PartCount; n++ {
		l := p.PartLength(n)
		if n < p.PartCount && l < api.MinPartSize || l < 1 || l > p.PartSize {
			t.Fatalf("plan %+v: part %d is %d bytes", p, n, l)
		}
		sum += l
	}
	if sum != size {
		t.Fatalf("plan %+v: parts add up to %d, want %d", p, sum, size)
	}
}

func TestPlanParts(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name      string
		size      int64
		preferred int64
		want      api.Plan
		wantLast  int64
	}{
		{"S3's largest object is 10,000 parts of 5 GiB", api.MaxObjectSize, int64(api.DefaultPartSize),
			api.Plan{Size: api.MaxObjectSize, PartSize: api.MaxPartSize, PartCount: api.MaxParts}, api.MaxPartSize},
		{"5 TiB raises the part size to a whole MiB", 5 << 40, int64(api.DefaultPartSize),
			api.Plan{Size: 5 << 40, PartSize: 525 * mib, PartCount: 9987}, 5<<40 - 9986*525*mib},
		{"a multiple of the part size", 64 * mib, 16 * mib, api.Plan{Size: 64 * mib, PartSize: 16 * mib, PartCount: 4}, 16 * mib},
		{"one byte over a multiple", 64*mib + 1, 16 * mib, api.Plan{Size: 64*mib + 1, PartSize: 16 * mib, PartCount: 5}, 1},
		{"smaller than MinPartSize", 1000, 16 * mib, api.Plan{Size: 1000, PartSize: 16 * mib, PartCount: 1}, 1000},
		{"one byte", 1, 16 * mib, api.Plan{Size: 1, PartSize: 16 * mib, PartCount: 1}, 1},
		{"preferred below MinPartSize is raised", 12 * mib, 1 * mib, api.Plan{Size: 12 * mib, PartSize: 5 * mib, PartCount: 3}, 2 * mib},
		{"exactly 10,000 parts keeps the part size", 10000 * 16 * mib, 16 * mib, api.Plan{Size: 10000 * 16 * mib, PartSize: 16 * mib, PartCount: 10000}, 16 * mib},
		{"one byte past 10,000 parts", 10000*16*mib + 1, 16 * mib, api.Plan{Size: 10000*16*mib + 1, PartSize: 17 * mib, PartCount: 9412}, 10000*16*mib + 1 - 9411*17*mib},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := api.PlanParts(tc.size, tc.preferred)
			if got != tc.want {
				t.Errorf("PlanParts(%d, %d) = %+v, want %+v", tc.size, tc.preferred, got, tc.want)
			}
			if last := got.PartLength(got.PartCount); last != tc.wantLast {
				t.Errorf("last part = %d bytes, want %d", last, tc.wantLast)
			}
			checkPlan(t, got, tc.size)
		})
	}
}

// planInput maps any two integers onto a size from 1 byte to 5 TiB and a
// part size the configuration accepts.
func planInput(size, preferred uint64) (int64, int64) {
	return 1 + int64(size%uint64(api.MaxObjectSize)),
		api.MinPartSize + int64(preferred%uint64(api.MaxPartSize-api.MinPartSize+1))
}

func TestPlanPartsRandomSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2)) // fixed seed: a failure reproduces
	for range 200 {
		size, preferred := planInput(r.Uint64(), r.Uint64())
		if r.IntN(2) == 0 {
			preferred = int64(api.DefaultPartSize)
		}
		checkPlan(t, api.PlanParts(size, preferred), size)
	}
}

func FuzzPlanParts(f *testing.F) {
	for _, s := range [][2]uint64{{0, 0}, {5 << 20, 11 << 20}, {uint64(api.MaxObjectSize) - 1, 0}, {10000*16<<20 - 1, 11 << 20}, {1 << 62, 1 << 40}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, rawSize, rawPreferred uint64) {
		size, preferred := planInput(rawSize, rawPreferred)
		checkPlan(t, api.PlanParts(size, preferred), size)
	})
}
