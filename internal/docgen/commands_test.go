package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// ranBy are the commands of the docs that another test runs, each with the
// test that runs it and what in that test's source shows it does: its
// distinguishing arguments. Add a command here only with the test that
// runs it.
var ranBy = map[string]struct {
	test, file string
	args       []string
}{
	// The README's two set-up commands: local mode as the README shows it
	// (its banner, the curl flow), and the test command in .ci/run.
	"go run ./cmd/local":           {"TestDocsLocalMode", "cmd/local/docs_test.go", []string{"README.md", "startDocsLocal"}},
	"echo 'hello, S3' > hello.txt": {"TestDocsLocalMode", "cmd/local/docs_test.go", []string{"UPLOAD_URL", "hello.txt"}},
	`curl -s -X PUT -H 'Content-Type: text/plain' --data-binary @hello.txt "$UPLOAD_URL"`: {"TestDocsLocalMode", "cmd/local/docs_test.go", []string{"UPLOAD_URL", "--data-binary @hello.txt", "runShell"}},
	"go run ./cmd/local -h":           {"TestDocsLocalMode", "cmd/local/docs_test.go", []string{"helpOf(t, localBin)", "docs/local-mode.md"}},
	"go run ./cmd/local -env prod":    {"TestDocsLocalMode", "cmd/local/docs_test.go", []string{`"prod"`, "docs/local-mode.md"}},
	"go run ./cmd/local/bench":        {"TestDocsLocalMode", "cmd/local/docs_test.go", []string{`"./bench"`}},
	"go run ./cmd/local/bench -quick": {"TestDocsLocalMode", "cmd/local/docs_test.go", []string{`"./bench"`, `"-quick"`}},
	`go run ./cmd/upload -api http://127.0.0.1:8080 -api-key "$API_KEY" hello.txt`: {"TestDocsLocalMode", "cmd/local/docs_test.go", []string{`"go run ./cmd/upload"`, "API_KEY="}},
	"go run ./cmd/local | sed -n 's/^event //p' | jq .":                            {"TestLocalModeEvents", "cmd/local/events_test.go", []string{"bucketevents.LinePrefix"}},
	"go run ./cmd/local -events-url http://127.0.0.1:9999/":                        {"TestLocalModeEvents", "cmd/local/events_test.go", []string{`"-events-url"`}},
	"go run ./cmd/upload -api http://127.0.0.1:8080 -login photo.jpg":              {"TestCLISignIn", "cmd/local/cli_signin_test.go", []string{`"-login"`}},
	`go run ./cmd/upload -api http://127.0.0.1:8080 -token "$TOKEN" -list`:         {"TestCLISignIn", "cmd/local/cli_signin_test.go", []string{`"-token"`, `"-list"`}},
	// The construct from another module: a throwaway consumer requires it.
	"go get github.com/presigned-upload/presigned-upload":          {"TestImportFromAnotherModule", "constructs/presignedupload/import_test.go", []string{"require github.com/presigned-upload/presigned-upload"}},
	"npx cdk synth --quiet":                                        {"TestCLISynth", "cli_test.go", []string{`"synth"`, `"--quiet"`}},
	"go run ./internal/docgen":                                     {"TestDocsAreCurrent", "internal/docgen/docs_test.go", []string{"generate("}},
	"npx esbuild app.js --bundle --format=esm --outfile=bundle.js": {"TestWebAppDocExamples", "cmd/local/webappdoc_test.go", []string{"npx esbuild "}},
}

// runHere are the cheap, side-effect-free commands this test runs itself.
var runHere = []*regexp.Regexp{
	regexp.MustCompile(`^go doc( [\w./]+)+$`),
	regexp.MustCompile(`^go run ./cmd/upload -h$`),
	regexp.MustCompile(`^npx cdk ls$`),
}

// command is one command of a doc: a logical line of a sh or bash block
// (continued by a trailing \ or |), a $ line of a console block, or a whole
// block that loops.
type command struct {
	where string // file:line
	text  string
}

// commands extracts every command from the sh, bash and console blocks of
// the docs.
func commands(t *testing.T, r string) []command {
	t.Helper()
	var out []command
	for f, doc := range docs(t, r) {
		for _, b := range blocks(f, doc) {
			where := fmt.Sprintf("%s:%d", f, b.line)
			switch b.lang {
			case "sh", "bash":
				if regexp.MustCompile(`(?m)^\s*(while|for|if|until) `).MatchString(b.text) {
					out = append(out, command{where, strings.TrimSpace(b.text)})
					continue
				}
				out = append(out, logicalLines(where, strings.Split(b.text, "\n"), "")...)
			case "console":
				out = append(out, logicalLines(where, strings.Split(b.text, "\n"), "$ ")...)
			}
		}
	}
	slices.SortFunc(out, func(a, b command) int { return strings.Compare(a.where+a.text, b.where+b.text) })
	return out
}

