package presignedupload_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
)

// synthWithAnnotations synthesizes once and returns the template and the
// stack's annotations. Annotations are read first: they force a synth,
// which the template then reuses.
func synthWithAnnotations(t *testing.T, props func(awscdk.Stack) *presignedupload.PresignedUploadApiProps) (template, assertions.Annotations) {
	t.Helper()
	stack := newStack()
	presignedupload.NewPresignedUploadApi(stack, jsii.String("Upload"), props(stack))
	notes := assertions.Annotations_FromStack(stack)
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tmpl template
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl, notes
}

// costThresholds are the thresholds of the cost alarms a test expects,
// 0 for an alarm that must be absent, and the JSON of the bucket's name
// the bucket's alarms watch.
type costThresholds struct {
	clientErrors, putRequests, bucketBytes float64
	bucket                                 string
}

// defaultCosts are the cost alarms' defaults on the bucket of that
// logical ID, created by the construct.
func defaultCosts(bucketID string) costThresholds {
	return costThresholds{1000, 10000, 1 << 40, `{"Ref":"` + bucketID + `"}`}
}

// checkAlarms checks the upload API's alarms: the three on failures and
// the cost alarms costs asks for, each on its metric, dimensions,
// statistic, period and threshold, and that each notifies actions (JSON),
// or nobody when actions is "".
func checkAlarms(t *testing.T, tm template, actions string, costs costThresholds) {
	t.Helper()
	_, restApi := tm.one(t, "AWS::ApiGateway::RestApi")
	apiName := jsonOf(restApi.Properties["Name"])
	type want struct {
		namespace, statistic, comparison string
		period, threshold                float64
		dimensions                       map[string]string // name → the start of its value's JSON
	}
	wants := map[string]want{
		"5XXError":  {"AWS/ApiGateway", "Average", "GreaterThanThreshold", 300, 0.05, map[string]string{"ApiName": apiName}},
		"Errors":    {"AWS/Lambda", "Sum", "GreaterThanOrEqualToThreshold", 300, 1, map[string]string{"FunctionName": `{"Ref":"UploadHandler`}},
		"Throttles": {"AWS/Lambda", "Sum", "GreaterThanOrEqualToThreshold", 300, 1, map[string]string{"FunctionName": `{"Ref":"UploadHandler`}},
	}
	if costs.clientErrors != 0 {
		wants["4XXError"] = want{"AWS/ApiGateway", "Sum", "GreaterThanThreshold", 300, costs.clientErrors, map[string]string{"ApiName": apiName}}
	}
	if costs.putRequests != 0 {
		wants["PutRequests"] = want{"AWS/S3", "Sum", "GreaterThanThreshold", 300, costs.putRequests,
			map[string]string{"BucketName": costs.bucket, "FilterId": `"Uploads"`}}
	}
	if costs.bucketBytes != 0 {
		wants["BucketSizeBytes"] = want{"AWS/S3", "Maximum", "GreaterThanThreshold", 86400, costs.bucketBytes,
			map[string]string{"BucketName": costs.bucket, "StorageType": `"StandardStorage"`}}
	}
	alarms := tm.ofType("AWS::CloudWatch::Alarm")
	for id := range alarms {
		if strings.HasPrefix(id, "UploadVerifier") { // verifier_test.go checks these
			delete(alarms, id)
		}
	}
	if len(alarms) != len(wants) {
		t.Errorf("%d alarms, want %d", len(alarms), len(wants))
	}
	for id, a := range alarms {
		p := a.Properties
		metric, _ := p["MetricName"].(string)
		w, ok := wants[metric]
		if !ok {
			t.Errorf("%s watches %q", id, metric)
			continue
		}
		delete(wants, metric)
		if p["Namespace"] != w.namespace || p["Statistic"] != w.statistic || p["Period"] != w.period || p["EvaluationPeriods"] != 1.0 ||
			p["ComparisonOperator"] != w.comparison || p["Threshold"] != w.threshold || p["TreatMissingData"] != "notBreaching" {
			t.Errorf("%s = %s", id, jsonOf(p))
		}
		dims, _ := p["Dimensions"].([]any)
		if len(dims) != len(w.dimensions) {
			t.Errorf("%s dimensions = %s, want %v", id, jsonOf(dims), w.dimensions)
		}
		for _, d := range dims {
			name, _ := get(d, "Name").(string)
			if value, ok := w.dimensions[name]; !ok || !strings.HasPrefix(jsonOf(get(d, "Value")), value) {
				t.Errorf("%s dimension %s = %s, want %s…", id, name, jsonOf(get(d, "Value")), value)
			}
		}
		if got := p["AlarmActions"]; (actions == "" && got != nil) || (actions != "" && jsonOf(got) != actions) {
			t.Errorf("%s AlarmActions = %s, want %q", id, jsonOf(got), actions)
		}
	}
	for metric := range wants {
		t.Errorf("no alarm on %s", metric)
	}
}

