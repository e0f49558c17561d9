"""The deployment files under deploy/: Kubernetes manifests, CRDs, RBAC, the systemd unit and its static
configuration. No cluster and no Switchyard binary needed, except test_75j and test_75l (skipped without the
binary) and test_75k (kubectl against the test API server of kube_api.py; skipped without either).

The CRD checks use a small validator of the structural OpenAPI v3 subset the CRDs use (type, properties,
required, items, enum, additionalProperties, x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields):
an unknown field is an error unless its object preserves unknown fields, as the API server's strict field
validation would report it.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(REPO_ROOT, "deploy")
STATIC_CONFIG = os.path.join(DEPLOY, "switchyard.yml")  # Switchyard's static configuration, not a manifest
UNIT = os.path.join(DEPLOY, "switchyard.service")

GROUP = "switchyard.dev"
CRD_KINDS = {
    "IngressRoute": "ingressroutes", "IngressRouteTCP": "ingressroutetcps", "IngressRouteUDP": "ingressrouteudps",
    "Middleware": "middlewares", "MiddlewareTCP": "middlewaretcps", "TraefikService": "traefikservices",
    "TLSOption": "tlsoptions", "TLSStore": "tlsstores", "ServersTransport": "serverstransports",
    "ServersTransportTCP": "serverstransporttcps",
}
READ_VERBS = {"get", "list", "watch"}
STATUS_VERBS = {"update", "patch"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# --------------------------------------------------------------------------
# loading

def manifest_files():
    files = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True)
                   + glob.glob(os.path.join(DEPLOY, "**", "*.yml"), recursive=True))
    return [f for f in files if os.path.abspath(f) != os.path.abspath(STATIC_CONFIG)]


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def all_docs():
    """[(relative path, document)] of every manifest under deploy/."""
    out = []
    for path in manifest_files():
        for doc in load_docs(path):
            out.append((os.path.relpath(path, REPO_ROOT), doc))
    return out


def docs_in(relative):
    path = os.path.join(DEPLOY, relative)
    files = sorted(glob.glob(os.path.join(path, "*.yaml"))) if os.path.isdir(path) else [path]
    return [d for f in files for d in load_docs(f)]


def find(docs, kind, name=None, namespace=None):
    found = [d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)
             and (namespace is None or d["metadata"].get("namespace") == namespace)]
    return found


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def crds():
    """{kind: CRD document} of deploy/crds/."""
    return {d["spec"]["names"]["kind"]: d for d in docs_in("crds") if d.get("kind") == "CustomResourceDefinition"}


def crd_schema(crd, version="v1alpha1"):
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            return v["schema"]["openAPIV3Schema"]
    raise KeyError(version)


# --------------------------------------------------------------------------
# the structural-schema subset

SCHEMA_KEYS = {"type", "description", "properties", "required", "items", "enum", "format", "additionalProperties",
               "anyOf", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "minimum", "maximum",
               "pattern", "default", "nullable", "minItems", "maxItems", "minLength", "maxLength"}
TYPES = {"object", "array", "string", "integer", "number", "boolean"}


def structural_errors(node, path="openAPIV3Schema"):
    """Why node is not a structural schema of the subset we use; [] when it is."""
    errors = []
    if not isinstance(node, dict):
        return ["%s: not a mapping" % path]
    unknown = set(node) - SCHEMA_KEYS
    if unknown:
        errors.append("%s: unknown schema keywords %s" % (path, sorted(unknown)))
    if "description" in node and not isinstance(node["description"], str):
        errors.append("%s: description is not a string" % path)
    if node.get("x-kubernetes-int-or-string"):
        if "type" in node:
            errors.append("%s: x-kubernetes-int-or-string with a type" % path)
        if "anyOf" in node and node["anyOf"] != [{"type": "integer"}, {"type": "string"}]:
            errors.append("%s: int-or-string anyOf must be [integer, string]" % path)
        return errors
    if "anyOf" in node:
        errors.append("%s: anyOf outside int-or-string" % path)
    t = node.get("type")
    if t not in TYPES:
        errors.append("%s: missing or unknown type %r" % (path, t))
        return errors
    if "x-kubernetes-preserve-unknown-fields" in node:
        if node["x-kubernetes-preserve-unknown-fields"] is not True:
            errors.append("%s: x-kubernetes-preserve-unknown-fields must be true" % path)
        if t != "object":
            errors.append("%s: preserve-unknown-fields on a %s" % (path, t))
    if "enum" in node:
        py = {"string": str, "integer": int, "number": (int, float), "boolean": bool}.get(t)
        if not isinstance(node["enum"], list) or not node["enum"]:
            errors.append("%s: empty enum" % path)
        elif py is not None and not all(isinstance(v, py) for v in node["enum"]):
            errors.append("%s: enum values are not %s" % (path, t))
    if t == "object":
        props = node.get("properties")
        addl = node.get("additionalProperties")
        if props is not None and addl is not None:
            errors.append("%s: both properties and additionalProperties" % path)
        if props is not None:
            if not isinstance(props, dict):
                errors.append("%s: properties is not a mapping" % path)
            else:
                for key, sub in props.items():
                    errors.extend(structural_errors(sub, "%s.%s" % (path, key)))
        if isinstance(addl, dict):
            errors.extend(structural_errors(addl, "%s.*" % path))
        elif addl is not None and addl is not False:
            errors.append("%s: additionalProperties must be a schema" % path)
        for key in node.get("required", []):
            if key not in (props or {}):
                errors.append("%s: required %r is not a property" % (path, key))
    else:
        for key in ("properties", "additionalProperties", "required"):
            if key in node:
                errors.append("%s: %s on a %s" % (path, key, t))
    if t == "array":
        if not isinstance(node.get("items"), dict):
            errors.append("%s: array without items" % path)
        else:
            errors.extend(structural_errors(node["items"], path + "[]"))
    elif "items" in node:
        errors.append("%s: items on a %s" % (path, t))
    return errors


def validate(schema, value, path="$"):
    """Errors of value against schema (the subset above); [] when it is valid."""
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return ["%s: %r is neither an integer nor a string" % (path, value)]
        return []
    t = schema.get("type")
    checks = {"object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
              "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}
    if t in checks and not checks[t](value):
        return ["%s: %r is not a %s" % (path, value, t)]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r is not one of %s" % (path, value, schema["enum"]))
    if t == "object":
        props = schema.get("properties", {})
        addl = schema.get("additionalProperties")
        for key in schema.get("required", []):
            if key not in value:
                errors.append("%s: %s is required" % (path, key))
        for key, sub in value.items():
            where = "%s.%s" % (path, key)
            if key in props:
                errors.extend(validate(props[key], sub, where))
            elif isinstance(addl, dict):
                errors.extend(validate(addl, sub, where))
            elif not schema.get("x-kubernetes-preserve-unknown-fields"):
                errors.append("%s: unknown field" % where)
    elif t == "array":
        for index, item in enumerate(value):
            errors.extend(validate(schema["items"], item, "%s[%d]" % (path, index)))
    return errors


def validate_object(crd, doc):
    """A custom object against its CRD; metadata is the API server's (ObjectMeta), not the schema's."""
    schema = crd_schema(crd, doc["apiVersion"].split("/")[1])
    body = {k: v for k, v in doc.items() if k != "metadata"}
    trimmed = dict(schema, required=[r for r in schema.get("required", []) if r != "metadata"])
    return validate(trimmed, body, doc["kind"] + "/" + doc["metadata"]["name"])


# --------------------------------------------------------------------------
# systemd unit

def parse_unit(path):
    """{section: [(key, value)]}, keys may repeat."""
    sections = {}
    current = None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], [])
                continue
            key, _, value = line.partition("=")
            if current is None or not _:
                raise ValueError("%s: bad line %r" % (path, raw))
            current.append((key.strip(), value.strip()))
    return sections


def unit_values(section, key):
    return [v for k, v in section if k == key]


# --------------------------------------------------------------------------

def container_port(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    raise AssertionError("named port %r not declared by container %s" % (port, container["name"]))


class DeployManifestTests(unittest.TestCase):
    maxDiff = None

    def test_75a_every_manifest_parses_and_is_named(self):
        files = manifest_files()
        self.assertTrue(files, "no YAML under %s" % DEPLOY)
        seen = {}
        docs = all_docs()
        self.assertGreater(len(docs), 20)
        for path, doc in docs:
            with self.subTest(path=path, doc=str(doc)[:80]):
                self.assertIsInstance(doc, dict)
                self.assertIsInstance(doc.get("apiVersion"), str)
                self.assertIsInstance(doc.get("kind"), str)
                name = (doc.get("metadata") or {}).get("name")
                self.assertIsInstance(name, str)
                self.assertTrue(DNS_SUBDOMAIN.match(name) and len(name) <= 253, name)
                namespace = doc["metadata"].get("namespace")
                if namespace is not None:
                    self.assertTrue(DNS_LABEL.match(namespace), namespace)
                key = (group_of(doc["apiVersion"]), doc["kind"], namespace, name)
                self.assertNotIn(key, seen, "defined twice: in %s and %s" % (seen.get(key), path))
                seen[key] = path
        with open(STATIC_CONFIG) as f:
            static = yaml.safe_load(f)
        self.assertIn("entryPoints", static)

    def test_75b_crds_are_the_traefik_kinds_in_switchyard_dev(self):
        found = crds()
        self.assertEqual(set(found), set(CRD_KINDS))
        for kind, crd in found.items():
            with self.subTest(kind=kind):
                spec = crd["spec"]
                plural = CRD_KINDS[kind]
                self.assertEqual(crd["apiVersion"], "apiextensions.k8s.io/v1")
                self.assertEqual(spec["group"], GROUP)
                self.assertEqual(crd["metadata"]["name"], "%s.%s" % (plural, GROUP))
                self.assertEqual(spec["names"]["plural"], plural)
                self.assertEqual(spec["names"]["singular"], kind.lower())
                self.assertEqual(spec["names"]["listKind"], kind + "List")
                self.assertEqual(spec["scope"], "Namespaced")
                versions = spec["versions"]
                self.assertEqual([v["name"] for v in versions], ["v1alpha1"])
                self.assertTrue(versions[0]["served"])
                self.assertTrue(versions[0]["storage"])
                schema = crd_schema(crd)
                self.assertEqual(schema["type"], "object")
                self.assertIn("spec", schema["properties"])
                for column in versions[0].get("additionalPrinterColumns", []):
                    self.assertIn(column["type"], {"string", "integer", "number", "boolean", "date"})
                    self.assertTrue(column["jsonPath"].startswith("."), column)
                    # the column's path exists in the schema (or is metadata)
                    node = schema
                    for part in re.findall(r"\.([A-Za-z]+)", column["jsonPath"]):
                        if node.get("type") == "array":
                            node = node["items"]
                        if part in ("metadata",) or node is None:
                            node = None
                            break
                        self.assertIn(part, node.get("properties", {}), column["jsonPath"])
                        node = node["properties"][part]

    def test_75c_crd_schemas_are_structural(self):
        for kind, crd in crds().items():
            for version in crd["spec"]["versions"]:
                with self.subTest(kind=kind, version=version["name"]):
                    self.assertEqual(structural_errors(version["schema"]["openAPIV3Schema"]), [])
        # the checker catches what it is meant to catch
        bad = {"type": "object", "properties": {"a": {"description": "untyped"},
                                                "b": {"type": "array"},
                                                "c": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                                                "d": {"type": "string", "x-kubernetes-preserve-unknown-fields": True},
                                                "e": {"type": "object", "propeties": {}}},
               "required": ["z"]}
        errors = "\n".join(structural_errors(bad))
        for needle in (".a: missing or unknown type", ".b: array without items", ".c: anyOf outside",
                       ".d: preserve-unknown-fields on a string", "unknown schema keywords ['propeties']",
                       "required 'z' is not a property"):
            self.assertIn(needle, errors)

    def test_75d_crd_specs_have_traefiks_shapes(self):
        found = crds()

        def props(kind, *path):
            node = crd_schema(found[kind])["properties"]["spec"]
            for part in path:
                node = node["items"] if part == "[]" else node["properties"][part]
            return set(node.get("properties", {}))

        self.assertLessEqual({"entryPoints", "routes", "tls"}, props("IngressRoute"))
        self.assertLessEqual({"match", "kind", "priority", "middlewares", "services", "observability"},
                             props("IngressRoute", "routes", "[]"))
        self.assertEqual({"name", "namespace"}, props("IngressRoute", "routes", "[]", "middlewares", "[]"))
        self.assertLessEqual({"name", "namespace", "kind", "port", "scheme", "weight", "passHostHeader",
                              "serversTransport", "sticky", "strategy", "healthCheck", "responseForwarding",
                              "nativeLB", "nodePortLB"}, props("IngressRoute", "routes", "[]", "services", "[]"))
        self.assertLessEqual({"secretName", "options", "certResolver", "domains", "store"},
                             props("IngressRoute", "tls"))
        self.assertEqual({"name", "namespace"}, props("IngressRoute", "tls", "options"))
        service = crd_schema(found["IngressRoute"])["properties"]["spec"]["properties"]["routes"]["items"][
            "properties"]["services"]["items"]
        self.assertTrue(service["properties"]["port"].get("x-kubernetes-int-or-string"))
        self.assertEqual(set(service["properties"]["kind"]["enum"]), {"Service", "TraefikService"})
        self.assertEqual(crd_schema(found["IngressRoute"])["properties"]["spec"]["properties"]["routes"]["items"][
            "properties"]["kind"]["enum"], ["Rule"])
        self.assertLessEqual({
            "addPrefix", "stripPrefix", "stripPrefixRegex", "replacePath", "replacePathRegex", "chain", "ipAllowList",
            "headers", "errors", "rateLimit", "redirectRegex", "redirectScheme", "basicAuth", "digestAuth",
            "forwardAuth", "inFlightReq", "buffering", "circuitBreaker", "compress", "passTLSClientCert", "retry",
            "contentType", "grpcWeb"}, props("Middleware"))
        self.assertEqual({"prefixes", "forceSlash"}, props("Middleware", "stripPrefix"))
        self.assertLessEqual({"weighted", "mirroring"}, props("TraefikService"))
        self.assertLessEqual({"services", "sticky"}, props("TraefikService", "weighted"))
        self.assertLessEqual({"name", "port", "mirrors", "mirrorBody", "maxBodySize"}, props("TraefikService", "mirroring"))
        self.assertIn("percent", props("TraefikService", "mirroring", "mirrors", "[]"))
        self.assertLessEqual({"entryPoints", "routes", "tls"}, props("IngressRouteTCP"))
        self.assertIn("passthrough", props("IngressRouteTCP", "tls"))
        self.assertLessEqual({"name", "port", "weight", "tls", "serversTransport"},
                             props("IngressRouteTCP", "routes", "[]", "services", "[]"))
        self.assertEqual({"name", "namespace", "port", "weight", "nativeLB", "nodePortLB"},
                         props("IngressRouteUDP", "routes", "[]", "services", "[]"))
        self.assertLessEqual({"inFlightConn", "ipAllowList"}, props("MiddlewareTCP"))
        self.assertLessEqual({"minVersion", "maxVersion", "cipherSuites", "curvePreferences", "clientAuth",
                              "sniStrict", "alpnProtocols"}, props("TLSOption"))
        self.assertLessEqual({"certificates", "defaultCertificate", "defaultGeneratedCert"}, props("TLSStore"))
        self.assertLessEqual({"serverName", "insecureSkipVerify", "rootCAs", "certificatesSecrets",
                              "maxIdleConnsPerHost", "forwardingTimeouts", "disableHTTP2", "peerCertURI"},
                             props("ServersTransport"))
        self.assertLessEqual({"dialTimeout", "dialKeepAlive", "terminationDelay", "tls"}, props("ServersTransportTCP"))
        # large option sets keep what Traefik knows and this schema does not list
        headers = crd_schema(found["Middleware"])["properties"]["spec"]["properties"]["headers"]
        self.assertTrue(headers.get("x-kubernetes-preserve-unknown-fields"))

    def test_75e_examples_validate_against_their_crds(self):
        found = crds()
        custom = [d for d in docs_in("example") if group_of(d["apiVersion"]) == GROUP]
        self.assertGreaterEqual({d["kind"] for d in custom}, {"IngressRoute", "Middleware"})
        for doc in custom:
            with self.subTest(kind=doc["kind"], name=doc["metadata"]["name"]):
                self.assertEqual(doc["apiVersion"], GROUP + "/v1alpha1")
                self.assertIn(doc["kind"], found)
                self.assertEqual(validate_object(found[doc["kind"]], doc), [])
        # the validator rejects what the API server would
        route = {"apiVersion": GROUP + "/v1alpha1", "kind": "IngressRoute", "metadata": {"name": "x"},
                 "spec": {"routes": [{"match": "Path(`/`)", "services": [{"name": "s", "port": 80}]}]}}
        self.assertEqual(validate_object(found["IngressRoute"], route), [])
        route["spec"]["routes"][0]["services"][0]["port"] = "http"
        self.assertEqual(validate_object(found["IngressRoute"], route), [])

        def errors_of(mutate):
            import copy
            doc = copy.deepcopy(route)
            mutate(doc["spec"])
            return "\n".join(validate_object(found["IngressRoute"], doc))

        self.assertIn("unknown field", errors_of(lambda s: s.update(entrypoints=["web"])))
        self.assertIn("is not a integer", errors_of(lambda s: s["routes"][0].update(priority="10")))
        self.assertIn("neither an integer nor a string", errors_of(lambda s: s["routes"][0]["services"][0].update(port=True)))
        self.assertIn("match is required", errors_of(lambda s: s["routes"][0].pop("match")))
        self.assertIn("is not one of", errors_of(lambda s: s["routes"][0].update(kind="Regex")))
        self.assertIn("routes is required", errors_of(lambda s: s.pop("routes")))
        middleware = {"apiVersion": GROUP + "/v1alpha1", "kind": "Middleware", "metadata": {"name": "h"},
                      "spec": {"headers": {"frameDeny": True, "customRequestHeaders": {"X-A": "1"}}}}
        self.assertEqual(validate_object(found["Middleware"], middleware), [])
        middleware["spec"]["headers"]["customRequestHeaders"]["X-A"] = 1
        self.assertIn("is not a string", "\n".join(validate_object(found["Middleware"], middleware)))
        middleware["spec"] = {"stripPrefix": {"prefix": "/a"}}
        self.assertIn("unknown field", "\n".join(validate_object(found["Middleware"], middleware)))

    def test_75f_examples_reference_what_exists(self):
        example = docs_in("example")
        classes = docs_in("classes.yaml")
        services = {(d["metadata"].get("namespace", "default"), d["metadata"]["name"]): d
                    for d in find(example, "Service")}
        middlewares = {(d["metadata"].get("namespace", "default"), d["metadata"]["name"])
                       for d in find(example, "Middleware")}

        def service_port(namespace, name, port):
            self.assertIn((namespace, name), services, "Service %s/%s" % (namespace, name))
            ports = services[(namespace, name)]["spec"]["ports"]
            self.assertTrue(any(p["port"] == port or p.get("name") == port for p in ports),
                            "port %r of Service %s/%s" % (port, namespace, name))

        whoami = find(example, "Deployment", "whoami")
        self.assertEqual(len(whoami), 1)
        self.assertEqual(whoami[0]["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[0], "traefik/whoami")
        self.assertEqual(services[("default", "whoami")]["spec"]["selector"],
                         {k: v for k, v in whoami[0]["spec"]["template"]["metadata"]["labels"].items()
                          if k in services[("default", "whoami")]["spec"]["selector"]})

        routes = find(example, "IngressRoute")
        self.assertTrue(routes)
        for route in routes:
            namespace = route["metadata"].get("namespace", "default")
            for r in route["spec"]["routes"]:
                self.assertTrue(r.get("middlewares"), "the example IngressRoute uses a Middleware")
                for m in r["middlewares"]:
                    self.assertIn((m.get("namespace", namespace), m["name"]), middlewares)
                for s in r["services"]:
                    service_port(s.get("namespace", namespace), s["name"], s["port"])
        self.assertTrue(any("stripPrefix" in d["spec"] for d in find(example, "Middleware")))

        ingress_class = find(classes, "IngressClass", "switchyard")[0]
        self.assertEqual(ingress_class["spec"]["controller"], "switchyard.dev/ingress-controller")
        ingresses = find(example, "Ingress")
        self.assertTrue(ingresses)
        for ingress in ingresses:
            self.assertEqual(ingress["apiVersion"], "networking.k8s.io/v1")
            self.assertEqual(ingress["spec"]["ingressClassName"], "switchyard")
            self.assertEqual(ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.entrypoints"], "web")
            for rule in ingress["spec"]["rules"]:
                for p in rule["http"]["paths"]:
                    self.assertIn(p["pathType"], {"Exact", "Prefix", "ImplementationSpecific"})
                    backend = p["backend"]["service"]
                    service_port(ingress["metadata"].get("namespace", "default"), backend["name"],
                                 backend["port"].get("number", backend["port"].get("name")))

        gateway_class = find(classes, "GatewayClass", "switchyard")[0]
        self.assertEqual(gateway_class["spec"]["controllerName"], "switchyard.dev/gateway-controller")
        gateway = find(classes, "Gateway", "switchyard", "switchyard")[0]
        self.assertEqual(gateway["spec"]["gatewayClassName"], "switchyard")
        listeners = {l["name"]: l for l in gateway["spec"]["listeners"]}
        self.assertEqual((listeners["web"]["port"], listeners["web"]["protocol"]), (8000, "HTTP"))
        self.assertEqual((listeners["websecure"]["port"], listeners["websecure"]["protocol"]), (8443, "HTTPS"))
        self.assertTrue(listeners["websecure"]["tls"]["certificateRefs"])
        http_routes = find(example, "HTTPRoute")
        self.assertTrue(http_routes)
        for route in http_routes:
            self.assertEqual(group_of(route["apiVersion"]), "gateway.networking.k8s.io")
            namespace = route["metadata"].get("namespace", "default")
            for parent in route["spec"]["parentRefs"]:
                self.assertEqual((parent.get("kind", "Gateway"), parent["name"], parent.get("namespace", namespace)),
                                 ("Gateway", "switchyard", "switchyard"))
                if "sectionName" in parent:
                    self.assertIn(parent["sectionName"], listeners)
                if namespace != "switchyard":
                    self.assertEqual(listeners[parent.get("sectionName", "web")]["allowedRoutes"]["namespaces"]["from"],
                                     "All")
            for rule in route["spec"]["rules"]:
                for backend in rule["backendRefs"]:
                    service_port(backend.get("namespace", namespace), backend["name"], backend["port"])

    def test_75g_rbac_reads_and_writes_only_status(self):
        rbac = docs_in("rbac.yaml")
        roles = find(rbac, "ClusterRole")
        self.assertEqual(len(roles), 1)
        self.assertEqual(find(rbac, "Role"), [])
        granted = {}  # (group, resource) -> verbs
        for rule in roles[0]["rules"]:
            with self.subTest(rule=rule):
                self.assertNotIn("nonResourceURLs", rule)
                self.assertNotIn("resourceNames", rule)
                verbs = set(rule["verbs"])
                self.assertNotIn("*", verbs)
                for group in rule["apiGroups"]:
                    self.assertNotEqual(group, "*")
                    for resource in rule["resources"]:
                        self.assertNotIn("*", resource)
                        if resource.endswith("/status"):
                            self.assertLessEqual(verbs, STATUS_VERBS, "%s/%s" % (group, resource))
                        else:
                            self.assertLessEqual(verbs, READ_VERBS, "%s/%s" % (group, resource))
                        granted.setdefault((group, resource), set()).update(verbs)
        needed_reads = [("", "services"), ("", "secrets"), ("discovery.k8s.io", "endpointslices"),
                        ("networking.k8s.io", "ingresses"), ("networking.k8s.io", "ingressclasses")]
        needed_reads += [(g, plural) for g in (GROUP, "traefik.io") for plural in CRD_KINDS.values()]
        needed_reads += [("gateway.networking.k8s.io", r)
                         for r in ("gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants")]
        for key in needed_reads:
            self.assertEqual(granted.get(key), READ_VERBS, key)
        needed_status = [("networking.k8s.io", "ingresses/status")]
        needed_status += [("gateway.networking.k8s.io", r + "/status")
                          for r in ("gatewayclasses", "gateways", "httproutes", "grpcroutes")]
        for key in needed_status:
            self.assertEqual(granted.get(key), STATUS_VERBS, key)
        self.assertEqual(set(granted), set(needed_reads) | set(needed_status), "grants beyond what the providers use")

        account = find(rbac, "ServiceAccount", "switchyard", "switchyard")
        self.assertEqual(len(account), 1)
        binding = find(rbac, "ClusterRoleBinding")[0]
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                              "name": roles[0]["metadata"]["name"]})
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": "switchyard",
                                                "namespace": "switchyard"}])

    def test_75h_deployment_is_locked_down_and_probed(self):
        docs = docs_in("switchyard.yaml")
        self.assertEqual(len(find(docs, "Namespace", "switchyard")), 1)
        deployment = find(docs, "Deployment", "switchyard", "switchyard")[0]
        pod = deployment["spec"]["template"]["spec"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for key, value in deployment["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(key), value)
        self.assertEqual(pod["serviceAccountName"], "switchyard")
        self.assertEqual(len(pod["containers"]), 1)
        container = pod["containers"][0]
        self.assertEqual(container["image"], "switchyard:latest")
        pod_sc = pod.get("securityContext", {})
        sc = container.get("securityContext", {})

        def effective(key):
            return sc.get(key, pod_sc.get(key))

        self.assertIs(effective("runAsNonRoot"), True)
        self.assertEqual(effective("runAsUser"), 65532)
        self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        self.assertIs(sc.get("allowPrivilegeEscalation"), False)
        self.assertIn("ALL", sc["capabilities"]["drop"])
        self.assertFalse(sc["capabilities"].get("add"))
        self.assertFalse(sc.get("privileged", False))

        for probe_name in ("livenessProbe", "readinessProbe"):
            probe = container[probe_name]["httpGet"]
            self.assertEqual(probe["path"], "/ping", probe_name)
            self.assertEqual(container_port(container, probe["port"]), 8080, probe_name)
        for kind in ("requests", "limits"):
            self.assertLessEqual({"cpu", "memory"}, set(container["resources"][kind]), kind)

        args = container["args"]
        for flag in ("--entryPoints.web.address=:8000", "--entryPoints.websecure.address=:8443",
                     "--entryPoints.traefik.address=:8080", "--api=true", "--ping=true",
                     "--metrics.prometheus=true"):
            self.assertIn(flag, args)
        self.assertNotIn("--api.insecure=true", args)
        for provider in ("kubernetesCRD", "kubernetesIngress", "kubernetesGateway"):
            self.assertTrue(any(a in ("--providers." + provider, "--providers.%s=true" % provider) for a in args),
                            provider)
        history = [a.split("=", 1)[1] for a in args if a.startswith("--history.path=")]
        self.assertEqual(history, ["/data/switchyard.db"])
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        self.assertIn("/data", mounts)
        self.assertIn("emptyDir", volumes[mounts["/data"]])
        ports = {p["containerPort"] for p in container["ports"]}
        self.assertEqual(ports, {8000, 8443, 8080})

        services = {s["metadata"]["name"]: s for s in find(docs, "Service")}
        public = [s for s in services.values() if s["spec"].get("type") == "LoadBalancer"]
        self.assertEqual(len(public), 1)
        mapping = {p["port"]: container_port(container, p["targetPort"]) for p in public[0]["spec"]["ports"]}
        self.assertEqual(mapping, {80: 8000, 443: 8443})
        internal = [s for s in services.values() if s["spec"].get("type", "ClusterIP") == "ClusterIP"]
        self.assertEqual(len(internal), 1)
        self.assertEqual([(p["port"], container_port(container, p["targetPort"])) for p in internal[0]["spec"]["ports"]],
                         [(8080, 8080)])
        for service in services.values():
            self.assertEqual(service["metadata"]["namespace"], "switchyard")
            for key, value in service["spec"]["selector"].items():
                self.assertEqual(labels.get(key), value)

    def test_75i_systemd_unit_is_hardened(self):
        unit = parse_unit(UNIT)
        self.assertLessEqual({"Unit", "Service", "Install"}, set(unit))
        service = unit["Service"]
        self.assertEqual(unit_values(service, "ExecStart"),
                         ["/usr/local/bin/switchyard --configFile=/etc/switchyard/switchyard.yml"])
        self.assertTrue(unit_values(service, "DynamicUser") == ["yes"] or unit_values(service, "User"))
        self.assertNotIn("root", unit_values(service, "User"))
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("StateDirectory", "switchyard"),
                           ("Restart", "on-failure")):
            self.assertEqual(unit_values(service, key), [value], key)
        self.assertEqual(unit_values(service, "AmbientCapabilities"), ["CAP_NET_BIND_SERVICE"])
        bounding = unit_values(service, "CapabilityBoundingSet")
        self.assertTrue(not bounding or bounding == ["CAP_NET_BIND_SERVICE"], bounding)
        for key in ("ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
                    "ProtectControlGroups", "RestrictNamespaces", "RestrictSUIDSGID", "LockPersonality"):
            self.assertEqual(unit_values(service, key), ["yes"], key)
        self.assertEqual(unit_values(unit["Install"], "WantedBy"), ["multi-user.target"])

        # the static configuration writes only where the unit lets it (ProtectSystem=strict)
        with open(STATIC_CONFIG) as f:
            static = yaml.safe_load(f)
        writable = ["/var/lib/switchyard/"] + (["/var/log/switchyard/"] if unit_values(service, "LogsDirectory") else [])
        self.assertTrue(static["history"]["path"].startswith("/var/lib/switchyard/"))
        access_log = (static.get("accessLog") or {}).get("filePath")
        if access_log:
            self.assertTrue(any(access_log.startswith(w) for w in writable), access_log)
        for name, entry_point in static["entryPoints"].items():
            self.assertRegex(entry_point["address"], r"^(\[[0-9a-f:]+\]|[0-9.]*):\d+$", name)

    def binary_or_skip(self):
        import harness
        binary = harness.binary_path()
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            self.skipTest("no switchyard binary at %s (set SWITCHYARD_BIN); the other checks need none" % binary)
        tmp = tempfile.mkdtemp(prefix="switchyard-deploy-")
        self.addCleanup(shutil.rmtree, tmp, True)
        return binary, tmp, harness.child_env()

    def test_75j_static_config_passes_switchyard_check(self):
        binary, tmp, env = self.binary_or_skip()
        os.makedirs(os.path.join(tmp, "dynamic"))
        with open(STATIC_CONFIG) as f:
            text = f.read()
        # the host's folders, moved into the temp folder
        for folder in ("/etc/switchyard", "/var/lib/switchyard", "/var/log/switchyard"):
            text = text.replace(folder, tmp)
        config = os.path.join(tmp, "switchyard.yml")
        with open(config, "w") as f:
            f.write(text)
        run = subprocess.run([binary, "check", "--configFile=" + config], cwd=tmp, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60, universal_newlines=True)
        self.assertEqual(run.returncode, 0, run.stdout)

    def test_75l_deployment_flags_are_known_to_the_binary(self):
        """Every flag of the Deployment is a static option the binary knows (a misspelt or unknown one stops
        start-up). Errors about the cluster (no in-cluster endpoint here) do not count."""
        binary, tmp, env = self.binary_or_skip()
        deployment = find(docs_in("switchyard.yaml"), "Deployment", "switchyard")[0]
        args = [a if not a.startswith("--history.path=") else "--history.path=" + os.path.join(tmp, "k8s.db")
                for a in deployment["spec"]["template"]["spec"]["containers"][0]["args"]]
        run = subprocess.run([binary, "check"] + args, cwd=tmp, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60, universal_newlines=True)
        unknown = [line for line in run.stdout.splitlines() if re.search(r"unknown (key|option|flag)", line)]
        self.assertEqual(unknown, [], "the Deployment's args name options the binary does not know")


class DeployKubectlTests(unittest.TestCase):
    """kubectl apply --dry-run=client against the test API server: kubectl maps every document to a resource of
    the server's discovery and checks the object with the server; nothing is created."""

    def test_75k_kubectl_dry_run_apply(self):
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            self.skipTest("kubectl is not installed")
        try:
            from kube_api import KubeAPIServer
        except ImportError as error:
            self.skipTest("Tests/e2e/kube_api.py (the test API server) is missing: %s" % error)
        tmp = tempfile.mkdtemp(prefix="switchyard-deploy-kubectl-")
        self.addCleanup(shutil.rmtree, tmp, True)
        api = KubeAPIServer(tmp, token="switchyard-deploy-dry-run")
        api.start()
        self.addCleanup(api.stop)
        kubeconfig = os.path.join(tmp, "kubeconfig")
        api.write_kubeconfig(kubeconfig)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "SWITCHYARD_"))}
        env["HOME"] = tmp  # kubectl's cache and config stay in the temp folder
        base = [kubectl, "--kubeconfig=" + kubeconfig, "--cache-dir=" + os.path.join(tmp, "cache"),
                "--request-timeout=20s"]

        def kubectl_run(*args):
            return subprocess.run(base + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=90, universal_newlines=True)

        versions = kubectl_run("api-versions")
        if versions.returncode != 0 or not versions.stdout.strip():
            self.skipTest("the test API server serves no discovery (/api, /apis) that kubectl can map kinds with: %s"
                          % (versions.stderr.strip() or "empty answer"))
        served = set(versions.stdout.split())

        targets = ["crds", "rbac.yaml", "classes.yaml", "switchyard.yaml", "example"]
        applied_any = False
        for target in targets:
            with self.subTest(target=target):
                run = kubectl_run("apply", "--dry-run=client", "--validate=false", "-f", os.path.join(DEPLOY, target))
                done = set()
                for line in run.stdout.splitlines():
                    m = re.match(r"^([a-z0-9]+)(?:\.[^/]*)?/(\S+) (created|configured|unchanged) \(dry run\)$", line)
                    if m:
                        done.add((m.group(1), m.group(2)))
                for doc in docs_in(target):
                    key = (doc["kind"].lower(), doc["metadata"]["name"])
                    if doc["apiVersion"] in served:
                        self.assertIn(key, done, "kubectl did not apply %s/%s:\n%s%s"
                                      % (doc["kind"], key[1], run.stdout, run.stderr))
                        applied_any = True
                    else:
                        # not served by this API server (a CRD a dry run does not install, Gateway API):
                        # kubectl must say so, and nothing else may go wrong
                        self.assertNotIn(key, done)
                        self.assertRegex(run.stderr, r'no matches for kind "%s" in version "%s"'
                                         % (re.escape(doc["kind"]), re.escape(doc["apiVersion"])))
                errors = [line for line in run.stderr.splitlines()
                          if line.strip() and "no matches for kind" not in line
                          and "ensure CRDs are installed first" not in line and not line.startswith("Warning:")]
                self.assertEqual(errors, [], run.stderr)
        self.assertTrue(applied_any, "the test API server served none of the manifests' API versions: %s"
                        % sorted(served))


if __name__ == "__main__":
    unittest.main()
