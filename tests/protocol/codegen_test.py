#!/usr/bin/env python3
"""The generator refuses malformed schemas with a reason, and --check notices stale output.

usage: codegen_test.py PATH/TO/kafka_codegen.py
"""
import json
import os
import subprocess
import sys
import tempfile

GOOD = {"apiKey": 90, "type": "request", "name": "TinyRequest", "validVersions": "0-1",
        "flexibleVersions": "1+",
        "fields": [{"name": "Id", "type": "int32", "versions": "0+"},
                   {"name": "Note", "type": "string", "versions": "1+", "nullableVersions": "1+",
                    "tag": 0, "taggedVersions": "1+"}]}

BAD = [
    ("bad version range", {"validVersions": "1-x"}),
    ("unknown type", {"fields": [{"name": "A", "type": "int12", "versions": "0+"}]}),
    ("tagged outside flexible", {"fields": [{"name": "A", "type": "int32", "versions": "0+",
                                             "tag": 0, "taggedVersions": "0+"}]}),
    ("nullable int", {"fields": [{"name": "A", "type": "int32", "versions": "0+",
                                  "nullableVersions": "0+"}]}),
    ("duplicate tag", {"fields": [{"name": "A", "type": "int32", "versions": "1+", "tag": 0,
                                   "taggedVersions": "1+"},
                                  {"name": "B", "type": "int32", "versions": "1+", "tag": 0,
                                   "taggedVersions": "1+"}]}),
    ("struct without fields", {"fields": [{"name": "A", "type": "[]Nowhere", "versions": "0+"}]}),
    ("missing versions", {"fields": [{"name": "A", "type": "int32"}]}),
    ("bad default", {"fields": [{"name": "A", "type": "int32", "versions": "0+", "default": "x"}]}),
    ("reserved C++ name", {"fields": [{"name": "Name", "type": "string", "versions": "0+"}]}),
]


def run(gen, schema, extra=()):
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "s"))
        with open(os.path.join(d, "s", "Tiny.json"), "w") as f:
            json.dump(schema, f)
        out = os.path.join(d, "out")
        p = subprocess.run([sys.executable, gen, os.path.join(d, "s"), out, *extra],
                           capture_output=True, text=True)
        return p, out, d


def main():
    gen = sys.argv[1]
    failures = 0
    for what, change in BAD:
        p, _, _ = run(gen, {**GOOD, **change})
        if p.returncode != 2 or "kafka_codegen:" not in p.stderr:
            print(f"FAIL: {what}: exit {p.returncode}, stderr {p.stderr!r}")
            failures += 1
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "s"))
        with open(os.path.join(d, "s", "Tiny.json"), "w") as f:
            json.dump(GOOD, f)
        out = os.path.join(d, "out")
        args = [sys.executable, gen, os.path.join(d, "s"), out]
        if subprocess.run(args).returncode != 0:
            print("FAIL: a good schema does not generate")
            failures += 1
        if subprocess.run(args + ["--check"]).returncode != 0:
            print("FAIL: --check after generating reports a difference")
            failures += 1
        with open(os.path.join(out, "tiny_request.cc"), "a") as f:
            f.write("// edited by hand\n")
        if subprocess.run(args + ["--check"], capture_output=True).returncode != 1:
            print("FAIL: --check misses a hand edit")
            failures += 1
    print("codegen_test:", "FAILED" if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
