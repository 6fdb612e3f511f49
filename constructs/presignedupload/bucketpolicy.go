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

// denyOverwrites makes the bucket itself hold PreventOverwrite, not only
// the URLs the function signs: it refuses, to everyone, a write under the
// key prefix without If-None-Match, so that neither a role's own
// credentials nor a URL signed elsewhere can replace an upload. Following
// "Enforce conditional writes on Amazon S3 buckets" in the S3 User Guide,
// the multipart calls that take no conditional header (CreateMultipartUpload,
// UploadPart, UploadPartCopy) are told apart by s3:ObjectCreationOperation
// false and pass; PutObject and CompleteMultipartUpload must carry the
// header; CopyObject into the prefix fails either way (403 here without
// the header, and S3 answers 501 to a copy that carries it).
// The product's other writes fall outside it: the verifier's and
// GuardDuty's tags are another action, sessions and markers another
// prefix. Only for a bucket the construct created.
func denyOverwrites(c *PresignedUploadApi, cfg api.UploadSettings) {
	if !cfg.PreventOverwrite {
		return
	}
	c.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyOverwrites"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(cfg.KeyPrefix + "*"))),
		Conditions: &map[string]any{
			"Null": map[string]any{"s3:if-none-match": "true"},
			"Bool": map[string]any{"s3:ObjectCreationOperation": "true"},
		},
	}))
}
