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
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
)

// synthWith synthesizes the construct that props (made in the stack)
// describe, after use has added to it, optionally under cdk-nag's
// AwsSolutions checks. It returns the template, the stack's annotations
// and the construct.
func synthWith(t *testing.T, nag bool, props func(awscdk.Stack) *presignedupload.PresignedUploadApiProps,
	use func(awscdk.Stack, *presignedupload.PresignedUploadApi)) (template, assertions.Annotations, *presignedupload.PresignedUploadApi) {
	t.Helper()
	stack := newStack()
	if nag {
		awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	}
	c := presignedupload.NewPresignedUploadApi(stack, jsii.String("Upload"), props(stack))
	if use != nil {
		use(stack, c)
	}
	notes := assertions.Annotations_FromStack(stack)
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tm template
	if err := json.Unmarshal(raw, &tm); err != nil {
		t.Fatal(err)
	}
	return tm, notes, c
}

// flat spells a CloudFormation string value as one string: a reference
// as <logical ID>, an attribute as <logical ID.attribute>.
func flat(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			return "<" + ref + ">"
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok {
			return fmt.Sprintf("<%v.%v>", att[0], att[1])
		}
		if join, ok := v["Fn::Join"].([]any); ok {
			var b strings.Builder
			for i, p := range join[1].([]any) {
				if i > 0 {
					b.WriteString(join[0].(string))
				}
				b.WriteString(flat(p))
			}
			return b.String()
		}
	}
	return jsonOf(v)
}

// flats spells a value that may be one string or a list of them.
func flats(v any) []string {
	if l, ok := v.([]any); ok {
		out := make([]string, 0, len(l))
		for _, x := range l {
			out = append(out, flat(x))
		}
		return out
	}
	return []string{flat(v)}
}

// idOf returns the logical ID of the only resource of a type whose ID
// starts with prefix.
func (tm template) idOf(t *testing.T, typ, prefix string) string {
	t.Helper()
	var found []string
	for id := range tm.ofType(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s named %s…, want 1: %v", len(found), typ, prefix, found)
	}
	return found[0]
}

// roleStatements returns the statements of the policies attached to the
// role whose logical ID starts with prefix, by Sid, with those without a
// Sid under "".
func (tm template) roleStatements(prefix string) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, p := range tm.ofType("AWS::IAM::Policy") {
		if !strings.Contains(jsonOf(p.Properties["Roles"]), `"Ref":"`+prefix) {
			continue
		}
		for _, s := range get(p.Properties, "PolicyDocument", "Statement").([]any) {
			st := s.(map[string]any)
			sid, _ := st["Sid"].(string)
			out[sid] = append(out[sid], st)
		}
	}
	return out
}

// grant is what one statement allows, spelled flat.
type grant struct {
	actions   string
	resources string
}

func grantOf(s map[string]any) grant {
	acts := actions(s)
	sort.Strings(acts)
	res := flats(s["Resource"])
	sort.Strings(res)
	return grant{strings.Join(acts, " "), strings.Join(res, " ")}
}

// bucketStatement returns the bucket policy's statement with that Sid.
func (tm template) bucketStatement(t *testing.T, sid string) map[string]any {
	t.Helper()
	_, policy := tm.one(t, "AWS::S3::BucketPolicy")
	for _, s := range get(policy.Properties, "PolicyDocument", "Statement").([]any) {
		if get(s, "Sid") == sid {
			return s.(map[string]any)
		}
	}
	t.Fatalf("bucket policy has no %s statement", sid)
	return nil
}

// lifecycleRule returns the bucket's lifecycle rule with that ID, nil when
// there is none.
func lifecycleRule(bucket resource, id string) map[string]any {
	rules, _ := get(bucket.Properties, "LifecycleConfiguration", "Rules").([]any)
	for _, r := range rules {
		if get(r, "Id") == id {
			return r.(map[string]any)
		}
	}
	return nil
}

// ruleWith returns the event rule whose pattern has that source.
func (tm template) ruleWith(t *testing.T, source string) resource {
	t.Helper()
	var found []resource
	for _, r := range tm.ofType("AWS::Events::Rule") {
		if slices.Contains(strs(get(r.Properties, "EventPattern", "source")), source) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rules for source %s, want 1", len(found), source)
	}
	return found[0]
}

// functionEnv returns a function's environment variable, spelled flat.
func functionEnv(fn resource, name string) string {
	return flat(get(fn.Properties, "Environment", "Variables", name))
}

// checkQueueTarget checks that a rule delivers to the verifier's queue
// and sends what it cannot deliver to the dead-letter queue.
func checkQueueTarget(t *testing.T, r resource, queue, dlq string) {
	t.Helper()
	targets := r.Properties["Targets"].([]any)
	if len(targets) != 1 || flat(get(targets[0], "Arn")) != "<"+queue+".Arn>" || flat(get(targets[0], "DeadLetterConfig", "Arn")) != "<"+dlq+".Arn>" {
		t.Errorf("targets = %s, want the queue with the dead-letter queue", jsonOf(targets))
	}
}

