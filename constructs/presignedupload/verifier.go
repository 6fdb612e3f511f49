package presignedupload

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// The verifier's delivery: S3's (and GuardDuty's) events wait in a queue
// that the function reads in batches, reporting the records to retry.
const (
	verifierTimeout   = 30 * time.Second
	verifierBatchSize = 10
	// maxReceiveCount deliveries fail before an event goes to the
	// dead-letter queue.
	maxReceiveCount = 5
	// queueRetention outlasts the longest malware scan wait (24 hours)
	// with room for the retries after it.
	queueRetention      = 4 * 24 * time.Hour
	deadLetterRetention = 14 * 24 * time.Hour
	// markerExpirationDays keeps each verification marker longer than any
	// event about its object can still arrive: a message lives at most
	// deadLetterRetention from when EventBridge first sent it (a
	// dead-letter queue keeps the original enqueue time), and the verifier
	// waits at most the longest malware scan timeout on top. A delivery
	// later than that would publish again.
	markerExpirationDays = 30
	// defaultRejectedExpirationDays is how long a rejected upload stays
	// for an operator to look at before the lifecycle rule deletes it.
	defaultRejectedExpirationDays = 7
)

// verifierDefaults fills the verifier's props. The bucket's EventBridge
// setting and the rejected-object expiration apply to a bucket the
// construct creates only; with an existing bucket they stay unset, so
// validate can refuse them.
func verifierDefaults(p *PresignedUploadApiProps) {
	setBool(&p.VerifierEnabled, true)
	setBool(&p.MalwareScanEnabled, false)
	if p.Bucket == nil {
		setBool(&p.EventBridgeEnabled, *p.VerifierEnabled)
	}
	if !*p.VerifierEnabled {
		return
	}
	if p.Bucket == nil && p.RejectedObjectExpiration == nil {
		p.RejectedObjectExpiration = awscdk.Duration_Days(jsii.Number(defaultRejectedExpirationDays))
	}
}