// checkMetricsConfiguration checks that the bucket has S3 request metrics
// on prefix alone, under the ID the PUT requests alarm reads, or none
// when prefix is "".
func checkMetricsConfiguration(t *testing.T, bucket resource, prefix string) {
	t.Helper()
	got := jsonOf(bucket.Properties["MetricsConfigurations"])
	want := "null"
	if prefix != "" {
		want = `[{"Id":"Uploads","Prefix":"` + prefix + `"}]`
	}
	if got != want {
		t.Errorf("MetricsConfigurations = %s, want %s", got, want)
	}
}

// methodSettings returns the stage's method settings by "METHOD path", the
// stage-wide entry under "* /*".
func methodSettings(t *testing.T, tm template) map[string]map[string]any {
	t.Helper()
	_, stage := tm.one(t, "AWS::ApiGateway::Stage")
	out := map[string]map[string]any{}
	for _, s := range stage.Properties["MethodSettings"].([]any) {
		m := s.(map[string]any)
		out[fmt.Sprint(m["HttpMethod"], " ", m["ResourcePath"])] = m
	}
	return out
}

// checkThrottledMethods checks that the stage throttles the method of
// every route of routes marked Throttled on its own, at rate and burst
// (JSON values, so a token's reference too) with the stage's logging and
// metrics, and no other method: a route marked later is covered without
// a test edit.
func checkThrottledMethods(t *testing.T, tm template, routes []api.Route, rate, burst string) {
	t.Helper()
	settings := methodSettings(t, tm)
	delete(settings, "* /*")
	throttled := 0
	for _, r := range routes {
		// API Gateway's path of a method setting: each '/' as "~1".
		key := r.Method + " /" + strings.ReplaceAll(r.Resource, "/", "~1")
		m, ok := settings[key]
		if !r.Throttled {
			if ok {
				t.Errorf("%s is throttled on its own: %s", r, jsonOf(m))
			}
			continue
		}
		throttled++
		if !ok {
			t.Errorf("%s is not throttled on its own", r)
			continue
		}
		if jsonOf(m["ThrottlingRateLimit"]) != rate || jsonOf(m["ThrottlingBurstLimit"]) != burst ||
			m["LoggingLevel"] != "INFO" || m["DataTraceEnabled"] != false || m["MetricsEnabled"] != true {
			t.Errorf("%s settings = %s, want rate %s, burst %s, and the stage's logging and metrics", r, jsonOf(m), rate, burst)
		}
	}
	if throttled == 0 {
		t.Fatal("no route is marked Throttled")
	}
	if len(settings) != throttled {
		t.Errorf("%d methods have settings of their own, want the %d throttled routes': %v", len(settings), throttled, sortedKeys(settings))
	}
}

