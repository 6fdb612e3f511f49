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
// creates; with an existing bucket they stay unset, so validate can refuse
// them.
func versioningDefaults(p *PresignedUploadApiProps) {
	if p.Bucket != nil {
		return
	}
	setBool(&p.Versioned, false)
	if *p.Versioned && p.NoncurrentVersionExpiration == nil {
		p.NoncurrentVersionExpiration = awscdk.Duration_Days(jsii.Number(defaultNoncurrentVersionExpirationDays))
	}
}

func validateVersioning(p *PresignedUploadApiProps) {
	if p.Bucket != nil {
		must(p.Versioned == nil, "versioned configures a new bucket and cannot be set with an existing bucket")
		must(p.NoncurrentVersionExpiration == nil, "noncurrentVersionExpiration configures a new bucket and cannot be set with an existing bucket")
	}
	if p.NoncurrentVersionExpiration == nil {
		return
	}
	must(p.Versioned != nil && *p.Versioned, "noncurrentVersionExpiration needs versioned")
	days := *p.NoncurrentVersionExpiration.ToDays(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
	must(days >= 1 && days == float64(int64(days)), "noncurrentVersionExpiration must be a whole number of days, got %v", days)
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
