package presignedupload_test

import (
	"os/exec"
	"strings"
	"testing"
)

// A CDK app that imports the construct compiles the construct, the wire
// contract and the CDK: never the functions' code, the AWS SDK or what the
// functions sniff content with. The functions are built from source at
// synth, in their own process.
func TestConstructCompilesNoFunctionCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed %d packages; want the CDK's too", len(deps))
	}
	banned := []string{
		"github.com/presigned-upload/presigned-upload/lambda/",
		"github.com/aws/aws-sdk-go-v2",
		"github.com/aws/smithy-go",
		"github.com/aws/aws-lambda-go",
		"github.com/gabriel-vasile/mimetype",
	}
	for _, dep := range deps {
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				t.Errorf("the construct compiles %s", dep)
			}
		}
	}
}
