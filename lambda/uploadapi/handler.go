// Package uploadapi is the upload API behind API Gateway: it validates a
// request, generates an object key and returns an S3 pre-signed URL that
// signs exactly the headers it returns. The wire contract it serves (routes,
// types, limits, settings) is package api.
//
// The deployed Lambda, local mode and the benchmarks all call [Handler.Handle].
package uploadapi

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/quota"
)

// Presigner signs S3 requests without sending them. *s3.PresignClient
// satisfies it.
type Presigner interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignUploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignPostObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignPostOptions)) (*s3.PresignedPostRequest, error)
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// NewPresigner returns the presigner the deployed function signs with:
// client's, on the bucket's S3 Transfer Acceleration endpoint when the
// settings ask for it. The function's own calls to S3 stay on the regional
// endpoint.
func NewPresigner(client *s3.Client, s api.UploadSettings) *s3.PresignClient {
	return s3.NewPresignClient(client, func(o *s3.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(co *s3.Options) { co.UseAccelerate = s.TransferAcceleration })
	})
}

// BucketAPI is the part of the S3 API the handler calls: the multipart
// routes, their sessions and the caller's files. *s3.Client satisfies it.
type BucketAPI interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	ListParts(ctx context.Context, in *s3.ListPartsInput, optFns ...func(*s3.Options)) (*s3.ListPartsOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	// An upload's session object (session.go) binds it to its declared size.
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	// The caller's files (files.go).
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	// An object's verification status (status.go).
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
}

// Handler serves the upload API. Build it with [New]; it is safe for
// concurrent use.
type Handler struct {
	set       api.UploadSettings
	presign   Presigner
	bucket    BucketAPI
	newID     func() string
	now       func() time.Time
	quota     *quota.Ledger // nil without quotas
	log       *slog.Logger
	routes    map[routeKey]*boundRoute
	resources map[string]bool
}

// routeKey finds a route from a proxy event without allocating.
type routeKey struct{ method, resource string }

// methods names the method that serves each route of the contract. New
// refuses a contract route that has none, or whose method takes another
// request type.
func (h *Handler) methods() map[api.Route]method {
	return map[api.Route]method{
		api.UploadURL:         handles(h.uploadURL),
		api.UploadURLQuery:    handles(h.uploadURL),
		api.UploadForm:        handles(h.uploadForm),
		api.StartMultipart:    handles(h.startMultipart),
		api.SignParts:         handles(h.signParts),
		api.ListParts:         handles(h.listParts),
		api.CompleteMultipart: handles(h.completeMultipart),
		api.AbortMultipart:    handles(h.abortMultipart),
		api.ListFiles:         handles(h.listFiles),
		api.DownloadURL:       handles(h.downloadURL),
		api.DeleteFile:        handles(h.deleteFile),
		api.UploadStatus:      handles(h.uploadStatus),
		api.Quota:             handles(h.quotaUsage),
		api.ReconcileQuota:    handles(h.reconcileQuota),
	}
}

// Option changes how [New] builds a Handler.
type Option func(*Handler)

// WithLogger sends the handler's log lines to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithClock makes the handler read the time from now instead of time.Now:
// it dates quota reservations and their expiry.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns a Handler for s after applying the defaults and validating
// it. p signs URLs; b serves the routes that call S3.
func New(s api.UploadSettings, p Presigner, b BucketAPI, opts ...Option) (*Handler, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{set: s, presign: p, bucket: b, newID: api.NewFileID, now: time.Now, log: slog.Default(),
		routes: map[routeKey]*boundRoute{}, resources: map[string]bool{}}
	for _, o := range opts {
		o(h)
	}
	if s.Quotas() {
		h.quota = quota.New(b, s.Bucket, s.QuotaPrefix, quota.WithClock(h.now))
	}
	methods := h.methods()
	for _, r := range api.RoutesFor(s) {
		m, ok := methods[r]
		if !ok {
			panic("uploadapi: no method serves " + r.String())
		}
		h.routes[routeKey{r.Method, r.Resource}] = bindRoute(r, m, s)
		h.resources[r.Resource] = true
	}
	return h, nil
}

// Handle answers one API Gateway proxy request. It never returns an error:
// API Gateway would turn one into a bare 502 without CORS headers, which a
// browser reports as a CORS failure instead of the real problem.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, _ error) {
	defer func() {
		if r := recover(); r != nil {
			h.log.ErrorContext(ctx, "handler panic", "panic", r, "stack", string(debug.Stack()))
			resp = h.finish(req, errorResponse(errInternal()))
		}
	}()
	return h.finish(req, h.route(ctx, req)), nil
}

func (h *Handler) route(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	resource := req.Resource
	if resource == "" {
		resource = req.Path
	}
	if r, ok := h.routes[routeKey{req.HTTPMethod, resource}]; ok {
		return r.method.serve(ctx, h, r, req)
	}
	if h.resources[resource] {
		return errorResponse(errMethod(req.HTTPMethod, resource))
	}
	return errorResponse(&apiError{status: http.StatusNotFound, code: api.CodeNotFound, message: "no route for " + req.HTTPMethod + " " + resource})
}

// finish adds the CORS and content headers every response carries.
func (h *Handler) finish(req events.APIGatewayProxyRequest, resp events.APIGatewayProxyResponse) events.APIGatewayProxyResponse {
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	setCORSHeaders(resp.Headers, h.set.AllowedOrigins, header(req.Headers, "Origin"))
	resp.Headers["Cache-Control"] = "no-store"
	resp.Headers["X-Content-Type-Options"] = "nosniff"
	return resp
}