func TestVerifier(t *testing.T) {
	tm, _, _ := synthWith(t, false, func(awscdk.Stack) *presignedupload.PresignedUploadApiProps { return nil },
		func(s awscdk.Stack, c *presignedupload.PresignedUploadApi) {
			topic := awssns.NewTopic(s, jsii.String("Uploads"), nil)
			c.OnUploadVerified(jsii.String("Verified"), awseventstargets.NewSnsTopic(topic, nil))
			c.OnUploadRejected(jsii.String("Rejected"), awseventstargets.NewSnsTopic(topic, nil))
		})
	bucketID, bucket := tm.one(t, "AWS::S3::Bucket")
	queue := tm.idOf(t, "AWS::SQS::Queue", "UploadVerifierQueue")
	dlq := tm.idOf(t, "AWS::SQS::Queue", "UploadVerifierDeadLetterQueue")
	fnID := tm.idOf(t, "AWS::Lambda::Function", "UploadVerifier")
	fn := tm.Resources[fnID]
	busID := tm.idOf(t, "AWS::Events::EventBus", "UploadEventBus")
	roleID := tm.idOf(t, "AWS::IAM::Role", "UploadVerifierRole")

	t.Run("the bucket itself sends its events to EventBridge, with no custom resource", func(t *testing.T) {
		if got := get(bucket.Properties, "NotificationConfiguration", "EventBridgeConfiguration", "EventBridgeEnabled"); got != true {
			t.Errorf("NotificationConfiguration = %s, want EventBridgeConfiguration.EventBridgeEnabled true", jsonOf(bucket.Properties["NotificationConfiguration"]))
		}
		if n := tm.count("Custom::S3BucketNotifications"); n != 0 {
			t.Errorf("%d Custom::S3BucketNotifications, want 0", n)
		}
		// The upload function and the verifier: no notifications handler.
		tm.each(t, "AWS::Lambda::Function", 2)
	})
	t.Run("a rule on the default bus matches every way the API stores an object under the prefix", func(t *testing.T) {
		r := tm.ruleWith(t, "aws.s3")
		if bus, ok := r.Properties["EventBusName"]; ok {
			t.Errorf("rule on bus %s, want the default bus, where S3 sends", jsonOf(bus))
		}
		want := `{"detail":{"bucket":{"name":[{"Ref":"` + bucketID + `"}]},"object":{"key":[{"prefix":"uploads/"}]},` +
			`"reason":["PutObject","POST Object","CompleteMultipartUpload"]},"detail-type":["Object Created"],"source":["aws.s3"]}`
		if got := jsonOf(r.Properties["EventPattern"]); got != want {
			t.Errorf("pattern =\n%s\nwant\n%s", got, want)
		}
		if r.Properties["State"] != "ENABLED" {
			t.Errorf("State = %v", r.Properties["State"])
		}
		checkQueueTarget(t, r, queue, dlq)
	})
	t.Run("queues: encrypted, TLS-only, redriven after 5 receives to a 14-day dead-letter queue", func(t *testing.T) {
		q, d := tm.Resources[queue].Properties, tm.Resources[dlq].Properties
		if q["SqsManagedSseEnabled"] != true || d["SqsManagedSseEnabled"] != true {
			t.Errorf("SSE: queue %v, dead-letter queue %v", q["SqsManagedSseEnabled"], d["SqsManagedSseEnabled"])
		}
		if flat(get(q, "RedrivePolicy", "deadLetterTargetArn")) != "<"+dlq+".Arn>" || get(q, "RedrivePolicy", "maxReceiveCount") != 5.0 {
			t.Errorf("RedrivePolicy = %s", jsonOf(q["RedrivePolicy"]))
		}
		if q["MessageRetentionPeriod"] != 4*86400.0 || d["MessageRetentionPeriod"] != 14*86400.0 {
			t.Errorf("retention: queue %v, dead-letter queue %v", q["MessageRetentionPeriod"], d["MessageRetentionPeriod"])
		}
		if timeout := fn.Properties["Timeout"].(float64); q["VisibilityTimeout"] != 6*timeout {
			t.Errorf("VisibilityTimeout = %v, want 6 times the verifier's %vs", q["VisibilityTimeout"], timeout)
		}
		for _, id := range []string{queue, dlq} {
			var doc string
			for _, p := range tm.ofType("AWS::SQS::QueuePolicy") {
				if flats(p.Properties["Queues"])[0] == "<"+id+">" {
					doc = jsonOf(get(p.Properties, "PolicyDocument"))
				}
			}
			if !strings.Contains(doc, `"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"`) {
				t.Errorf("%s policy %s lacks the TLS-only deny", id, doc)
			}
			// EventBridge may send to both: the queue is the rule's target,
			// the dead-letter queue the target's.
			if !strings.Contains(doc, `"Service":"events.amazonaws.com"`) || !strings.Contains(doc, `"aws:SourceArn"`) {
				t.Errorf("%s policy %s does not let the rule send", id, doc)
			}
		}
	})
	t.Run("the verifier reads the queue in batches and reports the records to retry", func(t *testing.T) {
		_, esm := tm.one(t, "AWS::Lambda::EventSourceMapping")
		p := esm.Properties
		if flat(p["FunctionName"]) != "<"+fnID+">" || flat(p["EventSourceArn"]) != "<"+queue+".Arn>" ||
			p["BatchSize"] != 10.0 || jsonOf(p["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` {
			t.Errorf("event source mapping = %s", jsonOf(p))
		}
	})
	t.Run("the verifier: Go, the upload function's settings and its own, its own log group", func(t *testing.T) {
		p := fn.Properties
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || jsonOf(p["Architectures"]) != `["arm64"]` || get(p, "LoggingConfig", "LogFormat") != "JSON" {
			t.Errorf("verifier = %s", jsonOf(p))
		}
		if ref := flat(get(p, "LoggingConfig", "LogGroup")); !strings.HasPrefix(ref, "<UploadVerifierLogs") {
			t.Errorf("log group = %s, want its own", ref)
		}
		s := settingsOf[api.VerifierSettings](t, fn)
		want := api.VerifierSettings{UploadSettings: handlerConfig(t, tm.function(t)),
			EventBusName: "<" + busID + ">", MarkerPrefix: "upload-verifications/", MalwareScanTimeout: 3600}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("settings = %+v, want %+v", s, want)
		}
	})
	t.Run("the verifier's role may do exactly what the verifier calls", func(t *testing.T) {
		arn := "<" + bucketID + ".Arn>"
		want := map[string]grant{
			"VerifyUploads":       {"s3:GetObject s3:GetObjectTagging s3:GetObjectVersion s3:GetObjectVersionTagging s3:PutObjectTagging s3:PutObjectVersionTagging", arn + "/uploads/*"},
			"VerificationMarkers": {"s3:GetObject s3:PutObject", arn + "/upload-verifications/*"},
			"MissingObjects":      {"s3:ListBucket", arn},
			"PublishUploadEvents": {"events:PutEvents", "<" + busID + ".Arn>"},
		}
		got := tm.roleStatements("UploadVerifierRole")
		for sid, w := range want {
			if len(got[sid]) != 1 || grantOf(got[sid][0]) != w {
				t.Errorf("%s = %s, want %+v", sid, jsonOf(got[sid]), w)
			}
		}
		var rest []grant
		for _, s := range got[""] {
			rest = append(rest, grantOf(s))
		}
		sort.Slice(rest, func(i, j int) bool { return rest[i].actions < rest[j].actions })
		wantRest := []grant{
			{"logs:CreateLogStream logs:PutLogEvents", "<" + tm.idOf(t, "AWS::Logs::LogGroup", "UploadVerifierLogs") + ".Arn>"},
			{"sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ReceiveMessage", "<" + queue + ".Arn>"},
		}
		if !reflect.DeepEqual(rest, wantRest) {
			t.Errorf("statements without a Sid = %+v, want %+v", rest, wantRest)
		}
		if n := len(got) - 1; n != len(want) {
			t.Errorf("%d statements with a Sid, want %d: %v", n, len(want), sortedKeys(got))
		}
		if role := tm.Resources[roleID]; role.Properties["ManagedPolicyArns"] != nil || role.Properties["Policies"] != nil {
			t.Errorf("verifier role = %s, want only its own policy", jsonOf(role.Properties))
		}
	})
	t.Run("the prefix wildcards are accepted for cdk-nag with a reason", func(t *testing.T) {
		id := tm.idOf(t, "AWS::IAM::Policy", "UploadVerifierRoleDefaultPolicy")
		got := get(tm.Resources[id].Metadata, "cdk_nag", "rules_to_suppress", 0)
		if get(got, "id") != "AwsSolutions-IAM5" || get(got, "applies_to", 0, "regex") != `/^Resource::<.*\.Arn>/(uploads/|upload-verifications/)\*$/` {
			t.Errorf("suppression = %s", jsonOf(got))
		}
	})
	t.Run("the upload function may read the status tags of uploads", func(t *testing.T) {
		got := tm.roleStatements("UploadHandlerRole")["UploadStatus"]
		if len(got) != 1 || grantOf(got[0]) != (grant{"s3:GetObjectTagging", "<" + bucketID + ".Arn>/uploads/*"}) {
			t.Errorf("UploadStatus = %s", jsonOf(got))
		}
	})
	t.Run("alarms on the dead-letter queue and on the verifier's errors", func(t *testing.T) {
		a := tm.Resources[tm.idOf(t, "AWS::CloudWatch::Alarm", "UploadVerifierDeadLetterQueueAlarm")].Properties
		if a["Namespace"] != "AWS/SQS" || a["MetricName"] != "ApproximateNumberOfMessagesVisible" || a["Statistic"] != "Maximum" ||
			a["Threshold"] != 0.0 || a["ComparisonOperator"] != "GreaterThanThreshold" || a["Period"] != 300.0 ||
			get(a, "Dimensions", 0, "Name") != "QueueName" || flat(get(a, "Dimensions", 0, "Value")) != "<"+dlq+".QueueName>" {
			t.Errorf("dead-letter queue alarm = %s", jsonOf(a))
		}
		a = tm.Resources[tm.idOf(t, "AWS::CloudWatch::Alarm", "UploadVerifierErrorsAlarm")].Properties
		if a["Namespace"] != "AWS/Lambda" || a["MetricName"] != "Errors" || a["Threshold"] != 1.0 ||
			a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || flat(get(a, "Dimensions", 0, "Value")) != "<"+fnID+">" {
			t.Errorf("verifier errors alarm = %s", jsonOf(a))
		}
		if n := len(tm.under("UploadVerifier").ofType("AWS::CloudWatch::Alarm")); n != 2 {
			t.Errorf("%d alarms of the verifier, want 2", n)
		}
	})
	t.Run("the bucket serves no unverified upload but to the verifier, and only the verifier sets its status", func(t *testing.T) {
		checkQuarantine(t, tm, bucketID, `["upload-status","upload-reason"]`, "<"+roleID+".Arn>")
	})
	t.Run("overwrites are left to versioning: the bucket requires no If-None-Match", func(t *testing.T) {
		checkWrites(t, tm, productWrites(bucketID, tm.idOf(t, "AWS::IAM::Role", "UploadHandlerRole"), roleID, ""),
			map[string]string{"anyone's status tag": "DenyStatusTagsButVerifier"})
	})
	t.Run("lifecycle deletes rejected uploads after 7 days and markers after 30", func(t *testing.T) {
		checkLifecycle(t, bucket, 7)
		if n := len(get(bucket.Properties, "LifecycleConfiguration", "Rules").([]any)); n != 5 {
			t.Errorf("%d lifecycle rules, want 5: the upload API's two, noncurrent versions' and these two", n)
		}
	})
	t.Run("its own bus, and a rule per method on it", func(t *testing.T) {
		for _, tc := range []struct{ id, detailType string }{{"UploadVerified", "Upload Verified"}, {"UploadRejected", "Upload Rejected"}} {
			r := tm.Resources[tm.idOf(t, "AWS::Events::Rule", tc.id)]
			if got := flat(r.Properties["EventBusName"]); got != "<"+busID+">" {
				t.Errorf("%s bus = %s", tc.id, got)
			}
			if got, want := jsonOf(r.Properties["EventPattern"]), `{"detail-type":["`+tc.detailType+`"],"source":["presigned-upload"]}`; got != want {
				t.Errorf("%s pattern = %s, want %s", tc.id, got, want)
			}
			if got := flat(get(r.Properties, "Targets", 0, "Arn")); !strings.HasPrefix(got, "<Uploads") {
				t.Errorf("%s target = %s, want the topic", tc.id, got)
			}
		}
		if api.EventSource != "presigned-upload" || api.EventUploadVerified != "Upload Verified" || api.EventUploadRejected != "Upload Rejected" {
			t.Error("the event contract changed: update the README and this test")
		}
	})
	t.Run("no malware scan unless asked", func(t *testing.T) {
		for _, typ := range []string{"AWS::GuardDuty::MalwareProtectionPlan"} {
			if n := tm.count(typ); n != 0 {
				t.Errorf("%d %s, want 0", n, typ)
			}
		}
	})
}

