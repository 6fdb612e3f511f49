package api

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Quotas bound what each caller may upload, on four dimensions, counted in
// a ledger object per caller kept in the bucket. An upload URL reserves the
// bytes it signs; the verifier's outcome settles them with the size
// stored; a rejection, an abort, a URL that expired unused and a delete
// give them back. Without sign-in every caller of the API key shares one
// ledger.

// Count is a number of things: files, sessions. The construct's props
// carry it as a number.
type Count int64

// QuotaLimits are one caller's limits; zero on a dimension is unlimited.
type QuotaLimits struct {
	// Bytes bounds the bytes a caller keeps stored, with what its issued
	// URLs may still store.
	Bytes Bytes `json:"bytes,omitempty"`
	// BytesPerDay bounds the bytes a caller's URLs may upload in a UTC day.
	BytesPerDay Bytes `json:"bytesPerDay,omitempty"`
	// FilesPerDay bounds the uploads (URLs, forms, multipart starts) a
	// caller may begin in a UTC day.
	FilesPerDay Count `json:"filesPerDay,omitempty"`
	// Sessions bounds a caller's multipart uploads in progress.
	Sessions Count `json:"sessions,omitempty"`
}

// Limited reports whether any dimension is bounded.
func (l QuotaLimits) Limited() bool { return l != QuotaLimits{} }

// The quota dimensions, as refusals and the quota route name them.
const (
	QuotaBytes       = "bytes"
	QuotaBytesPerDay = "bytesPerDay"
	QuotaFilesPerDay = "filesPerDay"
	QuotaSessions    = "sessions"
)

// QuotaUsage is what a caller's ledger counts.
type QuotaUsage struct {
	// Bytes is StoredBytes plus ReservedBytes, which QuotaBytes bounds.
	Bytes int64 `json:"bytes"`
	// StoredBytes are the bytes of the caller's stored, verified uploads.
	StoredBytes int64 `json:"storedBytes"`
	// ReservedBytes are what its issued URLs and multipart uploads in
	// progress may still store.
	ReservedBytes int64 `json:"reservedBytes"`
	// BytesToday counts the bytes of the uploads begun on Day.
	BytesToday int64 `json:"bytesToday"`
	// FilesToday counts the uploads begun on Day.
	FilesToday int64 `json:"filesToday"`
	// Sessions counts multipart uploads in progress.
	Sessions int64 `json:"sessions"`
}

// QuotaResponse answers GET /quota: the caller's limits (zero is
// unlimited) and usage.
type QuotaResponse struct {
	// Tier names the caller's tier, when its token names one the
	// settings know.
	Tier string `json:"tier,omitempty"`
	// Limits are the caller's limits; an absent one is unlimited.
	Limits QuotaLimits `json:"limits"`
	// Usage is what the caller's ledger counts now.
	Usage QuotaUsage `json:"usage"`
	// Day is the UTC day the per-day usage counts (YYYY-MM-DD).
	Day string `json:"day"`
	// ResetsAt is when the per-day usage starts afresh: the next midnight
	// UTC, in RFC 3339.
	ResetsAt string `json:"resetsAt"`
}

// ReconcileQuotaResponse answers POST /quota/reconcile: the caller's quota
// after its stored bytes were recounted from a listing of its files.
type ReconcileQuotaResponse = QuotaResponse

// QuotaRefusal says which limit an upload would exceed: part of the error
// body of a QuotaExceeded refusal.
type QuotaRefusal struct {
	Dimension string `json:"dimension"`
	Limit     int64  `json:"limit"`
	Used      int64  `json:"used"`
	// Remaining is what is left of the limit; Needed what the upload
	// asked for.
	Remaining int64 `json:"remaining"`
	Needed    int64 `json:"needed"`
	// RetryAfter, for a per-day dimension, is how many seconds until the
	// day starts afresh.
	RetryAfter int64 `json:"retryAfter,omitempty"`
}

