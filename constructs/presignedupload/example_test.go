package presignedupload_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
)

// A minimal deployment is one statement: nil props give a private bucket,
// the Go function, a REST API with CORS preflight, and the verifier (the
// second function) that checks what was stored. Props set limits in the
// CDK's own units, and OnUploadVerified routes the verifier's events. The
// README shows the lines between the stack and the template as they are
// here.
func ExampleNewPresignedUploadApi() {
	// Bundling is skipped here so the example builds no Go binary; a real
	// app leaves it on (cdk synth builds the function without Docker).
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	stack := awscdk.NewStack(app, jsii.String("Uploads"), nil)

	uploads := presignedupload.NewPresignedUploadApi(stack, jsii.String("Uploads"), &presignedupload.PresignedUploadApiProps{
		AllowedOrigins:      jsii.Strings("https://app.example.com"),
		AllowedContentTypes: jsii.Strings("image/*", "application/pdf"),
		MaxFileSize:         awscdk.Size_Mebibytes(jsii.Number(100)),
		MaxMultipartSize:    awscdk.Size_Gibibytes(jsii.Number(50)),
		PreventOverwrite:    jsii.Bool(true),
	})
	// Every stored upload is checked; act on those that pass.
	verified := awssqs.NewQueue(stack, jsii.String("VerifiedUploads"), nil)
	uploads.OnUploadVerified(jsii.String("QueueVerified"), awseventstargets.NewSqsQueue(verified, nil))
	awscdk.NewCfnOutput(stack, jsii.String("UploadEndpoint"), &awscdk.CfnOutputProps{Value: uploads.UploadUrlEndpoint})

	tm := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::ApiGateway::RestApi", "AWS::Events::Rule"} {
		fmt.Println(typ, len(*tm.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::S3::Bucket 1
	// AWS::Lambda::Function 2
	// AWS::ApiGateway::RestApi 1
	// AWS::Events::Rule 2
}
