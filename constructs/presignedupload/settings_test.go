package presignedupload

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// Every setting of every function has a prop of the same name and a type
// that carries it, so props map onto settings by name alone.
func TestEverySettingHasItsProp(t *testing.T) {
	for _, tc := range []struct{ settings, props any }{
		{api.UploadSettings{}, PresignedUploadApiProps{}},
		{api.VerifierSettings{}, PresignedUploadApiProps{}},
		{api.AuthorizerSettings{}, OidcSignInProps{}},
		{api.QuotaLimits{}, QuotaTierProps{}}, // the entries of QuotaTiers
	} {
		st, pt := reflect.TypeOf(tc.settings), reflect.TypeOf(tc.props)
		for _, f := range api.SettingFields(st) {
			if f.Derived {
				continue // derived from other props (Bucket from the bucket it uses)
			}
			t.Run(st.Name()+"."+f.Name, func(t *testing.T) {
				defer func() {
					if r := recover(); r != nil {
						t.Error(r)
					}
				}()
				if prop := propOf(pt, st, f); prop.Type != propTypes[f.Type] {
					t.Errorf("prop %s is a %s", prop.Name, prop.Type)
				}
			})
		}
	}
}

// A setting added without its prop fails synth with a message that names
// the setting and the prop to add, and one whose prop has another type
// names the type to use.
func TestASettingWithoutItsPropFailsSynth(t *testing.T) {
	type newSettings struct {
		api.UploadSettings
		RetentionLabel string `json:"retentionLabel"`
	}
	type mistyped struct {
		KeyPrefix api.Bytes `json:"keyPrefix"`
	}
	for _, tc := range []struct {
		name string
		fn   func()
		want []string
	}{
		{"missing", func() { settingsFrom[newSettings](&PresignedUploadApiProps{}) },
			[]string{"newSettings.RetentionLabel has no prop", "add RetentionLabel *string to PresignedUploadApiProps"}},
		{"another type", func() { settingsFrom[mistyped](&PresignedUploadApiProps{}) },
			[]string{"mistyped.KeyPrefix", "PresignedUploadApiProps.KeyPrefix, which is a *string", "make it a awscdk.Size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				msg := fmt.Sprint(recover())
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("panic = %q, want it to contain %q", msg, w)
					}
				}
			}()
			tc.fn()
		})
	}
}
