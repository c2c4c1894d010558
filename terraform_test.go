package geminihook

import (
	"context"
	"fmt"
	"go/ast"
	"go/build"
	goparser "go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/examples/subscriber"
	"github.com/geminihook/geminihook/verify"
)

// The Terraform deployment (terraform/) and the receiver describe the same
// system twice. These tests parse the configuration and hold the two
// together: what the function is called, which environment it gets, which
// Firestore fields it relies on, which roles it is granted. They need no
// provider and no network; `terraform fmt -check` and, for users with a
// project, `terraform validate` cover the rest.

const tfDir = "terraform"

// tfContractDefaults are the variables the receiver reads that Terraform
// deliberately leaves unset, with the reason (the receiver contract in
// README.md gives each default).
var tfContractDefaults = map[string]string{
	"PORT":                          "set by Cloud Run",
	"K_SERVICE":                     "set by Cloud Run",
	"GEMINI_WEBHOOK_SECRETS":        "replaced by GEMINI_WEBHOOK_SECRETS_FILE: a value here would be a secret in Terraform state",
	"GEMINI_JWKS_URL":               "Gemini's JWKS URL by default",
	"GEMINI_JWT_AUDIENCE":           "optional check, unset by default (extra_environment_variables)",
	"GEMINI_JWT_ISSUER":             "optional check, unset by default (extra_environment_variables)",
	"GEMINI_JWT_ALLOW_UNBOUND_BODY": "false by default, the safe setting; it only weakens JWT checks",
	"WEBHOOK_TOLERANCE":             "5m by default (extra_environment_variables)",
	"MAX_BODY_BYTES":                "1 MiB by default (extra_environment_variables)",
	"FIRESTORE_EMULATOR_HOST":       "tests only; must be unset in production",
	"PUBSUB_EMULATOR_HOST":          "tests only; must be unset in production",
}

// tfForbiddenEnvironment must never be set by Terraform.
var tfForbiddenEnvironment = []string{
	"GEMINI_WEBHOOK_SECRETS", "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "PORT", "K_SERVICE",
}

// tfExpectedGrants is every IAM grant of the module, by resource address,
// and why it is the least that works.
var tfExpectedGrants = map[string]string{
	// The receiver publishes to its topic only.
	"google_pubsub_topic_iam_member.function_publishes_events": "roles/pubsub.publisher",
	// Reads and writes claims; a condition limits it to the claims database.
	"google_project_iam_member.function_uses_firestore": "roles/datastore.user",
	// Reads its own secret only.
	"google_secret_manager_secret_iam_member.function_reads_secret": "roles/secretmanager.secretAccessor",
	// Gemini cannot authenticate: allUsers may invoke, the signature is the gate.
	"google_cloud_run_v2_service_iam_member.public_invoker": "roles/run.invoker",
	// The build service account writes build logs (project-level only)...
	"google_project_iam_member.build_writes_logs": "roles/logging.logWriter",
	// ...pushes the image to the function's own repository...
	"google_artifact_registry_repository_iam_member.build_pushes_images": "roles/artifactregistry.writer",
	// ...and reads the copied source; a condition limits it to that bucket.
	"google_project_iam_member.build_reads_sources": "roles/storage.objectViewer",
	// Pub/Sub's service agent dead-letters: publishes to the dead-letter topic...
	"google_pubsub_topic_iam_member.pubsub_agent_dead_letters": "roles/pubsub.publisher",
	// ...and acknowledges on the subscription it came from.
	"google_pubsub_subscription_iam_member.pubsub_agent_acks_dead_letters": "roles/pubsub.subscriber",

	// Only with deploy_example_subscriber (count), see tfSubscriberOnly.
	// The example subscriber reads and writes its handled ids; the same
	// condition as the receiver's limits it to the same database.
	"google_project_iam_member.subscriber_uses_firestore": "roles/datastore.user",
	// Its trigger's identity invokes its Cloud Run service, and nothing else.
	// Pub/Sub events need no eventarc.eventReceiver; the service agents get
	// their roles with their APIs.
	"google_cloud_run_v2_service_iam_member.subscriber_trigger_invokes": "roles/run.invoker",
}

// tfSubscriberOnly is everything deploy_example_subscriber adds: each
// exists only when it is true (count = var.deploy_example_subscriber ? 1 : 0),
// so the default deployment is the receiver alone.
var tfSubscriberOnly = []string{
	"data.archive_file.subscriber_source",
	"google_storage_bucket_object.subscriber_source",
	"google_service_account.subscriber",
	"google_service_account.subscriber_trigger",
	"time_sleep.subscriber_iam_propagation",
	"google_cloudfunctions2_function.subscriber",
	"google_project_iam_member.subscriber_uses_firestore",
	"google_cloud_run_v2_service_iam_member.subscriber_trigger_invokes",
	"google_firestore_field.subscriber_expire_at",
	"google_firestore_field.subscriber_handled_at",
}

