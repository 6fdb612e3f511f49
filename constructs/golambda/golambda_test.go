package golambda_test

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/constructs/golambda"
)

// writeModule creates a throwaway module with a main package in cmd/fn.
func writeModule(t *testing.T, mainSrc string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":         "module example.com/fn\n\ngo 1.22\n",
		"cmd/fn/main.go": mainSrc,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuildProducesStaticLinuxBootstrap(t *testing.T) {
	mod := writeModule(t, "package main\n\nfunc main() {}\n")
	for _, arch := range []struct {
		goarch  string
		machine elf.Machine
	}{{"arm64", elf.EM_AARCH64}, {"amd64", elf.EM_X86_64}} {
		t.Run(arch.goarch, func(t *testing.T) {
			b, err := golambda.NewBuild(mod, filepath.Join(mod, "cmd", "fn"), arch.goarch)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			if err := b.Run(out); err != nil {
				t.Fatal(err)
			}
			f, err := elf.Open(filepath.Join(out, "bootstrap"))
			if err != nil {
				t.Fatalf("bootstrap is not an ELF file: %v", err)
			}
			defer f.Close()
			if f.Machine != arch.machine {
				t.Errorf("machine = %v, want %v", f.Machine, arch.machine)
			}
			if f.Section(".interp") != nil {
				t.Error("bootstrap is dynamically linked; CGO_ENABLED=0 must make it static")
			}
			if f.Section(".symtab") != nil {
				t.Error("bootstrap keeps its symbol table; -ldflags -s must strip it")
			}
		})
	}
}

func TestBuildFlags(t *testing.T) {
	mod := writeModule(t, "package main\n\nfunc main() {}\n")
	b, err := golambda.NewBuild(mod, filepath.Join(mod, "cmd", "fn"), "arm64")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(b.Args("/out"), " ")
	want := "build -trimpath -buildvcs=false -tags lambda.norpc -ldflags -s -w -o /out/bootstrap ./cmd/fn"
	if got != want {
		t.Errorf("args = %q, want %q", got, want)
	}
	env := strings.Join(b.Environ(), "\n")
	for _, kv := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"} {
		if !strings.HasSuffix(env, kv) && !strings.Contains(env, kv+"\n") {
			t.Errorf("environment lacks %s", kv)
		}
	}
	if _, err := golambda.NewBuild(mod, t.TempDir(), "arm64"); err == nil {
		t.Error("NewBuild accepted an entry outside the module")
	}
}

// A broken function fails the synth, and the synth error shows the compiler's message.
func TestFailedBuildFailsSynthWithCompilerMessage(t *testing.T) {
	mod := writeModule(t, "package main\n\nfunc main() { undefinedThing() }\n")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	defer func() {
		msg := fmt.Sprint(recover())
		if !strings.Contains(msg, "undefined: undefinedThing") {
			t.Errorf("synth panic = %q, want the compiler's message", msg)
		}
	}()
	golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{Entry: jsii.String(filepath.Join(mod, "cmd", "fn"))})
	app.Synth(nil)
	t.Error("synth succeeded with a broken function")
}

func TestFunctionDefaults(t *testing.T) {
	mod := writeModule(t, "package main\n\nfunc main() {}\n")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	fn := golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{
		Entry:           jsii.String(filepath.Join(mod, "cmd", "fn")),
		FunctionOptions: awslambda.FunctionOptions{MemorySize: jsii.Number(512), Description: jsii.String("d")},
	})
	if got := *fn.Architecture().Name(); got != "arm64" {
		t.Errorf("architecture = %s, want arm64", got)
	}
	if got := *fn.Runtime().Name(); got != "provided.al2023" {
		t.Errorf("runtime = %s, want provided.al2023", got)
	}
	asm := app.Synth(nil)
	tmpl := fmt.Sprint(asm.GetStackArtifact(jsii.String("S")).Template())
	for _, want := range []string{"MemorySize:512", "Handler:bootstrap", "Description:d"} {
		if !strings.Contains(tmpl, want) {
			t.Errorf("template lacks %s: %s", want, tmpl)
		}
	}
	assets, _ := filepath.Glob(filepath.Join(*asm.Directory(), "asset.*", "bootstrap"))
	if len(assets) != 1 {
		t.Fatalf("found %d bootstrap assets, want 1", len(assets))
	}
}
