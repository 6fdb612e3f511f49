package environments_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/internal/environments"
)

func TestEnvironmentSettingsAreChecked(t *testing.T) {
	for name, v := range map[string]any{
		"typo in a setting":         map[string]any{"dev": map[string]any{"requireSzie": true}},
		"bad removal policy":        map[string]any{"dev": map[string]any{"removalPolicy": "delete"}},
		"bad origin":                map[string]any{"dev": map[string]any{"allowedOrigins": []string{"example.com"}}},
		"bad name":                  map[string]any{"dev/1": map[string]any{}},
		"bad alarm topic":           map[string]any{"dev": map[string]any{"alarmTopicArn": "arn:aws:sqs:eu-west-1:123456789012:ops"}},
		"budget, no topic":          map[string]any{"dev": map[string]any{"monthlyBudget": 100}},
		"not an object":             []string{"dev"},
		"two sign-ins":              map[string]any{"dev": map[string]any{"cognito": map[string]any{}, "oidc": map[string]any{"issuerUrl": "https://i.example", "audience": "a"}}},
		"bad mfa":                   map[string]any{"dev": map[string]any{"cognito": map[string]any{"mfa": "sometimes"}}},
		"signIn set by hand":        map[string]any{"dev": map[string]any{"signIn": true}},
		"eventBusName set by hand":  map[string]any{"dev": map[string]any{"eventBusName": "bus"}},
		"urlExpirySeconds too long": map[string]any{"dev": map[string]any{"urlExpirySeconds": 50000}},
		"oidc.quotaTierClaim set by hand": map[string]any{"dev": map[string]any{"oidc": map[string]any{
			"issuerUrl": "https://i.example", "audience": "a", "quotaTierClaim": "tier"}}},
	} {
		_, err := environments.Parse(v)
		switch {
		case err == nil:
			t.Errorf("%s: Parse accepted %v", name, v)
		case strings.HasSuffix(name, "by hand") && !strings.Contains(err.Error(), "is not a setting: the stack derives it"):
			t.Errorf("%s: err = %v, want it to say the stack derives it", name, err)
		case strings.HasPrefix(name, "urlExpirySeconds") && !strings.Contains(err.Error(), "dev: urlExpirySeconds 13h53m20s is outside"):
			t.Errorf("%s: err = %v, want it to name the setting as cdk.json does", name, err)
		}
	}
}

func TestLoad(t *testing.T) {
	envs, err := environments.Load(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := envs["dev"]; !ok {
		t.Errorf("cdk.json has no dev environment: %v", environments.Names(envs))
	}
	bad := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(bad, []byte(`{"context":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := environments.Load(bad); err == nil {
		t.Error("Load accepted a cdk.json without environments")
	}
}

// versioned set false is kept apart from versioned unset, which takes the
// construct's default.
func TestVersionedUnsetIsTheDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]any
		want string
	}{
		{"unset", map[string]any{}, "<nil>"},
		{"false", map[string]any{"versioned": false}, "false"},
		{"true", map[string]any{"versioned": true}, "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := environments.Parse(map[string]any{"dev": tc.env})
			if err != nil {
				t.Fatal(err)
			}
			got := "<nil>"
			if v := envs["dev"].Versioned; v != nil {
				got = fmt.Sprint(*v)
			}
			if got != tc.want {
				t.Errorf("versioned = %s, want %s", got, tc.want)
			}
		})
	}
}

// Local mode applies what the stack deploys: a verified, unversioned
// bucket refuses overwrites, as the construct defaults it to.
func TestUnversionedVerifiedBucketPreventsOverwrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]any
		want bool
	}{
		{"versioned by default", map[string]any{}, false},
		{"unversioned", map[string]any{"versioned": false}, true},
		{"unversioned without the verifier", map[string]any{"versioned": false, "verifierEnabled": false}, false},
		{"versioned, preventOverwrite set", map[string]any{"versioned": true, "preventOverwrite": true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := environments.Parse(map[string]any{"dev": tc.env})
			if err != nil {
				t.Fatal(err)
			}
			if got := envs["dev"].UploadSettingsFor("b").PreventOverwrite; got != tc.want {
				t.Errorf("preventOverwrite = %v, want %v", got, tc.want)
			}
		})
	}
}
