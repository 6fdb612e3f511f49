package verifier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/internal/s3err"
)

// idempotencyKey names one stored object version, the same for every
// delivery about it: SHA-256 of the bucket, the key, and the version ID or,
// without versioning, the object's generation.
func idempotencyKey(bucket string, obj object) string {
	sum := sha256.Sum256([]byte(bucket + "\n" + obj.key + "\n" + obj.generation()))
	return hex.EncodeToString(sum[:])
}

func (h *Handler) markerKey(obj object) string {
	return h.set.MarkerPrefix + idempotencyKey(h.set.Bucket, obj)
}

// marker is the arbiter's record of one object version's outcome.
type marker struct {
	outcome
	// LeaseUntil is when the run that wrote the marker is surely over (its
	// deadline); until then no other run publishes for it.
	LeaseUntil time.Time `json:"leaseUntil"`
	// Published is set once the event is out.
	Published bool `json:"published"`
}

// Leases: a run without a deadline (local mode) holds a marker for
// Lambda's longest run; a takeover waits a little longer than the lease
// for clock differences between runs.
const (
	defaultLease = 15 * time.Minute
	leaseSkew    = time.Minute
)

func (h *Handler) leaseEnd(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return h.now().Add(defaultLease)
}

// settle makes o the outcome of obj exactly once: the run whose marker
// create wins tags the object and publishes; any other makes sure the
// object carries the marker's status. scan is the GuardDuty result the
// event carried, whose tag the merge must keep.
func (h *Handler) settle(ctx context.Context, obj object, o outcome, scan string, log *slog.Logger) error {
	var keep []types.Tag
	if scan != "" {
		keep = []types.Tag{{Key: aws.String(api.MalwareScanTag), Value: aws.String(scan)}}
	}
	key := h.markerKey(obj)
	m := marker{outcome: o, LeaseUntil: h.leaseEnd(ctx)}
	etag, err := h.writeMarker(ctx, key, m, func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	if s3err.Status(err) == http.StatusPreconditionFailed {
		cur, curETag, rerr := h.readMarker(ctx, key)
		if rerr != nil {
			return rerr
		}
		if cur.Published {
			return h.tagCurrent(ctx, obj, cur.Status, cur.Event.Reason, keep)
		}
		if h.now().Before(cur.LeaseUntil.Add(leaseSkew)) {
			return fmt.Errorf("%w: another run holds the outcome of %s until %s", ErrPending, obj.key, cur.LeaseUntil.Format(time.RFC3339))
		}
		// The run that wrote it is over without publishing: publish what
		// it recorded, whatever this run found.
		m = marker{outcome: cur.outcome, LeaseUntil: h.leaseEnd(ctx)}
		etag, err = h.writeMarker(ctx, key, m, func(in *s3.PutObjectInput) { in.IfMatch = aws.String(curETag) })
		if s3err.Status(err) == http.StatusPreconditionFailed {
			return fmt.Errorf("%w: another run took over the outcome of %s", ErrPending, obj.key)
		}
		if err == nil {
			log.WarnContext(ctx, "took over an outcome whose run ended before publishing it", "leaseUntil", cur.LeaseUntil)
		}
	}
	if err != nil {
		return err
	}
	if err := h.tagCurrent(ctx, obj, m.Status, m.Event.Reason, keep); err != nil {
		return err
	}
	if err := h.settleQuota(ctx, m.Event, m.Status == api.StatusVerified); err != nil {
		return err
	}
	if err := h.publish(ctx, m.outcome); err != nil {
		return err
	}
	m.Published = true
	_, err = h.writeMarker(ctx, key, m, func(in *s3.PutObjectInput) {
		if etag != "" {
			in.IfMatch = aws.String(etag)
		}
	})
	switch {
	case s3err.Status(err) == http.StatusPreconditionFailed:
		log.WarnContext(ctx, "outcome taken over while it was being published: consumers may see it twice")
	case err != nil:
		// A delivery after the lease publishes it again: consumers drop
		// the repeat by its idempotency key.
		return err
	}
	log.InfoContext(ctx, "upload "+m.Status, "reason", m.Event.Reason, "contentType", m.Event.ContentType,
		"detectedType", m.Event.DetectedType, "size", m.Event.Size, "idempotencyKey", m.Event.IdempotencyKey)
	return nil
}

// writeMarker writes m under key with the condition cond sets, and returns
// the written marker's ETag.
func (h *Handler) writeMarker(ctx context.Context, key string, m marker, cond func(*s3.PutObjectInput)) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(key), Body: bytes.NewReader(b),
		ContentType: aws.String("application/json")}
	cond(in)
	out, err := h.bucket.PutObject(ctx, in)
	if err != nil {
		switch s3err.Status(err) {
		case http.StatusPreconditionFailed:
			return "", err // the caller's answer, not a failure
		case http.StatusConflict:
			// Another conditional write to the marker is in flight: its
			// run decides; this delivery comes back later.
			return "", fmt.Errorf("%w: a concurrent write of marker %s", ErrPending, key)
		}
		return "", fmt.Errorf("write marker %s: %w", key, err)
	}
	return aws.ToString(out.ETag), nil
}

// maxMarker bounds a marker read: an UploadEvent is well under 2 KiB.
const maxMarker = 16 << 10

// readMarker reads the marker under key and its ETag.
func (h *Handler) readMarker(ctx context.Context, key string) (marker, string, error) {
	var m marker
	out, err := h.bucket.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(key)})
	if err != nil {
		return m, "", fmt.Errorf("read marker %s: %w", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxMarker))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return m, "", fmt.Errorf("read marker %s: %w", key, err)
	}
	return m, aws.ToString(out.ETag), nil
}

