package presignedupload_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/api/schema"
	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
)

// template is a synthesized stack as plain Go values.
type template struct {
	Resources map[string]resource
}

type resource struct {
	Type                string
	Properties          map[string]any
	DeletionPolicy      string
	UpdateReplacePolicy string
	DependsOn           []string
	Metadata            map[string]any
}

// newStack returns a stack whose assets are not bundled, so no Go build runs.
func newStack() awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	return awscdk.NewStack(app, jsii.String("Test"), nil)
}

func synth(t *testing.T, props *presignedupload.PresignedUploadApiProps, setup ...func(awscdk.Stack) *presignedupload.PresignedUploadApiProps) template {
	t.Helper()
	stack := newStack()
	for _, s := range setup {
		props = s(stack)
	}
	presignedupload.NewPresignedUploadApi(stack, jsii.String("Upload"), props)
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tmpl template
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// ofType returns the resources of a CloudFormation type, by logical ID.
func (tm template) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range tm.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// one returns the only resource of a type.
func (tm template) one(t *testing.T, typ string) (string, resource) {
	t.Helper()
	rs := tm.ofType(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	panic("unreachable")
}

func (tm template) count(typ string) int { return len(tm.ofType(typ)) }

// each returns the resources of a type after checking there are want of
// them, so a loop over them cannot pass by finding none.
func (tm template) each(t *testing.T, typ string, want int) map[string]resource {
	t.Helper()
	got := tm.ofType(typ)
	if len(got) != want {
		t.Fatalf("%d %s, want %d", len(got), typ, want)
	}
	return got
}

// statements returns the function role's policy statements, failing the
// test when there are none.
func (tm template) statements(t *testing.T) []map[string]any {
	t.Helper()
	st := tm.policyStatements()
	if len(st) == 0 {
		t.Fatal("the function's role has no policy statements")
	}
	return st
}

// model returns the API model of that name.
func (tm template) model(t *testing.T, name string) resource {
	t.Helper()
	for _, m := range tm.ofType("AWS::ApiGateway::Model") {
		if m.Properties["Name"] == name {
			return m
		}
	}
	t.Fatalf("no model %s", name)
	return resource{}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// get walks a path of map keys and slice indexes through v.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// policyStatements returns every statement of the IAM policies attached to
// the function's role.
func (tm template) policyStatements() []map[string]any {
	// Callers loop over these; an empty list would pass them vacuously.
	var out []map[string]any
	for _, p := range tm.ofType("AWS::IAM::Policy") {
		if !strings.Contains(jsonOf(p.Properties["Roles"]), "HandlerRole") {
			continue
		}
		for _, s := range p.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

func actions(s map[string]any) []string {
	if a, ok := s["Action"].(string); ok {
		return []string{a}
	}
	return strs(s["Action"])
}

func TestDefaults(t *testing.T) {
	tm := synth(t, nil)

	t.Run("no quotas: no ledger, no grant on one", func(t *testing.T) {
		for _, role := range []string{"UploadHandlerRole", "UploadVerifierRole"} {
			if got := tm.roleStatements(role)["QuotaLedgers"]; len(got) != 0 {
				t.Errorf("%s QuotaLedgers = %s", role, jsonOf(got))
			}
		}
		if handlerConfig(t, tm.function(t)).Quotas() {
			t.Error("the function counts quotas")
		}
	})

	t.Run("bucket logical ID is stable", func(t *testing.T) {
		// Changing it would replace the bucket and orphan every upload.
		id, _ := tm.one(t, "AWS::S3::Bucket")
		if id != "UploadBucket84BF9F0F" {
			t.Errorf("bucket logical ID = %s, want UploadBucket84BF9F0F", id)
		}
	})
	_, bucket := tm.one(t, "AWS::S3::Bucket")
	bp := bucket.Properties
	t.Run("no transfer acceleration", func(t *testing.T) {
		if bp["AccelerateConfiguration"] != nil || handlerConfig(t, tm.function(t)).TransferAcceleration {
			t.Errorf("accelerate = %v", bp["AccelerateConfiguration"])
		}
	})
	t.Run("bucket blocks public access and enforces owner", func(t *testing.T) {
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if get(bp, "PublicAccessBlockConfiguration", k) != true {
				t.Errorf("PublicAccessBlockConfiguration.%s = %v, want true", k, get(bp, "PublicAccessBlockConfiguration", k))
			}
		}
		if got := get(bp, "OwnershipControls", "Rules", 0, "ObjectOwnership"); got != "BucketOwnerEnforced" {
			t.Errorf("ObjectOwnership = %v, want BucketOwnerEnforced", got)
		}
		if got := get(bp, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm"); got != "AES256" {
			t.Errorf("SSEAlgorithm = %v, want AES256", got)
		}
		if bucket.DeletionPolicy != "Retain" {
			t.Errorf("DeletionPolicy = %q, want Retain", bucket.DeletionPolicy)
		}
		if n := tm.count("Custom::S3AutoDeleteObjects"); n != 0 {
			t.Errorf("%d auto-delete resources under RETAIN, want 0", n)
		}
	})
	t.Run("bucket policy denies plain HTTP", func(t *testing.T) {
		_, pol := tm.one(t, "AWS::S3::BucketPolicy")
		doc := jsonOf(pol.Properties["PolicyDocument"])
		if !strings.Contains(doc, `"Effect":"Deny"`) || !strings.Contains(doc, `"aws:SecureTransport":"false"`) {
			t.Errorf("bucket policy %s lacks the TLS-only deny", doc)
		}
	})
	t.Run("bucket CORS allows every upload header and exposes ETag", func(t *testing.T) {
		rule := get(bp, "CorsConfiguration", "CorsRules", 0)
		if got := strs(get(rule, "ExposedHeaders")); !slices.Equal(got, []string{"ETag"}) {
			t.Errorf("ExposedHeaders = %v, want [ETag]", got)
		}
		allowed := strs(get(rule, "AllowedHeaders"))
		for _, h := range api.UploadHeaders {
			if !slices.Contains(allowed, h) {
				t.Errorf("AllowedHeaders %v lack %s, which issued URLs may require", allowed, h)
			}
		}
		if got := strs(get(rule, "AllowedMethods")); !slices.Equal(got, []string{"PUT", "POST"}) {
			t.Errorf("AllowedMethods = %v", got)
		}
		if got := strs(get(rule, "AllowedOrigins")); !slices.Equal(got, []string{"*"}) {
			t.Errorf("AllowedOrigins = %v, want [*]", got)
		}
	})
	t.Run("lifecycle aborts incomplete multipart uploads after a day and drops their sessions after two", func(t *testing.T) {
		rules := get(bp, "LifecycleConfiguration", "Rules").([]any)
		// Then the noncurrent versions' rule and the verifier's two
		// (verifier_test.go).
		if len(rules) != 5 || get(rules[0], "AbortIncompleteMultipartUpload", "DaysAfterInitiation") != 1.0 ||
			get(rules[1], "Prefix") != api.DefaultSessionPrefix || get(rules[1], "ExpirationInDays") != 2.0 {
			t.Errorf("lifecycle rules = %s", jsonOf(rules))
		}
	})
	t.Run("with the verifier, the bucket is versioned, and URLs need no If-None-Match: the tutorial's PUT works", func(t *testing.T) {
		checkVersioned(t, bucket, 30)
		if cfg := handlerConfig(t, tm.function(t)); cfg.PreventOverwrite {
			t.Errorf("preventOverwrite on by default on a versioned bucket")
		}
	})

	t.Run("function is arm64 provided.al2023 with JSON logs", func(t *testing.T) {
		fn := tm.function(t)
		p := fn.Properties
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || jsonOf(p["Architectures"]) != `["arm64"]` {
			t.Errorf("runtime %v handler %v architectures %v", p["Runtime"], p["Handler"], p["Architectures"])
		}
		if get(p, "LoggingConfig", "LogFormat") != "JSON" {
			t.Errorf("LoggingConfig = %v, want JSON", p["LoggingConfig"])
		}
		cfg := handlerConfig(t, fn)
		if want := (api.UploadSettings{Bucket: "<UploadBucket84BF9F0F>", Verified: true}).WithDefaults(); !reflect.DeepEqual(cfg, want) {
			t.Errorf("handler config = %+v, want defaults %+v", cfg, want)
		}
	})
	// A completion of thousands of parts can take S3 longer than signing
	// a URL takes: the function has as long as API Gateway waits for it.
	t.Run("function may run as long as API Gateway waits for it, 29 s", func(t *testing.T) {
		if got := tm.function(t).Properties["Timeout"]; got != 29.0 {
			t.Errorf("function Timeout = %v, want 29", got)
		}
		n := 0
		for _, m := range tm.ofType("AWS::ApiGateway::Method") {
			if get(m.Properties, "Integration", "Type") != "AWS_PROXY" {
				continue
			}
			n++
			if got := get(m.Properties, "Integration", "TimeoutInMillis"); got != 29000.0 {
				t.Errorf("%v %s integration TimeoutInMillis = %v, want 29000", m.Properties["HttpMethod"], jsonOf(m.Properties["ResourceId"]), got)
			}
		}
		if n == 0 {
			t.Error("no method integrates the function")
		}
	})
	t.Run("log groups have a retention", func(t *testing.T) {
		for id, lg := range tm.each(t, "AWS::Logs::LogGroup", 3) {
			if lg.Properties["RetentionInDays"] != 30.0 {
				t.Errorf("%s RetentionInDays = %v, want 30", id, lg.Properties["RetentionInDays"])
			}
		}
	})
	t.Run("role may only put objects under the prefix, list it, read their status tags, keep sessions and write its logs", func(t *testing.T) {
		want := map[string]struct {
			actions  []string
			resource string
		}{
			"Uploads":        {[]string{"s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"}, `/uploads/*"]]}`},
			"ListUploads":    {[]string{"s3:ListBucket"}, `"Arn"]}`},
			"UploadSessions": {[]string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}, `/upload-sessions/*"]]}`},
			"UploadStatus":   {[]string{"s3:GetObjectTagging"}, `/uploads/*"]]}`},
		}
		var logs []string
		seen := 0
		for _, s := range tm.statements(t) {
			acts := actions(s)
			sort.Strings(acts)
			w, ok := want[fmt.Sprint(s["Sid"])]
			if !ok {
				for _, a := range acts {
					if !strings.HasPrefix(a, "logs:") {
						t.Errorf("statement %s grants %s", jsonOf(s), a)
					}
				}
				logs = append(logs, acts...)
				continue
			}
			seen++
			if !slices.Equal(acts, w.actions) || !strings.HasSuffix(jsonOf(s["Resource"]), w.resource) {
				t.Errorf("%v: %v on %s, want %v on …%s", s["Sid"], acts, jsonOf(s["Resource"]), w.actions, w.resource)
			}
			// Listing stays under the key prefix: the sessions and ledgers
			// are not the function's to list.
			if s["Sid"] == "ListUploads" && jsonOf(s["Condition"]) != `{"StringLike":{"s3:prefix":"uploads/*"}}` {
				t.Errorf("ListUploads condition = %s, want only under uploads/", jsonOf(s["Condition"]))
			}
		}
		if seen != len(want) || !slices.Equal(logs, []string{"logs:CreateLogStream", "logs:PutLogEvents"}) {
			t.Errorf("found %d of the S3 statements, log actions %v", seen, logs)
		}
		if n := tm.count("AWS::IAM::ManagedPolicy"); n != 0 {
			t.Errorf("%d managed policies, want 0", n)
		}
	})

	t.Run("API is regional with logging and no data trace", func(t *testing.T) {
		_, api := tm.one(t, "AWS::ApiGateway::RestApi")
		if got := jsonOf(get(api.Properties, "EndpointConfiguration", "Types")); got != `["REGIONAL"]` {
			t.Errorf("endpoint types = %s", got)
		}
		_, stage := tm.one(t, "AWS::ApiGateway::Stage")
		sp := stage.Properties
		if sp["StageName"] != "prod" {
			t.Errorf("StageName = %v, want prod", sp["StageName"])
		}
		ms := get(sp, "MethodSettings", 0)
		if get(ms, "LoggingLevel") != "INFO" || get(ms, "DataTraceEnabled") != false ||
			get(ms, "ThrottlingRateLimit") != 100.0 || get(ms, "ThrottlingBurstLimit") != 200.0 {
			t.Errorf("method settings = %s", jsonOf(ms))
		}
		if get(sp, "AccessLogSetting", "DestinationArn") == nil {
			t.Errorf("no access log destination: %s", jsonOf(sp))
		}
	})
	t.Run("every route proxies to the function, OPTIONS answers preflight", func(t *testing.T) {
		paths := map[string]string{} // logical ID → path
		for id, r := range tm.ofType("AWS::ApiGateway::Resource") {
			paths[id] = r.Properties["PathPart"].(string)
		}
		methods := map[string]map[string]any{}
		options := 0
		for _, m := range tm.ofType("AWS::ApiGateway::Method") {
			verb := m.Properties["HttpMethod"].(string)
			if verb == "OPTIONS" {
				options++
				continue
			}
			ref, _ := get(m.Properties, "ResourceId", "Ref").(string)
			methods[verb+" "+paths[ref]] = m.Properties
		}
		if want := api.RoutesFor(api.UploadSettings{Verified: true}); len(methods) != len(want) {
			t.Errorf("%d methods, want one per route without sign-in, with the verifier (%d): %v", len(methods), len(want), sortedKeys(methods))
		}
		for key, m := range methods {
			if get(m, "Integration", "Type") != "AWS_PROXY" || m["ApiKeyRequired"] == true || m["RequestValidatorId"] == nil || m["AuthorizerId"] != nil {
				t.Errorf("%s = %s", key, jsonOf(m))
			}
		}
		if get(methods["GET get-upload-url"], "RequestParameters", "method.request.querystring.fileName") != true {
			t.Errorf("GET does not require fileName: %s", jsonOf(methods["GET get-upload-url"]["RequestParameters"]))
		}
		if get(methods["DELETE {uploadId}"], "RequestParameters", "method.request.querystring.fileKey") != true {
			t.Errorf("DELETE does not require fileKey: %s", jsonOf(methods["DELETE {uploadId}"]))
		}
		if options < 5 {
			t.Errorf("%d OPTIONS methods, want one per resource", options)
		}
		for _, m := range tm.ofType("AWS::ApiGateway::Method") {
			if m.Properties["HttpMethod"] != "OPTIONS" {
				continue
			}
			if get(m.Properties, "Integration", "Type") != "MOCK" {
				t.Fatalf("OPTIONS = %s", jsonOf(m.Properties))
			}
			headers := jsonOf(get(m.Properties, "Integration", "IntegrationResponses", 0, "ResponseParameters"))
			for _, want := range []string{strings.Join(api.CORSAllowHeaders, ","), strings.Join(api.CORSAllowMethods, ","), `'*'`} {
				if !strings.Contains(headers, want) {
					t.Errorf("preflight headers %s lack %s", headers, want)
				}
			}
		}
	})
	t.Run("gateway errors carry CORS headers and the JSON error shape", func(t *testing.T) {
		types := map[string]bool{}
		for _, gr := range tm.each(t, "AWS::ApiGateway::GatewayResponse", 3) {
			types[gr.Properties["ResponseType"].(string)] = true
			if got := get(gr.Properties, "ResponseParameters", "gatewayresponse.header.Access-Control-Allow-Origin"); got != "'*'" {
				t.Errorf("%v Access-Control-Allow-Origin = %v", gr.Properties["ResponseType"], got)
			}
			if !strings.Contains(jsonOf(gr.Properties["ResponseTemplates"]), `\"code\":`) {
				t.Errorf("%v template = %v", gr.Properties["ResponseType"], gr.Properties["ResponseTemplates"])
			}
		}
		for _, want := range []string{"DEFAULT_4XX", "DEFAULT_5XX", "BAD_REQUEST_BODY"} {
			if !types[want] {
				t.Errorf("no %s gateway response", want)
			}
		}
	})
	t.Run("gateway errors forbid sniffing, as the function's answers do", func(t *testing.T) {
		for _, gr := range tm.each(t, "AWS::ApiGateway::GatewayResponse", 3) {
			if got := get(gr.Properties, "ResponseParameters", "gatewayresponse.header.X-Content-Type-Options"); got != "'nosniff'" {
				t.Errorf("%v X-Content-Type-Options = %v, want 'nosniff'", gr.Properties["ResponseType"], got)
			}
		}
	})
	t.Run("each POST route's model is the schema derived from its request type", func(t *testing.T) {
		n := 0
		for _, r := range api.RoutesFor(api.UploadSettings{Verified: true}) {
			if !r.InBody() {
				continue
			}
			n++
			want, err := schema.For(r, api.UploadSettings{}.WithDefaults())
			if err != nil {
				t.Fatal(err)
			}
			got := tm.model(t, r.Name).Properties["Schema"]
			if jsonOf(got) != jsonOf(want) {
				t.Errorf("model %s =\n%s\nwant\n%s", r.Name, jsonOf(got), jsonOf(want))
			}
		}
		if got := tm.count("AWS::ApiGateway::Model"); got != n {
			t.Errorf("%d models, want one per POST route (%d)", got, n)
		}
	})
	t.Run("every POST method validates any Content-Type against its model", func(t *testing.T) {
		n := 0
		for _, m := range tm.ofType("AWS::ApiGateway::Method") {
			if m.Properties["HttpMethod"] != "POST" {
				continue
			}
			n++
			models, _ := m.Properties["RequestModels"].(map[string]any)
			if len(models) != 2 || models["application/json"] == nil || jsonOf(models["$default"]) != jsonOf(models["application/json"]) {
				t.Errorf("RequestModels = %s, want the same model for application/json and $default", jsonOf(models))
			}
		}
		if n == 0 {
			t.Fatal("no POST methods")
		}
	})
	t.Run("access log names the caller and the invocation", func(t *testing.T) {
		_, stage := tm.one(t, "AWS::ApiGateway::Stage")
		var format map[string]string
		if err := json.Unmarshal([]byte(get(stage.Properties, "AccessLogSetting", "Format").(string)), &format); err != nil {
			t.Fatal(err)
		}
		for field, variable := range map[string]string{"requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
			"apiKeyId": "$context.identity.apiKeyId", "userAgent": "$context.identity.userAgent", "integrationRequestId": "$context.integration.requestId"} {
			if format[field] != variable {
				t.Errorf("access log %s = %q, want %s", field, format[field], variable)
			}
		}
		if v, ok := format["caller"]; ok {
			t.Errorf("without sign-in, access log caller = %q, want none", v)
		}
	})
	t.Run("no response allows credentials", func(t *testing.T) {
		raw, _ := json.Marshal(tm.Resources)
		if strings.Contains(strings.ToLower(string(raw)), "access-control-allow-credentials") {
			t.Error("the template sends Access-Control-Allow-Credentials somewhere")
		}
	})
	t.Run("request model requires fileName and contentType", func(t *testing.T) {
		model := tm.model(t, api.UploadURL.Name)
		if got := strs(get(model.Properties, "Schema", "required")); !slices.Equal(got, []string{"fileName", "contentType"}) {
			t.Errorf("required = %v", got)
		}
	})
	t.Run("bucket refuses SSE-C and the role's signatures older than 5 minutes plus clock skew", func(t *testing.T) {
		checkBucketGuardrails(t, tm, 600000)
	})
	t.Run("alarms watch the 5XX rate, function errors and throttles, 4XX volume, PUT requests and storage, notifying nobody", func(t *testing.T) {
		id, _ := tm.one(t, "AWS::S3::Bucket")
		checkAlarms(t, tm, "", defaultCosts(id))
	})
	t.Run("S3 counts the requests under the key prefix for the PUT requests alarm", func(t *testing.T) {
		checkMetricsConfiguration(t, bucket, "uploads/")
	})
	t.Run("the routes a caller could loop are throttled at 10 requests a second, burst 20; no other method is", func(t *testing.T) {
		checkThrottledMethods(t, tm, api.RoutesFor(api.UploadSettings{Verified: true}), "10", "20")
	})
	t.Run("optional parts are absent", func(t *testing.T) {
		for _, typ := range []string{"AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlan", "AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation", "AWS::KMS::Key",
			"AWS::Budgets::Budget", "AWS::SNS::TopicPolicy"} {
			if n := tm.count(typ); n != 0 {
				t.Errorf("%d %s, want 0", n, typ)
			}
		}
	})
}

func TestOptions(t *testing.T) {
	t.Run("API key and usage plan, transfer acceleration", func(t *testing.T) {
		tm := synth(t, &presignedupload.PresignedUploadApiProps{ApiKeyRequired: jsii.Bool(true), UsagePlanQuotaPerDay: jsii.Number(500),
			TransferAcceleration: jsii.Bool(true)})
		_, bucket := tm.one(t, "AWS::S3::Bucket")
		if got := get(bucket.Properties, "AccelerateConfiguration", "AccelerationStatus"); got != "Enabled" || !handlerConfig(t, tm.function(t)).TransferAcceleration {
			t.Errorf("acceleration = %v; the function's setting = %v", got, handlerConfig(t, tm.function(t)).TransferAcceleration)
		}
		resources := tm.count("AWS::ApiGateway::Resource") + 1 // each has an OPTIONS method, the root too
		if tm.count("AWS::ApiGateway::ApiKey") != 1 || tm.count("AWS::ApiGateway::UsagePlanKey") != 1 {
			t.Errorf("want one API key bound to the plan")
		}
		_, plan := tm.one(t, "AWS::ApiGateway::UsagePlan")
		if get(plan.Properties, "Quota", "Limit") != 500.0 || get(plan.Properties, "Quota", "Period") != "DAY" ||
			get(plan.Properties, "Throttle", "RateLimit") != 10.0 || get(plan.Properties, "Throttle", "BurstLimit") != 20.0 {
			t.Errorf("usage plan = %s", jsonOf(plan.Properties))
		}
		for _, m := range tm.each(t, "AWS::ApiGateway::Method", len(api.RoutesFor(api.UploadSettings{Verified: true}))+resources) {
			if want := m.Properties["HttpMethod"] != "OPTIONS"; m.Properties["ApiKeyRequired"] != want && !(m.Properties["ApiKeyRequired"] == nil && !want) {
				t.Errorf("%v ApiKeyRequired = %v, want %v", m.Properties["HttpMethod"], m.Properties["ApiKeyRequired"], want)
			}
		}
	})
	t.Run("new web ACL; each cost guardrail turned off", func(t *testing.T) {
		tm := synth(t, &presignedupload.PresignedUploadApiProps{WebAclEnabled: jsii.Bool(true), WebAclRateLimit: jsii.Number(300),
			ThrottlingRateLimit: jsii.Number(40), ThrottlingBurstLimit: jsii.Number(80), ThrottledRouteRateLimit: jsii.Number(40), ThrottledRouteBurstLimit: jsii.Number(80),
			ClientErrorAlarmThreshold: jsii.Number(0), PutRequestAlarmThreshold: jsii.Number(0), BucketSizeAlarmThreshold: awscdk.Size_Bytes(jsii.Number(0))})
		t.Run("0 turns each cost alarm off, and the PUT requests' metrics with theirs", func(t *testing.T) {
			checkAlarms(t, tm, "", costThresholds{})
			_, bucket := tm.one(t, "AWS::S3::Bucket")
			checkMetricsConfiguration(t, bucket, "")
		})
		t.Run("throttled routes at the stage's limits have no settings of their own", func(t *testing.T) {
			if got := methodSettings(t, tm); len(got) != 1 || get(got["* /*"], "ThrottlingRateLimit") != 40.0 {
				t.Errorf("method settings = %s, want the stage's alone", jsonOf(got))
			}
		})
		_, acl := tm.one(t, "AWS::WAFv2::WebACL")
		rules := jsonOf(acl.Properties["Rules"])
		for _, want := range []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList", `"Limit":300`} {
			if !strings.Contains(rules, want) {
				t.Errorf("web ACL rules lack %s", want)
			}
		}
		if acl.Properties["Scope"] != "REGIONAL" {
			t.Errorf("scope = %v", acl.Properties["Scope"])
		}
		_, assoc := tm.one(t, "AWS::WAFv2::WebACLAssociation")
		if !strings.Contains(jsonOf(assoc.Properties["ResourceArn"]), "/stages/") {
			t.Errorf("association target = %s, want the stage", jsonOf(assoc.Properties["ResourceArn"]))
		}
	})
	t.Run("existing web ACL", func(t *testing.T) {
		arn := "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shared/abc"
		tm := synth(t, &presignedupload.PresignedUploadApiProps{ExistingWebAclArn: jsii.String(arn)})
		_, assoc := tm.one(t, "AWS::WAFv2::WebACLAssociation")
		if assoc.Properties["WebACLArn"] != arn || tm.count("AWS::WAFv2::WebACL") != 0 {
			t.Errorf("association = %s", jsonOf(assoc.Properties))
		}
	})
	t.Run("existing bucket", func(t *testing.T) {
		tm := synth(t, nil, func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Bucket: awss3.Bucket_FromBucketName(s, jsii.String("Existing"), jsii.String("my-existing-bucket")),
				BucketSizeAlarmThreshold: awscdk.Size_Tebibytes(jsii.Number(2))}
		})
		t.Run("the bucket's own alarms only when asked for, and no request metrics", func(t *testing.T) {
			// Its size alarm here is set; its PUT alarm needs a metrics
			// configuration the construct cannot add to it.
			checkAlarms(t, tm, "", costThresholds{clientErrors: 1000, bucketBytes: 2 << 40, bucket: `"my-existing-bucket"`})
		})
		if n := tm.count("AWS::S3::Bucket"); n != 0 {
			t.Errorf("%d buckets created, want 0", n)
		}
		found := false
		for _, s := range tm.statements(t) {
			if s["Sid"] == "Uploads" && slices.Contains(actions(s), "s3:PutObject") {
				found = strings.Contains(jsonOf(s["Resource"]), "my-existing-bucket/uploads/*")
			}
		}
		if !found {
			t.Errorf("no s3:PutObject on my-existing-bucket/uploads/*: %s", jsonOf(tm.policyStatements()))
		}
	})
	t.Run("KMS key", func(t *testing.T) {
		tm := synth(t, nil, func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{EncryptionKey: awskms.NewKey(s, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})}
		})
		_, bucket := tm.one(t, "AWS::S3::Bucket")
		enc := get(bucket.Properties, "BucketEncryption", "ServerSideEncryptionConfiguration", 0)
		if get(enc, "ServerSideEncryptionByDefault", "SSEAlgorithm") != "aws:kms" || get(enc, "BucketKeyEnabled") != true {
			t.Errorf("encryption = %s", jsonOf(enc))
		}
		var kms []string
		for _, s := range tm.statements(t) {
			for _, a := range actions(s) {
				if strings.HasPrefix(a, "kms:") {
					kms = append(kms, a)
				}
			}
		}
		if !slices.Equal(kms, []string{"kms:GenerateDataKey", "kms:Decrypt"}) {
			t.Errorf("kms actions = %v, want [kms:GenerateDataKey kms:Decrypt]", kms)
		}
	})
	t.Run("DESTROY empties and deletes the bucket; unversioned, with the verifier, it refuses overwrites", func(t *testing.T) {
		tm := synth(t, &presignedupload.PresignedUploadApiProps{RemovalPolicy: awscdk.RemovalPolicy_DESTROY, UploadExpiration: awscdk.Duration_Days(jsii.Number(30)),
			Versioned: jsii.Bool(false)})
		_, bucket := tm.one(t, "AWS::S3::Bucket")
		if bucket.DeletionPolicy != "Delete" || tm.count("Custom::S3AutoDeleteObjects") != 1 {
			t.Errorf("DeletionPolicy %q, auto-delete resources %d", bucket.DeletionPolicy, tm.count("Custom::S3AutoDeleteObjects"))
		}
		if v, ok := bucket.Properties["VersioningConfiguration"]; ok || lifecycleRule(bucket, "ExpireNoncurrentVersions") != nil {
			t.Errorf("VersioningConfiguration = %s, lifecycle = %s, want no versioning", jsonOf(v), jsonOf(bucket.Properties["LifecycleConfiguration"]))
		}
		if cfg := handlerConfig(t, tm.function(t)); !cfg.PreventOverwrite {
			t.Errorf("preventOverwrite off on an unversioned bucket with the verifier")
		}
		if !strings.Contains(jsonOf(get(bucket.Properties, "LifecycleConfiguration")), `"ExpirationInDays":30,"Id":"ExpireUploads","Prefix":"uploads/"`) {
			t.Errorf("lifecycle = %s", jsonOf(get(bucket.Properties, "LifecycleConfiguration")))
		}
		for id, lg := range tm.each(t, "AWS::Logs::LogGroup", 3) {
			if lg.DeletionPolicy != "Delete" {
				t.Errorf("log group %s DeletionPolicy = %q, want Delete", id, lg.DeletionPolicy)
			}
		}
	})
	t.Run("strict settings reach the handler and the model", func(t *testing.T) {
		tm := synth(t, &presignedupload.PresignedUploadApiProps{
			RequireSize: jsii.Bool(true), PreventOverwrite: jsii.Bool(true), KeyPrefix: jsii.String("in/"),
			AllowedOrigins:      jsii.Strings("https://a.example", "https://b.example"),
			AllowedContentTypes: jsii.Strings("image/*"), MaxFileSize: awscdk.Size_Mebibytes(jsii.Number(1)),
			UrlExpiry: awscdk.Duration_Minutes(jsii.Number(2)), StageName: jsii.String("v1"),
			ThrottlingRateLimit: jsii.Number(5), ThrottlingBurstLimit: jsii.Number(8),
		})
		t.Run("a stage below the per-method defaults: its limits apply to every method, none has its own", func(t *testing.T) {
			got := methodSettings(t, tm)
			if len(got) != 1 || get(got["* /*"], "ThrottlingRateLimit") != 5.0 || get(got["* /*"], "ThrottlingBurstLimit") != 8.0 {
				t.Errorf("method settings = %s, want the stage's 5 and 8 alone", jsonOf(got))
			}
		})
		want := api.UploadSettings{Bucket: "<UploadBucket84BF9F0F>", RequireSize: true, PreventOverwrite: true, KeyPrefix: "in/",
			AllowedOrigins: []string{"https://a.example", "https://b.example"}, AllowedContentTypes: []string{"image/*"},
			MaxFileSize: 1 << 20, UrlExpiry: 120, Verified: true}.WithDefaults()
		if got := handlerConfig(t, tm.function(t)); !reflect.DeepEqual(got, want) {
			t.Errorf("handler config = %+v, want %+v", got, want)
		}
		model := tm.model(t, api.UploadURL.Name)
		if got := strs(get(model.Properties, "Schema", "required")); !slices.Contains(got, "size") {
			t.Errorf("model required = %v, want size too", got)
		}
		for _, gr := range tm.each(t, "AWS::ApiGateway::GatewayResponse", 3) {
			if got := get(gr.Properties, "ResponseParameters", "gatewayresponse.header.Access-Control-Allow-Origin"); got != "method.request.header.Origin" {
				t.Errorf("with several origins, gateway response origin = %v", got)
			}
		}
		_, bucket := tm.one(t, "AWS::S3::Bucket")
		if got := strs(get(bucket.Properties, "CorsConfiguration", "CorsRules", 0, "AllowedOrigins")); !slices.Equal(got, []string{"https://a.example", "https://b.example"}) {
			t.Errorf("bucket CORS origins = %v", got)
		}
		_, stage := tm.one(t, "AWS::ApiGateway::Stage")
		if stage.Properties["StageName"] != "v1" {
			t.Errorf("stage = %v", stage.Properties["StageName"])
		}
		puts := 0
		for _, s := range tm.statements(t) {
			if s["Sid"] == "Uploads" {
				puts++
				if !strings.Contains(jsonOf(s["Resource"]), `/in/*`) {
					t.Errorf("s3:PutObject on %s, want the in/ prefix", jsonOf(s["Resource"]))
				}
			}
		}
		if puts != 1 {
			t.Errorf("%d upload statements, want 1", puts)
		}
	})
}

