package uploadapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// apiError is a failure the client caused or must be told about.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, api.CodeBadRequest, fmt.Sprintf(format, args...)}
}

func errMethod(method, resource string) *apiError {
	return &apiError{http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s", method, resource)}
}

func errInternal() *apiError {
	return &apiError{http.StatusInternalServerError, api.CodeInternal, "internal error"}
}

func errorResponse(e *apiError) events.APIGatewayProxyResponse {
	return jsonResponse(e.status, api.ErrorResponse{Message: e.message, Code: e.code})
}

func jsonResponse(status int, v any) events.APIGatewayProxyResponse {
	var body strings.Builder
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)              // keep '&' in URLs readable
	if err := enc.Encode(v); err != nil { // only plain structs are encoded here
		panic(err)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       strings.TrimSuffix(body.String(), "\n"),
	}
}

// requestAttrs appends who asked to a log line's attributes: API Gateway's
// request ID (the access log's requestId) and the source IP, so an issued
// key can be traced to the request and the caller behind it.
func requestAttrs(req events.APIGatewayProxyRequest, attrs ...any) []any {
	return append(attrs, "apiRequestId", req.RequestContext.RequestID, "sourceIp", req.RequestContext.Identity.SourceIP)
}