// tfUnconditionalProjectGrants are the project-level grants allowed without
// an IAM condition: the permission exists at project level only.
var tfUnconditionalProjectGrants = []string{"google_project_iam_member.build_writes_logs"}

// tfIndexExemptions are the claim fields exempt from single-field indexes:
// timestamps that are never queried (dedupe/firestore.go writes them).
var tfIndexExemptions = []string{dedupe.TTLField, "received_at", "lease_until"}

type tfModule struct {
	files     map[string][]byte // path -> content, every .tf and .tfvars
	resources map[string]*hclsyntax.Block
	data      map[string]*hclsyntax.Block // by "data.type.name"
	variables map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	// ctx evaluates the expressions that depend only on variable defaults
	// and on such locals.
	ctx *hcl.EvalContext
}

func loadTerraform(t *testing.T) *tfModule {
	t.Helper()
	m := &tfModule{
		files:     map[string][]byte{},
		resources: map[string]*hclsyntax.Block{},
		data:      map[string]*hclsyntax.Block{},
		variables: map[string]*hclsyntax.Block{},
		locals:    map[string]*hclsyntax.Attribute{},
	}
	err := filepath.WalkDir(tfDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return fs.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".tf") || strings.Contains(filepath.Base(path), ".tfvars")) {
			b, err := os.ReadFile(path)
			m.files[path] = b
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range slices.Sorted(maps.Keys(m.files)) {
		if filepath.Dir(path) != tfDir || !strings.HasSuffix(path, ".tf") {
			continue // the root module is terraform/*.tf
		}
		f, diags := hclsyntax.ParseConfig(m.files[path], path, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("parse %s: %v", path, diags)
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			switch b.Type {
			case "resource":
				m.resources[b.Labels[0]+"."+b.Labels[1]] = b
			case "data":
				m.data["data."+b.Labels[0]+"."+b.Labels[1]] = b
			case "variable":
				m.variables[b.Labels[0]] = b
			case "locals":
				maps.Copy(m.locals, b.Body.Attributes)
			}
		}
	}
	if len(m.resources) == 0 {
		t.Fatalf("no resources found under %s", tfDir)
	}
	m.buildContext()
	return m
}

// buildContext evaluates variable defaults and then, to a fixed point, the
// locals computable from them. Locals that refer to resources or call
// functions stay out: the tests never need their values.
func (m *tfModule) buildContext() {
	vars := map[string]cty.Value{}
	for name, v := range m.variables {
		vars[name] = cty.DynamicVal
		if a, ok := v.Body.Attributes["default"]; ok {
			if val, diags := a.Expr.Value(nil); !diags.HasErrors() {
				vars[name] = val
			}
		}
	}
	locals := map[string]cty.Value{}
	m.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars), "local": cty.EmptyObjectVal}}
	for changed := true; changed; {
		changed = false
		for name, a := range m.locals {
			if _, done := locals[name]; done {
				continue
			}
			if val, diags := a.Expr.Value(m.ctx); !diags.HasErrors() && val.IsWhollyKnown() {
				locals[name] = val
				m.ctx.Variables["local"] = cty.ObjectVal(locals)
				changed = true
			}
		}
	}
}

// resource returns the only resource of type typ.
func (m *tfModule) resource(t *testing.T, typ string) (string, *hclsyntax.Block) {
	t.Helper()
	var found []string
	for addr := range m.resources {
		if strings.HasPrefix(addr, typ+".") {
			found = append(found, addr)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s resource, found %v", typ, found)
	}
	return found[0], m.resources[found[0]]
}

func tfBlock(t *testing.T, b *hclsyntax.Block, typ string) *hclsyntax.Block {
	t.Helper()
	var found []*hclsyntax.Block
	for _, nb := range b.Body.Blocks {
		if nb.Type == typ {
			found = append(found, nb)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: want one %s block, found %d", b.DefRange(), typ, len(found))
	}
	return found[0]
}

func tfAttr(t *testing.T, b *hclsyntax.Block, name string) hclsyntax.Expression {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s: no attribute %s", b.DefRange(), name)
	}
	return a.Expr
}

// str evaluates expr, which must be a known string.
func (m *tfModule) str(t *testing.T, expr hclsyntax.Expression) string {
	t.Helper()
	v, diags := expr.Value(m.ctx)
	if diags.HasErrors() {
		t.Fatalf("%s: %v", expr.Range(), diags)
	}
	if !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
		t.Fatalf("%s: %#v is not a known string", expr.Range(), v)
	}
	return v.AsString()
}

