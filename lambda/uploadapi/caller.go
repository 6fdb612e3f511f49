package uploadapi

import (
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// errNoCaller answers a request that reached the function without a caller
// the authorizer verified; with sign-in on, API Gateway never sends one.
var errNoCaller = &apiError{http.StatusForbidden, api.CodeForbidden, "no verified caller: sign in and send the access token"}

// callerOf returns the ID of the caller the authorizer verified, or "" when
// sign-in is off. It reads only what API Gateway put in the request context
// after the authorizer ran (a Cognito user pool authorizer's claims, or the
// context of the OIDC token authorizer), never a header or the body.
func (h *Handler) callerOf(req events.APIGatewayProxyRequest) (string, *apiError) {
	if !h.cfg.SignIn {
		return "", nil
	}
	auth := req.RequestContext.Authorizer
	if claims, ok := auth["claims"].(map[string]any); ok {
		auth = claims
	}
	iss, _ := auth[api.ContextIssuer].(string)
	sub, _ := auth[api.ContextSubject].(string)
	if iss == "" || sub == "" {
		return "", errNoCaller
	}
	return api.CallerID(iss, sub), nil
}

// prefixFor is where the caller's keys live: the key prefix, then, with
// sign-in, the caller's own segment.
func (h *Handler) prefixFor(caller string) string {
	if caller == "" {
		return h.cfg.KeyPrefix
	}
	return h.cfg.KeyPrefix + caller + "/"
}

// checkKey accepts only keys this API could have issued to this caller:
// another caller's key is a 403, anything else a 400.
func (h *Handler) checkKey(key, caller string) *apiError {
	if key == "" {
		return badRequest("fileKey is required")
	}
	if IsIssuedKey(h.prefixFor(caller), key) {
		return nil
	}
	if caller != "" && len(key) > len(h.cfg.KeyPrefix)+api.CallerIDLength {
		other := key[len(h.cfg.KeyPrefix) : len(h.cfg.KeyPrefix)+api.CallerIDLength]
		if api.IsCallerID(other) && IsIssuedKey(h.cfg.KeyPrefix+other+"/", key) {
			return &apiError{http.StatusForbidden, api.CodeForbidden, "fileKey belongs to another caller"}
		}
	}
	return badRequest("fileKey %q is not a key this API issued", key)
}

// owned reads a request about one of the caller's objects: the caller, the
// request into in, and then checks that the fileKey key reports is the
// caller's.
func (h *Handler) owned(req events.APIGatewayProxyRequest, r *boundRoute, in any, key func() string) (string, *apiError) {
	caller, e := h.callerOf(req)
	if e != nil {
		return "", e
	}
	if e := r.decode(req, in); e != nil {
		return "", e
	}
	return caller, h.checkKey(key(), caller)
}
