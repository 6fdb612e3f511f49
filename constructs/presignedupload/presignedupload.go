// Package presignedupload provides PresignedUploadApi, a CDK construct for
// uploading files to Amazon S3 through pre-signed URLs: a REST API backed by
// a Go Lambda hands out URLs, and clients send the bytes straight to S3.
package presignedupload

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/constructs/golambda"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// UploadUrlPath is the resource that hands out upload URLs.
const UploadUrlPath = uploadapi.RouteUploadURL

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
	// Alarms watch the API's 5XX rate and the function's errors and
	// throttles; nil unless AlarmsEnabled.
	Alarms []awscloudwatch.Alarm
}

// NewPresignedUploadApi creates the upload API under a new scope named id.
// It panics with a message naming the bad value when props cannot work.
func NewPresignedUploadApi(scope constructs.Construct, id *string, props *PresignedUploadApiProps) *PresignedUploadApi {
	p := withDefaults(props)
	validate(p)

	c := &PresignedUploadApi{Construct: constructs.NewConstruct(scope, id)}
	c.Bucket = p.Bucket
	if c.Bucket == nil {
		c.Bucket = newBucket(c, p)
	}
	c.Function = newFunction(c, p)
	if p.Bucket == nil {
		denyStaleSignatures(c, p)
	}
	c.Api = newApi(c, p)
	c.UploadUrlEndpoint = c.Api.UrlForPath(jsii.String(UploadUrlPath))
	if *p.ApiKeyRequired {
		c.ApiKey, c.UsagePlan = newUsagePlan(c, p)
	}
	c.WebAcl = newWebAcl(c, p)
	c.Alarms = newAlarms(c, p)
	warnPlaceholderOrigins(c, p)
	return c
}

