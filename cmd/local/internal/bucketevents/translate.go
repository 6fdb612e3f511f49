package bucketevents

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/versity/versitygw/s3event"

	"github.com/presigned-upload/presigned-upload/api"
)

// The Object Created events the deployed rule matches, by the S3 server's
// event name: the reason field of the EventBridge event for each way the
// API stores an object. Every other event (copies, deletions, tagging,
// the verifier's own among them) is dropped, as the rule drops it.
var reasons = map[s3event.EventType]string{
	s3event.EventObjectCreatedPut:        api.StoredByPut,
	s3event.EventObjectCreatedPost:       api.StoredByPost,
	s3event.EventCompleteMultipartUpload: api.StoredByMultipart,
}

// account is the account ID local mode's events carry.
const account = "000000000000"

// created is one S3 server record the deployed rule would match, before
// its key is known for certain: a form POST's record carries none.
type created struct {
	region, bucket, key string
	size                int64
	etag, versionID     string
	sequencer, reason   string
	requestID, user, ip string
	time                time.Time
}

// decode reads an S3 server record the deployed rule would match; ok is
// false for any other.
func decode(r s3event.EventRecord) (c created, ok bool) {
	reason, ok := reasons[r.EventName]
	if !ok {
		return c, false
	}
	o := r.S3.Object
	c = created{region: r.AwsRegion, bucket: r.S3.Bucket.Name, key: o.Key, size: o.Size,
		etag: unquote(deref(o.ETag)), versionID: deref(o.VersionId), sequencer: o.Sequencer, reason: reason,
		requestID: r.ResponseElements.RequestId, user: r.UserIdentity.PrincipalId, ip: r.RequestParameters.SourceIPAddress}
	if c.versionID == "null" {
		c.versionID = ""
	}
	c.time, _ = time.Parse(time.RFC3339, r.EventTime)
	if c.time.IsZero() {
		c.time = time.Now().UTC()
	}
	return c, true
}

// event is c as the deployed rule delivers it: the EventBridge event
// "Object Created" from aws.s3.
func (c created) event() api.RawEvent {
	d := api.ObjectCreated{
		Version: "0",
		Object:  api.CreatedObject{Key: c.key, Size: c.size, ETag: c.etag, VersionID: c.versionID, Sequencer: c.sequencer},
		// S3's EventBridge events name the requester's account; local
		// mode's only account is the S3 server's root user.
		RequestID: c.requestID, Requester: c.user, SourceIPAddress: c.ip, Reason: c.reason,
	}
	d.Bucket.Name = c.bucket
	detail, _ := json.Marshal(d)
	return api.RawEvent{Version: "0", ID: newID(), DetailType: api.DetailTypeObjectCreated, Source: api.SourceS3,
		Account: account, Time: c.time, Region: c.region, Resources: []string{"arn:aws:s3:::" + c.bucket}, Detail: detail}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// newID is a random event ID in the UUID form EventBridge uses.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