// reference returns "var.x", "local.y", "google_x.name.attr" or
// "google_x.name[0].attr" when expr is a plain reference, and "" otherwise.
func tfReference(expr hclsyntax.Expression) string {
	e, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return ""
	}
	var b strings.Builder
	for _, step := range e.Traversal {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() != cty.Number {
				return ""
			}
			fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
		default:
			return ""
		}
	}
	return b.String()
}

// objectKeys returns the keys an object expression is known to have: keys
// of object constructors, followed through locals and merge(). A variable
// contributes no fixed key (extra_environment_variables is the user's).
func (m *tfModule) objectKeys(t *testing.T, expr hclsyntax.Expression) map[string]hclsyntax.Expression {
	t.Helper()
	keys := map[string]hclsyntax.Expression{}
	switch e := expr.(type) {
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || k.Type() != cty.String {
				t.Fatalf("%s: key is not a literal string", item.KeyExpr.Range())
			}
			keys[k.AsString()] = item.ValueExpr
		}
	case *hclsyntax.FunctionCallExpr:
		if e.Name != "merge" {
			t.Fatalf("%s: cannot follow %s()", e.Range(), e.Name)
		}
		for _, arg := range e.Args {
			maps.Copy(keys, m.objectKeys(t, arg))
		}
	case *hclsyntax.ScopeTraversalExpr:
		ref := tfReference(e)
		switch {
		case strings.HasPrefix(ref, "local."):
			a, ok := m.locals[strings.TrimPrefix(ref, "local.")]
			if !ok {
				t.Fatalf("%s: no %s", e.Range(), ref)
			}
			return m.objectKeys(t, a.Expr)
		case strings.HasPrefix(ref, "var."):
		default:
			t.Fatalf("%s: cannot follow %q", e.Range(), ref)
		}
	default:
		t.Fatalf("%s: cannot find the keys of a %T", expr.Range(), expr)
	}
	return keys
}

// function is the receiver's function.
func (m *tfModule) function(t *testing.T) *hclsyntax.Block {
	t.Helper()
	return m.block(t, "google_cloudfunctions2_function.receiver")
}

// block returns the resource at addr.
func (m *tfModule) block(t *testing.T, addr string) *hclsyntax.Block {
	t.Helper()
	b, ok := m.resources[addr]
	if !ok {
		t.Fatalf("no %s", addr)
	}
	return b
}

// functionEnvironment is what the function's environment_variables sets.
func (m *tfModule) functionEnvironment(t *testing.T) map[string]hclsyntax.Expression {
	t.Helper()
	return m.objectKeys(t, tfAttr(t, tfBlock(t, m.function(t), "service_config"), "environment_variables"))
}

// variablesRead returns every environment variable LoadConfig looks up,
// without and with a project (some checks depend on it).
func variablesRead() map[string]bool {
	read := map[string]bool{}
	for _, project := range []string{"", "p"} {
		LoadConfig(func(name string) (string, bool) {
			read[name] = true
			if name == "GOOGLE_CLOUD_PROJECT" && project != "" {
				return project, true
			}
			return "", false
		})
	}
	return read
}

func TestTerraformEntryPoint(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	build := tfBlock(t, m.function(t), "build_config")
	if got := m.str(t, tfAttr(t, build, "entry_point")); got != FunctionName {
		t.Errorf("entry_point = %q, want %q, the name function.go registers", got, FunctionName)
	}
}

