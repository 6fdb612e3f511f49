package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// rule is a cdk-nag finding that a resource accepts, with the reason and,
// for granular rules, a pattern of the findings it covers.
type rule struct{ id, reason, appliesTo string }

// suppress records cdk-nag suppressions as the metadata cdk-nag reads, so
// using the construct needs no cdk-nag dependency.
func suppress(scope constructs.IConstruct, rules ...rule) {
	child := scope.Node().DefaultChild()
	if child == nil {
		child = scope
	}
	res, ok := child.(awscdk.CfnResource)
	must(ok, "no CloudFormation resource under %s", *scope.Node().Path())
	list := make([]map[string]any, 0, len(rules))
	for _, r := range rules {
		entry := map[string]any{"id": r.id, "reason": r.reason}
		if r.appliesTo != "" {
			entry["applies_to"] = []any{map[string]any{"regex": "/" + r.appliesTo + "/"}}
		}
		list = append(list, entry)
	}
	res.AddMetadata(jsii.String("cdk_nag"), map[string]any{"rules_to_suppress": list})
}
