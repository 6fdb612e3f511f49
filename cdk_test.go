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
		t.Run(name+"/the routes a caller could loop are throttled on their own, leaving the stage room", func(t *testing.T) {
			checkThrottles(t, tm, envs[name])
		})
		t.Run(name+"/the bucket is versioned as set, or as the construct defaults", func(t *testing.T) {
			e := envs[name]
			want := e.Verifies() // the construct's default
			if e.Versioned != nil {
				want = *e.Versioned
			}
			versioned := map[string]any{"Properties": map[string]any{"VersioningConfiguration": map[string]any{"Status": "Enabled"}}}
			if got := len(*tm.FindResources(jsii.String("AWS::S3::Bucket"), versioned)) == 1; got != want {
				t.Errorf("bucket versioned = %v, want %v", got, want)
			}
		})
		t.Run(name+"/the functions run with the settings local mode uses", func(t *testing.T) {
			fns := goFunctions(t, tm, 2)
			bucket := "<UploadBucket84BF9F0F>"
			if got, want := functionSettings[api.UploadSettings](t, fns[api.UploadSettingsVariable]), envs[name].UploadSettingsFor(bucket); !reflect.DeepEqual(got, want) {
				t.Errorf("deployed upload settings = %+v\nlocal upload settings    = %+v", got, want)
			}
			got := functionSettings[api.VerifierSettings](t, fns[api.VerifierSettingsVariable])
			want := envs[name].VerifierSettingsFor(bucket)
			want.EventBusName = got.EventBusName // the construct's own bus; local mode publishes its own way
			if !reflect.DeepEqual(got, want) || !strings.HasPrefix(got.EventBusName, "<UploadEventBus") {
				t.Errorf("deployed verifier settings = %+v\nlocal verifier settings    = %+v", got, want)
			}
		})
	}
	t.Run("every environment sets its multipart limit", func(t *testing.T) {
		for name, e := range envs {
			if e.MaxMultipartSize == 0 {
				t.Errorf("%s leaves maxMultipartSize at the construct's 48.8 TiB default", name)
			}
		}
	})
	t.Run("prod is locked down", func(t *testing.T) {
		p := envs["prod"]
		if p.RemovalPolicy != "retain" || !p.WebAclEnabled || !p.RequireSize || !p.PreventOverwrite || p.Versioned == nil || !*p.Versioned || slices.Contains(p.AllowedOrigins, "*") {
			t.Errorf("prod settings = %+v", p)
		}
		// Every signed-in caller is bounded: a loop costs at most its quota.
		if !p.Limits().Limited() || p.QuotaBytes == 0 || p.QuotaBytesPerDay == 0 || p.QuotaFilesPerDay == 0 || p.QuotaSessions == 0 {
			t.Errorf("prod quotas = %+v, want every dimension bounded", p.Limits())
		}
		// Its own, not whatever the construct's defaults become.
		if p.ThrottledRouteRateLimit == 0 || p.ThrottledRouteBurstLimit == 0 {
			t.Errorf("prod throttledRouteRateLimit = %v, throttledRouteBurstLimit = %v, want both set", p.ThrottledRouteRateLimit, p.ThrottledRouteBurstLimit)
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

// goFunctions returns the stack's Go functions by the variable that
// carries their settings; there must be n.
func goFunctions(t *testing.T, tm assertions.Template, n int) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, fn := range *tm.FindResources(jsii.String("AWS::Lambda::Function"), map[string]any{"Properties": map[string]any{"Handler": "bootstrap"}}) {
		vars, _ := get(*fn, "Properties", "Environment", "Variables").(map[string]any)
		if len(vars) != 1 {
			t.Fatalf("%s has the environment %v, want its settings alone", id, vars)
		}
		for name := range vars {
			out[name] = *fn
		}
	}
	if len(out) != n {
		t.Fatalf("Go functions by settings = %d, want %d", len(out), n)
	}
	return out
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

// functionSettings decodes a function resource's settings the way the
// function does, each reference spelled "<logical ID>".
func functionSettings[T api.Settings[T]](t *testing.T, fn map[string]any) T {
	t.Helper()
	var zero T
	v := get(fn, "Properties", "Environment", "Variables", zero.Variable())
	parts := []any{v}
	if join, ok := get(v, "Fn::Join").([]any); ok {
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
	s, err := api.DecodeSettings[T](b.String())
	if err != nil {
		t.Fatalf("the function's settings do not decode: %v\n%s", err, b.String())
	}
	return s
}

// settingValues are values other than the defaults for every setting of
// the functions, valid together (with the malware scan on, the multipart
// limit is within what GuardDuty scans).
var settingValues = map[string]any{
	"KeyPrefix":            "in/coming/",
	"UrlExpiry":            api.Seconds(90),
	"AllowedContentTypes":  []string{"image/*", "application/pdf"},
	"MaxFileSize":          api.Bytes(1 << 20),
	"MaxMultipartSize":     api.Bytes(1 << 30),
	"PartSize":             api.Bytes(8 << 20),
	"RequireSize":          true,
	"PreventOverwrite":     true,
	"AllowedOrigins":       []string{"https://a.example", "http://localhost:8080"},
	"SessionPrefix":        "open-uploads/",
	"MarkerPrefix":         "checked-uploads/",
	"MalwareScanEnabled":   true,
	"MalwareScanTimeout":   api.Seconds(900),
	"TransferAcceleration": true,
	"QuotaBytes":           api.Bytes(10 << 30),
	"QuotaBytesPerDay":     api.Bytes(2 << 30),
	"QuotaFilesPerDay":     api.Count(500),
	"QuotaSessions":        api.Count(4),
	"QuotaTierClaim":       "custom:tier",
	"QuotaTiers":           map[string]api.QuotaLimits{"pro": {Bytes: 100 << 30, FilesPerDay: 5000}, "free": {Bytes: 1 << 30}},
	"QuotaPrefix":          "ledgers/",
	"IssuerUrl":            "https://acme.eu.auth0.com/",
	"Audience":             "uploads",
	"JwksUrl":              "https://acme.eu.auth0.com/keys",
}

// setEvery sets every setting of the settings *s that is not derived from
// settingValues, failing when a setting has no value there or its value is
// its default: a setting added to an api settings type fails this test
// until it is given one.
func setEvery[T api.Settings[T]](t *testing.T, s *T) {
	t.Helper()
	v := reflect.ValueOf(s).Elem()
	d := reflect.ValueOf(new(T)).Elem()
	d.Set(reflect.ValueOf((*s).WithDefaults()))
	for _, f := range api.SettingFields(v.Type()) {
		if f.Derived {
			continue
		}
		x, ok := settingValues[f.Name]
		if !ok {
			t.Fatalf("give %s.%s a value other than its default in settingValues", v.Type().Name(), f.Name)
		}
		if reflect.DeepEqual(d.FieldByIndex(f.Index).Interface(), x) {
			t.Fatalf("settingValues gives %s.%s its default", v.Type().Name(), f.Name)
		}
		v.FieldByIndex(f.Index).Set(reflect.ValueOf(x))
	}
}

// Every setting of every function reaches its function: cdk.json → props →
// template → the settings the function decodes. The environment sets every
// setting to a value other than its default, so a setting that any step
// drops fails the comparison.
func TestEverySettingReachesTheFunction(t *testing.T) {
	var e environments.Environment
	setEvery(t, &e.VerifierSettings)
	e.Oidc = &environments.OidcSettings{}
	setEvery(t, &e.Oidc.AuthorizerSettings)
	raw, _ := json.Marshal(map[string]any{"x": e})
	var envs any
	_ = json.Unmarshal(raw, &envs)
	ctx := cdkContext(t)
	ctx[environments.ContextKey] = envs
	app := newApp(&awscdk.AppProps{Context: &ctx})
	tm := assertions.Template_FromStack(stackOf(app, "PresignedUpload-x"), nil)
	fns := goFunctions(t, tm, 3)

	want := e.VerifierSettings
	want.Bucket = "<UploadBucket84BF9F0F>"
	want.SignIn, want.Verified = true, true // the sign-in configured; the verifier is on unless turned off
	verifier := functionSettings[api.VerifierSettings](t, fns[api.VerifierSettingsVariable])
	want.EventBusName = verifier.EventBusName
	if !strings.HasPrefix(verifier.EventBusName, "<UploadEventBus") {
		t.Errorf("verifier publishes on %q, want the construct's bus", verifier.EventBusName)
	}
	if !reflect.DeepEqual(verifier, want) {
		t.Errorf("verifier settings = %+v\nwant                %+v", verifier, want)
	}
	if got := functionSettings[api.UploadSettings](t, fns[api.UploadSettingsVariable]); !reflect.DeepEqual(got, want.UploadSettings) {
		t.Errorf("upload settings = %+v\nwant              %+v", got, want.UploadSettings)
	}
	wantAuthorizer := e.Oidc.AuthorizerSettings
	wantAuthorizer.QuotaTierClaim = want.QuotaTierClaim // derived from the upload settings
	if got := functionSettings[api.AuthorizerSettings](t, fns[api.AuthorizerSettingsVariable]); got != wantAuthorizer {
		t.Errorf("authorizer settings = %+v\nwant                  %+v", got, wantAuthorizer)
	}
}

// checkThrottles checks that the stage throttles the methods of the
// environment's routes marked Throttled on their own and no other, and
// that together they take less than the stage's rate: a caller looping
// them all still leaves room for the uploads in progress.
func checkThrottles(t *testing.T, tm assertions.Template, e environments.Environment) map[string]map[string]any {
	t.Helper()
	stages := *tm.FindResources(jsii.String("AWS::ApiGateway::Stage"), nil)
	if len(stages) != 1 {
		t.Fatalf("%d stages, want 1", len(stages))
	}
	var stage, total float64
	own := map[string]map[string]any{}
	for _, st := range stages {
		for _, s := range get(*st, "Properties", "MethodSettings").([]any) {
			m := s.(map[string]any)
			if m["ResourcePath"] == "/*" {
				stage, _ = m["ThrottlingRateLimit"].(float64)
				continue
			}
			own[fmt.Sprint(m["HttpMethod"], " ", m["ResourcePath"])] = m
		}
	}
	throttled := 0
	for _, r := range api.RoutesFor(e.UploadSettingsFor("bucket")) {
		if !r.Throttled {
			continue
		}
		throttled++
		m, ok := own[r.Method+" /"+strings.ReplaceAll(r.Resource, "/", "~1")]
		if !ok {
			t.Errorf("%s is not throttled on its own", r)
			continue
		}
		rate, _ := m["ThrottlingRateLimit"].(float64)
		total += rate
	}
	if len(own) != throttled {
		t.Errorf("%d methods throttled on their own, want the %d routes marked Throttled", len(own), throttled)
	}
	if total >= stage {
		t.Errorf("the throttled routes together take %v requests a second, the whole stage's %v", total, stage)
	}
	return own
}

// An environment's alarm and cost settings reach the template: the topic
// becomes every alarm's action and the budget's subscriber, the
// thresholds their alarms', 0 turns an alarm off, the throttles their
// methods', and the budget counts the stack's tags. A topic named by ARN
// is not the app's to change, so synth says who must let Budgets publish.
func TestAlarmAndCostSettings(t *testing.T) {
	arn := "arn:aws:sns:eu-west-1:123456789012:ops"
	settings := map[string]any{
		"alarmTopicArn": arn, "monthlyBudget": 300,
		"clientErrorAlarmThreshold": 0, "putRequestAlarmThreshold": 500, "bucketSizeAlarmThreshold": 5e12,
		"throttledRouteRateLimit": 3, "throttledRouteBurstLimit": 6,
	}
	ctx := cdkContext(t)
	ctx[environments.ContextKey] = map[string]any{"x": settings}
	app := newApp(&awscdk.AppProps{Context: &ctx})
	stack := stackOf(app, "PresignedUpload-x")
	tm := assertions.Template_FromStack(stack, nil)
	envs, err := environments.Parse(ctx[environments.ContextKey])
	if err != nil {
		t.Fatal(err)
	}

	t.Run("every alarm notifies the topic; the thresholds set reach theirs, 0 turns the 4XX alarm off", func(t *testing.T) {
		alarms := *tm.FindResources(jsii.String("AWS::CloudWatch::Alarm"), nil)
		byMetric := map[string]float64{}
		for id, a := range alarms {
			raw, _ := json.Marshal((*a)["Properties"])
			var props struct {
				AlarmActions []string
				MetricName   string
				Threshold    float64
			}
			if err := json.Unmarshal(raw, &props); err != nil || !slices.Equal(props.AlarmActions, []string{arn}) {
				t.Errorf("%s AlarmActions = %v (%v), want [%s]", id, props.AlarmActions, err, arn)
			}
			byMetric[props.MetricName] = props.Threshold
		}
		if len(alarms) != 7 {
			t.Errorf("%d alarms, want 7: the upload API's 3, PUT requests and size, the verifier's 2", len(alarms))
		}
		if _, ok := byMetric["4XXError"]; ok || byMetric["PutRequests"] != 500 || byMetric["BucketSizeBytes"] != 5e12 {
			t.Errorf("thresholds by metric = %v, want no 4XXError, PutRequests 500, BucketSizeBytes 5e12", byMetric)
		}
	})
	t.Run("the throttled routes' limits reach their methods", func(t *testing.T) {
		for key, m := range checkThrottles(t, tm, envs["x"]) {
			if m["ThrottlingRateLimit"] != 3.0 || m["ThrottlingBurstLimit"] != 6.0 {
				t.Errorf("%s = %v", key, m)
			}
		}
	})
	t.Run("the budget counts the cost of what carries the stack's tags and notifies the topic", func(t *testing.T) {
		budgets := *tm.FindResources(jsii.String("AWS::Budgets::Budget"), nil)
		if len(budgets) != 1 {
			t.Fatalf("%d budgets, want 1", len(budgets))
		}
		for _, b := range budgets {
			data := get(*b, "Properties", "Budget")
			raw, _ := json.Marshal(get(data, "FilterExpression"))
			want := `{"And":[{"Tags":{"Key":"app","MatchOptions":["EQUALS"],"Values":["presigned-upload"]}},{"Tags":{"Key":"environment","MatchOptions":["EQUALS"],"Values":["x"]}}]}`
			if string(raw) != want {
				t.Errorf("filter = %s, want %s", raw, want)
			}
			if get(data, "BudgetLimit", "Amount") != 300.0 {
				t.Errorf("limit = %v, want 300", get(data, "BudgetLimit"))
			}
			raw, _ = json.Marshal(get(*b, "Properties", "NotificationsWithSubscribers"))
			if n := strings.Count(string(raw), `"Address":"`+arn+`"`); n != 2 {
				t.Errorf("notifications = %s, want both to the topic", raw)
			}
		}
	})
	t.Run("synth says the topic's owner must let Budgets publish", func(t *testing.T) {
		warnings := *assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("monthlyBudget notifies an alarm topic this app cannot change")))
		if len(warnings) != 1 {
			t.Errorf("%d warnings about the budget's topic, want 1", len(warnings))
		}
	})
	t.Run("cdk-nag finds no unsuppressed error", func(t *testing.T) {
		if errs := nagErrors(stack); len(errs) > 0 {
			t.Errorf("cdk-nag errors:\n%s", strings.Join(errs, "\n"))
		}
	})
}
