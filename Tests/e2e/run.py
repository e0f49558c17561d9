#!/usr/bin/env python3
"""Runner for the Switchyard end-to-end tests.

    python3 Tests/e2e/run.py                 # everything
    python3 Tests/e2e/run.py -k rules        # tests whose id contains "rules"
    python3 Tests/e2e/run.py -k 'test_0*' -k ws   # several patterns (OR); fnmatch wildcards allowed
    python3 Tests/e2e/run.py --list          # list test ids
    python3 Tests/e2e/run.py --no-xfail -k 03g   # run an @expectedFailure test as a normal one

Environment:
    SWITCHYARD_BIN   path of the binary (default .build/debug/switchyard; a
                     relative path is taken from the current directory if it
                     exists there, else from the repository root)
    E2E_KEEP_TMP=1   keep every test's temp folder (failed tests' folders are always kept)
    E2E_SHOW_LOGS=1  print the proxy's stderr tail for failed tests
    E2E_TIMEOUT=N    whole-run watchdog in seconds (default 900)

Exit code: 0 when every selected test passed (expected failures count as
passing), 1 otherwise, 2 when the watchdog fired.
"""

import argparse
import faulthandler
import fnmatch
import os
import re
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            for x in iter_tests(t):
                yield x
        else:
            yield t


def matches(test_id, patterns):
    if not patterns:
        return True
    for p in patterns:
        pat = p if any(c in p for c in "*?[") else "*%s*" % p
        if fnmatch.fnmatchcase(test_id, pat) or fnmatch.fnmatchcase(test_id.lower(), pat.lower()):
            return True
    return False


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super(RecordingResult, self).__init__(*a, **kw)
        self.records = []  # (id, outcome, seconds)
        self._started = {}

    def startTest(self, test):
        self._started[test.id()] = time.monotonic()
        super(RecordingResult, self).startTest(test)

    def _record(self, test, outcome):
        t0 = self._started.get(test.id(), time.monotonic())
        self.records.append((test.id(), outcome, time.monotonic() - t0))

    def addSuccess(self, test):
        super(RecordingResult, self).addSuccess(test)
        self._record(test, "PASS")

    def addFailure(self, test, err):
        super(RecordingResult, self).addFailure(test, err)
        self._record(test, "FAIL")

    def addError(self, test, err):
        super(RecordingResult, self).addError(test, err)
        self._record(test, "ERROR")

    def addSkip(self, test, reason):
        super(RecordingResult, self).addSkip(test, reason)
        self._record(test, "SKIP (%s)" % reason)

    def addExpectedFailure(self, test, err):
        super(RecordingResult, self).addExpectedFailure(test, err)
        self._record(test, "XFAIL")

    def addUnexpectedSuccess(self, test):
        super(RecordingResult, self).addUnexpectedSuccess(test)
        self._record(test, "XPASS (unexpected success)")


def brief_number(test):
    m = re.match(r"test_(\d+)", getattr(test, "_testMethodName", ""))
    return int(m.group(1)) if m else 1000


def strip_expected_failure(test):
    name = getattr(test, "_testMethodName", None)
    func = getattr(type(test), name, None) if name else None
    if func is not None and getattr(func, "__unittest_expecting_failure__", False):
        def plain(_test=test, _func=func):
            return _func(_test)
        setattr(test, name, plain)


def start_watchdog(seconds):
    def fire():
        sys.stderr.write("\n\nWATCHDOG: the run exceeded %ss; dumping stacks and killing children\n" % seconds)
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        harness.kill_all_registered()
        os._exit(2)
    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()
    return t


def main():
    ap = argparse.ArgumentParser(description="Switchyard end-to-end tests")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="only run tests whose id matches PATTERN (substring or fnmatch); repeatable")
    ap.add_argument("--list", action="store_true", help="list the selected tests and exit")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("-x", "--failfast", action="store_true")
    ap.add_argument("--no-xfail", action="store_true",
                    help="run @expectedFailure tests as ordinary tests (to see why they fail)")
    args = ap.parse_args()

    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    selected = [t for t in iter_tests(suite) if matches(t.id(), args.patterns)]
    # in the order of the brief: by the number in the method name (test_05b_... -> 5)
    selected.sort(key=lambda t: (brief_number(t), t.id()))
    if args.no_xfail:
        for t in selected:
            strip_expected_failure(t)
    if args.list:
        for t in selected:
            print(t.id())
        return 0
    if not selected:
        print("no test matches %s" % args.patterns)
        return 1

    print("switchyard binary: %s" % harness.binary_path())
    print("python: %s %s" % (sys.executable, sys.version.split()[0]))
    start_watchdog(float(os.environ.get("E2E_TIMEOUT", "900")))
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=1 if args.quiet else 2,
                                     resultclass=RecordingResult, failfast=args.failfast)
    t0 = time.monotonic()
    result = runner.run(unittest.TestSuite(selected))
    elapsed = time.monotonic() - t0
    harness.kill_all_registered()

    print("\n================ summary ================")
    width = max(len(r[0]) for r in result.records) if result.records else 10
    for test_id, outcome, secs in result.records:
        print("%-*s  %6.1fs  %s" % (width, test_id, secs, outcome))
    counts = {}
    for _, outcome, _ in result.records:
        key = outcome.split(" ")[0]
        counts[key] = counts.get(key, 0) + 1
    print("-----------------------------------------")
    print("total %d: %s   in %.1fs" % (len(result.records),
                                        ", ".join("%s %d" % kv for kv in sorted(counts.items())), elapsed))
    ok = result.wasSuccessful() and not result.unexpectedSuccesses
    print("RESULT: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