func validateVerifier(p *PresignedUploadApiProps) {
	if !*p.VerifierEnabled {
		for name, set := range map[string]bool{
			"markerPrefix":             p.MarkerPrefix != nil,
			"rejectedObjectExpiration": p.RejectedObjectExpiration != nil,
			"malwareScanEnabled":       *p.MalwareScanEnabled,
			"malwareScanTimeout":       p.MalwareScanTimeout != nil,
		} {
			must(!set, "%s needs verifierEnabled", name)
		}
		return
	}
	if p.Bucket == nil {
		must(*p.EventBridgeEnabled, "eventBridgeEnabled false needs verifierEnabled false: the verifier receives the bucket's events through EventBridge")
	} else {
		must(p.RejectedObjectExpiration == nil, "rejectedObjectExpiration configures a new bucket and cannot be set with an existing bucket")
	}
	if p.RejectedObjectExpiration != nil {
		must(!*awscdk.Token_IsUnresolved(p.RejectedObjectExpiration), "rejectedObjectExpiration must be a literal duration, not a token")
		days := *p.RejectedObjectExpiration.ToDays(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
		must(days >= 1 && days == float64(int64(days)), "rejectedObjectExpiration must be a whole number of days, got %v", days)
	}
	must(*p.MalwareScanEnabled || p.MalwareScanTimeout == nil, "malwareScanTimeout needs malwareScanEnabled")
}

// newVerifier creates the verifier and what feeds it: the bucket's events
// in EventBridge, the construct's own bus, the queue and its dead-letter
// queue, the rules, and, on a bucket the construct created, the
// quarantine of unverified objects. With the verifier off it only sets the
// bucket's EventBridge notifications when EventBridgeEnabled asks for them.
func newVerifier(c *PresignedUploadApi, p *PresignedUploadApiProps, s api.VerifierSettings) {
	if p.Bucket == nil && *p.EventBridgeEnabled {
		sendEventsToEventBridge(c)
	}
	if !s.Verified {
		return
	}
	cfg := s.UploadSettings
	c.EventBus = awsevents.NewEventBus(c.Construct, jsii.String("EventBus"), &awsevents.EventBusProps{
		Description: jsii.String("Upload Verified and Upload Rejected events of the pre-signed upload API"),
	})
	s.EventBusName = *c.EventBus.EventBusName()
	if s.MalwareScanEnabled {
		newMalwareScan(c, p, cfg)
	}
	c.VerifierFunction = newVerifierFunction(c, p, s)
	c.VerifierQueue, c.VerifierDeadLetterQueue = newVerifierQueues(c, s)
	c.VerifierFunction.AddEventSource(awslambdaeventsources.NewSqsEventSource(c.VerifierQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(verifierBatchSize),
		// Each record that must come again is reported; the rest of the
		// batch is done with.
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	objectCreatedRule(c, cfg)
	if s.MalwareScanEnabled {
		scanResultRule(c, cfg)
	}
	grantStatus(c, cfg)
	if p.Bucket == nil {
		quarantine(c, p, s)
	} else {
		warnExistingBucketEvents(c)
		if !cfg.PreventOverwrite {
			warnOverwritableBucket(c)
		}
	}
}

// newVerifierFunction creates the verifier: a Go function that may read
// and tag uploads, write its markers, publish on the bus, read its queue
// and write its own log group.
func newVerifierFunction(c *PresignedUploadApi, p *PresignedUploadApiProps, s api.VerifierSettings) awslambda.Function {
	logGroup, role := functionRole(c, p, "Verifier", "Checks stored uploads and publishes their outcome")
	// HeadObject and the ranged GET (GetObject, or GetObjectVersion pinned
	// to a version), reading and merging the tags.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("VerifyUploads"),
		Actions: jsii.Strings("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging",
			"s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
		Resources: jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(s.KeyPrefix + "*"))),
	}))
	// The markers: created with If-None-Match: *, read after a 412, taken
	// over with If-Match.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("VerificationMarkers"),
		Actions:   jsii.Strings("s3:GetObject", "s3:PutObject"),
		Resources: jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(s.MarkerPrefix + "*"))),
	}))
	// S3 answers a missing key with 404 only to a caller that may list the
	// bucket, and 403 to any other: without it, the event of an upload
	// deleted before its check would fail as a permission error until it
	// reached the dead-letter queue.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("MissingObjects"),
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: jsii.Strings(*c.Bucket.BucketArn()),
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("PublishUploadEvents"),
		Actions:   jsii.Strings("events:PutEvents"),
		Resources: jsii.Strings(*c.EventBus.EventBusArn()),
	}))
	grantLedgers(role, c.Bucket, s.UploadSettings)
	if p.EncryptionKey != nil {
		// Reading an upload decrypts it; writing a marker encrypts it.
		p.EncryptionKey.Grant(role, jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey"))
	}
	suppress(role.Node().FindChild(jsii.String("DefaultPolicy")), rule{
		id:        "AwsSolutions-IAM5",
		reason:    "Uploads arrive under generated keys, so the verifier's read and tag actions must name the key prefix with a trailing wildcard, and its marker actions (GetObject, PutObject) the marker prefix" + ledgersReason(s.UploadSettings) + "; nothing outside these prefixes is read or written.",
		appliesTo: prefixesGranted(s.UploadSettings, s.KeyPrefix, s.MarkerPrefix),
	})

	return goFunction(c, "Verifier", "lambda/cmd/verifier", s, awslambda.FunctionOptions{
		Description: jsii.String("Checks stored uploads and publishes Upload Verified or Upload Rejected"),
		MemorySize:  jsii.Number(256),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(verifierTimeout.Seconds())),
		Role:        role,
		LogGroup:    logGroup,
	})
}

