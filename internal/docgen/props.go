package main

import (
	"fmt"
	"strings"
)

// constructDir holds the construct's package.
const constructDir = "constructs/presignedupload"

// renderProps is the reference of a props type of the construct: each
// prop's name, type, default (its doc comment's "Default:" paragraph) and
// what it does.
func renderProps(s *sources, args []string) (string, error) {
	fields, err := constructFields(s, args)
	if err != nil {
		return "", err
	}
	var rows [][]string
	for _, f := range fields {
		d := splitDoc(f.doc)
		if d.dflt == "" {
			return "", fmt.Errorf("%s.%s has no \"Default:\" paragraph in its doc comment", args[0], f.name)
		}
		rows = append(rows, []string{code(f.name), code(f.typ), cell(d.dflt), cell(d.what)})
	}
	return table([]string{"prop", "type", "default", "what it does"}, rows), nil
}

// renderFields lists what the construct exposes: the exported fields of
// PresignedUploadApi, with their doc comments.
func renderFields(s *sources, args []string) (string, error) {
	fields, err := constructFields(s, args)
	if err != nil {
		return "", err
	}
	var rows [][]string
	for _, f := range fields {
		if f.embedded {
			continue
		}
		if strings.TrimSpace(f.doc) == "" {
			return "", fmt.Errorf("%s.%s has no doc comment", args[0], f.name)
		}
		rows = append(rows, []string{code(f.name), code(f.typ), cell(f.doc)})
	}
	return table([]string{"field", "type", "what"}, rows), nil
}

// constructFields are the fields of the construct's struct type that args
// names, its one argument.
func constructFields(s *sources, args []string) ([]field, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want one type, got %q", args)
	}
	p, err := s.pkg(constructDir)
	if err != nil {
		return nil, err
	}
	return p.structFields(args[0])
}
