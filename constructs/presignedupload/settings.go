package presignedupload

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// The handler's settings travel as api.Config. The props that carry them
// are the fields named like api.Config's, so a setting added there needs
// its prop and no mapping: both directions below follow the names, with
// the CDK's unit types for sizes (awscdk.Size) and durations
// (awscdk.Duration).

// PropsFromConfig returns props that carry the handler settings of c: each
// api.Config field sets the prop of the same name, zero values leaving the
// construct's default. c.Bucket is not carried (pass Bucket to use an
// existing bucket).
func PropsFromConfig(c api.Config) *PresignedUploadApiProps {
	p := &PresignedUploadApiProps{}
	cv, pv := reflect.ValueOf(c), reflect.ValueOf(p).Elem()
	for _, f := range settingFields() {
		v := cv.FieldByIndex(f.Index)
		if v.IsZero() {
			continue
		}
		var out any
		switch x := v.Interface().(type) {
		case string:
			out = jsii.String(x)
		case bool:
			out = jsii.Bool(x)
		case []string:
			out = jsii.Strings(x...)
		case api.Bytes:
			out = awscdk.Size_Bytes(jsii.Number(float64(x)))
		case api.Seconds:
			out = awscdk.Duration_Seconds(jsii.Number(float64(x)))
		}
		pv.FieldByName(f.Name).Set(reflect.ValueOf(out))
	}
	return p
}

// configOf returns the handler settings that p carries, and the settings
// whose value is an unresolved token (known only at deploy time).
func configOf(p *PresignedUploadApiProps) (api.Config, map[string]bool) {
	var c api.Config
	tokens := map[string]bool{}
	cv, pv := reflect.ValueOf(&c).Elem(), reflect.ValueOf(p).Elem()
	for _, f := range settingFields() {
		prop := pv.FieldByName(f.Name)
		if prop.IsNil() {
			continue
		}
		name := lowerFirst(f.Name)
		token := false
		var v any
		switch x := prop.Interface().(type) {
		case *string:
			v, token = *x, unresolved(x)
		case *bool:
			v = *x
		case *[]*string:
			ss := make([]string, 0, len(*x))
			for _, s := range *x {
				must(s != nil, "%s has a nil entry", name)
				ss = append(ss, *s)
				token = token || unresolved(s)
			}
			v = ss
		case awscdk.Size:
			n := x.ToBytes(&awscdk.SizeConversionOptions{Rounding: awscdk.SizeRoundingBehavior_NONE})
			must(!*awscdk.Token_IsUnresolved(n), "%s must be a literal size, not a token: the handler checks requests against it", name)
			must(*n == float64(int64(*n)), "%s must be a whole number of bytes, got %v", name, *n)
			v = api.Bytes(*n)
		case awscdk.Duration:
			must(!*awscdk.Token_IsUnresolved(x), "%s must be a literal duration, not a token: the handler signs URLs with it", name)
			s := *x.ToSeconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
			must(s == float64(int64(s)), "%s must be a whole number of seconds, got %v", name, s)
			v = api.Seconds(s)
		default:
			panic(fmt.Sprintf("presignedupload: prop %s has no api.Config conversion", f.Name))
		}
		if token {
			tokens[name] = true
		}
		cv.FieldByIndex(f.Index).Set(reflect.ValueOf(v).Convert(f.Type))
	}
	return c, tokens
}

// settingFields are the api.Config fields that props carry: all but those
// the construct derives, Bucket (the bucket it uses) and SignIn (set when
// a sign-in prop is).
func settingFields() []reflect.StructField {
	t := reflect.TypeFor[api.Config]()
	out := make([]reflect.StructField, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Name != "Bucket" && f.Name != "SignIn" && f.Name != "Verified" {
			out = append(out, f)
		}
	}
	return out
}

// checkConfig panics with the first setting that cannot work, skipping
// settings whose value is a token.
func checkConfig(c api.Config, unresolved map[string]bool) {
	err := c.Validate()
	for _, e := range flatten(err) {
		var se *api.SettingError
		if errors.As(e, &se) && unresolved[se.Setting] {
			continue
		}
		must(false, "%v", e)
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }
