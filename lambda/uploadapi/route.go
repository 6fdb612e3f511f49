package uploadapi

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// response is what a route's method answers.
type response = events.APIGatewayProxyResponse

// call is one request to a route, read by the route's adapter before the
// route's method runs, so no method repeats it: who asks, what they asked
// (In, the route's request type), and which multipart upload it is about.
type call[In any] struct {
	req events.APIGatewayProxyRequest
	in  In
	// caller is the verified caller's ID; "" without sign-in. tier is the
	// quota tier its token names, if the settings read one.
	caller, tier string
	// uploadID is the {uploadId} path parameter of the routes that have
	// one.
	uploadID string
}

// secret is the upload secret the request presents, for the routes about
// one multipart upload.
func (c *call[In]) secret() string { return header(c.req.Headers, api.UploadSecretHeader) }

// none is the request type of a route that takes no request.
type none = struct{}

// method is a route's method adapted to the dispatcher by [handles].
type method struct {
	// in is the request type the method takes.
	in    reflect.Type
	serve func(context.Context, *Handler, *boundRoute, events.APIGatewayProxyRequest) response
}

// handles adapts a route's method: for each request it reads the
// {uploadId} path parameter when the route has one, the caller, the request
// (the JSON body of a POST, the query string otherwise; none for a route
// without one), and, when the request names an object (its FileKey field),
// checks that the object is one this API issued to the caller. The method
// runs only when all of that passed.
func handles[In any](m func(context.Context, *call[In]) response) method {
	return method{
		in: reflect.TypeFor[In](),
		serve: func(ctx context.Context, h *Handler, r *boundRoute, req events.APIGatewayProxyRequest) response {
			c := &call[In]{req: req}
			if e := h.read(r, req, &c.in, &c.caller, &c.tier, &c.uploadID); e != nil {
				return errorResponse(e)
			}
			return m(ctx, c)
		},
	}
}

// boundRoute is a route of the contract with the method that serves it and
// what its adapter reads, worked out once in [New].
type boundRoute struct {
	api.Route
	method method
	// required are the request type's required fields, by json name and
	// field index.
	required []requiredField
	// fileKey is the index of the request's FileKey field; -1 when the
	// request names no object.
	fileKey int
	// uploadID is whether the resource has an {uploadId} parameter.
	uploadID bool
}

type requiredField struct {
	name  string
	index int
}

// bindRoute checks that m takes r's request type and works out what its
// adapter reads.
func bindRoute(r api.Route, m method, s api.UploadSettings) *boundRoute {
	want := reflect.TypeFor[none]()
	if req := r.Request(); req != nil {
		want = reflect.TypeOf(req)
	}
	if m.in != want {
		panic(fmt.Sprintf("uploadapi: %s takes %s, its method %s", r, want, m.in))
	}
	br := &boundRoute{Route: r, method: m, fileKey: -1, uploadID: slices.Contains(r.Params(), "uploadId")}
	if f, ok := want.FieldByName("FileKey"); ok && f.Type.Kind() == reflect.String {
		br.fileKey = f.Index[0]
	}
	for _, name := range r.Required(s) {
		br.required = append(br.required, requiredField{name, fieldIndex(want, name)})
	}
	return br
}

// read does what [handles] promises, in this order: uploadId, caller,
// request, ownership.
func (h *Handler) read(r *boundRoute, req events.APIGatewayProxyRequest, in any, caller, tier, uploadID *string) *apiError {
	var e *apiError
	if r.uploadID {
		if *uploadID, e = h.uploadID(req); e != nil {
			return e
		}
	}
	if *caller, *tier, e = h.callerOf(req); e != nil {
		return e
	}
	if r.Request() != nil {
		if e := r.decode(req, in); e != nil {
			return e
		}
	}
	if r.fileKey >= 0 {
		key := reflect.ValueOf(in).Elem().Field(r.fileKey).String()
		return h.checkKey(key, *caller)
	}
	return nil
}
