package presignedupload_test

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// s3Request is one request to the bucket as its policy's Deny statements
// see it: who sends it (aws:PrincipalArn), the action, the object's ARN and
// the condition keys the request carries, each spelled flat as in the
// template (<logical ID.Arn>). A key it lacks is absent from its context.
type s3Request struct {
	name      string
	principal string
	action    string
	resource  string
	keys      map[string][]string
}

// context is the request's condition keys, with those every request the
// product makes carries: TLS 1.2 or later, a fresh signature, and its
// principal's ARN.
func (r s3Request) context() map[string][]string {
	ctx := map[string][]string{"aws:SecureTransport": {"true"}, "s3:TlsVersion": {"1.3"}, "s3:signatureAge": {"1000"}}
	if r.principal != "" {
		ctx["aws:PrincipalArn"] = []string{r.principal}
	}
	for k, v := range r.keys {
		ctx[k] = v
	}
	return ctx
}

// deniedBy returns the Sids of the bucket policy's Deny statements that
// apply to r, after IAM's rules for the policy elements and condition
// operators the construct writes; it fails the test on any other, so a
// statement cannot pass here unevaluated.
func (tm template) deniedBy(t *testing.T, r s3Request) []string {
	t.Helper()
	_, policy := tm.one(t, "AWS::S3::BucketPolicy")
	var sids []string
	for _, st := range get(policy.Properties, "PolicyDocument", "Statement").([]any) {
		s := st.(map[string]any)
		for _, unknown := range []string{"NotPrincipal", "NotAction", "NotResource"} {
			if _, ok := s[unknown]; ok {
				t.Fatalf("statement %s has %s: teach deniedBy", jsonOf(s), unknown)
			}
		}
		if s["Effect"] != "Deny" || !principalMatches(t, s["Principal"], r.principal) ||
			!slices.ContainsFunc(actions(s), func(a string) bool { return glob(a, r.action) }) ||
			!slices.ContainsFunc(flats(s["Resource"]), func(res string) bool { return glob(res, r.resource) }) ||
			!conditionsHold(t, s["Condition"], r.context()) {
			continue
		}
		sid, _ := s["Sid"].(string)
		sids = append(sids, cmp.Or(sid, jsonOf(s)))
	}
	return sids
}

func principalMatches(t *testing.T, p any, principal string) bool {
	t.Helper()
	m, ok := p.(map[string]any)
	if !ok || len(m) != 1 || m["AWS"] == nil {
		t.Fatalf("principal %s: teach deniedBy", jsonOf(p))
	}
	for _, a := range flats(m["AWS"]) {
		if a == "*" || a == principal {
			return true
		}
	}
	return false
}

// conditionsHold reports whether every condition of a statement holds for
// a request's context: all operators, and all keys under each.
func conditionsHold(t *testing.T, conditions any, ctx map[string][]string) bool {
	t.Helper()
	ops, _ := conditions.(map[string]any)
	for op, keys := range ops {
		for key, want := range keys.(map[string]any) {
			values := flats(want)
			got, present := ctx[key]
			var holds bool
			switch op {
			case "Null": // "true": the key is absent
				holds = present == (values[0] == "false")
			case "Bool", "StringEquals", "ForAnyValue:StringEquals":
				holds = present && slices.ContainsFunc(got, func(g string) bool { return slices.Contains(values, g) })
			case "StringNotEquals":
				holds = !present || !slices.ContainsFunc(got, func(g string) bool { return slices.Contains(values, g) })
			case "ArnNotEquals":
				holds = !present || !slices.ContainsFunc(got, func(g string) bool {
					return slices.ContainsFunc(values, func(v string) bool { return glob(v, g) })
				})
			case "NumericGreaterThan", "NumericLessThan":
				limit, _ := strconv.ParseFloat(values[0], 64)
				holds = present && slices.ContainsFunc(got, func(g string) bool {
					n, err := strconv.ParseFloat(g, 64)
					return err == nil && (n > limit) == (op == "NumericGreaterThan") && n != limit
				})
			default:
				t.Fatalf("condition operator %s: teach deniedBy", op)
			}
			if !holds {
				return false
			}
		}
	}
	return true
}

// glob reports whether s matches pattern, where * stands for any run of
// characters and ? for one, as in an action, a resource or an ARN.
func glob(pattern, s string) bool {
	re := regexp.QuoteMeta(pattern)
	re = strings.NewReplacer(`\*`, `.*`, `\?`, `.`).Replace(re)
	return regexp.MustCompile("^" + re + "$").MatchString(s)
}

