package presignedupload

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

var stageNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// validate panics on the first deployment prop that cannot work; the
// handler's settings are checked by [handlerConfig]. Unresolved tokens are
// not checked: their values are known only at deploy time.
func validate(p *PresignedUploadApiProps) {
	if p.Bucket != nil {
		for name, set := range map[string]bool{
			"encryptionKey":          p.EncryptionKey != nil,
			"autoDeleteObjects":      p.AutoDeleteObjects != nil,
			"uploadExpiration":       p.UploadExpiration != nil,
			"serverAccessLogsBucket": p.ServerAccessLogsBucket != nil,
			"eventBridgeEnabled":     p.EventBridgeEnabled != nil,
			// Its metrics need a configuration on the bucket.
			"putRequestAlarmThreshold": p.PutRequestAlarmThreshold != nil,
		} {
			must(!set, "%s configures a new bucket and cannot be set with an existing bucket", name)
		}
		if name := p.Bucket.BucketName(); p.TransferAcceleration != nil && *p.TransferAcceleration && !unresolved(name) {
			must(!strings.Contains(*name, "."), "transferAcceleration needs a bucket name without dots; %q has them", *name)
		}
	}
	must(!(p.AutoDeleteObjects != nil && *p.AutoDeleteObjects && p.RemovalPolicy != awscdk.RemovalPolicy_DESTROY),
		"autoDeleteObjects requires removalPolicy DESTROY, got %s", p.RemovalPolicy)
	if p.UploadExpiration != nil {
		days := *p.UploadExpiration.ToDays(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
		must(days >= 1 && days == float64(int64(days)), "uploadExpiration must be a whole number of days, got %v", days)
	}
	validateVersioning(p)
	validateVerifier(p)
	validateAlarms(p)
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
		"throttledRouteRateLimit": p.ThrottledRouteRateLimit, "throttledRouteBurstLimit": p.ThrottledRouteBurstLimit,
		"usagePlanRateLimit": p.UsagePlanRateLimit, "usagePlanBurstLimit": p.UsagePlanBurstLimit,
		"clientErrorAlarmThreshold": p.ClientErrorAlarmThreshold, "putRequestAlarmThreshold": p.PutRequestAlarmThreshold,
		"usagePlanQuotaPerDay": p.UsagePlanQuotaPerDay,
	} {
		must(v == nil || unresolvedNumber(v) || *v >= 0, "%s %v must not be negative", name, deref(v))
	}
	if !unresolvedNumber(p.MemorySize) {
		must(*p.MemorySize >= 128 && *p.MemorySize <= 10240, "memorySize %v is outside 128 to 10240 MiB", *p.MemorySize)
	}
	validateCosts(p) // after the limits' signs
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

func unresolved(s *string) bool { return s != nil && *awscdk.Token_IsUnresolved(s) }

func unresolvedNumber(n *float64) bool { return n != nil && *awscdk.Token_IsUnresolved(n) }
