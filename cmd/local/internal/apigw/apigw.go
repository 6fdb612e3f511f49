// Package apigw stands in for the API Gateway stage in local mode: it turns
// HTTP requests into the proxy events the deployed stage sends the Lambda,
// answers CORS preflight as the stage's OPTIONS methods do, checks the API
// key, and gives its own errors the stage's gateway-response shape. It
// answers only requests addressed to loopback names or the configured hosts,
// so a web page cannot reach it through DNS rebinding.
package apigw

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// MaxPayload is API Gateway's request payload limit (10 MB).
const MaxPayload = 10 << 20

// AuthorizerFunc is a Lambda TOKEN authorizer.
type AuthorizerFunc func(context.Context, events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// InvokeFunc is the Lambda handler the stage integrates with.
type InvokeFunc func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Config configures a stage.
type Config struct {
	// Invoke handles every routed request.
	Invoke InvokeFunc
	// Settings are the handler's settings: the stage serves the routes
	// they call for (api.RoutesFor), with the request models derived as the
	// construct derives them.
	Settings api.UploadSettings
	// APIKey, when set, must arrive in X-Api-Key on every routed method.
	APIKey string
	// Authorizer, when set, is a TOKEN authorizer the stage runs on every
	// routed method but OPTIONS with the Authorization header, as the
	// deployed stage does; its context reaches the function as
	// requestContext.authorizer. With Claims, the context is put under
	// "claims", the shape a Cognito user pool authorizer gives.
	Authorizer AuthorizerFunc
	Claims     bool
	// Static serves GET requests for paths no route claims; nil serves none.
	Static http.Handler
	// Log receives one line per request.
	Log *slog.Logger
	// Hosts are the names and addresses, besides loopback ones, that
	// requests may be addressed to (in the Host header, with any port);
	// requests to any other name get 403.
	Hosts []string
}

// Stage is an http.Handler that behaves like the deployed API stage.
type Stage struct {
	cfg    Config
	routes []api.Route
	models *models
}

// New returns a stage for cfg.
func New(cfg Config) (*Stage, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.Settings = cfg.Settings.WithDefaults()
	routes := api.RoutesFor(cfg.Settings)
	m, err := newModels(routes, cfg.Settings)
	if err != nil {
		return nil, err
	}
	return &Stage{cfg: cfg, routes: routes, models: m}, nil
}

// ServeHTTP implements http.Handler.
func (s *Stage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.serve(rec, r)
	s.cfg.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start).Round(time.Microsecond))
}

func (s *Stage) serve(w http.ResponseWriter, r *http.Request) {
	if !s.hostAllowed(r.Host) {
		s.refuseHost(w, r)
		return
	}
	resource, params, methods := s.match(r.URL.EscapedPath())
	if resource == "" {
		if s.cfg.Static != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			s.cfg.Static.ServeHTTP(w, r)
			return
		}
		// API Gateway answers unknown paths and methods this way.
		s.gatewayError(w, r, http.StatusForbidden, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
		return
	}
	if r.Method == http.MethodOptions {
		s.preflight(w, r)
		return
	}
	if !slices.Contains(methods, r.Method) {
		s.gatewayError(w, r, http.StatusForbidden, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
		return
	}
	if s.cfg.APIKey != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Api-Key")), []byte(s.cfg.APIKey)) != 1 {
		s.gatewayError(w, r, http.StatusForbidden, "INVALID_API_KEY", "Forbidden")
		return
	}
	authorizer, ok := s.authorize(w, r, resource)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		s.gatewayError(w, r, http.StatusBadRequest, "BAD_REQUEST_BODY", "could not read the request body")
		return
	}
	if len(body) > MaxPayload {
		s.gatewayError(w, r, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "Request Too Long")
		return
	}
	if code, msg := s.models.check(r.Method, resource, r, body); code != "" {
		s.gatewayError(w, r, http.StatusBadRequest, code, msg)
		return
	}
	ev := event(r, resource, params, body)
	ev.RequestContext.Authorizer = authorizer
	resp, err := s.cfg.Invoke(r.Context(), ev)
	if err != nil {
		s.cfg.Log.Error("function error", "error", err)
		s.gatewayError(w, r, http.StatusBadGateway, "DEFAULT_5XX", "Internal server error")
		return
	}
	writeResponse(w, resp)
}

// match finds the resource whose template matches path.
func (s *Stage) match(path string) (resource string, params map[string]string, methods []string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range s.routes {
		p, ok := matchTemplate(rt.Resource, parts)
		if !ok {
			continue
		}
		if resource == "" {
			resource, params = rt.Resource, p
		}
		if rt.Resource == resource {
			methods = append(methods, rt.Method)
		}
	}
	return resource, params, methods
}

