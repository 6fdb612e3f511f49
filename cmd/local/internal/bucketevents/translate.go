package bucketevents

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/versity/versitygw/s3event"
)

// The Object Created events the deployed rule matches, by the S3 server's
// event name: the reason field of the EventBridge event for each way the
// API stores an object. Every other event (copies, deletions, tagging,
// the verifier's own among them) is dropped, as the rule drops it.
var reasons = map[s3event.EventType]string{
	s3event.EventObjectCreatedPut:        "PutObject",
	s3event.EventObjectCreatedPost:       "POST Object",
	s3event.EventCompleteMultipartUpload: "CompleteMultipartUpload",
}

// account is the account ID local mode's events carry.
const account = "000000000000"

// s3Detail is the detail of S3's Object Created event as EventBridge
// delivers it.
type s3Detail struct {
	Version string       `json:"version"`
	Bucket  detailBucket `json:"bucket"`
	Object  detailObject `json:"object"`
	// RequestID, Requester and SourceIP say who stored the object.
	RequestID string `json:"request-id"`
	Requester string `json:"requester"`
	SourceIP  string `json:"source-ip-address"`
	Reason    string `json:"reason"`
}

type detailBucket struct {
	Name string `json:"name"`
}

type detailObject struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	// ETag is bare, without the quotes of S3's API.
	ETag string `json:"etag"`
	// VersionID is present only for a versioned bucket.
	VersionID string `json:"version-id,omitempty"`
	Sequencer string `json:"sequencer"`
}

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
func (c created) event() events.EventBridgeEvent {
	detail, _ := json.Marshal(s3Detail{
		Version: "0",
		Bucket:  detailBucket{Name: c.bucket},
		Object:  detailObject{Key: c.key, Size: c.size, ETag: c.etag, VersionID: c.versionID, Sequencer: c.sequencer},
		// S3's EventBridge events name the requester's account; local
		// mode's only account is the S3 server's root user.
		RequestID: c.requestID, Requester: c.user, SourceIP: c.ip, Reason: c.reason,
	})
	return events.EventBridgeEvent{Version: "0", ID: newID(), DetailType: "Object Created", Source: "aws.s3",
		AccountID: account, Time: c.time, Region: c.region, Resources: []string{"arn:aws:s3:::" + c.bucket}, Detail: detail}
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
