package uploadapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/quota"
)

// How long a reservation outlives what it reserves for: a PUT that starts
// just before its URL expires may still be sending, and a multipart upload
// lives until the bucket's lifecycle rule aborts it, a day after it
// started.
const (
	putGrace       = 15 * time.Minute
	multipartLives = 25 * time.Hour
)

// urlReservationEnds is when an upload URL or form issued now can no
// longer store anything.
func (h *Handler) urlReservationEnds() time.Time {
	return h.now().Add(h.set.UrlExpiry.Duration() + putGrace)
}

// reserve records an upload against the caller's quota before its URL is
// issued; with no quota it does nothing.
func (h *Handler) reserve(ctx context.Context, caller, tier string, r quota.Reservation) *apiError {
	if h.quota == nil {
		return nil
	}
	limits, _ := h.set.LimitsFor(tier)
	return h.quotaError(ctx, "reserve", h.quota.Reserve(ctx, api.LedgerOf(caller), limits, r))
}

// release gives back a reservation whose upload will store nothing.
func (h *Handler) release(ctx context.Context, caller, key string) {
	if h.quota == nil {
		return
	}
	if err := h.quota.Release(ctx, api.LedgerOf(caller), key); err != nil {
		// Swept when it expires; a reconcile fixes the rest.
		h.log.WarnContext(ctx, "release quota reservation failed", "fileKey", key, "error", err)
	}
}

// quotaError maps a ledger's answer onto the API's errors.
func (h *Handler) quotaError(ctx context.Context, op string, err error) *apiError {
	var ex *quota.Exceeded
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ex) && ex.RetryAfter > 0:
		// A per-day limit: time lifts it.
		r := ex.QuotaRefusal
		return &apiError{status: http.StatusTooManyRequests, code: api.CodeQuotaExceeded, message: r.Message(), quota: &r}
	case errors.As(err, &ex):
		r := ex.QuotaRefusal
		return &apiError{status: http.StatusForbidden, code: api.CodeQuotaExceeded, message: r.Message(), quota: &r}
	case errors.Is(err, quota.ErrTooManyPending):
		return &apiError{status: http.StatusTooManyRequests, code: api.CodeTooManyPending, message: "too many uploads pending for this caller; finish them, or wait for their URLs to expire", retryAfter: 60}
	case errors.Is(err, quota.ErrBusy):
		return &apiError{status: http.StatusServiceUnavailable, code: api.CodeBusy, message: "too many uploads at once for this caller; try again", retryAfter: 1}
	}
	h.log.ErrorContext(ctx, op+" quota failed", "error", err)
	return errInternal()
}

// quotaUsage answers the caller's limits and usage.
func (h *Handler) quotaUsage(ctx context.Context, c *call[none]) response {
	usage, day, resets, err := h.quota.Usage(ctx, api.LedgerOf(c.caller))
	if err != nil {
		h.log.ErrorContext(ctx, "read quota failed", "caller", c.caller, "error", err)
		return errorResponse(errInternal())
	}
	limits, tier := h.set.LimitsFor(c.tier)
	return jsonResponse(http.StatusOK, api.QuotaResponse{Tier: tier, Limits: limits, Usage: usage, Day: day,
		ResetsAt: resets.Format(time.RFC3339)})
}

// maxReconcilePages bounds a reconcile's listing: 100,000 files.
const maxReconcilePages = 100

// reconcileQuota recounts the caller's stored bytes from a listing of its
// own prefix: every object there, rejected ones too until the lifecycle
// rule deletes them.
func (h *Handler) reconcileQuota(ctx context.Context, c *call[none]) response {
	var listed int
	err := h.quota.Reconcile(ctx, api.LedgerOf(c.caller), func(ctx context.Context) (map[string]int64, error) {
		files, err := h.callerFiles(ctx, c.caller)
		listed = len(files)
		return files, err
	})
	switch {
	case errors.Is(err, errTooManyFiles):
		return errorResponse(&apiError{status: http.StatusConflict, code: api.CodeTooManyFiles,
			message: "too many files to recount in one call (over " + strconv.Itoa(maxReconcilePages*1000) + ")"})
	case errors.Is(err, errListFailed):
		h.log.ErrorContext(ctx, "list files failed", "caller", c.caller, "error", err)
		return errorResponse(errInternal())
	}
	if e := h.quotaError(ctx, "reconcile", err); e != nil {
		return errorResponse(e)
	}
	h.log.InfoContext(ctx, "reconciled quota", requestAttrs(c.req, "caller", c.caller, "files", listed)...)
	return h.quotaUsage(ctx, &call[none]{req: c.req, caller: c.caller, tier: c.tier})
}

// listingReserve is the time a reconcile keeps for the rest of its run:
// a page it lists with less left is not begun.
const listingReserve = 3 * time.Second

var (
	errTooManyFiles = errors.New("too many files to recount")
	errListFailed   = errors.New("list files")
)

// callerFiles lists the caller's files: key to size.
func (h *Handler) callerFiles(ctx context.Context, caller string) (map[string]int64, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(h.set.Bucket), Prefix: aws.String(h.prefixFor(caller))}
	files := map[string]int64{}
	for page := 0; ; page++ {
		if page == maxReconcilePages {
			return nil, errTooManyFiles
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < listingReserve {
			// Answer Busy while there is time to, not the gateway's 504.
			return nil, quota.ErrBusy
		}
		out, err := h.bucket.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errListFailed, err)
		}
		for _, o := range out.Contents {
			if k, ok := api.ParseKey(h.set.KeyPrefix, aws.ToString(o.Key), h.set.SignIn); ok && k.Owner == caller {
				files[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return files, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}
