package presignedupload

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// withDefaults returns a copy of props with every unset field filled in;
// the caller's struct is never changed.
func withDefaults(props *PresignedUploadApiProps) *PresignedUploadApiProps {
	p := PresignedUploadApiProps{}
	if props != nil {
		p = *props
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if p.AutoDeleteObjects == nil && p.Bucket == nil {
		p.AutoDeleteObjects = jsii.Bool(p.RemovalPolicy == awscdk.RemovalPolicy_DESTROY)
	}
	versioningDefaults(&p)
	setBool(&p.AlarmsEnabled, true)
	setString(&p.KeyPrefix, uploadapi.DefaultKeyPrefix)
	if p.UrlExpiry == nil {
		p.UrlExpiry = awscdk.Duration_Seconds(jsii.Number(uploadapi.DefaultExpiry.Seconds()))
	}
	setNumber(&p.MaxFileSize, float64(uploadapi.DefaultMaxFileSize))
	setNumber(&p.MaxMultipartSize, float64(uploadapi.MaxObjectSize))
	setNumber(&p.PartSize, float64(uploadapi.DefaultPartSize))
	setBool(&p.RequireSize, false)
	setBool(&p.PreventOverwrite, false)
	if p.AllowedOrigins == nil {
		p.AllowedOrigins = jsii.Strings("*")
	}
	setString(&p.StageName, "prod")
	setNumber(&p.ThrottlingRateLimit, 100)
	setNumber(&p.ThrottlingBurstLimit, 200)
	setBool(&p.ApiKeyRequired, false)
	setBool(&p.WebAclEnabled, false)
	setNumber(&p.WebAclRateLimit, 1000)
	setNumber(&p.MemorySize, 256)
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if *p.ApiKeyRequired {
		setNumber(&p.UsagePlanRateLimit, 10)
		setNumber(&p.UsagePlanBurstLimit, 20)
		setNumber(&p.UsagePlanQuotaPerDay, 10000)
	}
	return &p
}

func setString(p **string, v string) {
	if *p == nil {
		*p = jsii.String(v)
	}
}

func setNumber(p **float64, v float64) {
	if *p == nil {
		*p = jsii.Number(v)
	}
}

func setBool(p **bool, v bool) {
	if *p == nil {
		*p = jsii.Bool(v)
	}
}

var stageNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// validate panics on the first prop that cannot work. Unresolved tokens are
// not checked: their values are known only at deploy time.
func validate(p *PresignedUploadApiProps) {
	if p.Bucket != nil {
		for name, set := range map[string]bool{
			"encryptionKey":          p.EncryptionKey != nil,
			"autoDeleteObjects":      p.AutoDeleteObjects != nil,
			"uploadExpiration":       p.UploadExpiration != nil,
			"serverAccessLogsBucket": p.ServerAccessLogsBucket != nil,
			"eventBridgeEnabled":     p.EventBridgeEnabled != nil,
		} {
			must(!set, "%s configures a new bucket and cannot be set with an existing bucket", name)
		}
	}
	must(!(p.AutoDeleteObjects != nil && *p.AutoDeleteObjects && p.RemovalPolicy != awscdk.RemovalPolicy_DESTROY),
		"autoDeleteObjects requires removalPolicy DESTROY, got %s", p.RemovalPolicy)
	if !unresolved(p.KeyPrefix) {
		if err := uploadapi.ValidateKeyPrefix(*p.KeyPrefix); err != nil {
			must(false, "%v", err)
		}
	}
	if !*awscdk.Token_IsUnresolved(p.UrlExpiry) {
		d := durationOf(p.UrlExpiry)
		must(d >= time.Second && d <= uploadapi.MaxExpiry, "urlExpiry %s is outside 1s to 12h", d)
	}
	if p.UploadExpiration != nil {
		days := *p.UploadExpiration.ToDays(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
		must(days >= 1 && days == float64(int64(days)), "uploadExpiration must be a whole number of days, got %v", days)
	}
	validateVersioning(p)
	validateAlarms(p)
	checkBytes("maxFileSize", p.MaxFileSize, 1, uploadapi.MaxSinglePutSize)
	checkBytes("maxMultipartSize", p.MaxMultipartSize, 1, uploadapi.MaxObjectSize)
	checkBytes("partSize", p.PartSize, uploadapi.MinPartSize, uploadapi.MaxPartSize)
	if p.AllowedContentTypes != nil {
		for _, t := range *p.AllowedContentTypes {
			if t != nil && !unresolved(t) {
				if err := uploadapi.ValidateContentTypePattern(*t); err != nil {
					must(false, "%v", err)
				}
			}
		}
	}
	must(len(*p.AllowedOrigins) > 0, "allowedOrigins is empty; use [\"*\"] to allow any origin")
	for _, o := range *p.AllowedOrigins {
		must(o != nil, "allowedOrigins has a nil entry")
		if !unresolved(o) {
			if err := uploadapi.ValidateOrigin(*o); err != nil {
				must(false, "%v", err)
			}
			must(*o != "*" || len(*p.AllowedOrigins) == 1, "allowedOrigins mixes \"*\" with other origins")
		}
	}
	if !unresolved(p.StageName) {
		must(stageNamePattern.MatchString(*p.StageName), "stageName %q must be 1-128 letters, digits, '-' or '_'", *p.StageName)
	}
	must(!(*p.WebAclEnabled && p.ExistingWebAclArn != nil), "webAclEnabled and existingWebAclArn are exclusive")
	if !unresolvedNumber(p.WebAclRateLimit) {
		must(*p.WebAclRateLimit >= 10 && *p.WebAclRateLimit <= 2e9, "webAclRateLimit %v is outside 10 to 2,000,000,000", *p.WebAclRateLimit)
	}
	if !*p.ApiKeyRequired {
		must(p.UsagePlanRateLimit == nil && p.UsagePlanBurstLimit == nil && p.UsagePlanQuotaPerDay == nil,
			"usage plan limits need apiKeyRequired")
	}
	for name, v := range map[string]*float64{
		"throttlingRateLimit": p.ThrottlingRateLimit, "throttlingBurstLimit": p.ThrottlingBurstLimit,
		"usagePlanRateLimit": p.UsagePlanRateLimit, "usagePlanBurstLimit": p.UsagePlanBurstLimit,
		"usagePlanQuotaPerDay": p.UsagePlanQuotaPerDay,
	} {
		must(v == nil || unresolvedNumber(v) || *v >= 0, "%s %v must not be negative", name, deref(v))
	}
	if !unresolvedNumber(p.MemorySize) {
		must(*p.MemorySize >= 128 && *p.MemorySize <= 10240, "memorySize %v is outside 128 to 10240 MiB", *p.MemorySize)
	}
}

// checkBytes panics unless v is a whole number of bytes from min to max.
func checkBytes(name string, v *float64, min, max int64) {
	if unresolvedNumber(v) {
		return
	}
	n := *v
	must(n >= float64(min) && n <= float64(max) && n == float64(int64(n)),
		"%s %v must be a whole number of bytes from %d to %d", name, n, min, max)
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

func unresolved(s *string) bool { return s != nil && *awscdk.Token_IsUnresolved(s) }

func unresolvedNumber(n *float64) bool { return n != nil && *awscdk.Token_IsUnresolved(n) }

func durationOf(d awscdk.Duration) time.Duration {
	ms := d.ToMilliseconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
	return time.Duration(*ms * float64(time.Millisecond))
}

// modulePath is this module's path, from which the Lambda's source is found.
const modulePath = "github.com/presigned-upload/presigned-upload"

type source struct{ moduleDir, entry string }

// handlerSource finds the Lambda's main package. When this module is a
// dependency, its source is in the (read-only) module cache, which `go list
// -m` reports from the caller's module; in this repository it is the main
// module. The compiled-in file path is the fallback when no go command can
// answer, for instance in a binary built elsewhere.
func handlerSource() source {
	dir := ""
	out, err := exec.Command("go", "list", "-m", "-json", modulePath).Output()
	if err == nil {
		var m struct{ Dir string }
		if json.Unmarshal(out, &m) == nil {
			dir = m.Dir
		}
	}
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		must(ok && filepath.IsAbs(file), "cannot find the source of %s: run synth inside a Go module that requires it (go list -m: %v)", modulePath, err)
		dir = filepath.Dir(filepath.Dir(filepath.Dir(file)))
	}
	return source{moduleDir: dir, entry: filepath.Join(dir, "lambda")}
}

// rule is a cdk-nag finding that a resource accepts, with the reason and,
// for granular rules, a pattern of the findings it covers.
type rule struct{ id, reason, appliesTo string }

// suppress records cdk-nag suppressions as the metadata cdk-nag reads, so
// using the construct needs no cdk-nag dependency.
func suppress(scope constructs.IConstruct, rules ...rule) {
	child := scope.Node().DefaultChild()
	if child == nil {
		child = scope
	}
	res, ok := child.(awscdk.CfnResource)
	must(ok, "no CloudFormation resource under %s", *scope.Node().Path())
	list := make([]map[string]any, 0, len(rules))
	for _, r := range rules {
		entry := map[string]any{"id": r.id, "reason": r.reason}
		if r.appliesTo != "" {
			entry["applies_to"] = []any{map[string]any{"regex": "/" + r.appliesTo + "/"}}
		}
		list = append(list, entry)
	}
	res.AddMetadata(jsii.String("cdk_nag"), map[string]any{"rules_to_suppress": list})
}
