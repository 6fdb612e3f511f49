package verifier_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/presigned-upload/presigned-upload/api"
)

// fakeObject is one stored object version.
type fakeObject struct {
	data []byte
	// size, when set, is the object's size and data only its start: a
	// huge object that the checks never read past.
	size        int64
	contentType string
	etag        string
	versionID   string
	modified    time.Time
	tags        []types.Tag
	// checksum is the CRC64NVME S3 holds (store computes it, as S3 does
	// for every new object); served are the headers stored with it.
	checksum string
	served   map[string]string
}

func (o *fakeObject) length() int64 {
	if o.size != 0 {
		return o.size
	}
	return int64(len(o.data))
}

// fakeBucket is the part of S3 the verifier calls, in memory: versions,
// conditional writes (If-None-Match: *, If-Match), ranged and conditional
// reads, and tags. It counts every call and the object bytes it sends.
type fakeBucket struct {
	versioned bool
	// beforeTagging, when set, runs before each PutObjectTagging, outside
	// the lock: it may change the bucket.
	beforeTagging func(key string)
	// conflicts answers the next conditional writes with 409
	// ConditionalRequestConflict, as S3 answers one that races another.
	conflicts int

	mu       sync.Mutex
	objects  map[string][]*fakeObject // a key's versions, the last one current
	calls    map[string]int
	served   int64    // bytes of object data GetObject sent
	ranges   []string // the Range of every GetObject
	versions int
}

func newFakeBucket() *fakeBucket {
	return &fakeBucket{objects: map[string][]*fakeObject{}, calls: map[string]int{}}
}

// s3Error is an error shaped as the SDK returns S3's answers.
func s3Error(status int, code string) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: code},
	}}
}

// store puts an object as a client upload would, returning its version.
func (b *fakeBucket) store(key string, data []byte, contentType string) *fakeObject {
	sum := md5.Sum(data)
	return b.storeObject(key, &fakeObject{data: data, contentType: contentType, etag: hex.EncodeToString(sum[:]),
		checksum: api.EncodeCRC64NVME(api.CRC64NVME(data))})
}

func (b *fakeBucket) storeObject(key string, o *fakeObject) *fakeObject {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.storeLocked(key, o)
}

// storeLocked stores a new version; the caller holds the lock.
func (b *fakeBucket) storeLocked(key string, o *fakeObject) *fakeObject {
	if o.modified.IsZero() {
		o.modified = time.Now()
	}
	b.versions++
	if b.versioned {
		o.versionID = fmt.Sprintf("v%04d", b.versions)
		b.objects[key] = append(b.objects[key], o)
	} else {
		b.objects[key] = []*fakeObject{o}
	}
	return o
}

// version finds a key's version (the current one when id is nil); the
// caller holds the lock.
func (b *fakeBucket) version(key string, id *string) (*fakeObject, error) {
	vs := b.objects[key]
	if len(vs) == 0 {
		return nil, s3Error(http.StatusNotFound, "NoSuchKey")
	}
	if id == nil {
		return vs[len(vs)-1], nil
	}
	for _, v := range vs {
		if v.versionID == *id {
			return v, nil
		}
	}
	return nil, s3Error(http.StatusNotFound, "NoSuchVersion")
}

func (b *fakeBucket) count(op string) {
	b.calls[op]++
}

// tagsOf returns a copy of the current version's tags as a map.
func (b *fakeBucket) tagsOf(key string) map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, err := b.version(key, nil)
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, t := range o.tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// setTag sets one tag on the current version, as GuardDuty does.
func (b *fakeBucket) setTag(key, k, v string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, _ := b.version(key, nil)
	o.tags = append(o.tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
}

// stats is what the verifier cost: S3 calls per operation, their total,
// and the object bytes sent.
type stats struct {
	calls  map[string]int
	total  int
	served int64
	ranges []string
}

func (b *fakeBucket) stats() stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := stats{calls: map[string]int{}, served: b.served, ranges: append([]string(nil), b.ranges...)}
	for op, n := range b.calls {
		s.calls[op] = n
		s.total += n
	}
	return s
}

func (b *fakeBucket) resetStats() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls, b.served, b.ranges = map[string]int{}, 0, nil
}

