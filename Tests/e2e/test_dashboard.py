"""The web dashboard in a real browser: headless Chromium driven by Selenium against the real binary.

Needs chromium, chromium-driver and python3-selenium (Debian). Debian's selenium installs for /usr/bin/python3; when
the `python3` running the suite does not see it, /usr/lib/python3/dist-packages is added to the path; without
selenium or Chromium the tests are skipped with the reason.

Environment:
    SWITCHYARD_TEST_DASHBOARD_DIR=dashboard   serve the dashboard's files from this folder instead of the ones
                                              embedded in the binary (for working on them without a rebuild)
    SWITCHYARD_SCREENSHOTS=1                  also copy the nicest screenshots to docs/screenshots/
"""

import os
import shutil
import sys

from harness import REPO_ROOT, E2ETestCase, request, route_yaml, wait_until

try:
    import selenium  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import selenium  # noqa: F401
    except ImportError:
        selenium = None

if selenium is not None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.remote_connection import RemoteConnection

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]
SCREENSHOTS = os.path.join(REPO_ROOT, "docs", "screenshots")


class DashboardTests(E2ETestCase):

    def setUp(self):
        if selenium is None:
            self.skipTest("selenium is not installed (apt-get install python3-selenium)")
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.access(path, os.X_OK):
                self.skipTest("%s is missing (apt-get install chromium chromium-driver)" % path)
        super(DashboardTests, self).setUp()
        self.driver = None

    # ------------------------------------------------------------------ helpers

    def start_dashboard_proxy(self, **kw):
        folder = os.environ.get("SWITCHYARD_TEST_DASHBOARD_DIR")
        if folder:
            kw["env"] = dict(kw.get("env") or {}, SWITCHYARD_DASHBOARD_DIR=os.path.abspath(folder))
        proxy = self.start_proxy(**kw)
        index = request(proxy.api_port, "/dashboard/", timeout=5)
        self.assertEqual(index.status, 200, "GET /dashboard/ -> %r" % index)
        self.assertIn("app.js", index.text, "the binary serves a placeholder dashboard: rebuild it, or set "
                                            "SWITCHYARD_TEST_DASHBOARD_DIR=dashboard to serve the files from disk")
        return proxy

    def browser(self):
        RemoteConnection.set_timeout(60)  # every WebDriver command is bounded
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in BROWSER_FLAGS:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(CHROMEDRIVER, log_path=os.path.join(self.tmp, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.addCleanup(self.driver.quit)
        self.addCleanup(self._save_failure_evidence)  # runs before quit
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(10)
        return self.driver

    def _save_failure_evidence(self):
        if not self._outcome_failed() or self.driver is None:
            return
        try:
            self.driver.save_screenshot(os.path.join(self.tmp, "failure.png"))
            with open(os.path.join(self.tmp, "page.html"), "w") as f:
                f.write(self.driver.page_source)
            with open(os.path.join(self.tmp, "console.log"), "w") as f:
                for entry in self.driver.get_log("browser"):
                    f.write("%s %s\n" % (entry.get("level"), entry.get("message")))
        except Exception as e:  # noqa: BLE001 - evidence is best effort
            print("\n    [could not save the browser's state: %r]" % e, end="")

    def open(self, proxy, fragment="/"):
        driver = self.driver or self.browser()
        driver.get("http://127.0.0.1:%d/dashboard/#%s" % (proxy.api_port, fragment))
        return driver

    def page_text(self):
        try:
            return self.driver.find_element(By.TAG_NAME, "main").text[:1500]
        except Exception:  # noqa: BLE001
            return "(no page)"

    def wait_js(self, script, timeout=10.0, message="page condition"):
        """Poll a JavaScript expression (a `return ...` body) until truthy; returns its value."""
        try:
            return wait_until(lambda: self.driver.execute_script(script), timeout, interval=0.1, message=message)
        except AssertionError as e:
            raise AssertionError("%s\npage shows:\n%s" % (e, self.page_text()))

    def wait_css(self, selector, timeout=10.0, text=None):
        """The first element matching selector (and containing text, when given)."""
        def found():
            for element in self.driver.find_elements(By.CSS_SELECTOR, selector):
                if text is None or text in element.text:
                    return element
            return None
        try:
            return wait_until(found, timeout, interval=0.1, message="%s%s" % (selector, " with %r" % text if text else ""))
        except AssertionError as e:
            raise AssertionError("%s\npage shows:\n%s" % (e, self.page_text()))

    def rows(self, attribute):
        return self.driver.execute_script(
            "return [...document.querySelectorAll('tbody tr[data-%s]')].map(r => r.dataset['%s'])" % (attribute, attribute))

    def screenshot(self, name, publish=False):
        path = os.path.join(self.tmp, "%s.png" % name)
        self.driver.save_screenshot(path)
        if publish and os.environ.get("SWITCHYARD_SCREENSHOTS") == "1":
            os.makedirs(SCREENSHOTS, exist_ok=True)
            shutil.copyfile(path, os.path.join(SCREENSHOTS, "%s.png" % name))
        return path

    # ------------------------------------------------------------------ tests

    def test_60a_the_routers_of_the_folder_are_listed(self):
        backend = self.start_whoami("dash-list")
        self.write("apps.yml", route_yaml(
            {"alpha": {"rule": "Host(`alpha.test`)", "service": "web"},
             "beta": {"rule": "Host(`beta.test`) && PathPrefix(`/b`)", "service": "web", "priority": 50},
             "gamma": {"rule": "Host(`gamma.test`)", "service": "billing", "entryPoints": ["web"]}},
            {"web": [backend.url], "billing": [backend.url]}))
        proxy = self.start_dashboard_proxy()
        proxy.wait_routers(["alpha@file", "beta@file", "gamma@file"])

        self.open(proxy, "/routers")
        beta = self.wait_css('tr[data-router="beta@file"]')
        self.assertIn("Host(`beta.test`) && PathPrefix(`/b`)", beta.text)
        self.assertIn("50", beta.text, "the priority column")
        self.assertIn("web@file", beta.text, "the service column")
        names = self.rows("router")
        for name in ("alpha@file", "beta@file", "gamma@file"):
            self.assertIn(name, names)
        self.screenshot("routers", publish=True)

        self.driver.find_element(By.ID, "search").send_keys("gamma")
        self.wait_js("return document.querySelectorAll('tbody tr[data-router]').length === 1", 5, "search for gamma")
        self.assertEqual(self.rows("router"), ["gamma@file"])
        self.assertIn("search=gamma", self.driver.current_url, "the search is kept in the address (deep link)")

        self.open(proxy, "/services?search=billing")
        self.wait_js("return document.querySelectorAll('tr[data-service]').length === 1", 5, "deep link #/services?search=billing")
        self.assertEqual(self.rows("service"), ["billing@file"])

    def test_60b_a_dropped_file_shows_its_router_without_a_reload(self):
        backend = self.start_whoami("dash-live")
        self.write("first.yml", route_yaml({"first": {"rule": "Host(`first.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_dashboard_proxy()
        proxy.wait_routers(["first@file"])
        driver = self.open(proxy, "/routers")
        self.wait_css('tr[data-router="first@file"]')
        # Live by Server-Sent Events from /api/events, not by polling.
        self.wait_js("return document.querySelector('#live').dataset.mode === 'live'", message="SSE connected")
        driver.execute_script("window.__sameDocument = true")

        self.write("dropped.yml", route_yaml({"dropped": {"rule": "Host(`dropped.test`)", "service": "d"}},
                                             {"d": [backend.url]}))
        self.wait_css('tr[data-router="dropped@file"]', timeout=3.0)
        self.assertTrue(driver.execute_script("return window.__sameDocument === true"), "the page was reloaded")
        self.screenshot("live")

    def test_60c_a_broken_file_shows_its_error_with_the_file_name(self):
        backend = self.start_whoami("dash-broken")
        self.write("good.yml", route_yaml({"good": {"rule": "Host(`good.test`)", "service": "s"}}, {"s": [backend.url]}))
        self.write("broken.yml", "http:\n  routers:\n    bad: [\n      rule: Host(`x`)\n")
        proxy = self.start_dashboard_proxy()
        proxy.wait_rawdata(lambda d: "good@file" in d["routers"] and d.get("errors"), message="the broken file's error")

        self.open(proxy, "/")
        self.wait_css("#overview-issues .issue", text="broken.yml")
        self.screenshot("overview", publish=True)

        self.open(proxy, "/errors")
        issue = self.wait_css('#errors-panel .issue[data-severity="error"]', text="broken.yml")
        self.assertIn("invalid YAML", issue.text)
        self.assertRegex(issue.text, r"broken\.yml:\d+(:\d+)?: ", "source:line: message")
        self.screenshot("errors")

    def test_60d_history_lists_versions_and_the_diff_names_the_changed_router(self):
        backend = self.start_whoami("dash-history")
        self.write("app.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"},
                                          "gone": {"rule": "Host(`gone.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_dashboard_proxy()
        proxy.wait_routers(["app@file", "gone@file"])
        first = proxy.version()
        self.write("app.yml", route_yaml({"app": {"rule": "Host(`app2.test`)", "service": "s"},
                                          "new": {"rule": "Host(`new.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy.wait_routers(["new@file"])
        second = proxy.version()
        self.assertGreater(second, first)

        self.open(proxy, "/history")
        self.wait_css('#history-list li[data-version="%d"]' % first)
        newest = self.wait_css('#history-list li[data-version="%d"]' % second)
        self.assertIn("file", newest.text, "the cause of the version")
        newest.find_element(By.TAG_NAME, "a").click()
        changed = self.wait_css('#history-diff li[data-name="app@file"][data-change="changed"]')
        self.assertIn("rule", changed.text, "the changed field")
        self.wait_css('#history-diff li[data-name="gone@file"][data-change="removed"]')
        self.wait_css('#history-diff li[data-name="new@file"][data-change="added"]')
        self.assertIn("#/history/%d" % second, self.driver.current_url)
        self.screenshot("history")

    def test_60e_the_route_tester_names_the_winning_router(self):
        backend = self.start_whoami("dash-explain")
        self.write("apps.yml", route_yaml(
            {"site": {"rule": "Host(`app.test`)", "service": "s"},
             "api": {"rule": "Host(`app.test`) && PathPrefix(`/api`)", "service": "s"},
             "other": {"rule": "Host(`other.test`)", "service": "s"}},
            {"s": [backend.url]}))
        proxy = self.start_dashboard_proxy()
        proxy.wait_routers(["site@file", "api@file", "other@file"])

        driver = self.open(proxy, "/explain")
        self.wait_css('#explain-entrypoint option[value="web"]')
        url = driver.find_element(By.ID, "explain-url")
        url.clear()
        url.send_keys("http://app.test/api/users")
        driver.find_element(By.ID, "explain-submit").click()
        self.wait_js("return document.getElementById('explain-result').dataset.state === 'done'", 10, "the answer")
        winner = self.wait_css("#explain-winner", timeout=2)
        self.assertEqual(winner.get_attribute("data-winner"), "api@file", winner.text)
        self.assertIn("api@file", winner.text)
        other = self.wait_css('#explain-candidates tr[data-candidate="other@file"]')
        self.assertEqual(other.get_attribute("data-matched"), "false")
        self.assertIn("other.test", other.text, "the failed clause")
        site = self.wait_css('#explain-candidates tr[data-candidate="site@file"]')
        self.assertEqual(site.get_attribute("data-matched"), "true", "matches, but loses on priority")
        driver.execute_script("document.getElementById('explain-result').scrollIntoView()")
        self.screenshot("route-tester", publish=True)

    def test_60f_a_health_flip_shows_in_the_routers_flow(self):
        up = self.start_whoami("dash-up")
        down = self.start_whoami("dash-down")
        self.write("app.yml", route_yaml(
            {"app": {"rule": "Host(`app.test`)", "service": "s"}},
            {"s": {"servers": [up.url, down.url],
                   "healthCheck": {"path": "/health", "interval": "1s", "timeout": "1s"}}}))
        proxy = self.start_dashboard_proxy()
        proxy.wait_routers(["app@file"])

        self.open(proxy, "/routers/app@file")
        for backend in (up, down):
            self.wait_css('#flow [data-server="%s"][data-status="UP"]' % backend.url, timeout=10)
        down.stop()
        self.wait_css('#flow [data-server="%s"][data-status="DOWN"]' % down.url, timeout=15)
        self.wait_css('#flow [data-server="%s"][data-status="UP"]' % up.url, timeout=1)
        self.screenshot("router-flow", publish=True)

    def test_60h_live_traffic_shows_per_router_with_a_sparkline(self):
        backend = self.start_whoami("dash-traffic")
        self.write("t.yml", route_yaml({"busy": {"rule": "Host(`busy.test`)", "service": "s"},
                                        "idle": {"rule": "Host(`idle.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_dashboard_proxy()
        proxy.wait_routers(["busy@file", "idle@file"])
        for _ in range(30):
            self.assertEqual(proxy.get("/", host="busy.test").status, 200)
        self.open(proxy, "/routers?sort=rate&dir=desc")
        row = self.wait_css('tr[data-router="busy@file"]')
        # The counters are sampled each second; the page refreshes traffic on its own.
        self.wait_js("const row = document.querySelector('tr[data-router=\"busy@file\"]');"
                     "return row && row.querySelector('svg.spark polyline') && /\\d/.test(row.innerText)",
                     timeout=10.0, message="busy@file's traffic cells")
        row = self.wait_css('tr[data-router="busy@file"]')
        self.assertRegex(row.text, r"0\.\d+|\d+(\.\d+)?/s", "a request rate for busy@file")
        idle = self.wait_css('tr[data-router="idle@file"]')
        self.assertEqual(idle.find_elements(By.CSS_SELECTOR, "svg.spark"), [], "no traffic, no sparkline")
        self.screenshot("traffic", publish=True)

    def test_60i_a_phone_and_a_dark_system_theme(self):
        backend = self.start_whoami("dash-phone")
        self.write("p.yml", route_yaml({"phone": {"rule": "Host(`a-rather-long-host-name.example.test`) && PathPrefix(`/api`)",
                                                  "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_dashboard_proxy()
        proxy.wait_routers(["phone@file"])
        driver = self.browser()
        driver.set_window_size(390, 844)
        self.open(proxy, "/routers")
        self.wait_css('tr[data-router="phone@file"]')
        # The page itself does not scroll sideways; wide tables scroll inside their own box.
        self.assertTrue(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"),
                        "the page is wider than a phone's screen")
        self.screenshot("phone")
        light = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        dark = self.wait_js("const c = getComputedStyle(document.body).backgroundColor;"
                            "return c !== %r ? c : null" % light, message="the dark theme")

        def luminance(css):
            r, g, b = [int(x) for x in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
            return 0.2126 * r + 0.7152 * g + 0.0722 * b
        self.assertLess(luminance(dark), luminance(light))
        self.screenshot("dark")

    def test_60g_the_routers_page_renders_1000_routers(self):
        backend = self.start_whoami("dash-many")
        lines = ["http:", "  routers:"]
        for i in range(1000):
            lines += ["    r%04d:" % i,
                      "      rule: \"Host(`r%04d.test`)%s\"" % (i, " && PathPrefix(`/v%d`)" % (i % 7) if i % 3 else ""),
                      "      service: s%d" % (i % 10)]
        lines.append("  services:")
        for i in range(10):
            lines += ["    s%d:" % i, "      loadBalancer:", "        servers:", "          - url: %s" % backend.url]
        self.write("many.yml", "\n".join(lines) + "\n")
        proxy = self.start_dashboard_proxy()
        proxy.wait_rawdata(lambda d: sum(1 for n in d["routers"] if n.endswith("@file")) == 1000, timeout=30,
                           message="1000 routers")

        self.open(proxy, "/routers")
        self.wait_js("return document.querySelectorAll('#routers-table tbody tr[data-router$=\"@file\"]').length === 1000",
                     30, "1000 router rows")
        seen = self.driver.execute_script("return performance.now()")
        rendered = float(self.driver.find_element(By.ID, "routers-table").get_attribute("data-rendered"))
        print("\n    1000 routers: table rendered %.0f ms after navigation start (seen by the test at %.0f ms)"
              % (rendered, seen), end="")
        search = self.driver.find_element(By.ID, "search")
        search.send_keys("r0999")
        self.wait_js("return document.querySelectorAll('#routers-table tbody tr[data-router]').length === 1", 5,
                     "search among 1000 routers")
        self.screenshot("routers-1000")
