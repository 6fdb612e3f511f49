package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/presigned-upload/presigned-upload/constructs/golambda"
)

// bundle builds the function in dir for arm64, as the construct does, into
// work/name, and returns the bootstrap's size raw and zipped, and the build.
func bundle(root, dir, work, name string) (raw, zipped int, b *golambda.Build, err error) {
	b, err = lambdaBuild(root, dir, "arm64")
	if err != nil {
		return 0, 0, b, err
	}
	out := filepath.Join(work, name)
	if err := b.Run(out); err != nil {
		return 0, 0, b, err
	}
	data, err := os.ReadFile(filepath.Join(out, "bootstrap"))
	if err != nil {
		return 0, 0, b, err
	}
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	w, _ := zw.Create("bootstrap")
	_, _ = w.Write(data)
	if err := zw.Close(); err != nil {
		return 0, 0, b, err
	}
	return len(data), z.Len(), b, nil
}

func benchBundle(root, work string) ([]row, error) {
	raw, zipped, b, err := bundle(root, filepath.Join(root, uploadFunction), work, "arm64")
	if err != nil {
		return nil, err
	}
	list := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./"+filepath.ToSlash(uploadFunction))
	list.Dir = root
	list.Env = b.Environ()
	deps, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps: %w", err)
	}
	rpc := slices.Contains(strings.Fields(string(deps)), "net/rpc")
	mib := func(n int) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
	return []row{
		{"arm64 bootstrap", mib(raw), "budget 10 MiB", fmt.Sprintf("%.2f", float64(raw)/(10<<20)), "≤ 10 MiB", verdict(raw <= 10<<20)},
		{"arm64 bootstrap, zipped", mib(zipped), "budget 4 MiB", fmt.Sprintf("%.2f", float64(zipped)/(4<<20)), "≤ 4 MiB", verdict(zipped <= 4<<20)},
		{"net/rpc in the function's dependencies", fmt.Sprint(rpc), "", "", "absent", verdict(!rpc)},
	}, nil
}