func newBucket(c *PresignedUploadApi, p *PresignedUploadApiProps) awss3.Bucket {
	encryption := awss3.BucketEncryption_S3_MANAGED
	if p.EncryptionKey != nil {
		encryption = awss3.BucketEncryption_KMS
	}
	rules := []*awss3.LifecycleRule{{
		Id:                                  jsii.String("AbortIncompleteMultipartUploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
	}}
	if p.UploadExpiration != nil {
		rules = append(rules, &awss3.LifecycleRule{
			Id:         jsii.String("ExpireUploads"),
			Prefix:     p.KeyPrefix,
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
		Cors:                   &[]*awss3.CorsRule{bucketCors(p)},
		LifecycleRules:         &rules,
		RemovalPolicy:          p.RemovalPolicy,
		AutoDeleteObjects:      p.AutoDeleteObjects,
		ServerAccessLogsBucket: p.ServerAccessLogsBucket,
		ServerAccessLogsPrefix: logsPrefix,
		EventBridgeEnabled:     p.EventBridgeEnabled,
		Versioned:              p.Versioned,
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
func bucketCors(p *PresignedUploadApiProps) *awss3.CorsRule {
	methods := make([]awss3.HttpMethods, 0, len(uploadapi.BucketCORSMethods))
	for _, m := range uploadapi.BucketCORSMethods {
		methods = append(methods, awss3.HttpMethods(m))
	}
	return &awss3.CorsRule{
		AllowedMethods: &methods,
		AllowedOrigins: p.AllowedOrigins,
		AllowedHeaders: jsii.Strings(uploadapi.UploadHeaders...),
		ExposedHeaders: jsii.Strings(uploadapi.BucketCORSExposeHeaders...),
		MaxAge:         jsii.Number(uploadapi.BucketCORSMaxAgeSeconds),
	}
}

func newFunction(c *PresignedUploadApi, p *PresignedUploadApiProps) awslambda.Function {
	logGroup := awslogs.NewLogGroup(c.Construct, jsii.String("HandlerLogs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	// An own role instead of AWSLambdaBasicExecutionRole: it may write only
	// to this log group and only under the key prefix.
	role := awsiam.NewRole(c.Construct, jsii.String("HandlerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Signs pre-signed S3 upload URLs"),
	})
	logGroup.GrantWrite(role)
	// PutObject also authorises the multipart calls that create, fill and
	// complete an upload; listing and aborting parts need their own actions.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("Uploads"),
		Actions:   jsii.Strings("s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"),
		Resources: jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(*p.KeyPrefix + "*"))),
	}))
	if p.EncryptionKey != nil {
		// Multipart uploads under SSE-KMS need Decrypt as well.
		p.EncryptionKey.Grant(role, jsii.String("kms:GenerateDataKey"), jsii.String("kms:Decrypt"))
	}
	suppress(role.Node().FindChild(jsii.String("DefaultPolicy")), rule{
		id:        "AwsSolutions-IAM5",
		reason:    "Object keys are generated per request, so the upload actions (PutObject, ListMultipartUploadParts, AbortMultipartUpload) must name the key prefix with a trailing wildcard; nothing outside the prefix is granted, and no read or delete.",
		appliesTo: `^Resource::<.*\.Arn>/` + regexp.QuoteMeta(*p.KeyPrefix) + `\*$`,
	})

	cfg := uploadapi.Config{
		Bucket:              *c.Bucket.BucketName(),
		KeyPrefix:           *p.KeyPrefix,
		Expiry:              durationOf(p.UrlExpiry),
		AllowedContentTypes: derefAll(p.AllowedContentTypes),
		MaxFileSize:         int64(*p.MaxFileSize),
		MaxMultipartSize:    int64(*p.MaxMultipartSize),
		PartSize:            int64(*p.PartSize),
		RequireSize:         *p.RequireSize,
		PreventOverwrite:    *p.PreventOverwrite,
		AllowedOrigins:      derefAll(p.AllowedOrigins),
	}
	env := map[string]*string{}
	for k, v := range cfg.Environment() {
		env[k] = jsii.String(v)
	}
	src := handlerSource()
	return golambda.NewGoFunction(c.Construct, jsii.String("Handler"), &golambda.GoFunctionProps{
		FunctionOptions: awslambda.FunctionOptions{
			Description:   jsii.String("Issues pre-signed S3 upload URLs"),
			MemorySize:    p.MemorySize,
			Timeout:       awscdk.Duration_Seconds(jsii.Number(10)),
			Role:          role,
			LogGroup:      logGroup,
			LoggingFormat: awslambda.LoggingFormat_JSON,
			Environment:   &env,
		},
		Entry:     jsii.String(src.entry),
		ModuleDir: jsii.String(src.moduleDir),
		// The function belongs to this module alone; a go.work around the
		// source (in a checkout of this repository) must not widen the build.
		BuildEnvironment: &map[string]*string{"GOWORK": jsii.String("off")},
	})
}

func newApi(c *PresignedUploadApi, p *PresignedUploadApiProps) awsapigateway.RestApi {
	accessLogs := awslogs.NewLogGroup(c.Construct, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	// The CloudWatch role backs API Gateway's one logging setting per account
	// and region, which every API there shares: it is retained, so deleting
	// this stack never leaves that setting pointing at a deleted role.
	api := awsapigateway.NewRestApi(c.Construct, jsii.String("Api"), &awsapigateway.RestApiProps{
		Description:                 jsii.String("Issues pre-signed S3 upload URLs"),
		RestApiName:                 apiName(c),
		EndpointConfiguration:       &awsapigateway.EndpointConfiguration{Types: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL}},
		CloudWatchRole:              jsii.Bool(true),
		CloudWatchRoleRemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            p.StageName,
			ThrottlingRateLimit:  p.ThrottlingRateLimit,
			ThrottlingBurstLimit: p.ThrottlingBurstLimit,
			LoggingLevel:         awsapigateway.MethodLoggingLevel_INFO,
			// Responses carry pre-signed URLs: never copy bodies into logs.
			DataTraceEnabled:     jsii.Bool(false),
			MetricsEnabled:       jsii.Bool(true),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat:      awsapigateway.AccessLogFormat_JsonWithStandardFields(standardFields()),
		},
		DefaultCorsPreflightOptions: &awsapigateway.CorsOptions{
			AllowOrigins: p.AllowedOrigins,
			AllowMethods: jsii.Strings(uploadapi.CORSAllowMethods...),
			AllowHeaders: jsii.Strings(uploadapi.CORSAllowHeaders...),
			MaxAge:       awscdk.Duration_Seconds(jsii.Number(uploadapi.CORSMaxAgeSeconds)),
		},
	})
	if role := api.Node().TryFindChild(jsii.String("CloudWatchRole")); role != nil {
		suppress(role, rule{id: "AwsSolutions-IAM4", reason: "API Gateway's account-level CloudWatch role needs AmazonAPIGatewayPushToCloudWatchLogs, the AWS-maintained policy for exactly that purpose; execution and access logging depend on it."})
	}
	if p.WebAclEnabled != nil && !*p.WebAclEnabled && p.ExistingWebAclArn == nil {
		suppress(api.DeploymentStage(), rule{id: "AwsSolutions-APIG3", reason: "WAF is opt-in through the WebAclEnabled or ExistingWebAclArn props; the stage is throttled either way."})
	}

	gatewayResponses(api, p)
	// Body checks apply where a method has a model, parameter checks where it
	// requires parameters.
	validator := api.AddRequestValidator(jsii.String("RequestValidator"), &awsapigateway.RequestValidatorOptions{
		ValidateRequestBody:       jsii.Bool(true),
		ValidateRequestParameters: jsii.Bool(true),
	})
	integration := awsapigateway.NewLambdaIntegration(c.Function, &awsapigateway.LambdaIntegrationOptions{
		Proxy:           jsii.Bool(true),
		AllowTestInvoke: jsii.Bool(false),
	})
	models := requestModels(*p.RequireSize)
	for _, r := range uploadapi.Routes {
		opts := &awsapigateway.MethodOptions{ApiKeyRequired: p.ApiKeyRequired, RequestValidator: validator}
		if schema, ok := models[r]; ok {
			name := modelName(r)
			opts.RequestModels = &map[string]awsapigateway.IModel{"application/json": api.AddModel(jsii.String(name), &awsapigateway.ModelOptions{
				ContentType: jsii.String("application/json"),
				ModelName:   jsii.String(name),
				Schema:      schema,
			})}
		}
		if q := requiredQuery(r, *p.RequireSize); q != nil {
			opts.RequestParameters = &q
		}
		m := api.Root().ResourceForPath(jsii.String(r.Resource)).AddMethod(jsii.String(r.Method), integration, opts)
		suppressOpenMethod(m)
	}
	return api
}