// checkBucketGuardrails checks that the construct's bucket refuses SSE-C
// uploads and that its policy denies the function role's requests signed
// more than maxAgeMs milliseconds ago, on the key prefix.
func checkBucketGuardrails(t *testing.T, tm template, maxAgeMs float64) {
	t.Helper()
	bucketID, bucket := tm.one(t, "AWS::S3::Bucket")
	rule := get(bucket.Properties, "BucketEncryption", "ServerSideEncryptionConfiguration", 0)
	if got := jsonOf(get(rule, "BlockedEncryptionTypes", "EncryptionType")); got != `["SSE-C"]` {
		t.Errorf("blocked encryption types = %s, want [SSE-C]", got)
	}
	_, policy := tm.one(t, "AWS::S3::BucketPolicy")
	var stale map[string]any
	for _, s := range get(policy.Properties, "PolicyDocument", "Statement").([]any) {
		if get(s, "Sid") == "DenyStaleSignatures" {
			stale = s.(map[string]any)
		}
	}
	if stale == nil {
		t.Fatalf("bucket policy %s has no DenyStaleSignatures statement", jsonOf(policy.Properties["PolicyDocument"]))
	}
	if stale["Effect"] != "Deny" || jsonOf(stale["Action"]) != `"s3:*"` ||
		get(stale, "Condition", "NumericGreaterThan", "s3:signatureAge") != maxAgeMs {
		t.Errorf("DenyStaleSignatures = %s, want Deny s3:* when s3:signatureAge > %v", jsonOf(stale), maxAgeMs)
	}
	if got := jsonOf(get(stale, "Principal", "AWS")); !strings.Contains(got, `"Fn::GetAtt":["UploadHandlerRole`) || !strings.HasSuffix(got, `"Arn"]}`) {
		t.Errorf("DenyStaleSignatures principal = %s, want the function's role", got)
	}
	if got := jsonOf(stale["Resource"]); !strings.Contains(got, bucketID) || !strings.HasSuffix(got, `/uploads/*"]]}`) {
		t.Errorf("DenyStaleSignatures resource = %s, want the bucket's uploads/ prefix", got)
	}
}

// checkVersioned checks that the bucket is versioned and expires
// noncurrent versions after days, then the delete markers left alone.
func checkVersioned(t *testing.T, bucket resource, days float64) {
	t.Helper()
	if got := get(bucket.Properties, "VersioningConfiguration", "Status"); got != "Enabled" {
		t.Errorf("versioning status = %v, want Enabled", got)
	}
	rule := lifecycleRule(bucket, "ExpireNoncurrentVersions")
	if get(rule, "NoncurrentVersionExpiration", "NoncurrentDays") != days || get(rule, "ExpiredObjectDeleteMarker") != true || get(rule, "Status") != "Enabled" {
		t.Errorf("noncurrent version rule = %s, want %v days", jsonOf(rule), days)
	}
}

// noPanic turns an assertion's panic into a test error.
func noPanic(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Error(r)
		}
	}()
	f()
}

// wafRule returns the web ACL's rule of that name.
func wafRule(t *testing.T, acl resource, name string) map[string]any {
	t.Helper()
	for _, r := range acl.Properties["Rules"].([]any) {
		if get(r, "Name") == name {
			return r.(map[string]any)
		}
	}
	t.Fatalf("no web ACL rule %s in %s", name, jsonOf(acl.Properties["Rules"]))
	return nil
}