// checkQuarantine checks the bucket policy's two statements: reads of
// anything under the prefix not tagged verified are denied to all but the
// exempt roles, and so is writing the tags that carry a verdict (tags,
// JSON).
func checkQuarantine(t *testing.T, tm template, bucketID, tags string, exempt ...string) {
	t.Helper()
	uploads := "<" + bucketID + ".Arn>/uploads/*"
	reads := tm.bucketStatement(t, "DenyUnverifiedReads")
	if reads["Effect"] != "Deny" || jsonOf(reads["Principal"]) != `{"AWS":"*"}` || grantOf(reads) != (grant{"s3:GetObject s3:GetObjectVersion", uploads}) ||
		jsonOf(get(reads, "Condition", "StringNotEquals")) != `{"s3:ExistingObjectTag/upload-status":"verified"}` {
		t.Errorf("DenyUnverifiedReads = %s", jsonOf(reads))
	}
	if got := flats(get(reads, "Condition", "ArnNotEquals", "aws:PrincipalArn")); !slices.Equal(got, exempt) {
		t.Errorf("reads exempt %v, want %v", got, exempt)
	}
	writes := tm.bucketStatement(t, "DenyStatusTagsButVerifier")
	if writes["Effect"] != "Deny" || jsonOf(writes["Principal"]) != `{"AWS":"*"}` ||
		grantOf(writes) != (grant{"s3:PutObject s3:PutObjectTagging s3:PutObjectVersionTagging", uploads}) ||
		jsonOf(get(writes, "Condition", "ForAnyValue:StringEquals")) != `{"s3:RequestObjectTagKeys":`+tags+`}` {
		t.Errorf("DenyStatusTagsButVerifier = %s, want the tags %s", jsonOf(writes), tags)
	}
	if got := flats(get(writes, "Condition", "ArnNotEquals", "aws:PrincipalArn")); !slices.Equal(got, exempt) {
		t.Errorf("status tags exempt %v, want %v", got, exempt)
	}
}

