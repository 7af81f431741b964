#!/usr/bin/env python3
"""chartcheck.py — the checks behind tests/chart/chart_test.sh.

    chartcheck.py CHECK [ARGS...]     exit 0 if CHECK holds, else print why, exit 1

There is no helm here, so the templates are read two ways:

* "Skeleton" (always): each template with its control lines ({{ if }},
  {{ end }}, {{ with }}, {{ range }}, {{ include ... | nindent }}) removed and
  every inline {{ expression }} replaced by a token __Tn__ that remembers the
  expression.  All branches are kept, so what remains is YAML, and the
  security properties, which the templates write out literally, can be
  checked on it as data: "runAsUser of the core is .Values.core.uid",
  "the token volume is mounted in the container named core and no other".
* "Rendered" (when tests/chart/render, a Go text/template + sprig renderer,
  could be built): the same checks on real manifests for given values.

Each check takes the documents and, for rendered ones, the values they were
rendered with; `is_value` compares a field with a values path either way.
"""

import json
import os
import re
import sys

import yaml

# libyaml's loader when present: the checks parse the chart many times.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(ROOT, "charts", "replicad")
TEMPLATES = os.path.join(CHART, "templates")

SA_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TLS_DIR = "/etc/replicad/tls"
SOCK_DIR = "/run/replicad"
SOCKET = SOCK_DIR + "/core.sock"

# Pod Security Standards, restricted profile: the volume types it allows.
PSS_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
               "persistentVolumeClaim", "projected", "secret"}


class Fail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)


# ---------------------------------------------------------------- loading

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def load_yaml(path):
    return yaml.load(read(path), Loader=LOADER)


def default_values():
    return load_yaml(os.path.join(CHART, "values.yaml"))


def merge(dst, src):
    """helm's coalescing of user values over defaults (null deletes)."""
    for k, v in (src or {}).items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = v
    return dst


def values_with(files):
    v = default_values()
    for f in files:
        merge(v, load_yaml(f))
    return v


def draft7():
    import jsonschema  # only the schema checks need it (slow to import)
    return jsonschema.Draft7Validator


def schema():
    with open(os.path.join(CHART, "values.schema.json"), encoding="utf-8") as f:
        return json.load(f)


COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.S)
ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
CONTROL_LINE = re.compile(r"^\s*(\{\{-?.*?-?\}\}\s*)+$")


class Skeleton:
    """The templates as YAML documents with tokens for expressions."""

    def __init__(self):
        self.exprs = {}
        self.raw = {}
        self.docs = []  # (template file, document)
        for name in sorted(os.listdir(TEMPLATES)):
            text = read(os.path.join(TEMPLATES, name))
            self.raw[name] = text
            if not name.endswith(".yaml"):
                continue
            for doc in yaml.load_all(Loader=LOADER, stream=self.strip(text)):
                if doc is not None:
                    self.docs.append((name, doc))

    def strip(self, text):
        out = []
        for line in COMMENT.sub("", text).split("\n"):
            if CONTROL_LINE.match(line):
                continue
            out.append(ACTION.sub(self.token, line))
        return "\n".join(out)

    def token(self, m):
        n = "__T%d__" % len(self.exprs)
        self.exprs[n] = m.group(1)
        return n

    def expr(self, v):
        """The template expression behind a scalar that is one token."""
        if isinstance(v, str) and v in self.exprs:
            return self.exprs[v]
        return None


