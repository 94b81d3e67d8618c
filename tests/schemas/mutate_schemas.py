#!/usr/bin/env python3
"""Feeds check_schemas.py thousands of mutated copies of the real schemas: every mutation must
come back as reported errors or a clean pass, never a Python exception (bad input gets a clear
error, never a crash). Deterministic: a fixed seed.

usage: mutate_schemas.py CHECK_SCHEMAS_PY SCHEMA_DIR [--rounds N]
"""
import argparse
import copy
import importlib.util
import json
import os
import random
import re
import sys

ODD_VALUES = [None, 0, -1, 7, 2**40, "", "x", "0-", "3+", "none", "0-99999", [], {}, [1], {"a": 1},
              True, 1.5, "[]", "[]Nope", "int8", "uuid", "null"]


def load(check_py):
    spec = importlib.util.spec_from_file_location("check_schemas", check_py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def nodes(js, out):
    """Every dict and list inside js."""
    if isinstance(js, (dict, list)):
        out.append(js)
        for v in (js.values() if isinstance(js, dict) else js):
            nodes(v, out)
    return out


def mutate(js, rng):
    target = rng.choice(nodes(js, []))
    if isinstance(target, dict) and target:
        key = rng.choice(sorted(target))
        action = rng.randrange(3)
        if action == 0:
            del target[key]
        elif action == 1:
            target[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            target[rng.choice(["name", "type", "versions", "tag", "fields", "mapKey"])] = \
                copy.deepcopy(target[key])
    elif isinstance(target, list) and target:
        i = rng.randrange(len(target))
        if rng.randrange(2):
            target.insert(i, copy.deepcopy(target[i]))
        else:
            target[i] = copy.deepcopy(rng.choice(ODD_VALUES))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check_py")
    ap.add_argument("schema_dir")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--seed", type=int, default=20261207)
    args = ap.parse_args()
    cs = load(args.check_py)
    rng = random.Random(args.seed)
    files = sorted(f for f in os.listdir(args.schema_dir) if f.endswith(".json"))
    checked = rejected = 0
    for name in files:
        path = os.path.join(args.schema_dir, name)
        with open(path, encoding="utf-8") as fh:
            original = json.loads(cs.strip_comments(fh.read()))
        for _ in range(args.rounds):
            js = copy.deepcopy(original)
            for _ in range(rng.randint(1, 3)):
                mutate(js, rng)
            report = cs.Report()
            try:
                if isinstance(js, dict):
                    cs.check_message(path, js, report, None)
            except Exception as e:  # noqa: BLE001 - any exception is the bug this test finds
                print(f"CRASH on a mutation of {name}: {type(e).__name__}: {e}")
                print(json.dumps(js)[:2000])
                return 1
            checked += 1
            rejected += 1 if report.errors else 0
    print(f"{checked} mutated schemas checked without a crash; {rejected} rejected")
    return 0 if rejected > checked // 2 else 1


if __name__ == "__main__":
    sys.exit(main())