// checkLifecycle checks the rules that delete rejected uploads after days
// and markers after 30 days.
func checkLifecycle(t *testing.T, bucket resource, days float64) {
	t.Helper()
	rejected := lifecycleRule(bucket, "ExpireRejectedUploads")
	if get(rejected, "Prefix") != "uploads/" || jsonOf(get(rejected, "TagFilters")) != `[{"Key":"upload-status","Value":"rejected"}]` ||
		get(rejected, "ExpirationInDays") != days || get(rejected, "Status") != "Enabled" {
		t.Errorf("rejected uploads rule = %s", jsonOf(rejected))
	}
	markers := lifecycleRule(bucket, "ExpireVerificationMarkers")
	if get(markers, "Prefix") != "upload-verifications/" || get(markers, "ExpirationInDays") != 30.0 || get(markers, "Status") != "Enabled" {
		t.Errorf("markers rule = %s", jsonOf(markers))
	}
}

func TestVerifierOff(t *testing.T) {
	tm, _, c := synthWith(t, false, func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
		return &presignedupload.PresignedUploadApiProps{VerifierEnabled: jsii.Bool(false), EventBridgeEnabled: jsii.Bool(true)}
	}, nil)
	_, bucket := tm.one(t, "AWS::S3::Bucket")
	t.Run("EventBridgeEnabled is set on the bucket itself, with no custom resource", func(t *testing.T) {
		if got := get(bucket.Properties, "NotificationConfiguration", "EventBridgeConfiguration", "EventBridgeEnabled"); got != true {
			t.Errorf("NotificationConfiguration = %s", jsonOf(bucket.Properties["NotificationConfiguration"]))
		}
		if n := tm.count("Custom::S3BucketNotifications"); n != 0 {
			t.Errorf("%d Custom::S3BucketNotifications, want 0", n)
		}
		tm.each(t, "AWS::Lambda::Function", 1)
	})
	t.Run("nothing of the verifier", func(t *testing.T) {
		for _, typ := range []string{"AWS::Events::Rule", "AWS::Events::EventBus", "AWS::SQS::Queue", "AWS::Lambda::EventSourceMapping", "AWS::GuardDuty::MalwareProtectionPlan"} {
			if n := tm.count(typ); n != 0 {
				t.Errorf("%d %s, want 0", n, typ)
			}
		}
		if c.EventBus != nil || c.VerifierFunction != nil || c.VerifierQueue != nil || c.VerifierDeadLetterQueue != nil {
			t.Error("the construct exposes verifier parts")
		}
		_, policy := tm.one(t, "AWS::S3::BucketPolicy")
		if doc := jsonOf(policy.Properties["PolicyDocument"]); strings.Contains(doc, "ExistingObjectTag") || strings.Contains(doc, "RequestObjectTagKeys") {
			t.Errorf("bucket policy %s denies by status", doc)
		}
		if lifecycleRule(bucket, "ExpireRejectedUploads") != nil || lifecycleRule(bucket, "ExpireVerificationMarkers") != nil {
			t.Errorf("lifecycle rules = %s", jsonOf(bucket.Properties["LifecycleConfiguration"]))
		}
		if got := tm.roleStatements("UploadHandlerRole")["UploadStatus"]; got != nil {
			t.Errorf("the upload function reads status tags: %s", jsonOf(got))
		}
		if n := len(tm.under("UploadVerifier").ofType("AWS::CloudWatch::Alarm")); n != 0 {
			t.Errorf("%d alarms of the verifier, want 0", n)
		}
	})
	t.Run("no verdicts to protect: no versioning, no If-None-Match", func(t *testing.T) {
		if v, ok := bucket.Properties["VersioningConfiguration"]; ok || lifecycleRule(bucket, "ExpireNoncurrentVersions") != nil {
			t.Errorf("VersioningConfiguration = %s, want none", jsonOf(v))
		}
		if handlerConfig(t, tm.function(t)).PreventOverwrite {
			t.Error("preventOverwrite on without the verifier")
		}
	})
	t.Run("routing its events refuses", func(t *testing.T) {
		defer func() {
			if r := fmt.Sprint(recover()); !strings.Contains(r, "Upload Verified events need verifierEnabled") {
				t.Errorf("panic = %s", r)
			}
		}()
		c.OnUploadVerified(jsii.String("Verified"), nil)
	})
}

