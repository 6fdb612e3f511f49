package uploadapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// apiError is a failure the client caused or must be told about.
type apiError struct {
	status  int
	code    string
	message string
	// quota says which limit a QuotaExceeded refusal is about.
	quota *api.QuotaRefusal
	// retryAfter, in seconds, is sent as Retry-After when set.
	retryAfter int64
}

func (e *apiError) Error() string { return e.message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: api.CodeBadRequest, message: fmt.Sprintf(format, args...)}
}

func errMethod(method, resource string) *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: api.CodeMethodNotAllowed, message: fmt.Sprintf("method %s is not allowed on %s", method, resource)}
}

func errInternal() *apiError {
	return &apiError{status: http.StatusInternalServerError, code: api.CodeInternal, message: "internal error"}
}

func errorResponse(e *apiError) events.APIGatewayProxyResponse {
	resp := jsonResponse(e.status, api.ErrorResponse{Message: e.message, Code: e.code, Quota: e.quota})
	retry := e.retryAfter
	if e.quota != nil {
		retry = e.quota.RetryAfter
	}
	if retry > 0 {
		resp.Headers["Retry-After"] = strconv.FormatInt(retry, 10)
	}
	return resp
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
