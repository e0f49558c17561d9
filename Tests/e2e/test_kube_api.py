"""Self-tests of the test Kubernetes API server (kube_api.py): no Switchyard binary needed.

Every request goes over HTTPS to 127.0.0.1 with a context that trusts only the server's CA.
"""

import http.client
import json
import os
import shutil
import subprocess
import threading
import time
import unittest
import urllib.parse

import harness
from kube_api import KubeAPIServer


def svc(name, namespace="default", labels=None, port=80):
    md = {"name": name, "namespace": namespace}
    if labels:
        md["labels"] = labels
    return {"apiVersion": "v1", "kind": "Service", "metadata": md,
            "spec": {"type": "ClusterIP", "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}}


def ingress(name, namespace="default", host="a.example"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"ingressClassName": "switchyard",
                     "rules": [{"host": host, "http": {"paths": [{
                         "path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}


class WatchReader(object):
    """Reads one watch stream in a thread; every read has a timeout and the thread ends with the stream."""

    def __init__(self, api, path, query, token=None, read_timeout=15.0):
        self.events = []
        self.status = None
        self.error = None  # exception that ended the stream, None for a clean end
        self.ended = threading.Event()
        self._cond = threading.Condition()
        self._conn = http.client.HTTPSConnection(harness.LOOPBACK, api.port, context=api.ssl_context(),
                                                 timeout=read_timeout)
        q = dict(query)
        q.setdefault("watch", "1")
        self._target = path + "?" + urllib.parse.urlencode(q)
        self._token = token or api.token
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self._conn.request("GET", self._target, headers={"Authorization": "Bearer %s" % self._token})
            resp = self._conn.getresponse()
            self.status = resp.status
            # read1, not readline: readline reports a truncated chunked stream as a clean end
            buf = b""
            for _ in range(100000):
                data = resp.read1(65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    with self._cond:
                        self.events.append(json.loads(line.decode("utf-8")))
                        self._cond.notify_all()
            if buf.strip():
                raise ValueError("a watch line without its newline: %r" % buf[:200])
        except Exception as e:  # noqa: BLE001 - recorded for the test
            self.error = e
        finally:
            self.ended.set()
            with self._cond:
                self._cond.notify_all()
            self._conn.close()

    def wait_events(self, n, timeout=10.0):
        """Wait until at least n events arrived; returns a copy of the events."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.events) < n and not self.ended.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.2))
            return list(self.events)

    def non_bookmarks(self):
        with self._cond:
            return [e for e in self.events if e["type"] != "BOOKMARK"]

    def wait_non_bookmarks(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            evs = self.non_bookmarks()
            if len(evs) >= n or self.ended.is_set():
                return evs
            self.wait_events(len(self.events) + 1, timeout=min(0.2, deadline - time.monotonic()))
        return self.non_bookmarks()

    def close(self):
        try:
            if self._conn.sock is not None:
                self._conn.sock.shutdown(2)
        except OSError:
            pass
        self._thread.join(timeout=5)


class KubeAPITest(harness.E2ETestCase):

    def start_api(self, **kw):
        api = KubeAPIServer(self.tmp, **kw)
        api.start()
        self.addCleanup(api.stop)
        return api

    def call(self, api, method, path, query=None, body=None, token=None, content_type=None):
        conn = http.client.HTTPSConnection(harness.LOOPBACK, api.port, context=api.ssl_context(), timeout=10)
        try:
            target = path + ("?" + urllib.parse.urlencode(query) if query else "")
            headers = {"Accept": "application/json"}
            tok = api.token if token is None else token
            if tok:
                headers["Authorization"] = "Bearer %s" % tok
            data = None
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
                headers["Content-Type"] = content_type or "application/json"
            conn.request(method, target, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            try:
                parsed = json.loads(raw.decode("utf-8")) if raw else None
            except ValueError:
                parsed = raw
            return r.status, parsed
        finally:
            conn.close()

    def watch(self, api, path, **query):
        w = WatchReader(api, path, query)
        self.addCleanup(w.close)
        return w

    # ------------------------------------------------------------------

    def test_70a_auth_and_token_rotation(self):
        api = self.start_api(token="first-token")
        self.assertTrue(api.url.startswith("https://127.0.0.1:"))
        self.assertTrue(os.path.isfile(api.ca_path))
        status, body = self.call(api, "GET", "/api/v1/services", token="")
        self.assertEqual(status, 401)
        self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
        self.assertEqual(self.call(api, "GET", "/api/v1/services", token="wrong")[0], 401)
        status, body = self.call(api, "GET", "/api/v1/services")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["kind"], "ServiceList")
        api.token = "second-token"
        self.assertEqual(self.call(api, "GET", "/api/v1/services", token="first-token")[0], 401)
        self.assertEqual(self.call(api, "GET", "/api/v1/services", token="second-token")[0], 200)
        # a watch with the old token is refused too
        w = WatchReader(api, "/api/v1/services", {"resourceVersion": "0"}, token="first-token")
        self.addCleanup(w.close)
        self.assertTrue(w.ended.wait(10))
        self.assertEqual(w.status, 401)
        # the CA is the only trust: a default context (system roots) refuses the server
        import ssl
        conn = http.client.HTTPSConnection(harness.LOOPBACK, api.port, context=ssl.create_default_context(),
                                           timeout=10)
        with self.assertRaises(ssl.SSLError):
            conn.request("GET", "/version")
        conn.close()
        # the certificate is valid for localhost as well
        conn = http.client.HTTPSConnection("localhost", api.port, context=api.ssl_context(), timeout=10)
        try:
            conn.request("GET", "/version", headers={"Authorization": "Bearer second-token"})
            self.assertEqual(conn.getresponse().status, 200)
        except OSError as e:  # localhost may resolve to ::1 first where nothing listens
            if "refused" not in str(e).lower():
                raise
        finally:
            conn.close()

    def test_70b_store_list_and_selectors(self):
        api = self.start_api()
        a = api.apply(svc("a", labels={"app": "web", "tier": "front"}))
        api.apply(svc("b", labels={"app": "api"}))
        api.apply(svc("c", namespace="other", labels={"app": "web"}))
        api.apply(svc("d"))
        self.assertEqual(a["metadata"]["resourceVersion"], "1")
        self.assertEqual(a["metadata"]["generation"], 1)
        self.assertTrue(a["metadata"]["uid"])
        self.assertTrue(a["metadata"]["creationTimestamp"].endswith("Z"))

        status, body = self.call(api, "GET", "/api/v1/services")
        self.assertEqual(status, 200)
        self.assertEqual(body["apiVersion"], "v1")
        self.assertEqual(body["metadata"]["resourceVersion"], "4")
        self.assertEqual([i["metadata"]["name"] for i in body["items"]], ["a", "b", "d", "c"])
        self.assertTrue(all(i["kind"] == "Service" and i["apiVersion"] == "v1" for i in body["items"]))

        def names(path, **q):
            st, b = self.call(api, "GET", path, q)
            self.assertEqual(st, 200, b)
            return sorted(i["metadata"]["name"] for i in b["items"])

        self.assertEqual(names("/api/v1/namespaces/default/services"), ["a", "b", "d"])
        self.assertEqual(names("/api/v1/services", labelSelector="app=web"), ["a", "c"])
        self.assertEqual(names("/api/v1/services", labelSelector="app==web,tier=front"), ["a"])
        self.assertEqual(names("/api/v1/services", labelSelector="app!=web"), ["b", "d"])
        self.assertEqual(names("/api/v1/services", labelSelector="app"), ["a", "b", "c"])
        self.assertEqual(names("/api/v1/services", labelSelector="!app"), ["d"])
        self.assertEqual(names("/api/v1/services", labelSelector="app in (api, web),tier notin (front)"), ["b", "c"])
        self.assertEqual(names("/api/v1/services", fieldSelector="metadata.name=b"), ["b"])
        self.assertEqual(names("/api/v1/services", fieldSelector="metadata.namespace=other"), ["c"])
        self.assertEqual(names("/api/v1/services", fieldSelector="metadata.namespace!=other,metadata.name!=a"),
                         ["b", "d"])

        # limit / continue
        st, page1 = self.call(api, "GET", "/api/v1/services", {"limit": "3"})
        self.assertEqual(len(page1["items"]), 3)
        self.assertEqual(page1["metadata"]["remainingItemCount"], 1)
        st, page2 = self.call(api, "GET", "/api/v1/services", {"limit": "3", "continue": page1["metadata"]["continue"]})
        self.assertEqual([i["metadata"]["name"] for i in page2["items"]], ["c"])
        self.assertNotIn("continue", page2["metadata"])

        # get one, 404 as a Status
        st, one = self.call(api, "GET", "/api/v1/namespaces/default/services/a")
        self.assertEqual((st, one["metadata"]["uid"]), (200, a["metadata"]["uid"]))
        st, missing = self.call(api, "GET", "/api/v1/namespaces/default/services/zzz")
        self.assertEqual(st, 404)
        self.assertEqual((missing["kind"], missing["reason"], missing["code"]), ("Status", "NotFound", 404))

        # replace: a spec change bumps generation; an identical apply is a no-op
        a2 = api.apply(svc("a", labels={"app": "web", "tier": "front"}, port=81))
        self.assertEqual((a2["metadata"]["resourceVersion"], a2["metadata"]["generation"]), ("5", 2))
        self.assertEqual(a2["metadata"]["uid"], a["metadata"]["uid"])
        a3 = api.apply(svc("a", labels={"app": "web", "tier": "front"}, port=81))
        self.assertEqual(a3["metadata"]["resourceVersion"], "5")
        a4 = api.apply(svc("a", labels={"app": "web"}, port=81))  # metadata only: generation stays
        self.assertEqual((a4["metadata"]["resourceVersion"], a4["metadata"]["generation"]), ("6", 2))

        # cluster-scoped and group resources
        api.apply({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "switchyard"},
                   "spec": {"controller": "switchyard.dev/ingress-controller"}})
        st, ic = self.call(api, "GET", "/apis/networking.k8s.io/v1/ingressclasses/switchyard")
        self.assertEqual(st, 200, ic)
        self.assertNotIn("namespace", ic["metadata"])
        api.apply(ingress("web"))
        self.assertEqual(names("/apis/networking.k8s.io/v1/namespaces/default/ingresses"), ["web"])
        api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "Middleware",
                   "metadata": {"name": "strip", "namespace": "default"},
                   "spec": {"stripPrefix": {"prefixes": ["/api"]}}})
        self.assertEqual(names("/apis/switchyard.dev/v1alpha1/middlewares"), ["strip"])
        self.assertEqual(names("/apis/gateway.networking.k8s.io/v1beta1/referencegrants"), [])
        self.assertEqual(len(api.objects("v1", "Service")), 4)
        self.assertIsNotNone(api.get("v1", "Service", "other", "c"))
        deleted = api.delete("v1", "Service", "other", "c")
        self.assertEqual(deleted["metadata"]["resourceVersion"], api.resource_version)
        self.assertIsNone(api.get("v1", "Service", "other", "c"))
        self.assertIsNone(api.delete("v1", "Service", "other", "c"))
        self.assertEqual(self.call(api, "GET", "/api/v1/namespaces/default/nothings")[0], 404)
        self.assertEqual(self.call(api, "GET", "/apis/example.com/v1/foos")[0], 404)

        # requests are recorded with their query
        self.assertTrue(any(r.method == "GET" and r.path == "/api/v1/services" and r.query.get("limit") == "3"
                            for r in api.requests.snapshot()))

    def test_70c_groups_left_out_answer_404(self):
        api = self.start_api(exclude_groups=["traefik.io"])
        api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "IngressRoute",
                   "metadata": {"name": "r", "namespace": "default"}, "spec": {"routes": []}})
        st, groups = self.call(api, "GET", "/apis")
        names = [g["name"] for g in groups["groups"]]
        self.assertIn("switchyard.dev", names)
        self.assertNotIn("traefik.io", names)
        self.assertEqual(self.call(api, "GET", "/apis/traefik.io/v1alpha1/ingressroutes")[0], 404)
        self.assertEqual(self.call(api, "GET", "/apis/traefik.io/v1alpha1")[0], 404)
        st, body = self.call(api, "GET", "/apis/switchyard.dev/v1alpha1/ingressroutes")
        self.assertEqual((st, len(body["items"])), (200, 1))
        api2 = self.start_api(groups=["", "switchyard.dev"])
        self.assertEqual(self.call(api2, "GET", "/apis/networking.k8s.io/v1/ingresses")[0], 404)
        self.assertEqual(self.call(api2, "GET", "/api/v1/services")[0], 200)
        st, disc = self.call(api2, "GET", "/apis/switchyard.dev/v1alpha1")
        self.assertEqual(st, 200)
        kinds = {r["kind"] for r in disc["resources"]}
        self.assertTrue({"IngressRoute", "IngressRouteTCP", "IngressRouteUDP", "Middleware", "MiddlewareTCP",
                         "TraefikService", "TLSOption", "TLSStore", "ServersTransport",
                         "ServersTransportTCP"} <= kinds, kinds)

    def test_70d_watch_replays_from_resource_version(self):
        api = self.start_api()
        api.apply(svc("a"))                        # 1
        api.apply(svc("b"))                        # 2
        api.apply(svc("a", port=81))               # 3
        api.delete("v1", "Service", "default", "b")  # 4
        api.apply(ingress("i"))                    # 5, another resource: not in the services watch
        w = self.watch(api, "/api/v1/services", resourceVersion="1", timeoutSeconds="2")
        self.assertTrue(w.ended.wait(10))
        self.assertIsNone(w.error)
        self.assertEqual(w.status, 200)
        got = [(e["type"], e["object"]["metadata"]["name"], e["object"]["metadata"]["resourceVersion"])
               for e in w.events]
        self.assertEqual(got, [("ADDED", "b", "2"), ("MODIFIED", "a", "3"), ("DELETED", "b", "4")])
        self.assertEqual(w.events[0]["object"]["kind"], "Service")
        # resourceVersion=0: the current state as synthetic ADDED events
        w0 = self.watch(api, "/api/v1/namespaces/default/services", resourceVersion="0", timeoutSeconds="1")
        self.assertTrue(w0.ended.wait(10))
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in w0.events], [("ADDED", "a")])
        # watch from the list's resourceVersion: nothing old, only what comes next
        st, lst = self.call(api, "GET", "/api/v1/services")
        w1 = self.watch(api, "/api/v1/services", resourceVersion=lst["metadata"]["resourceVersion"],
                        timeoutSeconds="5")
        self.assertTrue(api.wait_for_watchers(1, 10))
        api.apply(svc("c"))
        evs = w1.wait_events(1)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs], [("ADDED", "c")])
        # sendInitialEvents: synthetic ADDED then a bookmark marking their end
        wi = self.watch(api, "/api/v1/services", sendInitialEvents="true", allowWatchBookmarks="true",
                        resourceVersionMatch="NotOlderThan", timeoutSeconds="1")
        self.assertTrue(wi.ended.wait(10))
        self.assertEqual([e["type"] for e in wi.events[:3]], ["ADDED", "ADDED", "BOOKMARK"])
        self.assertEqual(wi.events[2]["object"]["metadata"]["annotations"], {"k8s.io/initial-events-end": "true"})

    def test_70e_watch_live_added_modified_deleted(self):
        api = self.start_api()
        api.apply(svc("pre", labels={"app": "web"}))
        st, lst = self.call(api, "GET", "/api/v1/namespaces/default/services")
        rv = lst["metadata"]["resourceVersion"]
        w = self.watch(api, "/api/v1/namespaces/default/services", resourceVersion=rv, timeoutSeconds="20")
        sel = self.watch(api, "/api/v1/services", resourceVersion=rv, labelSelector="app=web", timeoutSeconds="20")
        single = self.watch(api, "/api/v1/namespaces/default/services", resourceVersion=rv,
                            fieldSelector="metadata.name=x", timeoutSeconds="20")
        self.assertTrue(api.wait_for_watchers(3, 10), api.watch_count())
        api.apply(svc("x", labels={"app": "api"}))
        api.apply(svc("x", labels={"app": "web"}))   # starts matching app=web
        api.apply(svc("x", labels={"app": "web"}, port=8080))
        api.apply(svc("x", labels={"app": "api"}, port=8080))  # stops matching
        api.apply(svc("elsewhere", namespace="other", labels={"app": "web"}))
        api.delete("v1", "Service", "default", "x")
        evs = w.wait_events(5)
        self.assertEqual([e["type"] for e in evs], ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"])
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
        self.assertEqual(rvs, sorted(rvs))
        self.assertEqual(evs[2]["object"]["spec"]["ports"][0]["port"], 8080)
        sevs = sel.wait_events(4)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in sevs],
                         [("ADDED", "x"), ("MODIFIED", "x"), ("DELETED", "x"), ("ADDED", "elsewhere")])
        xevs = single.wait_events(5)
        self.assertEqual(len(xevs), 5)
        self.assertTrue(all(e["object"]["metadata"]["name"] == "x" for e in xevs))
        time.sleep(0.2)
        self.assertEqual(len(w.events), 5)  # nothing extra (no bookmarks unless asked)

    def test_70f_bookmarks(self):
        api = self.start_api(bookmark_interval=0.2)
        api.apply(svc("a"))
        w = self.watch(api, "/api/v1/services", resourceVersion="1", allowWatchBookmarks="true", timeoutSeconds="3")
        evs = w.wait_events(2)
        self.assertEqual(evs[0]["type"], "BOOKMARK")
        self.assertEqual(evs[0]["object"], {"kind": "Service", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}})
        api.apply(ingress("i"))  # moves the global version, not this watch
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            bms = [e for e in w.events if e["type"] == "BOOKMARK"]
            if bms and bms[-1]["object"]["metadata"]["resourceVersion"] == "2":
                break
            time.sleep(0.05)
        self.assertEqual(bms[-1]["object"]["metadata"]["resourceVersion"], "2")
        self.assertEqual(w.non_bookmarks(), [])
        plain = self.watch(api, "/api/v1/services", resourceVersion="1", timeoutSeconds="1")
        self.assertTrue(plain.ended.wait(10))
        self.assertEqual(plain.events, [])

    def test_70g_410_after_compact(self):
        api = self.start_api()
        api.apply(svc("a"))
        api.apply(svc("b"))
        rv = api.compact()
        self.assertEqual(rv, "2")
        w = self.watch(api, "/api/v1/services", resourceVersion="1", timeoutSeconds="10")
        self.assertTrue(w.ended.wait(10))
        self.assertIsNone(w.error)
        self.assertEqual(w.status, 200)
        self.assertEqual(w.events, [{"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "too old resource version: 1 (2)", "reason": "Expired", "code": 410}}])
        # the compacted version itself is still fine, and so is a re-list
        ok = self.watch(api, "/api/v1/services", resourceVersion="2", timeoutSeconds="1")
        self.assertTrue(ok.ended.wait(10))
        self.assertEqual(ok.events, [])
        st, lst = self.call(api, "GET", "/api/v1/services", {"resourceVersion": "1",
                                                             "resourceVersionMatch": "NotOlderThan"})
        self.assertEqual((st, lst["metadata"]["resourceVersion"], len(lst["items"])), (200, "2", 2))
        st, exact = self.call(api, "GET", "/api/v1/services", {"resourceVersion": "1", "resourceVersionMatch": "Exact"})
        self.assertEqual((st, exact["reason"]), (410, "Expired"))
        self.assertTrue(api.wait_for_request(lambda r: r.path == "/api/v1/services" and "watch" not in r.query,
                                             timeout=1))
        # a bounded history compacts by itself
        small = self.start_api(history_limit=2)
        small.apply_yaml("\n---\n".join(json.dumps(svc(n)) for n in ("a", "b", "c", "d")))
        old_watch = self.watch(small, "/api/v1/services", resourceVersion="1", timeoutSeconds="5")
        self.assertTrue(old_watch.ended.wait(10))
        self.assertEqual(old_watch.events[0]["object"]["message"], "too old resource version: 1 (2)")
        recent = self.watch(small, "/api/v1/services", resourceVersion="2", timeoutSeconds="1")
        self.assertTrue(recent.ended.wait(10))
        self.assertEqual([e["object"]["metadata"]["name"] for e in recent.events], ["c", "d"])
        # injected failures answer a Status, then the server recovers
        small.inject_failure(status=503, count=1, path_contains="/services")
        st, body = self.call(small, "GET", "/api/v1/services")
        self.assertEqual((st, body["kind"], body["code"]), (503, "Status", 503))
        self.assertEqual(self.call(small, "GET", "/api/v1/services")[0], 200)

    def test_70h_cut_watches_and_timeout(self):
        api = self.start_api()
        w1 = self.watch(api, "/api/v1/services", resourceVersion="0", timeoutSeconds="30")
        w2 = self.watch(api, "/apis/networking.k8s.io/v1/ingresses", resourceVersion="0", timeoutSeconds="30")
        self.assertTrue(api.wait_for_watchers(2, 10))
        self.assertEqual(api.cut_watches(), 2)
        self.assertTrue(w1.ended.wait(10) and w2.ended.wait(10))
        self.assertIsNotNone(w1.error, "an abrupt cut is not a clean end of the chunked stream")
        harness.wait_until(lambda: api.watch_count() == 0, 5, message="no open watch")
        # graceful cut: the stream ends cleanly
        w3 = self.watch(api, "/api/v1/services", resourceVersion="0", timeoutSeconds="30")
        self.assertTrue(api.wait_for_watchers(1, 10))
        api.cut_watches(graceful=True)
        self.assertTrue(w3.ended.wait(10))
        self.assertIsNone(w3.error)
        # timeoutSeconds ends the stream cleanly
        t0 = time.monotonic()
        w4 = self.watch(api, "/api/v1/services", resourceVersion="0", timeoutSeconds="1")
        self.assertTrue(w4.ended.wait(10))
        self.assertIsNone(w4.error)
        self.assertLess(time.monotonic() - t0, 5)
        # stop() closes open watches
        w5 = self.watch(api, "/api/v1/services", resourceVersion="0", timeoutSeconds="30")
        self.assertTrue(api.wait_for_watchers(1, 10))
        api.stop()
        self.assertTrue(w5.ended.wait(10))
        self.assertEqual(api.watch_count(), 0)

    def test_70i_status_writes(self):
        api = self.start_api()
        ing = api.apply(ingress("web"))
        path = "/apis/networking.k8s.io/v1/namespaces/default/ingresses/web"
        w = self.watch(api, "/apis/networking.k8s.io/v1/ingresses", resourceVersion=ing["metadata"]["resourceVersion"],
                       timeoutSeconds="20")
        self.assertTrue(api.wait_for_watchers(1, 10))
        status = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}
        # a merge patch on /status that also tries to change the spec: only status changes
        st, body = self.call(api, "PATCH", path + "/status",
                             body={"status": status, "spec": {"ingressClassName": "other"}},
                             content_type="application/merge-patch+json")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["status"], status)
        self.assertEqual(body["spec"]["ingressClassName"], "switchyard")
        self.assertEqual(body["metadata"]["generation"], 1)
        self.assertGreater(int(body["metadata"]["resourceVersion"]), int(ing["metadata"]["resourceVersion"]))
        evs = w.wait_events(1)
        self.assertEqual(evs[0]["type"], "MODIFIED")
        self.assertEqual(evs[0]["object"]["status"], status)
        self.assertEqual(api.get("networking.k8s.io/v1", "Ingress", "default", "web")["status"], status)
        self.assertEqual(len(api.status_updates), 1)
        rec = api.status_updates[0]
        self.assertEqual((rec["method"], rec["kind"], rec["name"], rec["code"], rec["content_type"]),
                         ("PATCH", "Ingress", "web", 200, "application/merge-patch+json"))
        # the same status again: accepted, no new version, no event (as a real server)
        st, same = self.call(api, "PATCH", path + "/status", body={"status": status},
                             content_type="application/strategic-merge-patch+json")
        self.assertEqual(same["metadata"]["resourceVersion"], body["metadata"]["resourceVersion"])
        # PUT /status with the current resourceVersion
        obj = api.get("networking.k8s.io/v1", "Ingress", "default", "web")
        obj["status"] = {"loadBalancer": {"ingress": [{"hostname": "lb.example"}]}}
        st, put = self.call(api, "PUT", path + "/status", body=obj)
        self.assertEqual(st, 200, put)
        self.assertEqual(put["status"]["loadBalancer"]["ingress"][0]["hostname"], "lb.example")
        # a stale resourceVersion: 409 Conflict
        st, conflict = self.call(api, "PUT", path + "/status", body=obj)
        self.assertEqual((st, conflict["reason"]), (409, "Conflict"))
        evs = w.wait_events(2)
        self.assertEqual([e["type"] for e in evs], ["MODIFIED", "MODIFIED"])
        self.assertEqual(len(api.status_updates), 4)
        # a PATCH of the object itself keeps the status; JSON patch works too
        st, patched = self.call(api, "PATCH", path, body={"metadata": {"labels": {"x": "y"}}, "status": {}},
                                content_type="application/merge-patch+json")
        self.assertEqual(st, 200, patched)
        self.assertEqual(patched["metadata"]["labels"], {"x": "y"})
        self.assertEqual(patched["status"]["loadBalancer"]["ingress"][0]["hostname"], "lb.example")
        st, jp = self.call(api, "PATCH", path, body=[{"op": "replace", "path": "/spec/ingressClassName", "value": "b"}],
                           content_type="application/json-patch+json")
        self.assertEqual((st, jp["spec"]["ingressClassName"], jp["metadata"]["generation"]), (200, "b", 2))
        # kinds without a status subresource, missing objects
        api.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "default"},
                   "data": {"a": "b"}})
        self.assertEqual(self.call(api, "PATCH", "/api/v1/namespaces/default/configmaps/cm/status", body={},
                                   content_type="application/merge-patch+json")[0], 404)
        self.assertEqual(self.call(api, "PATCH", path.replace("/web", "/nope") + "/status", body={},
                                   content_type="application/merge-patch+json")[0], 404)
        self.assertEqual(self.call(api, "PATCH", path, body={}, content_type="text/plain")[0], 415)
        # POST creates, DELETE deletes
        st, created = self.call(api, "POST", "/api/v1/namespaces/default/services", body=svc("new"))
        self.assertEqual((st, created["metadata"]["name"]), (201, "new"))
        self.assertEqual(self.call(api, "POST", "/api/v1/namespaces/default/services", body=svc("new"))[0], 409)
        self.assertEqual(self.call(api, "DELETE", "/api/v1/namespaces/default/services/new")[0], 200)
        self.assertIsNone(api.get("v1", "Service", "default", "new"))

    def test_70j_kubectl_dry_run(self):
        kubectl = shutil.which("kubectl") or ("/usr/bin/kubectl" if os.path.exists("/usr/bin/kubectl") else None)
        if kubectl is None:
            self.skipTest("kubectl is not installed")
        api = self.start_api()
        api.apply(svc("web", namespace="demo"))
        kubeconfig = api.write_kubeconfig(os.path.join(self.tmp, "kubeconfig"))
        manifests = os.path.join(self.tmp, "manifests")
        os.makedirs(manifests)
        with open(os.path.join(manifests, "app.yaml"), "w") as f:
            f.write("""apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec:
  ports: [{port: 8080}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: web, namespace: demo}
spec:
  entryPoints: [web]
  routes:
  - match: Host(`web.example`)
    kind: Rule
    services: [{name: web, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: demo}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: whoami}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: switchyard, namespace: demo}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: switchyard}
rules: [{apiGroups: [""], resources: [services], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: switchyard}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: switchyard}
subjects: [{kind: ServiceAccount, name: switchyard, namespace: demo}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: foos.example.com}
spec:
  group: example.com
  names: {kind: Foo, plural: foos}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
""")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp}
        p = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "--cache-dir", os.path.join(self.tmp, "kcache"),
                            "--request-timeout", "20s", "apply", "--dry-run=client", "--validate=false",
                            "-f", manifests],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=90)
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (out, err))
        for line in ["namespace/demo created (dry run)", "service/web configured (dry run)",
                     "ingressroute.traefik.io/web created (dry run)",
                     "httproute.gateway.networking.k8s.io/web created (dry run)",
                     "deployment.apps/web created (dry run)", "serviceaccount/switchyard created (dry run)",
                     "clusterrole.rbac.authorization.k8s.io/switchyard created (dry run)",
                     "clusterrolebinding.rbac.authorization.k8s.io/switchyard created (dry run)",
                     "customresourcedefinition.apiextensions.k8s.io/foos.example.com created (dry run)"]:
            self.assertIn(line, out, err)
        # a client dry run changes nothing
        self.assertEqual(api.resource_version, "1")
        self.assertEqual(api.writes.snapshot(), [])


if __name__ == "__main__":
    unittest.main()
