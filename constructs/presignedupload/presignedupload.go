// Package presignedupload provides PresignedUploadApi, a CDK construct for
// uploading files to Amazon S3 through pre-signed URLs: a REST API backed by
// a Go Lambda hands out URLs, and clients send the bytes straight to S3.
package presignedupload

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbudgets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsguardduty"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/api/schema"
)

// PresignedUploadApi is the upload API and everything it needs. The fields
// expose what it made; optional parts are nil when disabled.
type PresignedUploadApi struct {
	constructs.Construct

	// Bucket receives the uploads: the one passed in, or the one created.
	Bucket awss3.IBucket
	// Function is the Go Lambda that signs the URLs.
	Function awslambda.Function
	// Api is the regional REST API.
	Api awsapigateway.RestApi
	// ApiKey is the key clients send in X-Api-Key; nil unless ApiKeyRequired.
	ApiKey awsapigateway.IApiKey
	// UsagePlan throttles and meters ApiKey; nil unless ApiKeyRequired.
	UsagePlan awsapigateway.UsagePlan
	// WebAcl is the web ACL created for the stage; nil unless WebAclEnabled.
	WebAcl awswafv2.CfnWebACL
	// UploadUrlEndpoint is the full URL of POST/GET /get-upload-url.
	UploadUrlEndpoint *string
	// Alarms watch the API's 5XX rate, the function's errors and
	// throttles, the verifier, and the costs: 4XX volume, PUT requests and
	// bucket size, each unless turned off; nil unless AlarmsEnabled.
	Alarms []awscloudwatch.Alarm
	// Budget is the monthly cost budget; nil unless MonthlyBudget.
	Budget awsbudgets.CfnBudget

	// UserPool signs callers in: the one passed in CognitoSignIn, or the one
	// created; nil unless CognitoSignIn.
	UserPool awscognito.IUserPool
	// UserPoolClient is the page's public app client; nil unless
	// CognitoSignIn.
	UserPoolClient awscognito.UserPoolClient
	// UserPoolDomain serves the hosted sign-in pages; nil unless
	// CognitoSignIn created a domain.
	UserPoolDomain awscognito.UserPoolDomain
	// HostedUiUrl is the base URL of the hosted sign-in pages
	// (https://<prefix>.auth.<region>.amazoncognito.com); nil unless
	// UserPoolDomain.
	HostedUiUrl *string
	// Scope is the OAuth scope an access token needs to call the API; nil
	// unless CognitoSignIn.
	Scope *string
	// AuthorizerFunction is the Go Lambda that verifies OpenID Connect
	// tokens; nil unless OidcSignIn.
	AuthorizerFunction awslambda.Function
	// Authorizer guards every method but OPTIONS; nil without sign-in.
	Authorizer awsapigateway.IAuthorizer
	// Issuer is the iss of the tokens the API accepts; nil without sign-in.
	Issuer *string

	// EventBus receives the Upload Verified and Upload Rejected events
	// (source "presigned-upload"); OnUploadVerified and OnUploadRejected
	// route them. nil unless VerifierEnabled.
	EventBus awsevents.EventBus
	// VerifierFunction is the Go Lambda that checks stored uploads; nil
	// unless VerifierEnabled.
	VerifierFunction awslambda.Function
	// VerifierQueue holds the bucket's (and GuardDuty's) events until the
	// verifier has handled them; nil unless VerifierEnabled.
	VerifierQueue awssqs.Queue
	// VerifierDeadLetterQueue receives the events the verifier failed on 5
	// times and those EventBridge could not deliver; an alarm watches it.
	// nil unless VerifierEnabled.
	VerifierDeadLetterQueue awssqs.Queue
	// MalwareProtectionPlan has GuardDuty scan the uploads; nil unless
	// MalwareScanEnabled.
	MalwareProtectionPlan awsguardduty.CfnMalwareProtectionPlan
	// MalwareScanRole is the role GuardDuty scans and tags uploads with;
	// with an existing bucket under SSE-KMS, grant it kms:Decrypt and
	// kms:GenerateDataKey on the key. nil unless MalwareScanEnabled.
	MalwareScanRole awsiam.Role

	auth *signIn
}

