package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// OnUploadVerified routes every Upload Verified event on EventBus to
// target, through a rule named id under this construct; the event's detail
// is an api.UploadEvent. It panics when the verifier is off.
func (c *PresignedUploadApi) OnUploadVerified(id *string, target awsevents.IRuleTarget) awsevents.Rule {
	return c.onUploadEvent(id, api.EventUploadVerified, target)
}

// OnUploadRejected routes every Upload Rejected event on EventBus to
// target, through a rule named id under this construct; the event's
// detail is an api.UploadEvent whose reason says why. It panics when the
// verifier is off.
func (c *PresignedUploadApi) OnUploadRejected(id *string, target awsevents.IRuleTarget) awsevents.Rule {
	return c.onUploadEvent(id, api.EventUploadRejected, target)
}

func (c *PresignedUploadApi) onUploadEvent(id *string, detailType string, target awsevents.IRuleTarget) awsevents.Rule {
	must(c.EventBus != nil, "%s events need verifierEnabled", detailType)
	return awsevents.NewRule(c.Construct, id, &awsevents.RuleProps{
		Description: jsii.String("Routes " + detailType + " events of the pre-signed upload API"),
		EventBus:    c.EventBus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(api.EventSource),
			DetailType: jsii.Strings(detailType),
		},
		Targets: &[]awsevents.IRuleTarget{target},
	})
}

// sendEventsToEventBridge turns on the bucket's EventBridge notifications
// on the bucket resource itself. The bucket's own EventBridgeEnabled prop
// would do it through a custom resource and a Lambda function that
// rewrites the bucket's whole notification configuration at deploy time;
// the property needs neither.
func sendEventsToEventBridge(c *PresignedUploadApi) {
	cfn, ok := c.Bucket.Node().DefaultChild().(awss3.CfnBucket)
	must(ok, "the bucket %s has no CfnBucket", *c.Bucket.Node().Path())
	cfn.AddPropertyOverride(jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), true)
}

// warnExistingBucketEvents reminds at synth that an existing bucket's
// events reach the verifier only once its owner turns them on.
func warnExistingBucketEvents(c *PresignedUploadApi) {
	awscdk.Annotations_Of(c.Construct).AddWarningV2(jsii.String("presignedupload:existingBucketEvents"), jsii.String(
		"the verifier receives the existing bucket's events through Amazon EventBridge: turn on \"Send notifications to Amazon EventBridge\" on the bucket, "+
			"or uploads stay pending; nothing on an existing bucket keeps unverified objects from being read (see the README)"), nil)
}
