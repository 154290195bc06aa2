#!/usr/bin/python3
"""Counts test cases in Bazel's test.xml files and prints one closing line:
"tests: N passed, N failed"."""
import os
import sys
import xml.etree.ElementTree as ET

passed = failed = 0
for root, _, files in os.walk(sys.argv[1]):
    if "test.xml" not in files:
        continue
    try:
        tree = ET.parse(os.path.join(root, "test.xml"))
    except ET.ParseError:
        failed += 1
        continue
    cases = list(tree.iter("testcase"))
    if not cases:  # a target without GoogleTest output counts once
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