// logicalLines joins continued lines and drops comments; with a prompt,
// only lines that start with it are commands.
func logicalLines(where string, lines []string, prompt string) []command {
	var out []command
	var cur []string
	for _, l := range lines {
		if len(cur) == 0 {
			rest, ok := strings.CutPrefix(l, prompt)
			if !ok || strings.HasPrefix(strings.TrimSpace(rest), "#") || strings.TrimSpace(rest) == "" {
				continue
			}
			l = rest
		}
		l = strings.TrimRight(stripComment(l), " ")
		cur = append(cur, l)
		if strings.HasSuffix(l, "\\") || strings.HasSuffix(l, "|") {
			continue
		}
		out = append(out, command{where, strings.Join(cur, "\n")})
		cur = nil
	}
	return out
}

// stripComment removes a trailing shell comment: a # after a space,
// outside quotes.
func stripComment(l string) string {
	var quote rune
	for i, r := range l {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && i > 0 && (l[i-1] == ' ' || l[i-1] == '\t'):
			return l[:i]
		}
	}
	return l
}

// Every command in the README, CONTRIBUTING.md and docs/ is run by a test:
// by this one when it is cheap, by .ci/run, or by the test the registry
// names; a command that needs AWS is checked offline.
func TestDocsCommands(t *testing.T) {
	r := root(t)
	cmds := commands(t, r)
	ciRun, err := os.ReadFile(filepath.Join(r, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	stacks := cdkStacks(t, r)
	used := map[string]bool{}
	for _, c := range cmds {
		t.Run(c.where, func(t *testing.T) {
			line := strings.Join(strings.Fields(c.text), " ")
			if reg, ok := ranBy[c.text]; ok {
				used[c.text] = true
				checkRanBy(t, r, c.text, reg.test, reg.file, reg.args)
				return
			}
			switch {
			case line == "bash .ci/run":
				if st, err := os.Stat(filepath.Join(r, ".ci", "run")); err != nil || st.Mode()&0o111 == 0 {
					t.Errorf("%s: .ci/run is not an executable script (%v)", c.where, err)
				}
			case ranByCI(string(ciRun), line):
			case matchesAny(runHere, line):
				runCommand(t, r, c, line)
			case strings.HasPrefix(line, "go test "):
				checkGoTest(t, r, c, line)
			case strings.HasPrefix(line, "npm install "):
				checkNpmInstall(t, r, c, line)
			case needsAWS(line):
				checkAWSCommand(t, r, c, stacks)
			default:
				t.Errorf("%s: %q is run by no test: run it in a test (and name that test in ranBy in %s), or leave it out of the docs",
					c.where, c.text, "internal/docgen/commands_test.go")
			}
		})
	}
	for cmd := range ranBy {
		if !used[cmd] {
			t.Errorf("ranBy lists %q, which no doc shows any more: remove it", cmd)
		}
	}
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// ranByCI reports whether .ci/run runs the command: one of its lines is
// the command, or starts with it and more arguments.
func ranByCI(script, cmd string) bool {
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		if l == cmd || strings.HasPrefix(l, cmd+" ") {
			return true
		}
	}
	return false
}

// checkRanBy checks that file declares the test, and that the test's own
// source holds the command's distinguishing arguments.
func checkRanBy(t *testing.T, r, cmd, test, file string, args []string) {
	t.Helper()
	fset := token.NewFileSet()
	src, err := os.ReadFile(filepath.Join(r, filepath.FromSlash(file)))
	if err != nil {
		t.Errorf("%q is run by %s in %s: %v", cmd, test, file, err)
		return
	}
	f, err := parser.ParseFile(fset, file, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != test || fn.Recv != nil {
			continue
		}
		body := string(src[fset.Position(fn.Pos()).Offset:fset.Position(fn.End()).Offset])
		for _, a := range args {
			if !strings.Contains(body, a) {
				t.Errorf("%q is run by %s in %s, whose source lacks %s", cmd, test, file, a)
			}
		}
		return
	}
	t.Errorf("%q is run by %s, which %s does not declare", cmd, test, file)
}

// run runs a command of the docs in the repository, as a reader would.
func run(t *testing.T, r string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// runCommand runs one of the cheap commands.
func runCommand(t *testing.T, r string, c command, line string) {
	args := strings.Fields(line)
	if line == "npx cdk ls" {
		return // cdkStacks ran it, once, for every command that names a stack
	}
	out, err := run(t, r, []string{"CDK_DISABLE_VERSION_CHECK=1"}, args[0], args[1:]...)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", c.where, line, err, out)
	}
	if strings.TrimSpace(out) == "" {
		t.Errorf("%s: %s printed nothing", c.where, line)
	}
	if line == "go run ./cmd/upload -h" {
		checkFlagsNamed(t, r, "docs/clients.md", out)
	}
}

// checkFlagsNamed checks that every flag a page names in its prose, as
// `-name`, is one the command's usage lists.
func checkFlagsNamed(t *testing.T, r, page, usage string) {
	t.Helper()
	doc := docs(t, r)[page]
	named := regexp.MustCompile("`(-[a-z][a-z-]*)`").FindAllStringSubmatch(prose(doc), -1)
	if len(named) == 0 {
		t.Errorf("%s names no flags", page)
	}
	for _, m := range named {
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(m[1]) + `\b`).MatchString(usage) {
			t.Errorf("%s names %s, which the command's usage does not list", page, m[1])
		}
	}
}

// haveCDK reports whether the pinned CDK CLI is installed; in CI it must be.
func haveCDK(t *testing.T, r string) bool {
	t.Helper()
	if _, err := os.Stat(filepath.Join(r, "node_modules", ".bin", "cdk")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pinned CDK CLI missing (%v): .ci/run must run npm ci", err)
		}
		t.Log("pinned CDK CLI not installed (npm ci): not running npx cdk")
		return false
	}
	return true
}