// NewPresignedUploadApi creates the upload API under a new scope named id.
// It panics with a message naming the bad value when props cannot work.
func NewPresignedUploadApi(scope constructs.Construct, id *string, props *PresignedUploadApiProps) *PresignedUploadApi {
	p := withDefaults(props)
	validate(p)
	s := functionSettings(p)
	signInDefaults(p, s.UploadSettings)

	c := &PresignedUploadApi{Construct: constructs.NewConstruct(scope, id)}
	c.Bucket = p.Bucket
	if c.Bucket == nil {
		c.Bucket = newBucket(c, p, s.UploadSettings)
	}
	s.Bucket = *c.Bucket.BucketName()
	cfg := s.UploadSettings
	c.Function = newFunction(c, p, cfg)
	if p.Bucket == nil {
		denyStaleSignatures(c, cfg)
		denyOverwrites(c, cfg)
	}
	newVerifier(c, p, s)
	c.auth = newSignIn(c, p, cfg)
	c.Api = newApi(c, p, cfg)
	c.UploadUrlEndpoint = c.Api.UrlForPath(jsii.String(api.UploadURL.Resource))
	if *p.ApiKeyRequired {
		c.ApiKey, c.UsagePlan = newUsagePlan(c, p)
	}
	c.WebAcl = newWebAcl(c, p)
	c.Alarms = newAlarms(c, p)
	c.Budget = newBudget(c, p)
	warnPlaceholderOrigins(c, cfg)
	return c
}

