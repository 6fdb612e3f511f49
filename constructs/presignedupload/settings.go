package presignedupload

import (
	"cmp"
	"fmt"
	"reflect"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// Each function's settings are an api type (api.UploadSettings,
// api.VerifierSettings, api.AuthorizerSettings). The props that carry them
// are the fields named like the settings', so a setting added there needs
// its prop and no mapping: both directions below follow the names, with the
// CDK's unit types for sizes (awscdk.Size) and durations (awscdk.Duration).
// Derived settings (`settings:"derived"`) have no prop: the construct fills
// them from what it builds.

// propTypes is the prop type that carries each kind of setting. A map of
// settings structs, such as quota tiers, is carried by a map of pointers
// to a props struct whose fields carry the struct's by name.
var propTypes = map[reflect.Type]reflect.Type{
	reflect.TypeFor[string]():                     reflect.TypeFor[*string](),
	reflect.TypeFor[bool]():                       reflect.TypeFor[*bool](),
	reflect.TypeFor[[]string]():                   reflect.TypeFor[*[]*string](),
	reflect.TypeFor[api.Bytes]():                  reflect.TypeFor[awscdk.Size](),
	reflect.TypeFor[api.Seconds]():                reflect.TypeFor[awscdk.Duration](),
	reflect.TypeFor[api.Count]():                  reflect.TypeFor[*float64](),
	reflect.TypeFor[map[string]api.QuotaLimits](): reflect.TypeFor[*map[string]*QuotaTierProps](),
}

// propOf returns the field of the props struct type pt that carries the
// settings field f of the settings type st. It panics, naming the prop to
// add, when there is none of a type that carries f.
func propOf(pt, st reflect.Type, f api.SettingField) reflect.StructField {
	want, known := propTypes[f.Type]
	prop, ok := pt.FieldByName(f.Name)
	switch {
	case !known:
		panic(fmt.Sprintf("presignedupload: %s.%s is a %s, which no prop type carries: use string, bool, []string, api.Bytes or api.Seconds",
			st, f.Name, f.Type))
	case !ok:
		panic(fmt.Sprintf("presignedupload: %s.%s has no prop: add %s %s to %s, documented like its neighbours",
			st, f.Name, f.Name, want, pt.Name()))
	case prop.Type != want:
		panic(fmt.Sprintf("presignedupload: %s.%s is carried by %s.%s, which is a %s: make it a %s",
			st, f.Name, pt.Name(), f.Name, prop.Type, want))
	}
	return prop
}

// settingsFrom returns the settings of type T that props (a pointer to a
// props struct) carry: each field that is not derived reads the prop of the
// same name, a nil prop leaving it zero (its default). It also returns the
// settings whose prop is an unresolved token, known only at deploy time.
func settingsFrom[T any](props any) (T, map[string]bool) {
	var s T
	tokens := map[string]bool{}
	fillSettings(reflect.ValueOf(&s).Elem(), reflect.ValueOf(props).Elem(), "", "", tokens)
	return s, tokens
}

// fillSettings sets the settings struct sv from the props struct pv, field
// by field by name. path prefixes the settings' names in messages; a token
// is recorded in tokens under its setting's name, or under tokenAs when
// set (the map a tier belongs to).
func fillSettings(sv, pv reflect.Value, path, tokenAs string, tokens map[string]bool) {
	for _, f := range api.SettingFields(sv.Type()) {
		if f.Derived {
			continue
		}
		prop := pv.FieldByIndex(propOf(pv.Type(), sv.Type(), f).Index)
		if prop.IsNil() {
			continue
		}
		name, field := path+f.Setting, sv.FieldByIndex(f.Index)
		if f.Type.Kind() == reflect.Map {
			field.Set(fromPropMap(prop.Elem(), f.Type, name, tokens))
			continue
		}
		v, token := fromProp(prop.Interface(), name)
		if token {
			tokens[cmp.Or(tokenAs, f.Setting)] = true
		}
		field.Set(reflect.ValueOf(v).Convert(f.Type))
	}
}

// fromPropMap converts a map of props structs (pointers) to the settings
// map of type t, each entry field by field by name.
func fromPropMap(props reflect.Value, t reflect.Type, name string, tokens map[string]bool) reflect.Value {
	out := reflect.MakeMapWithSize(t, props.Len())
	for _, k := range props.MapKeys() {
		entry := props.MapIndex(k)
		must(!entry.IsNil(), "%s.%s is nil", name, k)
		v := reflect.New(t.Elem()).Elem()
		fillSettings(v, entry.Elem(), name+"."+k.String()+".", name, tokens)
		out.SetMapIndex(k, v)
	}
	return out
}

// fromProp converts one prop's value (not nil) to its setting's.
func fromProp(prop any, name string) (v any, token bool) {
	switch x := prop.(type) {
	case *string:
		return *x, unresolved(x)
	case *bool:
		return *x, false
	case *float64:
		must(!*awscdk.Token_IsUnresolved(x), "%s must be a literal number, not a token: the functions count against it", name)
		must(*x == float64(int64(*x)), "%s must be a whole number, got %v", name, *x)
		return api.Count(*x), false
	case *[]*string:
		ss := make([]string, 0, len(*x))
		for _, s := range *x {
			must(s != nil, "%s has a nil entry", name)
			ss = append(ss, *s)
			token = token || unresolved(s)
		}
		return ss, token
	case awscdk.Size:
		n := x.ToBytes(&awscdk.SizeConversionOptions{Rounding: awscdk.SizeRoundingBehavior_NONE})
		must(!*awscdk.Token_IsUnresolved(n), "%s must be a literal size, not a token: the functions check requests against it", name)
		must(*n == float64(int64(*n)), "%s must be a whole number of bytes, got %v", name, *n)
		return api.Bytes(*n), false
	case awscdk.Duration:
		must(!*awscdk.Token_IsUnresolved(x), "%s must be a literal duration, not a token: the functions are timed by it", name)
		s := *x.ToSeconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
		must(s == float64(int64(s)), "%s must be a whole number of seconds, got %v", name, s)
		return api.Seconds(s), false
	}
	panic(fmt.Sprintf("presignedupload: prop %s has no conversion", name)) // propOf allows no other type
}

// setProps sets on props (a pointer to a props struct) the prop of every
// field of settings that is not derived and not zero; a zero value leaves
// the construct's default.
func setProps(props, settings any) {
	sv, pv := reflect.ValueOf(settings), reflect.ValueOf(props).Elem()
	for _, f := range api.SettingFields(sv.Type()) {
		v := sv.FieldByIndex(f.Index)
		if f.Derived || v.IsZero() {
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
		case api.Count:
			out = jsii.Number(float64(x))
		case map[string]api.QuotaLimits:
			m := make(map[string]*QuotaTierProps, len(x))
			for k, l := range x {
				tier := &QuotaTierProps{}
				setProps(tier, l)
				m[k] = tier
			}
			out = &m
		}
		pv.FieldByIndex(propOf(pv.Type(), sv.Type(), f).Index).Set(reflect.ValueOf(out))
	}
}

// PropsFromSettings returns props that carry the settings of s: each
// setting sets the prop of the same name, zero values leaving the
// construct's default. Derived settings (the bucket, sign-in, the verifier,
// the bus) are not carried: the construct derives them from the other
// props.
func PropsFromSettings(s api.VerifierSettings) *PresignedUploadApiProps {
	p := &PresignedUploadApiProps{}
	setProps(p, s)
	return p
}

// OidcSignInPropsFromSettings returns OidcSignIn props that carry the
// token authorizer's settings s.
func OidcSignInPropsFromSettings(s api.AuthorizerSettings) *OidcSignInProps {
	p := &OidcSignInProps{}
	setProps(p, s)
	return p
}

// checkSettings panics with the first setting of err (a Validate's) that
// cannot work, skipping settings whose value is a token.
func checkSettings(err error, tokens map[string]bool) {
	for _, e := range api.SettingErrors(err) {
		if !tokens[e.Setting] {
			must(false, "%v", e)
		}
	}
}
