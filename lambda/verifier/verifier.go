// Package verifier checks what was really stored after an upload and tells
// the application, once per stored object version.
//
// S3 sends an Object Created event for every way the API stores an object
// (PUT, form POST, multipart completion); EventBridge routes those under the
// key prefix to a queue, and the deployed function receives them in batches
// ([Handler.Handle]). For each object the verifier reads its metadata and
// at most its first 4 KiB (one ranged GET), never the whole object, and
// checks, in this order, with the first failure naming the reason:
//
//   - the key is one the API issues (with sign-in, under an owner's
//     segment, reported as the event's owner): api.ReasonUnknownKey;
//   - the stored size is within the limit of the path that stored it:
//     api.ReasonTooLarge;
//   - the stored Content-Type is admitted by the allow-list:
//     api.ReasonTypeNotAllowed;
//   - the sniffed type is not active content the allow-list does not name
//     exactly: api.ReasonActiveContent;
//   - the sniffed type is consistent with the stored Content-Type (see
//     related): api.ReasonTypeMismatch;
//   - with the malware scan on, GuardDuty's result (below).
//
// A verified object gets the status tag api.StatusTag=verified and an
// Upload Verified event; a rejected one gets StatusTag=rejected, the reason
// in api.ReasonTag and an Upload Rejected event. Tags are merged: every
// other tag on the object (GuardDuty's among them) is kept. Objects outside
// the key prefix are not the API's and are left alone.
//
// # Exactly one outcome
//
// Deliveries come at least once, out of order, and duplicates may run at
// the same time. The arbiter is a marker object under MarkerPrefix, named
// by the object version's idempotency key (bucket, key, and version ID or,
// without versioning, the object's generation) and created with
// If-None-Match: *, that holds the outcome. The run that creates it tags
// the object and publishes; every other run gets 412 and only makes sure
// the object carries the marker's status. A run that dies after creating
// the marker leaves it unpublished with a lease
// (the run's deadline); a later delivery after the lease takes it over with
// If-Match and publishes the recorded outcome, so an event is neither lost
// nor, within a lease, sent twice.
//
// An event about an object that has since been replaced or deleted is
// stale: its ETag or version is no longer the object's current one, and it
// changes nothing. Without versioning the tagging call can only name the
// key, so after tagging the verifier checks that the object is still the
// one it judged, and if it was replaced in between, puts back the new
// object's own status (its marker's, or none while it is pending).
//
// # Malware scan
//
// With MalwareScanEnabled on, GuardDuty Malware Protection for S3 scans
// the prefix and the verifier also receives its "GuardDuty Malware
// Protection Object Scan Result" events. Both kinds of event run the same
// checks; an S3 event reads the scan result from GuardDuty's object tag
// (GuardDutyMalwareScanStatus). Whichever arrives first with everything
// known decides:
//
//   - NO_THREATS_FOUND, content checks passed: verified.
//   - THREATS_FOUND: rejected, api.ReasonMalware.
//   - UNSUPPORTED (GuardDuty skipped it): rejected,
//     api.ReasonScanUnsupported. (An object over GuardDuty's 100 GB limit
//     never waits: with the scan on, MaxMultipartSize is at most that, so
//     it is rejected as too large.)
//   - ACCESS_DENIED: rejected, api.ReasonScanAccessDenied, and logged as
//     an error: GuardDuty's role cannot read the bucket.
//   - FAILED, or a status this code does not know: rejected,
//     api.ReasonScanFailed.
//   - No result yet: a content failure rejects at once; otherwise the
//     delivery fails and the queue delivers it again, until
//     MalwareScanTimeout after the object was stored, when it is
//     rejected with api.ReasonScanTimeout.
//
// Anything but a clean scan is rejected: with the scan on, Upload Verified
// means scanned and clean. A rejected object is kept (tagged) until the
// bucket's lifecycle rule deletes it, so an operator can rescan and
// re-send its events.
//
// The deployed function, local mode and the tests all call the same
// [Handler]; main only wires it.
package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/quota"
)

// BucketAPI is the part of the S3 API the verifier calls. *s3.Client
// satisfies it.
type BucketAPI interface {
	// HeadObject reads the stored size, Content-Type, ETag and version.
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	// GetObject reads the first 4 KiB of an object, and markers.
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	// PutObject writes markers, conditionally.
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
}

