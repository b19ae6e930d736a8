package typescript

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/gen"
)

func load(t *testing.T, dir string) *gen.Model {
	t.Helper()
	m, err := gen.LoadAndLint(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return m
}

func emit(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, err := Emit(load(t, dir))
	if err != nil {
		t.Fatalf("emit %s: %v", dir, err)
	}
	return files
}

var catalogs = []string{"../../schema", "../../testdata/fixtures/full"}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, dir := range catalogs {
		a, b := emit(t, dir), emit(t, dir)
		if len(a) != len(b) {
			t.Fatalf("%s: %d files, then %d", dir, len(a), len(b))
		}
		for name, x := range a {
			if !bytes.Equal(x, b[name]) {
				t.Errorf("%s: %s differs between two runs", dir, name)
			}
		}
	}
}

func TestFilesAndHeaders(t *testing.T) {
	t.Parallel()
	want := []string{"package.json", "tsconfig.json", "README.md", "src/types.ts", "src/validate.ts",
		"src/client.ts", "src/errors.ts", "src/taskmaster.ts", "src/index.ts", "src/runtime/json.ts",
		"src/runtime/check.ts", "src/runtime/rpc.ts", "src/runtime/errors.ts", "src/runtime/http.ts", "src/runtime/catchup.ts"}
	for _, dir := range catalogs {
		files := emit(t, dir)
		for _, name := range want {
			if _, ok := files[name]; !ok {
				t.Errorf("%s: no %s", dir, name)
			}
		}
		for name, b := range files {
			if strings.HasSuffix(name, ".ts") && !bytes.HasPrefix(b, []byte("// "+Header+"\n")) {
				t.Errorf("%s: %s does not start with the header", dir, name)
			}
			if strings.HasSuffix(name, ".md") && !bytes.Contains(b, []byte(Header)) {
				t.Errorf("%s: %s has no header", dir, name)
			}
		}
	}
}

func TestCatalogCoverage(t *testing.T) {
	t.Parallel()
	for _, dir := range catalogs {
		m := load(t, dir)
		files, err := Emit(m)
		if err != nil {
			t.Fatal(err)
		}
		types, validate := string(files["src/types.ts"]), string(files["src/validate.ts"])
		errs, client, tm := string(files["src/errors.ts"]), string(files["src/client.ts"]), string(files["src/taskmaster.ts"])
		for _, ty := range m.Types {
			n := tsName(ty)
			if !regexp.MustCompile(`export (interface|type) ` + n + `\b`).MatchString(types) {
				t.Errorf("%s: type %s not declared", dir, n)
			}
			for _, fn := range []string{"read", "decode", "validate"} {
				if !strings.Contains(validate, "export function "+fn+n+"(") {
					t.Errorf("%s: no %s%s", dir, fn, n)
				}
			}
			if !strings.Contains(validate, "  "+propName(ty.Name)+": decode"+n+",") {
				t.Errorf("%s: decoders lacks %s", dir, ty.Name)
			}
		}
		for _, er := range m.Errors {
			if !strings.Contains(errs, "export class "+er.GoName+" extends MoltZapError {") {
				t.Errorf("%s: no error class %s", dir, er.GoName)
			}
		}
		for _, x := range m.Methods {
			if !strings.Contains(client, "  async "+methodName(x)+"(params: ") || !strings.Contains(client, jsString(x.Name)) {
				t.Errorf("%s: no client method for %s", dir, x.Name)
			}
		}
		for _, n := range m.Notifications {
			if !strings.Contains(client, "  "+jsString(n.Name)+": "+tsName(n.Params)+";") {
				t.Errorf("%s: notification %s not typed", dir, n.Name)
			}
		}
		for _, x := range m.Callbacks {
			if !strings.Contains(tm, "  "+methodName(x)+"(params: ") {
				t.Errorf("%s: TaskMasterHandlers lacks %s", dir, x.Name)
			}
		}
	}
}

func TestRealCatalogSpecifics(t *testing.T) {
	t.Parallel()
	files := emit(t, "../../schema")
	checks := map[string][]string{
		"src/types.ts": {
			`export type AgentId = string & { readonly __brand: "AgentId" };`,
			`export type ConversationId = string & { readonly __brand: "ConversationId" };`,
			`export type Part = TextPart | ImagePart | FilePart;`,
			`  type: "text";`,
		},
		"src/errors.ts": {
			"export class ConversationNotFoundError extends NotFoundError {",
			"export class NotFoundError extends MoltZapError {",
			"  declare readonly data: ForbiddenData | undefined;",
			"return new RpcServerError(",
		},
		"src/client.ts": {
			`client.on("messages/received"`,
			`"messages/received": MessagesReceivedNotification;`,
			"async messagesSend(params: MessagesSendParams, options?: CallOptions): Promise<MessagesSendResult> {",
			"minProtocol: options.minProtocol ?? ProtocolVersion",
			"const seqs = new SeqCatchUp<TaskId, Message>(",
			"this.messagesList({ taskId, conversationId, sinceSeq, limit: 200 })",
			"if (this.seqs !== undefined) this.seqs.live(params.taskId, params.message);",
			"  readonly catchUp?: boolean;",
		},
		"src/taskmaster.ts": {
			"export interface TaskMasterHandlers {",
			"export async function runTaskMaster(client: MoltZapClient, manifest: AppManifest,",
			`rpc.handle("dispatch/authorize"`,
		},
		"package.json": {`"type": "module"`, `"build": "tsc -p ."`, `"typescript": "^5.9.0"`, `"@types/node": "^20.19.0"`, `"ws": "^8.18.0"`, `"@types/ws": "^8.18.0"`, `"types": "dist/index.d.ts"`},
	}
	for name, want := range checks {
		got := string(files[name])
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
	}
	for name, b := range files {
		if bytes.Contains(b, []byte("ajv")) || bytes.Contains(b, []byte("zod")) {
			t.Errorf("%s mentions a validation library", name)
		}
	}
}

func TestNpmVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"2026.525.0": "2026.525.0", "1.0": "0.0.0-1-0", "2026.05.1": "0.0.0-2026-05-1"} {
		if got := npmVersion(in); got != want {
			t.Errorf("npmVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWrite renders a catalog into $MOLTZAP_TS_OUT when it is set (for trying the output with
// tsc: MOLTZAP_TS_OUT=/tmp/ts-out go test -run TestWrite ./gen/typescript); MOLTZAP_TS_SCHEMA
// picks the schema directory (default ../../schema).
func TestWrite(t *testing.T) {
	out := os.Getenv("MOLTZAP_TS_OUT")
	if out == "" {
		return
	}
	dir := os.Getenv("MOLTZAP_TS_SCHEMA")
	if dir == "" {
		dir = "../../schema"
	}
	for name, b := range emit(t, dir) {
		path := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCatchUpNeedsItsMethods: a catalog without messages/list and messages/received gets a
// client without the seq catch-up (and one that still compiles: nothing refers to it).
func TestCatchUpNeedsItsMethods(t *testing.T) {
	t.Parallel()
	client := string(emit(t, "../../testdata/fixtures/full")["src/client.ts"])
	for _, absent := range []string{"SeqCatchUp", "catchUp", "emitMessage"} {
		if strings.Contains(client, absent) {
			t.Errorf("the fixture's client.ts mentions %s", absent)
		}
	}
	if !strings.Contains(client, "get url(): string {") {
		t.Error("the fixture's client.ts lacks the url getter")
	}
}
