package presignedupload

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/constructs/golambda"
)

// functionRole creates a function's log group (<name>Logs) and its own role
// (<name>Role) that may write only there until the caller grants more:
// never AWSLambdaBasicExecutionRole.
func functionRole(c *PresignedUploadApi, p *PresignedUploadApiProps, name, description string) (awslogs.LogGroup, awsiam.Role) {
	logGroup := awslogs.NewLogGroup(c.Construct, jsii.String(name+"Logs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	role := awsiam.NewRole(c.Construct, jsii.String(name+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(description),
	})
	logGroup.GrantWrite(role)
	return logGroup, role
}

// goFunction builds one of this module's Go functions, whose main package is
// entry (such as "lambda/cmd/authorizer") below the module, with JSON logs.
// Its settings (an api settings type) are its one environment variable.
func goFunction[T api.Settings[T]](c *PresignedUploadApi, id, entry string, settings T, opts awslambda.FunctionOptions) awslambda.Function {
	dir := moduleDir()
	opts.LoggingFormat = awslambda.LoggingFormat_JSON
	opts.Environment = &map[string]*string{settings.Variable(): jsii.String(api.EncodeSettings(settings))}
	return golambda.NewGoFunction(c.Construct, jsii.String(id), &golambda.GoFunctionProps{
		FunctionOptions: opts,
		Entry:           jsii.String(filepath.Join(dir, filepath.FromSlash(entry))),
		ModuleDir:       jsii.String(dir),
		// The function belongs to this module alone; a go.work around the
		// source (in a checkout of this repository) must not widen the build.
		BuildEnvironment: &map[string]*string{"GOWORK": jsii.String("off")},
	})
}
