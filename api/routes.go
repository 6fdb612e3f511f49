// Package api is the contract of everything that crosses a boundary: the
// upload API's routes, request and response types, error shape and limits;
// the shape of the keys it issues; the events around a stored upload (what
// the verifier reads, what it publishes); and the settings of each of the
// three functions (upload, verifier, OIDC token authorizer). It depends on
// nothing but the standard library, so any Go client or event consumer can
// import it without the AWS SDK; the functions, the construct, local mode
// and the upload client all share it.
package api

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// Route is one method on one API resource. Its request type says what the
// route takes: the JSON body of a POST, the query string of a GET or DELETE.
type Route struct {
	// Method is the HTTP method.
	Method string
	// Resource is the path template as API Gateway names it, such as
	// "/multipart/{uploadId}/parts".
	Resource string
	// Name names the route's request model (letters and digits only); ""
	// when the route takes no request.
	Name string
	// SignedIn marks a route that exists only when callers sign in
	// (UploadSettings.SignIn): it serves the caller's own files.
	SignedIn bool
	// Verified marks a route that exists only when the verifier checks
	// every stored object (UploadSettings.Verified).
	Verified bool
	// Quota marks a route that exists only when a quota limits callers
	// (Config.Quotas).
	Quota bool
	// Throttled marks a route a caller could call in a loop to run up
	// cost (each call issues a URL, starts an upload or lists): the
	// construct throttles its method on its own, below the stage's limit.
	Throttled bool
	// request is the request type; nil when the route takes none. A type
	// rather than a value keeps Route comparable.
	request reflect.Type
}

// The API's routes, in the order the construct creates them. Each is one
// entry here; [Routes] collects them as they are declared.
var (
	// UploadURL returns a pre-signed PUT for one file.
	UploadURL = route(http.MethodPost, "/get-upload-url", "UploadUrlRequest", UploadURLRequest{}, throttled)
	// UploadURLQuery is UploadURL with the request in the query string.
	UploadURLQuery = route(http.MethodGet, "/get-upload-url", "UploadUrlQuery", UploadURLRequest{}, throttled)
	// UploadForm returns a pre-signed POST form with an S3-enforced size range.
	UploadForm = route(http.MethodPost, "/get-upload-form", "UploadFormRequest", UploadFormRequest{}, throttled)
	// StartMultipart starts a multipart upload and returns its plan.
	StartMultipart = route(http.MethodPost, "/multipart", "MultipartStartRequest", MultipartStartRequest{}, throttled)
	// AbortMultipart aborts a multipart upload and frees its parts.
	AbortMultipart = route(http.MethodDelete, "/multipart/{uploadId}", "AbortMultipartQuery", UploadRef{})
	// SignParts returns pre-signed URLs for parts of a multipart upload.
	SignParts = route(http.MethodPost, "/multipart/{uploadId}/parts", "SignPartsRequest", SignPartsRequest{})
	// ListParts lists the parts S3 holds for a multipart upload.
	ListParts = route(http.MethodGet, "/multipart/{uploadId}/parts", "ListPartsQuery", UploadRef{})
	// CompleteMultipart assembles the uploaded parts into the object.
	CompleteMultipart = route(http.MethodPost, "/multipart/{uploadId}/complete", "CompleteRequest", CompleteRequest{})
	// ListFiles lists the caller's stored files, a page at a time.
	ListFiles = route(http.MethodGet, "/files", "ListFilesQuery", ListFilesRequest{}, withSignIn, throttled)
	// DownloadURL returns a short-lived pre-signed GET of one of the
	// caller's files that downloads it under its name.
	DownloadURL = route(http.MethodPost, "/download-url", "DownloadUrlRequest", DownloadURLRequest{}, withSignIn)
	// DeleteFile deletes one of the caller's files.
	DeleteFile = route(http.MethodDelete, "/files", "DeleteFileQuery", DeleteFileRequest{}, withSignIn)
	// UploadStatus answers whether a stored object passed the verifier's
	// checks: pending, verified or rejected with the reason.
	UploadStatus = route(http.MethodGet, "/uploads/status", "UploadStatusQuery", UploadRef{}, withVerifier, throttled)
	// Quota answers the caller's quota limits and usage.
	Quota = route(http.MethodGet, "/quota", "", nil, withQuota, throttled)
	// ReconcileQuota recounts the caller's stored bytes from a listing of
	// its files, fixing any drift of its ledger.
	ReconcileQuota = route(http.MethodPost, "/quota/reconcile", "", nil, withQuota, withSignIn, throttled)
)

// Routes lists every method the API serves. The construct creates a method
// and a request model for each; local mode routes exactly these.
var Routes []Route

// routeOption marks a route as existing only under some settings.
type routeOption func(*Route)

// withSignIn marks a route that exists only when callers sign in.
func withSignIn(r *Route) { r.SignedIn = true }

