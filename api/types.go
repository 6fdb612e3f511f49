package api

// Request and response bodies. Tags drive both the JSON encoding and the
// request models the deployed API validates with: `jsonschema:"required"`
// marks a field every request must carry, and the other jsonschema options
// bound its value. The handler checks the same rules, with its own messages.

// UploadURLRequest asks for a URL to upload one file with a single PUT.
type UploadURLRequest struct {
	// FileName is the client's name for the file; it is sanitised into the
	// last part of the key.
	FileName string `json:"fileName" jsonschema:"required,maxLength=4096"`
	// ContentType is the media type the client will send.
	ContentType string `json:"contentType" jsonschema:"required,minLength=1,maxLength=256"`
	// Size is the exact number of bytes the client will send. When given,
	// it is signed and S3 rejects a body of any other length.
	Size *int64 `json:"size,omitempty" jsonschema:"minimum=1"`
	// ChecksumCRC64NVME is the body's CRC64NVME checksum (see
	// [EncodeCRC64NVME]). When given, it is signed and S3 rejects a body
	// with another checksum and stores it with the object, where the
	// verifier and the Upload Verified event read it.
	ChecksumCRC64NVME string `json:"checksumCRC64NVME,omitempty" jsonschema:"format=crc64nvme"`
	// ChecksumSHA256 is the base64 SHA-256 of the body, signed the same
	// way; at most one of the two.
	ChecksumSHA256 string `json:"checksumSHA256,omitempty" jsonschema:"format=sha256"`
}

func (UploadURLRequest) requiredBy(c UploadSettings) []string {
	if c.SizeRequired() {
		return []string{"size"}
	}
	return nil
}

// Formats name the shapes of string fields, in the `jsonschema:"format=…"`
// tag; the request models spell each as a pattern.
var Formats = map[string]string{
	// A base64 SHA-256 digest, as S3's x-amz-checksum-sha256 header
	// carries it: 43 characters and one '=' of padding.
	"sha256": `^[A-Za-z0-9+/]{43}=$`,
	// A part's ETag, as ValidETag checks it.
	"etag": `^("[0-9A-Za-z-]{1,64}"|[0-9A-Za-z-]{1,64})$`,
	// A CRC64NVME checksum, as S3's x-amz-checksum-crc64nvme header
	// carries it: the base64 of 8 bytes.
	"crc64nvme": `^[A-Za-z0-9+/]{11}=$`,
}

// UploadURLResponse tells the client where and how to PUT the file.
type UploadURLResponse struct {
	// UploadURL is the pre-signed URL to send the file to.
	UploadURL string `json:"uploadUrl"`
	// FileKey is the object's key, made by the API; later calls name the
	// file by it.
	FileKey string `json:"fileKey"`
	// ExpiresIn is the URL's validity in seconds.
	ExpiresIn int64 `json:"expiresIn"`
	// Method is the HTTP method to send the file with: PUT.
	Method string `json:"method"`
	// Headers must all be sent, with exactly these values, for the
	// signature to match.
	Headers map[string]string `json:"headers"`
}

// UploadFormRequest asks for a browser form upload (a pre-signed POST).
type UploadFormRequest struct {
	FileName    string `json:"fileName" jsonschema:"required,maxLength=4096"`
	ContentType string `json:"contentType" jsonschema:"required,minLength=1,maxLength=256"`
}

// UploadFormResponse holds the form: POST multipart/form-data to URL with
// Fields first and the file last, in a field named "file".
type UploadFormResponse struct {
	// URL is where the form is posted: the bucket's endpoint.
	URL string `json:"url"`
	// Fields are the form fields to send, with these exact values, before
	// the file: the key, the Content-Type, the policy and its signature.
	Fields    map[string]string `json:"fields"`
	FileKey   string            `json:"fileKey"`
	ExpiresIn int64             `json:"expiresIn"`
	// MaxSize is the largest file S3 accepts through this form.
	MaxSize int64 `json:"maxSize"`
}