func TestPropsValidation(t *testing.T) {
	tests := []struct {
		name  string
		props func(awscdk.Stack) *presignedupload.PresignedUploadApiProps
		want  string
	}{
		{"auto-delete without DESTROY", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AutoDeleteObjects: jsii.Bool(true)}
		}, "autoDeleteObjects requires removalPolicy DESTROY"},
		{"empty origins", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: &[]*string{}}
		}, "allowedOrigins is empty"},
		{"origin with a path", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: jsii.Strings("https://a.example/app")}
		}, `"https://a.example/app"`},
		{"prefix with traversal", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{KeyPrefix: jsii.String("../x/")}
		}, `keyPrefix "../x/"`},
		{"prefix without slash", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{KeyPrefix: jsii.String("uploads")}
		}, `keyPrefix "uploads"`},
		{"expiry over 12 hours", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{UrlExpiry: awscdk.Duration_Hours(jsii.Number(13))}
		}, "urlExpiry 13h0m0s"},
		{"max size over 5 GiB", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MaxFileSize: awscdk.Size_Gibibytes(jsii.Number(6))}
		}, "maxFileSize 6442450944 is outside"},
		{"multipart size over S3's largest object", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MaxMultipartSize: awscdk.Size_Bytes(jsii.Number(float64(api.MaxObjectSize + 1)))}
		}, "maxMultipartSize 53687091200001 is outside 1 to 53687091200000 bytes"},
		{"transfer acceleration on a bucket name with dots", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Bucket: awss3.Bucket_FromBucketName(s, jsii.String("Dotted"), jsii.String("uploads.example.com")),
				TransferAcceleration: jsii.Bool(true)}
		}, `transferAcceleration needs a bucket name without dots; "uploads.example.com"`},
		{"size as a token", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			n := awscdk.NewCfnParameter(s, jsii.String("Max"), &awscdk.CfnParameterProps{Type: jsii.String("Number")}).ValueAsNumber()
			return &presignedupload.PresignedUploadApiProps{MaxMultipartSize: awscdk.Size_Bytes(n)}
		}, "maxMultipartSize must be a literal size, not a token"},
		{"part size below 5 MiB", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{PartSize: awscdk.Size_Mebibytes(jsii.Number(4))}
		}, "partSize 4194304 is outside"},
		{"bad content type", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedContentTypes: jsii.Strings("pdf")}
		}, `"pdf"`},
		{"both WAF options", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{WebAclEnabled: jsii.Bool(true), ExistingWebAclArn: jsii.String("arn:x")}
		}, "exclusive"},
		{"usage plan without key", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{UsagePlanQuotaPerDay: jsii.Number(5)}
		}, "need apiKeyRequired"},
		{"bucket props with an existing bucket", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Bucket: awss3.Bucket_FromBucketName(s, jsii.String("B"), jsii.String("bucket")), EventBridgeEnabled: jsii.Bool(true)}
		}, "eventBridgeEnabled configures a new bucket"},
		{"stage name with a slash", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{StageName: jsii.String("a/b")}
		}, `stageName "a/b"`},
		{"versioning an existing bucket", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Bucket: awss3.Bucket_FromBucketName(s, jsii.String("B"), jsii.String("bucket")), Versioned: jsii.Bool(true)}
		}, "versioned configures a new bucket"},
		{"noncurrent expiration without versioning", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Versioned: jsii.Bool(false), NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(7))}
		}, "noncurrentVersionExpiration needs versioned"},
		{"overwrites allowed on an unversioned bucket with the verifier", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Versioned: jsii.Bool(false), PreventOverwrite: jsii.Bool(false)}
		}, "preventOverwrite false needs versioned true while verifierEnabled is on: on an unversioned bucket an upload replaced through its replayed URL could inherit the verdict of the object it replaced"},
		{"noncurrent expiration in hours", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Versioned: jsii.Bool(true), NoncurrentVersionExpiration: awscdk.Duration_Hours(jsii.Number(36))}
		}, "noncurrentVersionExpiration must be a whole number of days, got 1.5"},
		{"alarm topic with alarms off", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AlarmsEnabled: jsii.Bool(false), AlarmTopic: awssns.Topic_FromTopicArn(s, jsii.String("T"), jsii.String("arn:aws:sns:eu-west-1:123456789012:ops"))}
		}, "alarmTopic needs alarmsEnabled"},
		{"throttled routes above the stage", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{ThrottlingRateLimit: jsii.Number(50), ThrottledRouteRateLimit: jsii.Number(60)}
		}, "throttledRouteRateLimit 60 is above throttlingRateLimit 50"},
		{"throttled routes' burst above the stage's default", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{ThrottledRouteBurstLimit: jsii.Number(201)}
		}, "throttledRouteBurstLimit 201 is above throttlingBurstLimit 200"},
		{"negative throttled routes' rate", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{ThrottledRouteRateLimit: jsii.Number(-1)}
		}, "throttledRouteRateLimit -1 must not be negative"},
		{"negative alarm threshold", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{ClientErrorAlarmThreshold: jsii.Number(-5)}
		}, "clientErrorAlarmThreshold -5 must not be negative"},
		{"cost alarm with alarms off", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AlarmsEnabled: jsii.Bool(false), BucketSizeAlarmThreshold: awscdk.Size_Gibibytes(jsii.Number(1))}
		}, "bucketSizeAlarmThreshold needs alarmsEnabled"},
		{"PUT requests alarm on an existing bucket", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Bucket: awss3.Bucket_FromBucketName(s, jsii.String("B"), jsii.String("bucket")), PutRequestAlarmThreshold: jsii.Number(100)}
		}, "putRequestAlarmThreshold configures a new bucket"},
		{"budget without a topic", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MonthlyBudget: jsii.Number(100)}
		}, "monthlyBudget needs alarmTopic"},
		{"budget of nothing", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MonthlyBudget: jsii.Number(0), AlarmTopic: awssns.Topic_FromTopicArn(s, jsii.String("T"), jsii.String("arn:aws:sns:eu-west-1:123456789012:ops"))}
		}, "monthlyBudget 0 must be above 0 US dollars"},
		{"budget tags without a budget", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MonthlyBudgetTags: &map[string]*string{"app": jsii.String("x")}}
		}, "monthlyBudgetTags needs monthlyBudget"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack()
			props := tc.props(stack)
			before := len(*stack.Node().Children()) // what the props themselves added
			defer func() {
				r := recover()
				if msg := fmt.Sprint(r); r == nil || !strings.Contains(msg, tc.want) || msg != strings.ToLower(msg[:1])+msg[1:] {
					t.Errorf("panic = %v, want a lowercase message containing %q", r, tc.want)
				}
				if n := len(*stack.Node().Children()); n != before {
					t.Errorf("stack has %d children after a rejected construct, want %d", n, before)
				}
			}()
			presignedupload.NewPresignedUploadApi(stack, jsii.String("Upload"), props)
		})
	}
	t.Run("caller's props are not changed", func(t *testing.T) {
		props := &presignedupload.PresignedUploadApiProps{}
		presignedupload.NewPresignedUploadApi(newStack(), jsii.String("Upload"), props)
		if props.KeyPrefix != nil || props.AllowedOrigins != nil || props.RemovalPolicy != "" {
			t.Errorf("props were filled in: %+v", props)
		}
	})
}

// function returns the upload function.
func (tm template) function(t *testing.T) resource {
	t.Helper()
	var found []resource
	for id, r := range tm.ofType("AWS::Lambda::Function") {
		if strings.HasPrefix(id, "UploadHandler") {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d upload functions, want 1", len(found))
	}
	return found[0]
}

// settingsOf decodes a function's settings the way the function does,
// with each reference spelled "<logical ID>".
func settingsOf[T api.Settings[T]](t *testing.T, fn resource) T {
	t.Helper()
	var zero T
	s, err := api.DecodeSettings[T](functionEnv(fn, zero.Variable()))
	if err != nil {
		t.Fatalf("the function's settings do not decode: %v", err)
	}
	return s
}

// handlerConfig decodes the upload function's settings.
func handlerConfig(t *testing.T, fn resource) api.UploadSettings {
	t.Helper()
	return settingsOf[api.UploadSettings](t, fn)
}