func matchTemplate(template string, parts []string) (map[string]string, bool) {
	tparts := strings.Split(strings.Trim(template, "/"), "/")
	if len(tparts) != len(parts) {
		return nil, false
	}
	params := map[string]string{}
	for i, tp := range tparts {
		if strings.HasPrefix(tp, "{") && strings.HasSuffix(tp, "}") {
			if parts[i] == "" {
				return nil, false
			}
			v, err := url.PathUnescape(parts[i])
			if err != nil {
				return nil, false
			}
			params[tp[1:len(tp)-1]] = v
			continue
		}
		if tp != parts[i] {
			return nil, false
		}
	}
	return params, true
}

// preflight answers OPTIONS as the construct's mock integration does: the
// origin is echoed when listed (the first listed origin otherwise), or "*".
func (s *Stage) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	origin := api.AllowOrigin(s.cfg.Settings.AllowedOrigins, r.Header.Get("Origin"))
	if origin == "" {
		origin = s.cfg.Settings.AllowedOrigins[0]
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if origin != "*" {
		h.Set("Vary", "Origin")
	}
	h.Set("Access-Control-Allow-Headers", strings.Join(api.CORSAllowHeaders, ","))
	h.Set("Access-Control-Allow-Methods", strings.Join(api.CORSAllowMethods, ","))
	h.Set("Access-Control-Max-Age", strconv.Itoa(api.CORSMaxAgeSeconds))
	w.WriteHeader(http.StatusNoContent)
}

// gatewayError answers as the stage's gateway responses do: the API's JSON
// error shape with CORS headers (one configured origin, or the caller's
// when several are configured) and nosniff.
func (s *Stage) gatewayError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	h := w.Header()
	origins := s.cfg.Settings.AllowedOrigins
	switch {
	case len(origins) == 1:
		h.Set("Access-Control-Allow-Origin", origins[0])
	case r.Header.Get("Origin") != "":
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("Vary", "Origin")
	}
	h.Set("Access-Control-Allow-Headers", strings.Join(api.CORSAllowHeaders, ","))
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.ErrorResponse{Message: message, Code: code})
}

// event builds the proxy event API Gateway would send for r.
func event(r *http.Request, resource string, params map[string]string, body []byte) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource:                        resource,
		Path:                            r.URL.Path,
		HTTPMethod:                      r.Method,
		Headers:                         map[string]string{},
		MultiValueHeaders:               map[string][]string{},
		QueryStringParameters:           map[string]string{},
		MultiValueQueryStringParameters: map[string][]string{},
		PathParameters:                  params,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:    requestID(),
			Stage:        "local",
			ResourcePath: resource,
			HTTPMethod:   r.Method,
			Path:         r.URL.Path,
			Identity:     events.APIGatewayRequestIdentity{SourceIP: sourceIP(r), APIKey: r.Header.Get("X-Api-Key")},
		},
	}
	for k, v := range r.Header {
		ev.Headers[k] = v[len(v)-1]
		ev.MultiValueHeaders[k] = v
	}
	if r.Host != "" {
		ev.Headers["Host"] = r.Host
	}
	for k, v := range r.URL.Query() {
		ev.QueryStringParameters[k] = v[len(v)-1]
		ev.MultiValueQueryStringParameters[k] = v
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayProxyResponse) {
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// authorize runs the stage's authorizer, answering 401 for a refused token
// and 500 when the authorizer fails, as API Gateway does. It returns the
// requestContext.authorizer the function gets.
func (s *Stage) authorize(w http.ResponseWriter, r *http.Request, resource string) (map[string]any, bool) {
	if s.cfg.Authorizer == nil {
		return nil, true
	}
	token := r.Header.Get("Authorization")
	if token == "" {
		s.gatewayError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
		return nil, false
	}
	arn := "arn:aws:execute-api:local:000000000000:local/local/" + r.Method + resource
	resp, err := s.cfg.Authorizer(r.Context(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: token, MethodArn: arn})
	switch {
	case err != nil && err.Error() == "Unauthorized":
		s.gatewayError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
		return nil, false
	case err != nil:
		s.cfg.Log.Error("authorizer failed", "error", err)
		s.gatewayError(w, r, http.StatusInternalServerError, "AUTHORIZER_FAILURE", "Internal server error")
		return nil, false
	case !allows(resp.PolicyDocument):
		s.gatewayError(w, r, http.StatusForbidden, "ACCESS_DENIED", "User is not authorized to access this resource")
		return nil, false
	}
	ctx := map[string]any{"principalId": resp.PrincipalID}
	for k, v := range resp.Context {
		ctx[k] = v
	}
	if s.cfg.Claims {
		return map[string]any{"claims": resp.Context}, true
	}
	return ctx, true
}

// allows reports whether a policy allows execute-api:Invoke somewhere; the
// stand-in serves one stage, so any allowed resource is this one.
func allows(p events.APIGatewayCustomAuthorizerPolicy) bool {
	for _, st := range p.Statement {
		if st.Effect == "Allow" && slices.Contains(st.Action, "execute-api:Invoke") {
			return true
		}
	}
	return false
}
