package uploadapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// A route's method must take the route's own request type: a mismatch is
// caught when the handler is built, not on the first request.
func TestBindRouteRefusesAnotherRequestType(t *testing.T) {
	h := &Handler{}
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, api.SignParts.String()) || !strings.Contains(msg, "api.UploadRef") {
			t.Errorf("panic = %q, want it to name the route and the method's type", msg)
		}
	}()
	bindRoute(api.SignParts, handles(h.listParts), api.UploadSettings{}.WithDefaults())
}

// A route that takes no request reads the caller and nothing else.
func TestRouteWithoutARequest(t *testing.T) {
	s := api.UploadSettings{Bucket: "b", SignIn: true}.WithDefaults()
	h := &Handler{set: s}
	r := api.Route{Method: http.MethodGet, Resource: "/ping"}
	var got string
	br := bindRoute(r, handles(func(_ context.Context, c *call[none]) response {
		got = c.caller
		return response{StatusCode: http.StatusNoContent}
	}), s)
	req := events.APIGatewayProxyRequest{HTTPMethod: http.MethodGet, Resource: "/ping", Body: "ignored",
		QueryStringParameters: map[string]string{"x": "1"}}
	if resp := br.method.serve(context.Background(), h, br, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without a caller: status %d, want 403", resp.StatusCode)
	}
	req.RequestContext.Authorizer = map[string]any{api.ContextIssuer: "https://issuer.example", api.ContextSubject: "alice"}
	if resp := br.method.serve(context.Background(), h, br, req); resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d, want 204", resp.StatusCode)
	}
	if want := api.CallerID("https://issuer.example", "alice"); got != want {
		t.Errorf("caller = %q, want %q", got, want)
	}
}
