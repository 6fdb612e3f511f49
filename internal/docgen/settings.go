package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/internal/environments"
)

// settingsTypes are the functions' settings, each with the props type that
// carries it and where cdk.json spells it.
var settingsTypes = []struct {
	typ       reflect.Type
	props     string
	cdkPrefix string
}{
	{reflect.TypeFor[api.UploadSettings](), "PresignedUploadApiProps", ""},
	{reflect.TypeFor[api.VerifierSettings](), "PresignedUploadApiProps", ""},
	{reflect.TypeFor[api.AuthorizerSettings](), "OidcSignInProps", "oidc."},
}

// renderSettings lists every setting of the three functions: its name in
// the function's JSON and cdk.json, its type, the prop that sets it (none
// for a derived one), its default and what it does.
func renderSettings(s *sources, _ []string) (string, error) {
	ap, err := s.pkg(apiDir)
	if err != nil {
		return "", err
	}
	cp, err := s.pkg(constructDir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, st := range settingsTypes {
		docs, err := fieldDocs(ap, st.typ.Name())
		if err != nil {
			return "", err
		}
		props, err := fieldDocs(cp, st.props)
		if err != nil {
			return "", err
		}
		v := reflect.Zero(st.typ).Interface().(interface{ Variable() string }).Variable()
		fmt.Fprintf(&b, "%s, in %s", code("api."+st.typ.Name()), code(v))
		if st.cdkPrefix != "" {
			fmt.Fprintf(&b, ", under %s in cdk.json and set by %s", code(strings.TrimSuffix(st.cdkPrefix, ".")), code(st.props))
		}
		var rows [][]string
		for _, f := range api.SettingFields(st.typ) {
			doc, own := docs[f.Name]
			if !own {
				continue // an embedded settings type's, listed with it
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			d := splitDoc(doc)
			prop := code(f.Name)
			if f.Derived {
				prop = "derived"
			} else if _, ok := props[f.Name]; !ok {
				return "", fmt.Errorf("%s.%s has no prop %s.%s", st.typ, f.Name, st.props, f.Name)
			}
			dflt := d.dflt
			if dflt == "" && !f.Derived {
				dflt = splitDoc(props[f.Name]).dflt
			}
			if dflt == "" {
				dflt = "—"
			}
			rows = append(rows, []string{code(name), settingType(f.Type, name), prop, cell(dflt), spelled(d.what, f.Name, name)})
		}
		if st.typ == reflect.TypeFor[api.VerifierSettings]() {
			b.WriteString(": every upload setting, and")
		}
		b.WriteString(":\n\n" + table([]string{"setting", "type", "prop", "default", "what it does"}, rows) + "\n")
	}
	return b.String(), nil
}

// fieldDocs are the doc comments of a struct type's own fields, by name.
func fieldDocs(p *pkgSource, typeName string) (map[string]string, error) {
	fields, err := p.structFields(typeName)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range fields {
		if !f.embedded {
			out[f.name] = f.doc
		}
	}
	return out, nil
}

// settingType names the JSON type of a setting or a cdk.json key.
func settingType(t reflect.Type, name string) string {
	switch t {
	case reflect.TypeFor[api.Bytes]():
		return "bytes"
	case reflect.TypeFor[api.Seconds]():
		return "seconds"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return settingType(t.Elem(), name)
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		for _, unit := range []string{"Days", "Seconds"} {
			if strings.HasSuffix(name, unit) {
				return strings.ToLower(unit)
			}
		}
		return "number"
	case reflect.Slice:
		return "list of " + settingType(t.Elem(), "") + "s"
	case reflect.Struct:
		return "object"
	}
	return t.String()
}

// renderEnvironments lists every key of a cdk.json environment, with each
// environment's value, the construct prop it sets and what it does.
func renderEnvironments(s *sources, _ []string) (string, error) {
	raw, err := cdkEnvironments(s.root)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	slices.Sort(names)
	ep, err := s.pkg("internal/environments")
	if err != nil {
		return "", err
	}
	cp, err := s.pkg(constructDir)
	if err != nil {
		return "", err
	}
	header := []string{"key", "type"}
	for _, n := range names {
		header = append(header, n)
	}
	header = append(header, "prop", "what it does")
	var rows [][]string
	// add lists the keys of a struct type declared in pkg (with
	// its source for the docs), whose props are propsType's.
	var add func(t reflect.Type, pkg *pkgSource, prefix, propsType, propPrefix string) error
	add = func(t reflect.Type, pkg *pkgSource, prefix, propsType, propPrefix string) error {
		fields, err := pkg.structFields(t.Name())
		if err != nil {
			return err
		}
		props, err := fieldDocs(cp, propsType)
		if err != nil {
			return err
		}
		var lastDoc string
		var lastLine int
		for _, f := range fields {
			sf, _ := t.FieldByName(f.name)
			if f.embedded {
				if sf.Type == reflect.TypeFor[api.VerifierSettings]() {
					if err := addSettings(&rows, sf.Type, prefix, props, raw, names); err != nil {
						return err
					}
					continue
				}
				ap, err := s.pkg(apiDir)
				if err != nil {
					return err
				}
				if err := add(sf.Type, ap, prefix, propsType, propPrefix); err != nil {
					return err
				}
				continue
			}
			key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			prop := propFor(f.name, props)
			doc := f.doc
			switch {
			case doc != "":
			case prop != "":
				doc = firstSentence(props[prop])
			case f.line == lastLine+1 && lastDoc != "":
				doc = lastDoc // one comment above adjacent fields describes them all
			default:
				return fmt.Errorf("%s.%s has no doc comment and no prop", t.Name(), f.name)
			}
			lastDoc, lastLine = doc, f.line
			typ := settingType(sf.Type, f.name)
			row := []string{code(prefix + key), typ}
			row = append(row, values(raw, names, prefix+key, typ)...)
			propCell := "—"
			if prop != "" {
				propCell = code(propPrefix + prop)
			}
			rows = append(rows, append(row, propCell, cell(firstSentence(doc))))
			if sub := sf.Type; sub.Kind() == reflect.Pointer && sub.Elem().Kind() == reflect.Struct {
				nested, ok := propFieldType(cp, propsType, prop)
				if !ok {
					return fmt.Errorf("%s.%s: no props type for its fields", t.Name(), f.name)
				}
				if err := add(sub.Elem(), ep, prefix+key+".", nested, propPrefix+prop+"."); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := add(reflect.TypeFor[environments.Environment](), ep, "", "PresignedUploadApiProps", ""); err != nil {
		return "", err
	}
	return table(header, rows), nil
}

// addSettings adds the rows of the functions' settings that a cdk.json
// environment embeds: each one not derived, under its JSON name.
func addSettings(rows *[][]string, t reflect.Type, prefix string, props map[string]string, raw map[string]map[string]json.RawMessage, names []string) error {
	for _, f := range api.SettingFields(t) {
		if f.Derived {
			continue
		}
		doc, ok := props[f.Name]
		if !ok {
			return fmt.Errorf("setting %s has no prop", f.Name)
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		typ := settingType(f.Type, key)
		row := []string{code(prefix + key), typ}
		row = append(row, values(raw, names, prefix+key, typ)...)
		*rows = append(*rows, append(row, code(f.Name), cell(firstSentence(doc))))
	}
	return nil
}

// propFor finds the prop an environment key sets: the same name, or the
// name without a unit or an Id/Arn suffix (logRetentionDays sets
// LogRetention, alarmTopicArn AlarmTopic), or with SignIn (cognito sets
// CognitoSignIn).
func propFor(name string, props map[string]string) string {
	candidates := []string{name, name + "SignIn"}
	for _, suffix := range []string{"Days", "Seconds", "Arn", "Id"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			candidates = append(candidates, base)
		}
	}
	for _, c := range candidates {
		if _, ok := props[c]; ok {
			return c
		}
	}
	return ""
}

// propFieldType is the struct type a pointer prop points to, such as
// CognitoSignInProps for CognitoSignIn.
func propFieldType(cp *pkgSource, propsType, prop string) (string, bool) {
	fields, err := cp.structFields(propsType)
	if err != nil {
		return "", false
	}
	for _, f := range fields {
		if f.name == prop {
			t := strings.TrimPrefix(f.typ, "*")
			return t, cp.types[t] != nil
		}
	}
	return "", false
}

// cdkEnvironments reads cdk.json's environments as raw JSON, by name and key.
func cdkEnvironments(root string) (map[string]map[string]json.RawMessage, error) {
	b, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Context struct {
			Environments map[string]map[string]json.RawMessage `json:"environments"`
		} `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return f.Context.Environments, nil
}

// values are the value of key (dotted for a nested one) in each
// environment, as compact JSON, a size also in binary units; empty where
// unset.
func values(raw map[string]map[string]json.RawMessage, names []string, key, typ string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		parts := strings.Split(key, ".")
		v, ok := raw[n][parts[0]]
		for _, p := range parts[1:] {
			var m map[string]json.RawMessage
			if !ok || json.Unmarshal(v, &m) != nil {
				ok = false
				break
			}
			v, ok = m[p]
		}
		if ok {
			var c bytes.Buffer
			if json.Compact(&c, v) == nil {
				out[i] = code(c.String())
				if n, err := strconv.ParseInt(c.String(), 10, 64); err == nil && typ == "bytes" {
					out[i] += " (" + binary(n) + ")"
				}
			}
		}
	}
	return out
}

// constString is the value of a string constant.
func constString(c decl) string {
	if len(c.spec.Values) != 1 {
		return ""
	}
	lit, ok := c.spec.Values[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	v, _ := strconv.Unquote(lit.Value)
	return v
}

// renderReasons lists why the verifier rejects an upload: the Reason
// constants of package api, as the Upload Rejected event carries them.
func renderReasons(s *sources, _ []string) (string, error) {
	p, err := s.pkg(apiDir)
	if err != nil {
		return "", err
	}
	var rows [][]string
	for _, c := range p.consts {
		if !strings.HasPrefix(c.name, "Reason") || c.name == "ReasonTag" {
			continue
		}
		value := constString(c)
		doc := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c.doc), c.name+":"))
		if value == "" || doc == "" {
			return "", fmt.Errorf("api.%s needs a string value and a doc comment", c.name)
		}
		rows = append(rows, []string{code(value), cell(doc)})
	}
	return table([]string{"reason", "when"}, rows), nil
}

// binary spells a size in the largest binary unit that divides it.
func binary(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
