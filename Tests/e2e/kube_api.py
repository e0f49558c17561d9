"""A test Kubernetes API server for the end-to-end tests of the Kubernetes providers.

No real API server can be installed here, so the tests start this one: HTTPS on a free loopback
port (a CA and a server certificate for 127.0.0.1/localhost made once with the openssl CLI),
bearer-token auth, an in-memory store of real-shaped objects, and list and watch as the real
server does them:

- one global resourceVersion counter (string integers, increasing); every write bumps it;
- list returns `<Kind>List` with `metadata.resourceVersion` = the current global version;
  `labelSelector`, `fieldSelector`, `limit`/`continue`;
- `?watch=1&resourceVersion=N` replays every change after N from an in-memory event history,
  then streams live events (one JSON object a line, chunked); `resourceVersion` unset or "0"
  starts with synthetic ADDED events for the current objects; `allowWatchBookmarks=true` adds a
  BOOKMARK every `bookmark_interval` seconds; `sendInitialEvents=true` ends the initial events
  with a BOOKMARK annotated `k8s.io/initial-events-end`; the stream ends after `timeoutSeconds`
  (capped at `max_watch_seconds`);
- a watch from a version older than the compacted history gets one ERROR event with a 410
  `Expired` Status ("too old resource version: N (M)") and ends, as real servers do;
- with a label selector, an object that starts matching is sent as ADDED and one that stops
  matching as DELETED (as the watch cache does);
- writes: POST (create), PUT (replace), PATCH (merge, strategic-merge taken as merge, JSON patch,
  apply-patch+yaml taken as merge), DELETE; `<object>/status` writes change only `status`;
  a PUT with a stale `metadata.resourceVersion` gets 409 Conflict; a write that changes nothing
  is a no-op (no new resourceVersion, no event), as on a real server;
- discovery (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/<group>[/<version>]`) so that
  `kubectl apply --dry-run=client --validate=false` works against it.

Test controls: `compact()`, `cut_watches()`, `watch_count()`, `wait_for_watchers()`, `requests`,
`status_updates`, `writes`, `inject_failure()`, and `token` may be changed at any time.

Standard library + PyYAML (only for `apply_yaml` and apply patches). Loopback only; every wait
has a timeout; `stop()` closes every connection.
"""

import base64
import collections
import copy
import datetime
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK = "127.0.0.1"

# --------------------------------------------------------------------------
# resources served

ResourceType = collections.namedtuple(
    "ResourceType", "group version kind plural singular namespaced status short_names")


def _rt(group, version, kind, plural, namespaced=True, status=False, short_names=()):
    return ResourceType(group, version, kind, plural, kind.lower(), namespaced, status, list(short_names))


_TRAEFIK_KINDS = [
    ("IngressRoute", "ingressroutes"),
    ("IngressRouteTCP", "ingressroutetcps"),
    ("IngressRouteUDP", "ingressrouteudps"),
    ("Middleware", "middlewares"),
    ("MiddlewareTCP", "middlewaretcps"),
    ("TraefikService", "traefikservices"),
    ("TLSOption", "tlsoptions"),
    ("TLSStore", "tlsstores"),
    ("ServersTransport", "serverstransports"),
    ("ServersTransportTCP", "serverstransporttcps"),
]

