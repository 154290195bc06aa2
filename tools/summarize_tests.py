#!/usr/bin/python3
"""Prints one closing line "tests: N passed, N failed" for a Bazel test run.

Usage: summarize_tests.py TESTLOGS_DIR TARGET...

Counts the GoogleTest cases in each target's test.xml; a target without a
result (it failed to build or did not run) counts as one failure, and so
does a target whose result has no test cases but failed.
"""
import os
import sys
import xml.etree.ElementTree as ET

testlogs, targets = sys.argv[1], sys.argv[2:]
passed = failed = 0
for target in targets:
    package, _, name = target.lstrip("/").partition(":")
    xml = os.path.join(testlogs, package, name, "test.xml")
    try:
        tree = ET.parse(xml)
    except (OSError, ET.ParseError):
        print("no result: %s" % target)
        failed += 1
        continue
    cases = list(tree.iter("testcase"))
    if not cases:
        bad = any(s.get("failures", "0") != "0" or s.get("errors", "0") != "0"
                  for s in tree.iter("testsuite"))
        failed, passed = failed + bad, passed + (not bad)
        continue
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.get("result") != "suppressed" and case.get("status") != "notrun":
            passed += 1
print("tests: %d passed, %d failed" % (passed, failed))