// The malware scan with every option it interacts with: SSE-KMS, an alarm
// topic, versioning; and cdk-nag over all of it.
func TestMalwareScan(t *testing.T) {
	tm, notes, _ := synthWith(t, true, func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
		return &presignedupload.PresignedUploadApiProps{
			MalwareScanEnabled:       jsii.Bool(true),
			EncryptionKey:            awskms.NewKey(s, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)}),
			AlarmTopic:               awssns.Topic_FromTopicArn(s, jsii.String("Alarms"), jsii.String("arn:aws:sns:eu-west-1:123456789012:ops")),
			Versioned:                jsii.Bool(true),
			PreventOverwrite:         jsii.Bool(true),
			RejectedObjectExpiration: awscdk.Duration_Days(jsii.Number(3)),
		}
	}, nil)
	bucketID, bucket := tm.one(t, "AWS::S3::Bucket")
	roleID := tm.idOf(t, "AWS::IAM::Role", "UploadMalwareScanRole")
	verifierRole := tm.idOf(t, "AWS::IAM::Role", "UploadVerifierRole")
	handlerRole := tm.idOf(t, "AWS::IAM::Role", "UploadHandlerRole")
	queue := tm.idOf(t, "AWS::SQS::Queue", "UploadVerifierQueue")
	dlq := tm.idOf(t, "AWS::SQS::Queue", "UploadVerifierDeadLetterQueue")
	keyID, _ := tm.one(t, "AWS::KMS::Key")
	fn := tm.Resources[tm.idOf(t, "AWS::Lambda::Function", "UploadVerifier")]

	t.Run("a protection plan scans and tags the prefix with its role", func(t *testing.T) {
		_, plan := tm.one(t, "AWS::GuardDuty::MalwareProtectionPlan")
		p := plan.Properties
		if flat(get(p, "ProtectedResource", "S3Bucket", "BucketName")) != "<"+bucketID+">" ||
			jsonOf(get(p, "ProtectedResource", "S3Bucket", "ObjectPrefixes")) != `["uploads/"]` ||
			get(p, "Actions", "Tagging", "Status") != "ENABLED" || flat(p["Role"]) != "<"+roleID+".Arn>" {
			t.Errorf("plan = %s", jsonOf(p))
		}
	})
	t.Run("the plan's role: GuardDuty of this account, the statements GuardDuty documents", func(t *testing.T) {
		role := tm.Resources[roleID].Properties
		trust := get(role, "AssumeRolePolicyDocument", "Statement", 0)
		if jsonOf(get(trust, "Principal")) != `{"Service":"malware-protection-plan.guardduty.amazonaws.com"}` ||
			flat(get(trust, "Condition", "StringEquals", "aws:SourceAccount")) != "<AWS::AccountId>" {
			t.Errorf("trust = %s", jsonOf(trust))
		}
		arn := "<" + bucketID + ".Arn>"
		rules := "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"
		want := map[string]grant{
			"AllowManagedRuleToSendS3EventsToGuardDuty":     {"events:DeleteRule events:PutRule events:PutTargets events:RemoveTargets", rules},
			"AllowGuardDutyToMonitorEventBridgeManagedRule": {"events:DescribeRule events:ListTargetsByRule", rules},
			"AllowPostScanTag":                              {"s3:GetObjectTagging s3:GetObjectVersionTagging s3:PutObjectTagging s3:PutObjectVersionTagging", arn + "/uploads/*"},
			"AllowEnableS3EventBridgeEvents":                {"s3:GetBucketNotification s3:PutBucketNotification", arn},
			"AllowPutValidationObject":                      {"s3:PutObject", arn + "/malware-protection-resource-validation-object"},
			"AllowCheckBucketOwnership":                     {"s3:ListBucket", arn},
			"AllowMalwareScan":                              {"s3:GetObject s3:GetObjectVersion", arn + "/uploads/*"},
			"AllowDecryptForMalwareScan":                    {"kms:Decrypt kms:GenerateDataKey", "<" + keyID + ".Arn>"},
		}
		policies := role["Policies"].([]any)
		if len(policies) != 1 || role["ManagedPolicyArns"] != nil {
			t.Fatalf("role policies = %s", jsonOf(role))
		}
		got := map[string]map[string]any{}
		for _, s := range get(policies[0], "PolicyDocument", "Statement").([]any) {
			got[get(s, "Sid").(string)] = s.(map[string]any)
		}
		for sid, w := range want {
			if s, ok := got[sid]; !ok || grantOf(s) != w {
				t.Errorf("%s = %s, want %+v", sid, jsonOf(s), w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("statements %v, want %v", sortedKeys(got), sortedKeys(want))
		}
		if c := jsonOf(get(got["AllowManagedRuleToSendS3EventsToGuardDuty"], "Condition")); c != `{"StringLike":{"events:ManagedBy":"malware-protection-plan.guardduty.amazonaws.com"}}` {
			t.Errorf("managed rule condition = %s", c)
		}
		if c := jsonOf(get(got["AllowDecryptForMalwareScan"], "Condition")); c != `{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}` {
			t.Errorf("decrypt condition = %s", c)
		}
	})
	t.Run("GuardDuty's results for the prefix go to the verifier's queue", func(t *testing.T) {
		r := tm.ruleWith(t, "aws.guardduty")
		want := `{"detail":{"s3ObjectDetails":{"bucketName":[{"Ref":"` + bucketID + `"}],"objectKey":[{"prefix":"uploads/"}]}},` +
			`"detail-type":["GuardDuty Malware Protection Object Scan Result"],"source":["aws.guardduty"]}`
		if got := jsonOf(r.Properties["EventPattern"]); got != want {
			t.Errorf("pattern =\n%s\nwant\n%s", got, want)
		}
		checkQueueTarget(t, r, queue, dlq)
	})
	t.Run("the verifier waits for the scan, and the queue redelivers until its timeout", func(t *testing.T) {
		s := settingsOf[api.VerifierSettings](t, fn)
		if !s.MalwareScanEnabled || s.MalwareScanTimeout != 3600 {
			t.Errorf("settings = %+v, want the scan with a 1-hour timeout", s)
		}
		// The 5th receive is 4 visibility timeouts after the first: past
		// the scan timeout, so it rejects rather than dead-letters.
		v := tm.Resources[queue].Properties["VisibilityTimeout"].(float64)
		if 4*v <= 3600 || v < 6*fn.Properties["Timeout"].(float64) {
			t.Errorf("VisibilityTimeout = %v, want 4 of them beyond 3600s and at least 6 times the function's timeout", v)
		}
	})
	t.Run("the API refuses multipart uploads larger than GuardDuty scans", func(t *testing.T) {
		if got := handlerConfig(t, tm.function(t)).MaxMultipartSize; got != 100_000_000_000 {
			t.Errorf("maxMultipartSize = %d, want 100 GB", got)
		}
	})
	t.Run("the verifier decrypts uploads and encrypts markers with the key", func(t *testing.T) {
		var kms []string
		for _, s := range tm.roleStatements("UploadVerifierRole")[""] {
			if g := grantOf(s); strings.HasPrefix(g.actions, "kms:") {
				kms = append(kms, g.actions+" on "+g.resources)
			}
		}
		if want := []string{"kms:Decrypt kms:GenerateDataKey on <" + keyID + ".Arn>"}; !slices.Equal(kms, want) {
			t.Errorf("kms = %v, want %v", kms, want)
		}
	})
	t.Run("GuardDuty may read unverified uploads too, and only it and the verifier write its scan result tag", func(t *testing.T) {
		// The verifier rewrites an object's whole tag set, GuardDuty's tag
		// included, whenever it sets the status.
		checkQuarantine(t, tm, bucketID, `["upload-status","upload-reason","GuardDutyMalwareScanStatus"]`, "<"+verifierRole+".Arn>", "<"+roleID+".Arn>")
		checkLifecycle(t, bucket, 3)
	})
	t.Run("with preventOverwrite, the bucket refuses to everyone a write under the prefix without If-None-Match, multipart parts excepted", func(t *testing.T) {
		// S3 tells the multipart calls that take no conditional header
		// (CreateMultipartUpload, UploadPart, UploadPartCopy) by
		// s3:ObjectCreationOperation false.
		want := `{"Action":"s3:PutObject","Condition":{"Bool":{"s3:ObjectCreationOperation":"true"},"Null":{"s3:if-none-match":"true"}},` +
			`"Effect":"Deny","Principal":{"AWS":"*"},"Resource":{"Fn::Join":["",[{"Fn::GetAtt":["` + bucketID + `","Arn"]},"/uploads/*"]]},"Sid":"DenyOverwrites"}`
		if got := jsonOf(tm.bucketStatement(t, "DenyOverwrites")); got != want {
			t.Errorf("DenyOverwrites =\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("the product's own writes pass the bucket policy; unconditional writes, copies and others' verdict tags do not", func(t *testing.T) {
		checkWrites(t, tm, productWrites(bucketID, handlerRole, verifierRole, roleID), map[string]string{
			"a PUT without If-None-Match":                     "DenyOverwrites",
			"a CompleteMultipartUpload without If-None-Match": "DenyOverwrites",
			"a CopyObject into the prefix":                    "DenyOverwrites",
			"anyone's status tag":                             "DenyStatusTagsButVerifier",
			"anyone's GuardDuty result tag":                   "DenyStatusTagsButVerifier",
		})
	})
	t.Run("the verifier's alarms notify the topic", func(t *testing.T) {
		for _, prefix := range []string{"UploadVerifierDeadLetterQueueAlarm", "UploadVerifierErrorsAlarm"} {
			a := tm.Resources[tm.idOf(t, "AWS::CloudWatch::Alarm", prefix)]
			if got := jsonOf(a.Properties["AlarmActions"]); got != `["arn:aws:sns:eu-west-1:123456789012:ops"]` {
				t.Errorf("%s actions = %s", prefix, got)
			}
		}
	})
	t.Run("cdk-nag finds no unsuppressed error", func(t *testing.T) {
		for _, m := range *notes.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
			t.Errorf("%s: %v", *m.Id, m.Entry.Data)
		}
	})
}

func TestVerifierWithExistingBucket(t *testing.T) {
	tm, notes, _ := synthWith(t, false, func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
		return &presignedupload.PresignedUploadApiProps{Bucket: awss3.Bucket_FromBucketName(s, jsii.String("Existing"), jsii.String("my-existing-bucket"))}
	}, nil)
	t.Run("the rule, the queue and the verifier are there", func(t *testing.T) {
		r := tm.ruleWith(t, "aws.s3")
		if got := jsonOf(get(r.Properties, "EventPattern", "detail", "bucket", "name")); got != `["my-existing-bucket"]` {
			t.Errorf("rule bucket = %s", got)
		}
		tm.each(t, "AWS::SQS::Queue", 2)
		tm.each(t, "AWS::Lambda::EventSourceMapping", 1)
		got := tm.roleStatements("UploadVerifierRole")["VerifyUploads"]
		if len(got) != 1 || !strings.Contains(jsonOf(got[0]["Resource"]), "my-existing-bucket/uploads/*") {
			t.Errorf("VerifyUploads = %s", jsonOf(got))
		}
	})
	t.Run("the bucket is left alone, and synth says what to turn on", func(t *testing.T) {
		for _, typ := range []string{"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "Custom::S3BucketNotifications"} {
			if n := tm.count(typ); n != 0 {
				t.Errorf("%d %s, want 0", n, typ)
			}
		}
		noPanic(t, func() {
			notes.HasWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(`turn on "Send notifications to Amazon EventBridge" on the bucket`)))
		})
	})
	t.Run("its versioning cannot be seen, so URLs sign If-None-Match, and synth does not warn about it", func(t *testing.T) {
		if !handlerConfig(t, tm.function(t)).PreventOverwrite {
			t.Error("preventOverwrite off by default on an existing bucket with the verifier")
		}
		noPanic(t, func() {
			notes.HasNoWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("preventOverwrite")))
		})
	})
}

