// Command cdk is the CDK app: one PresignedUpload-<env> stack per entry of
// the "environments" context in cdk.json, checked by cdk-nag's AwsSolutions
// rules on every synth.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
	"github.com/presigned-upload/presigned-upload/internal/environments"
)

// PresignedUploadStackProps configures a NewPresignedUploadStack.
type PresignedUploadStackProps struct {
	awscdk.StackProps
	// Settings are the environment's entry in cdk.json.
	Settings environments.Environment
}

// NewPresignedUploadStack creates the upload API and its outputs.
func NewPresignedUploadStack(scope constructs.Construct, id string, props *PresignedUploadStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	p := constructProps(props.Settings)
	if arn := props.Settings.AlarmTopicArn; arn != "" {
		p.AlarmTopic = awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(arn))
	}
	if p.MonthlyBudget != nil && props.Tags != nil && len(*props.Tags) > 0 {
		// The stack's tags are on every resource it makes: the budget
		// counts their cost once they are cost allocation tags.
		p.MonthlyBudgetTags = props.Tags
	}
	signInProps(stack, props.Settings, p)
	api := presignedupload.NewPresignedUploadApi(stack, jsii.String("Upload"), p)

	output(stack, "ApiUrl", api.Api.Url(), "Base URL of the API stage")
	output(stack, "UploadUrlEndpoint", api.UploadUrlEndpoint, "POST or GET here for an upload URL")
	output(stack, "BucketName", api.Bucket.BucketName(), "Bucket that receives the uploads")
	if api.ApiKey != nil {
		output(stack, "ApiKeyId", api.ApiKey.KeyId(), "ID of the API key; its value: aws apigateway get-api-key --api-key <id> --include-value --query value --output text")
	}
	signInOutputs(stack, api)
	return stack
}

func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
}

// constructProps maps an environment's settings onto the construct's props;
// zero values (and unset pointers) leave the construct's defaults in place.
func constructProps(e environments.Environment) *presignedupload.PresignedUploadApiProps {
	// The functions' settings map by name; the deployment's are below.
	p := presignedupload.PropsFromSettings(e.VerifierSettings)
	p.StageName = optString(e.StageName)
	p.ThrottlingRateLimit = optNumber(e.ThrottlingRateLimit)
	p.ThrottlingBurstLimit = optNumber(e.ThrottlingBurstLimit)
	p.ThrottledRouteRateLimit = optNumber(e.ThrottledRouteRateLimit)
	p.ThrottledRouteBurstLimit = optNumber(e.ThrottledRouteBurstLimit)
	p.ApiKeyRequired = jsii.Bool(e.ApiKeyRequired)
	p.WebAclEnabled = jsii.Bool(e.WebAclEnabled)
	p.WebAclRateLimit = optNumber(e.WebAclRateLimit)
	p.MemorySize = optNumber(e.MemorySize)
	p.ClientErrorAlarmThreshold = e.ClientErrorAlarmThreshold
	p.PutRequestAlarmThreshold = e.PutRequestAlarmThreshold
	if e.BucketSizeAlarmThreshold != nil {
		p.BucketSizeAlarmThreshold = awscdk.Size_Bytes(e.BucketSizeAlarmThreshold)
	}
	p.MonthlyBudget = optNumber(e.MonthlyBudget)
	p.Versioned = e.Versioned
	p.VerifierEnabled = e.VerifierEnabled
	if e.RemovalPolicy == "destroy" {
		p.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
	}
	if e.LogRetentionDays > 0 {
		p.LogRetention = retention(e.LogRetentionDays)
	}
	if e.UploadExpirationDays > 0 {
		p.UploadExpiration = awscdk.Duration_Days(jsii.Number(float64(e.UploadExpirationDays)))
	}
	return p
}

// retention maps a day count onto the CloudWatch Logs retention of that length.
func retention(days int) awslogs.RetentionDays {
	valid := map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
		7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS,
		365: awslogs.RetentionDays_ONE_YEAR, 731: awslogs.RetentionDays_TWO_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS,
		3653: awslogs.RetentionDays_TEN_YEARS,
	}
	r, ok := valid[days]
	if !ok {
		panic(fmt.Sprintf("logRetentionDays %d is not a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653)", days))
	}
	return r
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}

func optNumber(n float64) *float64 {
	if n == 0 {
		return nil
	}
	return jsii.Number(n)
}

// newApp builds the app: one stack per environment, all checked by cdk-nag.
func newApp(props *awscdk.AppProps) awscdk.App {
	app := awscdk.NewApp(props)
	envs, err := environments.Parse(app.Node().TryGetContext(jsii.String(environments.ContextKey)))
	if err != nil {
		panic(err)
	}
	for _, name := range environments.Names(envs) {
		settings := envs[name]
		NewPresignedUploadStack(app, "PresignedUpload-"+name, &PresignedUploadStackProps{
			StackProps: awscdk.StackProps{
				Env:         env(settings),
				Description: jsii.String("Pre-signed S3 uploads (" + name + ")"),
				Tags:        &map[string]*string{"app": jsii.String("presigned-upload"), "environment": jsii.String(name)},
			},
			Settings: settings,
		})
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return app
}

func main() {
	defer jsii.Close()
	newApp(nil).Synth(nil)
}

// env pins the stack to the account and region in cdk.json, falling back to
// the ones the CLI resolved from the current credentials.
func env(e environments.Environment) *awscdk.Environment {
	account, region := e.Account, e.Region
	if account == "" {
		account = os.Getenv("CDK_DEFAULT_ACCOUNT")
	}
	if region == "" {
		region = os.Getenv("CDK_DEFAULT_REGION")
	}
	if account == "" && region == "" {
		return nil // environment-agnostic: synth works without credentials
	}
	return &awscdk.Environment{Account: optString(account), Region: optString(region)}
}
