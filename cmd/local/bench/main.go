// Command bench measures the upload function and client against their
// limits and against the tutorial's Node.js handler, all in one run on this
// machine, and prints a Markdown table:
//
//	go run ./cmd/local/bench            # full run (1 GiB upload, 41 cold starts)
//	go run ./cmd/local/bench -quick     # smaller, for a quick look
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Where the bench's own files live, relative to the repository root: hello
// and the Node.js baseline sit next to this file, and hello builds in the
// local mode's module.
var (
	localModuleDir = filepath.Join("cmd", "local")
	benchDir       = filepath.Join(localModuleDir, "bench")
)

// row is one line of the results table.
type row struct {
	what, figure, reference, ratio, target, verdict string
}

func main() {
	quick := flag.Bool("quick", false, "smaller run: 256 MiB upload, 10 cold starts")
	only := flag.String("only", "", "run only the step of that name, such as \"upload throughput\"")
	flag.Parse()
	if err := run(context.Background(), *quick, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, quick bool, only string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "presigned-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	runs, fileSize := 41, int64(1<<30)
	if quick {
		runs, fileSize = 10, 256<<20
	}
	var rows []row
	steps := []struct {
		name string
		fn   func() ([]row, error)
	}{
		{"bundle", func() ([]row, error) { return benchBundle(root, work) }},
		{"cold start", func() ([]row, error) { return benchColdStart(ctx, root, work, runs) }},
		{"warm handler", func() ([]row, error) { return benchWarm(root) }},
		{"OIDC authorizer", func() ([]row, error) { return benchAuthorizer(ctx, root, work, runs) }},
		{"verifier cold start", func() ([]row, error) { return benchVerifierColdStart(ctx, root, work, runs) }},
		{"upload throughput", func() ([]row, error) { return benchUpload(ctx, work, fileSize) }},
		{"synth", func() ([]row, error) { return benchSynth(root) }},
	}
	for _, s := range steps {
		if only != "" && s.name != only {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s...\n", s.name)
		r, err := s.fn()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rows = append(rows, r...)
	}
	fmt.Printf("Machine: %s/%s, %d CPUs, %s, %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Println("| measure | ours | reference | ratio | target | met |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.what, r.figure, r.reference, r.ratio, r.target, r.verdict)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cdk.json")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("run from the repository (no cdk.json above %s)", dir)
		}
	}
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
