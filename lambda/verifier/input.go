package verifier

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The EventBridge events the verifier acts on.
const (
	sourceS3        = "aws.s3"
	sourceGuardDuty = "aws.guardduty"
	// detailObjectCreated is S3's event for every way an object is stored:
	// PUT, form POST, multipart completion and copy.
	detailObjectCreated = "Object Created"
	// detailScanResult is GuardDuty Malware Protection for S3's result
	// for one object.
	detailScanResult = "GuardDuty Malware Protection Object Scan Result"
)

// How S3 says an object was stored (the reason field of Object Created).
const (
	reasonPut       = "PutObject"
	reasonPost      = "POST Object"
	reasonMultipart = "CompleteMultipartUpload"
	reasonCopy      = "CopyObject"
)

// objectEvent is what one event says about one stored object version.
type objectEvent struct {
	bucket, key string
	// etag (without quotes) and versionID ("" when the bucket is not
	// versioned) name the object version the event is about.
	etag, versionID string
	// sequencer orders S3's events for one key; it is logged, while the
	// object's current ETag and version decide what is stale.
	sequencer string
	// stored is how S3 stored it ("" for a scan result).
	stored string
	// time is when the event happened.
	time time.Time
	// scan is GuardDuty's scanResultStatus, "" for an S3 event.
	scan string
}

// s3Detail is the detail of S3's Object Created event.
type s3Detail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id"`
		Sequencer string `json:"sequencer"`
	} `json:"object"`
	Reason string `json:"reason"`
}

// scanDetail is the detail of GuardDuty's Object Scan Result event.
type scanDetail struct {
	ScanStatus      string `json:"scanStatus"`
	ResourceType    string `json:"resourceType"`
	S3ObjectDetails struct {
		BucketName string `json:"bucketName"`
		ObjectKey  string `json:"objectKey"`
		ETag       string `json:"eTag"`
		VersionID  string `json:"versionId"`
	} `json:"s3ObjectDetails"`
	ScanResultDetails struct {
		ScanResultStatus string `json:"scanResultStatus"`
		Threats          []struct {
			Name string `json:"name"`
		} `json:"threats"`
	} `json:"scanResultDetails"`
}

// decodeEvent reads an event the verifier acts on; ok is false for any
// other event. An event of a known kind that lacks what names its object
// is an error.
func decodeEvent(ev events.EventBridgeEvent) (e objectEvent, ok bool, err error) {
	switch {
	case ev.Source == sourceS3 && ev.DetailType == detailObjectCreated:
		var d s3Detail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return e, false, fmt.Errorf("event %s: %s detail: %w", ev.ID, ev.DetailType, err)
		}
		e = objectEvent{bucket: d.Bucket.Name, key: d.Object.Key, etag: unquote(d.Object.ETag),
			versionID: d.Object.VersionID, sequencer: d.Object.Sequencer, stored: d.Reason, time: ev.Time}
	case ev.Source == sourceGuardDuty && ev.DetailType == detailScanResult:
		var d scanDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return e, false, fmt.Errorf("event %s: %s detail: %w", ev.ID, ev.DetailType, err)
		}
		o := d.S3ObjectDetails
		e = objectEvent{bucket: o.BucketName, key: o.ObjectKey, etag: unquote(o.ETag), versionID: o.VersionID,
			time: ev.Time, scan: d.ScanResultDetails.ScanResultStatus}
		if e.scan == "" {
			return e, false, fmt.Errorf("event %s: %s without scanResultStatus", ev.ID, ev.DetailType)
		}
	default:
		return e, false, nil
	}
	if e.versionID == "null" { // an object stored while versioning was off or suspended
		e.versionID = ""
	}
	if e.bucket == "" || e.key == "" || e.etag == "" && e.versionID == "" {
		return e, false, fmt.Errorf("event %s: %s without bucket, key and ETag or version", ev.ID, ev.DetailType)
	}
	return e, true, nil
}

// unquote strips the quotes S3's API puts around an ETag; events carry it
// bare.
func unquote(etag string) string { return strings.Trim(etag, `"`) }
