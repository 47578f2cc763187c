#!/usr/bin/env python3
"""Prints each failed test of a .trx file with the first lines of its message (test.sh calls it last)."""
import sys
import xml.etree.ElementTree as ET

ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
results = ET.parse(sys.argv[1]).getroot().findall(".//t:UnitTestResult", ns)
failed = [r for r in results if r.get("outcome") == "Failed"]
print(f"\n{len(failed)} of {len(results)} tests failed:")
for r in failed:
    message = r.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=ns).strip()
    print(f"- {r.get('testName')} ({r.get('duration')})")
    for line in message.splitlines()[:4]:
        print(f"    {line[:300]}")
