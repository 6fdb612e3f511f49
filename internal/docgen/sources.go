package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"strings"
)

// sources reads the Go packages the docs describe, each parsed once.
type sources struct {
	root string
	pkgs map[string]*pkgSource
}

func newSources(root string) *sources { return &sources{root: root, pkgs: map[string]*pkgSource{}} }

// pkgSource is one package's declarations, from its non-test files.
type pkgSource struct {
	dir    string
	fset   *token.FileSet
	files  []*ast.File
	types  map[string]*ast.TypeSpec
	tdoc   map[string]string // type name → its doc comment
	consts []decl
	vars   []decl
}

// decl is a package-level constant or variable.
type decl struct {
	name string
	doc  string
	spec *ast.ValueSpec
}

// pkg parses the package in dir, relative to the root.
func (s *sources) pkg(dir string) (*pkgSource, error) {
	if p, ok := s.pkgs[dir]; ok {
		return p, nil
	}
	names, err := filepath.Glob(filepath.Join(s.root, dir, "*.go"))
	if err != nil {
		return nil, err
	}
	p := &pkgSource{dir: dir, fset: token.NewFileSet(), types: map[string]*ast.TypeSpec{}, tdoc: map[string]string{}}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(p.fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		p.files = append(p.files, f)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range g.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					p.types[spec.Name.Name] = spec
					p.tdoc[spec.Name.Name] = docOf(spec.Doc, g)
				case *ast.ValueSpec:
					for _, n := range spec.Names {
						v := decl{name: n.Name, doc: docOf(spec.Doc, g), spec: spec}
						if spec.Comment != nil && v.doc == "" {
							v.doc = spec.Comment.Text()
						}
						if g.Tok == token.CONST {
							p.consts = append(p.consts, v)
						} else {
							p.vars = append(p.vars, v)
						}
					}
				}
			}
		}
	}
	if len(p.files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	s.pkgs[dir] = p
	return p, nil
}

// docOf is a spec's own doc comment, or its declaration's when the
// declaration holds this spec alone.
func docOf(own *ast.CommentGroup, g *ast.GenDecl) string {
	if own != nil {
		return own.Text()
	}
	if len(g.Specs) == 1 && g.Doc != nil {
		return g.Doc.Text()
	}
	return ""
}

// field is one field of a struct type, as its source declares it.
type field struct {
	name     string
	typ      string // as written, such as *string or awscdk.Size
	expr     ast.Expr
	doc      string
	embedded bool
	line     int // where it is declared
	tag      string
}

// structFields returns the fields of the struct type name, in order.
func (p *pkgSource) structFields(name string) ([]field, error) {
	ts, ok := p.types[name]
	if !ok {
		return nil, fmt.Errorf("no type %s in %s", name, p.dir)
	}
	if id, ok := ts.Type.(*ast.Ident); ok && p.types[id.Name] != nil {
		return p.structFields(id.Name) // an alias or a type defined as another
	}
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return nil, fmt.Errorf("%s.%s is not a struct", p.dir, name)
	}
	var out []field
	for _, f := range st.Fields.List {
		doc := ""
		if f.Doc != nil {
			doc = f.Doc.Text()
		} else if f.Comment != nil {
			doc = f.Comment.Text()
		}
		tag := ""
		if f.Tag != nil {
			tag = strings.Trim(f.Tag.Value, "`")
		}
		base := field{typ: types.ExprString(f.Type), expr: f.Type, doc: doc, line: p.fset.Position(f.Pos()).Line, tag: tag}
		if len(f.Names) == 0 {
			base.name, base.embedded = strings.TrimPrefix(base.typ, "api."), true
			out = append(out, base)
			continue
		}
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			fl := base
			fl.name = n.Name
			out = append(out, fl)
		}
	}
	return out, nil
}

// fieldDoc is a field's doc comment: what it is, and its default.
type fieldDoc struct {
	what, dflt string
}

var defaultSentence = regexp.MustCompile(`(?s)\bDefault: (.*?\.)(\s|$)`)

// splitDoc separates a doc comment's "Default: …" paragraph (the CDK's
// convention, "Default: - " for a described default) or sentence from the
// rest.
func splitDoc(doc string) fieldDoc {
	var what []string
	var d fieldDoc
	for _, para := range strings.Split(strings.TrimSpace(doc), "\n\n") {
		if rest, ok := strings.CutPrefix(para, "Default:"); ok {
			d.dflt = strings.TrimPrefix(strings.TrimSpace(rest), "- ")
			continue
		}
		what = append(what, para)
	}
	d.what = strings.Join(what, " ")
	if d.dflt == "" {
		if m := defaultSentence.FindStringSubmatchIndex(d.what); m != nil {
			d.dflt = d.what[m[2]:m[3]]
			d.what = strings.TrimSpace(d.what[:m[0]] + d.what[m[4]:])
		}
	}
	d.dflt = strings.TrimSuffix(d.dflt, ".")
	return d
}

// firstSentence is the first sentence of doc.
func firstSentence(doc string) string {
	doc = cellBreak.ReplaceAllString(strings.TrimSpace(doc), " ")
	for i := 0; i+1 < len(doc); i++ {
		if doc[i] == '.' && doc[i+1] == ' ' {
			return doc[:i+1]
		}
	}
	return doc
}
