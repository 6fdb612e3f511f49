package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// withDefaults returns a copy of props with every unset deployment prop
// filled in; the caller's struct is never changed. The functions' settings
// take their defaults from their api types ([functionSettings]).
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
	verifierDefaults(&p)
	versioningDefaults(&p) // after the verifier's: they follow it
	setBool(&p.AlarmsEnabled, true)
	setString(&p.StageName, "prod")
	setNumber(&p.ThrottlingRateLimit, 100)
	setNumber(&p.ThrottlingBurstLimit, 200)
	throttleDefaults(&p)
	setBool(&p.ApiKeyRequired, false)
	setBool(&p.WebAclEnabled, false)
	setNumber(&p.WebAclRateLimit, 1000)
	setNumber(&p.MemorySize, 256)
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if *p.AlarmsEnabled {
		costAlarmDefaults(&p)
	}
	if *p.ApiKeyRequired {
		setNumber(&p.UsagePlanRateLimit, 10)
		setNumber(&p.UsagePlanBurstLimit, 20)
		setNumber(&p.UsagePlanQuotaPerDay, 10000)
	}
	return &p
}

// functionSettings returns the functions' settings that p carries, with
// the defaults for the unset ones, after checking them: the verifier's,
// which hold the upload function's. The bucket and the bus are filled in
// once they exist.
func functionSettings(p *PresignedUploadApiProps) api.VerifierSettings {
	s, tokens := settingsFrom[api.VerifierSettings](p)
	s.SignIn = p.CognitoSignIn != nil || p.OidcSignIn != nil
	s.Verified = *p.VerifierEnabled
	s = s.WithDefaults()
	tokens["bucket"] = true
	// An overlap cannot be told while any prefix is a token.
	if tokens["keyPrefix"] || tokens["sessionPrefix"] {
		tokens["markerPrefix"] = true
	}
	err := s.UploadSettings.Validate()
	if s.Verified {
		err = s.Validate()
	}
	checkSettings(err, tokens)
	return s
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
