package presignedupload

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/presigned-upload/presigned-upload/api"
)

// grantLedgers lets a function read and write the quota ledgers, with
// quotas: created with If-None-Match, replaced with If-Match.
func grantLedgers(role awsiam.Role, bucket awss3.IBucket, cfg api.UploadSettings) {
	if !cfg.Quotas() {
		return
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("QuotaLedgers"),
		Actions:   jsii.Strings("s3:GetObject", "s3:PutObject"),
		Resources: jsii.Strings(*bucket.ArnForObjects(jsii.String(cfg.QuotaPrefix + "*"))),
	}))
}

// ledgersReason completes the reason a function's policy names prefixes
// with wildcards.
func ledgersReason(cfg api.UploadSettings) string {
	if !cfg.Quotas() {
		return ""
	}
	return ", and its quota ledger actions (GetObject, PutObject) the quota prefix, one ledger per caller"
}

// prefixesGranted matches the object resources a function's policy names:
// the prefixes given, and the quota prefix with quotas.
func prefixesGranted(cfg api.UploadSettings, prefixes ...string) string {
	if cfg.Quotas() {
		prefixes = append(prefixes, cfg.QuotaPrefix)
	}
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		quoted[i] = regexp.QuoteMeta(p)
	}
	return `^Resource::<.*\.Arn>/(` + strings.Join(quoted, "|") + `)\*$`
}