// cdkStacks lists the app's stacks as npx cdk ls does; without the CLI
// installed, from cdk.json's environments.
func cdkStacks(t *testing.T, r string) []string {
	t.Helper()
	if haveCDK(t, r) {
		// As the docs run it, but with the cloud assembly outside the
		// repository.
		out, err := run(t, r, []string{"CDK_DISABLE_VERSION_CHECK=1"}, "npx", "cdk", "ls", "--output", t.TempDir())
		if err != nil {
			t.Fatalf("npx cdk ls: %v\n%s", err, out)
		}
		return regexp.MustCompile(`(?m)^PresignedUpload-[\w-]+$`).FindAllString(out, -1)
	}
	envs, err := cdkEnvironments(r)
	if err != nil {
		t.Fatal(err)
	}
	var stacks []string
	for name := range envs {
		stacks = append(stacks, "PresignedUpload-"+name)
	}
	return stacks
}

var testFuncs = regexp.MustCompile(`(?m)^func ((Test|Benchmark|Fuzz|Example)\w*)\(`)

// checkGoTest checks a go test command offline: its packages exist, its
// flags are go test's, and each -run, -bench or -fuzz pattern selects
// functions that the package's tests declare. The tests themselves run in
// .ci/run; benchmarks and fuzzing are run by hand.
func checkGoTest(t *testing.T, r string, c command, line string) {
	args, err := shellWords(line)
	if err != nil {
		t.Fatalf("%s: %v", c.where, err)
	}
	patterns := map[string]string{}
	var pkgs []string
	valued := []string{"-run", "-bench", "-fuzz", "-count", "-benchtime", "-timeout"}
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case slices.Contains(valued, a) && i+1 < len(args):
			patterns[a] = args[i+1]
			i++
		case slices.Contains([]string{"-v", "-race", "-benchmem", "-short"}, a):
		case strings.HasPrefix(a, "./"):
			pkgs = append(pkgs, strings.TrimSuffix(a, "/..."))
		default:
			t.Fatalf("%s: %s: %q is not a go test flag or package this check knows", c.where, line, a)
		}
	}
	if len(pkgs) == 0 {
		t.Fatalf("%s: %s names no package", c.where, line)
	}
	for _, pkg := range pkgs {
		files, _ := filepath.Glob(filepath.Join(r, filepath.FromSlash(pkg), "*_test.go"))
		if len(files) == 0 {
			t.Errorf("%s: %s has no tests", c.where, pkg)
			continue
		}
		var funcs []string
		for _, f := range files {
			src, _ := os.ReadFile(f)
			for _, m := range testFuncs.FindAllStringSubmatch(string(src), -1) {
				funcs = append(funcs, m[1])
			}
		}
		for flag, kind := range map[string]string{"-run": "Test", "-bench": "Benchmark", "-fuzz": "Fuzz"} {
			p, ok := patterns[flag]
			if !ok || p == "^$" {
				continue
			}
			for _, alt := range strings.Split(strings.Split(p, "/")[0], "|") {
				re, err := regexp.Compile(alt)
				if err != nil {
					t.Errorf("%s: %s %q: %v", c.where, flag, p, err)
					continue
				}
				n := 0
				for _, fn := range funcs {
					if strings.HasPrefix(fn, kind) && re.MatchString(fn) {
						n++
					}
				}
				if n == 0 || flag == "-fuzz" && n != 1 {
					t.Errorf("%s: %s %s selects %d %s functions in %s", c.where, flag, alt, n, kind, pkg)
				}
			}
		}
	}
}

