package presignedupload

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbudgets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// Cost guardrails bound and report what callers can make a deployment
// spend. Each stored upload costs about 8 S3 requests, an event and a
// marker, so a caller looping the upload routes at the stage's limit runs
// up the bill by itself: those routes (api.Route.Throttled) get limits of
// their own below the stage's; alarms report 4XX volume, PUT requests and
// the bucket's size; an optional AWS Budget watches the bill itself.
const (
	throttledRouteRate        = 10
	throttledRouteBurst       = 20
	clientErrorAlarmThreshold = 1000
	putRequestAlarmThreshold  = 10000
	// uploadsMetricsFilter is the ID of the bucket's request metrics
	// configuration on KeyPrefix, the FilterId dimension of its metrics.
	uploadsMetricsFilter = "Uploads"
)

// throttleDefaults keeps the throttled routes' defaults within the
// stage's limits when those are set lower.
func throttleDefaults(p *PresignedUploadApiProps) {
	setNumber(&p.ThrottledRouteRateLimit, atMost(throttledRouteRate, p.ThrottlingRateLimit))
	setNumber(&p.ThrottledRouteBurstLimit, atMost(throttledRouteBurst, p.ThrottlingBurstLimit))
}

func atMost(v float64, limit *float64) float64 {
	if !unresolvedNumber(limit) && *limit >= 0 && *limit < v {
		return *limit
	}
	return v
}

// costAlarmDefaults fills the cost alarms' thresholds. The bucket's own
// alarms are on by default only on a bucket the construct creates: an
// existing bucket holds more than the uploads, and its request metrics
// are its owner's to configure.
func costAlarmDefaults(p *PresignedUploadApiProps) {
	setNumber(&p.ClientErrorAlarmThreshold, clientErrorAlarmThreshold)
	if p.Bucket == nil {
		setNumber(&p.PutRequestAlarmThreshold, putRequestAlarmThreshold)
		if p.BucketSizeAlarmThreshold == nil {
			p.BucketSizeAlarmThreshold = awscdk.Size_Tebibytes(jsii.Number(1))
		}
	}
}

func validateCosts(p *PresignedUploadApiProps) {
	for _, l := range []struct {
		name, stageName string
		v, stage        *float64
	}{
		{"throttledRouteRateLimit", "throttlingRateLimit", p.ThrottledRouteRateLimit, p.ThrottlingRateLimit},
		{"throttledRouteBurstLimit", "throttlingBurstLimit", p.ThrottledRouteBurstLimit, p.ThrottlingBurstLimit},
	} {
		if !unresolvedNumber(l.v) && !unresolvedNumber(l.stage) {
			must(*l.v <= *l.stage, "%s %v is above %s %v: the stage would refuse the requests first", l.name, *l.v, l.stageName, *l.stage)
		}
	}
	if !*p.AlarmsEnabled {
		for _, a := range []struct {
			name string
			set  bool
		}{
			{"clientErrorAlarmThreshold", p.ClientErrorAlarmThreshold != nil},
			{"putRequestAlarmThreshold", p.PutRequestAlarmThreshold != nil},
			{"bucketSizeAlarmThreshold", p.BucketSizeAlarmThreshold != nil},
		} {
			must(!a.set, "%s needs alarmsEnabled", a.name)
		}
	}
	if p.MonthlyBudget != nil {
		must(p.AlarmTopic != nil, "monthlyBudget needs alarmTopic: the budget notifies it")
		must(unresolvedNumber(p.MonthlyBudget) || *p.MonthlyBudget > 0, "monthlyBudget %v must be above 0 US dollars", *p.MonthlyBudget)
	}
	if p.MonthlyBudgetTags != nil {
		must(p.MonthlyBudget != nil, "monthlyBudgetTags needs monthlyBudget")
		must(len(*p.MonthlyBudgetTags) > 0, "monthlyBudgetTags is empty: leave it unset to count the whole account")
		for k, v := range *p.MonthlyBudgetTags {
			must(k != "" && v != nil, "monthlyBudgetTags has a tag %q without a key or a value", k)
		}
	}
}