DEFAULT_RESOURCES = [
    _rt("", "v1", "Service", "services", status=True, short_names=["svc"]),
    _rt("", "v1", "Endpoints", "endpoints", short_names=["ep"]),
    _rt("", "v1", "Secret", "secrets"),
    _rt("", "v1", "Namespace", "namespaces", namespaced=False, status=True, short_names=["ns"]),
    _rt("", "v1", "ConfigMap", "configmaps", short_names=["cm"]),
    _rt("", "v1", "ServiceAccount", "serviceaccounts", short_names=["sa"]),
    _rt("", "v1", "Pod", "pods", status=True, short_names=["po"]),
    _rt("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    _rt("networking.k8s.io", "v1", "Ingress", "ingresses", status=True, short_names=["ing"]),
    _rt("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False),
    _rt("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", namespaced=False, status=True,
        short_names=["gc"]),
    _rt("gateway.networking.k8s.io", "v1", "Gateway", "gateways", status=True, short_names=["gtw"]),
    _rt("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", status=True),
    _rt("gateway.networking.k8s.io", "v1", "GRPCRoute", "grpcroutes", status=True),
    _rt("gateway.networking.k8s.io", "v1beta1", "ReferenceGrant", "referencegrants", short_names=["refgrant"]),
    _rt("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced=False,
        status=True, short_names=["crd", "crds"]),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    _rt("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    _rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    _rt("apps", "v1", "Deployment", "deployments", status=True, short_names=["deploy"]),
] + [_rt(g, "v1alpha1", k, p) for g in ("traefik.io", "switchyard.dev") for k, p in _TRAEFIK_KINDS]

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
KUBE_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "0" * 40,
                "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3",
                "compiler": "gc", "platform": "linux/amd64"}

Request = collections.namedtuple("Request", "method path query")


def split_api_version(api_version):
    """"networking.k8s.io/v1" -> ("networking.k8s.io", "v1"); "v1" -> ("", "v1")."""
    if "/" in api_version:
        g, v = api_version.split("/", 1)
        return g, v
    return "", api_version


def join_api_version(group, version):
    return "%s/%s" % (group, version) if group else version


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_object(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


class APIError(Exception):
    def __init__(self, code, reason, message, details=None):
        Exception.__init__(self, message)
        self.code = code
        self.status = status_object(code, reason, message, details)


def _not_found(rt, name):
    res = rt.plural if not rt.group else "%s.%s" % (rt.plural, rt.group)
    return APIError(404, "NotFound", '%s "%s" not found' % (res, name),
                    {"name": name, "group": rt.group, "kind": rt.plural})


def _page_not_found():
    return APIError(404, "NotFound", "the server could not find the requested resource", {})


class SafeList(list):
    """A list whose append/clear are locked; `snapshot()` gives a copy."""

    def __init__(self):
        list.__init__(self)
        self._lock = threading.Lock()

    def append(self, item):
        with self._lock:
            list.append(self, item)

    def clear(self):
        with self._lock:
            del self[:]

    def snapshot(self):
        with self._lock:
            return list(self)


# --------------------------------------------------------------------------
# selectors

class SelectorError(ValueError):
    pass


def _split_top(text):
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(text):
    """-> list of (key, op, values); ops: =, !=, in, notin, exists, !exists."""
    reqs = []
    for part in _split_top(text or ""):
        low = part.replace("\t", " ")
        if " notin " in low or " in " in low:
            op = "notin" if " notin " in low else "in"
            key, rest = low.split(" %s " % op, 1)
            rest = rest.strip()
            if not (rest.startswith("(") and rest.endswith(")")):
                raise SelectorError("invalid label selector %r" % part)
            values = [v.strip() for v in rest[1:-1].split(",") if v.strip()]
            reqs.append((key.strip(), op, values))
        elif "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append((k.strip(), "!=", [v.strip()]))
        elif "==" in part:
            k, v = part.split("==", 1)
            reqs.append((k.strip(), "=", [v.strip()]))
        elif "=" in part:
            k, v = part.split("=", 1)
            reqs.append((k.strip(), "=", [v.strip()]))
        elif part.startswith("!"):
            reqs.append((part[1:].strip(), "!exists", []))
        else:
            reqs.append((part, "exists", []))
    for k, _, _ in reqs:
        if not k or " " in k:
            raise SelectorError("invalid label selector %r" % text)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        value = labels.get(key)
        if op == "=" and not (present and value == values[0]):
            return False
        if op == "!=" and present and value == values[0]:
            return False
        if op == "in" and not (present and value in values):
            return False
        if op == "notin" and present and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


def parse_field_selector(text):
    reqs = []
    for part in _split_top(text or ""):
        if "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append((k.strip(), "!=", v.strip()))
        elif "==" in part:
            k, v = part.split("==", 1)
            reqs.append((k.strip(), "=", v.strip()))
        elif "=" in part:
            k, v = part.split("=", 1)
            reqs.append((k.strip(), "=", v.strip()))
        else:
            raise SelectorError("invalid field selector %r" % part)
    return reqs


def _field_value(obj, path):
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return ""
        cur = cur[p]
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return "" if cur is None else str(cur)


def fields_match(reqs, obj):
    for key, op, value in reqs:
        actual = _field_value(obj, key)
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
    return True


# --------------------------------------------------------------------------
# patches

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError("bad JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(doc, ops):
    """RFC 6902 JSON patch (add, remove, replace, test, copy, move)."""
    doc = copy.deepcopy(doc)

    def parent_of(parts):
        cur = doc
        for p in parts[:-1]:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur

    def get(parts):
        cur = doc
        for p in parts:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur

    def remove(parts):
        parent = parent_of(parts)
        if isinstance(parent, list):
            return parent.pop(int(parts[-1]))
        return parent.pop(parts[-1])

    def add(parts, value):
        nonlocal doc
        if not parts:
            doc = value
            return
        parent = parent_of(parts)
        if isinstance(parent, list):
            if parts[-1] == "-":
                parent.append(value)
            else:
                parent.insert(int(parts[-1]), value)
        else:
            parent[parts[-1]] = value

    for op in ops:
        kind = op.get("op")
        parts = _pointer(op.get("path", ""))
        if kind == "add":
            add(parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            remove(parts)
        elif kind == "replace":
            get(parts)  # must exist
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                parent = parent_of(parts)
                key = int(parts[-1]) if isinstance(parent, list) else parts[-1]
                parent[key] = copy.deepcopy(op.get("value"))
        elif kind == "test":
            if get(parts) != op.get("value"):
                raise ValueError("test failed at %s" % op.get("path"))
        elif kind == "copy":
            add(parts, copy.deepcopy(get(_pointer(op.get("from", "")))))
        elif kind == "move":
            add(parts, remove(_pointer(op.get("from", ""))))
        else:
            raise ValueError("unknown JSON patch op %r" % kind)
    return doc


# --------------------------------------------------------------------------
# certificates

def make_certificates(workdir):
    """CA + server certificate (IP 127.0.0.1, DNS localhost) in workdir/kube-api-tls, made once.
    Returns (ca_path, cert_path, key_path)."""
    d = os.path.join(workdir, "kube-api-tls")
    ca_crt, ca_key = os.path.join(d, "ca.crt"), os.path.join(d, "ca.key")
    crt, key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
    if all(os.path.isfile(p) for p in (ca_crt, ca_key, crt, key)):
        return ca_crt, crt, key
    os.makedirs(d, exist_ok=True)

    def run(*args):
        p = subprocess.run(["openssl"] + list(args), cwd=d, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (" ".join(args), p.stderr.decode("utf-8", "replace")))

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "3650",
        "-sha256", "-subj", "/CN=switchyard-e2e-kube-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash")
    csr = os.path.join(d, "server.csr")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-sha256", "-subj", "/CN=kube-apiserver")
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
        "-days", "3650", "-sha256", "-extfile", ext)
    return ca_crt, crt, key


# --------------------------------------------------------------------------
# watches

class _Watch(object):
    def __init__(self, rt, namespace, label_reqs, field_reqs, conn):
        self.rt = rt
        self.namespace = namespace
        self.label_reqs = label_reqs
        self.field_reqs = field_reqs
        self.conn = conn
        self.queue = collections.deque()
        self.cut = False
        self.graceful = False

    def matches(self, obj):
        if obj is None:
            return False
        md = obj.get("metadata") or {}
        if self.namespace is not None and md.get("namespace") != self.namespace:
            return False
        return labels_match(self.label_reqs, md.get("labels")) and fields_match(self.field_reqs, obj)

    def translate(self, etype, obj, old):
        """The event this watch sees for a change, or None (selector semantics of the watch cache)."""
        if etype == "DELETED":
            return "DELETED" if self.matches(obj) else None
        now, before = self.matches(obj), self.matches(old)
        if now and before:
            return "MODIFIED"
        if now:
            return "ADDED"
        if before:
            return "DELETED"
        return None


# --------------------------------------------------------------------------
# server

class KubeAPIServer(object):
    """An in-memory Kubernetes API server over HTTPS on a free loopback port."""

    def __init__(self, workdir, token="test-token", groups=None, exclude_groups=(), bookmark_interval=1.0,
                 max_watch_seconds=60.0, strip_item_kinds=False, resources=None, log_path=None,
                 history_limit=None):
        self.workdir = workdir
        self.token = token
        self.bookmark_interval = bookmark_interval
        self.max_watch_seconds = max_watch_seconds
        self.strip_item_kinds = strip_item_kinds
        self.history_limit = history_limit  # keep at most this many events (older ones are compacted)
        self.resources = list(resources or DEFAULT_RESOURCES)
        all_groups = {rt.group for rt in self.resources}
        served = set(all_groups if groups is None else groups)
        self.served_groups = served - set(exclude_groups)
        self.log_path = log_path or os.path.join(workdir, "kube-api.log")
        self.url = None
        self.port = None
        self.ca_path = None
        self.cert_path = None
        self.key_path = None
        self.requests = SafeList()        # Request(method, path, query-dict)
        self.status_updates = SafeList()  # dicts, see _record_write
        self.writes = SafeList()          # every HTTP write (POST/PUT/PATCH/DELETE)
        self._cond = threading.Condition(threading.Lock())
        self._rv = 0
        self._compacted_rv = 0
        self._objects = {}   # (group, version, plural, namespace, name) -> object
        self._history = []   # (rv, rt, etype, obj, old)
        self._watches = set()
        self._conns = set()
        self._failures = []  # [dict(status, count, method, path_contains)]
        self._stopping = False
        self._httpd = None
        self._thread = None
        self._log_lock = threading.Lock()

    # ---- lifecycle

    def start(self):
        self.ca_path, self.cert_path, self.key_path = make_certificates(self.workdir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        ctx.set_alpn_protocols(["http/1.1"])
        handler = type("BoundKubeHandler", (_Handler,), {"api": self})
        httpd = _Server((LOOPBACK, 0), handler)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.url = "https://%s:%d" % (LOOPBACK, self.port)
        self._stopping = False
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="kube-api-%d" % self.port, daemon=True)
        self._thread.start()
        self._log("started on %s" % self.url)
        return self

    def stop(self):
        if self._httpd is None:
            return
        with self._cond:
            self._stopping = True
            for w in self._watches:
                w.cut = True
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._cond:
            conns = list(self._conns)
        for c in conns:
            _hard_close(c)
        self._thread.join(timeout=5)
        deadline = time.monotonic() + 5
        with self._cond:
            while self._watches and time.monotonic() < deadline:
                self._cond.wait(0.1)
        self._httpd = None
        self._log("stopped")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def write_kubeconfig(self, path, namespace="default"):
        text = ("apiVersion: v1\nkind: Config\n"
                "clusters:\n- name: e2e\n  cluster:\n    server: %s\n    certificate-authority: %s\n"
                "users:\n- name: e2e\n  user:\n    token: %s\n"
                "contexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: e2e\n    namespace: %s\n"
                "current-context: e2e\n") % (self.url, json.dumps(self.ca_path), json.dumps(self.token), namespace)
        with open(path, "w") as f:
            f.write(text)
        return path

    def ssl_context(self):
        """A client context trusting the server's CA (for the tests' own requests)."""
        return ssl.create_default_context(cafile=self.ca_path)

    # ---- resource types

    def resource_type(self, api_version, kind):
        g, v = split_api_version(api_version)
        for rt in self.resources:
            if rt.group == g and rt.version == v and rt.kind == kind:
                return rt
        raise ValueError("unknown kind %s %s" % (api_version, kind))

    def register_kind(self, api_version, kind, plural, namespaced=True, status=False):
        g, v = split_api_version(api_version)
        rt = _rt(g, v, kind, plural, namespaced=namespaced, status=status)
        self.resources.append(rt)
        self.served_groups.add(g)
        return rt

    def _rt_for_path(self, group, version, plural):
        for rt in self.resources:
            if rt.group == group and rt.version == version and rt.plural == plural:
                return rt
        return None

    def _group_versions(self, group):
        versions = []
        for rt in self.resources:
            if rt.group == group and rt.version not in versions:
                versions.append(rt.version)
        return sorted(versions, key=_version_priority)

    # ---- store (test side)

    @property
    def resource_version(self):
        with self._cond:
            return str(self._rv)

    def apply(self, obj):
        """Create or replace an object (dict with apiVersion, kind, metadata.name[, namespace]); returns the
        stored copy. A replace that changes nothing is a no-op (same resourceVersion, no event)."""
        rt = self.resource_type(obj["apiVersion"], obj["kind"])
        obj = copy.deepcopy(obj)
        md = obj.setdefault("metadata", {})
        if not md.get("name"):
            raise ValueError("metadata.name is required")
        if rt.namespaced:
            md.setdefault("namespace", "default")
        else:
            md.pop("namespace", None)
        with self._cond:
            key = self._key(rt, md.get("namespace"), md["name"])
            return copy.deepcopy(self._put(rt, key, obj, keep_status=False))

    def apply_yaml(self, text):
        """Apply every document of a YAML text (List kinds are expanded); returns the stored objects."""
        import yaml
        out = []
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            items = doc.get("items", []) if doc.get("kind", "").endswith("List") else [doc]
            for item in items:
                out.append(self.apply(item))
        return out

    def delete(self, api_version, kind, namespace, name):
        """Delete an object; returns its last state (with the deletion's resourceVersion) or None."""
        rt = self.resource_type(api_version, kind)
        with self._cond:
            key = self._key(rt, namespace, name)
            if key not in self._objects:
                return None
            return copy.deepcopy(self._delete(rt, key))

    def get(self, api_version, kind, namespace, name):
        rt = self.resource_type(api_version, kind)
        with self._cond:
            obj = self._objects.get(self._key(rt, namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def objects(self, api_version, kind, namespace=None):
        rt = self.resource_type(api_version, kind)
        with self._cond:
            return [copy.deepcopy(o) for k, o in sorted(self._objects.items())
                    if k[:3] == (rt.group, rt.version, rt.plural) and (namespace is None or k[3] == namespace)]

    def update_status(self, api_version, kind, namespace, name, status):
        """Set the status of an object as a controller would (a MODIFIED event when it changes)."""
        rt = self.resource_type(api_version, kind)
        with self._cond:
            key = self._key(rt, namespace, name)
            cur = self._objects.get(key)
            if cur is None:
                raise KeyError(name)
            new = copy.deepcopy(cur)
            new["status"] = copy.deepcopy(status)
            return copy.deepcopy(self._put(rt, key, new, keep_status=False))

    # ---- test controls

    def compact(self):
        """Forget the event history up to now: watches from an older resourceVersion get 410 Expired."""
        with self._cond:
            self._compacted_rv = self._rv
            self._history = []
            return str(self._rv)

    def cut_watches(self, graceful=False):
        """End every open watch stream: abruptly (connection closed mid-stream, no final chunk) or, with
        graceful=True, as a server timeout does (final chunk). Returns how many were cut."""
        with self._cond:
            watches = list(self._watches)
            for w in watches:
                w.cut = True
                w.graceful = graceful
            self._cond.notify_all()
        if not graceful:
            for w in watches:
                _hard_close(w.conn)
        return len(watches)

    def watch_count(self):
        with self._cond:
            return len(self._watches)

    def wait_for_watchers(self, n, timeout=10.0):
        """Wait until at least n watch streams are open; True if reached within timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._watches) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.2))
            return True

    def wait_for_request(self, predicate, timeout=10.0):
        """Wait until a recorded Request satisfies predicate(req); returns it or None."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.requests.snapshot():
                if predicate(r):
                    return r
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def inject_failure(self, status=500, count=1, method=None, path_contains=None):
        """Answer the next `count` matching requests (after auth) with a Status of code `status`."""
        with self._cond:
            self._failures.append({"status": status, "count": count, "method": method,
                                   "path_contains": path_contains})

    # ---- internals (called with self._cond held)

    @staticmethod
    def _key(rt, namespace, name):
        return (rt.group, rt.version, rt.plural, namespace if rt.namespaced else None, name)

    def _next_rv(self):
        self._rv += 1
        return str(self._rv)

    def _put(self, rt, key, obj, keep_status):
        cur = self._objects.get(key)
        obj["apiVersion"] = join_api_version(rt.group, rt.version)
        obj["kind"] = rt.kind
        md = obj.setdefault("metadata", {})
        if keep_status and cur is not None:
            if "status" in cur:
                obj["status"] = copy.deepcopy(cur["status"])
            else:
                obj.pop("status", None)
        if cur is not None:
            if _content(cur) == _content(obj):
                return cur
            cmd = cur["metadata"]
            md["uid"] = cmd["uid"]
            md["creationTimestamp"] = cmd["creationTimestamp"]
            gen = cmd.get("generation", 1)
            if _spec_part(cur) != _spec_part(obj):
                gen += 1
            md["generation"] = gen
        else:
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = _now()
            md["generation"] = 1
        md.pop("managedFields", None)
        md["resourceVersion"] = self._next_rv()
        self._objects[key] = obj
        self._emit(rt, "MODIFIED" if cur is not None else "ADDED", obj, cur)
        return obj

    def _delete(self, rt, key):
        cur = self._objects.pop(key)
        gone = copy.deepcopy(cur)
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._emit(rt, "DELETED", gone, cur)
        return gone

    def _emit(self, rt, etype, obj, old):
        self._history.append((self._rv, rt, etype, obj, old))
        if self.history_limit is not None:
            while len(self._history) > max(0, self.history_limit):
                self._compacted_rv = self._history.pop(0)[0]
        for w in self._watches:
            if w.rt is rt or w.rt == rt:
                t = w.translate(etype, obj, old)
                if t is not None:
                    w.queue.append((t, obj))
        self._cond.notify_all()

    def _log(self, line):
        with self._log_lock:
            try:
                with open(self.log_path, "a") as f:
                    f.write("%s %s\n" % (time.strftime("%H:%M:%S"), line))
            except OSError:
                pass

    def _take_failure(self, method, path):
        with self._cond:
            for f in self._failures:
                if f["count"] <= 0:
                    continue
                if f["method"] and f["method"] != method:
                    continue
                if f["path_contains"] and f["path_contains"] not in path:
                    continue
                f["count"] -= 1
                return f["status"]
        return None


def _content(obj):
    o = copy.deepcopy(obj)
    md = o.get("metadata", {})
    for k in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        md.pop(k, None)
    return o


def _spec_part(obj):
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _version_priority(v):
    # v1 > v1beta1 > v1alpha1 (kube version sorting, enough for the versions here)
    import re
    m = re.match(r"v(\d+)(?:(alpha|beta)(\d+))?$", v)
    if not m:
        return (3, v)
    stability = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stability, -int(m.group(1)), -int(m.group(3) or 0))


def _hard_close(conn):
    """Tear a connection down from another thread without touching its SSL object."""
    try:
        socket.socket.shutdown(conn, socket.SHUT_RDWR)
    except (OSError, ValueError, TypeError):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        pass  # a client that went away, a failed handshake: not our business


# --------------------------------------------------------------------------
# request handling

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-e2e"
    timeout = 60
    api = None  # set on the bound subclass

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        with self.api._cond:
            self.api._conns.add(self.connection)

    def finish(self):
        try:
            BaseHTTPRequestHandler.finish(self)
        except (OSError, ValueError):
            pass
        with self.api._cond:
            self.api._conns.discard(self.connection)

    def handle(self):
        try:
            self.connection.do_handshake()
        except (OSError, ssl.SSLError, ValueError):
            self.close_connection = True
            return
        try:
            BaseHTTPRequestHandler.handle(self)
        except (OSError, ssl.SSLError, ValueError):
            self.close_connection = True

    def log_message(self, fmt, *args):
        self.api._log("%s %s" % (self.address_string(), fmt % args))

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("HEAD")

    # ---- plumbing

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            for _ in range(100000):
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    for _ in range(100):  # trailers
                        if self.rfile.readline(65536) in (b"\r\n", b"\n", b""):
                            break
                    break
                data += self.rfile.read(size)
                self.rfile.readline(1024)
            return data
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send_json(self, code, body, extra_headers=()):
        data = json.dumps(body).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, err):
        self._send_json(err.code, err.status)

    def _dispatch(self, method):
        api = self.api
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        api.requests.append(Request(method, path, query))
        body = b""
        try:
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                body = self._read_body()
            auth = self.headers.get("Authorization") or ""
            if auth != "Bearer %s" % api.token:
                raise APIError(401, "Unauthorized", "Unauthorized")
            status = api._take_failure(method, path)
            if status is not None:
                raise APIError(status, {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
                                        403: "Forbidden", 410: "Expired", 504: "Timeout"}.get(status, "Unknown"),
                               "injected failure %d" % status)
            self._route(method, path, query, body)
        except APIError as e:
            self._send_error(e)
        except SelectorError as e:
            self._send_error(APIError(400, "BadRequest", str(e)))
        except (OSError, ssl.SSLError):
            self.close_connection = True

    def _route(self, method, path, query, body):
        api = self.api
        segs = [urllib.parse.unquote(s) for s in path.split("/") if s]
        if method not in ("GET", "HEAD") and (len(segs) < 3 or segs[0] not in ("api", "apis")):
            raise APIError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if segs in (["healthz"], ["livez"], ["readyz"]):
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if segs == ["version"]:
            return self._send_json(200, KUBE_VERSION)
        if segs == ["api"]:
            return self._send_json(200, {"kind": "APIVersions", "versions": ["v1"] if "" in api.served_groups else [],
                                         "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                         "serverAddress": "%s:%d" % (LOOPBACK, api.port)}]})
        if segs == ["apis"]:
            groups = [self._api_group(g) for g in self._served_named_groups()]
            return self._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        if segs[:1] == ["api"] and len(segs) >= 2:
            group, version, rest = "", segs[1], segs[2:]
        elif segs[:1] == ["apis"] and len(segs) >= 2:
            group = segs[1]
            if group not in api.served_groups or group == "":
                raise _page_not_found()
            if len(segs) == 2:
                return self._send_json(200, self._api_group(group))
            version, rest = segs[2], segs[3:]
        else:
            raise _page_not_found()
        if group not in api.served_groups or version not in api._group_versions(group):
            raise _page_not_found()
        if not rest:
            if method != "GET" and method != "HEAD":
                raise APIError(405, "MethodNotAllowed", "method not allowed")
            return self._send_json(200, self._resource_list(group, version))
        watch_path = False
        if rest[0] == "watch":
            watch_path, rest = True, rest[1:]
        namespace = None
        if (len(rest) >= 3 and rest[0] == "namespaces"
                and api._rt_for_path(group, version, rest[2]) is not None):
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise _page_not_found()
        rt = api._rt_for_path(group, version, rest[0])
        if rt is None or (namespace is not None and not rt.namespaced):
            raise _page_not_found()
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else None
        if sub is not None and (sub != "status" or not rt.status):
            raise _page_not_found()
        if rt.namespaced and name is not None and namespace is None:
            raise _page_not_found()
        watch = watch_path or query.get("watch", "").lower() in ("1", "true")
        if method in ("GET", "HEAD"):
            if watch:
                if name is not None:
                    query = dict(query)
                    sel = "metadata.name=%s" % name
                    query["fieldSelector"] = sel + ("," + query["fieldSelector"] if query.get("fieldSelector") else "")
                return self._watch(rt, namespace, query)
            if name is None:
                return self._list(rt, namespace, query)
            with api._cond:
                obj = api._objects.get(api._key(rt, namespace, name))
                obj = copy.deepcopy(obj) if obj is not None else None
            if obj is None:
                raise _not_found(rt, name)
            return self._send_json(200, obj)
        return self._write(method, rt, namespace, name, sub, query, body)

    # ---- discovery

    def _served_named_groups(self):
        api = self.api
        out = []
        for rt in api.resources:
            if rt.group and rt.group in api.served_groups and rt.group not in out:
                out.append(rt.group)
        return out

    def _api_group(self, group):
        versions = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in self.api._group_versions(group)]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
                "preferredVersion": versions[0]}

    def _resource_list(self, group, version):
        resources = []
        for rt in self.api.resources:
            if rt.group != group or rt.version != version:
                continue
            r = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
                 "verbs": list(ALL_VERBS)}
            if rt.short_names:
                r["shortNames"] = list(rt.short_names)
            resources.append(r)
            if rt.status:
                resources.append({"name": rt.plural + "/status", "singularName": "", "namespaced": rt.namespaced,
                                  "kind": rt.kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": join_api_version(group, version),
                "resources": resources}

    # ---- list

    def _list(self, rt, namespace, query):
        api = self.api
        label_reqs = parse_label_selector(query.get("labelSelector", ""))
        field_reqs = parse_field_selector(query.get("fieldSelector", ""))
        limit = int(query.get("limit") or 0)
        cont = query.get("continue") or ""
        start_after = None
        with api._cond:
            list_rv = api._rv
            if cont:
                try:
                    token = json.loads(base64.urlsafe_b64decode(cont.encode("ascii") + b"==").decode("utf-8"))
                    list_rv, start_after = int(token["rv"]), tuple(token["start"])
                except (ValueError, KeyError, TypeError):
                    raise APIError(400, "BadRequest", "invalid continue token")
                if list_rv < api._compacted_rv:
                    raise APIError(410, "Expired", "The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without the continue parameter.")
            rv_param = query.get("resourceVersion", "")
            if query.get("resourceVersionMatch") == "Exact" and rv_param:
                n = _parse_rv(rv_param)
                if n < api._compacted_rv:
                    raise APIError(410, "Expired", "too old resource version: %d (%d)" % (n, api._compacted_rv))
            items = []
            for key in sorted(api._objects, key=lambda k: (k[3] or "", k[4])):
                if key[:3] != (rt.group, rt.version, rt.plural):
                    continue
                pos = (key[3] or "", key[4])
                if start_after is not None and pos <= start_after:
                    continue
                obj = api._objects[key]
                md = obj.get("metadata", {})
                if namespace is not None and md.get("namespace") != namespace:
                    continue
                if not labels_match(label_reqs, md.get("labels")) or not fields_match(field_reqs, obj):
                    continue
                items.append((pos, copy.deepcopy(obj)))
        meta = {"resourceVersion": str(list_rv)}
        if limit > 0 and len(items) > limit:
            rest = len(items) - limit
            items = items[:limit]
            token = {"rv": list_rv, "start": list(items[-1][0])}
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(token).encode("utf-8")).decode("ascii").rstrip("=")
            meta["remainingItemCount"] = rest
        objs = [o for _, o in items]
        if api.strip_item_kinds:
            for o in objs:
                o.pop("kind", None)
                o.pop("apiVersion", None)
        self._send_json(200, {"kind": rt.kind + "List", "apiVersion": join_api_version(rt.group, rt.version),
                              "metadata": meta, "items": objs})

    # ---- watch

    def _watch(self, rt, namespace, query):
        api = self.api
        label_reqs = parse_label_selector(query.get("labelSelector", ""))
        field_reqs = parse_field_selector(query.get("fieldSelector", ""))
        bookmarks = query.get("allowWatchBookmarks", "").lower() in ("1", "true")
        initial_events = query.get("sendInitialEvents", "").lower() in ("1", "true")
        timeout = api.max_watch_seconds
        if query.get("timeoutSeconds"):
            try:
                timeout = min(float(query["timeoutSeconds"]), api.max_watch_seconds)
            except ValueError:
                raise APIError(400, "BadRequest", "invalid timeoutSeconds")
        rv_param = query.get("resourceVersion", "")
        n = None if rv_param in ("", "0") else _parse_rv(rv_param)
        if api._stopping:
            raise APIError(503, "ServiceUnavailable", "server is shutting down")
        w = _Watch(rt, namespace, label_reqs, field_reqs, self.connection)
        api_version = join_api_version(rt.group, rt.version)
        # headers first (a real server answers 200 and then streams; an expired version is an ERROR event)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        expired = None
        initial_end_rv = None
        with api._cond:
            if n is None or initial_events:
                # synthetic ADDED events for the current state, then live events
                for key in sorted(api._objects, key=lambda k: (k[3] or "", k[4])):
                    if key[:3] == (rt.group, rt.version, rt.plural) and w.matches(api._objects[key]):
                        w.queue.append(("ADDED", api._objects[key]))
                if initial_events:
                    initial_end_rv = api._rv
            elif n < api._compacted_rv:
                expired = "too old resource version: %d (%d)" % (n, api._compacted_rv)
            else:
                for ev_rv, ev_rt, etype, obj, old in api._history:
                    if ev_rv > n and ev_rt == rt:
                        t = w.translate(etype, obj, old)
                        if t is not None:
                            w.queue.append((t, obj))
            if expired is None and not api._stopping:
                api._watches.add(w)
                api._cond.notify_all()
            else:
                w.cut = True
        if expired is not None:
            api._log("watch %s from %s: expired" % (rt.plural, rv_param))
            self._chunk({"type": "ERROR", "object": status_object(410, "Expired", expired)})
            self._end_chunks()
            return
        abrupt = False
        try:
            if w.cut:
                raise OSError("server stopping")
            if initial_end_rv is not None:
                with api._cond:
                    events = list(w.queue)
                    w.queue.clear()
                for etype, obj in events:
                    self._chunk({"type": etype, "object": obj})
                self._chunk({"type": "BOOKMARK", "object": {
                    "kind": rt.kind, "apiVersion": api_version,
                    "metadata": {"resourceVersion": str(initial_end_rv),
                                 "annotations": {"k8s.io/initial-events-end": "true"}}}})
            start = time.monotonic()
            deadline = start + timeout
            next_bookmark = start + api.bookmark_interval if bookmarks else None
            while True:
                with api._cond:
                    while True:
                        now = time.monotonic()
                        if w.queue or w.cut or api._stopping or now >= deadline:
                            break
                        if next_bookmark is not None and now >= next_bookmark:
                            break
                        wake = deadline if next_bookmark is None else min(deadline, next_bookmark)
                        api._cond.wait(max(0.001, min(wake - now, 0.5)))
                    if w.cut or api._stopping:
                        abrupt = not w.graceful
                        break
                    events = list(w.queue)
                    w.queue.clear()
                    bookmark_rv = None
                    now = time.monotonic()
                    if next_bookmark is not None and now >= next_bookmark:
                        bookmark_rv = api._rv
                        next_bookmark = now + api.bookmark_interval
                    done = now >= deadline
                for etype, obj in events:
                    self._chunk({"type": etype, "object": obj})
                if bookmark_rv is not None:
                    self._chunk({"type": "BOOKMARK", "object": {
                        "kind": rt.kind, "apiVersion": api_version,
                        "metadata": {"resourceVersion": str(bookmark_rv)}}})
                if done:
                    break
        except (OSError, ssl.SSLError, ValueError):
            abrupt = True
        finally:
            with api._cond:
                api._watches.discard(w)
                api._cond.notify_all()
        if abrupt:
            self.close_connection = True
            _hard_close(self.connection)
        else:
            try:
                self._end_chunks()
            except (OSError, ssl.SSLError, ValueError):
                self.close_connection = True

    def _chunk(self, event):
        data = (json.dumps(event, separators=(",", ":")) + "\n").encode("utf-8")
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")

    # ---- writes

    def _write(self, method, rt, namespace, name, sub, query, body):
        api = self.api
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        dry_run = bool(query.get("dryRun"))
        if method == "POST":
            if name is not None:
                raise APIError(405, "MethodNotAllowed", "POST is only allowed on collections")
        elif name is None:
            raise APIError(405, "MethodNotAllowed", "%s needs an object name" % method)
        try:
            if method == "PATCH":
                if ctype == "application/apply-patch+yaml":
                    import yaml
                    payload = yaml.safe_load(body.decode("utf-8")) if body else {}
                else:
                    payload = json.loads(body.decode("utf-8")) if body else {}
            elif method in ("POST", "PUT"):
                payload = json.loads(body.decode("utf-8")) if body else None
            else:
                payload = json.loads(body.decode("utf-8")) if body.strip() else None
        except (ValueError, UnicodeDecodeError) as e:
            raise APIError(400, "BadRequest", "the body of the request could not be decoded: %s" % e)
        if method in ("POST", "PUT") and not isinstance(payload, dict):
            raise APIError(400, "BadRequest", "the body must be an object")
        record = {"method": method, "api_version": join_api_version(rt.group, rt.version), "kind": rt.kind,
                  "namespace": namespace, "name": name, "subresource": sub, "content_type": ctype,
                  "body": payload, "code": None, "object": None}
        try:
            code, obj = self._apply_write(method, rt, namespace, name, sub, ctype, payload, dry_run)
        except APIError as e:
            record["code"] = e.code
            api.writes.append(record)
            if sub == "status":
                api.status_updates.append(record)
            raise
        record["code"], record["object"] = code, copy.deepcopy(obj)
        api.writes.append(record)
        if sub == "status":
            api.status_updates.append(record)
        self._send_json(code, obj)

    def _apply_write(self, method, rt, namespace, name, sub, ctype, payload, dry_run):
        api = self.api
        with api._cond:
            if method == "POST":
                md = payload.setdefault("metadata", {})
                name = md.get("name")
                if not name:
                    raise APIError(422, "Invalid", "metadata.name: Required value")
                if rt.namespaced:
                    if md.get("namespace") and md["namespace"] != namespace:
                        raise APIError(400, "BadRequest", "the namespace of the provided object does not match "
                                       "the namespace sent on the request")
                    md["namespace"] = namespace
                else:
                    md.pop("namespace", None)
                key = api._key(rt, namespace, name)
                if key in api._objects:
                    res = rt.plural if not rt.group else "%s.%s" % (rt.plural, rt.group)
                    raise APIError(409, "AlreadyExists", '%s "%s" already exists' % (res, name),
                                   {"name": name, "group": rt.group, "kind": rt.plural})
                for k in ("resourceVersion", "uid", "creationTimestamp", "generation"):
                    md.pop(k, None)
                if dry_run:
                    return 201, payload
                return 201, copy.deepcopy(api._put(rt, key, payload, keep_status=False))
            key = api._key(rt, namespace, name)
            cur = api._objects.get(key)
            if cur is None:
                raise _not_found(rt, name)
            if method == "DELETE":
                if dry_run:
                    return 200, copy.deepcopy(cur)
                return 200, copy.deepcopy(api._delete(rt, key))
            if method == "PUT":
                new = copy.deepcopy(payload)
                md = new.setdefault("metadata", {})
                if md.get("name") and md["name"] != name:
                    raise APIError(400, "BadRequest", "the name of the object (%s) does not match the name on "
                                   "the URL (%s)" % (md["name"], name))
                sent_rv = md.get("resourceVersion")
                if sent_rv and sent_rv != cur["metadata"]["resourceVersion"]:
                    res = rt.plural if not rt.group else "%s.%s" % (rt.plural, rt.group)
                    raise APIError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been '
                                   'modified; please apply your changes to the latest version and try again'
                                   % (res, name), {"name": name, "group": rt.group, "kind": rt.plural})
            else:  # PATCH
                try:
                    if ctype == "application/json-patch+json":
                        new = json_patch(cur, payload if isinstance(payload, list) else [])
                    elif ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                                   "application/apply-patch+yaml"):
                        new = merge_patch(cur, payload)
                    else:
                        raise APIError(415, "UnsupportedMediaType",
                                       'the body of the request was in an unknown format - accepted media types '
                                       'include: application/json-patch+json, application/merge-patch+json, '
                                       'application/apply-patch+yaml')
                except (ValueError, KeyError, IndexError, TypeError) as e:
                    raise APIError(422, "Invalid", "the patch could not be applied: %s" % e)
                if not isinstance(new, dict):
                    raise APIError(422, "Invalid", "the patch did not produce an object")
                md = new.setdefault("metadata", {})
                sent_rv = (payload.get("metadata") or {}).get("resourceVersion") if isinstance(payload, dict) else None
                if sent_rv and sent_rv != cur["metadata"]["resourceVersion"]:
                    raise APIError(409, "Conflict", "the object has been modified; please apply your changes to "
                                   "the latest version and try again")
            md["name"] = name
            if rt.namespaced:
                md["namespace"] = namespace
            else:
                md.pop("namespace", None)
            if sub == "status":
                # only status changes; everything else stays as stored
                status_only = copy.deepcopy(cur)
                if "status" in new:
                    status_only["status"] = new["status"]
                else:
                    status_only.pop("status", None)
                new = status_only
                keep_status = False
            else:
                keep_status = rt.status
            for k in ("uid", "creationTimestamp", "generation", "resourceVersion"):
                md.pop(k, None)
            if dry_run:
                return 200, new
            return 200, copy.deepcopy(api._put(rt, key, new, keep_status=keep_status))


def _parse_rv(text):
    try:
        n = int(text)
    except ValueError:
        raise APIError(400, "BadRequest", "invalid resource version %r" % text)
    if n < 0:
        raise APIError(400, "BadRequest", "invalid resource version %r" % text)
    return n
