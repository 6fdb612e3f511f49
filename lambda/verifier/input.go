package verifier

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
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

// decodeEvent reads an event the verifier acts on: S3's Object Created or
// GuardDuty's scan result; ok is false for any other event. An event of a
// known kind that lacks what names its object is an error.
func decodeEvent(ev api.RawEvent) (e objectEvent, ok bool, err error) {
	switch {
	case ev.Source == api.SourceS3 && ev.DetailType == api.DetailTypeObjectCreated:
		var d api.ObjectCreated
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return e, false, fmt.Errorf("event %s: %s detail: %w", ev.ID, ev.DetailType, err)
		}
		o := d.Object
		e = objectEvent{bucket: d.Bucket.Name, key: o.Key, etag: unquote(o.ETag),
			versionID: o.VersionID, sequencer: o.Sequencer, stored: d.Reason, time: ev.Time}
	case ev.Source == api.SourceGuardDuty && ev.DetailType == api.DetailTypeMalwareScanResult:
		var d api.MalwareScanResult
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
