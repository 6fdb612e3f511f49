package main

import (
	"fmt"
	"go/ast"
	"go/token"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/presigned-upload/presigned-upload/api"
)

// apiDir holds the contract; handlerDir the upload function's handler.
const (
	apiDir     = "api"
	handlerDir = "lambda/uploadapi"
)

// renderRoutes is the reference of every route of api.Routes: its doc
// comment, when it exists, what it takes (fields, types, bounds, from the
// request type's tags and doc comments) and what it answers.
func renderRoutes(s *sources, _ []string) (string, error) {
	p, err := s.pkg(apiDir)
	if err != nil {
		return "", err
	}
	vars := routeVars(p)
	var b strings.Builder
	for _, r := range api.Routes {
		v, ok := vars[r.String()]
		if !ok {
			return "", fmt.Errorf("no route variable declares %s in %s", r, apiDir)
		}
		fmt.Fprintf(&b, "### %s\n\n%s", code(r.String()), cell(v.doc))
		b.WriteString(onlyWith(r))
		b.WriteString("\n\n")
		if ps := r.Params(); len(ps) > 0 {
			names := make([]string, len(ps))
			for i, n := range ps {
				names[i] = code(n)
			}
			fmt.Fprintf(&b, "Path: %s.\n", strings.Join(names, ", "))
		}
		req := r.Request()
		if req == nil {
			b.WriteString("Request: none.\n\n")
		} else {
			where := "query string"
			if r.InBody() {
				where = "JSON body"
			}
			name := reflect.TypeOf(req).Name()
			fmt.Fprintf(&b, "Request: %s, %s (model %s).\n\n", where, code("api."+name), code(r.Name))
			rows, err := requestRows(p, r, name)
			if err != nil {
				return "", err
			}
			b.WriteString(table([]string{"field", "type", "required", "bounds", "meaning"}, rows) + "\n")
		}
		resp, err := responseOf(p, r, v.name)
		if err != nil {
			return "", err
		}
		if resp == "" {
			b.WriteString("Response: 204, no body.\n\n")
			continue
		}
		fmt.Fprintf(&b, "Response: 200, %s.\n\n", code("api."+resp))
		rows, err := responseRows(p, resp, "")
		if err != nil {
			return "", err
		}
		b.WriteString(table([]string{"field", "type", "meaning"}, rows) + "\n")
	}
	return b.String(), nil
}

// routeVars are the route variables of package api (UploadURL = route(…)),
// by "METHOD /resource".
func routeVars(p *pkgSource) map[string]decl {
	out := map[string]decl{}
	for _, v := range p.vars {
		if len(v.spec.Values) != 1 {
			continue
		}
		call, ok := v.spec.Values[0].(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			continue
		}
		if fn, ok := call.Fun.(*ast.Ident); !ok || fn.Name != "route" {
			continue
		}
		method, ok1 := call.Args[0].(*ast.SelectorExpr)
		resource, ok2 := call.Args[1].(*ast.BasicLit)
		if !ok1 || !ok2 || resource.Kind != token.STRING {
			continue
		}
		res, _ := strconv.Unquote(resource.Value)
		out[strings.ToUpper(strings.TrimPrefix(method.Sel.Name, "Method"))+" "+res] = v
	}
	return out
}

