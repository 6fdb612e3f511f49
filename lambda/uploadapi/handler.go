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
	"reflect"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
)

// Presigner signs S3 requests without sending them. *s3.PresignClient
// satisfies it.
type Presigner interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignUploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignPostObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignPostOptions)) (*s3.PresignedPostRequest, error)
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
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
	cfg       api.Config
	presign   Presigner
	bucket    BucketAPI
	newID     func() string
	log       *slog.Logger
	routes    map[routeKey]*boundRoute
	resources map[string]bool
}

// routeKey finds a route from a proxy event without allocating.
type routeKey struct{ method, resource string }

// boundRoute is a route of the contract with the method that serves it.
type boundRoute struct {
	api.Route
	serve func(context.Context, events.APIGatewayProxyRequest, *boundRoute) events.APIGatewayProxyResponse
	// required are the request type's required fields, by json name and
	// field index.
	required []requiredField
}

type requiredField struct {
	name  string
	index int
}

// serveFunc is a route's method: it decodes the request with r.decode.
type serveFunc = func(context.Context, events.APIGatewayProxyRequest, *boundRoute) events.APIGatewayProxyResponse

// bind names the method that serves each route of the contract. New
// refuses a contract route that has none.
func (h *Handler) bind() map[api.Route]serveFunc {
	return map[api.Route]serveFunc{
		api.UploadURL:         h.uploadURL,
		api.UploadURLQuery:    h.uploadURL,
		api.UploadForm:        h.uploadForm,
		api.StartMultipart:    h.startMultipart,
		api.SignParts:         h.signParts,
		api.ListParts:         h.listParts,
		api.CompleteMultipart: h.completeMultipart,
		api.AbortMultipart:    h.abortMultipart,
		api.ListFiles:         h.listFiles,
		api.DownloadURL:       h.downloadURL,
		api.DeleteFile:        h.deleteFile,
		api.UploadStatus:      h.uploadStatus,
	}
}

// Option changes how [New] builds a Handler.
type Option func(*Handler)

// WithLogger sends the handler's log lines to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// New returns a Handler for cfg after applying the defaults and validating
// it. p signs URLs; b serves the routes that call S3.
func New(cfg api.Config, p Presigner, b BucketAPI, opts ...Option) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, presign: p, bucket: b, newID: newID, log: slog.Default(),
		routes: map[routeKey]*boundRoute{}, resources: map[string]bool{}}
	for _, o := range opts {
		o(h)
	}
	bound := h.bind()
	for _, r := range api.RoutesFor(cfg) {
		serve, ok := bound[r]
		if !ok {
			panic("uploadapi: no method serves " + r.String())
		}
		br := &boundRoute{Route: r, serve: serve}
		t := reflect.TypeOf(r.Request())
		for _, name := range r.Required(cfg) {
			br.required = append(br.required, requiredField{name, fieldIndex(t, name)})
		}
		h.routes[routeKey{r.Method, r.Resource}] = br
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
		return r.serve(ctx, req, r)
	}
	if h.resources[resource] {
		return errorResponse(errMethod(req.HTTPMethod, resource))
	}
	return errorResponse(&apiError{http.StatusNotFound, api.CodeNotFound, "no route for " + req.HTTPMethod + " " + resource})
}

// finish adds the CORS and content headers every response carries.
func (h *Handler) finish(req events.APIGatewayProxyRequest, resp events.APIGatewayProxyResponse) events.APIGatewayProxyResponse {
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	setCORSHeaders(resp.Headers, h.cfg.AllowedOrigins, header(req.Headers, "Origin"))
	resp.Headers["Cache-Control"] = "no-store"
	return resp
}