func TestTerraformEnvironment(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	set := m.functionEnvironment(t)
	read := variablesRead()

	for _, name := range slices.Sorted(maps.Keys(read)) {
		_, isSet := set[name]
		_, hasDefault := tfContractDefaults[name]
		switch {
		case isSet && hasDefault:
			t.Errorf("%s is set by Terraform but listed as left to its default", name)
		case !isSet && !hasDefault:
			t.Errorf("the receiver reads %s, which Terraform neither sets nor leaves to a documented default", name)
		}
	}
	for name := range tfContractDefaults {
		if !read[name] {
			t.Errorf("%s is listed as left to its default but the receiver does not read it", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if !read[name] {
			t.Errorf("Terraform sets %s, which the receiver never reads (a typo?)", name)
		}
	}
	for _, name := range tfForbiddenEnvironment {
		if _, ok := set[name]; ok {
			t.Errorf("Terraform must not set %s", name)
		}
	}
}

// The secrets reach the receiver as the file of a Secret Manager volume
// whose "latest" version is read when the file is read.
func TestTerraformSecretsFile(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	expr, ok := m.functionEnvironment(t)["GEMINI_WEBHOOK_SECRETS_FILE"]
	if !ok {
		t.Fatal("Terraform does not set GEMINI_WEBHOOK_SECRETS_FILE")
	}
	file := m.str(t, expr)

	service := tfBlock(t, m.function(t), "service_config")
	if _, ok := service.Body.Attributes["secret_environment_variables"]; ok || slices.ContainsFunc(service.Body.Blocks, func(b *hclsyntax.Block) bool {
		return b.Type == "secret_environment_variables"
	}) {
		t.Error("secrets must be mounted as files, not environment variables: those are read once, at start-up")
	}
	volume := tfBlock(t, service, "secret_volumes")
	version := tfBlock(t, volume, "versions")
	if got := m.str(t, tfAttr(t, version, "version")); got != "latest" {
		t.Errorf("mounted secret version = %q, want latest (a pinned version needs a redeploy to rotate)", got)
	}
	mounted := strings.TrimSuffix(m.str(t, tfAttr(t, volume, "mount_path")), "/") + "/" + m.str(t, tfAttr(t, version, "path"))
	if file != mounted {
		t.Errorf("GEMINI_WEBHOOK_SECRETS_FILE = %q, but the secret is mounted at %q", file, mounted)
	}

	secretAddr, _ := m.resource(t, "google_secret_manager_secret")
	want := secretAddr + ".secret_id"
	if got := tfReference(tfAttr(t, volume, "secret")); got != want {
		t.Errorf("the function mounts %q, want %q", got, want)
	}
	grant := m.resources["google_secret_manager_secret_iam_member.function_reads_secret"]
	if grant == nil {
		t.Fatal("no google_secret_manager_secret_iam_member.function_reads_secret")
	}
	if got := tfReference(tfAttr(t, grant, "secret_id")); got != want {
		t.Errorf("the function may read %q, want %q", got, want)
	}
}

// Terraform's defaults are the contract's: a user who changes nothing gets
// the receiver the README describes.
func TestTerraformDefaultsMatchContract(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	defaultOf := func(name string) cty.Value {
		t.Helper()
		v, ok := m.variables[name]
		if !ok {
			t.Fatalf("no variable %q", name)
		}
		val, diags := tfAttr(t, v, "default").Value(nil)
		if diags.HasErrors() {
			t.Fatalf("variable %s: %v", name, diags)
		}
		return val
	}
	seconds := func(name string) time.Duration {
		n, _ := defaultOf(name).AsBigFloat().Int64()
		return time.Duration(n) * time.Second
	}
	tests := []struct {
		variable, got, want string
	}{
		{"topic_name", defaultOf("topic_name").AsString(), DefaultTopic},
		{"firestore_database", defaultOf("firestore_database").AsString(), DefaultDatabase},
		{"dedupe_collection", defaultOf("dedupe_collection").AsString(), DefaultCollection},
		{"dedupe_retention_hours", (seconds("dedupe_retention_hours") * 3600).String(), DefaultRetention.String()},
		{"dedupe_lease_seconds", seconds("dedupe_lease_seconds").String(), DefaultLease.String()},
		{"request_timeout_seconds", seconds("request_timeout_seconds").String(), DefaultRequestTimeout.String()},
		{"log_level", defaultOf("log_level").AsString(), "info"},
		{"pubsub_ordering", defaultOf("pubsub_ordering").AsString(), "none"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("variable %s defaults to %s, the contract's default is %s", tt.variable, tt.got, tt.want)
		}
	}

	// The variables reach the receiver unchanged.
	env := m.functionEnvironment(t)
	for name, ref := range map[string]string{
		"FIRESTORE_DATABASE": "var.firestore_database",
		"DEDUPE_COLLECTION":  "var.dedupe_collection",
		"LOG_LEVEL":          "var.log_level",
		"PUBSUB_ORDERING":    "var.pubsub_ordering",
	} {
		if got := tfReference(env[name]); got != ref {
			t.Errorf("%s = %q, want %s", name, got, ref)
		}
	}
}

// Firestore deletes claims through a TTL policy on the claim store's expiry
// field, in the collection the receiver writes to; and the example
// subscriber's records through one on theirs, in its collection.
func TestTerraformFirestoreTTL(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	ttl := map[string][]string{}    // collection reference -> TTL fields
	exempt := map[string][]string{} // collection reference -> fields without single-field indexes
	for addr, b := range m.resources {
		if !strings.HasPrefix(addr, "google_firestore_field.") {
			continue
		}
		field := m.str(t, tfAttr(t, b, "field"))
		coll := tfReference(tfAttr(t, b, "collection"))
		if coll != "var.dedupe_collection" && coll != "var.subscriber_collection" {
			t.Errorf("%s: collection = %q, want var.dedupe_collection or var.subscriber_collection, the collections the receiver and the example subscriber are given", addr, coll)
		}
		if got := tfReference(tfAttr(t, b, "database")); got != "var.firestore_database" {
			t.Errorf("%s: database = %q, want var.firestore_database", addr, got)
		}
		for _, nb := range b.Body.Blocks {
			switch nb.Type {
			case "ttl_config":
				ttl[coll] = append(ttl[coll], field)
			case "index_config":
				if len(nb.Body.Attributes)+len(nb.Body.Blocks) != 0 {
					t.Errorf("%s: index_config must be empty to exempt %s from single-field indexes", addr, field)
				}
				exempt[coll] = append(exempt[coll], field)
			}
		}
	}
	expiry, timestamps := subscriberRecordFields(t)
	for coll, want := range map[string]struct{ ttl, exempt []string }{
		"var.dedupe_collection":     {[]string{dedupe.TTLField}, tfIndexExemptions},
		"var.subscriber_collection": {[]string{expiry}, timestamps},
	} {
		if !slices.Equal(ttl[coll], want.ttl) {
			t.Errorf("%s: TTL policies on %q, want exactly one on %q", coll, ttl[coll], want.ttl)
		}
		got := slices.Sorted(slices.Values(exempt[coll]))
		if w := slices.Sorted(slices.Values(want.exempt)); !slices.Equal(got, w) {
			t.Errorf("%s: index exemptions on %q, want %q", coll, got, w)
		}
	}
}

// subscriberRecordFields reads, from examples/subscriber/firestore.go, the
// Firestore name of the expiry of a handled-id record (its ExpireAt field)
// and of every timestamp of the record.
func subscriberRecordFields(t *testing.T) (expiry string, timestamps []string) {
	t.Helper()
	path := filepath.Join("examples", "subscriber", "firestore.go")
	f, err := goparser.ParseFile(token.NewFileSet(), path, nil, goparser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "handledDoc" {
			return true
		}
		for _, fld := range ts.Type.(*ast.StructType).Fields.List {
			sel, ok := fld.Type.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Time" || fld.Tag == nil || len(fld.Names) != 1 {
				continue
			}
			tag, _ := strconv.Unquote(fld.Tag.Value)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("firestore"), ",")
			timestamps = append(timestamps, name)
			if fld.Names[0].Name == "ExpireAt" {
				expiry = name
			}
		}
		return false
	})
	if expiry == "" {
		t.Fatalf("%s: no handledDoc.ExpireAt with a firestore tag", path)
	}
	return expiry, timestamps
}

