package uploadapi

import (
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// errNoCaller answers a request that reached the function without a caller
// the authorizer verified; with sign-in on, API Gateway never sends one.
var errNoCaller = &apiError{status: http.StatusForbidden, code: api.CodeForbidden, message: "no verified caller: sign in and send the access token"}

// callerOf returns the ID of the caller the authorizer verified, or "" when
// sign-in is off. It reads only what API Gateway put in the request context
// after the authorizer ran (a Cognito user pool authorizer's claims, or the
// context of the OIDC token authorizer), never a header or the body.
func (h *Handler) callerOf(req events.APIGatewayProxyRequest) (caller, tier string, _ *apiError) {
	if !h.set.SignIn {
		return "", "", nil
	}
	auth := req.RequestContext.Authorizer
	if claims, ok := auth["claims"].(map[string]any); ok {
		auth = claims
	}
	iss, _ := auth[api.ContextIssuer].(string)
	sub, _ := auth[api.ContextSubject].(string)
	if iss == "" || sub == "" {
		return "", "", errNoCaller
	}
	if h.set.QuotaTierClaim != "" {
		tier, _ = auth[h.set.QuotaTierClaim].(string)
	}
	return api.CallerID(iss, sub), tier, nil
}

// prefixFor is where the caller's keys live.
func (h *Handler) prefixFor(caller string) string { return api.OwnerPrefix(h.set.KeyPrefix, caller) }

// checkKey accepts only keys this API could have issued to this caller:
// another caller's key is a 403, anything else a 400.
func (h *Handler) checkKey(key, caller string) *apiError {
	if key == "" {
		return badRequest("fileKey is required")
	}
	k, ok := api.ParseKey(h.set.KeyPrefix, key, h.set.SignIn)
	switch {
	case !ok:
		return badRequest("fileKey %q is not a key this API issued", key)
	case k.Owner != caller:
		return &apiError{status: http.StatusForbidden, code: api.CodeForbidden, message: "fileKey belongs to another caller"}
	}
	return nil
}
