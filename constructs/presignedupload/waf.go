package presignedupload

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// The Common rule set's body-size rule blocks bodies over 8 KB. Completing a
// multipart upload sends about 65 bytes per part, and signing parts up to
// api.MaxPartsPerRequest checksums, so both routes outgrow it on large
// files. The web ACL counts that rule instead, and a rule after the group
// blocks on its label everywhere but those routes, where the function's own
// 1 MiB cap applies.
const (
	commonRuleSet     = "AWSManagedRulesCommonRuleSet"
	bodySizeRule      = "SizeRestrictions_BODY"
	bodySizeLabel     = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
	largeBodyRuleName = "SizeRestrictionsBodyExceptMultipart"
)

// largeBodyRoutes may carry bodies over the Common rule set's limit.
var largeBodyRoutes = []string{api.SignParts.Resource, api.CompleteMultipart.Resource}

// ruleActionOverrides returns the overrides for a managed rule group: the
// body-size rule of the Common rule set only counts.
func ruleActionOverrides(group string) any {
	if group != commonRuleSet {
		return nil
	}
	return &[]any{&awswafv2.CfnWebACL_RuleActionOverrideProperty{
		Name:        jsii.String(bodySizeRule),
		ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]any{}},
	}}
}

// largeBodyRule blocks what the body-size rule labelled, unless the path is
// one of largeBodyRoutes. It must run after the Common rule set.
func largeBodyRule(priority float64, visibility *awswafv2.CfnWebACL_VisibilityConfigProperty) *awswafv2.CfnWebACL_RuleProperty {
	return &awswafv2.CfnWebACL_RuleProperty{
		Name:     jsii.String(largeBodyRuleName),
		Priority: jsii.Number(priority),
		Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}},
		Statement: &awswafv2.CfnWebACL_StatementProperty{
			AndStatement: &awswafv2.CfnWebACL_AndStatementProperty{Statements: &[]any{
				&awswafv2.CfnWebACL_StatementProperty{
					LabelMatchStatement: &awswafv2.CfnWebACL_LabelMatchStatementProperty{Scope: jsii.String("LABEL"), Key: jsii.String(bodySizeLabel)},
				},
				&awswafv2.CfnWebACL_StatementProperty{
					NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{Statement: &awswafv2.CfnWebACL_StatementProperty{
						RegexMatchStatement: &awswafv2.CfnWebACL_RegexMatchStatementProperty{
							RegexString:         jsii.String(largeBodyPathPattern()),
							FieldToMatch:        &awswafv2.CfnWebACL_FieldToMatchProperty{UriPath: map[string]any{}},
							TextTransformations: &[]any{&awswafv2.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("NONE")}},
						},
					}},
				},
			}},
		},
		VisibilityConfig: visibility,
	}
}

// largeBodyPathPattern matches the request paths of largeBodyRoutes. On the
// execute-api host the path starts with the stage; on a custom domain it may
// start with a base path or with the route itself. WAF regexes take no
// capturing groups.
func largeBodyPathPattern() string {
	alternatives := make([]string, 0, len(largeBodyRoutes))
	for _, r := range largeBodyRoutes {
		var b strings.Builder
		for _, seg := range strings.Split(strings.TrimPrefix(r, "/"), "/") {
			b.WriteString("/")
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				b.WriteString(`[^/]+`) // a path parameter such as {uploadId}
			} else {
				b.WriteString(regexp.QuoteMeta(seg))
			}
		}
		alternatives = append(alternatives, b.String())
	}
	return `^(?:/[^/]+)?(?:` + strings.Join(alternatives, "|") + `)$`
}