func (b *fakeBucket) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count("HeadObject")
	o, err := b.version(aws.ToString(in.Key), in.VersionId)
	if err != nil {
		return nil, s3Error(http.StatusNotFound, "NotFound")
	}
	out := &s3.HeadObjectOutput{ContentLength: aws.Int64(o.length()), ContentType: aws.String(o.contentType),
		ETag: aws.String(`"` + o.etag + `"`), LastModified: aws.Time(o.modified)}
	if o.versionID != "" {
		out.VersionId = aws.String(o.versionID)
	}
	if o.checksum != "" && in.ChecksumMode == types.ChecksumModeEnabled {
		out.ChecksumCRC64NVME, out.ChecksumType = aws.String(o.checksum), types.ChecksumTypeFullObject
	}
	for name, v := range o.served {
		switch name {
		case "Content-Encoding":
			out.ContentEncoding = aws.String(v)
		case "Content-Disposition":
			out.ContentDisposition = aws.String(v)
		case "Cache-Control":
			out.CacheControl = aws.String(v)
		case "Content-Language":
			out.ContentLanguage = aws.String(v)
		case "Expires":
			out.ExpiresString = aws.String(v)
		case "X-Amz-Website-Redirect-Location":
			out.WebsiteRedirectLocation = aws.String(v)
		default:
			panic("fakeBucket: no HeadObject field for " + name)
		}
	}
	return out, nil
}

func (b *fakeBucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count("GetObject")
	o, err := b.version(aws.ToString(in.Key), in.VersionId)
	if err != nil {
		return nil, err
	}
	if in.IfMatch != nil && unquoted(*in.IfMatch) != o.etag {
		return nil, s3Error(http.StatusPreconditionFailed, "PreconditionFailed")
	}
	data := o.data
	if r := aws.ToString(in.Range); r != "" {
		b.ranges = append(b.ranges, r)
		first, last, ok := parseRange(r)
		if !ok || first >= o.length() {
			return nil, s3Error(http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
		}
		last = min(last, int64(len(data))-1)
		data = data[first : last+1]
	}
	if !strings.HasPrefix(aws.ToString(in.Key), api.DefaultMarkerPrefix) {
		b.served += int64(len(data))
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data)), ContentLength: aws.Int64(int64(len(data))),
		ETag: aws.String(`"` + o.etag + `"`), ContentType: aws.String(o.contentType)}, nil
}

func parseRange(r string) (first, last int64, ok bool) {
	a, c, found := strings.Cut(strings.TrimPrefix(r, "bytes="), "-")
	if !found {
		return 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(c, 10, 64)
	return first, last, err1 == nil && err2 == nil && first <= last
}

func unquoted(s string) string { return strings.Trim(s, `"`) }

func (b *fakeBucket) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count("PutObject")
	key := aws.ToString(in.Key)
	cur, _ := b.version(key, nil)
	if conditional := in.IfNoneMatch != nil || in.IfMatch != nil; conditional && b.conflicts > 0 {
		b.conflicts--
		return nil, s3Error(http.StatusConflict, "ConditionalRequestConflict")
	}
	switch {
	case aws.ToString(in.IfNoneMatch) == "*" && cur != nil,
		in.IfMatch != nil && (cur == nil || unquoted(*in.IfMatch) != cur.etag):
		return nil, s3Error(http.StatusPreconditionFailed, "PreconditionFailed")
	}
	sum := md5.Sum(data)
	o := b.storeLocked(key, &fakeObject{data: data, contentType: aws.ToString(in.ContentType), etag: hex.EncodeToString(sum[:])})
	return &s3.PutObjectOutput{ETag: aws.String(`"` + o.etag + `"`)}, nil
}

func (b *fakeBucket) GetObjectTagging(_ context.Context, in *s3.GetObjectTaggingInput, _ ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count("GetObjectTagging")
	o, err := b.version(aws.ToString(in.Key), in.VersionId)
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectTaggingOutput{TagSet: append([]types.Tag(nil), o.tags...), VersionId: aws.String(o.versionID)}, nil
}

func (b *fakeBucket) PutObjectTagging(_ context.Context, in *s3.PutObjectTaggingInput, _ ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error) {
	if b.beforeTagging != nil {
		b.beforeTagging(aws.ToString(in.Key))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count("PutObjectTagging")
	o, err := b.version(aws.ToString(in.Key), in.VersionId)
	if err != nil {
		return nil, err
	}
	if len(in.Tagging.TagSet) > 10 {
		return nil, s3Error(http.StatusBadRequest, "BadRequest")
	}
	o.tags = append([]types.Tag(nil), in.Tagging.TagSet...)
	return &s3.PutObjectTaggingOutput{}, nil
}

// fakeBus records the events published.
type fakeBus struct {
	mu      sync.Mutex
	entries []ebtypes.PutEventsRequestEntry
	// fail, when set, fails the next calls.
	fail error
}

func (p *fakeBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return nil, p.fail
	}
	p.entries = append(p.entries, in.Entries...)
	return &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}, nil
}

func (p *fakeBus) published() []ebtypes.PutEventsRequestEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ebtypes.PutEventsRequestEntry(nil), p.entries...)
}

// setTags replaces the current object's tags, as another writer would.
func (b *fakeBucket) setTags(key string, tags map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, err := b.version(key, nil)
	if err != nil {
		panic(err)
	}
	o.tags = nil
	for k, v := range tags {
		o.tags = append(o.tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
}
