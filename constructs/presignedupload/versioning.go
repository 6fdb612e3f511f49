package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// defaultNoncurrentVersionExpirationDays is how long a versioned bucket keeps
// an overwritten or deleted upload.
const defaultNoncurrentVersionExpirationDays = 30

// versioningDefaults fills the versioning props of a bucket the construct
// creates, and PreventOverwrite. With the verifier on, a replacement under
// an upload's key must not inherit the verdict of the object it replaced
// (a replayed URL writes the same key): on a versioned bucket it is a new
// version, whose verdict the verifier keys on its version ID; elsewhere
// PreventOverwrite refuses it. So a new bucket is versioned while the
// verifier is on, which keeps the tutorial's PUT (Content-Type alone, no
// If-None-Match) working; an unversioned bucket, or an existing one whose
// versioning the construct cannot see, gets PreventOverwrite.
func versioningDefaults(p *PresignedUploadApiProps) {
	verifier := *p.VerifierEnabled
	if p.Bucket == nil {
		setBool(&p.Versioned, verifier)
		if *p.Versioned && p.NoncurrentVersionExpiration == nil {
			p.NoncurrentVersionExpiration = awscdk.Duration_Days(jsii.Number(defaultNoncurrentVersionExpirationDays))
		}
	}
	setBool(&p.PreventOverwrite, verifier && (p.Bucket != nil || !*p.Versioned))
}

func validateVersioning(p *PresignedUploadApiProps) {
	if p.Bucket != nil {
		must(p.Versioned == nil, "versioned configures a new bucket and cannot be set with an existing bucket")
		must(p.NoncurrentVersionExpiration == nil, "noncurrentVersionExpiration configures a new bucket and cannot be set with an existing bucket")
	} else {
		must(!*p.VerifierEnabled || *p.Versioned || *p.PreventOverwrite,
			"preventOverwrite false needs versioned true while verifierEnabled is on: on an unversioned bucket an upload replaced through its replayed URL could inherit the verdict of the object it replaced")
	}
	if p.NoncurrentVersionExpiration == nil {
		return
	}
	must(p.Versioned != nil && *p.Versioned, "noncurrentVersionExpiration needs versioned")
	days := *p.NoncurrentVersionExpiration.ToDays(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
	must(days >= 1 && days == float64(int64(days)), "noncurrentVersionExpiration must be a whole number of days, got %v", days)
}

// warnOverwritableBucket says at synth that on an existing bucket with
// PreventOverwrite off, only the bucket's versioning keeps a replaced
// upload from inheriting the verdict of the one it replaced.
func warnOverwritableBucket(c *PresignedUploadApi) {
	awscdk.Annotations_Of(c.Construct).AddWarningV2(jsii.String("presignedupload:overwritableBucket"), jsii.String(
		"preventOverwrite is off on an existing bucket: keep the bucket versioned, or an upload replaced through its replayed URL could inherit the verdict of the object it replaced"), nil)
}

// versionRules expire the versions that stopped being current, then the
// delete markers left with no version behind them.
func versionRules(p *PresignedUploadApiProps) []*awss3.LifecycleRule {
	if !*p.Versioned {
		return nil
	}
	return []*awss3.LifecycleRule{{
		Id:                          jsii.String("ExpireNoncurrentVersions"),
		NoncurrentVersionExpiration: p.NoncurrentVersionExpiration,
		ExpiredObjectDeleteMarker:   jsii.Bool(true),
	}}
}
