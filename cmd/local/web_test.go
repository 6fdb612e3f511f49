package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// The page keeps its routes in one map; each must be a route of the API.
func TestPageRoutesAreAPIRoutes(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(pkgDir, "..", "..", "web", "client", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "const ROUTES = ")
	block, _, ok2 := strings.Cut(rest, "};")
	if !ok || !ok2 {
		t.Fatal("web/client/index.js has no `const ROUTES = {…};` block")
	}
	var routes map[string]struct{ Method, Resource string }
	if err := json.Unmarshal([]byte(block+"}"), &routes); err != nil {
		t.Fatalf("ROUTES is not JSON: %v", err)
	}
	if len(routes) == 0 {
		t.Fatal("ROUTES is empty")
	}
	for name, r := range routes {
		found := false
		for _, want := range api.Routes {
			found = found || want.Method == r.Method && want.Resource == r.Resource
		}
		if !found {
			t.Errorf("ROUTES.%s = %s %s, which is not a route of the API", name, r.Method, r.Resource)
		}
	}
}
