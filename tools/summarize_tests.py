#!/usr/bin/python3
"""Prints one closing line "tests: N passed, N failed" for a Bazel test run.

Usage: summarize_tests.py TESTLOGS_DIR [--xml FILE]... TARGET...

Counts the GoogleTest cases in each target's test.xml, and the cases of
each JUnit XML FILE given with --xml (results of checks run outside Bazel,
such as tools/test_consumers.sh); a sharded target's cases are those of
its shards. A target or FILE without a result (it
failed to build or did not run) counts as one failure, and so does a result
that has no test cases but failed. Each failed case is named, with the first
lines of its failure message, so that the tail of a CI log says what broke.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def count(xml, name):
    """Returns (passed, failed) for the JUnit XML file `xml`."""
    try:
        tree = ET.parse(xml)
    except (OSError, ET.ParseError):
        print("no result: %s" % name)
        return 0, 1
    cases = list(tree.iter("testcase"))
    if not cases:
        bad = any(s.get("failures", "0") != "0" or s.get("errors", "0") != "0"
                  for s in tree.iter("testsuite"))
        return int(not bad), int(bad)
    passed = failed = 0
    for case in cases:
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failed += 1
            text = (problem.get("message") or problem.text or "").strip()
            print("FAILED %s %s.%s" % (name, case.get("classname", ""),
                                       case.get("name", "")))
            for line in text.splitlines()[:8]:
                print("    " + line[:300])
        elif case.get("result") != "suppressed" and case.get("status") != "notrun":
            passed += 1
    return passed, failed


testlogs, args = sys.argv[1], sys.argv[2:]
results = []  # (xml path, name)
while args and args[0] == "--xml":
    results.append((args[1], args[1]))
    args = args[2:]
for target in args:
    package, _, name = target.lstrip("/").partition(":")
    logs = os.path.join(testlogs, package, name)
    # A sharded test has one result per shard and none of its own.
    shards = sorted(glob.glob(os.path.join(logs, "shard_*_of_*", "test.xml")))
    if not os.path.exists(os.path.join(logs, "test.xml")) and shards:
        results.extend((xml, target) for xml in shards)
    else:
        results.append((os.path.join(logs, "test.xml"), target))
passed = failed = 0
for xml, name in results:
    p, f = count(xml, name)
    passed, failed = passed + p, failed + f
print("tests: %d passed, %d failed" % (passed, failed))
