package api

// Error codes in the body of a failed response from the function. API
// Gateway's own refusals (a missing key, a request that fails its model,
// throttling) carry its response type instead, such as "BAD_REQUEST_BODY".
const (
	// CodeBadRequest: malformed JSON, an unknown field, or a field missing
	// or invalid; the message names it.
	CodeBadRequest = "BadRequest"
	// CodePayloadTooLarge: a size over maxFileSize or maxMultipartSize,
	// parts holding more than the declared size, or a request body over
	// 1 MiB.
	CodePayloadTooLarge = "PayloadTooLarge"
	// CodeUnsupportedMediaType: a contentType the allow-list does not
	// admit, or active content it does not name exactly.
	CodeUnsupportedMediaType = "UnsupportedMediaType"
	// CodeMethodNotAllowed: a method the resource does not serve reached
	// the function.
	CodeMethodNotAllowed = "MethodNotAllowed"
	// CodeNotFound: no route for the path (a route of a feature that is
	// off), or a file that is gone.
	CodeNotFound = "NotFound"
	// CodeInternal: the function failed; the body has no detail, the
	// function's log has the cause.
	CodeInternal = "InternalError"
	// CodeUploadAborted: completion found parts off the upload's plan and
	// aborted it; start again. (Parts over the declared size: 413.)
	CodeUploadAborted = "UploadAborted"
	// CodeNotVerified: a download of an object the verifier has not passed
	// (still pending, or rejected: the message says which and why).
	CodeNotVerified = "NotVerified"
	// CodeForbidden: a fileKey of another caller's (with sign-in), or a
	// request without a verified caller.
	CodeForbidden = "Forbidden"
	// CodeNotJSON: a request body sent with a Content-Type other than
	// application/json (parameters such as charset are fine).
	CodeNotJSON = "RequestNotJSON"
	// CodeFormUnavailable: form uploads are off while preventOverwrite is
	// on, because S3 cannot make a POST upload conditional.
	CodeFormUnavailable = "FormUploadUnavailable"
	// CodePreconditionFailed: preventOverwrite found an object with the key.
	CodePreconditionFailed = "PreconditionFailed"
	// CodeNoSuchUpload: the multipart upload is not in progress (never
	// started here, completed, aborted or expired).
	CodeNoSuchUpload = "NoSuchUpload"
	// CodeQuotaExceeded: the upload would pass one of the caller's quota
	// limits; the body's quota names which and what is left. 403 for the
	// stored bytes and the sessions, 429 with Retry-After for the per-day
	// limits.
	CodeQuotaExceeded = "QuotaExceeded"
	// CodeBusy: the caller's quota ledger changed under every attempt to
	// update it (the caller is uploading very fast); 503 with Retry-After.
	CodeBusy = "Busy"
	// CodeTooManyPending: the caller has as many uploads issued and not yet
	// stored (or expired) as its quota ledger holds, 10,000, whatever its
	// limits; 429 with Retry-After. Finish uploads, or wait for issued URLs
	// to expire.
	CodeTooManyPending = "TooManyPending"
	// CodeTooManyFiles: a quota reconcile found more of the caller's files
	// than one call recounts (100,000); 409.
	CodeTooManyFiles = "TooManyFiles"
)

// ErrorResponse is the JSON body of every failed response.
type ErrorResponse struct {
	Message string `json:"message"`
	Code    string `json:"code"`
	// Quota says which limit a QuotaExceeded refusal is about.
	Quota *QuotaRefusal `json:"quota,omitempty"`
}
