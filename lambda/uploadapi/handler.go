// Package uploadapi is the upload API behind API Gateway: it validates a
// request, generates an object key and returns an S3 pre-signed URL that
// signs exactly the headers the client is told to send.
//
// The deployed Lambda, local mode and the benchmarks all call [Handler.Handle].
package uploadapi

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Resources of the API, as API Gateway reports them in the proxy event's
// Resource field.
const (
	RouteUploadURL         = "/get-upload-url"
	RouteUploadForm        = "/get-upload-form"
	RouteMultipart         = "/multipart"
	RouteMultipartUpload   = "/multipart/{uploadId}"
	RouteMultipartParts    = "/multipart/{uploadId}/parts"
	RouteMultipartComplete = "/multipart/{uploadId}/complete"
)

// Route is one method on one API resource.
type Route struct {
	Method   string
	Resource string
}

// Routes lists every method the API serves. Local mode routes exactly these;
// the construct creates a method for each.
var Routes = []Route{
	{http.MethodPost, RouteUploadURL},
	{http.MethodGet, RouteUploadURL},
	{http.MethodPost, RouteUploadForm},
	{http.MethodPost, RouteMultipart},
	{http.MethodDelete, RouteMultipartUpload},
	{http.MethodPost, RouteMultipartParts},
	{http.MethodGet, RouteMultipartParts},
	{http.MethodPost, RouteMultipartComplete},
}

// Presigner signs S3 requests without sending them. *s3.PresignClient
// satisfies it.
type Presigner interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignUploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignPostObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignPostOptions)) (*s3.PresignedPostRequest, error)
}

// MultipartAPI is the part of the S3 API the multipart routes call.
// *s3.Client satisfies it.
type MultipartAPI interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	ListParts(ctx context.Context, in *s3.ListPartsInput, optFns ...func(*s3.Options)) (*s3.ListPartsOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// Handler serves the upload API. Build it with [New]; it is safe for
// concurrent use.
type Handler struct {
	cfg       Config
	presign   Presigner
	multipart MultipartAPI
	newID     func() string
	log       *slog.Logger
}

// Option changes how [New] builds a Handler.
type Option func(*Handler)

// WithLogger sends the handler's log lines to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// New returns a Handler for cfg after applying the defaults and validating
// it. p signs URLs; mp serves the multipart routes that call S3.
func New(cfg Config, p Presigner, mp MultipartAPI, opts ...Option) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, presign: p, multipart: mp, newID: newID, log: slog.Default()}
	for _, o := range opts {
		o(h)
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
	switch (Route{req.HTTPMethod, resource}) {
	case Route{http.MethodPost, RouteUploadURL}:
		return h.uploadURL(ctx, req, decodeBody)
	case Route{http.MethodGet, RouteUploadURL}:
		return h.uploadURL(ctx, req, decodeQuery)
	case Route{http.MethodPost, RouteUploadForm}:
		return h.uploadForm(ctx, req)
	case Route{http.MethodPost, RouteMultipart}:
		return h.startMultipart(ctx, req)
	case Route{http.MethodPost, RouteMultipartParts}:
		return h.signParts(ctx, req)
	case Route{http.MethodGet, RouteMultipartParts}:
		return h.listParts(ctx, req)
	case Route{http.MethodPost, RouteMultipartComplete}:
		return h.completeMultipart(ctx, req)
	case Route{http.MethodDelete, RouteMultipartUpload}:
		return h.abortMultipart(ctx, req)
	}
	for _, r := range Routes {
		if r.Resource == resource {
			return errorResponse(errMethod(req.HTTPMethod, resource))
		}
	}
	return errorResponse(&apiError{http.StatusNotFound, CodeNotFound, "no route for " + req.HTTPMethod + " " + resource})
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
