package golambda

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Build compiles one Go main package into a Lambda `bootstrap`. It
// implements awscdk.ILocalBundling; pass it by pointer.
type Build struct {
	// ModuleDir is where `go build` runs: the directory holding go.mod.
	ModuleDir string
	// Package is the main package, relative to ModuleDir ("./lambda").
	Package string
	// GoArch is the target GOARCH: "arm64" or "amd64".
	GoArch string
	// Env is added to the process environment.
	Env []string
}

// NewBuild returns the build of the main package in entry, which must be
// moduleDir or below it.
func NewBuild(moduleDir, entry, goarch string) (*Build, error) {
	rel, err := filepath.Rel(moduleDir, entry)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("entry %s is not inside module %s", entry, moduleDir)
	}
	if _, err := os.Stat(filepath.Join(moduleDir, "go.mod")); err != nil {
		return nil, fmt.Errorf("module dir %s has no go.mod", moduleDir)
	}
	return &Build{ModuleDir: moduleDir, Package: "./" + filepath.ToSlash(rel), GoArch: goarch}, nil
}

// Args returns the `go` command line that builds bootstrap into outputDir.
func (b *Build) Args(outputDir string) []string {
	return []string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w",
		"-o", filepath.Join(outputDir, "bootstrap"), b.Package}
}

// Environ returns the build's environment: the process's, then b.Env, then
// the cross-compilation settings, which always win.
func (b *Build) Environ() []string {
	env := append(os.Environ(), b.Env...)
	return append(env, "GOOS=linux", "GOARCH="+b.GoArch, "CGO_ENABLED=0")
}

// Run builds bootstrap into outputDir and returns the compiler's output on failure.
func (b *Build) Run(outputDir string) error {
	cmd := exec.Command("go", b.Args(outputDir)...)
	cmd.Dir = b.ModuleDir
	cmd.Env = b.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s (GOARCH=%s): %w\n%s", b.Package, b.ModuleDir, b.GoArch, err, out)
	}
	return nil
}

// TryBundle implements awscdk.ILocalBundling. A failed build panics, which
// fails the synth with the compiler's message, rather than falling back to
// Docker.
func (b *Build) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if err := b.Run(*outputDir); err != nil {
		panic(err.Error())
	}
	return jsii.Bool(true)
}