// suppressOpenMethod records why a method has no authorizer.
func suppressOpenMethod(m awsapigateway.Method) {
	suppress(m, rule{id: "AwsSolutions-APIG4", reason: "The API hands out pre-signed upload URLs to anonymous or API-key clients by design; access is limited by the optional API key with usage plan, stage and WAF throttling, and by what each URL signs (key, type, size, expiry)."},
		rule{id: "AwsSolutions-COG4", reason: "No end-user identity is involved: the API is protected by the optional API key, throttling and WAF. Put a Cognito or Lambda authorizer in front when uploads must be tied to users."})
}

func standardFields() *awsapigateway.JsonWithStandardFieldProps {
	t := jsii.Bool(true)
	return &awsapigateway.JsonWithStandardFieldProps{Caller: jsii.Bool(false), HttpMethod: t, Ip: t, Protocol: t,
		RequestTime: t, ResourcePath: t, ResponseLength: t, Status: t, User: jsii.Bool(false)}
}

// gatewayResponses gives API Gateway's own errors (bad key, throttling,
// failed validation) the API's JSON error shape and CORS headers, so a
// browser sees the error instead of a CORS failure.
func gatewayResponses(api awsapigateway.RestApi, p *PresignedUploadApiProps) {
	origin := "'*'"
	headers := map[string]*string{}
	if origins := derefAll(p.AllowedOrigins); len(origins) == 1 {
		origin = "'" + origins[0] + "'"
	} else {
		// Several origins: echo the caller's, as the OPTIONS method does. The
		// body is an error message and never carries data.
		origin = "method.request.header.Origin"
		headers["Vary"] = jsii.String("'Origin'")
	}
	headers["Access-Control-Allow-Origin"] = jsii.String(origin)
	headers["Access-Control-Allow-Headers"] = jsii.String("'" + strings.Join(uploadapi.CORSAllowHeaders, ",") + "'")
	for id, t := range map[string]awsapigateway.ResponseType{
		"Default4xx":     awsapigateway.ResponseType_DEFAULT_4XX(),
		"Default5xx":     awsapigateway.ResponseType_DEFAULT_5XX(),
		"BadRequestBody": awsapigateway.ResponseType_BAD_REQUEST_BODY(),
	} {
		message := "$context.error.messageString"
		if id == "BadRequestBody" {
			message = `"$util.escapeJavaScript($context.error.validationErrorString)"`
		}
		api.AddGatewayResponse(jsii.String(id), &awsapigateway.GatewayResponseOptions{
			Type:            t,
			ResponseHeaders: &headers,
			Templates: &map[string]*string{
				"application/json": jsii.String(`{"message":` + message + `,"code":"$context.error.responseType"}`),
			},
		})
	}
}

