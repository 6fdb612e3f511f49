package api_test

import (
	"slices"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

func TestBucketCORSMethodsFor(t *testing.T) {
	for _, tc := range []struct {
		signIn bool
		want   []string
	}{
		{false, []string{"PUT", "POST"}},
		{true, []string{"PUT", "POST", "GET", "HEAD"}},
	} {
		if got := api.BucketCORSMethodsFor(api.UploadSettings{SignIn: tc.signIn}); !slices.Equal(got, tc.want) {
			t.Errorf("signIn %v: methods = %v, want %v", tc.signIn, got, tc.want)
		}
	}
	if !slices.Equal(api.BucketCORSMethods, []string{"PUT", "POST"}) {
		t.Errorf("BucketCORSMethods changed to %v", api.BucketCORSMethods)
	}
}
