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
)

func benchBundle(root, work string) ([]row, error) {
	b, err := lambdaBuild(root, filepath.Join(root, "lambda"), "arm64")
	if err != nil {
		return nil, err
	}
	out := filepath.Join(work, "arm64")
	if err := b.Run(out); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(out, "bootstrap"))
	if err != nil {
		return nil, err
	}
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	w, _ := zw.Create("bootstrap")
	_, _ = w.Write(data)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	list := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./lambda")
	list.Dir = root
	list.Env = b.Environ()
	deps, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps: %w", err)
	}
	rpc := slices.Contains(strings.Fields(string(deps)), "net/rpc")
	mib := func(n int) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
	return []row{
		{"arm64 bootstrap", mib(len(data)), "budget 10 MiB", fmt.Sprintf("%.2f", float64(len(data))/(10<<20)), "≤ 10 MiB", verdict(len(data) <= 10<<20)},
		{"arm64 bootstrap, zipped", mib(z.Len()), "budget 4 MiB", fmt.Sprintf("%.2f", float64(z.Len())/(4<<20)), "≤ 4 MiB", verdict(z.Len() <= 4<<20)},
		{"net/rpc in the function's dependencies", fmt.Sprint(rpc), "", "", "absent", verdict(!rpc)},
	}, nil
}
