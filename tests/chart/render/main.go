// render — `helm template` for charts/replicad without helm: the same
// engines helm uses (Go text/template with the sprig functions) plus the
// few functions helm adds (include, required, tpl, toYaml, fromYaml, toJson)
// and its built-in objects (.Values .Release .Chart .Template .Capabilities).
//
//	render [-notes] [-namespace NS] [-name RELEASE] [-kube-version V]
//	       [-lookup OBJECTS.yaml] CHART_DIR [VALUES.yaml...]
//
// Prints the manifests as helm does ("---\n# Source: ..." per template), or
// NOTES.txt with -notes.  Values files are merged over values.yaml in order,
// a null deleting a key, as helm does.  It is a check tool, not a helm:
// no schema validation (the test does that), no dependencies, no hooks;
// `lookup` finds only the objects of -lookup (a stand-in for the cluster).
// Built by tests/chart/chart_test.sh in GOPATH mode from Debian's
// golang-*-dev packages, so it needs no network.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "render: "+format+"\n", a...)
	os.Exit(1)
}

func readYAML(path string) map[string]interface{} {
	b, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		die("%s: %v", path, err)
	}
	return m
}

// merge src into dst like helm's coalescing of user values over defaults.
func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			merge(dm, sm)
		} else {
			dst[k] = v
		}
	}
}

// kubeVersionOf: .Capabilities.KubeVersion for "v1.29.4" (Version, Major, Minor).
func kubeVersionOf(v string) map[string]interface{} {
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		die("-kube-version %q: want vMAJOR.MINOR[.PATCH]", v)
	}
	return map[string]interface{}{"Version": v, "Major": parts[0], "Minor": parts[1]}
}

// readObjects: the Kubernetes objects of a multi-document YAML file.
func readObjects(path string) []map[string]interface{} {
	b, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	var out []map[string]interface{}
	for _, doc := range strings.Split(string(b), "\n---") {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			die("%s: %v", path, err)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
	return out
}

func main() {
	notes := flag.Bool("notes", false, "render NOTES.txt only")
	ns := flag.String("namespace", "default", "release namespace")
	name := flag.String("name", "replicad", "release name")
	kubeVersion := flag.String("kube-version", "v1.31.0", "the cluster's version (.Capabilities.KubeVersion), as helm's --kube-version")
	lookupFile := flag.String("lookup", "", "YAML documents `lookup` finds (the cluster's objects), else it finds nothing")
	flag.Parse()
	if flag.NArg() < 1 {
		die("usage: render [-notes] [-namespace NS] [-name RELEASE] [-kube-version V] [-lookup FILE] CHART_DIR [VALUES...]")
	}
	dir := flag.Arg(0)

	chart := readYAML(filepath.Join(dir, "Chart.yaml"))
	values := readYAML(filepath.Join(dir, "values.yaml"))
	for _, f := range flag.Args()[1:] {
		merge(values, readYAML(f))
	}
	chartName, _ := chart["name"].(string)
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": *name, "Namespace": *ns, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": map[string]interface{}{
			"Name": chartName, "Version": chart["version"],
			"AppVersion": chart["appVersion"],
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": kubeVersionOf(*kubeVersion),
		},
		"Files": map[string]interface{}{},
	}

	t := template.New("chart")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["include"] = func(n string, data interface{}) (string, error) {
		var b bytes.Buffer
		err := t.ExecuteTemplate(&b, n, data)
		return b.String(), err
	}
	funcs["tpl"] = func(s string, data interface{}) (string, error) {
		c, err := t.Clone()
		if err != nil {
			return "", err
		}
		x, err := c.New("tpl").Parse(s)
		if err != nil {
			return "", err
		}
		var b bytes.Buffer
		err = x.Execute(&b, data)
		return b.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["toYaml"] = func(v interface{}) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(b), "\n")
	}
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	// helm's lookup(apiVersion, kind, namespace, name): the object, or an
	// empty map (as helm template and helm lint give without a cluster).
	var objects []map[string]interface{}
	if *lookupFile != "" {
		objects = readObjects(*lookupFile)
	}
	funcs["lookup"] = func(apiVersion, kind, namespace, name string) map[string]interface{} {
		for _, o := range objects {
			md, _ := o["metadata"].(map[string]interface{})
			if o["apiVersion"] == apiVersion && o["kind"] == kind && md != nil &&
				md["name"] == name && (namespace == "" || md["namespace"] == namespace) {
				return o
			}
		}
		return map[string]interface{}{}
	}
	t.Funcs(funcs).Option("missingkey=zero")

	tdir := filepath.Join(dir, "templates")
	entries, err := os.ReadDir(tdir)
	if err != nil {
		die("%v", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(tdir, e.Name()))
		if err != nil {
			die("%v", err)
		}
		n := chartName + "/templates/" + e.Name()
		if _, err := t.New(n).Parse(string(b)); err != nil {
			die("%v", err)
		}
		names = append(names, n)
	}
	sort.Strings(names)

	for _, n := range names {
		base := filepath.Base(n)
		if strings.HasPrefix(base, "_") {
			continue
		}
		if (base == "NOTES.txt") != *notes {
			continue
		}
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{
			"Name": n, "BasePath": chartName + "/templates",
		}
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, n, data); err != nil {
			die("%v", err)
		}
		out := strings.ReplaceAll(b.String(), "<no value>", "")
		if strings.TrimSpace(out) == "" {
			continue
		}
		if *notes {
			fmt.Print(out)
		} else {
			fmt.Printf("---\n# Source: %s\n%s\n", n, strings.Trim(out, "\n"))
		}
	}
}
