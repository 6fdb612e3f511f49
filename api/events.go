package api

// Upload events: after an object is stored, the verifier checks it and
// publishes one event per stored object, on the construct's event bus.
const (
	// EventSource is the events' source.
	EventSource = "presigned-upload"
	// EventUploadVerified is the detail-type of an object that passed the
	// checks (and, when enabled, the malware scan).
	EventUploadVerified = "Upload Verified"
	// EventUploadRejected is the detail-type of an object that failed them;
	// Reason says why.
	EventUploadRejected = "Upload Rejected"
)

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

// UploadEvent is the detail of an upload event.
type UploadEvent struct {
	Bucket  string `json:"bucket"`
	FileKey string `json:"fileKey"`
	// Owner is the caller ID of the uploader, with sign-in.
	Owner        string `json:"owner,omitempty"`
	FileName     string `json:"fileName"`
	Size         int64  `json:"size"`
	ContentType  string `json:"contentType"`
	DetectedType string `json:"detectedType"`
	ETag         string `json:"etag"`
	VersionID    string `json:"versionId,omitempty"`
	// Reason says why an upload was rejected.
	Reason string `json:"reason,omitempty"`
	// IdempotencyKey is the same for every delivery about one stored
	// object version: consumers drop repeats by it.
	IdempotencyKey string `json:"idempotencyKey"`
}

// UploadStatusResponse answers GET /uploads/status.
type UploadStatusResponse struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}