// Message says the refusal plainly.
func (r QuotaRefusal) Message() string {
	what := map[string]string{
		QuotaBytes:       "your quota of stored bytes",
		QuotaBytesPerDay: "your quota of bytes uploaded today",
		QuotaFilesPerDay: "your quota of uploads today",
		QuotaSessions:    "your quota of multipart uploads in progress",
	}[r.Dimension]
	amount := func(n int64) string { return strconv.FormatInt(n, 10) }
	if r.Dimension == QuotaBytes || r.Dimension == QuotaBytesPerDay {
		amount = FormatBytes
	}
	msg := fmt.Sprintf("over quota: %s has %s of %s left; this upload needs %s", what, amount(r.Remaining), amount(r.Limit), amount(r.Needed))
	if r.RetryAfter > 0 {
		msg += fmt.Sprintf("; it starts afresh in %s (midnight UTC)", (time.Duration(r.RetryAfter) * time.Second).Round(time.Minute))
	}
	return msg
}

// FormatBytes spells n bytes in binary units, as people read sizes:
// "512 B", "3.0 MiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// DefaultQuotaPrefix holds the ledgers.
const DefaultQuotaPrefix = "upload-quotas/"

// SharedLedger names the ledger every caller shares without sign-in.
const SharedLedger = "shared"

// LedgerOf names the ledger of a caller: its caller ID, or SharedLedger
// without sign-in ("").
func LedgerOf(caller string) string {
	if caller == "" {
		return SharedLedger
	}
	return caller
}

// validateQuotas reports the quota settings that cannot work.
func (c UploadSettings) validateQuotas() error {
	var errs settingErrors
	// In order, so that the first error is the same every time.
	tiers := append([]string{""}, slices.Sorted(maps.Keys(c.QuotaTiers))...)
	for _, tier := range tiers {
		l, setting := c.Limits(), func(s string) string { return "quota" + string(s[0]-'a'+'A') + s[1:] }
		if tier != "" {
			l, setting = c.QuotaTiers[tier], func(s string) string { return "quotaTiers." + tier + "." + s }
		}
		for _, d := range []struct {
			name string
			v    int64
		}{{QuotaBytes, int64(l.Bytes)}, {QuotaBytesPerDay, int64(l.BytesPerDay)}, {QuotaFilesPerDay, int64(l.FilesPerDay)}, {QuotaSessions, int64(l.Sessions)}} {
			if d.v < 0 {
				errs.add(setting(d.name), "%d is negative; leave it unset for no limit", d.v)
			}
		}
	}
	for _, tier := range tiers[1:] {
		if tier == "" || len(tier) > 64 {
			errs.add("quotaTiers", "has a tier named %q; name each with 1 to 64 characters", tier)
		}
	}
	switch {
	case len(c.QuotaTiers) > 0 && c.QuotaTierClaim == "":
		errs.add("quotaTiers", "need quotaTierClaim: the token claim that names a caller's tier")
	case c.QuotaTierClaim != "" && len(c.QuotaTiers) == 0:
		errs.add("quotaTierClaim", "%q names tiers, but quotaTiers lists none", c.QuotaTierClaim)
	case c.QuotaTierClaim != "" && !c.SignIn:
		errs.add("quotaTierClaim", "needs sign-in: without it no token names a tier")
	case c.QuotaTierClaim == ContextIssuer || c.QuotaTierClaim == ContextSubject || c.QuotaTierClaim == ContextCallerID:
		errs.add("quotaTierClaim", "%q names the caller itself; name the claim that holds its tier", c.QuotaTierClaim)
	}
	if c.Quotas() && !c.Verified {
		errs.add("quotaBytes", "and the other quotas need the verifier: its outcome settles what each upload stored")
	}
	errs.addPrefix("quotaPrefix", c.QuotaPrefix, namedPrefix{"keyPrefix", c.KeyPrefix}, namedPrefix{"sessionPrefix", c.SessionPrefix})
	return errs.join()
}
