package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
)

// The OpenAPI document at the repository root describes every route; these tests keep it so.

const specURL = "file:///openapi.json"

type openAPI struct {
	doc     map[string]any
	schemas *jsonschema.Compiler
	mu      sync.Mutex
	cache   map[string]*jsonschema.Schema
}

var (
	specOnce sync.Once
	spec     *openAPI
	specErr  error
)

func loadSpec(t *testing.T) *openAPI {
	t.Helper()
	specOnce.Do(func() {
		raw, err := os.ReadFile(filepath.Join("..", "..", "openapi.yaml"))
		if err != nil {
			specErr = err
			return
		}
		var y map[string]any
		if err := yaml.Unmarshal(raw, &y); err != nil {
			specErr = fmt.Errorf("openapi.yaml: %w", err)
			return
		}
		// Through JSON, so numbers and maps are what the schema compiler expects.
		js, err := json.Marshal(y)
		if err != nil {
			specErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			specErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(specURL, doc); err != nil {
			specErr = err
			return
		}
		spec = &openAPI{doc: y, schemas: c, cache: map[string]*jsonschema.Schema{}}
	})
	require.NoError(t, specErr)
	return spec
}

func (s *openAPI) paths() map[string]any { return s.doc["paths"].(map[string]any) }

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// operations lists "METHOD /path/{param}" for every operation in the document.
func (s *openAPI) operations() []string {
	var out []string
	for path, item := range s.paths() {
		for m := range item.(map[string]any) {
			if slices.Contains(httpMethods, m) {
				out = append(out, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

func newSpecServer(t *testing.T) *api.Server {
	t.Helper()
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	srv, err := api.New(api.Deps{Config: config.Default(), Store: pgtest.NewStore(t), Temporal: tc, Chain: newFakeChain(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	return srv
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	s := loadSpec(t)
	assert.Regexp(t, `^3\.1\.\d+$`, s.doc["openapi"])
	var routes []string
	for _, r := range newSpecServer(t).Engine().Routes() {
		if strings.HasPrefix(r.Path, "/ui/") {
			continue // the browser UI's files (web.go), not API routes
		}
		routes = append(routes, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(routes)
	ops := s.operations()
	for _, r := range routes {
		assert.Contains(t, ops, r, "route %s is missing from openapi.yaml", r)
	}
	for _, op := range ops {
		assert.Contains(t, routes, op, "openapi.yaml describes %s, which the server does not serve", op)
	}
}

func TestOpenAPIOperationsAreComplete(t *testing.T) {
	s := loadSpec(t)
	ids := map[string]bool{}
	for path, item := range s.paths() {
		for m, raw := range item.(map[string]any) {
			op := raw.(map[string]any)
			name := strings.ToUpper(m) + " " + path
			id, _ := op["operationId"].(string)
			assert.NotEmpty(t, id, "%s has no operationId", name)
			assert.False(t, ids[id], "operationId %s is used twice", id)
			ids[id] = true
			responses, _ := op["responses"].(map[string]any)
			assert.NotEmpty(t, responses, "%s has no responses", name)
			if m == "post" && path != "/proposals/{id}/execute" && path != "/proposals/{id}/cancel" {
				assert.NotNil(t, op["requestBody"], "%s has no requestBody", name)
			}
			// Path parameters are declared.
			for _, p := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				assert.True(t, declaresParam(s, op, p[1]), "%s does not declare path parameter %s", name, p[1])
			}
			for code := range responses {
				if n, _ := strconv.Atoi(code); n >= 400 {
					assert.True(t, isErrorResponse(s, responses[code]), "%s %s must answer the Error schema", name, code)
				}
			}
		}
	}
	// Token routes say so.
	sec := func(path, method string) any {
		return s.paths()[path].(map[string]any)[method].(map[string]any)["security"]
	}
	assert.Equal(t, []any{map[string]any{"bearerAuth": []any{}}}, sec("/migration/start", "post"))
	assert.Contains(t, sec("/proposals/{id}/cancel", "post"), map[string]any{"bearerAuth": []any{}})
	assert.Contains(t, sec("/proposals/{id}/execute", "post"), map[string]any{"bearerAuth": []any{}})
	assert.Nil(t, sec("/proposals/{id}/approve", "post"), "approvals are authorised by the member's signature alone")
}

func declaresParam(s *openAPI, op map[string]any, name string) bool {
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		pm := p.(map[string]any)
		if ref, ok := pm["$ref"].(string); ok {
			pm = s.resolve(ref)
		}
		if pm["name"] == name && pm["in"] == "path" && pm["required"] == true {
			return true
		}
	}
	return false
}

func isErrorResponse(s *openAPI, resp any) bool {
	r := resp.(map[string]any)
	if ref, ok := r["$ref"].(string); ok {
		r = s.resolve(ref)
	}
	content, _ := r["content"].(map[string]any)
	js, _ := content["application/json"].(map[string]any)
	schema, _ := js["schema"].(map[string]any)
	return schema["$ref"] == "#/components/schemas/Error" || schema["$ref"] == "#/components/schemas/Ready"
}

// resolve follows a local $ref.
func (s *openAPI) resolve(ref string) map[string]any {
	var node any = s.doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[part]
	}
	m, _ := node.(map[string]any)
	return m
}

func TestOpenAPIRefsResolve(t *testing.T) {
	s := loadSpec(t)
	var walk func(path string, n any)
	walk = func(path string, n any) {
		switch v := n.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				assert.NotNil(t, s.resolve(ref), "%s: $ref %s does not resolve", path, ref)
			}
			for k, c := range v {
				walk(path+"/"+k, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s/%d", path, i), c)
			}
		}
	}
	walk("#", s.doc)
}

// TestOpenAPIErrorCodesAreTheServers compares the Error schema's code enum with the Code
// constants of errors.go.
func TestOpenAPIErrorCodesAreTheServers(t *testing.T) {
	s := loadSpec(t)
	var inSpec []string
	for _, c := range s.resolve("#/components/schemas/Error")["properties"].(map[string]any)["code"].(map[string]any)["enum"].([]any) {
		inSpec = append(inSpec, c.(string))
	}
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	require.NoError(t, err)
	var inCode []string
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && strings.HasPrefix(vs.Names[0].Name, "Code") && len(vs.Values) == 1 {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				v, _ := strconv.Unquote(lit.Value)
				inCode = append(inCode, v)
			}
		}
		return true
	})
	sort.Strings(inSpec)
	sort.Strings(inCode)
	assert.Equal(t, inCode, inSpec)
}

// checkResponse validates an answer against the document: the route and status must be
// described, and a JSON body must match the schema given for that status. env.do calls it for
// every request the route tests make.
func checkResponse(t *testing.T, method, path string, r response) {
	t.Helper()
	s := loadSpec(t)
	tmpl := s.match(path)
	if tmpl == "" {
		var e struct{ Code string }
		_ = json.Unmarshal(r.Body, &e)
		require.Equal(t, api.CodeRouteNotFound, e.Code, "%s %s is not in openapi.yaml", method, path)
		return
	}
	op, ok := s.paths()[tmpl].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if !ok {
		require.Equal(t, http.StatusMethodNotAllowed, r.Code, "%s %s is not in openapi.yaml", method, tmpl)
		return
	}
	status := strconv.Itoa(r.Code)
	resp, ok := op["responses"].(map[string]any)[status].(map[string]any)
	require.True(t, ok, "openapi.yaml does not list status %s for %s %s (body: %s)", status, method, tmpl, r.Body)
	ptr := fmt.Sprintf("#/paths/%s/%s/responses/%s", escapePointer(tmpl), strings.ToLower(method), status)
	if ref, ok := resp["$ref"].(string); ok {
		resp, ptr = s.resolve(ref), ref
	}
	content, _ := resp["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		return
	}
	// A route with several representations (the feeds' Atom and JSON): the body is checked
	// against the schema of the type it was served as.
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		mt, _, _ := strings.Cut(ct, ";")
		require.Contains(t, content, mt, "%s %s answered %s as %s, which openapi.yaml does not list", method, tmpl, status, mt)
		return
	}
	sch := s.compile(t, ptr+"/content/application~1json/schema")
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
	require.NoError(t, err, "%s %s answered %s with a body that is not JSON: %s", method, tmpl, status, r.Body)
	if err := sch.Validate(doc); err != nil {
		t.Errorf("%s %s %s: the body does not match openapi.yaml: %v\nbody: %s", method, tmpl, status, err, r.Body)
	}
}

func (s *openAPI) compile(t *testing.T, ptr string) *jsonschema.Schema {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.cache[ptr]; ok {
		return sch
	}
	sch, err := s.schemas.Compile(specURL + ptr)
	require.NoError(t, err, "compile %s", ptr)
	s.cache[ptr] = sch
	return sch
}

func escapePointer(p string) string {
	return strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
}

// match finds the path template a request path matches, preferring literal segments
// (/migration/start over /migration/{id}).
func (s *openAPI) match(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(path, "/")
	best, bestLiterals := "", -1
	for tmpl := range s.paths() {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i := range ts {
			switch {
			case strings.HasPrefix(ts[i], "{"):
			case ts[i] == segs[i]:
				literals++
			default:
				ok = false
			}
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = tmpl, literals
		}
	}
	return best
}