// MultipartStartRequest starts a multipart upload.
type MultipartStartRequest struct {
	FileName    string `json:"fileName" jsonschema:"required,maxLength=4096"`
	ContentType string `json:"contentType" jsonschema:"required,minLength=1,maxLength=256"`
	// Size is the file's total size in bytes; it fixes the plan.
	Size int64 `json:"size" jsonschema:"required,minimum=1"`
	// ChecksumAlgorithm "CRC64NVME" checks the whole file end to end: S3
	// requires and verifies each part's CRC64NVME, signed into its URL, and
	// at completion compares the whole file's (CompleteRequest's) with the
	// parts', storing it with the object. "SHA256" checks each part only.
	// Without one, S3 checks what each part's signature covers.
	ChecksumAlgorithm string `json:"checksumAlgorithm,omitempty" jsonschema:"enum=CRC64NVME,enum=SHA256"`
}

// MultipartStartResponse is the started upload and its plan.
type MultipartStartResponse struct {
	// UploadID names the upload in the path of every later call.
	UploadID string `json:"uploadId"`
	FileKey  string `json:"fileKey"`
	// UploadSecret must accompany every later call about this upload, in
	// the UploadSecretHeader: knowing the fileKey and uploadId is not
	// enough to add, list, complete or abort its parts. Keep it with the
	// resume state; the API keeps only its hash.
	UploadSecret string `json:"uploadSecret"`
	// PartSize is the length of every part but the last, which holds the
	// rest.
	PartSize int64 `json:"partSize"`
	// PartCount is the number of parts the plan cuts the file into.
	PartCount int `json:"partCount"`
	// ExpiresIn is how long each part URL signed for this upload stays
	// valid, in seconds.
	ExpiresIn int64 `json:"expiresIn"`
}

// UploadSecretHeader carries a multipart upload's UploadSecret on every
// call after the start.
const UploadSecretHeader = "X-Upload-Secret"

// UploadRef names a multipart upload's object in a query string; the
// upload ID is in the path.
type UploadRef struct {
	FileKey string `json:"fileKey" jsonschema:"required,minLength=1,maxLength=1024"`
}

// SignPartsRequest asks for URLs for up to 1,000 parts.
type SignPartsRequest struct {
	FileKey string `json:"fileKey" jsonschema:"required,minLength=1,maxLength=1024"`
	// Size is the upload's total size, as given when it was started; it
	// fixes every part's length.
	Size int64 `json:"size" jsonschema:"required,minimum=1"`
	// PartNumbers are the parts to sign, each from 1 to the plan's
	// PartCount, none twice.
	PartNumbers []int `json:"partNumbers" jsonschema:"required,minItems=1,maxItems=1000,minimum=1"`
	// ChecksumsCRC64NVME are the parts' CRC64NVME checksums, in the order
	// of PartNumbers; required when the upload was started with
	// checksumAlgorithm CRC64NVME.
	ChecksumsCRC64NVME []string `json:"checksumsCRC64NVME,omitempty" jsonschema:"maxItems=1000,format=crc64nvme"`
	// ChecksumsSHA256 are the base64 SHA-256 digests of the parts, in the
	// order of PartNumbers; required when the upload was started with
	// checksumAlgorithm SHA256.
	ChecksumsSHA256 []string `json:"checksumsSHA256,omitempty" jsonschema:"maxItems=1000,format=sha256"`
}

// SignedPart is the URL and headers for one part.
type SignedPart struct {
	// PartNumber is the part's number, from 1.
	PartNumber int `json:"partNumber"`
	// URL is the pre-signed PUT of the part; it signs the part's exact
	// length.
	URL string `json:"url"`
	// Headers must all be sent, with exactly these values, for the
	// signature to match.
	Headers map[string]string `json:"headers"`
}

// SignPartsResponse holds the signed parts.
type SignPartsResponse struct {
	// Parts are the signed parts, in the order asked for.
	Parts []SignedPart `json:"parts"`
	// ExpiresIn is the part URLs' validity in seconds.
	ExpiresIn int64 `json:"expiresIn"`
}

// UploadedPart is a part S3 holds, with the checksum it was sent with.
type UploadedPart struct {
	PartNumber int `json:"partNumber"`
	// ETag is S3's ETag of the part, which completion names.
	ETag string `json:"etag"`
	// Size is the part's length in bytes.
	Size int64 `json:"size"`
	// ChecksumCRC64NVME is the part's CRC64NVME, when the upload was
	// started with checksumAlgorithm CRC64NVME.
	ChecksumCRC64NVME string `json:"checksumCRC64NVME,omitempty"`
	// ChecksumSHA256 is the part's base64 SHA-256, when the upload was
	// started with checksumAlgorithm SHA256.
	ChecksumSHA256 string `json:"checksumSHA256,omitempty"`
}

