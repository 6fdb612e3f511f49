package verifier

import (
	"context"
	"fmt"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// GuardDuty Malware Protection for S3: its object tag and scan result
// statuses (the tag's values and the event's scanResultStatus).
const (
	guardDutyTag    = "GuardDutyMalwareScanStatus"
	scanClean       = "NO_THREATS_FOUND"
	scanThreats     = "THREATS_FOUND"
	scanUnsupported = "UNSUPPORTED"
	scanDenied      = "ACCESS_DENIED"
	scanFailed      = "FAILED"
)

// guardDutyMaxSize is the largest object GuardDuty scans (100 GB).
const guardDutyMaxSize = 100_000_000_000

// scanReason maps the object's malware scan result onto "" (clean) or the
// reason to reject it, as the package documentation lists. Without a result
// it returns ErrPending until the scan timeout has passed.
func (h *Handler) scanReason(ctx context.Context, e objectEvent, obj object) (string, error) {
	if obj.size > guardDutyMaxSize {
		return api.ReasonScanUnsupported, nil
	}
	status := e.scan
	if status == "" {
		tags, err := h.tags(ctx, obj)
		if err != nil {
			return "", err
		}
		status = tagValue(tags, guardDutyTag)
	}
	switch status {
	case "":
		stored := e.time
		if stored.IsZero() {
			stored = obj.lastModified
		}
		if waited := h.now().Sub(stored); waited < h.set.scanTimeout() {
			return "", fmt.Errorf("%w: no malware scan result after %s", ErrPending, waited.Round(time.Second))
		}
		return api.ReasonScanTimeout, nil
	case scanClean:
		return "", nil
	case scanThreats:
		return api.ReasonMalware, nil
	case scanUnsupported:
		return api.ReasonScanUnsupported, nil
	case scanDenied:
		return api.ReasonScanAccessDenied, nil
	default: // FAILED, or a status added after this code
		return api.ReasonScanFailed, nil
	}
}
