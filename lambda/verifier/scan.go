package verifier

import (
	"context"
	"fmt"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// scanReason maps the object's malware scan result onto "" (clean) or the
// reason to reject it, as the package documentation lists. Without a result
// it returns ErrPending until the scan timeout has passed.
func (h *Handler) scanReason(ctx context.Context, e objectEvent, obj object) (string, error) {
	status := e.scan
	if status == "" {
		tags, err := h.tags(ctx, obj)
		if err != nil {
			return "", err
		}
		status = tagValue(tags, api.MalwareScanTag)
	}
	switch status {
	case "":
		stored := e.time
		if stored.IsZero() {
			stored = obj.lastModified
		}
		if waited := h.now().Sub(stored); waited < h.set.MalwareScanTimeout.Duration() {
			return "", fmt.Errorf("%w: no malware scan result after %s", ErrPending, waited.Round(time.Second))
		}
		return api.ReasonScanTimeout, nil
	case api.MalwareScanNoThreatsFound:
		return "", nil
	case api.MalwareScanThreatsFound:
		return api.ReasonMalware, nil
	case api.MalwareScanUnsupported:
		return api.ReasonScanUnsupported, nil
	case api.MalwareScanAccessDenied:
		return api.ReasonScanAccessDenied, nil
	default: // FAILED, or a status added after this code
		return api.ReasonScanFailed, nil
	}
}
