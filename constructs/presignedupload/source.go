package presignedupload

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// modulePath is this module's path, from which the Lambda's source is found.
const modulePath = "github.com/presigned-upload/presigned-upload"

// moduleDir is where this module's source is, from which the functions are
// built. When this module is a dependency, its source is in the (read-only)
// module cache, which `go list -m` reports from the caller's module; in
// this repository it is the main module. The compiled-in file path is the
// fallback when no go command can answer, for instance in a binary built
// elsewhere. Asked once per process: every function needs it.
var moduleDir = sync.OnceValue(func() string {
	dir := ""
	out, err := exec.Command("go", "list", "-m", "-json", modulePath).Output()
	if err == nil {
		var m struct{ Dir string }
		if json.Unmarshal(out, &m) == nil {
			dir = m.Dir
		}
	}
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		must(ok && filepath.IsAbs(file), "cannot find the source of %s: run synth inside a Go module that requires it (go list -m: %v)", modulePath, err)
		dir = filepath.Dir(filepath.Dir(filepath.Dir(file)))
	}
	return dir
})