// ListPartsResponse lists the parts S3 holds, by part number.
type ListPartsResponse struct {
	// Parts are the parts S3 holds, by part number.
	Parts []UploadedPart `json:"parts"`
}

// CompletedPart names a part to assemble.
type CompletedPart struct {
	PartNumber int    `json:"partNumber" jsonschema:"required,minimum=1"`
	ETag       string `json:"etag" jsonschema:"required,format=etag"`
}

// CompleteRequest assembles the parts into the object.
type CompleteRequest struct {
	FileKey string `json:"fileKey" jsonschema:"required,minLength=1,maxLength=1024"`
	// Parts name every part of the plan, each with the ETag its PUT
	// answered.
	Parts []CompletedPart `json:"parts" jsonschema:"required,minItems=1,maxItems=10000"`
	// ChecksumCRC64NVME is the whole file's CRC64NVME checksum; required
	// when the upload was started with checksumAlgorithm CRC64NVME. S3
	// refuses to assemble parts whose combined checksum differs
	// (BadDigest).
	ChecksumCRC64NVME string `json:"checksumCRC64NVME,omitempty" jsonschema:"format=crc64nvme"`
}

// CompleteResponse describes the stored object.
type CompleteResponse struct {
	FileKey string `json:"fileKey"`
	// ETag is the stored object's ETag.
	ETag string `json:"etag"`
	// Size is the stored object's size in bytes: the size declared when
	// the upload started.
	Size int64 `json:"size"`
	// ChecksumCRC64NVME is the stored object's whole-file checksum, as S3
	// reports it at completion: the one the upload declared, or the one S3
	// computed itself when it declared none.
	ChecksumCRC64NVME string `json:"checksumCRC64NVME,omitempty"`
}

// ListFilesRequest asks for a page of the caller's files.
type ListFilesRequest struct {
	// ContinuationToken is the previous page's NextToken; empty for the first.
	ContinuationToken string `json:"continuationToken,omitempty" jsonschema:"maxLength=2048"`
	// MaxFiles bounds the page. Default and most: 1,000.
	MaxFiles *int64 `json:"maxFiles,omitempty" jsonschema:"minimum=1,maximum=1000"`
}

// FileInfo is one stored file of the caller's.
type FileInfo struct {
	FileKey string `json:"fileKey"`
	// FileName is the key's name part: the sanitised name the file was
	// uploaded with.
	FileName string `json:"fileName"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// LastModified is when the file was stored, in RFC 3339.
	LastModified string `json:"lastModified"`
	// ETag names the stored object version; DeleteFileRequest takes it to
	// delete exactly what was listed.
	ETag string `json:"etag"`
}

// ListFilesResponse is a page of the caller's files, newest keys in no
// particular order; NextToken is empty on the last page.
type ListFilesResponse struct {
	// Files are this page's files.
	Files []FileInfo `json:"files"`
	// NextToken asks for the next page as continuationToken.
	NextToken string `json:"nextToken,omitempty"`
}

// DeleteFileRequest deletes one of the caller's files.
type DeleteFileRequest struct {
	FileKey string `json:"fileKey" jsonschema:"required,minLength=1,maxLength=1024"`
	// ETag, as the file list gave it, makes the delete conditional: if the
	// object was replaced since, nothing is deleted and the answer is 412.
	ETag string `json:"etag,omitempty" jsonschema:"format=etag"`
}

// DownloadURLRequest asks for a download URL of one of the caller's files.
type DownloadURLRequest struct {
	FileKey string `json:"fileKey" jsonschema:"required,minLength=1,maxLength=1024"`
}

// DownloadURLResponse is a pre-signed GET that makes a browser save the
// file under FileName (Content-Disposition: attachment).
type DownloadURLResponse struct {
	// DownloadURL is the pre-signed GET.
	DownloadURL string `json:"downloadUrl"`
	// FileName is the name the file downloads under: the key's name part.
	FileName string `json:"fileName"`
	// ExpiresIn is the URL's validity in seconds.
	ExpiresIn int64 `json:"expiresIn"`
}
