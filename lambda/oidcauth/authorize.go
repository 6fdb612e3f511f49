package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// ErrUnauthorized is what Authorize returns for a token it refuses. API
// Gateway answers 401 for exactly this message, so it cannot follow Go's
// lowercase convention.
var ErrUnauthorized = errors.New("Unauthorized")

// Authorize is the TOKEN authorizer: req.AuthorizationToken is the
// request's Authorization header, "Bearer <jwt>" ("bearer" in any case) or
// the bare JWT. A token that verifies gets an Allow for execute-api:Invoke
// on every method of the stage, with the caller's ID as principal and
// "iss", "sub" and "callerId" as context. The whole stage, not only
// req.MethodArn, because API Gateway caches the policy for the authorizer's
// TTL, keyed on the header alone, and applies it to whatever method the
// same token calls next.
//
// A refused token returns ErrUnauthorized (401) and logs why, never the
// token. When the issuer's keys cannot be fetched, or req.MethodArn is not
// an execute-api method ARN, it returns another error, which API Gateway
// answers with 500 and does not cache: the token may well be good.
func (v *Authorizer) Authorize(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	token, ok := bearerToken(req.AuthorizationToken)
	if !ok {
		v.log.InfoContext(ctx, "refused a request", "reason", "no bearer token in the Authorization header")
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	caller, err := v.Check(ctx, token)
	if errors.Is(err, ErrKeysUnavailable) {
		v.log.ErrorContext(ctx, "cannot verify tokens", "error", err)
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	if err != nil {
		v.log.InfoContext(ctx, "refused a token", "reason", err)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	resource, err := stageResource(req.MethodArn)
	if err != nil {
		v.log.ErrorContext(ctx, "cannot write the policy", "error", err)
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	id := caller.ID()
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: id,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   "Allow",
				Resource: []string{resource},
			}},
		},
		Context: v.context(caller),
	}, nil
}

// bearerToken takes the token out of an Authorization header value:
// "Bearer <token>" with the scheme in any case (RFC 7235) and one or more
// spaces, or the bare token, which a client of a Cognito authorizer sends.
// The token must have the shape of a compact JWS: three base64url parts
// joined by dots. Anything else, another scheme included, is refused.
func bearerToken(header string) (string, bool) {
	h := strings.Trim(header, " \t")
	if scheme, rest, ok := strings.Cut(h, " "); ok {
		if !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		h = strings.TrimLeft(rest, " ")
	}
	if len(h) > MaxTokenLength || strings.Count(h, ".") != 2 {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", false
		}
	}
	return h, true
}

// stageResource turns a method ARN,
// arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<method>/<path>,
// into the ARN of every method of its stage: …:<apiId>/<stage>/*/*.
func stageResource(methodArn string) (string, error) {
	parts := strings.SplitN(methodArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "execute-api" {
		return "", fmt.Errorf("method ARN %q is not an execute-api ARN", methodArn)
	}
	apiID, rest, _ := strings.Cut(parts[5], "/")
	stage, _, _ := strings.Cut(rest, "/")
	if parts[1] == "" || parts[3] == "" || parts[4] == "" || apiID == "" || stage == "" {
		return "", fmt.Errorf("method ARN %q lacks a partition, region, account, API or stage", methodArn)
	}
	return strings.Join(parts[:5], ":") + ":" + apiID + "/" + stage + "/*/*", nil
}

// context is what the upload function learns of the caller: its issuer,
// subject and ID, and its quota tier under the tier claim's name.
func (v *Authorizer) context(c Caller) map[string]any {
	ctx := map[string]any{
		api.ContextIssuer:   c.Issuer,
		api.ContextSubject:  c.Subject,
		api.ContextCallerID: c.ID(),
	}
	if v.set.QuotaTierClaim != "" && c.Tier != "" {
		ctx[v.set.QuotaTierClaim] = c.Tier
	}
	return ctx
}
