package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
)

// PresignedUploadApiProps configures a [NewPresignedUploadApi]. Every field is
// optional: nil props deploy a working API with secure defaults.
type PresignedUploadApiProps struct {
	// Bucket receives the uploads. An existing bucket is used as it is: its
	// CORS rules, encryption and lifecycle stay yours to manage, so the
	// bucket-configuring props below must be left unset.
	//
	// Default: - a new bucket: all public access blocked, TLS-only policy,
	// BucketOwnerEnforced, SSE-S3 (or SSE-KMS with EncryptionKey), SSE-C
	// blocked, the function role's signatures refused once older than
	// UrlExpiry plus 5 minutes, CORS for AllowedOrigins, incomplete
	// multipart uploads aborted after 1 day; with VerifierEnabled also
	// versioning (see Versioned), EventBridge notifications, reads of
	// unverified uploads denied, and rejected uploads deleted after
	// RejectedObjectExpiration; with PreventOverwrite, writes under
	// KeyPrefix without If-None-Match refused.
	Bucket awss3.IBucket
	// EncryptionKey encrypts new objects with SSE-KMS (with an S3 Bucket Key).
	// The function's role is granted kms:GenerateDataKey on it, because a
	// pre-signed upload acts with the role's permissions.
	//
	// Default: - S3-managed keys (SSE-S3).
	EncryptionKey awskms.IKey
	// RemovalPolicy applies to the bucket and the log groups. DESTROY also
	// empties the bucket on stack deletion (see AutoDeleteObjects). API
	// Gateway's account logging role is shared and always retained.
	//
	// Default: - awscdk.RemovalPolicy_RETAIN.
	RemovalPolicy awscdk.RemovalPolicy
	// AutoDeleteObjects empties the bucket before CloudFormation deletes it.
	// Only valid with RemovalPolicy DESTROY.
	//
	// Default: - true with RemovalPolicy DESTROY, false otherwise.
	AutoDeleteObjects *bool
	// UploadExpiration deletes uploaded objects under KeyPrefix this long
	// after they were created. Whole days only.
	//
	// Default: - uploads are kept.
	UploadExpiration awscdk.Duration
	// ServerAccessLogsBucket receives S3 server access logs for the bucket.
	//
	// Default: - no server access logs.
	ServerAccessLogsBucket awss3.IBucket
	// ServerAccessLogsPrefix prefixes the access log objects.
	//
	// Default: - "s3-access-logs/" when ServerAccessLogsBucket is set.
	ServerAccessLogsPrefix *string
	// EventBridgeEnabled sends the bucket's events, such as Object Created,
	// to Amazon EventBridge, set on the bucket itself (no custom resource).
	// The verifier receives its events this way.
	//
	// Default: - true with VerifierEnabled, false otherwise.
	EventBridgeEnabled *bool
	// Versioned keeps the earlier versions of an object, so an overwritten
	// or deleted upload can be restored until NoncurrentVersionExpiration.
	// Keys are random per upload, so versions accumulate only where an
	// issued URL is used again; the replacement is then a new version with
	// a new version ID, on which the verifier keys its verdict. With
	// VerifierEnabled, false makes PreventOverwrite required.
	//
	// Default: - true with VerifierEnabled, false otherwise.
	Versioned *bool
	// NoncurrentVersionExpiration deletes a version this long after it
	// stopped being current, and then the delete markers left with no
	// versions. Whole days only; only with Versioned.
	//
	// Default: - 30 days when Versioned.
	NoncurrentVersionExpiration awscdk.Duration

	// KeyPrefix is put in front of every generated key, and uploads may
	// write nowhere else. One or more path segments, each ending in '/'.
	//
	// Default: "uploads/".
	KeyPrefix *string
	// UrlExpiry is how long an issued URL stays valid; at most 12 hours.
	//
	// Default: - 5 minutes.
	UrlExpiry awscdk.Duration
	// AllowedContentTypes lists the media types clients may upload, such as
	// "image/png" or "image/*". Other types get 415.
	//
	// Default: - any passive media type: HTML, SVG, XML and script types
	// are refused unless listed exactly.
	AllowedContentTypes *[]*string
	// MaxFileSize is the largest declared size the API accepts for one PUT
	// or form upload; at most 5 GiB, S3's single-PUT limit. Below 5 GiB,
	// every upload URL must sign its size (size becomes required).
	//
	// Default: - 5 GiB.
	MaxFileSize awscdk.Size
	// MaxMultipartSize is the largest multipart upload the API accepts; the
	// parts' total is checked again before completion.
	//
	// Default: - about 48.8 TiB (10,000 parts of 5 GiB), S3's largest
	// object; 100 GB with MalwareScanEnabled, the most GuardDuty scans.
	MaxMultipartSize awscdk.Size
	// PartSize is the planned size of multipart parts, 5 MiB to 5 GiB; it is
	// raised for a file that would need more than 10,000 parts.
	//
	// Default: - 16 MiB.
	PartSize awscdk.Size
	// RequireSize makes the size field mandatory, so every URL signs the
	// Content-Length and S3 itself refuses a body of another length.
	//
	// Default: false, so the tutorial's request ({fileName, contentType}) works.
	RequireSize *bool
	// PreventOverwrite signs If-None-Match: * into every URL, so an upload
	// never replaces an existing object, even when its URL is replayed;
	// a PUT must then send that header, and form uploads are off (S3 has
	// no conditional POST). On a bucket the construct creates, the bucket
	// policy also refuses, to everyone, a PutObject or
	// CompleteMultipartUpload under KeyPrefix without If-None-Match (the
	// calls that start a multipart upload and send its parts pass), so
	// CopyObject into KeyPrefix fails too. With VerifierEnabled on a new
	// bucket that is not Versioned, false is refused: a replacement could
	// inherit the verdict of the object it replaced.
	//
	// Default: - false on a new Versioned bucket, so the tutorial's PUT
	// with only Content-Type works, and without VerifierEnabled; true with
	// VerifierEnabled on a new bucket that is not Versioned, and on an
	// existing Bucket, whose versioning the construct cannot see (synth
	// warns when it is set false there: keep that bucket versioned).
	PreventOverwrite *bool
	// TransferAcceleration has clients send the bytes to S3 Transfer
	// Acceleration's edge endpoint: every URL the API issues (PUT, parts,
	// form POST, download) names <bucket>.s3-accelerate.amazonaws.com and
	// signs the same headers. On a new bucket the construct turns
	// acceleration on; on an existing one turn it on yourself. Bucket names
	// with dots cannot be accelerated. It costs a per-GB fee on top of
	// S3's, charged only where it is faster, and helps clients far from the
	// bucket's region; near it, it does not.
	//
	// Default: false.
	TransferAcceleration *bool
	// QuotaBytes bounds the bytes each caller keeps stored, with what its
	// issued URLs and multipart uploads in progress may still store: an
	// upload URL reserves the size it signs (every URL then signs its
	// size), a form its range's maximum, a multipart start its declared
	// size. Over the limit the API answers 403 QuotaExceeded, naming what
	// is left. Without sign-in every caller of the API key shares one
	// ledger. The ledgers are small objects under QuotaPrefix.
	//
	// Default: - unlimited, and no ledger is kept.
	QuotaBytes awscdk.Size
	// QuotaBytesPerDay bounds the bytes each caller's URLs may upload in a
	// UTC day; over it the API answers 429 QuotaExceeded with Retry-After
	// until midnight UTC. A delete does not give them back.
	//
	// Default: - unlimited.
	QuotaBytesPerDay awscdk.Size
	// QuotaFilesPerDay bounds the uploads each caller may begin (URLs,
	// forms, multipart starts) in a UTC day; 429 over it.
	//
	// Default: - unlimited.
	QuotaFilesPerDay *float64
	// QuotaSessions bounds each caller's multipart uploads in progress;
	// 403 over it.
	//
	// Default: - unlimited.
	QuotaSessions *float64
	// QuotaTierClaim names a claim of the caller's token (a Cognito
	// custom claim, or any claim an OIDC issuer puts in its tokens) whose
	// value picks the caller's limits from QuotaTiers. It must be one
	// users cannot set themselves: not a user attribute or profile field
	// they can edit. A caller without it, or with a tier not listed, gets
	// the limits above. Only with sign-in; synth warns when it comes with
	// an existing Cognito user pool, whose app clients it cannot see.
	//
	// Default: - every caller gets the limits above.
	QuotaTierClaim *string
	// QuotaTiers are limits by tier name, as QuotaTierClaim carries it;
	// each tier's unset limits are unlimited.
	//
	// Default: - no tiers.
	QuotaTiers *map[string]*QuotaTierProps
	// QuotaPrefix holds one small ledger object per caller: outside
	// KeyPrefix, SessionPrefix and MarkerPrefix.
	//
	// Default: "upload-quotas/".
	QuotaPrefix *string
	// SessionPrefix holds one small object per multipart upload: the size
	// declared when it started, which binds the parts signed and the object
	// assembled, kept after completion to answer the same completion sent
	// again. It must not overlap KeyPrefix. The function may read, write
	// and delete there; on a new bucket a lifecycle rule deletes sessions
	// after 2 days.
	//
	// Default: "upload-sessions/".
	SessionPrefix *string
	// AllowedOrigins are the browser origins allowed by the API's CORS and
	// the bucket's CORS rule: "*" or scheme://host[:port] values. Synth
	// warns about a host on a domain reserved for examples, such as
	// example.com or .test.
	//
	// Default: - ["*"].
	AllowedOrigins *[]*string

	// StageName is the API stage and the first path segment of its URL.
	//
	// Default: "prod".
	StageName *string
	// ThrottlingRateLimit is the stage's steady-state requests per second.
	//
	// Default: 100.
	ThrottlingRateLimit *float64
	// ThrottlingBurstLimit is the stage's burst capacity.
	//
	// Default: 200.
	ThrottlingBurstLimit *float64
	// ThrottledRouteRateLimit is the steady-state requests per second of
	// each method a caller could call in a loop to run up cost, those
	// marked Throttled in api.Routes (such as the upload URL), each on its
	// own and across all callers: a caller over it gets 429. Together the
	// methods take up to their number times it: keep that below
	// ThrottlingRateLimit, so the other routes (parts, completion) keep
	// room. At most ThrottlingRateLimit. Set it and
	// ThrottledRouteBurstLimit to the stage's limits to turn the
	// per-method throttles off.
	//
	// Default: 10, or ThrottlingRateLimit when that is lower.
	ThrottledRouteRateLimit *float64
	// ThrottledRouteBurstLimit is the burst capacity of each method
	// ThrottledRouteRateLimit throttles. At most ThrottlingBurstLimit.
	//
	// Default: 20, or ThrottlingBurstLimit when that is lower.
	ThrottledRouteBurstLimit *float64
	// ApiKeyRequired creates an API key and a usage plan, and makes every
	// method require the key in the X-Api-Key header.
	//
	// Default: false.
	ApiKeyRequired *bool
	// UsagePlanRateLimit is the usage plan's requests per second per key.
	// Only with ApiKeyRequired.
	//
	// Default: 10.
	UsagePlanRateLimit *float64
	// UsagePlanBurstLimit is the usage plan's burst per key. Only with ApiKeyRequired.
	//
	// Default: 20.
	UsagePlanBurstLimit *float64
	// UsagePlanQuotaPerDay caps the requests per key per day. Only with ApiKeyRequired.
	//
	// Default: 10000.
	UsagePlanQuotaPerDay *float64
	// WebAclEnabled creates a REGIONAL WAFv2 web ACL for the stage with the
	// AWS managed Common, KnownBadInputs and Amazon IP reputation rule
	// groups and a per-IP rate-based rule. The Common rule set's 8 KB body
	// limit is lifted on the multipart parts and complete routes only, whose
	// bodies grow with the part count; the function caps them at 1 MiB.
	//
	// Default: false.
	WebAclEnabled *bool
	// WebAclRateLimit is the rate-based rule's limit: requests per source IP
	// in any 5-minute window, 10 to 2,000,000,000.
	//
	// Default: 1000.
	WebAclRateLimit *float64
	// ExistingWebAclArn associates an existing REGIONAL web ACL with the
	// stage instead of creating one. Not with WebAclEnabled.
	//
	// Default: - none.
	ExistingWebAclArn *string

	// MemorySize of the function, in MiB.
	//
	// Default: 256.
	MemorySize *float64
	// LogRetention of the function's and the API's log groups.
	//
	// Default: - awslogs.RetentionDays_ONE_MONTH.
	LogRetention awslogs.RetentionDays

	// AlarmsEnabled creates CloudWatch alarms on the API's share of 5XX
	// answers (over 5% in 5 minutes) and on any error or throttle of the
	// function, and the cost alarms below: 4XX volume, PUT requests and
	// bucket size. No traffic does not alarm.
	//
	// Default: true.
	AlarmsEnabled *bool
	// AlarmTopic is notified when an alarm fires, and by MonthlyBudget.
	// Only with AlarmsEnabled.
	//
	// Default: - alarms notify nobody.
	AlarmTopic awssns.ITopic
	// ClientErrorAlarmThreshold alarms when the API answers more 4XX than
	// this in 5 minutes: callers refused by the throttles (429), without a
	// valid key or token, or with requests the API turns down; a looping
	// or broken client shows here first. 0 turns this alarm off. Only
	// with AlarmsEnabled.
	//
	// Default: 1000, about 3 a second.
	ClientErrorAlarmThreshold *float64
	// PutRequestAlarmThreshold alarms when S3 counts more PUT requests
	// under KeyPrefix than this in 5 minutes: uploads, multipart parts and
	// tag writes such as the verifier's (form uploads and multipart
	// completions are POSTs). S3 counts them only with a request metrics
	// configuration, which the construct adds to its bucket (filter ID
	// "Uploads", on KeyPrefix): these are paid CloudWatch metrics, billed
	// like custom metrics for each of the filter's metrics while requests
	// arrive. 0 turns this alarm and the metrics configuration off. Not
	// with an existing Bucket: add a metrics configuration on KeyPrefix to
	// it, and an alarm on AWS/S3 PutRequests with the BucketName and
	// FilterId dimensions, yourself. Only with AlarmsEnabled.
	//
	// Default: - 10000 on a bucket the construct creates: sustained, that
	// is about $14 a day of PUT requests at S3 Standard's price in
	// us-east-1 ($0.005 per 1,000).
	PutRequestAlarmThreshold *float64
	// BucketSizeAlarmThreshold alarms when the bucket's S3 Standard
	// storage (S3's free daily BucketSizeBytes metric, its Maximum over a
	// day) is larger than this. The metric counts the whole bucket, every
	// prefix and version. A size of 0 turns this alarm off. Only with
	// AlarmsEnabled.
	//
	// Default: - 1 TiB on a bucket the construct creates (about $24 a month
	// in S3 Standard in us-east-1); no alarm on an existing Bucket, whose
	// size is not only the uploads'.
	BucketSizeAlarmThreshold awscdk.Size
	// MonthlyBudget creates an AWS Budget of this many US dollars of cost
	// a month that notifies AlarmTopic when the actual cost passes 80% of
	// it and when the forecast passes 100%. It counts the whole account's
	// cost unless MonthlyBudgetTags narrows it. The topic must let
	// budgets.amazonaws.com publish: the construct adds that statement to
	// a topic in this app, and synth warns that the owner of an imported
	// topic must add it (and, for an encrypted topic, let Budgets use the
	// key). Budgets updates its figures a few times a day: it is a
	// backstop behind the alarms, not a limit. Needs AlarmTopic.
	//
	// Default: - no budget.
	MonthlyBudget *float64
	// MonthlyBudgetTags limits MonthlyBudget to the cost of resources that
	// carry all these tags, such as the stack's own. Budgets sees a tag
	// only once it is activated as a cost allocation tag in the Billing
	// console of the paying account; until then the budget counts
	// nothing. Only with MonthlyBudget.
	//
	// Default: - the whole account's cost.
	MonthlyBudgetTags *map[string]*string

	// CognitoSignIn signs callers in with an Amazon Cognito user pool: every
	// method but OPTIONS needs an access token with the API's upload scope,
	// each caller owns the keys under its own prefix, and the routes for the
	// caller's own files exist. Combines with ApiKeyRequired; not with
	// OidcSignIn.
	//
	// Default: - no sign-in: callers are anonymous, or known only by the
	// API key.
	CognitoSignIn *CognitoSignInProps
	// OidcSignIn signs callers in with the tokens of any OpenID Connect
	// issuer (Auth0, Okta, Entra ID, Google, Keycloak…), checked by a Go
	// token authorizer; otherwise like CognitoSignIn. Not with
	// CognitoSignIn.
	//
	// Default: - no sign-in.
	OidcSignIn *OidcSignInProps

	// VerifierEnabled checks every object stored under KeyPrefix and
	// publishes one event per stored object version on the construct's own
	// EventBus: the bucket sends its events to EventBridge, a rule routes
	// every PUT, form POST and multipart completion under KeyPrefix to a
	// queue, and a Go function checks the object's key, size and first
	// 4 KiB, tags it upload-status=verified or rejected and publishes
	// Upload Verified or Upload Rejected. On a bucket the construct
	// creates, nobody but the verifier (and the malware scan) can read an
	// object under KeyPrefix until it is verified. With an existing Bucket,
	// turn on its EventBridge notifications yourself.
	//
	// Default: true.
	VerifierEnabled *bool
	// MarkerPrefix holds one small object per verified or rejected object
	// version: the record that lets exactly one delivery publish its event.
	// It must not overlap KeyPrefix or SessionPrefix. On a new bucket a
	// lifecycle rule deletes markers after 30 days. Only with
	// VerifierEnabled.
	//
	// Default: "upload-verifications/".
	MarkerPrefix *string
	// RejectedObjectExpiration deletes rejected uploads this long after
	// they were stored (a lifecycle rule on the tag
	// upload-status=rejected). Whole days only; only with VerifierEnabled,
	// on a new bucket.
	//
	// Default: - 7 days.
	RejectedObjectExpiration awscdk.Duration
	// MalwareScanEnabled scans every upload under KeyPrefix with Amazon
	// GuardDuty Malware Protection for S3 (a protection plan with object
	// tagging, and the service role AWS documents for it): Upload Verified
	// then also means GuardDuty found no threat. GuardDuty scans objects up
	// to 100 GB, so MaxMultipartSize may not be larger, and protects at
	// most 25 buckets per account and region. Only with VerifierEnabled.
	//
	// Default: false.
	MalwareScanEnabled *bool
	// MalwareScanTimeout is how long after an object is stored the verifier
	// waits for its scan result before rejecting it; 1 minute to 24 hours.
	// Only with MalwareScanEnabled.
	//
	// Default: - 1 hour.
	MalwareScanTimeout awscdk.Duration
}

// QuotaTierProps are one tier's quota limits (see QuotaBytes and its
// neighbours); an unset limit is unlimited for the tier.
type QuotaTierProps struct {
	// Bytes bounds the bytes a caller keeps stored and reserved.
	//
	// Default: - unlimited.
	Bytes awscdk.Size
	// BytesPerDay bounds the bytes a caller's URLs upload in a UTC day.
	//
	// Default: - unlimited.
	BytesPerDay awscdk.Size
	// FilesPerDay bounds the uploads a caller begins in a UTC day.
	//
	// Default: - unlimited.
	FilesPerDay *float64
	// Sessions bounds a caller's multipart uploads in progress.
	//
	// Default: - unlimited.
	Sessions *float64
}
