package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/internal/environments"
)

// cdkContext returns cdk.json's context, as the CLI would hand it to the app,
// with bundling switched off so no Go build runs.
func cdkContext(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Context map[string]any }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	f.Context["aws:cdk:bundling-stacks"] = []string{}
	return f.Context
}

func stackOf(app awscdk.App, name string) awscdk.Stack {
	return app.Node().FindChild(jsii.String(name)).(awscdk.Stack)
}

// nagErrors returns the unsuppressed AwsSolutions errors cdk-nag reported on a stack.
func nagErrors(stack awscdk.Stack) []string {
	var out []string
	for _, m := range *assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		out = append(out, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
	}
	return out
}

func TestApp(t *testing.T) {
	ctx := cdkContext(t)
	app := newApp(&awscdk.AppProps{Context: &ctx})
	envs, err := environments.Parse(ctx[environments.ContextKey])
	if err != nil {
		t.Fatal(err)
	}
	if names := environments.Names(envs); !slices.Equal(names, []string{"dev", "prod"}) {
		t.Fatalf("environments = %v, want dev and prod", names)
	}
	for _, name := range environments.Names(envs) {
		stack := stackOf(app, "PresignedUpload-"+name)
		t.Run(name+"/cdk-nag finds no unsuppressed error", func(t *testing.T) {
			if errs := nagErrors(stack); len(errs) > 0 {
				t.Errorf("cdk-nag errors:\n%s", strings.Join(errs, "\n"))
			}
		})
		tm := assertions.Template_FromStack(stack, nil)
		t.Run(name+"/every suppression gives a reason", func(t *testing.T) {
			raw, _ := json.Marshal(tm.ToJSON())
			var doc struct {
				Resources map[string]struct {
					Metadata struct {
						CdkNag struct {
							RulesToSuppress []struct{ ID, Reason string } `json:"rules_to_suppress"`
						} `json:"cdk_nag"`
					}
				}
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			for id, r := range doc.Resources {
				for _, s := range r.Metadata.CdkNag.RulesToSuppress {
					if len(s.Reason) < 80 {
						t.Errorf("%s suppresses %s with a thin reason: %q", id, s.ID, s.Reason)
					}
				}
			}
		})
		t.Run(name+"/outputs", func(t *testing.T) {
			outputs := *tm.FindOutputs(jsii.String("*"), nil)
			want := []string{"ApiUrl", "UploadUrlEndpoint", "BucketName"}
			if envs[name].ApiKeyRequired {
				want = append(want, "ApiKeyId")
			}
			for _, o := range want {
				if _, ok := outputs[o]; !ok {
					t.Errorf("no %s output", o)
				}
			}
			if _, ok := outputs["ApiKeyId"]; ok != envs[name].ApiKeyRequired {
				t.Errorf("ApiKeyId output present = %v, want %v", ok, envs[name].ApiKeyRequired)
			}
			for _, o := range []string{"SignInIssuer", "SignInClientId", "SignInScope", "SignInDomain"} {
				if _, ok := outputs[o]; ok != (envs[name].Cognito != nil) {
					t.Errorf("%s output present = %v, want %v", o, ok, envs[name].Cognito != nil)
				}
			}
		})
		t.Run(name+"/the functions run with the settings local mode uses", func(t *testing.T) {
			fns := *tm.FindResources(jsii.String("AWS::Lambda::Function"), map[string]any{"Properties": map[string]any{"Handler": "bootstrap"}})
			if len(fns) != 2 {
				t.Fatalf("%d Go functions, want 2: the upload function and the verifier", len(fns))
			}
			for _, fn := range fns {
				got := functionConfig(t, *fn)
				want := envs[name].UploadConfig("<UploadBucket84BF9F0F>")
				if !reflect.DeepEqual(got, want) {
					t.Errorf("deployed config = %+v\nlocal config    = %+v", got, want)
				}
			}
		})
	}
	t.Run("every environment sets its multipart limit", func(t *testing.T) {
		for name, e := range envs {
			if e.MaxMultipartSize == 0 {
				t.Errorf("%s leaves maxMultipartSize at the construct's 5 TiB default", name)
			}
		}
	})
	t.Run("prod is locked down", func(t *testing.T) {
		p := envs["prod"]
		if p.RemovalPolicy != "retain" || !p.WebAclEnabled || !p.RequireSize || !p.PreventOverwrite || !p.Versioned || slices.Contains(p.AllowedOrigins, "*") {
			t.Errorf("prod settings = %+v", p)
		}
	})
	t.Run("prod signs callers in with a pool it creates, instead of an API key", func(t *testing.T) {
		// A key shipped in a public page protects nothing.
		p := envs["prod"]
		if p.Cognito == nil || p.Cognito.UserPoolId != "" || p.Oidc != nil || p.ApiKeyRequired {
			t.Errorf("prod cognito = %+v, oidc = %+v, apiKeyRequired = %v", p.Cognito, p.Oidc, p.ApiKeyRequired)
		}
		tm := assertions.Template_FromStack(stackOf(app, "PresignedUpload-prod"), nil)
		if n := len(*tm.FindResources(jsii.String("AWS::Cognito::UserPool"), nil)); n != 1 {
			t.Errorf("%d user pools, want 1", n)
		}
		client := *tm.FindResources(jsii.String("AWS::Cognito::UserPoolClient"), nil)
		for _, c := range client {
			raw, _ := json.Marshal((*c)["Properties"])
			var props struct{ CallbackURLs []string }
			if err := json.Unmarshal(raw, &props); err != nil || !slices.Equal(props.CallbackURLs, []string{p.AllowedOrigins[0] + "/"}) {
				t.Errorf("callback URLs = %v, want [%s/]", props.CallbackURLs, p.AllowedOrigins[0])
			}
		}
		if len(client) != 1 {
			t.Errorf("%d app clients, want 1", len(client))
		}
	})
	t.Run("dev requires an API key and expires uploads after 7 days", func(t *testing.T) {
		// A deployed dev stage is never an anonymous file drop.
		d := envs["dev"]
		if !d.ApiKeyRequired || d.UploadExpirationDays != 7 {
			t.Errorf("dev apiKeyRequired = %v, uploadExpirationDays = %d", d.ApiKeyRequired, d.UploadExpirationDays)
		}
	})
}

// The nag check above must be able to fail: a known violation fails the
// synth, and the validation report names the rule.
func TestNagCatchesViolations(t *testing.T) {
	ctx := cdkContext(t)
	app := newApp(&awscdk.AppProps{Context: &ctx})
	stack := stackOf(app, "PresignedUpload-dev")
	awss3.NewBucket(stack, jsii.String("Careless"), &awss3.BucketProps{})
	defer func() {
		msg := fmt.Sprint(recover())
		_, report, ok := strings.Cut(msg, "can be found in: ")
		if !ok {
			t.Fatalf("synth did not fail validation: %s", msg)
		}
		raw, err := os.ReadFile(strings.TrimSpace(report))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "AwsSolutions-S10") || !strings.Contains(string(raw), "Careless") {
			t.Errorf("validation report does not name AwsSolutions-S10 on the careless bucket: %s", raw)
		}
	}()
	nagErrors(stack)
}

