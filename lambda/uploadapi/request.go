package uploadapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
)

// decodeBody strictly decodes the JSON body of req into dst: unknown fields,
// wrong types, trailing data and bodies over MaxRequestBody are refused.
func decodeBody(req events.APIGatewayProxyRequest, dst any) *apiError {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return badRequest("body is not valid base64")
		}
	}
	if len(body) > MaxRequestBody {
		return &apiError{http.StatusRequestEntityTooLarge, CodePayloadTooLarge, "request body is larger than 1 MiB"}
	}
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
