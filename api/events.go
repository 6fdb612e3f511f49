package api

import (
	"encoding/json"
	"time"
)

// The events around a stored upload. S3 announces every stored object
// (Object Created); with the malware scan on, GuardDuty announces each
// object's scan result. The verifier reads both, checks the object, and
// publishes one Upload Verified or Upload Rejected event per stored object
// version on the construct's event bus. Each is an EventBridge event whose
// detail is one of the types below; a consumer's function decodes what its
// rule delivers as an [Event] of the detail type it expects.

// Event is an EventBridge event as a rule's target receives it, with its
// detail decoded as D (json.RawMessage leaves it for later).
type Event[D any] struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     D         `json:"detail"`
}

// The upload events the verifier publishes.
const (
	// EventSource is the upload events' source.
	EventSource = "presigned-upload"
	// EventUploadVerified is the detail-type of an object that passed the
	// checks (and, when enabled, the malware scan).
	EventUploadVerified = "Upload Verified"
	// EventUploadRejected is the detail-type of an object that failed them;
	// Reason says why.
	EventUploadRejected = "Upload Rejected"
)

// UploadEvent is the detail of an Upload Verified or Upload Rejected event.
type UploadEvent struct {
	Bucket  string `json:"bucket"`
	FileKey string `json:"fileKey"`
	// Owner is the caller ID of the uploader, with sign-in.
	Owner string `json:"owner,omitempty"`
	// FileName is the sanitised name the file was uploaded with.
	FileName string `json:"fileName"`
	Size     int64  `json:"size"`
	// ContentType is the media type the object was stored with;
	// DetectedType is what its first bytes are.
	ContentType  string `json:"contentType"`
	DetectedType string `json:"detectedType"`
	// ETag and VersionID name the stored object version the event is
	// about; VersionID only in a versioned bucket.
	ETag      string `json:"etag"`
	VersionID string `json:"versionId,omitempty"`
	// ChecksumCRC64NVME is the stored object's whole-file checksum
	// (EncodeCRC64NVME's spelling), when S3 holds one: compare it with the
	// bytes you read to know they are the bytes that were checked.
	ChecksumCRC64NVME string `json:"checksumCRC64NVME,omitempty"`
	// Reason says why an upload was rejected (the Reason constants).
	Reason string `json:"reason,omitempty"`
	// IdempotencyKey is the same for every delivery about one stored
	// object version: consumers drop repeats by it.
	IdempotencyKey string `json:"idempotencyKey"`
}

// Upload statuses, as the object's status tag and the status route carry
// them.
const (
	StatusPending  = "pending"
	StatusVerified = "verified"
	StatusRejected = "rejected"
)

// StatusTag is the object tag that holds an upload's status; other tags on
// the object are kept.
const StatusTag = "upload-status"

// UploadStatusResponse answers GET /uploads/status.
type UploadStatusResponse struct {
	// Status is pending, verified or rejected (the Status constants).
	Status string `json:"status"`
	// Reason says why an upload was rejected (the Reason constants).
	Reason string `json:"reason,omitempty"`
}

// S3's event for a stored object, as EventBridge delivers it.
const (
	SourceS3                = "aws.s3"
	DetailTypeObjectCreated = "Object Created"
)

// How S3 says an object was stored: ObjectCreated.Reason.
const (
	StoredByPut       = "PutObject"
	StoredByPost      = "POST Object"
	StoredByMultipart = "CompleteMultipartUpload"
	StoredByCopy      = "CopyObject"
)

// StoredReasons are the values of ObjectCreated.Reason for every way the
// API stores an object: a PUT, a form POST and a multipart completion. A
// copy is not the API's: no URL it issues copies.
func StoredReasons() []string { return []string{StoredByPut, StoredByPost, StoredByMultipart} }

// ObjectCreated is the detail of S3's Object Created event.
type ObjectCreated struct {
	Version string `json:"version"`
	Bucket  struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object CreatedObject `json:"object"`
	// RequestID, Requester and SourceIPAddress say who stored the object.
	RequestID       string `json:"request-id"`
	Requester       string `json:"requester"`
	SourceIPAddress string `json:"source-ip-address"`
	// Reason is how it was stored (the StoredBy constants).
	Reason string `json:"reason"`
}

// CreatedObject is the object an Object Created event is about.
type CreatedObject struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	// ETag is bare, without the quotes of S3's API.
	ETag string `json:"etag"`
	// VersionID is present only for a versioned bucket ("null" for an
	// object stored while versioning was suspended).
	VersionID string `json:"version-id,omitempty"`
	// Sequencer orders S3's events about one key.
	Sequencer string `json:"sequencer"`
}

// GuardDuty Malware Protection for S3's event for one scanned object, and
// the object tag it writes with the same status.
const (
	SourceGuardDuty             = "aws.guardduty"
	DetailTypeMalwareScanResult = "GuardDuty Malware Protection Object Scan Result"
	MalwareScanTag              = "GuardDutyMalwareScanStatus"
)

// GuardDuty's scan result statuses: MalwareScanResult's ScanResultStatus
// and the values of MalwareScanTag.
const (
	MalwareScanNoThreatsFound = "NO_THREATS_FOUND"
	MalwareScanThreatsFound   = "THREATS_FOUND"
	MalwareScanUnsupported    = "UNSUPPORTED"
	MalwareScanAccessDenied   = "ACCESS_DENIED"
	MalwareScanFailed         = "FAILED"
)

// MalwareScanResult is the detail of GuardDuty's Object Scan Result event.
// Its scan result status is also written to the object as MalwareScanTag.
type MalwareScanResult struct {
	SchemaVersion   string `json:"schemaVersion"`
	ScanStatus      string `json:"scanStatus"`
	ResourceType    string `json:"resourceType"`
	S3ObjectDetails struct {
		BucketName  string `json:"bucketName"`
		ObjectKey   string `json:"objectKey"`
		ETag        string `json:"eTag"`
		VersionID   string `json:"versionId"`
		S3Throttled bool   `json:"s3Throttled"`
	} `json:"s3ObjectDetails"`
	ScanResultDetails struct {
		// ScanResultStatus is one of the MalwareScan statuses.
		ScanResultStatus string `json:"scanResultStatus"`
		Threats          []struct {
			Name string `json:"name"`
		} `json:"threats"`
	} `json:"scanResultDetails"`
}

// RawEvent is an EventBridge event whose detail is not decoded yet: decode
// it by its Source and DetailType.
type RawEvent = Event[json.RawMessage]
