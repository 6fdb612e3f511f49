package presignedupload

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api/schema"
)

// jsonSchema turns a draft-4 schema from package schema into the CDK's
// JsonSchema, keyword by keyword; a keyword it does not know panics, so
// nothing is dropped on the way to the deployed model.
func jsonSchema(s map[string]any) *awsapigateway.JsonSchema {
	out := &awsapigateway.JsonSchema{}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := s[k]
		switch k {
		case "$schema":
			must(v == schema.Draft4, "model schema %v is not draft 4", v)
			out.Schema = awsapigateway.JsonSchemaVersion_DRAFT4
		case "title":
			out.Title = jsii.String(v.(string))
		case "description":
			out.Description = jsii.String(v.(string))
		case "type":
			out.Type = schemaTypes[v.(string)]
			must(out.Type != nil, "model type %v is unknown", v)
		case "properties":
			props := map[string]*awsapigateway.JsonSchema{}
			for name, p := range v.(map[string]any) {
				props[name] = jsonSchema(p.(map[string]any))
			}
			out.Properties = &props
		case "items":
			out.Items = jsonSchema(v.(map[string]any))
		case "required":
			names := make([]*string, 0, len(v.([]any)))
			for _, n := range v.([]any) {
				names = append(names, jsii.String(n.(string)))
			}
			out.Required = &names
		case "additionalProperties":
			out.AdditionalProperties = jsii.Bool(v.(bool))
		case "enum":
			e := v.([]any)
			out.Enum = &e
		case "pattern":
			out.Pattern = jsii.String(v.(string))
		case "format":
			out.Format = jsii.String(v.(string))
		case "minLength":
			out.MinLength = jsii.Number(v.(float64))
		case "maxLength":
			out.MaxLength = jsii.Number(v.(float64))
		case "minimum":
			out.Minimum = jsii.Number(v.(float64))
		case "maximum":
			out.Maximum = jsii.Number(v.(float64))
		case "exclusiveMinimum":
			out.ExclusiveMinimum = jsii.Bool(v.(bool))
		case "exclusiveMaximum":
			out.ExclusiveMaximum = jsii.Bool(v.(bool))
		case "multipleOf":
			out.MultipleOf = jsii.Number(v.(float64))
		case "minItems":
			out.MinItems = jsii.Number(v.(float64))
		case "maxItems":
			out.MaxItems = jsii.Number(v.(float64))
		case "uniqueItems":
			out.UniqueItems = jsii.Bool(v.(bool))
		case "default":
			out.Default = v
		default:
			panic(fmt.Sprintf("presignedupload: model keyword %q has no JsonSchema field", k))
		}
	}
	return out
}

var schemaTypes = map[string]any{
	"object":  awsapigateway.JsonSchemaType_OBJECT,
	"array":   awsapigateway.JsonSchemaType_ARRAY,
	"string":  awsapigateway.JsonSchemaType_STRING,
	"integer": awsapigateway.JsonSchemaType_INTEGER,
	"number":  awsapigateway.JsonSchemaType_NUMBER,
	"boolean": awsapigateway.JsonSchemaType_BOOLEAN,
}