func TestTerraformIAMRoles(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	grant := regexp.MustCompile(`^google_.+_iam_(member|binding)$`)
	got := map[string]string{}
	for addr, b := range m.resources {
		typ := strings.SplitN(addr, ".", 2)[0]
		if strings.HasSuffix(typ, "_iam_policy") {
			t.Errorf("%s: authoritative IAM policies would erase grants made outside this module", addr)
		}
		if !grant.MatchString(typ) {
			continue
		}
		got[addr] = m.str(t, tfAttr(t, b, "role"))
		if member, ok := b.Body.Attributes["member"]; ok {
			if v, diags := member.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String &&
				(v.AsString() == "allUsers" || v.AsString() == "allAuthenticatedUsers") &&
				addr != "google_cloud_run_v2_service_iam_member.public_invoker" {
				t.Errorf("%s grants %s to %s; only the invoker grant may be public", addr, got[addr], v.AsString())
			}
		}
		if typ == "google_project_iam_member" && !slices.Contains(tfUnconditionalProjectGrants, addr) {
			if !slices.ContainsFunc(b.Body.Blocks, func(nb *hclsyntax.Block) bool { return nb.Type == "condition" }) {
				t.Errorf("%s grants %s on the whole project without a condition", addr, got[addr])
			}
		}
	}
	for _, addr := range slices.Sorted(maps.Keys(got)) {
		if want, ok := tfExpectedGrants[addr]; !ok {
			t.Errorf("unexpected grant %s: %s", addr, got[addr])
		} else if got[addr] != want {
			t.Errorf("%s grants %s, want %s", addr, got[addr], want)
		}
	}
	for _, addr := range slices.Sorted(maps.Keys(tfExpectedGrants)) {
		if _, ok := got[addr]; !ok {
			t.Errorf("missing grant %s: %s", addr, tfExpectedGrants[addr])
		}
	}

	basic := regexp.MustCompile(`roles/(owner|editor|viewer)\b`)
	for path, b := range m.files {
		if loc := basic.FindIndex(b); loc != nil {
			t.Errorf("%s: basic role %s", path, b[loc[0]:loc[1]])
		}
	}
	if b := m.resources["google_cloud_run_v2_service_iam_member.public_invoker"]; b != nil {
		if got := m.str(t, tfAttr(t, b, "member")); got != "allUsers" {
			t.Errorf("public invoker member = %q, want allUsers: Gemini cannot authenticate to Cloud Run", got)
		}
	}
}

