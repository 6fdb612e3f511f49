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
	// CodePreconditionFailed: preventOverwrite found an object with the
	// key, or a delete's etag is no longer the file's (DELETE /files sends
	// it as If-Match): the file changed since it was listed, and nothing was
	// deleted.
	CodePreconditionFailed = "PreconditionFailed"
	// CodeNoSuchUpload: the multipart upload is not in progress (never
	// started here, completed, aborted or expired), from the upload's
	// session or from S3's own NoSuchUpload.
	CodeNoSuchUpload = "NoSuchUpload"
	// CodeQuotaExceeded: the upload would pass one of the caller's quota
	// limits; the body's quota names which and what is left. 403 for the
	// stored bytes and the sessions, 429 with Retry-After for the per-day
	// limits.
	CodeQuotaExceeded = "QuotaExceeded"
	// CodeBusy: a write the request needed met another one under way, and
	// nothing was done: the caller's quota ledger changed under every
	// attempt to update it (the caller is uploading very fast), or S3
	// answered a completion with its 409 ConditionalRequestConflict
	// (another write to the key, such as the same completion sent again
	// while the first still runs). 503 with Retry-After: try again.
	CodeBusy = "Busy"
	// CodeTooManyPending: the caller has as many uploads issued and not yet
	// stored (or expired) as its quota ledger holds, 10,000, whatever its
	// limits; 429 with Retry-After. Finish uploads, or wait for issued URLs
	// to expire.
	CodeTooManyPending = "TooManyPending"
	// CodeTooManyFiles: a quota reconcile found more of the caller's files
	// than one call recounts (100,000); 409.
	CodeTooManyFiles = "TooManyFiles"

	// S3's own codes, which the function passes through with S3's message
	// when S3 refuses a multipart call for something the client sent: S3
	// names the mistake best.

	// CodeBadDigest: S3's code for a whole-file checksum sent at
	// completion that the parts it holds do not make: the file changed
	// while it was uploading. Start the upload again.
	CodeBadDigest = "BadDigest"
	// CodeInvalidPart: S3's code for a part completion named that S3 does
	// not hold, or holds with another ETag.
	CodeInvalidPart = "InvalidPart"
	// CodeInvalidPartOrder: S3's code for parts not listed in ascending
	// part-number order.
	CodeInvalidPartOrder = "InvalidPartOrder"
	// CodeEntityTooSmall: S3's code for a part other than the last one
	// under its 5 MiB minimum.
	CodeEntityTooSmall = "EntityTooSmall"
	// CodeInvalidRequest: S3's code for a multipart call it refuses as
	// malformed; the message is S3's.
	CodeInvalidRequest = "InvalidRequest"
	// CodeInvalidArgument: S3's code for an argument of a multipart call it
	// refuses, such as a checksum of the wrong shape; the message is S3's.
	CodeInvalidArgument = "InvalidArgument"
)

// ErrorResponse is the JSON body of every failed response.
type ErrorResponse struct {
	Message string `json:"message"`
	Code    string `json:"code"`
	// Quota says which limit a QuotaExceeded refusal is about.
	Quota *QuotaRefusal `json:"quota,omitempty"`
}
