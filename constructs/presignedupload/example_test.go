package presignedupload_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
)

// A minimal deployment is one statement: nil props give a private bucket,
// the Go function, a REST API with CORS preflight, and the verifier (the
// second function) that checks what was stored. Props set limits in
// the CDK's own units.
func ExampleNewPresignedUploadApi() {
	// Bundling is skipped here so the example builds no Go binary; a real
	// app leaves it on (cdk synth builds the function without Docker).
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	stack := awscdk.NewStack(app, jsii.String("Uploads"), nil)

	api := presignedupload.NewPresignedUploadApi(stack, jsii.String("Upload"), &presignedupload.PresignedUploadApiProps{
		MaxFileSize:         awscdk.Size_Mebibytes(jsii.Number(100)),
		AllowedContentTypes: jsii.Strings("image/*", "application/pdf"),
		UrlExpiry:           awscdk.Duration_Minutes(jsii.Number(2)),
	})
	awscdk.NewCfnOutput(stack, jsii.String("Endpoint"), &awscdk.CfnOutputProps{Value: api.UploadUrlEndpoint})

	tm := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::ApiGateway::RestApi"} {
		fmt.Println(typ, len(*tm.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::S3::Bucket 1
	// AWS::Lambda::Function 2
	// AWS::ApiGateway::RestApi 1
}
