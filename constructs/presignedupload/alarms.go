package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/jsii-runtime-go"
)

// apiServerErrorRate is the share of requests answered 5XX over five
// minutes above which the API alarms.
const apiServerErrorRate = 0.05

// newAlarms watches what should never happen in steady use. The function
// answers expected failures itself, so any Errors are crashes or timeouts;
// any Throttles mean requests refused for lack of concurrency. The API's
// 5XXError metric is 0 or 1 per request, so its Average is the share of
// requests that got a 5XX, whether from the function or from API Gateway.
// No traffic is no problem: missing data does not breach. The verifier's
// alarms join them (verifierAlarms), and the cost alarms (costAlarms).
func newAlarms(c *PresignedUploadApi, p *PresignedUploadApiProps) []awscloudwatch.Alarm {
	if !*p.AlarmsEnabled {
		return nil
	}
	period := awscdk.Duration_Minutes(jsii.Number(5))
	alarms := []alarmSpec{
		{
			id:          "ApiServerErrorsAlarm",
			description: "More than 5% of the upload API's requests got a 5XX answer in 5 minutes; the function's log has the causes.",
			metric:      c.Api.MetricServerError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Average"), Period: period}),
			threshold:   apiServerErrorRate,
			comparison:  awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		},
		{
			id:          "HandlerErrorsAlarm",
			description: "The upload function failed (crashed or timed out) in the last 5 minutes; its log has the cause.",
			metric:      c.Function.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}),
			threshold:   1,
			comparison:  awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		},
		{
			id:          "HandlerThrottlesAlarm",
			description: "Invocations of the upload function were throttled in the last 5 minutes: the account's or the function's concurrency is exhausted.",
			metric:      c.Function.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}),
			threshold:   1,
			comparison:  awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		},
	}
	alarms = append(alarms, c.verifierAlarms(period)...)
	alarms = append(alarms, c.costAlarms(p, period)...)
	out := make([]awscloudwatch.Alarm, 0, len(alarms))
	for _, a := range alarms {
		alarm := awscloudwatch.NewAlarm(c.Construct, jsii.String(a.id), &awscloudwatch.AlarmProps{
			Metric:             a.metric,
			AlarmDescription:   jsii.String(a.description),
			Threshold:          jsii.Number(a.threshold),
			ComparisonOperator: a.comparison,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if p.AlarmTopic != nil {
			alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(p.AlarmTopic))
		}
		out = append(out, alarm)
	}
	return out
}

// alarmSpec is one alarm: its construct ID, what it says, and when it fires.
type alarmSpec struct {
	id, description string
	metric          awscloudwatch.IMetric
	threshold       float64
	comparison      awscloudwatch.ComparisonOperator
}

func validateAlarms(p *PresignedUploadApiProps) {
	must(p.AlarmTopic == nil || *p.AlarmsEnabled, "alarmTopic needs alarmsEnabled")
}

// apiName names the REST API after the construct's path. API Gateway keys
// its metrics by API name, not ID, so two stacks' APIs with one name (such
// as the default, the construct ID) would share their alarms' data.
func apiName(c *PresignedUploadApi) *string {
	return awscdk.Names_UniqueResourceName(c.Construct, &awscdk.UniqueResourceNameOptions{Separator: jsii.String("-")})
}
