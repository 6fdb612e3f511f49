package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// benchSynth times `cdk synth` of the whole app with a warm Go build cache
// (the first run warms it and is not counted).
func benchSynth(root string) ([]row, error) {
	cli := filepath.Join(root, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("no pinned CDK CLI: run npm ci at the repository root")
	}
	out, err := os.MkdirTemp("", "bench-synth-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	var d time.Duration
	for range 2 {
		cmd := exec.Command(cli, "synth", "--quiet", "--output", out)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CDK_DISABLE_VERSION_CHECK=1")
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("cdk synth: %v\n%s", err, b)
		}
		d = time.Since(start)
	}
	return []row{{"`cdk synth` of both stacks, warm Go build cache", fmt.Sprintf("%.1f s", d.Seconds()), "", "", "reported", "—"}}, nil
}