class Docs:
    """A set of manifests, skeleton or rendered, and how to read values."""

    def __init__(self, docs, values=None, skeleton=None, release_ns="default"):
        self.docs = docs
        self.values = values
        self.sk = skeleton
        self.release_ns = release_ns

    def n(self, v):
        """v with each token written back as {{expression}}, for comparing
        two fields of the skeleton (rendered: v itself)."""
        if self.rendered:
            return v
        if isinstance(v, dict):
            return {k: self.n(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.n(x) for x in v]
        if isinstance(v, str):
            return re.sub(r"__T\d+__", lambda m: "{{%s}}" % self.sk.exprs[m.group(0)], v)
        return v

    @property
    def rendered(self):
        return self.sk is None

    def kind(self, kind):
        return [d for _, d in self.docs if d.get("kind") == kind]

    def one(self, kind):
        found = self.kind(kind)
        need(len(found) == 1, "expected one %s, found %d" % (kind, len(found)))
        return found[0]

    def value(self, path):
        v = self.values
        for p in path.split("."):
            v = v[p]
        return v

    def is_value(self, v, path):
        """Field v is .Values.<path> (skeleton) or its value (rendered)."""
        if self.rendered:
            return v == self.value(path)
        e = self.sk.expr(v)
        return e is not None and re.fullmatch(
            r"\.Values\.%s(\s*\|\s*(int|int64|quote))*" % re.escape(path), e) is not None

    def is_include(self, v, helper):
        """Skeleton: v is {{ include "helper" . }}; rendered: always true
        (the value is then checked by the caller)."""
        if self.rendered:
            return True
        e = self.sk.expr(v)
        return e is not None and e.startswith('include "%s"' % helper)


def rendered_docs(manifest, value_files):
    docs = []
    for d in yaml.load_all(Loader=LOADER, stream=read(manifest)):
        if d is not None:
            docs.append(("rendered", d))
    return Docs(docs, values=values_with(value_files))


# ---------------------------------------------------------------- helpers

def pod(ds):
    return ds.one("Deployment")["spec"]["template"]["spec"]


def containers(ds):
    cs = {c["name"]: c for c in pod(ds)["containers"]}
    need(set(cs) == {"gateway", "core"},
         "containers are %s, want gateway and core" % sorted(cs))
    return cs


def mounts(c):
    return {m["name"]: m for m in c.get("volumeMounts") or []}


def volumes(ds):
    return {v["name"]: v for v in pod(ds).get("volumes") or []}


def args(c):
    """--flag=value arguments as a list of (flag, value)."""
    out = []
    for a in c.get("args") or []:
        need(isinstance(a, str) and a.startswith("--") and "=" in a,
             "argument %r is not --flag=value" % a)
        k, v = a[2:].split("=", 1)
        out.append((k, v))
    return out


def arg(c, flag):
    vs = [v for k, v in args(c) if k == flag]
    need(len(vs) == 1, "%s: --%s given %d times" % (c["name"], flag, len(vs)))
    return vs[0]


def int_of(ds, v, path):
    """An integer field: the value itself, or in the skeleton .Values.path."""
    if ds.rendered:
        need(isinstance(v, int), "%r is not an integer" % (v,))
        return v
    need(ds.is_value(v, path), "%r is not .Values.%s" % (ds.sk.expr(v) or v, path))
    return ds.value(path) if ds.values else None


def c_defines(path, pattern):
    return set(re.findall(pattern, read(os.path.join(ROOT, path))))


def gateway_env_names():
    """REPLICAD_<FLAG> for each gateway flag with an argument (main.c)."""
    flags = c_defines("gateway/main.c", r'\{"([a-z-]+)",\s*required_argument')
    need(flags, "no flags found in gateway/main.c")
    return {"REPLICAD_" + f.upper().replace("-", "_") for f in flags}


def core_env_names():
    # env("REPLICAD_X") and its typed forms (env_bool(...), issue #15).
    names = c_defines("core/core_opts.c", r'\benv(?:_[a-z]+)?\("(REPLICAD_[A-Z_]+)"\)')
    need(names, "no REPLICAD_* environment found in core/core_opts.c")
    return names


# ---------------------------------------------------------------- checks
# Each takes a Docs; raises Fail with the reason.

def check_parse(ds):
    need(ds.docs, "no documents")
    for src, d in ds.docs:
        need(isinstance(d, dict) and d.get("apiVersion") and d.get("kind"),
             "%s: a document without apiVersion/kind" % src)
        need(d.get("metadata", {}).get("name"), "%s: no metadata.name" % src)


def check_deployment(ds):
    dep = ds.one("Deployment")
    spec = dep["spec"]
    strat = spec["strategy"]
    need(strat["type"] == "RollingUpdate", "strategy is not RollingUpdate")
    need(strat["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1},
         "rollingUpdate is %r, want maxUnavailable 0, maxSurge 1" % strat["rollingUpdate"])
    need(ds.is_value(spec["replicas"], "replicaCount"), "replicas not from replicaCount")
    sel = spec["selector"]["matchLabels"]
    labels = spec["template"]["metadata"]["labels"]
    if ds.rendered:
        need(sel and all(labels.get(k) == v for k, v in sel.items()),
             "pod labels %r do not match the selector %r" % (labels, sel))
    containers(ds)


def check_token_core_only(ds):
    p = pod(ds)
    need(p.get("automountServiceAccountToken") is False,
         "pod automountServiceAccountToken is not false")
    sa = ds.kind("ServiceAccount")
    for s in sa:
        need(s.get("automountServiceAccountToken") is False,
             "ServiceAccount automountServiceAccountToken is not false")
    if not ds.rendered:
        need(sa, "no ServiceAccount template")
    vols = volumes(ds)
    token_vols = [n for n, v in vols.items()
                  if any("serviceAccountToken" in s
                         for s in (v.get("projected") or {}).get("sources") or [])]
    need(token_vols == ["kube-api-access"],
         "volumes with a serviceAccountToken: %r, want only kube-api-access" % token_vols)
    need(not any("secret" in v and "token" in str(v["secret"]).lower()
                 for v in vols.values()), "a secret volume that looks like a token")
    srcs = vols["kube-api-access"]["projected"]["sources"]
    tok = [s["serviceAccountToken"] for s in srcs if "serviceAccountToken" in s][0]
    need(tok.get("path") == "token", "token path is not 'token'")
    exp = int_of(ds, tok.get("expirationSeconds"), "serviceAccount.tokenExpirationSeconds")
    need(exp is None or 600 <= exp <= 86400, "expirationSeconds %r out of 600..86400" % exp)
    need({"configMap": {"name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}]}} in srcs,
         "no ca.crt from ConfigMap kube-root-ca.crt")
    need({"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
        "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}} in srcs,
         "no namespace from the downward API")
    cs = containers(ds)
    m = mounts(cs["core"]).get("kube-api-access")
    need(m and m["mountPath"] == SA_PATH and m.get("readOnly") is True,
         "core does not mount kube-api-access read-only at " + SA_PATH)
    g = mounts(cs["gateway"])
    need("kube-api-access" not in g, "the gateway mounts the token volume")
    need(not any(x["mountPath"].startswith("/var/run/secrets") for x in g.values()),
         "the gateway mounts something under /var/run/secrets")


def check_tls_gateway_only(ds):
    cs = containers(ds)
    m = mounts(cs["gateway"]).get("tls")
    need(m and m["mountPath"] == TLS_DIR and m.get("readOnly") is True,
         "gateway does not mount tls read-only at " + TLS_DIR)
    need("tls" not in mounts(cs["core"]), "the core mounts the TLS volume")
    for flag, f in (("tls-cert", "tls.crt"), ("tls-key", "tls.key"), ("client-ca", "ca.crt")):
        need(arg(cs["gateway"], flag) == TLS_DIR + "/" + f,
             "--%s is not %s/%s" % (flag, TLS_DIR, f))
    v = volumes(ds)["tls"]
    need("projected" in v, "tls volume is not projected (secret rotation)")
    need(not any(x.get("subPath") for c in cs.values() for x in c.get("volumeMounts", [])),
         "a subPath mount: it would not follow secret rotation")
    paths = [i["path"] for s in v["projected"]["sources"]
             for src in s.values() for i in src.get("items", [])]
    crl = [a for k, a in args(cs["gateway"]) if k == "client-crl"]
    need(crl in ([], [TLS_DIR + "/ca.crl"]), "--client-crl is %r, want %s/ca.crl" % (crl, TLS_DIR))
    if not ds.rendered:
        need(crl and "ca.crl" in paths, "no --client-crl with ca.crl in the TLS volume (tls.clientCRL)")
        return
    t = ds.value("tls")
    want_crl = bool(t["clientCRL"] or t["clientCRLFrom"]["secret"] or t["clientCRLFrom"]["configMap"])
    need(bool(crl) == want_crl, "--client-crl %r, yet tls.clientCRL/clientCRLFrom %s"
         % (crl, "set" if want_crl else "unset"))
    want = ["ca.crt", "tls.crt", "tls.key"] + (["ca.crl"] if want_crl else [])
    need(sorted(paths) == sorted(want), "tls volume files are %r, want %r" % (paths, want))
    if not want_crl:
        return
    src = [s for s in v["projected"]["sources"]
           for x in s.values() if any(i["path"] == "ca.crl" for i in x.get("items", []))][0]
    kind, ref = next(iter(src.items()))
    if t["clientCRL"]:
        cm = [c for c in ds.kind("ConfigMap") if c["metadata"]["name"] == ref["name"]]
        need(kind == "configMap" and len(cm) == 1 and cm[0]["data"].get("ca.crl") == t["clientCRL"],
             "the inline CRL is not the mounted ConfigMap's ca.crl")
    else:
        frm = t["clientCRLFrom"]
        want_kind = "secret" if frm["secret"] else "configMap"
        need(kind == want_kind and ref["name"] == frm[want_kind] and ref["items"][0]["key"] == frm["key"],
             "ca.crl comes from %s %s, want tls.clientCRLFrom" % (kind, ref))


SC_WANT = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def check_restricted(ds):
    p = pod(ds)
    for k in ("hostNetwork", "hostPID", "hostIPC", "hostUsers", "shareProcessNamespace"):
        need(not p.get(k), "pod sets " + k)
    psc = p.get("securityContext") or {}
    need(psc.get("runAsNonRoot") is True, "pod runAsNonRoot is not true")
    need(psc.get("seccompProfile") == {"type": "RuntimeDefault"}, "pod seccomp not RuntimeDefault")
    need("sysctls" not in psc, "pod sets sysctls")
    fs = int_of(ds, psc.get("fsGroup"), "podSecurity.fsGroup")
    need(fs is None or fs > 0, "fsGroup is 0")
    for name, v in volumes(ds).items():
        kinds = set(v) - {"name"}
        need(kinds <= PSS_VOLUMES, "volume %s is of type %s" % (name, kinds))
    uids = {}
    for name, c in containers(ds).items():
        sc = c.get("securityContext") or {}
        for k, want in SC_WANT.items():
            need(sc.get(k) == want, "%s: securityContext.%s is %r, want %r"
                 % (name, k, sc.get(k), want))
        need(set(sc) <= set(SC_WANT) | {"runAsUser", "runAsGroup"},
             "%s: unexpected securityContext keys %s" % (name, set(sc) - set(SC_WANT)))
        uids[name] = int_of(ds, sc.get("runAsUser"), name + ".uid")
        need(uids[name] is None or uids[name] > 0, name + " runs as uid 0")
        int_of(ds, sc.get("runAsGroup"), "podSecurity.fsGroup")
        for port in c.get("ports") or []:
            need("hostPort" not in port, "%s: hostPort" % name)
    if ds.rendered:
        need(uids["core"] != uids["gateway"], "core and gateway share a uid")


def check_socket(ds):
    cs = containers(ds)
    v = volumes(ds).get("socket")
    need(v and v.get("emptyDir", {}).get("medium") == "Memory",
         "socket volume is not a memory emptyDir")
    for name, c in cs.items():
        m = mounts(c).get("socket")
        need(m and m["mountPath"] == SOCK_DIR, "%s does not mount socket at %s" % (name, SOCK_DIR))
    # The gateway may connect, never rename or replace the socket (#12).
    need(mounts(cs["gateway"])["socket"].get("readOnly") is True,
         "the gateway mounts the socket directory read-write")
    need(not mounts(cs["core"])["socket"].get("readOnly"),
         "the core cannot create its socket on a read-only mount")
    need(arg(cs["core"], "socket") == SOCKET, "core --socket is not " + SOCKET)
    need(arg(cs["gateway"], "core-socket") == SOCKET, "gateway --core-socket is not " + SOCKET)
    allow = [v for k, v in args(cs["core"]) if k == "allow-uid"]
    need(len(allow) == 2, "core --allow-uid given %d times, want 2" % len(allow))
    if ds.rendered:
        want = {str(ds.value("gateway.uid")), str(ds.value("core.uid"))}
        need(set(allow) == want, "core --allow-uid %r, want %r" % (allow, want))
    else:
        exprs = sorted(ds.sk.expr(a) or a for a in allow)
        need(exprs == [".Values.core.uid", ".Values.gateway.uid"],
             "core --allow-uid from %r, want gateway.uid and core.uid" % exprs)
    # Both run with the pod's group as primary group: the socket (0660) and
    # the files (0440) are theirs through it.
    for name, c in cs.items():
        need(ds.is_value(c["securityContext"].get("runAsGroup"), "podSecurity.fsGroup"),
             name + " runAsGroup is not podSecurity.fsGroup")


def config_map(ds):
    """The server configuration ConfigMap (<fullname>-config; the inline
    CRL's <fullname>-crl is another)."""
    cms = [c for c in ds.kind("ConfigMap") if str(ds.n(c["metadata"]["name"])).endswith("-config")]
    need(len(cms) == 1, "expected one <fullname>-config ConfigMap, found %d" % len(cms))
    return cms[0]


def check_config_env(ds):
    cs = containers(ds)
    cm = config_map(ds)
    keys = set(cm["data"])
    unknown = keys - gateway_env_names()
    need(not unknown, "ConfigMap keys that are no gateway flag: %s" % sorted(unknown))
    for k in ("REPLICAD_LOG_LEVEL", "REPLICAD_LOG_FORMAT", "REPLICAD_ALLOW_READ",
              "REPLICAD_ALLOW_WRITE", "REPLICAD_MAX_CONNECTIONS", "REPLICAD_MAX_REPLICAS"):
        need(k in keys, "ConfigMap lacks " + k)
    # Flags the pod sets itself must not also come from the ConfigMap.
    fixed = {"REPLICAD_" + k.upper().replace("-", "_") for k, _ in args(cs["gateway"])}
    need(not keys & fixed, "ConfigMap repeats fixed flags %s" % sorted(keys & fixed))
    ef = cs["gateway"].get("envFrom") or []
    need(len(ef) == 1 and ds.n(ef[0].get("configMapRef", {}).get("name")) == ds.n(cm["metadata"]["name"]),
         "gateway envFrom is not the chart's ConfigMap")
    need("envFrom" not in cs["core"], "core takes envFrom (it should get only its own keys)")
    core_env = {e["name"]: e for e in cs["core"].get("env") or []}
    unknown = set(core_env) - core_env_names()
    need(not unknown, "core env the core does not read: %s" % sorted(unknown))
    for n, e in core_env.items():
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            need(ds.n(ref["name"]) == ds.n(cm["metadata"]["name"]), "core env %s from another ConfigMap" % n)
            need(ref["key"] in keys, "core env %s from missing key %s" % (n, ref["key"]))
    need(not any("secretKeyRef" in str(e) for c in cs.values() for e in c.get("env") or []),
         "a secret passed through the environment")
    # The pod's name: its Events' reportingInstance (and its Lease identity).
    need("REPLICAD_POD_NAME" in core_env and
         core_env["REPLICAD_POD_NAME"].get("valueFrom") == {"fieldRef": {"fieldPath": "metadata.name"}},
         "REPLICAD_POD_NAME is not the pod's name (downward API)")
    if ds.rendered:
        need(core_env.get("REPLICAD_RESYNC_PERIOD", {}).get("value") == str(ds.value("core.resyncPeriod")),
             "REPLICAD_RESYNC_PERIOD is not core.resyncPeriod")
    # Pins: the store and the election together, or neither.
    pin_env = {"REPLICAD_PIN_CONFIGMAP", "REPLICAD_LEASE_NAME"}
    if ds.rendered and not ds.value("pins.enabled"):
        need(not pin_env & set(core_env), "pins disabled, yet core env %s" % sorted(pin_env & set(core_env)))
    else:
        need(pin_env <= set(core_env), "pins: core env lacks %s" % sorted(pin_env - set(core_env)))
        if ds.rendered:
            homes = home_roles(ds)
            need(len(homes) == 1, "pins: %d home Roles" % len(homes))
            role = homes[0]
            named = {r["resources"][0]: r["resourceNames"][0] for r in role["rules"] if r.get("resourceNames")}
            need(core_env["REPLICAD_PIN_CONFIGMAP"].get("value") == named.get("configmaps"),
                 "REPLICAD_PIN_CONFIGMAP is not the ConfigMap the Role names")
            need(core_env["REPLICAD_LEASE_NAME"].get("value") == named.get("leases"),
                 "REPLICAD_LEASE_NAME is not the Lease the Role names")
    # Issue #15: the namespaces served, and the cluster-wide watch.
    need(core_env.get("REPLICAD_NAMESPACES", {}).get("value") is not None,
         "the core gets no REPLICAD_NAMESPACES value")
    if ds.rendered:
        served, home = served_namespaces(ds)
        need(core_env["REPLICAD_NAMESPACES"]["value"] == ",".join(served),
             "REPLICAD_NAMESPACES is %r, want %r" % (core_env["REPLICAD_NAMESPACES"]["value"], ",".join(served)))
        want_ns = home if ds.value("targetNamespace.name") else None
        need(core_env.get("REPLICAD_NAMESPACE", {}).get("value") == want_ns,
             "REPLICAD_NAMESPACE (home) is %r, want %r" % (core_env.get("REPLICAD_NAMESPACE", {}).get("value"), want_ns))
        wa = core_env.get("REPLICAD_WATCH_ALL_NAMESPACES", {}).get("value")
        need(wa == ("1" if ds.value("watchAllNamespaces") else None),
             "REPLICAD_WATCH_ALL_NAMESPACES is %r with watchAllNamespaces %r" % (wa, ds.value("watchAllNamespaces")))
    else:
        need(ds.is_include(core_env["REPLICAD_NAMESPACES"]["value"], "replicad.servedNamespaces"),
             "REPLICAD_NAMESPACES is not replicad.servedNamespaces")
        need(core_env.get("REPLICAD_WATCH_ALL_NAMESPACES", {}).get("value") == "1",
             "REPLICAD_WATCH_ALL_NAMESPACES is not \"1\" (with watchAllNamespaces)")
    if ds.rendered:
        d = cm["data"]
        need(all(isinstance(x, str) for x in d.values()), "ConfigMap values must be strings")
        need(d["REPLICAD_ALLOW_WRITE"] == ",".join(ds.value("config.allowWrite")),
             "REPLICAD_ALLOW_WRITE does not join config.allowWrite")
        need(d["REPLICAD_MAX_REPLICAS"] == str(ds.value("config.maxReplicas")),
             "REPLICAD_MAX_REPLICAS %r" % d["REPLICAD_MAX_REPLICAS"])
        # The core enforces the same bound (issue #12), and knows its own
        # Deployment, which it must never scale.
        ref = (core_env.get("REPLICAD_MAX_REPLICAS", {}).get("valueFrom") or {}).get("configMapKeyRef") or {}
        need(ref.get("key") == "REPLICAD_MAX_REPLICAS",
             "the core does not get REPLICAD_MAX_REPLICAS from the gateway's key")
        dep = ds.one("Deployment")
        need(core_env.get("REPLICAD_SELF_DEPLOYMENT", {}).get("value") == dep["metadata"]["name"],
             "REPLICAD_SELF_DEPLOYMENT is not the chart's Deployment")


def check_probes(ds):
    cs = containers(ds)
    g = cs["gateway"]
    ports = {p["name"]: p["containerPort"] for p in g["ports"]}
    need(ports == {"https": 8443, "probe": 8080}, "gateway ports %r" % ports)
    need(arg(g, "listen").endswith(":8443") and arg(g, "probe-listen").endswith(":8080"),
         "--listen/--probe-listen do not match the container ports")
    want = {"startupProbe": "/livez", "livenessProbe": "/livez", "readinessProbe": "/readyz"}
    for probe, path in want.items():
        h = (g.get(probe) or {}).get("httpGet") or {}
        need(h.get("path") == path and h.get("port") == "probe" and h.get("scheme", "HTTP") == "HTTP",
             "gateway %s is not GET %s on the plain probe port" % (probe, path))
    # Issue #18: /readyz waits for the core's health answer, which itself
    # waits up to HEALTH_WAIT_MS for the API: the probe needs headroom.
    m = re.search(r"#define HEALTH_WAIT_MS\s+(\d+)", read(os.path.join(ROOT, "core", "core_limits.h")))
    need(m, "core/core_limits.h: no HEALTH_WAIT_MS")
    t = g["readinessProbe"].get("timeoutSeconds", 1)
    need(isinstance(t, int) and t * 1000 >= int(m.group(1)) + 2000,
         "gateway readinessProbe timeoutSeconds %r: want HEALTH_WAIT_MS (%s ms) + 2 s of headroom"
         % (t, m.group(1)))
    c = cs["core"]
    for probe in ("startupProbe", "livenessProbe"):
        cmd = ((c.get(probe) or {}).get("exec") or {}).get("command") or []
        need(cmd[:1] == ["/usr/local/bin/replicad-ctl"], "core %s is not replicad-ctl" % probe)
        # `health` exits 4 while the API server is down: a liveness probe on
        # it would restart a healthy core.
        need(cmd[-1:] == ["ping"], "core %s runs %r, want ping" % (probe, cmd[1:]))
    need("readinessProbe" not in c, "core has a readiness probe (the gateway's /readyz covers it)")


def check_termination(ds):
    p = pod(ds)
    cs = containers(ds)
    pre = {}
    for name, c in cs.items():
        ps = (c.get("lifecycle") or {}).get("preStop") or {}
        need("sleep" in ps or "exec" in ps, name + " has no preStop")
        if ds.rendered:
            pre[name] = ps["sleep"]["seconds"] if "sleep" in ps else int(ps["exec"]["command"][-1])
    g = p.get("terminationGracePeriodSeconds")
    if ds.rendered:
        need(pre["gateway"] >= 5, "gateway preStop %ss: too short for endpoint removal" % pre["gateway"])
        drain = ds.value("config.drainTimeout")
        need(pre["core"] >= pre["gateway"] + drain,
             "core preStop %ss ends before the gateway's drain (%s+%s)" % (pre["core"], pre["gateway"], drain))
        need(g >= pre["core"] + 10, "terminationGracePeriodSeconds %s < core preStop %s + 10 s drain"
             % (g, pre["core"]))
    else:
        need(ds.is_include(g, "replicad.terminationGracePeriodSeconds"),
             "terminationGracePeriodSeconds is not the computed one")


# The Role of each served namespace (role.yaml): the scale side.
ROLE_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]},
    # Autoscaler awareness (read-only) and the Events recorder (issue #14).
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
     "verbs": ["list", "watch"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
]
# watchAllNamespaces (issue #15): the cluster-wide reads, nothing else.
CLUSTER_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list", "watch"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
     "verbs": ["list", "watch"]},
]
# The home namespace's Role (role-home.yaml, pins.enabled): these resources.
HOME_RESOURCES = ("configmaps", "leases")


def served_namespaces(ds):
    """Rendered: the namespaces the core serves, as the values say."""
    home = ds.value("targetNamespace.name") or ds.release_ns
    return list(ds.value("targetNamespaces") or []) or [home], home


def home_roles(ds):
    return [r for r in ds.kind("Role") if str(ds.n(r["metadata"]["name"])).endswith("-home")]


def scale_roles(ds):
    return [r for r in ds.kind("Role") if not str(ds.n(r["metadata"]["name"])).endswith("-home")]


def check_binding(ds, rb, role, kind):
    """rb binds role (of kind Role/ClusterRole) to the pod's ServiceAccount
    of the release namespace, and nothing else."""
    need(ds.n(rb["roleRef"]) == {"apiGroup": "rbac.authorization.k8s.io", "kind": kind,
                                 "name": ds.n(role["metadata"]["name"])}, "%sBinding roleRef %r" % (kind, rb["roleRef"]))
    subs = rb.get("subjects") or []
    need(len(subs) == 1 and subs[0]["kind"] == "ServiceAccount", "%sBinding subjects %r" % (kind, subs))
    if ds.rendered:
        need(subs[0]["name"] == pod(ds)["serviceAccountName"],
             "%sBinding subject is not the pod's ServiceAccount" % kind)
        need(subs[0].get("namespace") == ds.release_ns,
             "%sBinding subject in %r, want the release namespace %s" % (kind, subs[0].get("namespace"), ds.release_ns))
    else:
        need(ds.sk.expr(subs[0].get("namespace")) in (".Release.Namespace", "$.Release.Namespace"),
             "%sBinding subject is not in the release namespace" % kind)
        need(ds.sk.expr(subs[0]["name"]) or "", "%sBinding subject name" % kind)
        need(ds.is_include(subs[0]["name"], "replicad.serviceAccountName"),
             "%sBinding subject is not the ServiceAccount" % kind)


def binding_of(ds, role, kind):
    """The one binding (kind RoleBinding/ClusterRoleBinding) of role."""
    want = ds.n(role["metadata"]["name"])
    ns = ds.n(role["metadata"].get("namespace"))
    found = [b for b in ds.kind(kind) if ds.n(b["roleRef"]["name"]) == want and
             ds.n(b["metadata"].get("namespace")) == ns]
    need(len(found) == 1, "%s %s in %s: %d bindings, want 1" % (kind, want, ns, len(found)))
    return found[0]


def check_pins_rules(ds, rules):
    # Pins add exactly these: create, and the rest only on the two named
    # objects.
    want = [([""], ["configmaps"], ["create"], None),
            ([""], ["configmaps"], ["get", "list", "watch", "update"], "replicad.pinsConfigMap"),
            (["coordination.k8s.io"], ["leases"], ["create"], None),
            (["coordination.k8s.io"], ["leases"], ["get", "update"], "replicad.pinsLease")]
    need(len(rules) == len(want), "pins rules are %r" % rules)
    for r, (groups, res, verbs, named) in zip(rules, want):
        need(r.get("apiGroups") == groups and r.get("resources") == res and r.get("verbs") == verbs,
             "pins rule %r" % r)
        if named is None:
            need("resourceNames" not in r, "create rule with resourceNames %r" % r)
            continue
        names = r.get("resourceNames") or []
        need(len(names) == 1, "pins rule %r is not for one object" % r)
        if ds.rendered:
            fn = ds.value("pins.configMapName" if res == ["configmaps"] else "pins.leaseName")
            need(not fn or names[0] == fn, "pins rule names %r, want %r" % (names, fn))
        else:
            need(ds.is_include(names[0], named), "pins rule %r not named by %s" % (r, named))


def check_rbac(ds):
    """Issue #15: a Role + RoleBinding with exactly ROLE_RULES in each served
    namespace; the pins grants only in the home namespace; a ClusterRole
    (exactly CLUSTER_RULES) only with watchAllNamespaces."""
    scale = scale_roles(ds)
    need(scale, "no Role for the served namespaces")
    for role in scale:
        need(role["rules"] == ROLE_RULES, "Role %s in %s: rules are %r" % (
            ds.n(role["metadata"]["name"]), ds.n(role["metadata"]["namespace"]), role["rules"]))
        check_binding(ds, binding_of(ds, role, "RoleBinding"), role, "Role")
    homes = home_roles(ds)
    pins = not ds.rendered or ds.value("pins.enabled")
    if not pins:
        need(not homes, "pins disabled, yet a home Role %r" % [h["rules"] for h in homes])
    else:
        need(len(homes) == 1, "%d home Roles, want one (pins)" % len(homes))
        check_pins_rules(ds, homes[0]["rules"])
        check_binding(ds, binding_of(ds, homes[0], "RoleBinding"), homes[0], "Role")
    roles_n = len(scale) + len(homes)
    need(len(ds.kind("RoleBinding")) == roles_n, "%d RoleBindings for %d Roles" % (len(ds.kind("RoleBinding")), roles_n))
    watch_all = not ds.rendered or ds.value("watchAllNamespaces")
    crs, crbs = ds.kind("ClusterRole"), ds.kind("ClusterRoleBinding")
    if not watch_all:
        need(not crs and not crbs, "a ClusterRole/ClusterRoleBinding without watchAllNamespaces")
    else:
        need(len(crs) == 1 and len(crbs) == 1, "watchAllNamespaces: %d ClusterRoles, %d bindings, want 1 and 1"
             % (len(crs), len(crbs)))
        need(crs[0]["rules"] == CLUSTER_RULES, "ClusterRole rules are %r" % crs[0]["rules"])
        need("namespace" not in crs[0]["metadata"] and "namespace" not in crbs[0]["metadata"],
             "a namespace on a cluster-scoped object")
        check_binding(ds, crbs[0], crs[0], "ClusterRole")
        if not ds.rendered:
            need(ds.is_include(crs[0]["metadata"]["name"], "replicad.clusterRoleName"),
                 "ClusterRole name is not replicad.clusterRoleName (it carries the release namespace)")
    if ds.rendered:
        served, home = served_namespaces(ds)
        got = sorted(r["metadata"]["namespace"] for r in scale)
        need(got == sorted(served), "scale Roles in %s, want one in each of %s" % (got, sorted(served)))
        if homes:
            need(homes[0]["metadata"]["namespace"] == home,
                 "pins Role in %s, want the home namespace %s" % (homes[0]["metadata"]["namespace"], home))
        names = {r["metadata"]["name"] for r in scale}
        need(len(names) == 1, "scale Roles named %s" % sorted(names))
    else:
        for role in scale:
            need(ds.sk.expr(role["metadata"]["namespace"]) == "$ns",
                 "scale Role's namespace is not the range over replicad.servedNamespaces")
        need("range $ns := splitList \",\" (include \"replicad.servedNamespaces\" .)" in ds.sk.raw["role.yaml"] and
             "range $ns := splitList \",\" (include \"replicad.servedNamespaces\" .)" in ds.sk.raw["rolebinding.yaml"],
             "role.yaml/rolebinding.yaml do not range over replicad.servedNamespaces")
        for h in homes:
            need(ds.is_include(h["metadata"]["namespace"], "replicad.targetNamespace"),
                 "home Role namespace is not replicad.targetNamespace")
        need(ds.sk.raw["clusterrole.yaml"].lstrip().startswith("{{- if .Values.watchAllNamespaces }}"),
             "clusterrole.yaml is not conditional on watchAllNamespaces")
        need(ds.sk.raw["role-home.yaml"].lstrip().startswith("{{- if .Values.pins.enabled }}"),
             "role-home.yaml is not conditional on pins.enabled")


# Kubernetes verbs of the core's kclient verbs (core/kclient.h): PUT
# replaces an object (update), POST creates one.
KC_RBAC = {"KC_GET": "get", "KC_LIST": "list", "KC_WATCH": "watch", "KC_PATCH": "patch",
           "KC_PUT": "update", "KC_POST": "create"}
# A path literal: namespaced (/namespaces/%s/...) or, since issue #15's
# watchAllNamespaces, across all namespaces (/apis/apps/v1/deployments).
API_PATH = re.compile(r'"/api(?:s/([a-z0-9.]+)/v[0-9a-z]+|/v1)/(namespaces/%s/)?([a-z]+)(/%s/([a-z]+))?')


def core_api_calls():
    """What the core asks of the API server, read from its sources: for each
    core source (core/**/*.c) that starts requests (kc_start), the resource its path literals
    name (exactly one per file) and the kclient verbs it uses, as a set of
    (scope, apiGroup, resource[/subresource], Kubernetes verb); scope is
    "ns" for a /namespaces/%s/ path and "cluster" for an all-namespaces one
    (a file with both counts its verbs for each)."""
    enum = read(os.path.join(ROOT, "core", "kube", "kclient.h"))
    m = re.search(r"enum kc_verb \{(.*?)\};", enum, re.S)
    need(m, "core/kube/kclient.h: no enum kc_verb")
    verbs = [v for v in re.findall(r"\b(KC_[A-Z_]+)\b", m.group(1)) if v != "KC_VERB_MAX"]
    need(set(verbs) == set(KC_RBAC),
         "core/kube/kclient.h verbs %s: map each to its RBAC verb in KC_RBAC" % sorted(verbs))
    calls = set()
    files = 0
    core = os.path.join(ROOT, "core")
    sources = sorted(os.path.relpath(os.path.join(d, f), core)
                     for d, _, fs in os.walk(core) for f in fs if f.endswith(".c"))
    srcs = {}
    for name in sources:
        if os.path.basename(name) != "kclient.c":
            srcs[name] = re.sub(r'"\s+"', "", read(os.path.join(core, name)))  # "a" "b" is one
    verbs_of = lambda src: set(re.findall(r"\b(KC_(?:%s))\b" % "|".join(v[3:] for v in KC_RBAC), src))
    # The list+watch loop (listwatch.c) starts LIST and WATCH requests on
    # the paths its owners give it: its verbs count for each owner's
    # resource (a file that calls lw_new).
    loop = [n for n, src in srcs.items() if re.search(r"^lw_new\(", src, re.M)]
    need(len(loop) == 1, "expected one list+watch loop (lw_new), found %s" % loop)
    loop_src = srcs.pop(loop[0])
    need(not API_PATH.search(loop_src), "core/%s names an API path itself" % loop[0])
    loop_verbs = verbs_of(loop_src)
    need(loop_verbs, "core/%s starts no request with a KC_ verb" % loop[0])
    for name, src in srcs.items():
        owner = "lw_new(" in src
        if "kc_start(" not in src and not owner:
            need(not API_PATH.search(src), "core/%s names an API path but starts no request" % name)
            continue
        files += 1
        found = API_PATH.findall(src)
        res = {(g or "", r + ("/" + sub if sub else "")) for g, _, r, _, sub in found}
        scopes = {"ns" if nsp else "cluster" for _, nsp, _, _, _ in found}
        need(len(res) == 1, "core/%s: API paths for %s; the check attributes verbs "
             "per file, so one resource per file" % (name, sorted(res) or "nothing"))
        used = (verbs_of(src) if "kc_start(" in src else set()) | (loop_verbs if owner else set())
        need(used, "core/%s starts requests with no KC_ verb it names" % name)
        g, r = res.pop()
        calls |= {(sc, g, r, KC_RBAC[v]) for sc in scopes for v in used}
    need(files >= 4, "only %d core sources start API requests" % files)
    return calls


def grants(rules):
    out = set()
    for rule in rules:
        for g in rule["apiGroups"]:
            for r in rule["resources"]:
                out |= {(g, r, v) for v in rule["verbs"]}
    return out


def check_rbac_calls(ds):
    """Least privilege (issue #18): the Roles grant exactly the verbs the
    core calls on namespaced paths, on the resources it calls them on —
    the scale-side Role of every served namespace everything but the pins
    resources, the home Role those — and (issue #15) the ClusterRole of
    watchAllNamespaces exactly what it calls on all-namespaces paths."""
    calls = core_api_calls()
    fmt = lambda xs: ", ".join("%s %s%s" % (v, g + "/" if g else "", r) for g, r, v in sorted(xs))
    ns_calls = {(g, r, v) for sc, g, r, v in calls if sc == "ns"}
    cl_calls = {(g, r, v) for sc, g, r, v in calls if sc == "cluster"}
    pins = not ds.rendered or ds.value("pins.enabled")
    scale_calls = {c for c in ns_calls if c[1] not in HOME_RESOURCES}
    home_calls = ns_calls - scale_calls if pins else set()

    def same(what, granted, want):
        need(not granted - want, "the %s grants what the core never calls: %s" % (what, fmt(granted - want)))
        need(not want - granted, "the core calls what the %s does not grant: %s" % (what, fmt(want - granted)))

    scale = scale_roles(ds)
    need(scale, "no Role for the served namespaces")
    for role in scale:
        same("Role %s in %s" % (ds.n(role["metadata"]["name"]), ds.n(role["metadata"]["namespace"])),
             grants(role["rules"]), scale_calls)
    homes = home_roles(ds)
    same("home Role", grants(homes[0]["rules"]) if homes else set(), home_calls)
    # Without watchAllNamespaces the core never takes its all-namespaces
    # paths (and the chart makes no ClusterRole: check_rbac).
    if not ds.rendered or ds.value("watchAllNamespaces"):
        crs = ds.kind("ClusterRole")
        need(len(crs) == 1, "watchAllNamespaces: %d ClusterRoles" % len(crs))
        same("ClusterRole", grants(crs[0]["rules"]), cl_calls)


def check_networkpolicy(ds):
    nps = ds.kind("NetworkPolicy")
    if ds.rendered and not ds.value("networkPolicy.enabled"):
        need(not nps, "NetworkPolicy rendered although disabled")
        return
    need(len(nps) == 1, "expected one NetworkPolicy, found %d" % len(nps))
    spec = nps[0]["spec"]
    need(spec["policyTypes"] == ["Ingress", "Egress"], "policyTypes %r" % spec["policyTypes"])
    for rule in spec["ingress"]:
        ports = [p["port"] for p in rule["ports"]]
        need(ports in (["https"], ["probe"]), "ingress to ports %r" % ports)
    need(spec["ingress"][0]["ports"] == [{"port": "https", "protocol": "TCP"}],
         "first ingress rule is not the API port")
    api = spec["egress"][0]
    need(all(set(t) == {"ipBlock"} for t in api["to"]), "API server egress is not by ipBlock")
    dns = [r for r in spec["egress"] if any(p["port"] == 53 for p in r.get("ports", []))]
    if ds.rendered:
        sel = ds.one("Deployment")["spec"]["selector"]["matchLabels"]
        need(spec["podSelector"]["matchLabels"] == sel, "policy does not select the pods")
        need([t["ipBlock"]["cidr"] for t in api["to"]] == ds.value("networkPolicy.apiServer.cidrs"),
             "egress CIDRs differ from networkPolicy.apiServer.cidrs")
        need([p["port"] for p in api["ports"]] == ds.value("networkPolicy.apiServer.ports"),
             "egress ports differ from networkPolicy.apiServer.ports")
        need(bool(dns) == ds.value("networkPolicy.dns.enabled"), "DNS egress does not follow dns.enabled")
        need(len(spec["egress"]) == 1 + bool(dns), "unexpected egress rules")
        from_ = spec["ingress"][0].get("from") or []
        need(from_ == ds.value("networkPolicy.ingress.from"), "ingress peers differ from values")
    else:
        raw = ds.sk.raw["networkpolicy.yaml"]
        need(re.search(r"\{\{-? if \.Values\.networkPolicy\.dns\.enabled \}\}\s*\n(.*\n)*?\s*- port: 53",
                       raw), "DNS egress is not conditional on networkPolicy.dns.enabled")
        need(ds.sk.expr(api["to"][0]["ipBlock"]["cidr"]) == ".", "ipBlock cidr is not from the range")
        need(re.search(r"range \.Values\.networkPolicy\.apiServer\.cidrs", raw), "cidrs not from values")


def check_service(ds):
    svc = ds.one("Service")
    spec = svc["spec"]
    need(spec["type"] == "ClusterIP", "Service type %r" % spec["type"])
    need(len(spec["ports"]) == 1 and spec["ports"][0]["targetPort"] == "https",
         "Service ports %r: want only the API" % spec["ports"])
    need(ds.is_value(spec["ports"][0]["port"], "service.port"), "Service port is not service.port")
    if ds.rendered:
        need(spec["selector"] == ds.one("Deployment")["spec"]["selector"]["matchLabels"],
             "Service selector differs from the Deployment's")


def check_pdb(ds):
    pdbs = ds.kind("PodDisruptionBudget")
    if ds.rendered and not ds.value("podDisruptionBudget.enabled"):
        return
    need(len(pdbs) == 1 and pdbs[0]["apiVersion"] == "policy/v1", "no policy/v1 PodDisruptionBudget")
    if ds.rendered:
        need(pdbs[0]["spec"]["selector"]["matchLabels"] ==
             ds.one("Deployment")["spec"]["selector"]["matchLabels"], "PDB selects other pods")


def check_labels(ds):
    want = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by", "helm.sh/chart"}
    if ds.rendered:
        for _, d in ds.docs:
            labels = d["metadata"].get("labels") or {}
            need(want <= set(labels), "%s %s lacks labels %s" % (
                d["kind"], d["metadata"]["name"], sorted(want - set(labels))))
        return
    for name, raw in ds.sk.raw.items():
        if not name.endswith(".yaml"):
            continue
        need(re.search(r"\n  labels:\n    \{\{- include \"replicad\.labels\" [.$] \| nindent 4 \}\}", raw),
             name + ": metadata.labels is not replicad.labels")
    helpers = ds.sk.raw["_helpers.tpl"]
    for k in want:
        need(k + ":" in helpers, "_helpers.tpl: labels lack " + k)


def check_images(ds):
    cs = containers(ds)
    for name, c in cs.items():
        need(ds.is_value(c["imagePullPolicy"], "image.pullPolicy"), name + " imagePullPolicy not from values")
        if not ds.rendered:
            e = ds.sk.expr(c["image"]) or ""
            need(e == 'include "replicad.image" (dict "root" . "component" "%s")' % name,
                 "%s image is not the replicad.image helper" % name)
            continue
        img = ds.value("image." + name)
        repo = img["repository"]
        if ds.value("image.registry"):
            repo = ds.value("image.registry").rstrip("/") + "/" + repo
        if img["digest"]:
            want = repo + "@" + img["digest"]
        else:
            want = repo + ":" + (ds.value("image.tag") or load_yaml(os.path.join(CHART, "Chart.yaml"))["appVersion"])
        need(c["image"] == want, "%s image %r, want %r" % (name, c["image"], want))


def check_secret(ds):
    secrets = ds.kind("Secret")
    if ds.rendered:
        inline = not ds.value("tls.existingSecret") and not ds.value("tls.certManager.enabled")
        need(len(secrets) == int(inline), "%d Secrets rendered, want %d" % (len(secrets), inline))
        certs = ds.kind("Certificate")
        need(len(certs) == int(bool(ds.value("tls.certManager.enabled") and not ds.value("tls.existingSecret"))),
             "Certificate rendered %d times" % len(certs))
        name = [s for s in volumes(ds)["tls"]["projected"]["sources"] if "secret" in s][0]["secret"]["name"]
        if certs:
            need(certs[0]["spec"]["secretName"] == name, "Certificate secret is not the mounted one")
            svc = ds.one("Service")["metadata"]["name"]
            need(svc + "." + ds.release_ns + ".svc" in certs[0]["spec"]["dnsNames"], "Certificate lacks the Service name")
        if ds.value("tls.existingSecret"):
            need(name == ds.value("tls.existingSecret"), "mounted secret is not tls.existingSecret")
    if not secrets:
        return
    s = secrets[0]
    need(s["type"] == "kubernetes.io/tls", "TLS Secret type %r" % s["type"])
    need({"tls.crt", "tls.key"} <= set(s["data"]), "TLS Secret keys %r" % sorted(s["data"]))


# ---------------------------------------------------------------- groups

SEMANTIC = [check_parse, check_deployment, check_token_core_only, check_tls_gateway_only,
            check_restricted, check_socket, check_config_env, check_probes, check_termination,
            check_rbac, check_rbac_calls, check_networkpolicy, check_service, check_pdb, check_labels,
            check_images, check_secret]


def run_semantic(ds, name):
    fn = globals().get("check_" + name)
    need(fn in SEMANTIC, "no such check " + name)
    fn(ds)


# ---------------------------------------------------------------- commands

def cmd_skeleton(name):
    """A semantic check on the template skeleton."""
    run_semantic(skeleton_docs_with_values(), name)


def skeleton_docs_with_values():
    sk = Skeleton()
    return Docs(sk.docs, values=default_values(), skeleton=sk)


def cmd_rendered(manifest, namespace, name, *value_files):
    """A semantic check on a rendered manifest (values it was rendered with)."""
    ds = rendered_docs(manifest, value_files)
    ds.release_ns = namespace
    run_semantic(ds, name)


def cmd_schema_self():
    """values.schema.json is a valid draft-07 schema, closed everywhere."""
    s = schema()
    draft7().check_schema(s)
    open_ok = {"global", "podSelector", "namespaceSelector", "affinity", "tolerations", "topologySpreadConstraints"}

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                need(node.get("additionalProperties") is False,
                     "%s: object without additionalProperties: false" % path)
            if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node:
                need(path.split("/")[-1] in open_ok or path.endswith("/items"),
                     "%s: an open object" % path)
            for k, v in node.items():
                walk(v, path + "/" + k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s/%d" % (path, i))
    walk(s, "#")


def validation_errors(files):
    v = values_with(files)
    return sorted(draft7()(schema()).iter_errors(v), key=lambda e: list(e.path))


def fmt_err(e):
    return "%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)", e.message)


def cmd_schema_accepts(*files):
    errs = validation_errors(files)
    need(not errs, "; ".join(fmt_err(e) for e in errs[:5]))


def cmd_schema_rejects(f):
    """The file (over values.yaml) is rejected, at the path its '# expect:' names."""
    m = re.search(r"^# expect: (\S+)", read(f), re.M)
    need(m, f + ": no '# expect: <path>' line")
    errs = validation_errors([f])
    need(errs, "accepted")
    paths = ["/".join(str(p) for p in e.absolute_path) or "(top)" for e in errs]
    need(any(p == m.group(1) or p.startswith(m.group(1) + "/") for p in paths),
         "rejected, but at %s rather than %s" % (paths, m.group(1)))


def value_leaves(v, prefix=""):
    if isinstance(v, dict) and v:
        for k, x in v.items():
            yield from value_leaves(x, prefix + "." + k if prefix else k)
    else:
        yield prefix


def cmd_values_refs():
    """Every .Values.x the templates use exists; every value is used."""
    refs = set()
    for name in os.listdir(TEMPLATES):
        refs |= set(re.findall(r"\.Values\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)", read(os.path.join(TEMPLATES, name))))
    values = default_values()
    missing = []
    for r in sorted(refs):
        v = values
        for p in r.split("."):
            if not isinstance(v, dict) or p not in v:
                missing.append(r)
                break
            v = v[p]
    need(not missing, "templates use values not in values.yaml: %s" % missing)
    unused = [leaf for leaf in value_leaves(values)
              if not any(leaf == r or leaf.startswith(r + ".") for r in refs)]
    need(not unused, "values.yaml keys no template uses: %s" % unused)


def cmd_schema_covers_values():
    """Every key of values.yaml is described in the schema (no silent extras)."""
    s = schema()

    def resolve(node):
        while "$ref" in node:
            node = s["definitions"][node["$ref"].split("/")[-1]]
        return node

    def walk(v, node, path):
        node = resolve(node)
        if isinstance(v, dict) and "properties" in node:
            for k, x in v.items():
                need(k in node["properties"], "%s.%s is not in the schema" % (path, k))
                walk(x, node["properties"][k], path + "." + k)
    walk(default_values(), s, "values")


def cmd_schema_bounds():
    """The schema's config bounds lie within what replicad-gateway accepts."""
    src = read(os.path.join(ROOT, "gateway", "main.c"))
    macros = {}
    for hdr in ("gateway/gw_limits.h", "proto-socket/ps.h"):
        for n, v in re.findall(r"#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)u?\b", read(os.path.join(ROOT, hdr))):
            macros[n] = int(v, 0)

    def num(tok):
        tok = re.sub(r"\(\w+\)", "", tok).strip()
        return int(tok, 0) if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", tok) else macros[tok]
    bounds = {}
    for flag, rest in re.findall(r'number\(\s*"([a-z-]+)",\s*\w+,\s*(.*?)\);', src):
        lo, hi = rest.split(",")
        bounds[flag] = (num(lo), num(hi))
    need(bounds, "no number(...) bounds found in gateway/main.c")
    props = schema()["properties"]["config"]["properties"]
    checked = 0
    for key, p in props.items():
        flag = re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), key)
        if flag not in bounds:
            continue
        lo, hi = bounds[flag]
        need(lo <= p["minimum"] and p["maximum"] <= hi,
             "config.%s: schema %s..%s, gateway accepts %s..%s" % (key, p["minimum"], p["maximum"], lo, hi))
        checked += 1
    need(checked >= 6, "only %d bounds matched gateway flags" % checked)


