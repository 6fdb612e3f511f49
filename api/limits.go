package api

import "time"

// Limits that S3 and SigV4 impose; settings and requests are checked
// against them.
const (
	// MaxSinglePutSize is the largest object one PUT may upload (5 GiB).
	MaxSinglePutSize int64 = 5 << 30
	// MaxExpiry is the longest validity a SigV4 pre-signed URL signed with
	// Lambda's temporary credentials can have in practice: the credentials
	// themselves expire after at most 12 hours.
	MaxExpiry = 12 * time.Hour
	// MaxRequestBody bounds the JSON request body the API accepts.
	MaxRequestBody = 1 << 20
	// MaxObjectSize is the largest object S3 stores: 10,000 parts of 5 GiB,
	// about 48.8 TiB (S3 User Guide, multipart upload limits).
	MaxObjectSize int64 = MaxParts * MaxPartSize
	// MinPartSize is S3's smallest part but the last (5 MiB).
	MinPartSize int64 = 5 << 20
	// MaxPartSize is S3's largest part (5 GiB).
	MaxPartSize int64 = 5 << 30
	// MaxParts is S3's most parts in one upload.
	MaxParts = 10000
	// MaxPartsPerRequest bounds the part numbers one signing call takes.
	MaxPartsPerRequest = 1000
)

// Plan is how a multipart upload of Size bytes is cut: PartCount parts of
// PartSize bytes, the last one shorter.
type Plan struct {
	Size      int64
	PartSize  int64
	PartCount int
}

// PlanParts plans an upload of size bytes with parts of preferred bytes,
// raised (to a whole MiB) when more than 10,000 parts would be needed.
func PlanParts(size, preferred int64) Plan {
	ps := max(preferred, MinPartSize)
	if need := ceilDiv(size, MaxParts); need > ps {
		ps = ceilDiv(need, 1<<20) << 20
	}
	return Plan{Size: size, PartSize: ps, PartCount: int(ceilDiv(size, ps))}
}

// PartLength returns the exact byte count of part n (1-based).
func (p Plan) PartLength(n int) int64 {
	if n < p.PartCount {
		return p.PartSize
	}
	return p.Size - int64(p.PartCount-1)*p.PartSize
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// DownloadExpiry is how long a download URL stays valid.
const DownloadExpiry = time.Minute

// MaxETagLength bounds a part's ETag as the completion request carries it:
// S3's part ETags are 32 hex digits in quotes; 64 characters leave room for
// other S3 implementations while the largest completion (10,000 parts)
// stays under MaxRequestBody.
const MaxETagLength = 66

// ValidETag reports whether s has the shape of a part ETag: optionally
// quoted, then 1 to 64 letters, digits or '-'.
func ValidETag(s string) bool {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
