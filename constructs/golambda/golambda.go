// Package golambda builds a Go AWS Lambda function from source during synth,
// like the aws-lambda-go-alpha GoFunction construct, without Docker: the
// local Go toolchain cross-compiles a static `bootstrap` for the custom
// runtime.
package golambda

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// GoFunctionProps configures a [NewGoFunction].
type GoFunctionProps struct {
	awslambda.FunctionOptions

	// Entry is the directory of the function's main package.
	Entry *string
	// ModuleDir is the directory holding the go.mod that Entry belongs to.
	//
	// Default: - the nearest directory at or above Entry that holds a go.mod.
	ModuleDir *string
	// Runtime runs the function.
	//
	// Default: - awslambda.Runtime_PROVIDED_AL2023().
	Runtime awslambda.Runtime
	// BuildEnvironment adds variables to the `go build` environment, such as
	// GOPROXY or GOWORK. GOOS, GOARCH and CGO_ENABLED are always set by the
	// construct.
	//
	// Default: - the synth process's environment.
	BuildEnvironment *map[string]*string
}

// NewGoFunction returns a Lambda function whose code is the Go main package
// at props.Entry, built for linux on the function's architecture (arm64 by
// default) with CGO_ENABLED=0, -trimpath, -buildvcs=false, the lambda.norpc
// tag and a stripped binary named bootstrap.
//
// The build runs during synth on the local Go toolchain. A failed build
// fails the synth with the compiler's output. Stacks excluded from bundling
// (the aws:cdk:bundling-stacks context) are not built.
func NewGoFunction(scope constructs.Construct, id *string, props *GoFunctionProps) awslambda.Function {
	if props == nil || props.Entry == nil || *props.Entry == "" {
		panic("golambda: entry is required")
	}
	entry, err := filepath.Abs(*props.Entry)
	if err != nil {
		panic(fmt.Sprintf("golambda: entry %q: %v", *props.Entry, err))
	}
	moduleDir := ""
	if props.ModuleDir != nil {
		moduleDir = *props.ModuleDir
	} else if moduleDir, err = FindModuleDir(entry); err != nil {
		panic(fmt.Sprintf("golambda: %v", err))
	}
	arch := props.Architecture
	if arch == nil {
		arch = awslambda.Architecture_ARM_64()
	}
	runtime := props.Runtime
	if runtime == nil {
		runtime = awslambda.Runtime_PROVIDED_AL2023()
	}
	build, err := NewBuild(moduleDir, entry, goArch(*arch.Name()))
	if err != nil {
		panic(fmt.Sprintf("golambda: %v", err))
	}
	if props.BuildEnvironment != nil {
		for k, v := range *props.BuildEnvironment {
			build.Env = append(build.Env, k+"="+*v)
		}
	}

	fp := &awslambda.FunctionProps{}
	copyFields(fp, &props.FunctionOptions)
	fp.Architecture = arch
	fp.Runtime = runtime
	fp.Handler = jsii.String("bootstrap")
	fp.Code = awslambda.Code_FromAsset(jsii.String(build.ModuleDir), &awss3assets.AssetOptions{
		// The build is reproducible (-trimpath, -buildvcs=false), so hashing
		// the output redeploys exactly when the binary changes.
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			// Never pulled: the local build either succeeds or fails the synth.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("public.ecr.aws/docker/library/golang")),
			Local: build,
		},
	})
	return awslambda.NewFunction(scope, id, fp)
}

// copyFields copies every field of src into the field of the same name in
// dst, so FunctionOptions carries over into FunctionProps whatever fields
// this CDK version has.
func copyFields(dst, src any) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range s.NumField() {
		if f := d.FieldByName(s.Type().Field(i).Name); f.IsValid() && f.CanSet() {
			f.Set(s.Field(i))
		}
	}
}

// goArch maps a Lambda architecture name to GOARCH.
func goArch(lambdaArch string) string {
	if lambdaArch == "x86_64" {
		return "amd64"
	}
	return lambdaArch
}

// FindModuleDir returns the nearest directory at or above dir holding a go.mod.
func FindModuleDir(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod at or above %s", dir)
		}
	}
}
