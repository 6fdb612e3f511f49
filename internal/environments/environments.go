// Package environments reads the per-environment settings kept under the
// "environments" context key of cdk.json. The CDK app turns them into
// construct props; local mode turns them into the functions' settings, so
// both follow the same file.
package environments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/presigned-upload/presigned-upload/api"
)

// ContextKey is the cdk.json context key holding the environments.
const ContextKey = "environments"

// Environment is one deployment's settings. Unset fields take the
// construct's defaults.
type Environment struct {
	// Account and Region pin the stack; empty means the CLI's current ones.
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	// RemovalPolicy is "retain" (default) or "destroy"; "destroy" also
	// empties the bucket when the stack is deleted.
	RemovalPolicy    string `json:"removalPolicy,omitempty"`
	LogRetentionDays int    `json:"logRetentionDays,omitempty"`

	// VerifierSettings holds the functions' settings under their own
	// names (keyPrefix, maxFileSize, urlExpirySeconds, markerPrefix…): the
	// upload function's and the verifier's own; the derived ones (bucket,
	// signIn, verified, eventBusName) are refused.
	api.VerifierSettings
	UploadExpirationDays int `json:"uploadExpirationDays,omitempty"`
	// Versioned keeps earlier versions of overwritten or deleted uploads
	// for 30 days; unset takes the construct's default (versioned while
	// the verifier is on).
	Versioned *bool `json:"versioned,omitempty"`

	StageName            string  `json:"stageName,omitempty"`
	ThrottlingRateLimit  float64 `json:"throttlingRateLimit,omitempty"`
	ThrottlingBurstLimit float64 `json:"throttlingBurstLimit,omitempty"`
	ApiKeyRequired       bool    `json:"apiKeyRequired,omitempty"`
	WebAclEnabled        bool    `json:"webAclEnabled,omitempty"`
	WebAclRateLimit      float64 `json:"webAclRateLimit,omitempty"`
	MemorySize           float64 `json:"memorySize,omitempty"`
	// ThrottledRouteRateLimit and ThrottledRouteBurstLimit throttle each
	// route a caller could loop to run up cost on its own, below the
	// stage; unset takes the construct's defaults.
	ThrottledRouteRateLimit  float64 `json:"throttledRouteRateLimit,omitempty"`
	ThrottledRouteBurstLimit float64 `json:"throttledRouteBurstLimit,omitempty"`
	// AlarmTopicArn is the SNS topic the stack's alarms notify; empty
	// means they notify nobody.
	AlarmTopicArn string `json:"alarmTopicArn,omitempty"`
	// ClientErrorAlarmThreshold (4XX in 5 minutes),
	// PutRequestAlarmThreshold (PUT requests under the key prefix in 5
	// minutes) and BucketSizeAlarmThreshold (bytes of S3 Standard
	// storage) set the cost alarms; unset takes the construct's default,
	// 0 turns the alarm off.
	ClientErrorAlarmThreshold *float64 `json:"clientErrorAlarmThreshold,omitempty"`
	PutRequestAlarmThreshold  *float64 `json:"putRequestAlarmThreshold,omitempty"`
	BucketSizeAlarmThreshold  *float64 `json:"bucketSizeAlarmThreshold,omitempty"`
	// MonthlyBudget creates an AWS Budget of this many US dollars a month
	// on the cost of the resources carrying the stack's tags, notifying
	// AlarmTopicArn; unset means none.
	MonthlyBudget float64 `json:"monthlyBudget,omitempty"`

	// Cognito or Oidc signs callers in (at most one); neither means
	// anonymous callers, or callers known only by the API key.
	Cognito *CognitoSettings `json:"cognito,omitempty"`
	Oidc    *OidcSettings    `json:"oidc,omitempty"`

	// VerifierEnabled turns the upload verifier off with false; unset
	// means on, as in the construct.
	VerifierEnabled *bool `json:"verifierEnabled,omitempty"`
}

// Verifies reports whether the environment checks every stored object.
func (e Environment) Verifies() bool { return e.VerifierEnabled == nil || *e.VerifierEnabled }

var namePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)

var topicArnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// Parse decodes the value of the "environments" context key: a JSON object
// (or the map the CDK hands over) from environment name to settings.
// Unknown setting names are errors, so a typo cannot silently fall back to
// a default.
func Parse(v any) (map[string]Environment, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ContextKey, err)
	}
	var byName map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byName); err != nil || len(byName) == 0 {
		return nil, fmt.Errorf("%s must be an object mapping environment names to settings", ContextKey)
	}
	out := make(map[string]Environment, len(byName))
	for name, msg := range byName {
		if !namePattern.MatchString(name) {
			return nil, fmt.Errorf("%s: name %q must start with a letter and hold only letters, digits and '-'", ContextKey, name)
		}
		var e Environment
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", ContextKey, name, err)
		}
		if e.RemovalPolicy != "" && e.RemovalPolicy != "retain" && e.RemovalPolicy != "destroy" {
			return nil, fmt.Errorf("%s.%s: removalPolicy %q must be \"retain\" or \"destroy\"", ContextKey, name, e.RemovalPolicy)
		}
		if err := refuseDerived(e.VerifierSettings); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", ContextKey, name, err)
		}
		if err := e.checkSignIn(); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", ContextKey, name, err)
		}
		if e.AlarmTopicArn != "" && !topicArnPattern.MatchString(e.AlarmTopicArn) {
			return nil, fmt.Errorf("%s.%s: alarmTopicArn %q is not an SNS topic ARN", ContextKey, name, e.AlarmTopicArn)
		}
		if e.MonthlyBudget != 0 && e.AlarmTopicArn == "" {
			return nil, fmt.Errorf("%s.%s: monthlyBudget needs alarmTopicArn: the budget notifies it", ContextKey, name)
		}
		if err := asCdkJSON[api.VerifierSettings](e.VerifierSettingsFor("bucket").Validate()); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", ContextKey, name, err)
		}
		if e.Oidc != nil {
			if err := refuseDerived(e.Oidc.AuthorizerSettings); err != nil {
				return nil, fmt.Errorf("%s.%s: oidc: %w", ContextKey, name, err)
			}
			if err := asCdkJSON[api.AuthorizerSettings](e.Oidc.AuthorizerSettings.Validate()); err != nil {
				return nil, fmt.Errorf("%s.%s: oidc: %w", ContextKey, name, err)
			}
		}
		out[name] = e
	}
	return out, nil
}

// Load reads the environments from the context of a cdk.json file.
func Load(cdkJSON string) (map[string]Environment, error) {
	b, err := os.ReadFile(cdkJSON)
	if err != nil {
		return nil, err
	}
	var f struct {
		Context map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", cdkJSON, err)
	}
	v, ok := f.Context[ContextKey]
	if !ok {
		return nil, fmt.Errorf("%s: no context.%s", cdkJSON, ContextKey)
	}
	envs, err := Parse(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cdkJSON, err)
	}
	return envs, nil
}

// Names returns the environment names in order.
func Names(envs map[string]Environment) []string {
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// UploadSettingsFor is the upload function's settings this environment
// deploys with the given bucket, with the defaults for what is unset.
func (e Environment) UploadSettingsFor(bucket string) api.UploadSettings {
	return e.VerifierSettingsFor(bucket).UploadSettings
}

// VerifierSettingsFor is the verifier's settings this environment deploys
// with the given bucket, with the defaults for what is unset; the bus is
// the default one (the construct's own bus is known only once deployed).
func (e Environment) VerifierSettingsFor(bucket string) api.VerifierSettings {
	s := e.VerifierSettings
	s.Bucket = bucket
	s.SignIn = e.SignsIn()
	s.Verified = e.Verifies()
	// The construct's default: a verified, unversioned bucket refuses
	// overwrites (and refuses preventOverwrite false at synth).
	if e.Verifies() && e.Versioned != nil && !*e.Versioned {
		s.PreventOverwrite = true
	}
	return s.WithDefaults()
}

// asCdkJSON spells the settings a Validate error of settings type T names
// as cdk.json does (urlExpirySeconds, not the prop's urlExpiry).
func asCdkJSON[T any](err error) error {
	errs := api.SettingErrors(err)
	if len(errs) == 0 {
		return err
	}
	names := map[string]string{}
	for _, f := range api.SettingFields(reflect.TypeFor[T]()) {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
			names[f.Setting] = name
		}
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		if name, ok := names[e.Setting]; ok {
			e = &api.SettingError{Setting: name, Problem: e.Problem}
		}
		out[i] = e
	}
	return errors.Join(out...)
}

// refuseDerived refuses a derived setting of settings (a settings struct)
// set by hand: the stack derives each from what it builds and the other
// settings.
func refuseDerived(settings any) error {
	v := reflect.ValueOf(settings)
	for _, f := range api.SettingFields(v.Type()) {
		if f.Derived && !v.FieldByIndex(f.Index).IsZero() {
			return fmt.Errorf("%s is not a setting: the stack derives it (the bucket it creates, the sign-in configured, the verifier and its bus, the quota tier claim)", f.Setting)
		}
	}
	return nil
}