func TestTerraformVariablesDocumented(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for _, name := range slices.Sorted(maps.Keys(m.variables)) {
		v := m.variables[name]
		if _, ok := v.Body.Attributes["type"]; !ok {
			t.Errorf("variable %s has no type", name)
		}
		a, ok := v.Body.Attributes["description"]
		if !ok {
			t.Errorf("variable %s has no description", name)
			continue
		}
		if d, diags := a.Expr.Value(nil); diags.HasErrors() || d.Type() != cty.String || strings.TrimSpace(d.AsString()) == "" {
			t.Errorf("variable %s: the description is not a non-empty string", name)
		}
	}
}

// No signing secret is ever written in the configuration, nor stored in
// Terraform state.
func TestTerraformNoSecretValues(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for path, b := range m.files {
		if i := strings.Index(strings.ToLower(string(b)), "whsec_"); i >= 0 {
			line := 1 + strings.Count(string(b[:i]), "\n")
			t.Errorf("%s:%d: a whsec_ secret in the Terraform configuration", path, line)
		}
	}
	for addr, b := range m.resources {
		if !strings.HasPrefix(addr, "google_secret_manager_secret_version.") {
			continue
		}
		if _, ok := b.Body.Attributes["secret_data"]; ok {
			t.Errorf("%s: secret_data is stored in Terraform state; store secrets with gcloud", addr)
		}
		if a, ok := b.Body.Attributes["secret_data_wo"]; ok {
			// Only the placeholder that lets the first deployment start.
			secrets, err := verify.ParseSecrets(m.str(t, a.Expr))
			if err != nil || len(secrets) != 0 {
				t.Errorf("%s: secret_data_wo must hold no secret (got %d, %v)", addr, len(secrets), err)
			}
		}
	}
}

// The default runtime can build go.mod: its Go version is not older than
// the go directive.
func TestTerraformGoRuntime(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	runtime := m.str(t, tfAttr(t, m.variables["go_runtime"], "default"))
	if got := m.str(t, tfAttr(t, tfBlock(t, m.function(t), "build_config"), "runtime")); got != runtime {
		t.Errorf("build_config.runtime evaluates to %q, want var.go_runtime (%q)", got, runtime)
	}
	rt := regexp.MustCompile(`^go1(\d{2})$`).FindStringSubmatch(runtime)
	if rt == nil {
		t.Fatalf("go_runtime default %q is not a Go runtime id like go126", runtime)
	}
	goMod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	gm := regexp.MustCompile(`(?m)^go 1\.(\d+)`).FindSubmatch(goMod)
	if gm == nil {
		t.Fatal("go.mod has no go directive")
	}
	runtimeMinor, _ := strconv.Atoi(rt[1])
	modMinor, _ := strconv.Atoi(string(gm[1]))
	if runtimeMinor < modMinor {
		t.Errorf("go_runtime %s is older than go.mod's go 1.%d", runtime, modMinor)
	}
}