func TestVerifierValidation(t *testing.T) {
	existing := func(s awscdk.Stack) awss3.IBucket {
		return awss3.Bucket_FromBucketName(s, jsii.String("B"), jsii.String("bucket"))
	}
	off := jsii.Bool(false)
	tests := []struct {
		name  string
		props func(awscdk.Stack) *presignedupload.PresignedUploadApiProps
		want  string
	}{
		{"malware scan without the verifier", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{VerifierEnabled: off, MalwareScanEnabled: jsii.Bool(true)}
		}, "malwareScanEnabled needs verifierEnabled"},
		{"the verifier without the bucket's events", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{EventBridgeEnabled: off}
		}, "eventBridgeEnabled false needs verifierEnabled false"},
		{"markers among the uploads", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MarkerPrefix: jsii.String("uploads/checked/")}
		}, `markerPrefix "uploads/checked/" overlaps keyPrefix "uploads/"`},
		{"marker prefix without a slash", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MarkerPrefix: jsii.String("markers")}
		}, `markerPrefix "markers"`},
		{"rejected expiration in hours", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{RejectedObjectExpiration: awscdk.Duration_Hours(jsii.Number(36))}
		}, "rejectedObjectExpiration must be a whole number of days, got 1.5"},
		{"rejected expiration on an existing bucket", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{Bucket: existing(s), RejectedObjectExpiration: awscdk.Duration_Days(jsii.Number(3))}
		}, "rejectedObjectExpiration configures a new bucket"},
		{"multipart uploads larger than the scan", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MalwareScanEnabled: jsii.Bool(true), MaxMultipartSize: awscdk.Size_Tebibytes(jsii.Number(5))}
		}, "maxMultipartSize 5497558138880 is over the 100 GB (100000000000 bytes) that malwareScanEnabled can scan"},
		{"scan timeout under a minute", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MalwareScanEnabled: jsii.Bool(true), MalwareScanTimeout: awscdk.Duration_Seconds(jsii.Number(30))}
		}, "malwareScanTimeout 30s is outside 1m0s to 24h0m0s"},
		{"scan timeout without the scan", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{MalwareScanTimeout: awscdk.Duration_Hours(jsii.Number(2))}
		}, "malwareScanTimeout needs malwareScanEnabled"},
		{"marker prefix without the verifier", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{VerifierEnabled: off, MarkerPrefix: jsii.String("m/")}
		}, "markerPrefix needs verifierEnabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack()
			props := tc.props(stack)
			before := len(*stack.Node().Children())
			defer func() {
				r := recover()
				if msg := fmt.Sprint(r); r == nil || !strings.Contains(msg, tc.want) {
					t.Errorf("panic = %v, want one containing %q", r, tc.want)
				}
				if n := len(*stack.Node().Children()); n != before {
					t.Errorf("stack has %d children after a rejected construct, want %d", n, before)
				}
			}()
			presignedupload.NewPresignedUploadApi(stack, jsii.String("Upload"), props)
		})
	}
}
