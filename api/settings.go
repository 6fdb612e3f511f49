package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Every Go function of the API (the upload function, the verifier and the
// OIDC token authorizer) is configured the same way: its settings are one
// struct type in this package, written once by the construct and crossing
// to the function as one JSON environment variable, which the function
// decodes with [LoadSettings]. Field names match the construct's props, which
// map onto them by name, and cdk.json's environments spell the same fields
// with the same JSON names.
//
// A field tagged `settings:"derived"` is not a prop or a cdk.json setting:
// the construct derives it from what it builds (the bucket it uses, whether
// callers sign in, whether the verifier runs, the bus it publishes on).

// Bytes is a size in bytes. The construct's props carry it as an
// awscdk.Size.
type Bytes int64

// Seconds is a duration in whole seconds. The construct's props carry it as
// an awscdk.Duration.
type Seconds int64

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// Settings is what every function's settings type provides: the defaults
// for what is unset, a check of what cannot work, and the environment
// variable that carries it. [UploadSettings], [VerifierSettings] and
// [AuthorizerSettings] implement it.
type Settings[T any] interface {
	// WithDefaults returns a copy with every unset field given its default.
	WithDefaults() T
	// Validate reports every setting that cannot work, each as a
	// *SettingError (joined with errors.Join).
	Validate() error
	// Variable names the environment variable that carries the settings.
	Variable() string
}

// EncodeSettings returns s as the JSON the function decodes.
func EncodeSettings(s any) string {
	b, err := json.Marshal(s)
	if err != nil { // only strings, numbers, booleans and lists of strings
		panic(err)
	}
	return string(b)
}

// DecodeSettings reads the JSON that [EncodeSettings] wrote, refusing
// unknown fields, applies the defaults for what is unset, and validates the
// result. Errors name the environment variable.
func DecodeSettings[T Settings[T]](js string) (T, error) {
	var s T
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", s.Variable(), err)
	}
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", s.Variable(), err)
	}
	return s, nil
}

// LoadSettings decodes the settings of type T from the environment variable
// that carries them, read with getenv (os.Getenv in a function's main).
func LoadSettings[T Settings[T]](getenv func(string) string) (T, error) {
	var zero T
	return DecodeSettings[T](getenv(zero.Variable()))
}

// SettingError is a setting that cannot work. Setting is its name as the
// construct's props spell it, in lower camel case ("maxFileSize").
type SettingError struct {
	Setting string
	Problem string
}

func (e *SettingError) Error() string { return e.Setting + " " + e.Problem }

// SettingErrors returns the *SettingError values that a Validate error
// joins, in order, however deeply joined; any other error in it is returned
// as a SettingError without a setting.
func SettingErrors(err error) []*SettingError {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*SettingError
		for _, e := range j.Unwrap() {
			out = append(out, SettingErrors(e)...)
		}
		return out
	}
	var se *SettingError
	if !errors.As(err, &se) {
		se = &SettingError{Problem: err.Error()}
	}
	return []*SettingError{se}
}

// settingErrors collects a Validate's findings.
type settingErrors []error

func (errs *settingErrors) add(setting, format string, args ...any) {
	*errs = append(*errs, &SettingError{setting, fmt.Sprintf(format, args...)})
}

func (errs settingErrors) join() error { return errors.Join(errs...) }

// SettingField is one field of a settings type as the construct and
// cdk.json see it.
type SettingField struct {
	reflect.StructField
	// Setting is its name in lower camel case, as errors and props
	// documentation spell it ("maxFileSize").
	Setting string
	// Derived marks a field the construct derives (`settings:"derived"`):
	// no prop and no cdk.json setting sets it.
	Derived bool
}

// SettingFields lists the fields of the settings type t, including those
// of an embedded settings type (a VerifierSettings' UploadSettings), in
// declaration order; the embedded struct itself is not listed.
func SettingFields(t reflect.Type) []SettingField {
	var out []SettingField
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous || !f.IsExported() {
			continue
		}
		out = append(out, SettingField{
			StructField: f,
			Setting:     strings.ToLower(f.Name[:1]) + f.Name[1:],
			Derived:     f.Tag.Get("settings") == "derived",
		})
	}
	return out
}