// requestRows describes the fields of the route's request type.
func requestRows(p *pkgSource, r api.Route, typeName string) ([][]string, error) {
	conditional := requiredBySettings(r)
	var rows [][]string
	var walk func(typeName, prefix string) error
	walk = func(typeName, prefix string) error {
		fields, err := p.structFields(typeName)
		if err != nil {
			return err
		}
		for _, f := range fields {
			name, _, _ := strings.Cut(reflect.StructTag(f.tag).Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			opts := strings.Split(reflect.StructTag(f.tag).Get("jsonschema"), ",")
			required := "no"
			if slices.Contains(opts, "required") {
				required = "yes"
			} else if why, ok := conditional[name]; ok && prefix == "" {
				required = why
			}
			typ, elem := jsonType(p, f.expr)
			_, array := f.expr.(*ast.ArrayType)
			rows = append(rows, []string{code(prefix + name), typ, required, bounds(opts, array), fieldMeaning(p, typeName, f, name)})
			if elem != "" {
				if err := walk(elem, childPrefix(prefix, name, typ)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return rows, walk(typeName, "")
}

// requiredBySettings finds the request fields that some settings make
// required, and says which: each setting is tried alone, a switch on, a
// size or duration one unit under its default.
func requiredBySettings(r api.Route) map[string]string {
	base := r.Required(api.UploadSettings{}.WithDefaults())
	why := map[string][]string{}
	defaults := reflect.ValueOf(api.UploadSettings{}.WithDefaults())
	for _, f := range api.SettingFields(defaults.Type()) {
		if f.Derived {
			continue
		}
		s := api.UploadSettings{}.WithDefaults()
		v := reflect.ValueOf(&s).Elem().FieldByIndex(f.Index)
		var how string
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(true)
			how = "with " + code(f.Setting)
		case reflect.Int64:
			if v.Int() <= 1 {
				continue
			}
			v.SetInt(v.Int() - 1)
			how = "with " + code(f.Setting) + " under its default"
		default:
			continue
		}
		for _, name := range r.Required(s) {
			if !slices.Contains(base, name) {
				why[name] = append(why[name], how)
			}
		}
	}
	out := map[string]string{}
	for name, hows := range why {
		out[name] = strings.Join(hows, "; ")
	}
	return out
}

// jsonType names the JSON type of a field declared as expr, and the struct
// type of its elements when they are objects of the contract.
func jsonType(p *pkgSource, expr ast.Expr) (string, string) {
	switch t := expr.(type) {
	case *ast.StarExpr:
		return jsonType(p, t.X)
	case *ast.ArrayType:
		elem, _ := jsonType(p, t.Elt)
		if id, ok := t.Elt.(*ast.Ident); ok && p.types[id.Name] != nil {
			return "array of objects", id.Name
		}
		return "array of " + elem + "s", ""
	case *ast.MapType:
		v, _ := jsonType(p, t.Value)
		return "object of " + v + "s", ""
	case *ast.Ident:
		switch t.Name {
		case "string":
			return "string", ""
		case "bool":
			return "boolean", ""
		case "int", "int64":
			return "integer", ""
		}
		if ts := p.types[t.Name]; ts != nil {
			if _, isStruct := ts.Type.(*ast.StructType); !isStruct {
				return jsonType(p, ts.Type) // a named number, such as Bytes
			}
			return "object", t.Name
		}
	}
	return "?", ""
}

// childPrefix names the fields inside a field: name[].x for an array's
// objects, name.x for an object's.
func childPrefix(prefix, name, typ string) string {
	if strings.HasPrefix(typ, "array of") {
		return prefix + name + "[]."
	}
	return prefix + name + "."
}

// onlyWith says which capabilities a route needs, if any.
func onlyWith(r api.Route) string {
	var needs []string
	if r.SignedIn {
		needs = append(needs, "sign-in")
	}
	if r.Verified {
		needs = append(needs, "the verifier")
	}
	if r.Quota {
		needs = append(needs, "quotas")
	}
	if len(needs) == 0 {
		return ""
	}
	return " Only with " + strings.Join(needs, " and ") + "."
}

// bounds renders a field's jsonschema bounds.
func bounds(opts []string, array bool) string {
	v := map[string]string{}
	var enum []string
	for _, o := range opts {
		if k, val, ok := strings.Cut(o, "="); ok {
			v[k] = val
			if k == "enum" {
				enum = append(enum, code(val))
			}
		}
	}
	var out []string
	span := func(lo, hi, unit string) {
		switch {
		case lo != "" && hi != "":
			out = append(out, lo+" to "+hi+unit)
		case lo != "":
			out = append(out, "at least "+lo+unit)
		case hi != "":
			out = append(out, "at most "+hi+unit)
		}
	}
	span(v["minLength"], v["maxLength"], " characters")
	span(v["minItems"], v["maxItems"], " items")
	n := len(out)
	span(v["minimum"], v["maximum"], "")
	if array && len(out) > n {
		out[n] = "each " + out[n]
	}
	if len(enum) > 0 {
		out = append(out, "one of "+strings.Join(enum, ", "))
	}
	if f := v["format"]; f != "" {
		out = append(out, "matches "+code(api.Formats[f]))
	}
	return strings.Join(out, ", ")
}

// responseOf names the route's response type: the request type's name with
// Response for Request, or the route's name with Response; "" for a
// DELETE, which answers 204.
func responseOf(p *pkgSource, r api.Route, varName string) (string, error) {
	var candidates []string
	if req := r.Request(); req != nil {
		if base, ok := strings.CutSuffix(reflect.TypeOf(req).Name(), "Request"); ok {
			candidates = append(candidates, base+"Response")
		}
	}
	candidates = append(candidates, strings.TrimSuffix(varName, "Query")+"Response")
	for _, c := range candidates {
		if p.types[c] != nil {
			return c, nil
		}
	}
	if r.Method == http.MethodDelete {
		return "", nil
	}
	return "", fmt.Errorf("no response type for %s: name it %s", r, candidates[0])
}

// responseRows describes the fields of a response type.
func responseRows(p *pkgSource, typeName, prefix string) ([][]string, error) {
	fields, err := p.structFields(typeName)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, f := range fields {
		name, opt, _ := strings.Cut(reflect.StructTag(f.tag).Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		typ, elem := jsonType(p, f.expr)
		if opt == "omitempty" {
			typ += ", optional"
		}
		rows = append(rows, []string{code(prefix + name), typ, fieldMeaning(p, typeName, f, name)})
		if elem != "" {
			sub, err := responseRows(p, elem, childPrefix(prefix, name, typ))
			if err != nil {
				return nil, err
			}
			rows = append(rows, sub...)
		}
	}
	return rows, nil
}

// apiErrorPattern finds the status and code of each error the handler
// answers with: &apiError{status: http.StatusX, code: api.CodeY, …}.
var apiErrorPattern = regexp.MustCompile(`http\.(Status\w+),\s*(?:code:\s*)?api\.(Code\w+)`)

// renderErrors lists the error codes of api/errors.go, with the statuses
// the handler answers them with and their doc comments.
func renderErrors(s *sources, _ []string) (string, error) {
	p, err := s.pkg(apiDir)
	if err != nil {
		return "", err
	}
	h, err := s.pkg(handlerDir)
	if err != nil {
		return "", err
	}
	statusByName := map[string]int{}
	for c := 100; c < 600; c++ {
		if t := http.StatusText(c); t != "" {
			statusByName["Status"+strings.NewReplacer(" ", "", "-", "", "'", "").Replace(t)] = c
		}
	}
	statuses := map[string][]int{}
	for _, f := range h.files {
		text, err := os.ReadFile(h.fset.File(f.Pos()).Name())
		if err != nil {
			return "", err
		}
		for _, m := range apiErrorPattern.FindAllStringSubmatch(string(text), -1) {
			c, ok := statusByName[m[1]]
			if !ok {
				return "", fmt.Errorf("http.%s is not a status this generator knows", m[1])
			}
			if !slices.Contains(statuses[m[2]], c) {
				statuses[m[2]] = append(statuses[m[2]], c)
			}
		}
	}
	var rows [][]string
	for _, c := range p.consts {
		if !strings.HasPrefix(c.name, "Code") || len(c.spec.Values) != 1 {
			continue
		}
		value := constString(c)
		if value == "" {
			continue
		}
		st := statuses[c.name]
		if len(st) == 0 {
			return "", fmt.Errorf("the handler never answers api.%s (no &apiError{http.Status…, api.%s, …} in %s)", c.name, c.name, handlerDir)
		}
		slices.Sort(st)
		var ss []string
		for _, n := range st {
			ss = append(ss, strconv.Itoa(n))
		}
		doc := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c.doc), c.name+":"))
		if doc == "" {
			return "", fmt.Errorf("api.%s has no doc comment", c.name)
		}
		rows = append(rows, []string{code(value), strings.Join(ss, ", "), cell(doc)})
	}
	return table([]string{"code", "status", "when"}, rows), nil
}

// fieldMeaning is a request or response field's doc comment, spelled with
// its JSON name. A field without one takes the doc comment of a field of
// the same JSON name declared earlier in the same file: the contract
// documents a field such as fileKey once.
func fieldMeaning(p *pkgSource, typeName string, f field, jsonName string) string {
	doc := f.doc
	if strings.TrimSpace(doc) == "" {
		doc = p.sameNamed(typeName, jsonName)
	}
	return spelled(doc, f.name, jsonName)
}

// spelled is a doc comment about the Go name goName as a table cell, its
// leading name spelled as the JSON name that readers of the docs use.
func spelled(doc, goName, jsonName string) string {
	doc = strings.TrimSpace(doc)
	if rest, ok := strings.CutPrefix(doc, goName+" "); ok {
		return code(jsonName) + " " + cell(rest)
	}
	return cell(doc)
}

// sameNamed is the doc comment of the first documented field with the JSON
// name jsonName in the file that declares typeName.
func (p *pkgSource) sameNamed(typeName, jsonName string) string {
	ts := p.types[typeName]
	file := p.fset.File(ts.Pos()).Name()
	for _, f := range p.files {
		if p.fset.File(f.Pos()).Name() != file {
			continue
		}
		found := ""
		ast.Inspect(f, func(n ast.Node) bool {
			st, ok := n.(*ast.StructType)
			if !ok || found != "" {
				return found == ""
			}
			for _, fl := range st.Fields.List {
				if fl.Tag == nil || fl.Doc == nil {
					continue
				}
				tag, _ := strconv.Unquote(fl.Tag.Value)
				name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
				if name == jsonName && len(fl.Names) == 1 {
					found = fl.Doc.Text()
					return false
				}
			}
			return true
		})
		return found
	}
	return ""
}