// newVerifierQueues creates the queue the verifier reads and its
// dead-letter queue, both encrypted and TLS-only.
func newVerifierQueues(c *PresignedUploadApi, s api.VerifierSettings) (queue, dlq awssqs.Queue) {
	dlq = awssqs.NewQueue(c.Construct, jsii.String("VerifierDeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Seconds(jsii.Number(deadLetterRetention.Seconds())),
	})
	queue = awssqs.NewQueue(c.Construct, jsii.String("VerifierQueue"), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		RetentionPeriod:   awscdk.Duration_Seconds(jsii.Number(queueRetention.Seconds())),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(visibilityTimeout(s).Seconds())),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(maxReceiveCount)},
	})
	return queue, dlq
}

// visibilityTimeout is how long a received event stays hidden: six times
// the function's timeout, as Lambda advises for a queue it reads, so a
// batch still running is not handed out again. The verifier waits for a
// malware scan result by failing the delivery, so with the scan on the
// last of maxReceiveCount receives must also come after the scan timeout,
// or a slow scan would end in the dead-letter queue instead of a
// malware-scan-timeout rejection.
func visibilityTimeout(s api.VerifierSettings) time.Duration {
	v := 6 * verifierTimeout
	if s.MalwareScanEnabled {
		// The first receive comes after the object is stored, the last
		// maxReceiveCount-1 timeouts later: the scan wait split over them,
		// rounded up to whole seconds, plus a run's time.
		secs := (int64(s.MalwareScanTimeout) + maxReceiveCount - 2) / (maxReceiveCount - 1)
		v = max(v, time.Duration(secs)*time.Second+verifierTimeout)
	}
	return v
}

// objectCreatedRule routes S3's Object Created events under the key
// prefix, for every way the API stores an object, from the default bus to
// the verifier's queue.
func objectCreatedRule(c *PresignedUploadApi, cfg api.UploadSettings) awsevents.Rule {
	return awsevents.NewRule(c.Construct, jsii.String("ObjectCreatedRule"), &awsevents.RuleProps{
		Description: jsii.String("Sends uploads stored under the key prefix to the verifier"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(api.SourceS3),
			DetailType: jsii.Strings(api.DetailTypeObjectCreated),
			Detail: &map[string]any{
				"bucket": map[string]any{"name": []any{c.Bucket.BucketName()}},
				"object": map[string]any{"key": []any{map[string]any{"prefix": cfg.KeyPrefix}}},
				"reason": api.StoredReasons(),
			},
		},
		Targets: &[]awsevents.IRuleTarget{queueTarget(c)},
	})
}

// queueTarget delivers to the verifier's queue; what EventBridge cannot
// deliver there goes to the dead-letter queue, under the same alarm.
func queueTarget(c *PresignedUploadApi) awsevents.IRuleTarget {
	return awseventstargets.NewSqsQueue(c.VerifierQueue, &awseventstargets.SqsQueueProps{DeadLetterQueue: c.VerifierDeadLetterQueue})
}

// grantStatus lets the upload function read an upload's tags, where the
// verifier's status is: the status route and the download route answer
// from them.
func grantStatus(c *PresignedUploadApi, cfg api.UploadSettings) {
	c.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UploadStatus"),
		Actions:   jsii.Strings("s3:GetObjectTagging"),
		Resources: jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(cfg.KeyPrefix + "*"))),
	}))
}

// verifierAlarms watch what needs an operator: any event in the
// dead-letter queue (failed 5 times, or never delivered), and any verifier
// crash or timeout (it reports expected failures as batch items, not
// errors).
func (c *PresignedUploadApi) verifierAlarms(period awscdk.Duration) []alarmSpec {
	if c.VerifierFunction == nil {
		return nil
	}
	return []alarmSpec{
		{
			id:          "VerifierDeadLetterQueueAlarm",
			description: "Events about stored uploads are in the verifier's dead-letter queue: the verifier failed on them 5 times or EventBridge could not deliver them. The verifier's log has the causes; redrive them once fixed.",
			metric:      c.VerifierDeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: period}),
			threshold:   0,
			comparison:  awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		},
		{
			id:          "VerifierErrorsAlarm",
			description: "The verifier function failed (crashed or timed out) in the last 5 minutes; its log has the cause.",
			metric:      c.VerifierFunction.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}),
			threshold:   1,
			comparison:  awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		},
	}
}