// withVerifier marks a route that exists only with the verifier.
func withVerifier(r *Route) { r.Verified = true }

// withQuota marks a route that exists only with quotas.
func withQuota(r *Route) { r.Quota = true }

// throttled marks a route its method throttles on its own.
func throttled(r *Route) { r.Throttled = true }

// route declares a route: its method, resource, request model name and
// request type (nil when it takes none, with an empty name).
func route(method, resource, name string, request any, opts ...routeOption) Route {
	r := Route{Method: method, Resource: resource, Name: name}
	if request != nil {
		r.request = reflect.TypeOf(request)
	}
	for _, o := range opts {
		o(&r)
	}
	Routes = append(Routes, r)
	return r
}

// RoutesFor returns the routes the API serves under the settings c: the
// signed-in ones only with sign-in, the verified ones only with the
// verifier, the quota ones only with quotas.
func RoutesFor(c UploadSettings) []Route {
	out := make([]Route, 0, len(Routes))
	for _, r := range Routes {
		if (!r.SignedIn || c.SignIn) && (!r.Verified || c.Verified) && (!r.Quota || c.Quotas()) {
			out = append(out, r)
		}
	}
	return out
}

// Request returns a zero value of the route's request type, or nil.
func (r Route) Request() any {
	if r.request == nil {
		return nil
	}
	return reflect.Zero(r.request).Interface()
}

// InBody reports whether the route's request is a JSON body (POST) rather
// than a query string.
func (r Route) InBody() bool { return r.Method == http.MethodPost }

// String returns "METHOD /resource".
func (r Route) String() string { return r.Method + " " + r.Resource }

// Params returns the names of the path parameters, in order.
func (r Route) Params() []string {
	var names []string
	for _, seg := range strings.Split(r.Resource, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			names = append(names, strings.TrimSuffix(name, "}"))
		}
	}
	return names
}

// Path fills the route's path parameters with values, in order, each
// escaped as one path segment.
func (r Route) Path(values ...string) string {
	if n := len(r.Params()); n != len(values) {
		panic(fmt.Sprintf("api: %s takes %d path parameters, got %d", r, n, len(values)))
	}
	segs := strings.Split(r.Resource, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") {
			segs[i] = url.PathEscape(values[0])
			values = values[1:]
		}
	}
	return strings.Join(segs, "/")
}

// Query encodes a query-string request (such as an [UploadRef]) by its
// json field names, leaving out nil pointers and empty strings.
func Query(req any) url.Values {
	q := url.Values{}
	v := reflect.ValueOf(req)
	for i, f := range fields(v.Type()) {
		fv := v.Field(i)
		if f.name == "" {
			continue
		}
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		switch fv.Kind() {
		case reflect.String:
			if s := fv.String(); s != "" {
				q.Set(f.name, s)
			}
		case reflect.Int, reflect.Int64:
			q.Set(f.name, strconv.FormatInt(fv.Int(), 10))
		default:
			panic(fmt.Sprintf("api: query field %s has unsupported kind %s", f.name, fv.Kind()))
		}
	}
	return q
}

// DecodeQuery fills the query-string request *dst from query values; it
// reports a value that is not of the field's type, and leaves a field
// missing from q at its zero value.
func DecodeQuery(q map[string]string, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	for i, f := range fields(v.Type()) {
		s, ok := q[f.name]
		if !ok || f.name == "" {
			continue
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Pointer {
			fv.Set(reflect.New(fv.Type().Elem()))
			fv = fv.Elem()
		}
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(s)
		case reflect.Int, reflect.Int64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("%s %q must be an integer", f.name, s)
			}
			fv.SetInt(n)
		default:
			panic(fmt.Sprintf("api: query field %s has unsupported kind %s", f.name, fv.Kind()))
		}
	}
	return nil
}

// field is what the contract reads from a struct field's tags.
type field struct {
	name     string // json name; "" when the field is not encoded
	required bool   // jsonschema "required"
}

// fields describes t's fields by index.
func fields(t reflect.Type) []field {
	out := make([]field, t.NumField())
	for i := range out {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		out[i].name = name
		for _, opt := range strings.Split(sf.Tag.Get("jsonschema"), ",") {
			out[i].required = out[i].required || opt == "required"
		}
	}
	return out
}

// requirer is a request type some of whose fields the settings make required.
type requirer interface{ requiredBy(UploadSettings) []string }

// Required returns the json names of the fields a request must carry under
// the settings c: those tagged `jsonschema:"required"`, and those the
// settings add (such as size when RequireSize is on).
func (r Route) Required(c UploadSettings) []string {
	if r.request == nil {
		return nil
	}
	var names []string
	for _, f := range fields(r.request) {
		if f.required {
			names = append(names, f.name)
		}
	}
	if x, ok := r.Request().(requirer); ok {
		names = append(names, x.requiredBy(c)...)
	}
	return names
}
