package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// quarantine keeps what was not verified out of reach on a bucket the
// construct created: S3 itself refuses to serve an object under the key
// prefix unless its status tag says verified, whoever asks and whoever
// signed the URL, and only the verifier and GuardDuty's scan role may write
// the tags that carry a verdict: the status and its reason, and with the
// malware scan GuardDuty's result. Rejected objects stay tagged for
// RejectedObjectExpiration, then go; markers go once no event about their
// object can still arrive.
//
// The exemptions name roles by aws:PrincipalArn in the condition rather
// than in NotPrincipal: a Lambda function or GuardDuty acts as an
// assumed-role session (arn:aws:sts::…:assumed-role/<role>/<session>),
// which a NotPrincipal naming the role does not match, so the deny would
// apply to them too; aws:PrincipalArn is the role's ARN for every session
// of it. A request with no principal (anonymous) has no aws:PrincipalArn,
// and the deny applies.
func quarantine(c *PresignedUploadApi, p *PresignedUploadApiProps, s api.VerifierSettings) {
	exempt := []*string{c.VerifierFunction.Role().RoleArn()}
	if c.MalwareScanRole != nil {
		exempt = append(exempt, c.MalwareScanRole.RoleArn())
	}
	uploads := jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(s.KeyPrefix + "*")))
	c.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyUnverifiedReads"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources:  uploads,
		Conditions: &map[string]any{
			// Also true when the object has no such tag: pending.
			"StringNotEquals": map[string]any{"s3:ExistingObjectTag/" + api.StatusTag: api.StatusVerified},
			"ArnNotEquals":    map[string]any{"aws:PrincipalArn": exempt},
		},
	}))
	// A status tag anyone could write would prove nothing; nor would
	// GuardDuty's result, which the verifier reads from the object when the
	// scan's event has not come. The verifier stays exempt from the latter:
	// a tagging call replaces the whole set, so each status it sets carries
	// GuardDuty's tag along, with the value GuardDuty gave it.
	verdicts := []string{api.StatusTag, api.ReasonTag}
	if c.MalwareScanRole != nil {
		verdicts = append(verdicts, api.MalwareScanTag)
	}
	c.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyStatusTagsButVerifier"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
		Resources:  uploads,
		Conditions: &map[string]any{
			"ForAnyValue:StringEquals": map[string]any{"s3:RequestObjectTagKeys": verdicts},
			"ArnNotEquals":             map[string]any{"aws:PrincipalArn": exempt},
		},
	}))

	b, ok := c.Bucket.(awss3.Bucket)
	must(ok, "the bucket %s cannot take lifecycle rules", *c.Bucket.Node().Path())
	// Expiration counts from when the object was stored; the verdict comes
	// minutes after that, at most MalwareScanTimeout.
	b.AddLifecycleRule(&awss3.LifecycleRule{
		Id:         jsii.String("ExpireRejectedUploads"),
		Prefix:     jsii.String(s.KeyPrefix),
		TagFilters: &map[string]any{api.StatusTag: api.StatusRejected},
		Expiration: p.RejectedObjectExpiration,
	})
	b.AddLifecycleRule(&awss3.LifecycleRule{
		Id:         jsii.String("ExpireVerificationMarkers"),
		Prefix:     jsii.String(s.MarkerPrefix),
		Expiration: awscdk.Duration_Days(jsii.Number(markerExpirationDays)),
	})
}
