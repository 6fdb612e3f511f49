package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/constructs/golambda"
)

// lambdaBuild is the construct's build of a main package, for goarch,
// outside any workspace.
func lambdaBuild(moduleDir, entry, goarch string) (*golambda.Build, error) {
	b, err := golambda.NewBuild(moduleDir, entry, goarch)
	if err != nil {
		return nil, err
	}
	b.Env = append(b.Env, "GOWORK=off")
	return b, nil
}

// buildBootstrap builds a main package exactly as the construct does, for
// this machine's architecture, and returns the binary's path.
func buildBootstrap(moduleDir, entry, out string) (string, error) {
	b, err := lambdaBuild(moduleDir, entry, runtime.GOARCH)
	if err != nil {
		return "", err
	}
	return filepath.Join(out, "bootstrap"), b.Run(out)
}

// apiEvent is a tutorial-shaped request as API Gateway delivers it.
func apiEvent() []byte {
	b, _ := json.Marshal(map[string]any{
		"resource": api.UploadURL.Resource, "path": api.UploadURL.Resource, "httpMethod": "POST",
		"headers": map[string]string{"Content-Type": "application/json"},
		"body":    `{"fileName":"report.pdf","contentType":"application/pdf"}`,
	})
	return b
}

// coldStart starts one process against a Runtime API of its own (so a
// stopped process's last poll can never take another's event) and returns
// the time from exec to its first answer.
func coldStart(ctx context.Context, event []byte, name string, args []string, env []string) (time.Duration, error) {
	api := newRuntimeAPI(event)
	defer api.srv.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "AWS_LAMBDA_RUNTIME_API="+api.addr())
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	select {
	case a := <-api.answered:
		if a.err {
			return 0, fmt.Errorf("%s answered with an error: %s", name, a.body)
		}
		return a.at.Sub(start), nil
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("%s did not answer within 30s", name)
	}
}

// The functions' bootstraps, as the construct builds them.
var (
	uploadFunction     = filepath.Join("lambda", "cmd", "upload")
	verifierFunction   = filepath.Join("lambda", "cmd", "verifier")
	authorizerFunction = filepath.Join("lambda", "cmd", "authorizer")
)

// lambdaEnv is the environment Lambda gives a function, with the given
// settings in their variables, as the construct sets them.
func lambdaEnv(settings ...interface{ Variable() string }) []string {
	env := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDBENCH", "AWS_SECRET_ACCESS_KEY=bench-secret",
		"AWS_SESSION_TOKEN=bench-token", "AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST"}
	for _, s := range settings {
		env = append(env, s.Variable()+"="+api.EncodeSettings(s))
	}
	return env
}

// benchUploadSettings are the upload function's settings in the benchmarks.
var benchUploadSettings = api.UploadSettings{Bucket: "bench-bucket"}

func benchColdStart(ctx context.Context, root, work string, runs int) ([]row, error) {
	ours, err := buildBootstrap(root, filepath.Join(root, uploadFunction), filepath.Join(work, "ours"))
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, benchDir)
	hello, err := buildBootstrap(filepath.Join(root, localModuleDir), filepath.Join(dir, "hello"), filepath.Join(work, "hello"))
	if err != nil {
		return nil, err
	}
	if err := ensureNodeModules(filepath.Join(dir, "node")); err != nil {
		return nil, err
	}
	event, env := apiEvent(), lambdaEnv(benchUploadSettings)
	// Interleave the three so that each sees the same machine state.
	cmds := []struct {
		name string
		args []string
	}{{ours, nil}, {hello, nil}, {"node", []string{filepath.Join(dir, "node", "bootstrap.mjs")}}}
	times := make([][]time.Duration, len(cmds))
	for i := -2; i < runs; i++ { // two warm-up rounds fill the page cache
		for j, c := range cmds {
			d, err := coldStart(ctx, event, c.name, c.args, env)
			if err != nil {
				return nil, err
			}
			if i >= 0 {
				times[j] = append(times[j], d)
			}
		}
	}
	p50 := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	oursP50, helloP50, nodeP50 := p50(times[0]), p50(times[1]), p50(times[2])
	vsHello := float64(oursP50) / float64(helloP50)
	vsNode := float64(nodeP50) / float64(oursP50)
	n := fmt.Sprintf("p50 of %d", runs)
	return []row{
		{"cold start, exec → first URL (" + n + ")", ms(oursP50), "hello world " + ms(helloP50), fmt.Sprintf("%.2f×", vsHello), "≤ 1.5× hello world", verdict(vsHello <= 1.5)},
		{"cold start vs the Node.js handler (" + n + ")", ms(oursP50), "Node.js " + ms(nodeP50), fmt.Sprintf("%.1f× faster", vsNode), "≥ 20× faster", verdict(vsNode >= 20)},
	}, nil
}

// ensureNodeModules installs the Node.js baseline from its lockfile once.
func ensureNodeModules(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return nil
}