// functionConfig decodes a function resource's handler configuration the
// way the function does, each reference spelled "<logical ID>".
func functionConfig(t *testing.T, fn map[string]any) api.Config {
	t.Helper()
	raw, _ := json.Marshal(fn["Properties"])
	var props struct {
		Environment struct{ Variables map[string]any }
	}
	_ = json.Unmarshal(raw, &props)
	v := props.Environment.Variables[api.ConfigEnv]
	parts := []any{v}
	if join, ok := v.(map[string]any)["Fn::Join"].([]any); ok {
		parts = join[1].([]any)
	}
	var b strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case map[string]any:
			b.WriteString(fmt.Sprintf("<%v>", p["Ref"]))
		}
	}
	cfg, err := api.DecodeConfig(b.String())
	if err != nil {
		t.Fatalf("the function's %s does not configure the handler: %v\n%s", api.ConfigEnv, err, b.String())
	}
	return cfg
}

// Every handler setting in cdk.json reaches the deployed function's
// configuration: cdk.json → props → template → api.DecodeConfig. The
// environment sets every api.Config field to a value other than its
// default, so a field that any step drops fails the comparison.
func TestEverySettingReachesTheFunction(t *testing.T) {
	var e environments.Environment
	c := &e.Config
	c.KeyPrefix = "in/coming/"
	c.UrlExpiry = 90
	c.AllowedContentTypes = []string{"image/*", "application/pdf"}
	c.MaxFileSize, c.MaxMultipartSize, c.PartSize = 1<<20, 1<<30, 8<<20
	c.RequireSize, c.PreventOverwrite = true, true
	c.AllowedOrigins = []string{"https://a.example", "http://localhost:8080"}
	c.SessionPrefix = "open-uploads/"
	// Fail here, not silently below, when api.Config gains a field this
	// test does not set.
	v := reflect.ValueOf(*c)
	for i := 0; i < v.NumField(); i++ {
		if name := v.Type().Field(i).Name; name != "Bucket" && name != "SignIn" && name != "Verified" && v.Field(i).IsZero() {
			t.Fatalf("set api.Config.%s to a value other than its default in this test", name)
		}
	}
	if d := c.WithDefaults(); !reflect.DeepEqual(d, *c) {
		t.Fatalf("a value in this test is a default: %+v", d)
	}
	raw, _ := json.Marshal(map[string]any{"x": e})
	var envs any
	_ = json.Unmarshal(raw, &envs)
	ctx := cdkContext(t)
	ctx[environments.ContextKey] = envs
	app := newApp(&awscdk.AppProps{Context: &ctx})
	tm := assertions.Template_FromStack(stackOf(app, "PresignedUpload-x"), nil)
	fns := *tm.FindResources(jsii.String("AWS::Lambda::Function"), map[string]any{"Properties": map[string]any{"Handler": "bootstrap"}})
	if len(fns) != 2 {
		t.Fatalf("%d Go functions, want 2: the upload function and the verifier", len(fns))
	}
	for _, fn := range fns {
		want := *c
		want.Bucket = "<UploadBucket84BF9F0F>"
		want.Verified = true // the verifier is on unless an environment turns it off
		if got := functionConfig(t, *fn); !reflect.DeepEqual(got, want) {
			t.Errorf("deployed config = %+v\nwant              %+v", got, want)
		}
	}
}

// An environment's alarmTopicArn becomes every alarm's action.
func TestAlarmTopicSetting(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	arn := "arn:aws:sns:eu-west-1:123456789012:ops"
	stack := NewPresignedUploadStack(app, "Alarmed", &PresignedUploadStackProps{Settings: environments.Environment{AlarmTopicArn: arn}})
	alarms := *assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::CloudWatch::Alarm"), nil)
	if len(alarms) != 5 {
		t.Errorf("%d alarms, want 5: the upload API's 3 and the verifier's 2", len(alarms))
	}
	for id, a := range alarms {
		raw, _ := json.Marshal((*a)["Properties"])
		var props struct{ AlarmActions []string }
		if err := json.Unmarshal(raw, &props); err != nil || !slices.Equal(props.AlarmActions, []string{arn}) {
			t.Errorf("%s AlarmActions = %v (%v), want [%s]", id, props.AlarmActions, err, arn)
		}
	}
}