// Publisher sends the upload events. *eventbridge.Client satisfies it.
type Publisher interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Handler verifies stored objects. Build it with [New]; it is safe for
// concurrent use.
type Handler struct {
	set    api.VerifierSettings
	bucket BucketAPI
	quota  *quota.Ledger // nil without quotas
	events Publisher
	log    *slog.Logger
	now    func() time.Time
}

// Option changes how [New] builds a Handler.
type Option func(*Handler)

// WithLogger sends the handler's log lines to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithClock makes the handler read the time from now instead of time.Now:
// it decides scan timeouts and marker leases.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns a Handler for s after applying its defaults and validating
// it. b is the upload bucket; p publishes the events.
func New(s api.VerifierSettings, b BucketAPI, p Publisher, opts ...Option) (*Handler, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{set: s, bucket: b, events: p, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(h)
	}
	if s.Quotas() {
		h.quota = quota.New(b, s.Bucket, s.QuotaPrefix, quota.WithClock(h.now))
	}
	return h, nil
}

// ErrPending means the outcome is not decided yet: the malware scan has
// not reported, or another run holds the object's marker. The event must be
// delivered again later.
var ErrPending = errors.New("outcome not decided yet")

// Handle verifies the objects of one batch from the queue, each record's
// body an EventBridge event. It reports the records to deliver again as
// batch item failures and never returns an error, which would make the
// queue deliver the whole batch again.
func (h *Handler) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, msg := range batch.Records {
		if err := h.handleMessage(ctx, msg); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) handleMessage(ctx context.Context, msg events.SQSMessage) (err error) {
	defer func() {
		if r := recover(); r != nil {
			h.log.ErrorContext(ctx, "verifier panic", "messageId", msg.MessageId, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	var ev api.RawEvent
	if err := json.Unmarshal([]byte(msg.Body), &ev); err != nil {
		h.log.ErrorContext(ctx, "message is not an EventBridge event", "messageId", msg.MessageId, "error", err)
		return err
	}
	err = h.HandleEvent(ctx, ev)
	switch {
	case errors.Is(err, ErrPending):
		h.log.InfoContext(ctx, "delivery postponed", "messageId", msg.MessageId, "eventId", ev.ID, "why", err)
	case err != nil:
		h.log.ErrorContext(ctx, "verification failed", "messageId", msg.MessageId, "eventId", ev.ID, "error", err)
	}
	return err
}

// HandleEvent verifies the object one EventBridge event is about: S3's
// Object Created, or GuardDuty's scan result when the malware scan is on.
// It ignores every other event. A nil error means the event is done with,
// even when it changed nothing; an error (ErrPending among them) means it
// must be delivered again.
func (h *Handler) HandleEvent(ctx context.Context, ev api.RawEvent) error {
	e, ok, err := decodeEvent(ev)
	if err != nil || !ok {
		return err
	}
	log := h.log.With("fileKey", e.key, "etag", e.etag, "versionId", e.versionID, "eventId", ev.ID)
	switch {
	case e.bucket != h.set.Bucket:
		log.WarnContext(ctx, "event for another bucket ignored", "bucket", e.bucket)
		return nil
	case !strings.HasPrefix(e.key, h.set.KeyPrefix):
		return nil // not the API's object
	case e.scan != "" && !h.set.MalwareScanEnabled:
		log.WarnContext(ctx, "malware scan result ignored: the malware scan is off", "scanResult", e.scan)
		return nil
	}
	obj, err := h.current(ctx, e)
	if errors.Is(err, errStale) {
		log.InfoContext(ctx, "stale event ignored: the object was replaced or deleted since", "sequencer", e.sequencer)
		// Without versioning, an earlier run about the replaced object may
		// have tagged the current one (tagging names only the key) and died
		// before undoing it: make the current object's tags its own again.
		if obj.etag != "" && obj.versionID == "" {
			return h.restoreOwn(ctx, obj)
		}
		return nil
	}
	if err != nil {
		return err
	}
	o, err := h.judge(ctx, e, obj)
	if errors.Is(err, errStale) {
		log.InfoContext(ctx, "stale event ignored: the object was replaced while it was read", "sequencer", e.sequencer)
		return nil
	}
	if err != nil {
		return err
	}
	if o.Event.Reason == api.ReasonScanAccessDenied {
		log.ErrorContext(ctx, "GuardDuty could not read the object: check its role's permissions on the bucket")
	}
	return h.settle(ctx, obj, o, e.scan, log)
}

// object is the stored object version an event is about, as HeadObject
// reads it.
type object struct {
	key, etag, versionID string
	size                 int64
	contentType          string
	lastModified         time.Time
	// The whole-file checksum S3 holds, when it holds one.
	checksumCRC64NVME, checksumSHA256 string
	// served are the headers, other than Content-Type, that a download
	// would serve back, by name; "" when absent.
	served map[string]string
}

// generation names what o is as stored: its version ID or, without
// versioning, everything a verdict depends on and every write changes:
// the ETag with the whole-file checksums (an ETag, an MD5, alone can be
// made to collide), the type and the headers a download serves, and the
// time S3 stored it (a tag write leaves it be). The same bytes stored
// again, after a delete or over themselves, are another generation, which
// the verifier judges and a quota counts afresh; within one second with
// every header the same they would be the same one.
func (o object) generation() string {
	if o.versionID != "" {
		return o.versionID
	}
	parts := []string{o.etag, o.checksumCRC64NVME, o.checksumSHA256, o.contentType, o.lastModified.UTC().Format(time.RFC3339Nano)}
	for _, name := range servedHeaders {
		parts = append(parts, name+": "+o.served[name])
	}
	return strings.Join(parts, "\n")
}

// same reports whether o and other are the same stored version.
func (o object) same(other object) bool { return o.generation() == other.generation() }

// errStale means the event is about an object version that is no longer
// the key's current one.
var errStale = errors.New("stale event")

// current reads the key's current object and checks that it is the version
// the event is about.
func (h *Handler) current(ctx context.Context, e objectEvent) (object, error) {
	obj, err := h.head(ctx, e.key)
	if err != nil {
		return obj, err
	}
	if e.versionID != "" && e.versionID != obj.versionID || e.versionID == "" && e.etag != obj.etag {
		return obj, errStale
	}
	return obj, nil
}

// outcome is what the checks decided: Status and the event's detail, whose
// Reason says why when rejected.
type outcome struct {
	Status string          `json:"status"`
	Event  api.UploadEvent `json:"event"`
}

// judge runs the checks on obj. It returns ErrPending while the malware
// scan result is still to come.
func (h *Handler) judge(ctx context.Context, e objectEvent, obj object) (outcome, error) {
	k, issued := api.ParseKey(h.set.KeyPrefix, obj.key, h.set.SignIn)
	o := outcome{Event: api.UploadEvent{
		Bucket: h.set.Bucket, FileKey: obj.key, Owner: k.Owner, FileName: fileName(obj.key, k, issued),
		Size: obj.size, ContentType: obj.contentType, ETag: obj.etag, VersionID: obj.versionID,
		ChecksumCRC64NVME: obj.checksumCRC64NVME, IdempotencyKey: idempotencyKey(h.set.Bucket, obj),
	}}
	reject := func(reason string) (outcome, error) {
		o.Status, o.Event.Reason = api.StatusRejected, reason
		return o, nil
	}
	declared := essence(obj.contentType)
	if declared == "" && obj.contentType == "" {
		declared = "application/octet-stream" // S3's own default
	}
	unexpected := unexpectedMetadata(obj)
	switch {
	case !issued:
		return reject(api.ReasonUnknownKey)
	case obj.size > h.limitFor(e.stored, obj.etag):
		return reject(api.ReasonTooLarge)
	case declared == "" || !api.ContentTypeAllowed(h.set.AllowedContentTypes, declared):
		return reject(api.ReasonTypeNotAllowed)
	case unexpected != "":
		h.log.InfoContext(ctx, "stored with a header the API never asks for", "fileKey", obj.key, "header", unexpected, "value", obj.served[unexpected])
		return reject(api.ReasonUnexpectedMetadata)
	}
	head, err := h.firstBytes(ctx, obj)
	if err != nil {
		return o, err
	}
	reason, detected := h.contentReason(declared, head)
	o.Event.DetectedType = detected
	if reason != "" {
		return reject(reason)
	}
	if h.set.MalwareScanEnabled {
		reason, err := h.scanReason(ctx, e, obj)
		if err != nil {
			return o, err
		}
		if reason != "" {
			return reject(reason)
		}
	}
	o.Status = api.StatusVerified
	return o, nil
}
