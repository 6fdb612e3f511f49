package uploader_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The client sends JSON and bytes: it must build without the Lambda runtime
// or the AWS SDK, whatever the handler it talks to uses.
func TestClientNeedsNoAWSSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".", "../cmd/upload", "../api").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages; want the standard library too", len(deps))
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/aws/aws-lambda-go", "github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the client depends on %s", dep)
			}
		}
	}
}
