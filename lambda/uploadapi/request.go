package uploadapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
)

// decode reads the route's request into dst, a pointer to the route's
// request type: the JSON body of a POST, the query string otherwise. It
// refuses what the route's request model refuses in shape (unknown fields,
// wrong types, a missing required field), with the handler's own messages;
// value checks are the route's own.
func (r *boundRoute) decode(req events.APIGatewayProxyRequest, dst any) *apiError {
	var body []byte
	if r.InBody() {
		if ct := header(req.Headers, "Content-Type"); ct != "" && !strings.EqualFold(ct, "application/json") {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				return &apiError{status: http.StatusUnsupportedMediaType, code: api.CodeNotJSON, message: "request body must be JSON sent as Content-Type: application/json, not " + strconv.Quote(ct)}
			}
		}
		var e *apiError
		if body, e = requestBody(req); e != nil {
			return e
		}
		if e := decodeJSON(body, dst); e != nil {
			return e
		}
	} else if err := api.DecodeQuery(req.QueryStringParameters, dst); err != nil {
		return badRequest("%s", err.Error())
	}
	v := reflect.ValueOf(dst).Elem()
	for _, f := range r.required {
		if !v.Field(f.index).IsZero() {
			continue
		}
		// A zero value may have been sent as such; only an absent field
		// is missing. Rare, so the body is parsed again only here.
		if !present(req, body, r.InBody(), f.name) {
			return badRequest("%s is required", f.name)
		}
	}
	return nil
}

func present(req events.APIGatewayProxyRequest, body []byte, inBody bool, name string) bool {
	if !inBody {
		_, ok := req.QueryStringParameters[name]
		return ok
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields)
	raw, ok := fields[name]
	return ok && string(bytes.TrimSpace(raw)) != "null" // null is no value

}

// fieldIndex returns the index of t's field whose json name is name.
func fieldIndex(t reflect.Type, name string) int {
	for i := 0; i < t.NumField(); i++ {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n == name {
			return i
		}
	}
	panic("uploadapi: " + t.String() + " has no field " + name)
}

// requestBody returns the request's body, decoded from base64 when API
// Gateway encoded it, refusing one over MaxRequestBody.
func requestBody(req events.APIGatewayProxyRequest) ([]byte, *apiError) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, badRequest("body is not valid base64")
		}
	}
	if len(body) > api.MaxRequestBody {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: api.CodePayloadTooLarge, message: "request body is larger than 1 MiB"}
	}
	return body, nil
}

// decodeJSON strictly decodes body into dst: unknown fields, wrong types
// and trailing data are refused.
func decodeJSON(body []byte, dst any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest("%s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("request body has data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return "field " + strconv.Quote(typeErr.Field) + " must be " + jsonTypeName(typeErr.Type.Kind().String())
	case errors.As(err, &typeErr):
		return "request body must be a JSON object"
	case errors.As(err, &syntaxErr):
		return "request body is not valid JSON (at byte " + strconv.FormatInt(syntaxErr.Offset, 10) + ")"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "request body is truncated JSON"
	}
	// json reports unknown fields as `json: unknown field "x"`.
	const p = "json: "
	msg := err.Error()
	if len(msg) > len(p) && msg[:len(p)] == p {
		msg = msg[len(p):]
	}
	return "request body: " + msg
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int64", "int", "int32":
		return "an integer"
	case "string", "ptr":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}