func newBucket(c *PresignedUploadApi, p *PresignedUploadApiProps, cfg api.UploadSettings) awss3.Bucket {
	encryption := awss3.BucketEncryption_S3_MANAGED
	if p.EncryptionKey != nil {
		encryption = awss3.BucketEncryption_KMS
	}
	rules := []*awss3.LifecycleRule{{
		Id:                                  jsii.String("AbortIncompleteMultipartUploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
	}, {
		// A session outlives its upload when it was completed (to answer
		// the same completion sent again) or neither completed nor
		// aborted; an incomplete upload itself is gone after a day.
		Id:         jsii.String("ExpireUploadSessions"),
		Prefix:     jsii.String(cfg.SessionPrefix),
		Expiration: awscdk.Duration_Days(jsii.Number(2)),
	}}
	if p.UploadExpiration != nil {
		rules = append(rules, &awss3.LifecycleRule{
			Id:         jsii.String("ExpireUploads"),
			Prefix:     jsii.String(cfg.KeyPrefix),
			Expiration: p.UploadExpiration,
		})
	}
	rules = append(rules, versionRules(p)...)
	var logsPrefix *string
	if p.ServerAccessLogsBucket != nil {
		logsPrefix = p.ServerAccessLogsPrefix
		if logsPrefix == nil {
			logsPrefix = jsii.String("s3-access-logs/")
		}
	}
	b := awss3.NewBucket(c.Construct, jsii.String("Bucket"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Encryption:             encryption,
		EncryptionKey:          p.EncryptionKey,
		BucketKeyEnabled:       jsii.Bool(p.EncryptionKey != nil),
		Cors:                   &[]*awss3.CorsRule{bucketCors(cfg)},
		LifecycleRules:         &rules,
		RemovalPolicy:          p.RemovalPolicy,
		AutoDeleteObjects:      p.AutoDeleteObjects,
		ServerAccessLogsBucket: p.ServerAccessLogsBucket,
		ServerAccessLogsPrefix: logsPrefix,
		Metrics:                bucketMetrics(p, cfg),
		Versioned:              p.Versioned,
		TransferAcceleration:   jsii.Bool(cfg.TransferAcceleration),
		// An SSE-C object is readable only with the key its uploader kept:
		// nothing that processes uploads could read it.
		BlockedEncryptionTypes: &[]awss3.BlockedEncryptionType{awss3.BlockedEncryptionType_SSE_C()},
	})
	if p.ServerAccessLogsBucket == nil {
		suppress(b, rule{id: "AwsSolutions-S1", reason: "Uploads are authorised one object at a time by short-lived pre-signed URLs and every issuance is logged by the API; S3 server access logs are available through the ServerAccessLogsBucket prop for deployments that must keep them."})
	}
	return b
}

// bucketCors lets browsers on the allowed origins send every header an
// issued URL can ask for, and read the ETag that multipart completion needs.
func bucketCors(cfg api.UploadSettings) *awss3.CorsRule {
	var methods []awss3.HttpMethods
	for _, m := range api.BucketCORSMethodsFor(cfg) {
		methods = append(methods, awss3.HttpMethods(m))
	}
	return &awss3.CorsRule{
		AllowedMethods: &methods,
		AllowedOrigins: jsii.Strings(cfg.AllowedOrigins...),
		AllowedHeaders: jsii.Strings(api.UploadHeaders...),
		ExposedHeaders: jsii.Strings(api.BucketCORSExposeHeaders...),
		MaxAge:         jsii.Number(api.BucketCORSMaxAgeSeconds),
	}
}

// integrationTimeout is how long API Gateway waits for the function: the
// most a REST API's integration may wait without a quota increase. The
// function may use all of it, since S3 can take longer to assemble
// thousands of parts than a URL takes to sign; a client that gets API
// Gateway's 504 sends the completion again.
const integrationTimeout = 29 * time.Second

func newFunction(c *PresignedUploadApi, p *PresignedUploadApiProps, cfg api.UploadSettings) awslambda.Function {
	// It may write only to its log group and only under the prefixes.
	logGroup, role := functionRole(c, p, "Handler", "Signs pre-signed S3 upload URLs")
	// PutObject also authorises the multipart calls that create, fill and
	// complete an upload; listing and aborting parts need their own actions.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("Uploads"),
		Actions:   jsii.Strings("s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"),
		Resources: jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(cfg.KeyPrefix + "*"))),
	}))
	// Listing only under the key prefix: a completion sent again finds by
	// its key the object the first one stored (reading the object would
	// need s3:GetObject, which the quarantine denies until it is
	// verified), and with sign-in the caller's files are listed.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ListUploads"),
		Actions:    jsii.Strings("s3:ListBucket"),
		Resources:  jsii.Strings(*c.Bucket.BucketArn()),
		Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": cfg.KeyPrefix + "*"}},
	}))
	// Each multipart upload's session: written at the start, read by the
	// later calls, deleted by an abort (a completed upload's stays for a
	// completion sent again, until the lifecycle rule). Outside the key
	// prefix, so no upload URL can reach it.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UploadSessions"),
		Actions:   jsii.Strings("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
		Resources: jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(cfg.SessionPrefix + "*"))),
	}))
	if cfg.SignIn {
		grantFiles(role, c.Bucket, cfg)
	}
	grantLedgers(role, c.Bucket, cfg)
	if p.EncryptionKey != nil {
		// Multipart uploads under SSE-KMS need Decrypt as well.
		p.EncryptionKey.Grant(role, jsii.String("kms:GenerateDataKey"), jsii.String("kms:Decrypt"))
	}
	suppress(role.Node().FindChild(jsii.String("DefaultPolicy")), rule{
		id:        "AwsSolutions-IAM5",
		reason:    "Object keys are generated per request, so the upload actions (PutObject, ListMultipartUploadParts, AbortMultipartUpload) must name the key prefix with a trailing wildcard, and the session actions (PutObject, GetObject, DeleteObject) the session prefix" + ledgersReason(cfg) + "; nothing outside these prefixes is granted" + filesReason(cfg),
		appliesTo: prefixesGranted(cfg, cfg.KeyPrefix, cfg.SessionPrefix),
	})

	return goFunction(c, "Handler", "lambda/cmd/upload", cfg, awslambda.FunctionOptions{
		Description: jsii.String("Issues pre-signed S3 upload URLs"),
		MemorySize:  p.MemorySize,
		Timeout:     awscdk.Duration_Seconds(jsii.Number(integrationTimeout.Seconds())),
		Role:        role,
		LogGroup:    logGroup,
	})
}