// checkWrites checks each request against the bucket policy: those in
// refused must be denied by the statement named, the others by none.
// Only the bucket policy is evaluated: the roles' own policies grant what
// each request needs (verifier_test.go, presignedupload_test.go).
func checkWrites(t *testing.T, tm template, requests []s3Request, refused map[string]string) {
	t.Helper()
	for _, r := range requests {
		got := tm.deniedBy(t, r)
		if want, ok := refused[r.name]; ok {
			if !slices.Equal(got, []string{want}) {
				t.Errorf("%s: denied by %v, want %s", r.name, got, want)
			}
			continue
		}
		if len(got) > 0 {
			t.Errorf("%s: denied by %v, want it to pass", r.name, got)
		}
	}
}

// productWrites are the writes to the bucket the product makes, and those
// it must refuse when it prevents overwrites, for the bucket and the roles
// named (logical IDs); scanRole is "" without the malware scan.
func productWrites(bucketID, handlerRole, verifierRole, scanRole string) []s3Request {
	obj := func(key string) string { return "<" + bucketID + ".Arn>/" + key }
	handler, verifier, scanner := "<"+handlerRole+".Arn>", "<"+verifierRole+".Arn>", "<"+scanRole+".Arn>"
	creates := func(conditional bool, extra ...string) map[string][]string {
		k := map[string][]string{"s3:ObjectCreationOperation": {"true"}}
		if conditional {
			k["s3:if-none-match"] = []string{"*"}
		}
		for i := 0; i < len(extra); i += 2 {
			k[extra[i]] = []string{extra[i+1]}
		}
		return k
	}
	part := map[string][]string{"s3:ObjectCreationOperation": {"false"}}
	tags := func(keys ...string) map[string][]string { return map[string][]string{"s3:RequestObjectTagKeys": keys} }
	rs := []s3Request{
		{"an issued URL's PUT, with If-None-Match", handler, "s3:PutObject", obj("uploads/a/b.txt"), creates(true)},
		{"CreateMultipartUpload", handler, "s3:PutObject", obj("uploads/a/b.bin"), part},
		{"an issued URL's UploadPart", handler, "s3:PutObject", obj("uploads/a/b.bin"), part},
		{"the function's CompleteMultipartUpload, with If-None-Match", handler, "s3:PutObject", obj("uploads/a/b.bin"), creates(true)},
		{"the function's session object", handler, "s3:PutObject", obj("upload-sessions/abc"), creates(false)},
		{"the verifier's new marker, with If-None-Match", verifier, "s3:PutObject", obj("upload-verifications/abc"), creates(true)},
		{"the verifier's marker taken over, with If-Match", verifier, "s3:PutObject", obj("upload-verifications/abc"), creates(false, "s3:if-match", `"etag"`)},
		{"the verifier's status tags", verifier, "s3:PutObjectTagging", obj("uploads/a/b.txt"), tags("upload-status", "upload-reason")},
		{"the verifier's status tags on a version", verifier, "s3:PutObjectVersionTagging", obj("uploads/a/b.txt"), tags("upload-status", "upload-reason")},
		{"a PUT without If-None-Match", handler, "s3:PutObject", obj("uploads/a/b.txt"), creates(false)},
		{"a CompleteMultipartUpload without If-None-Match", handler, "s3:PutObject", obj("uploads/a/b.bin"), creates(false)},
		{"a CopyObject into the prefix", handler, "s3:PutObject", obj("uploads/a/copy.txt"), creates(false, "s3:x-amz-copy-source", "bucket/uploads/a/b.txt")},
		{"anyone's status tag", handler, "s3:PutObjectTagging", obj("uploads/a/b.txt"), tags("upload-status")},
	}
	if scanRole != "" {
		rs = append(rs,
			s3Request{"GuardDuty's result tag", scanner, "s3:PutObjectTagging", obj("uploads/a/b.txt"), tags("GuardDutyMalwareScanStatus")},
			s3Request{"GuardDuty's validation object", scanner, "s3:PutObject", obj("malware-protection-resource-validation-object"), creates(false)},
			s3Request{"the verifier's status tags, GuardDuty's kept", verifier, "s3:PutObjectTagging", obj("uploads/a/b.txt"),
				tags("GuardDutyMalwareScanStatus", "upload-status", "upload-reason")},
			s3Request{"anyone's GuardDuty result tag", handler, "s3:PutObjectTagging", obj("uploads/a/b.txt"), tags("GuardDutyMalwareScanStatus")},
		)
	}
	return rs
}
