package openapi

// These tests check the committed definitions, not that they are current:
// that needs openapi-gen at test time. hack/update-openapi.sh regenerates
// zz_generated.openapi.go; rerun it after bumping a k8s.io module.

import (
	"sort"
	"strings"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// refPrefix is what the test's ReferenceCallback prepends, so that refs can
// be told apart from other strings when walking the schemas.
const refPrefix = "#/definitions/"

func definitions(t *testing.T) map[string]common.OpenAPIDefinition {
	t.Helper()
	defs := GetOpenAPIDefinitions(func(name string) spec.Ref {
		return spec.MustCreateRef(refPrefix + name)
	})
	if len(defs) == 0 {
		t.Fatal("GetOpenAPIDefinitions returned no definitions")
	}
	return defs
}

// TestDefinitionsPresent checks that the types the server serves have
// non-empty schemas, under the name the apiserver looks them up by.
func TestDefinitionsPresent(t *testing.T) {
	defs := definitions(t)
	for _, tc := range []struct {
		name   string
		fields []string // a few properties the schema must have
	}{
		{corev1.Pod{}.OpenAPIModelName(), []string{"apiVersion", "kind", "metadata", "spec", "status"}},
		{corev1.Node{}.OpenAPIModelName(), []string{"apiVersion", "kind", "metadata", "spec", "status"}},
		{corev1.Namespace{}.OpenAPIModelName(), []string{"metadata", "spec", "status"}},
		{corev1.Event{}.OpenAPIModelName(), []string{"metadata", "involvedObject", "reason"}},
		{coordinationv1.Lease{}.OpenAPIModelName(), []string{"apiVersion", "kind", "metadata", "spec"}},
		{policyv1.Eviction{}.OpenAPIModelName(), []string{"metadata", "deleteOptions"}},
		{eventsv1.Event{}.OpenAPIModelName(), []string{"metadata", "eventTime", "reason"}},
		{metav1.ObjectMeta{}.OpenAPIModelName(), []string{"name", "namespace", "labels", "managedFields"}},
		{metav1.Status{}.OpenAPIModelName(), []string{"status", "message", "reason"}},
		{metav1.DeleteOptions{}.OpenAPIModelName(), []string{"propagationPolicy"}},
	} {
		def, ok := defs[tc.name]
		if !ok {
			t.Errorf("no definition for %q", tc.name)
			continue
		}
		if def.Schema.Description == "" || len(def.Schema.Properties) == 0 {
			t.Errorf("%q: empty schema (description %q, %d properties)",
				tc.name, def.Schema.Description, len(def.Schema.Properties))
		}
		for _, f := range tc.fields {
			if _, ok := def.Schema.Properties[f]; !ok {
				t.Errorf("%q: schema has no property %q", tc.name, f)
			}
		}
	}

	// The names are the OpenAPI model names, not Go import paths.
	if got, want := (corev1.Pod{}).OpenAPIModelName(), "io.k8s.api.core.v1.Pod"; got != want {
		t.Errorf("Pod model name = %q, want %q", got, want)
	}
}

// TestRefsResolve checks that every definition a schema refers to exists,
// both as declared in Dependencies and as actually used in the schema.
func TestRefsResolve(t *testing.T) {
	defs := definitions(t)
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)

	total := 0
	for _, name := range names {
		def := defs[name]
		declared := map[string]bool{}
		for _, dep := range def.Dependencies {
			declared[dep] = true
			if _, ok := defs[dep]; !ok {
				t.Errorf("%q depends on %q, which has no definition", name, dep)
			}
		}
		refs := schemaRefs(def.Schema)
		total += len(refs)
		for _, ref := range refs {
			if _, ok := defs[ref]; !ok {
				t.Errorf("%q refers to %q, which has no definition", name, ref)
			}
			if ref != name && !declared[ref] {
				t.Errorf("%q refers to %q without listing it in Dependencies", name, ref)
			}
		}
	}

	if total == 0 {
		t.Fatal("found no refs in any schema; the walk is broken")
	}

	// The walk from the served kinds reaches only defined names (checked
	// above) and covers their whole closure.
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, dep := range defs[n].Dependencies {
			walk(dep)
		}
	}
	for _, root := range []string{
		corev1.Pod{}.OpenAPIModelName(),
		corev1.Node{}.OpenAPIModelName(),
		coordinationv1.Lease{}.OpenAPIModelName(),
	} {
		walk(root)
	}
	for _, want := range []string{
		metav1.ObjectMeta{}.OpenAPIModelName(),
		metav1.Time{}.OpenAPIModelName(),
		corev1.Container{}.OpenAPIModelName(),
		"io.k8s.apimachinery.pkg.api.resource.Quantity",
		"io.k8s.apimachinery.pkg.util.intstr.IntOrString",
	} {
		if !seen[want] {
			t.Errorf("%q is not reachable from Pod, Node or Lease", want)
		}
	}
}

// schemaRefs returns the names of the definitions s refers to, anywhere in
// it, without the refPrefix.
func schemaRefs(s spec.Schema) []string {
	var refs []string
	var visit func(s *spec.Schema)
	visitArray := func(ss []spec.Schema) {
		for i := range ss {
			visit(&ss[i])
		}
	}
	visitMap := func(m map[string]spec.Schema) {
		for k := range m {
			v := m[k]
			visit(&v)
		}
	}
	visit = func(s *spec.Schema) {
		if s == nil {
			return
		}
		if r := s.Ref.String(); r != "" {
			refs = append(refs, strings.TrimPrefix(r, refPrefix))
		}
		if s.Items != nil {
			visit(s.Items.Schema)
			visitArray(s.Items.Schemas)
		}
		visitArray(s.AllOf)
		visitArray(s.AnyOf)
		visitArray(s.OneOf)
		visit(s.Not)
		visitMap(s.Properties)
		visitMap(s.PatternProperties)
		visitMap(s.Definitions)
		if s.AdditionalProperties != nil {
			visit(s.AdditionalProperties.Schema)
		}
		if s.AdditionalItems != nil {
			visit(s.AdditionalItems.Schema)
		}
	}
	visit(&s)
	return refs
}