func newApi(c *PresignedUploadApi, p *PresignedUploadApiProps, cfg api.UploadSettings) awsapigateway.RestApi {
	accessLogs := awslogs.NewLogGroup(c.Construct, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	// What every method logs and measures; the throttled ones repeat it.
	monitoring := awsapigateway.MethodDeploymentOptions{
		LoggingLevel: awsapigateway.MethodLoggingLevel_INFO,
		// Responses carry pre-signed URLs: never copy bodies into logs.
		DataTraceEnabled: jsii.Bool(false),
		MetricsEnabled:   jsii.Bool(true),
	}
	// The CloudWatch role backs API Gateway's one logging setting per account
	// and region, which every API there shares: it is retained, so deleting
	// this stack never leaves that setting pointing at a deleted role.
	restApi := awsapigateway.NewRestApi(c.Construct, jsii.String("Api"), &awsapigateway.RestApiProps{
		Description:                 jsii.String("Issues pre-signed S3 upload URLs"),
		RestApiName:                 apiName(c),
		EndpointConfiguration:       &awsapigateway.EndpointConfiguration{Types: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL}},
		CloudWatchRole:              jsii.Bool(true),
		CloudWatchRoleRemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            p.StageName,
			ThrottlingRateLimit:  p.ThrottlingRateLimit,
			ThrottlingBurstLimit: p.ThrottlingBurstLimit,
			MethodOptions:        throttledMethods(p, cfg, monitoring),
			LoggingLevel:         monitoring.LoggingLevel,
			DataTraceEnabled:     monitoring.DataTraceEnabled,
			MetricsEnabled:       monitoring.MetricsEnabled,
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat:      awsapigateway.AccessLogFormat_Custom(jsii.String(c.auth.accessLogFormat())),
		},
		DefaultCorsPreflightOptions: &awsapigateway.CorsOptions{
			AllowOrigins: jsii.Strings(cfg.AllowedOrigins...),
			AllowMethods: jsii.Strings(api.CORSAllowMethods...),
			AllowHeaders: jsii.Strings(api.CORSAllowHeaders...),
			MaxAge:       awscdk.Duration_Seconds(jsii.Number(api.CORSMaxAgeSeconds)),
		},
	})
	if role := restApi.Node().TryFindChild(jsii.String("CloudWatchRole")); role != nil {
		suppress(role, rule{id: "AwsSolutions-IAM4", reason: "API Gateway's account-level CloudWatch role needs AmazonAPIGatewayPushToCloudWatchLogs, the AWS-maintained policy for exactly that purpose; execution and access logging depend on it."})
	}
	if p.WebAclEnabled != nil && !*p.WebAclEnabled && p.ExistingWebAclArn == nil {
		suppress(restApi.DeploymentStage(), rule{id: "AwsSolutions-APIG3", reason: "WAF is opt-in through the WebAclEnabled or ExistingWebAclArn props; the stage is throttled either way."})
	}

	gatewayResponses(restApi, cfg)
	// Body checks apply where a method has a model, parameter checks where it
	// requires parameters.
	validator := restApi.AddRequestValidator(jsii.String("RequestValidator"), &awsapigateway.RequestValidatorOptions{
		ValidateRequestBody:       jsii.Bool(true),
		ValidateRequestParameters: jsii.Bool(true),
	})
	integration := awsapigateway.NewLambdaIntegration(c.Function, &awsapigateway.LambdaIntegrationOptions{
		Proxy:           jsii.Bool(true),
		AllowTestInvoke: jsii.Bool(false),
		Timeout:         awscdk.Duration_Seconds(jsii.Number(integrationTimeout.Seconds())),
	})
	for _, r := range api.RoutesFor(cfg) {
		opts := &awsapigateway.MethodOptions{ApiKeyRequired: p.ApiKeyRequired, RequestValidator: validator}
		c.auth.apply(opts)
		if r.InBody() && r.Request() != nil {
			// The model also applies to any other Content-Type ($default):
			// registered for application/json alone, a text/plain body
			// would skip validation.
			m := requestModel(restApi, r, cfg)
			opts.RequestModels = &map[string]awsapigateway.IModel{"application/json": m, "$default": m}
		} else if q := requiredQuery(r, cfg); len(q) > 0 {
			opts.RequestParameters = &q
		}
		m := restApi.Root().ResourceForPath(jsii.String(r.Resource)).AddMethod(jsii.String(r.Method), integration, opts)
		c.auth.suppressMethod(m)
	}
	return restApi
}