// throttledMethods are the stage's settings for each method of a route a
// caller could loop, keyed as the CDK wants them ("/resource/METHOD"), or
// nil when their limits are the stage's own. A method's settings replace
// the stage's for it, so each carries the stage's logging and metrics.
func throttledMethods(p *PresignedUploadApiProps, cfg api.UploadSettings, stage awsapigateway.MethodDeploymentOptions) *map[string]*awsapigateway.MethodDeploymentOptions {
	if sameNumber(p.ThrottledRouteRateLimit, p.ThrottlingRateLimit) && sameNumber(p.ThrottledRouteBurstLimit, p.ThrottlingBurstLimit) {
		return nil
	}
	methods := map[string]*awsapigateway.MethodDeploymentOptions{}
	for _, r := range api.RoutesFor(cfg) {
		if !r.Throttled {
			continue
		}
		o := stage
		o.ThrottlingRateLimit = p.ThrottledRouteRateLimit
		o.ThrottlingBurstLimit = p.ThrottledRouteBurstLimit
		methods[r.Resource+"/"+r.Method] = &o
	}
	return &methods
}

func sameNumber(a, b *float64) bool {
	return !unresolvedNumber(a) && !unresolvedNumber(b) && *a == *b
}

// alarmOn reports whether a threshold asks for its alarm: set and not 0.
func alarmOn(threshold *float64) bool { return threshold != nil && *threshold != 0 }

func sizeAlarmOn(threshold awscdk.Size) bool {
	return threshold != nil && (*threshold.IsUnresolved() || bytesOf(threshold) != 0)
}

func bytesOf(s awscdk.Size) float64 {
	return *s.ToBytes(&awscdk.SizeConversionOptions{Rounding: awscdk.SizeRoundingBehavior_NONE})
}

// bucketMetrics is the request metrics configuration the PUT requests
// alarm reads: S3 publishes request metrics only for a configured filter.
func bucketMetrics(p *PresignedUploadApiProps, cfg api.UploadSettings) *[]*awss3.BucketMetrics {
	if !*p.AlarmsEnabled || !alarmOn(p.PutRequestAlarmThreshold) {
		return nil
	}
	return &[]*awss3.BucketMetrics{{Id: jsii.String(uploadsMetricsFilter), Prefix: jsii.String(cfg.KeyPrefix)}}
}

// costAlarms report what callers make the deployment spend: refused
// requests in bulk, PUT requests under KeyPrefix, and storage. S3's
// metrics have no methods on the bucket, so they are named here.
func (c *PresignedUploadApi) costAlarms(p *PresignedUploadApiProps, period awscdk.Duration) []alarmSpec {
	var alarms []alarmSpec
	if alarmOn(p.ClientErrorAlarmThreshold) {
		alarms = append(alarms, alarmSpec{
			id:          "ApiClientErrorsAlarm",
			description: "The upload API answered more 4XX than its threshold in 5 minutes: a client looping past the throttles (429), or failing its key, token or requests. The access log names the callers.",
			metric:      c.Api.MetricClientError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}),
			threshold:   *p.ClientErrorAlarmThreshold,
			comparison:  awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		})
	}
	if alarmOn(p.PutRequestAlarmThreshold) {
		alarms = append(alarms, alarmSpec{
			id:          "BucketPutRequestsAlarm",
			description: "S3 counted more PUT requests under the upload prefix than the threshold in 5 minutes: uploads arrive faster than expected, and each costs S3 requests, an event and a verification. The API's access log names the callers.",
			metric:      c.bucketMetric("PutRequests", "Sum", period, map[string]*string{"FilterId": jsii.String(uploadsMetricsFilter)}),
			threshold:   *p.PutRequestAlarmThreshold,
			comparison:  awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		})
	}
	if sizeAlarmOn(p.BucketSizeAlarmThreshold) {
		alarms = append(alarms, alarmSpec{
			id:          "BucketSizeAlarm",
			description: "The upload bucket's S3 Standard storage is larger than the threshold: storage is billed every month it stays. Check who stored what, and the lifecycle rules.",
			// S3 reports storage once a day.
			metric: c.bucketMetric("BucketSizeBytes", "Maximum", awscdk.Duration_Days(jsii.Number(1)),
				map[string]*string{"StorageType": jsii.String("StandardStorage")}),
			threshold:  bytesOf(p.BucketSizeAlarmThreshold),
			comparison: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		})
	}
	return alarms
}