func TestGuardrails(t *testing.T) {
	t.Run("every option on", func(t *testing.T) {
		tm, notes := synthWithAnnotations(t, func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{
				AllowedOrigins: jsii.Strings("https://uploads.example.com:8443", "https://shop.test", "https://notexample.com", "https://example.com.mycompany.net"),
				AlarmTopic:     awssns.NewTopic(s, jsii.String("Alarms"), nil),
				WebAclEnabled:  jsii.Bool(true),
				RemovalPolicy:  awscdk.RemovalPolicy_DESTROY,
				Versioned:      jsii.Bool(true),
				UrlExpiry:      awscdk.Duration_Minutes(jsii.Number(10)),
				// A token is not checked against the stage's limit.
				ThrottledRouteRateLimit:   awscdk.NewCfnParameter(s, jsii.String("RouteRate"), &awscdk.CfnParameterProps{Type: jsii.String("Number")}).ValueAsNumber(),
				ThrottledRouteBurstLimit:  jsii.Number(4),
				ClientErrorAlarmThreshold: jsii.Number(50),
				PutRequestAlarmThreshold:  jsii.Number(2000),
				BucketSizeAlarmThreshold:  awscdk.Size_Gibibytes(jsii.Number(100)),
				MonthlyBudget:             jsii.Number(200),
				MonthlyBudgetTags:         &map[string]*string{"app": jsii.String("presigned-upload")},
				QuotaBytes:                awscdk.Size_Gibibytes(jsii.Number(5)),
				QuotaSessions:             jsii.Number(3),
			}
		})
		bucketID, bucket := tm.one(t, "AWS::S3::Bucket")
		topic, _ := tm.one(t, "AWS::SNS::Topic")

		t.Run("with quotas both functions may read and write the ledgers, and only them", func(t *testing.T) {
			want := grant{"s3:GetObject s3:PutObject", "<" + bucketID + ".Arn>/upload-quotas/*"}
			for _, role := range []string{"UploadHandlerRole", "UploadVerifierRole"} {
				if got := tm.roleStatements(role)["QuotaLedgers"]; len(got) != 1 || grantOf(got[0]) != want {
					t.Errorf("%s QuotaLedgers = %s, want %+v", role, jsonOf(got), want)
				}
			}
			if s := handlerConfig(t, tm.function(t)); s.QuotaBytes != 5<<30 || s.QuotaSessions != 3 || s.QuotaPrefix != api.DefaultQuotaPrefix {
				t.Errorf("the function's quotas = %+v", s.Limits())
			}
		})

		t.Run("synth warns about placeholder origins by the setting's name", func(t *testing.T) {
			noPanic(t, func() {
				notes.HasWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(`allowedOrigins lists https://uploads\.example\.com:8443, https://shop\.test,`)))
			})
			for _, m := range *notes.FindWarning(jsii.String("*"), assertions.Match_AnyValue()) {
				if msg := fmt.Sprint(m.Entry.Data); strings.Contains(msg, "notexample.com") || strings.Contains(msg, "mycompany") {
					t.Errorf("warning names a real domain: %s", msg)
				}
			}
		})
		t.Run("bucket refuses signatures older than 10 minutes plus clock skew", func(t *testing.T) {
			checkBucketGuardrails(t, tm, 900000)
		})
		t.Run("alarms at the props' thresholds notify the topic", func(t *testing.T) {
			checkAlarms(t, tm, `[{"Ref":"`+topic+`"}]`, costThresholds{50, 2000, 100 << 30, `{"Ref":"` + bucketID + `"}`})
		})
		t.Run("S3 counts the requests under the key prefix for the PUT requests alarm", func(t *testing.T) {
			checkMetricsConfiguration(t, bucket, "uploads/")
		})
		t.Run("the routes a caller could loop are throttled at the props' limits, a token as it is", func(t *testing.T) {
			checkThrottledMethods(t, tm, api.RoutesFor(api.UploadSettings{Verified: true, QuotaBytes: 1}), `{"Ref":"RouteRate"}`, "4")
		})
		t.Run("a monthly budget on the tagged resources' cost notifies the topic at 80% spent and 100% forecast", func(t *testing.T) {
			_, budget := tm.one(t, "AWS::Budgets::Budget")
			b := budget.Properties["Budget"]
			if get(b, "BudgetType") != "COST" || get(b, "TimeUnit") != "MONTHLY" || jsonOf(get(b, "BudgetLimit")) != `{"Amount":200,"Unit":"USD"}` {
				t.Errorf("budget = %s", jsonOf(b))
			}
			if got := jsonOf(get(b, "FilterExpression")); got != `{"Tags":{"Key":"app","MatchOptions":["EQUALS"],"Values":["presigned-upload"]}}` {
				t.Errorf("filter = %s, want the app tag", got)
			}
			// Budget names are per account, so two regions' stacks must not share one.
			if got := jsonOf(get(b, "BudgetName")); !strings.Contains(got, `{"Ref":"AWS::Region"}`) {
				t.Errorf("budget name = %s, want the region in it", got)
			}
			sns := `[{"Address":{"Ref":"` + topic + `"},"SubscriptionType":"SNS"}]`
			want := `[{"Notification":{"ComparisonOperator":"GREATER_THAN","NotificationType":"ACTUAL","Threshold":80,"ThresholdType":"PERCENTAGE"},"Subscribers":` + sns + `},` +
				`{"Notification":{"ComparisonOperator":"GREATER_THAN","NotificationType":"FORECASTED","Threshold":100,"ThresholdType":"PERCENTAGE"},"Subscribers":` + sns + `}]`
			if got := jsonOf(budget.Properties["NotificationsWithSubscribers"]); got != want {
				t.Errorf("notifications =\n%s\nwant\n%s", got, want)
			}
		})
		t.Run("the topic lets this account's budgets publish, before the budget exists", func(t *testing.T) {
			policyID, policy := tm.one(t, "AWS::SNS::TopicPolicy")
			want := `{"Action":"sns:Publish","Condition":{"ArnLike":{"aws:SourceArn":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":budgets::",{"Ref":"AWS::AccountId"},":*"]]}},` +
				`"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}},"Effect":"Allow","Principal":{"Service":"budgets.amazonaws.com"},"Resource":{"Ref":"` + topic + `"},"Sid":"AllowBudgetsToPublish"}`
			if got := jsonOf(get(policy.Properties, "PolicyDocument", "Statement")); got != "["+want+"]" {
				t.Errorf("topic policy =\n%s\nwant\n[%s]", got, want)
			}
			_, budget := tm.one(t, "AWS::Budgets::Budget")
			if !slices.Contains(budget.DependsOn, policyID) {
				t.Errorf("budget DependsOn = %v, want %s", budget.DependsOn, policyID)
			}
			noPanic(t, func() {
				notes.HasNoWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("monthlyBudget")))
			})
		})

		t.Run("versioned bucket expires noncurrent versions after 30 days", func(t *testing.T) {
			checkVersioned(t, bucket, 30)
		})

		t.Run("API Gateway's account logging role outlives a DESTROY stack", func(t *testing.T) {
			retained := map[string]resource{}
			for id, r := range tm.ofType("AWS::IAM::Role") {
				if strings.Contains(jsonOf(r.Properties["AssumeRolePolicyDocument"]), "apigateway.amazonaws.com") {
					retained[id] = r
				}
			}
			if len(retained) != 1 {
				t.Fatalf("%d roles API Gateway assumes, want 1", len(retained))
			}
			id, account := tm.one(t, "AWS::ApiGateway::Account")
			retained[id] = account
			for id, r := range retained {
				if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
					t.Errorf("%s DeletionPolicy %q UpdateReplacePolicy %q, want Retain for both", id, r.DeletionPolicy, r.UpdateReplacePolicy)
				}
			}
			if bucket.DeletionPolicy != "Delete" {
				t.Errorf("bucket DeletionPolicy = %q, want Delete: the stack's policy still applies to its own resources", bucket.DeletionPolicy)
			}
		})

		t.Run("web ACL lets large multipart bodies through and no others", func(t *testing.T) {
			_, acl := tm.one(t, "AWS::WAFv2::WebACL")
			common := wafRule(t, acl, "AWSManagedRulesCommonRuleSet")
			overrides := jsonOf(get(common, "Statement", "ManagedRuleGroupStatement", "RuleActionOverrides"))
			if overrides != `[{"ActionToUse":{"Count":{}},"Name":"SizeRestrictions_BODY"}]` {
				t.Errorf("Common rule set overrides = %s, want SizeRestrictions_BODY counted", overrides)
			}
			priorities := map[float64]bool{}
			for _, r := range acl.Properties["Rules"].([]any) {
				p := get(r, "Priority").(float64)
				if priorities[p] {
					t.Errorf("two rules with priority %v", p)
				}
				priorities[p] = true
			}
			rule := wafRule(t, acl, "SizeRestrictionsBodyExceptMultipart")
			if p, c := get(rule, "Priority").(float64), get(common, "Priority").(float64); p <= c {
				t.Errorf("exception priority %v, want after the Common rule set's %v: the label must exist when it runs", p, c)
			}
			if jsonOf(get(rule, "Action")) != `{"Block":{}}` {
				t.Errorf("exception action = %s, want Block", jsonOf(get(rule, "Action")))
			}
			both := get(rule, "Statement", "AndStatement", "Statements")
			if got := get(both, 0, "LabelMatchStatement", "Key"); got != "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body" {
				t.Errorf("label = %v", got)
			}
			match := get(both, 1, "NotStatement", "Statement", "RegexMatchStatement")
			if jsonOf(get(match, "FieldToMatch")) != `{"UriPath":{}}` {
				t.Errorf("regex inspects %s, want the URI path", jsonOf(get(match, "FieldToMatch")))
			}
			re, err := regexp.Compile(get(match, "RegexString").(string))
			if err != nil {
				t.Fatal(err)
			}
			if re.NumSubexp() != 0 {
				t.Errorf("%s has capturing groups, which WAF refuses", re)
			}
			routePath := func(stage, route string) string {
				return stage + strings.ReplaceAll(route, "{uploadId}", "abc.DEF-123")
			}
			for _, path := range []string{
				"/prod/multipart/abc.DEF-123/complete",
				routePath("/prod", api.CompleteMultipart.Resource),
				routePath("/prod", api.SignParts.Resource),
				routePath("", api.CompleteMultipart.Resource), // a custom domain without a base path
			} {
				if !re.MatchString(path) {
					t.Errorf("%s does not match %s, so large bodies there are blocked", re, path)
				}
			}
			for _, path := range []string{
				"/prod/get-upload-url",
				routePath("/prod", api.UploadForm.Resource),
				routePath("/prod", api.StartMultipart.Resource),
				routePath("/prod", api.AbortMultipart.Resource),
				"/prod/multipart/a/b/complete",
				"/prod/multipart//complete",
				"/prod/multipart/a/complete/x",
				"/a/b/multipart/x/complete",
			} {
				if re.MatchString(path) {
					t.Errorf("%s matches %s, which must keep the 8 KB body limit", re, path)
				}
			}
		})
	})

	t.Run("opted out, with an existing bucket", func(t *testing.T) {
		tm, notes := synthWithAnnotations(t, func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{
				Bucket:           awss3.NewBucket(s, jsii.String("Existing"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true), Versioned: jsii.Bool(true)}),
				AlarmsEnabled:    jsii.Bool(false),
				PreventOverwrite: jsii.Bool(false),
				// The stage's own limits: no per-method throttles.
				ThrottledRouteRateLimit:  jsii.Number(100),
				ThrottledRouteBurstLimit: jsii.Number(200),
			}
		})
		t.Run("overwrites allowed on an existing bucket: synth says to keep it versioned", func(t *testing.T) {
			if cfg := handlerConfig(t, tm.function(t)); cfg.PreventOverwrite {
				t.Errorf("preventOverwrite on, want the false asked for")
			}
			noPanic(t, func() {
				notes.HasWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(`preventOverwrite is off on an existing bucket: keep the bucket versioned`)))
			})
		})
		t.Run("an existing bucket's encryption and policy are left alone", func(t *testing.T) {
			_, bucket := tm.one(t, "AWS::S3::Bucket")
			if got := get(bucket.Properties, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "BlockedEncryptionTypes"); got != nil {
				t.Errorf("existing bucket's blocked encryption types = %s, want none set", jsonOf(got))
			}
			_, policy := tm.one(t, "AWS::S3::BucketPolicy")
			if doc := jsonOf(policy.Properties["PolicyDocument"]); strings.Contains(doc, "signatureAge") {
				t.Errorf("existing bucket's policy %s gained a statement", doc)
			}
		})
		t.Run("no warning for any origin", func(t *testing.T) {
			noPanic(t, func() {
				notes.HasNoWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("allowedOrigins")))
			})
		})
		t.Run("no alarms, no budget", func(t *testing.T) {
			for _, typ := range []string{"AWS::CloudWatch::Alarm", "AWS::Budgets::Budget"} {
				if n := tm.count(typ); n != 0 {
					t.Errorf("%d %s, want 0", n, typ)
				}
			}
		})
		t.Run("throttled routes at the stage's limits: no method has settings of its own", func(t *testing.T) {
			if got := methodSettings(t, tm); len(got) != 1 || got["* /*"] == nil {
				t.Errorf("method settings = %s, want the stage's alone", jsonOf(got))
			}
		})
	})
}