// maxTagRounds bounds how often tagCurrent follows an unversioned key that
// keeps being replaced while it tags.
const maxTagRounds = 3

// tagCurrent makes obj's tags say status and reason. Without versioning the
// tagging call names only the key, so if obj was replaced in between, the
// status may have landed on the new object: it then puts back the new
// object's own status (its marker's, or none while it is pending) and
// checks again.
func (h *Handler) tagCurrent(ctx context.Context, obj object, status, reason string, keep []types.Tag) error {
	for range maxTagRounds {
		if err := h.putTags(ctx, obj, status, reason, keep); err != nil {
			if errors.Is(err, errStale) {
				return nil // nothing left to tag
			}
			return err
		}
		if obj.versionID != "" {
			return nil
		}
		cur, err := h.head(ctx, obj.key)
		if errors.Is(err, errStale) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.same(obj) {
			return nil
		}
		h.log.WarnContext(ctx, "object replaced while its status was set: restoring the new object's own", "fileKey", obj.key, "etag", cur.etag)
		status, reason, keep = "", "", nil
		m, _, err := h.readMarker(ctx, h.markerKey(cur))
		switch {
		case err == nil:
			status, reason = m.Status, m.Event.Reason
		case s3err.Status(err) != http.StatusNotFound:
			return err
		}
		obj = cur
	}
	return fmt.Errorf("tag %s: replaced %d times while its status was set", obj.key, maxTagRounds)
}

// restoreOwn makes obj's status tags the ones its own marker records, or
// none while it has no marker (pending).
func (h *Handler) restoreOwn(ctx context.Context, obj object) error {
	status, reason := "", ""
	m, _, err := h.readMarker(ctx, h.markerKey(obj))
	switch {
	case err == nil:
		status, reason = m.Status, m.Event.Reason
	case s3err.Status(err) != http.StatusNotFound:
		return err
	}
	if err := h.putTags(ctx, obj, status, reason, nil); err != nil && !errors.Is(err, errStale) {
		return err
	}
	return nil
}

// putTags merges the status tags into obj's tags: StatusTag=status and
// ReasonTag=reason, each removed when empty; every other tag is kept, and
// each of keep is added when missing. It writes only when that changes
// something: S3 replaces the whole set on every write.
func (h *Handler) putTags(ctx context.Context, obj object, status, reason string, keep []types.Tag) error {
	tags, err := h.tags(ctx, obj)
	if err != nil {
		return err
	}
	want := []types.Tag{{Key: aws.String(api.StatusTag), Value: aws.String(status)}, {Key: aws.String(api.ReasonTag), Value: aws.String(reason)}}
	merged := make([]types.Tag, 0, len(tags)+len(want)+len(keep))
	changed := false
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if k == api.StatusTag || k == api.ReasonTag {
			continue
		}
		merged = append(merged, t)
	}
	for _, w := range want {
		if v := aws.ToString(w.Value); v != tagValue(tags, aws.ToString(w.Key)) {
			changed = true
		}
		if aws.ToString(w.Value) != "" {
			merged = append(merged, w)
		}
	}
	for _, k := range keep {
		if tagValue(tags, aws.ToString(k.Key)) == "" {
			merged, changed = append(merged, k), true
		}
	}
	if !changed {
		return nil
	}
	in := &s3.PutObjectTaggingInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(obj.key), Tagging: &types.Tagging{TagSet: merged}}
	if obj.versionID != "" {
		in.VersionId = aws.String(obj.versionID)
	}
	if _, err := h.bucket.PutObjectTagging(ctx, in); err != nil {
		if s3err.Status(err) == http.StatusNotFound {
			return errStale
		}
		return fmt.Errorf("tag %s: %w", obj.key, err)
	}
	return nil
}

// publish sends o's event: Upload Verified or Upload Rejected, from
// api.EventSource, with o.Event as its detail.
func (h *Handler) publish(ctx context.Context, o outcome) error {
	detailType := api.EventUploadVerified
	if o.Status == api.StatusRejected {
		detailType = api.EventUploadRejected
	}
	detail, err := json.Marshal(o.Event)
	if err != nil {
		return err
	}
	out, err := h.events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(h.set.EventBusName),
		Source:       aws.String(api.EventSource),
		DetailType:   aws.String(detailType),
		Detail:       aws.String(string(detail)),
	}}})
	if err != nil {
		return fmt.Errorf("publish %s for %s: %w", detailType, o.Event.FileKey, err)
	}
	if out.FailedEntryCount > 0 {
		var e ebtypes.PutEventsResultEntry
		if len(out.Entries) > 0 {
			e = out.Entries[0]
		}
		return fmt.Errorf("publish %s for %s: %s: %s", detailType, o.Event.FileKey, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
	}
	return nil
}

// settleQuota ends the upload's quota reservation with the outcome: a
// verified object's size counts against its owner, a rejected one gives
// the reservation back. Settling is idempotent per object version (keyed
// by the verdict's idempotency key), so a takeover may do it again. An
// object under no owner's segment was never reserved for.
func (h *Handler) settleQuota(ctx context.Context, e api.UploadEvent, verified bool) error {
	if h.quota == nil || h.set.SignIn && e.Owner == "" {
		return nil
	}
	if err := h.quota.Settle(ctx, api.LedgerOf(e.Owner), e.FileKey, e.IdempotencyKey, e.Size, verified); err != nil {
		return fmt.Errorf("settle quota of %s: %w", e.FileKey, err)
	}
	return nil
}
