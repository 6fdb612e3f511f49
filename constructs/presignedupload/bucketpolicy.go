package presignedupload

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// signatureClockSkew is how far the signer's clock may lag S3's before a
// fresh URL looks older than it is.
const signatureClockSkew = 5 * time.Minute

// denyStaleSignatures makes the bucket refuse the function role's requests
// signed longer ago than any URL it issues stays valid. S3 already refuses
// an expired URL; this bounds what the role's signatures can do even if
// the function were changed to sign for longer. Only for a bucket the
// construct created: an existing bucket's policy is its owner's.
func denyStaleSignatures(c *PresignedUploadApi, cfg api.UploadSettings) {
	maxAge := cfg.UrlExpiry.Duration() + signatureClockSkew
	c.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyStaleSignatures"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(c.Function.Role().RoleArn())},
		Actions:    jsii.Strings("s3:*"),
		Resources:  jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(cfg.KeyPrefix + "*"))),
		Conditions: &map[string]any{"NumericGreaterThan": map[string]any{"s3:signatureAge": maxAge.Milliseconds()}},
	}))
}
