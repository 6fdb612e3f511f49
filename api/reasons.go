package api

// ReasonTag is the object tag that says why an upload was rejected, next to
// StatusTag, so that the status route can answer {status, reason} from the
// object's tags alone.
const ReasonTag = "upload-reason"

// Reasons an upload is rejected, as an Upload Rejected event and ReasonTag
// carry them. The content checks come first; the first one that fails names
// the reason.
const (
	// ReasonUnknownKey: the key is not one this API issues (with sign-in,
	// one without an owner segment).
	ReasonUnknownKey = "unknown-key"
	// ReasonTooLarge: the stored size is over the limit of the path that
	// stored it (MaxFileSize for a PUT or form POST, MaxMultipartSize for a
	// multipart upload).
	ReasonTooLarge = "too-large"
	// ReasonTypeNotAllowed: the stored Content-Type is not one the
	// allow-list admits.
	ReasonTypeNotAllowed = "type-not-allowed"
	// ReasonActiveContent: the first bytes are markup or script (see
	// IsActiveContent) that the allow-list does not name exactly.
	ReasonActiveContent = "active-content"
	// ReasonTypeMismatch: the first bytes are not what the stored
	// Content-Type says, nor a kind of it.
	ReasonTypeMismatch = "type-mismatch"
	// ReasonUnexpectedMetadata: the object was stored with a header the
	// API never asks for and a download would serve back:
	// Content-Encoding other than identity, Content-Disposition,
	// Cache-Control other than directives that only restrict caching
	// (such as the "max-age=0" browsers add on their own),
	// Content-Language, Expires or a website redirect. A pre-signed PUT
	// admits such unsigned headers, so without this check gzipped HTML
	// stored with Content-Encoding: gzip would sniff as gzip and be served
	// as a page.
	ReasonUnexpectedMetadata = "unexpected-metadata"

	// ReasonMalware: the malware scan found a threat.
	ReasonMalware = "malware"
	// ReasonScanUnsupported: the malware scan skipped the object (a
	// password-protected or too deeply nested archive). Not scanned is not
	// verified.
	ReasonScanUnsupported = "malware-scan-unsupported"
	// ReasonScanAccessDenied: the malware scan could not read the object:
	// its role lacks a permission (a deployment fault, logged as an error).
	ReasonScanAccessDenied = "malware-scan-access-denied"
	// ReasonScanFailed: the malware scan failed inside the scanner.
	ReasonScanFailed = "malware-scan-failed"
	// ReasonScanTimeout: no scan result arrived within the verifier's
	// malware scan timeout.
	ReasonScanTimeout = "malware-scan-timeout"
)