func TestTerraformExampleSubscription(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	subs, diags := tfAttr(t, m.variables["subscriptions"], "default").Value(nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	const want = `attributes.event_type = "batch.succeeded"`
	var filters []string
	for _, s := range subs.AsValueMap() {
		if s.Type().IsObjectType() && s.Type().HasAttribute("filter") {
			filters = append(filters, s.GetAttr("filter").AsString())
		}
	}
	if !slices.Contains(filters, want) {
		t.Errorf("default subscriptions filter on %q, want an example with %s", filters, want)
	}
}

// Every file the tests read is the module's, and the tests found the
// module's resources by the names the README uses.
func TestTerraformLayout(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for _, addr := range []string{
		"google_cloudfunctions2_function.receiver",
		"google_cloudfunctions2_function.subscriber",
		"google_secret_manager_secret.signing",
		"google_pubsub_topic.events",
		"google_pubsub_topic.dead_letter",
	} {
		if m.resources[addr] == nil {
			t.Errorf("no %s", addr)
		}
	}
	if _, err := os.Stat(filepath.Join(tfDir, "README.md")); err != nil {
		t.Error(fmt.Errorf("the module has no README: %w", err))
	}
}

// The example subscriber is deployed only when deploy_example_subscriber
// asks for it: every resource it adds is counted by that variable, and
// nothing named after it escapes the count.
func TestTerraformSubscriberOnRequest(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	if v, diags := tfAttr(t, m.variables["deploy_example_subscriber"], "default").Value(nil); diags.HasErrors() || !v.RawEquals(cty.False) {
		t.Errorf("deploy_example_subscriber defaults to %#v, want false", v)
	}
	blocks := map[string]*hclsyntax.Block{}
	maps.Copy(blocks, m.resources)
	maps.Copy(blocks, m.data)
	for addr := range blocks {
		if strings.Contains(addr, "subscriber") && !slices.Contains(tfSubscriberOnly, addr) {
			t.Errorf("%s is not in tfSubscriberOnly: is it deployed without deploy_example_subscriber?", addr)
		}
	}
	for _, addr := range tfSubscriberOnly {
		b, ok := blocks[addr]
		if !ok {
			t.Errorf("no %s", addr)
			continue
		}
		a, ok := b.Body.Attributes["count"]
		if !ok {
			t.Errorf("%s has no count", addr)
			continue
		}
		c, ok := a.Expr.(*hclsyntax.ConditionalExpr)
		if !ok || tfReference(c.Condition) != "var.deploy_example_subscriber" {
			t.Errorf("%s: count is not var.deploy_example_subscriber ? 1 : 0", addr)
			continue
		}
		yes, _ := c.TrueResult.Value(nil)
		no, _ := c.FalseResult.Value(nil)
		if !yes.RawEquals(cty.NumberIntVal(1)) || !no.RawEquals(cty.NumberIntVal(0)) {
			t.Errorf("%s: count is var.deploy_example_subscriber ? %#v : %#v, want 1 : 0", addr, yes, no)
		}
	}
}

// The subscriber function runs what examples/subscriber registers, on every
// event of the topic, with retries, as its own identity, and only its
// trigger's identity may invoke it.
func TestTerraformSubscriberFunction(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	f := m.block(t, "google_cloudfunctions2_function.subscriber")
	build := tfBlock(t, f, "build_config")
	if got := m.str(t, tfAttr(t, build, "entry_point")); got != subscriber.FunctionName {
		t.Errorf("subscriber entry_point = %q, want %q, the name examples/subscriber/function.go registers", got, subscriber.FunctionName)
	}
	refs := []struct {
		what string
		expr hclsyntax.Expression
		want string
	}{
		{"build_config.runtime", tfAttr(t, build, "runtime"), "var.go_runtime"},
		{"the source object", tfAttr(t, tfBlock(t, tfBlock(t, build, "source"), "storage_source"), "object"), "google_storage_bucket_object.subscriber_source[0].name"},
		{"the runtime identity", tfAttr(t, tfBlock(t, f, "service_config"), "service_account_email"), "google_service_account.subscriber[0].email"},
	}
	trigger := tfBlock(t, f, "event_trigger")
	refs = append(refs, []struct {
		what string
		expr hclsyntax.Expression
		want string
	}{
		{"the trigger's topic", tfAttr(t, trigger, "pubsub_topic"), "google_pubsub_topic.events.id"},
		{"the trigger's identity", tfAttr(t, trigger, "service_account_email"), "google_service_account.subscriber_trigger[0].email"},
	}...)
	for _, r := range refs {
		if got := tfReference(r.expr); got != r.want {
			t.Errorf("%s = %q, want %s", r.what, got, r.want)
		}
	}
	for name, want := range map[string]string{
		"event_type": "google.cloud.pubsub.topic.v1.messagePublished",
		// Without it, an event whose invocation failed is dropped.
		"retry_policy": "RETRY_POLICY_RETRY",
	} {
		if got := m.str(t, tfAttr(t, trigger, name)); got != want {
			t.Errorf("event_trigger.%s = %q, want %q", name, got, want)
		}
	}
	if got := m.str(t, tfAttr(t, tfBlock(t, f, "service_config"), "ingress_settings")); got != "ALLOW_INTERNAL_ONLY" {
		t.Errorf("subscriber ingress_settings = %q, want ALLOW_INTERNAL_ONLY: only Eventarc calls it", got)
	}

	invoker := m.block(t, "google_cloud_run_v2_service_iam_member.subscriber_trigger_invokes")
	firestore := m.block(t, "google_project_iam_member.subscriber_uses_firestore")
	receiverFirestore := m.block(t, "google_project_iam_member.function_uses_firestore")
	for _, r := range []struct {
		what string
		expr hclsyntax.Expression
		want string
	}{
		{"the invoker grant's service", tfAttr(t, invoker, "name"), "google_cloudfunctions2_function.subscriber[0].name"},
		{"the invoker grant's member", tfAttr(t, invoker, "member"), "google_service_account.subscriber_trigger[0].member"},
		{"the Firestore grant's member", tfAttr(t, firestore, "member"), "google_service_account.subscriber[0].member"},
		{"the Firestore grant's condition", tfAttr(t, tfBlock(t, firestore, "condition"), "expression"), tfReference(tfAttr(t, tfBlock(t, receiverFirestore, "condition"), "expression"))},
	} {
		if got := tfReference(r.expr); got == "" || got != r.want {
			t.Errorf("%s = %q, want %s", r.what, got, r.want)
		}
	}
}

// subscriberVariablesRead returns every environment variable the example
// subscriber looks up when it uses Firestore (without a project it reads
// fewer). An unusable SUBSCRIBER_COLLECTION makes it stop before it
// creates a Firestore client; the emulator host keeps a client, should one
// be created, from looking for credentials.
func subscriberVariablesRead(t *testing.T) map[string]bool {
	t.Helper()
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
	read := map[string]bool{}
	subscriber.FromEnv(context.Background(), func(name string) string {
		read[name] = true
		switch name {
		case "GOOGLE_CLOUD_PROJECT":
			return "p"
		case "SUBSCRIBER_COLLECTION":
			return "not/a-collection"
		}
		return ""
	})
	return read
}

// Terraform sets every variable the example subscriber reads, and nothing
// else. (Not parallel: subscriberVariablesRead sets the environment.)
func TestTerraformSubscriberEnvironment(t *testing.T) {
	m := loadTerraform(t)
	set := m.objectKeys(t, tfAttr(t, tfBlock(t, m.block(t, "google_cloudfunctions2_function.subscriber"), "service_config"), "environment_variables"))
	read := subscriberVariablesRead(t)
	if len(read) == 0 {
		t.Fatal("the subscriber read no variable")
	}
	for _, name := range slices.Sorted(maps.Keys(read)) {
		if _, ok := set[name]; !ok {
			t.Errorf("the example subscriber reads %s, which Terraform does not set", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if !read[name] {
			t.Errorf("Terraform sets %s, which the example subscriber never reads (a typo?)", name)
		}
	}
	for name, want := range map[string]string{
		"GOOGLE_CLOUD_PROJECT": "var.project_id",
		// The database the IAM condition and the TTL policy are on.
		"FIRESTORE_DATABASE":    "var.firestore_database",
		"SUBSCRIBER_COLLECTION": "var.subscriber_collection",
		"LOG_LEVEL":             "var.log_level",
	} {
		if e, ok := set[name]; ok {
			if got := tfReference(e); got != want {
				t.Errorf("subscriber %s = %q, want %s", name, got, want)
			}
		}
	}
	def, diags := tfAttr(t, m.variables["subscriber_collection"], "default").Value(nil)
	if diags.HasErrors() || def.Type() != cty.String || def.AsString() != subscriber.DefaultCollection {
		t.Errorf("subscriber_collection defaults to %#v, the subscriber's default is %q", def, subscriber.DefaultCollection)
	}
}

// The subscriber's archive holds its package at the root and every package
// of this module it imports, directly or not (local.subscriber_packages),
// in its directory. A package importing the module's root would get the
// subscriber there: none may.
func TestTerraformSubscriberSource(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	locals := m.ctx.Variables["local"]
	dirVal := locals.GetAttr("subscriber_source_dir")
	if dirVal.Type() != cty.String {
		t.Fatalf("local.subscriber_source_dir is not a string: %#v", dirVal)
	}
	dir := dirVal.AsString()
	var listed []string
	for _, v := range locals.GetAttr("subscriber_packages").AsValueSlice() {
		listed = append(listed, v.AsString())
	}

	goMod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := regexp.MustCompile(`(?m)^module (\S+)`).FindSubmatch(goMod)
	if mod == nil {
		t.Fatal("go.mod has no module line")
	}
	module := string(mod[1])
	ctxt := build.Default
	ctxt.GOOS, ctxt.GOARCH = "linux", "amd64" // Cloud Run's
	needed := map[string]bool{}
	var visit func(dir string)
	visit = func(d string) {
		p, err := ctxt.ImportDir(d, 0)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if d == dir && p.Name != "subscriber" {
			t.Fatalf("local.subscriber_source_dir %s holds package %s, not the example subscriber", d, p.Name)
		}
		for _, imp := range p.Imports {
			switch {
			case imp == module:
				t.Errorf("%s imports the module's root package, which is the subscriber in its archive", d)
			case strings.HasPrefix(imp, module+"/"):
				rel := strings.TrimPrefix(imp, module+"/")
				if !needed[rel] {
					needed[rel] = true
					visit(filepath.FromSlash(rel))
				}
			}
		}
	}
	visit(dir)
	if want := slices.Sorted(maps.Keys(needed)); !slices.Equal(slices.Sorted(slices.Values(listed)), want) {
		t.Errorf("local.subscriber_packages = %q, but the subscriber needs %q", listed, want)
	}

	archive := m.data["data.archive_file.subscriber_source"]
	if archive == nil {
		t.Fatal("no data.archive_file.subscriber_source")
	}
	var forEach string
	for _, b := range archive.Body.Blocks {
		if b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == "source" {
			forEach = tfReference(tfAttr(t, b, "for_each"))
		}
	}
	if forEach != "local.subscriber_source_files" {
		t.Errorf("the subscriber's archive is made of %q, want a dynamic source over local.subscriber_source_files", forEach)
	}
	if got := tfReference(tfAttr(t, m.block(t, "google_storage_bucket_object.subscriber_source"), "source")); got != "data.archive_file.subscriber_source[0].output_path" {
		t.Errorf("the subscriber's source object uploads %q, want its archive", got)
	}
}
