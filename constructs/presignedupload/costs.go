package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"

	"github.com/presigned-upload/presigned-upload/api"
)

// Cost guardrails bound what callers can make a deployment spend. Each
// stored upload costs about 8 S3 requests, an event and a marker, so a
// caller looping the upload routes at the stage's limit runs up the bill
// by itself: those routes (api.Route.Throttled) get limits of their own
// below the stage's.
const (
	throttledRouteRate  = 10
	throttledRouteBurst = 20
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