// checkNpmInstall checks that what an npm install names is what this
// repository pins: each package in package.json at the same major version,
// and a copied folder one of its workspaces.
func checkNpmInstall(t *testing.T, r string, c command, line string) {
	raw, err := os.ReadFile(filepath.Join(r, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Workspaces      []string
		DevDependencies map[string]string
		Dependencies    map[string]string
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	for _, spec := range strings.Fields(line)[2:] {
		if strings.HasPrefix(spec, "./") {
			base := filepath.Base(spec)
			if !slices.ContainsFunc(pkg.Workspaces, func(w string) bool { return filepath.Base(w) == base }) {
				t.Errorf("%s: %s installs %s, which is no copy of a workspace of package.json (%q)", c.where, line, spec, pkg.Workspaces)
			}
			continue
		}
		name, version := spec, ""
		if i := strings.LastIndex(spec, "@"); i > 0 {
			name, version = spec[:i], spec[i+1:]
		}
		pinned, ok := pkg.DevDependencies[name]
		if !ok {
			pinned, ok = pkg.Dependencies[name]
		}
		if !ok {
			t.Errorf("%s: %s installs %s, which package.json does not pin", c.where, line, name)
		} else if version != "" && !strings.HasPrefix(pinned, version+".") {
			t.Errorf("%s: %s installs %s@%s, package.json pins %s", c.where, line, name, version, pinned)
		}
	}
}

// needsAWS reports whether a command reaches an AWS account: the AWS CLI,
// or the CDK CLI's commands that deploy.
func needsAWS(line string) bool {
	return regexp.MustCompile(`(^|[|(;&]\s*|\$\()aws |^npx cdk (bootstrap|deploy|destroy)\b`).MatchString(line)
}

var (
	stackName   = regexp.MustCompile(`PresignedUpload-[\w-]+`)
	outputKey   = regexp.MustCompile(`OutputKey=='(\w+)'`)
	placeholder = regexp.MustCompile(`<[A-Za-z][\w ]*>`)
	awsMisuse   = regexp.MustCompile(`(?i)usage: aws|Invalid choice|Unknown options|arguments are required|expected one argument|argument .*: invalid`)
)

// checkAWSCommand checks a command that needs AWS without reaching it:
// the shell parses it, the stacks it names exist, the outputs it reads are
// the app's, and the AWS CLI, when installed, accepts its arguments (every
// request goes to an endpoint that cannot answer).
func checkAWSCommand(t *testing.T, r string, c command, stacks []string) {
	if out, err := run(t, r, nil, "bash", "-n", "-c", c.text); err != nil {
		t.Errorf("%s: the shell cannot parse %q: %v\n%s", c.where, c.text, err, out)
	}
	for _, s := range stackName.FindAllString(c.text, -1) {
		if !slices.Contains(stacks, s) {
			t.Errorf("%s: %s is not a stack of the app (%q)", c.where, s, stacks)
		}
	}
	app, _ := os.ReadFile(filepath.Join(r, "cdk.go"))
	signin, _ := os.ReadFile(filepath.Join(r, "signin.go"))
	for _, m := range outputKey.FindAllStringSubmatch(c.text, -1) {
		if !strings.Contains(string(app)+string(signin), `output(stack, "`+m[1]+`"`) {
			t.Errorf("%s: the app declares no output %s", c.where, m[1])
		}
	}
	if strings.HasPrefix(c.text, "npx cdk ") {
		return // no flags to check; the stack is checked above
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Logf("%s: the AWS CLI is not installed; its arguments are not checked", c.where)
		return
	}
	dead := "http://127.0.0.1:9"
	script := placeholder.ReplaceAllString(c.text, "placeholder")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=example", "AWS_SESSION_TOKEN=",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=",
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard", "AWS_ENDPOINT_URL="+dead,
		"HTTPS_PROXY="+dead, "HTTP_PROXY="+dead, "https_proxy="+dead, "http_proxy="+dead, "NO_PROXY=", "no_proxy=",
		"BUCKET=placeholder-bucket", "QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/111122223333/placeholder")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", c.where, err)
	}
	if awsMisuse.Match(out) {
		t.Errorf("%s: the AWS CLI refuses the arguments of %q:\n%s", c.where, c.text, out)
	}
}

// shellWords splits a command line as the shell would, without expansions.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