// bucketMetric is S3's metric name of the bucket, in the dimensions dims
// besides the bucket's name.
func (c *PresignedUploadApi) bucketMetric(name, statistic string, period awscdk.Duration, dims map[string]*string) awscloudwatch.Metric {
	dims["BucketName"] = c.Bucket.BucketName()
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/S3"), MetricName: jsii.String(name),
		DimensionsMap: &dims, Statistic: jsii.String(statistic), Period: period})
}

// newBudget creates the monthly cost budget that notifies the alarm
// topic; nil without MonthlyBudget. Budgets publishes to the topic only
// when the topic's policy lets it: the construct adds that statement to a
// topic it may change, and warns otherwise.
func newBudget(c *PresignedUploadApi, p *PresignedUploadApiProps) awsbudgets.CfnBudget {
	if p.MonthlyBudget == nil {
		return nil
	}
	stack := awscdk.Stack_Of(c.Construct)
	// The conditions AWS documents for budget notifications: only this
	// account's budgets may publish.
	allowed := p.AlarmTopic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowBudgetsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("budgets.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{p.AlarmTopic.TopicArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
			"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:%s:budgets::%s:*", *stack.Partition(), *stack.Account())},
		},
	}))
	if !*allowed.StatementAdded {
		awscdk.Annotations_Of(c.Construct).AddWarningV2(jsii.String("presignedupload:budgetTopicPolicy"), jsii.String(
			"monthlyBudget notifies an alarm topic this app cannot change: its owner must let budgets.amazonaws.com publish to it "+
				"(sns:Publish on condition aws:SourceAccount), and let Budgets use its key if it is encrypted, or the budget's notifications are lost"), nil)
	}
	notify := func(kind string, percent float64) *awsbudgets.CfnBudget_NotificationWithSubscribersProperty {
		return &awsbudgets.CfnBudget_NotificationWithSubscribersProperty{
			Notification: &awsbudgets.CfnBudget_NotificationProperty{
				NotificationType:   jsii.String(kind),
				ComparisonOperator: jsii.String("GREATER_THAN"),
				Threshold:          jsii.Number(percent),
				ThresholdType:      jsii.String("PERCENTAGE"),
			},
			Subscribers: &[]any{&awsbudgets.CfnBudget_SubscriberProperty{
				SubscriptionType: jsii.String("SNS"),
				Address:          p.AlarmTopic.TopicArn(),
			}},
		}
	}
	budget := awsbudgets.NewCfnBudget(c.Construct, jsii.String("Budget"), &awsbudgets.CfnBudgetProps{
		Budget: &awsbudgets.CfnBudget_BudgetDataProperty{
			// Budget names are unique in the account, across regions.
			BudgetName: jsii.String(*awscdk.Names_UniqueResourceName(c.Construct, &awscdk.UniqueResourceNameOptions{
				Separator: jsii.String("-"), MaxLength: jsii.Number(80),
			}) + "-" + *stack.Region()),
			BudgetType:       jsii.String("COST"),
			TimeUnit:         jsii.String("MONTHLY"),
			BudgetLimit:      &awsbudgets.CfnBudget_SpendProperty{Amount: p.MonthlyBudget, Unit: jsii.String("USD")},
			FilterExpression: tagFilter(p.MonthlyBudgetTags),
		},
		NotificationsWithSubscribers: &[]any{notify("ACTUAL", 80), notify("FORECASTED", 100)},
	})
	if allowed.PolicyDependable != nil {
		budget.Node().AddDependency(allowed.PolicyDependable)
	}
	return budget
}

// tagFilter is a budget filter on resources carrying every tag; nil for
// none (an untyped nil: the property is an interface).
func tagFilter(tags *map[string]*string) any {
	if tags == nil {
		return nil
	}
	var each []any
	for _, k := range slices.Sorted(maps.Keys(*tags)) {
		each = append(each, &awsbudgets.CfnBudget_ExpressionProperty{Tags: &awsbudgets.CfnBudget_TagValuesProperty{
			Key:          jsii.String(k),
			Values:       &[]*string{(*tags)[k]},
			MatchOptions: jsii.Strings("EQUALS"),
		}})
	}
	if len(each) == 1 {
		return each[0]
	}
	return &awsbudgets.CfnBudget_ExpressionProperty{And: &each}
}