// suppressOpenMethod records why a method has no authorizer.
func suppressOpenMethod(m awsapigateway.Method) {
	suppress(m, rule{id: "AwsSolutions-APIG4", reason: "The API hands out pre-signed upload URLs to anonymous or API-key clients by design; access is limited by the optional API key with usage plan, stage and WAF throttling, and by what each URL signs (key, type, size, expiry)."},
		rule{id: "AwsSolutions-COG4", reason: "No end-user identity is involved: the API is protected by the optional API key, throttling and WAF. Put a Cognito or Lambda authorizer in front when uploads must be tied to users."})
}

// accessLogFormat is one JSON line per request. Besides the standard
// fields it names who called (API key ID, source IP, user agent) and the
// function invocation that served it, so an object traced from the
// function's "issued" log line (which carries the same requestId) leads to
// a caller.
var accessLogFormat = func() string {
	b, err := json.Marshal(map[string]string{
		"requestId":            "$context.requestId",
		"requestTime":          "$context.requestTime",
		"ip":                   "$context.identity.sourceIp",
		"userAgent":            "$context.identity.userAgent",
		"apiKeyId":             "$context.identity.apiKeyId",
		"httpMethod":           "$context.httpMethod",
		"resourcePath":         "$context.resourcePath",
		"protocol":             "$context.protocol",
		"status":               "$context.status",
		"responseLength":       "$context.responseLength",
		"errorType":            "$context.error.responseType",
		"integrationRequestId": "$context.integration.requestId",
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// gatewayResponses gives API Gateway's own errors (bad key, throttling,
// failed validation) the API's JSON error shape, CORS headers and nosniff,
// so a browser sees the error instead of a CORS failure.
func gatewayResponses(restApi awsapigateway.RestApi, cfg api.UploadSettings) {
	origin := "'*'"
	headers := map[string]*string{}
	if origins := cfg.AllowedOrigins; len(origins) == 1 {
		origin = "'" + origins[0] + "'"
	} else {
		// Several origins: echo the caller's, as the OPTIONS method does. The
		// body is an error message and never carries data.
		origin = "method.request.header.Origin"
		headers["Vary"] = jsii.String("'Origin'")
	}
	headers["Access-Control-Allow-Origin"] = jsii.String(origin)
	headers["Access-Control-Allow-Headers"] = jsii.String("'" + strings.Join(api.CORSAllowHeaders, ",") + "'")
	// As on the function's answers: a browser takes the body for JSON only.
	headers["X-Content-Type-Options"] = jsii.String("'nosniff'")
	for id, t := range map[string]awsapigateway.ResponseType{
		"Default4xx":     awsapigateway.ResponseType_DEFAULT_4XX(),
		"Default5xx":     awsapigateway.ResponseType_DEFAULT_5XX(),
		"BadRequestBody": awsapigateway.ResponseType_BAD_REQUEST_BODY(),
	} {
		message := "$context.error.messageString"
		if id == "BadRequestBody" {
			message = `"$util.escapeJavaScript($context.error.validationErrorString)"`
		}
		restApi.AddGatewayResponse(jsii.String(id), &awsapigateway.GatewayResponseOptions{
			Type:            t,
			ResponseHeaders: &headers,
			Templates: &map[string]*string{
				"application/json": jsii.String(`{"message":` + message + `,"code":"$context.error.responseType"}`),
			},
		})
	}
}

// requestModel registers the model of r's JSON body, derived from its
// request type. Models check shapes only: the handler answers size and type
// limits with 413 and 415, which a schema failure (400) would hide.
func requestModel(restApi awsapigateway.RestApi, r api.Route, cfg api.UploadSettings) awsapigateway.IModel {
	s, err := schema.For(r, cfg)
	must(err == nil, "%v", err)
	return restApi.AddModel(jsii.String(r.Name), &awsapigateway.ModelOptions{
		ContentType: jsii.String("application/json"),
		ModelName:   jsii.String(r.Name),
		Schema:      jsonSchema(s),
	})
}

// requiredQuery returns the query strings a GET or DELETE route requires.
func requiredQuery(r api.Route, cfg api.UploadSettings) map[string]*bool {
	q := map[string]*bool{}
	for _, name := range r.Required(cfg) {
		q["method.request.querystring."+name] = jsii.Bool(true)
	}
	return q
}

func newUsagePlan(c *PresignedUploadApi, p *PresignedUploadApiProps) (awsapigateway.IApiKey, awsapigateway.UsagePlan) {
	key := awsapigateway.NewApiKey(c.Construct, jsii.String("ApiKey"), &awsapigateway.ApiKeyProps{
		Description: jsii.String("Key for the pre-signed upload API"),
		Enabled:     jsii.Bool(true),
	})
	plan := c.Api.AddUsagePlan(jsii.String("UsagePlan"), &awsapigateway.UsagePlanProps{
		Description: jsii.String("Throttle and daily quota per key"),
		Throttle: &awsapigateway.ThrottleSettings{
			RateLimit:  p.UsagePlanRateLimit,
			BurstLimit: p.UsagePlanBurstLimit,
		},
		Quota: &awsapigateway.QuotaSettings{
			Limit:  p.UsagePlanQuotaPerDay,
			Period: awsapigateway.Period_DAY,
		},
		ApiStages: &[]*awsapigateway.UsagePlanPerApiStage{{Api: c.Api, Stage: c.Api.DeploymentStage()}},
	})
	plan.AddApiKey(key, nil)
	return key, plan
}

func newWebAcl(c *PresignedUploadApi, p *PresignedUploadApiProps) awswafv2.CfnWebACL {
	stageArn := c.Api.DeploymentStage().StageArn()
	if p.ExistingWebAclArn != nil {
		awswafv2.NewCfnWebACLAssociation(c.Construct, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
			ResourceArn: stageArn,
			WebAclArn:   p.ExistingWebAclArn,
		})
		return nil
	}
	if !*p.WebAclEnabled {
		return nil
	}
	visibility := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true),
			MetricName:               jsii.String(name),
			SampledRequestsEnabled:   jsii.Bool(true),
		}
	}
	rules := []any{}
	for _, group := range []string{commonRuleSet, "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"} {
		rules = append(rules, &awswafv2.CfnWebACL_RuleProperty{
			Name:           jsii.String(group),
			Priority:       jsii.Number(float64(len(rules))),
			OverrideAction: &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
			Statement: &awswafv2.CfnWebACL_StatementProperty{
				ManagedRuleGroupStatement: &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{
					VendorName:          jsii.String("AWS"),
					Name:                jsii.String(group),
					RuleActionOverrides: ruleActionOverrides(group),
				},
			},
			VisibilityConfig: visibility(group),
		})
		if group == commonRuleSet {
			rules = append(rules, largeBodyRule(float64(len(rules)), visibility(largeBodyRuleName)))
		}
	}
	rules = append(rules, &awswafv2.CfnWebACL_RuleProperty{
		Name:     jsii.String("RateLimitPerIp"),
		Priority: jsii.Number(float64(len(rules))),
		Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}},
		Statement: &awswafv2.CfnWebACL_StatementProperty{
			RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
				Limit:            p.WebAclRateLimit,
				AggregateKeyType: jsii.String("IP"),
			},
		},
		VisibilityConfig: visibility("RateLimitPerIp"),
	})
	acl := awswafv2.NewCfnWebACL(c.Construct, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		VisibilityConfig: visibility("PresignedUploadWebAcl"),
		Rules:            &rules,
	})
	awswafv2.NewCfnWebACLAssociation(c.Construct, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: stageArn,
		WebAclArn:   acl.AttrArn(),
	})
	return acl
}

func must(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("presignedupload: "+format, args...))
	}
}
