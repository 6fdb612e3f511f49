package presignedupload_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportFromAnotherModule uses the construct the way another CDK app
// does: a module outside this repository requires this one, creates the
// construct with nil props and synthesizes with bundling on, so the Lambda
// is built from this module's source wherever it lives.
func TestImportFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a throwaway CDK app")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	// Reuse this module's requirements so no new versions are resolved.
	requires := goMod[strings.Index(string(goMod), "require"):]
	files := map[string]string{
		"go.mod": "module example.com/consumer\n\ngo 1.26\n\nrequire github.com/presigned-upload/presigned-upload v0.0.0\n\n" +
			"replace github.com/presigned-upload/presigned-upload => " + root + "\n\n" + string(requires),
		"go.sum": string(goSum),
		"main.go": `package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Consumer"), nil)
	presignedupload.NewPresignedUploadApi(stack, jsii.String("Uploads"), nil)
	app.Synth(nil)
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(app, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(app, "cdk.out")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = app
		// Outside any workspace, synthesizing into out as the CLI would ask.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CDK_OUTDIR="+out)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	deps := run("list", "-deps", ".")
	if strings.Contains(deps, "versity") {
		t.Error("an app that imports only the construct compiles the S3 gateway")
	}
	run("run", ".")
	boots, _ := filepath.Glob(filepath.Join(out, "asset.*", "bootstrap"))
	if len(boots) != 2 {
		t.Fatalf("found %d bootstrap assets in %s, want 2: the upload function and the verifier", len(boots), out)
	}
	tmpl, err := os.ReadFile(filepath.Join(out, "Consumer.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tmpl), "provided.al2023") {
		t.Error("template has no provided.al2023 function")
	}
}