// requestModels returns the JSON schema of each route's body. They check
// shapes only: the handler answers size and type limits with 413 and 415,
// which a schema failure (400) would hide.
func requestModels(requireSize bool) map[uploadapi.Route]*awsapigateway.JsonSchema {
	str := func(min, max float64) *awsapigateway.JsonSchema {
		return &awsapigateway.JsonSchema{Type: awsapigateway.JsonSchemaType_STRING, MinLength: jsii.Number(min), MaxLength: jsii.Number(max)}
	}
	integer := &awsapigateway.JsonSchema{Type: awsapigateway.JsonSchemaType_INTEGER, Minimum: jsii.Number(1)}
	sha256 := &awsapigateway.JsonSchema{Type: awsapigateway.JsonSchemaType_STRING, Pattern: jsii.String("^[A-Za-z0-9+/]{43}=$")}
	object := func(title string, required []string, props map[string]*awsapigateway.JsonSchema) *awsapigateway.JsonSchema {
		return &awsapigateway.JsonSchema{
			Schema:               awsapigateway.JsonSchemaVersion_DRAFT4,
			Title:                jsii.String(title),
			Type:                 awsapigateway.JsonSchemaType_OBJECT,
			Required:             jsii.Strings(required...),
			AdditionalProperties: jsii.Bool(false),
			Properties:           &props,
		}
	}
	uploadRequired := []string{"fileName", "contentType"}
	if requireSize {
		uploadRequired = append(uploadRequired, "size")
	}
	fileName, contentType := str(0, 4096), str(1, 256)
	return map[uploadapi.Route]*awsapigateway.JsonSchema{
		{Method: "POST", Resource: uploadapi.RouteUploadURL}: object("UploadUrlRequest", uploadRequired, map[string]*awsapigateway.JsonSchema{
			"fileName": fileName, "contentType": contentType, "size": integer, "checksumSHA256": sha256,
		}),
		{Method: "POST", Resource: uploadapi.RouteUploadForm}: object("UploadFormRequest", []string{"fileName", "contentType"}, map[string]*awsapigateway.JsonSchema{
			"fileName": fileName, "contentType": contentType,
		}),
		{Method: "POST", Resource: uploadapi.RouteMultipart}: object("MultipartStartRequest", []string{"fileName", "contentType", "size"}, map[string]*awsapigateway.JsonSchema{
			"fileName": fileName, "contentType": contentType, "size": integer,
			"checksumAlgorithm": {Type: awsapigateway.JsonSchemaType_STRING, Enum: &[]any{"SHA256"}},
		}),
		{Method: "POST", Resource: uploadapi.RouteMultipartParts}: object("SignPartsRequest", []string{"fileKey", "size", "partNumbers"}, map[string]*awsapigateway.JsonSchema{
			"fileKey": str(1, 1024), "size": integer,
			"partNumbers":     {Type: awsapigateway.JsonSchemaType_ARRAY, MinItems: jsii.Number(1), MaxItems: jsii.Number(uploadapi.MaxPartsPerRequest), Items: integer},
			"checksumsSHA256": {Type: awsapigateway.JsonSchemaType_ARRAY, MaxItems: jsii.Number(uploadapi.MaxPartsPerRequest), Items: sha256},
		}),
		{Method: "POST", Resource: uploadapi.RouteMultipartComplete}: object("CompleteRequest", []string{"fileKey", "parts"}, map[string]*awsapigateway.JsonSchema{
			"fileKey": str(1, 1024),
			"parts": {Type: awsapigateway.JsonSchemaType_ARRAY, MinItems: jsii.Number(1), MaxItems: jsii.Number(uploadapi.MaxParts),
				Items: object("CompletedPart", []string{"partNumber", "etag"}, map[string]*awsapigateway.JsonSchema{"partNumber": integer, "etag": str(1, 256)})},
		}),
	}
}

// requiredQuery returns the query strings a GET or DELETE route requires.
func requiredQuery(r uploadapi.Route, requireSize bool) map[string]*bool {
	switch {
	case r.Method == "GET" && r.Resource == uploadapi.RouteUploadURL:
		return map[string]*bool{
			"method.request.querystring.fileName":    jsii.Bool(true),
			"method.request.querystring.contentType": jsii.Bool(true),
			"method.request.querystring.size":        jsii.Bool(requireSize),
		}
	case r.Method == "GET" || r.Method == "DELETE":
		return map[string]*bool{"method.request.querystring.fileKey": jsii.Bool(true)}
	}
	return nil
}

// modelName derives a model name such as MultipartPartsPost from a route.
func modelName(r uploadapi.Route) string {
	var b strings.Builder
	for _, seg := range strings.FieldsFunc(r.Resource, func(c rune) bool { return c == '/' || c == '-' || c == '{' || c == '}' }) {
		b.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
	}
	return b.String() + strings.ToUpper(r.Method[:1]) + strings.ToLower(r.Method[1:])
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

func derefAll(p *[]*string) []string {
	if p == nil {
		return nil
	}
	out := make([]string, 0, len(*p))
	for _, s := range *p {
		out = append(out, *s)
	}
	return out
}

func must(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("presignedupload: "+format, args...))
	}
}