def cmd_chart_yaml():
    c = load_yaml(os.path.join(CHART, "Chart.yaml"))
    need(c.get("apiVersion") == "v2", "Chart apiVersion is not v2")
    need(c.get("name") == "replicad", "Chart name is not replicad")
    need(re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", str(c.get("version"))), "version is not semver")
    need(isinstance(c.get("appVersion"), str) and c["appVersion"], "appVersion missing (quote it)")
    core = read(os.path.join(ROOT, "core", "core_opts.h"))
    m = re.search(r'#define CORE_VERSION\s+"([^"]+)"', core)
    need(m and m.group(1) == c["appVersion"], "appVersion %s != CORE_VERSION %s" % (
        c["appVersion"], m and m.group(1)))
    need(default_values()["image"]["tag"] == "", "image.tag default must be empty (appVersion)")


NOTES_REFUSED = "WRITES ARE REFUSED"


def cmd_notes(notes_file=None, *value_files):
    """NOTES.txt shows how to reach the API; rendered (with the values it
    was rendered with), it says whether writes are refused and, if so, how
    to grant them (issue #12: the chart grants no writes by default)."""
    text = read(notes_file) if notes_file else read(os.path.join(TEMPLATES, "NOTES.txt"))
    for want in ("port-forward svc/", "--cacert", "--cert", "--key", "/api/v1/deployments",
                 "-X POST", "/healthz"):
        need(want in text, "NOTES.txt lacks %r" % want)
    grant = "--set 'config.allowWrite={CN="
    if not notes_file:
        need(NOTES_REFUSED in text and grant in text,
             "NOTES.txt does not say that writes are refused and how to grant them")
        return
    v = values_with(value_files)
    t = v["tls"]
    if t["clientCRL"] or t["clientCRLFrom"]["secret"] or t["clientCRLFrom"]["configMap"]:
        need("Revoked certificates are refused" in text and "nextUpdate" in text,
             "a CRL is set, yet NOTES.txt does not say revoked certificates are refused")
    else:
        need("No CRL is checked" in text, "no CRL is set, yet NOTES.txt does not say so")
    # Issue #18: without image.registry, nodes off KIND would pull
    # docker.io/library/replicad-*: NOTES must say so (not with Never).
    warn = "IMAGES: image.registry is empty"
    if not v["image"]["registry"] and v["image"]["pullPolicy"] != "Never":
        need(warn in text and "docker.io/library" in text and "image.registry=" in text,
             "image.registry is empty, yet NOTES.txt does not warn about docker.io/library")
    else:
        need(warn not in text, "NOTES.txt warns about image.registry, yet it is set (or pullPolicy Never)")
    writers = v["config"]["allowWrite"]
    if writers:
        need(NOTES_REFUSED not in text, "NOTES.txt says writes are refused, yet allowWrite is %r" % writers)
        for w in writers:
            need(w in text, "NOTES.txt does not name the writer %r" % w)
    else:
        need(NOTES_REFUSED in text, "allowWrite is empty, yet NOTES.txt does not say writes are refused")
        need(grant in text and "helm upgrade" in text,
             "NOTES.txt does not say how to grant writes (helm upgrade %s...})" % grant)


def cmd_schema_subjects():
    """The schema's allow-list entries are the gateway's (gateway/authz.c):
    the same type prefixes, typed entries only, the same name rules."""
    prefixes = re.findall(r'\{"([A-Za-z]+[=:])", AUTHZ_[A-Z]+\}',
                          read(os.path.join(ROOT, "gateway", "authz.c")))
    need(sorted(prefixes) == sorted(["CN=", "DNS:", "URI:", "email:", "IP:"]),
         "gateway/authz.c prefixes %r" % prefixes)
    sub = schema()["definitions"]["subject"]
    pat = re.compile(sub["pattern"])

    def ok(e):
        return pat.search(e) is not None and sub["minLength"] <= len(e) <= sub["maxLength"]
    for p in prefixes:
        good = p + ("10.0.0.1" if p == "IP:" else "x")
        need(ok(good), "schema refuses %r" % good)
        need(not ok(p), "schema accepts the empty %r" % p)
        need(not ok(good[len(p):]), "schema accepts the untyped %r" % good[len(p):])
        for other in (p.lower(), p.upper(), p[:-1] + ("=" if p[-1] == ":" else ":")):
            if other not in prefixes:
                need(not ok(other + "x"), "schema accepts the prefix %r" % other)
        if p != "IP:":
            need(ok(p + "a" * 256), "schema refuses a 256-byte %s name" % p)
            need(not ok(p + "a" * 257), "schema accepts a 257-byte %s name" % p)
            need(not ok(p + "a,b"), "schema accepts a comma in a %s name (REPLICAD_ALLOW_* splits it)" % p)
            need(not ok(p + "a\nb"), "schema accepts a control character in a %s name" % p)
            need(not ok(p + "caf\u00e9"), "schema accepts non-ASCII in a %s name" % p)
    for good in ("CN=replicad dev CA", "URI:spiffe://cluster.local/ns/x/sa/y", "IP:::1",
                 "IP:2001:db8::1", "email:ops@example.com", "DNS:*.example.com"):
        need(ok(good), "schema refuses %r" % good)
    for bad in ("replicad-admin", "spiffe://cluster.local/ns/x/sa/y", "CN= admin", "CN=admin ",
                "DNS:a b", "IP:localhost", "IP Address:10.0.0.1", "O=replicad"):
        need(not ok(bad), "schema accepts %r" % bad)


def cmd_security_literals():
    """The security settings are written out, not taken from values."""
    raw = read(os.path.join(TEMPLATES, "deployment.yaml"))
    for k in ("runAsNonRoot", "allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem",
              "automountServiceAccountToken", "maxUnavailable", "maxSurge", "medium"):
        for line in raw.splitlines():
            if re.match(r"\s*%s:" % k, line):
                need("{{" not in line, "deployment.yaml: %s comes from a template expression" % k)
    for name in os.listdir(TEMPLATES):
        # Comments may name what is avoided ("not subPath"): skip them.
        t = COMMENT.sub("", read(os.path.join(TEMPLATES, name)))
        t = "\n".join(line for line in t.splitlines() if not line.lstrip().startswith("#"))
        for bad in ("hostNetwork", "hostPID", "hostIPC", "hostPath", "privileged: true",
                    "ClusterRole", "add:", "subPath"):
            # The one exception: watchAllNamespaces's ClusterRole, in its
            # own file, whole under `if .Values.watchAllNamespaces`.
            if bad == "ClusterRole" and name == "clusterrole.yaml":
                lines = t.strip().splitlines()
                need(lines[0] == "{{- if .Values.watchAllNamespaces }}" and lines[-1] == "{{- end }}" and
                     sum(1 for x in lines if re.match(r"\{\{-?\s*(end|if|range|with)\b", x.strip())) == 2,
                     "clusterrole.yaml is not whole under if .Values.watchAllNamespaces")
                continue
            need(bad not in t, "%s mentions %r" % (name, bad))


POD_SIM_NAME = "replicad-pod-sim-0"


def cmd_pod_spec(manifest):
    """Print, as bash assignments, what tests/chart/pod_sim_test.sh needs
    to run the rendered pod's two containers as processes."""
    import shlex
    ds = rendered_docs(manifest, [])
    cs = containers(ds)
    cm = config_map(ds)["data"]
    psc = pod(ds)["securityContext"]

    def env_of(c):
        out = []
        for ef in c.get("envFrom") or []:
            out += ["%s=%s" % kv for kv in sorted(cm.items())]
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            if "configMapKeyRef" in vf:
                v = cm[vf["configMapKeyRef"]["key"]]
            elif "fieldRef" in vf:
                # The downward API: the pod's name is all the chart asks.
                need(vf["fieldRef"] == {"fieldPath": "metadata.name"}, "fieldRef %r" % vf)
                v = POD_SIM_NAME
            else:
                v = e["value"]
            out.append("%s=%s" % (e["name"], v))
        return out

    def arr(name, items):
        print("%s=(%s)" % (name, " ".join(shlex.quote(str(x)) for x in items)))
    sc = {n: c["securityContext"] for n, c in cs.items()}
    need(sc["core"]["runAsGroup"] == sc["gateway"]["runAsGroup"], "runAsGroup differs")
    print("CORE_UID=%d GW_UID=%d GID=%d FS_GROUP=%d" % (
        sc["core"]["runAsUser"], sc["gateway"]["runAsUser"], sc["core"]["runAsGroup"], psc["fsGroup"]))
    print("TLS_MODE=%o" % volumes(ds)["tls"]["projected"]["defaultMode"])
    arr("CORE_ARGS", cs["core"]["args"])
    arr("GW_ARGS", cs["gateway"]["args"])
    arr("CORE_ENV", env_of(cs["core"]))
    arr("GW_ENV", env_of(cs["gateway"]))
    arr("CORE_PROBE", cs["core"]["livenessProbe"]["exec"]["command"])


def cmd_prestop(manifest, want):
    """Both containers' preStop is the kubelet's sleep action (want=sleep)
    or /bin/sleep by exec (want=exec): issue #18, the sleep action needs
    Kubernetes 1.30."""
    ds = rendered_docs(manifest, [])
    for name, c in containers(ds).items():
        ps = (c.get("lifecycle") or {}).get("preStop") or {}
        need(set(ps) == {want}, "%s preStop is %s, want %s" % (name, sorted(ps) or "none", want))
        if want == "exec":
            cmd = ps["exec"]["command"]
            need(cmd[0] == "/bin/sleep" and len(cmd) == 2 and cmd[1].isdigit(),
                 "%s preStop runs %r" % (name, cmd))


def cmd_restricted_manifest(path):
    """Every pod (template) of a manifest passes the Pod Security Standards'
    restricted profile, as far as its fields show it (issue #18: the KIND
    namespace enforces it, and `kubectl create deployment` pods fail it)."""
    docs = [d for d in yaml.load_all(read(path), Loader=LOADER) if d]
    pods = []
    for d in docs:
        if d.get("kind") == "Pod":
            pods.append((d["metadata"]["name"], d["spec"]))
        elif "template" in (d.get("spec") or {}):
            pods.append((d["metadata"]["name"], d["spec"]["template"]["spec"]))
    need(pods, "%s: no pod or pod template" % path)
    for name, p in pods:
        for k in ("hostNetwork", "hostPID", "hostIPC"):
            need(not p.get(k), "%s: %s" % (name, k))
        for v in p.get("volumes") or []:
            kinds = set(v) - {"name"}
            need(kinds <= PSS_VOLUMES, "%s: volume %s of type %s" % (name, v["name"], kinds))
        psc = p.get("securityContext") or {}
        cs = (p.get("initContainers") or []) + (p.get("containers") or [])
        need(cs, "%s: no containers" % name)
        for c in cs:
            sc = c.get("securityContext") or {}
            who = "%s/%s" % (name, c["name"])
            need(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, who + ": runAsNonRoot is not true")
            need(sc.get("runAsUser", psc.get("runAsUser")) != 0, who + ": runAsUser 0")
            seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            need(seccomp in ("RuntimeDefault", "Localhost"), who + ": seccompProfile %r" % seccomp)
            need(sc.get("allowPrivilegeEscalation") is False, who + ": allowPrivilegeEscalation is not false")
            need(not sc.get("privileged"), who + ": privileged")
            caps = sc.get("capabilities") or {}
            need("ALL" in (caps.get("drop") or []), who + ": capabilities do not drop ALL")
            need(set(caps.get("add") or []) <= {"NET_BIND_SERVICE"}, who + ": adds %r" % caps.get("add"))
            need(not any("hostPort" in x for x in c.get("ports") or []), who + ": hostPort")


COMMANDS = {
    "restricted-manifest": cmd_restricted_manifest,
    "prestop": cmd_prestop,
    "pod-spec": cmd_pod_spec,
    "skeleton": cmd_skeleton,
    "rendered": cmd_rendered,
    "schema-self": cmd_schema_self,
    "schema-accepts": cmd_schema_accepts,
    "schema-rejects": cmd_schema_rejects,
    "schema-covers-values": cmd_schema_covers_values,
    "schema-bounds": cmd_schema_bounds,
    "schema-subjects": cmd_schema_subjects,
    "values-refs": cmd_values_refs,
    "chart-yaml": cmd_chart_yaml,
    "notes": cmd_notes,
    "security-literals": cmd_security_literals,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print("usage: chartcheck.py %s [ARGS]" % "|".join(sorted(COMMANDS)), file=sys.stderr)
        return 2
    try:
        COMMANDS[argv[1]](*argv[2:])
    except Fail as e:
        print(e)
        return 1
    except (KeyError, TypeError, IndexError, AttributeError, yaml.YAMLError) as e:
        # A missing or misshapen field is a failure of the chart, not a crash.
        print("%s: %s" % (type(e).__name__, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
