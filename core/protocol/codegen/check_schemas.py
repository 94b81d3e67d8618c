#!/usr/bin/env python3
"""Checks Keel's Kafka message schemas (core/protocol/schemas/*.json) for structural mistakes
before the generator turns them into codecs. See docs/kafka-apis.md, "Schema rules".

usage: check_schemas.py [--root DIR] [--docs FILE] PATH...
       check_schemas.py [--root DIR] --expect-errors [--cases-in DIR] [PATH...]

PATH is a schema file or a directory of them (`//` line comments allowed, as in Kafka's
files). All paths are checked together, so cross-file rules (a request and its response
agree on validVersions and flexibleVersions; every request has a response) see them all.

Per file it checks: required and known keys; version specs ("N", "N-M", "N+", "none");
validVersions a closed range; flexibleVersions "none" or "N+" inside it; field versions
inside validVersions and inside the enclosing struct's; nullableVersions inside the field's
versions and only on nullable types; tagged fields only in flexible versions, with a tag,
open-ended, never a mapKey, tags unique per struct; known types and struct names unique;
entityType known and matching the type; keelType naming a Keel type whose width matches;
defaults that parse for the type ("null" only where every version is nullable); and, with
the repository root, apiKey/name/first flexible version against core/protocol/api_keys.cc.

--docs FILE: the API table after `<!-- schema-table` in FILE must agree with the request
schemas (versions, first flexible version, name), and every broker-listener request needs a row.

--expect-errors: each PATH is one planted mistake (a file, or a directory of files checked
together); with --cases-in DIR, every *.json file and subdirectory of DIR is one. A case's
files say what must be reported with `// expect: TEXT` lines. Exits 0 only if every case
reports every expected text and nothing else (tests/protocol/bad_schemas/).
"""
import argparse
import json
import os
import re
import sys

PRIMITIVE_WIDTH = {"bool": None, "int8": 8, "int16": 16, "uint16": 16, "int32": 32,
                   "uint32": 32, "int64": 64, "float64": None, "uuid": None}
INT_RANGE = {"int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1), "uint16": (0, 2**16 - 1),
             "int32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1), "int64": (-2**63, 2**63 - 1)}
NULLABLE_PRIMITIVES = {"string", "bytes", "records"}
# Kafka's org.apache.kafka.message.EntityType and the field types each may annotate.
ENTITY_TYPES = {"unknown": None, "transactionalId": "string", "producerId": "int64",
                "groupId": "string", "topicName": "string", "brokerId": "int32"}
MESSAGE_TYPES = {"request", "response", "header", "data", "metadata", "coordinator-key",
                 "coordinator-value"}
LISTENERS = {"broker", "controller", "zkBroker"}
TOP_REQUIRED = ("name", "type", "validVersions", "flexibleVersions", "fields")
TOP_KEYS = set(TOP_REQUIRED) | {"apiKey", "listeners", "deprecatedVersions",
                                "latestVersionUnstable", "commonStructs", "keelVersions",
                                "keelName"}
FIELD_REQUIRED = ("name", "type", "versions")
FIELD_KEYS = set(FIELD_REQUIRED) | {"nullableVersions", "taggedVersions", "tag", "default",
                                    "entityType", "mapKey", "ignorable", "about", "fields",
                                    "flexibleVersions", "zeroCopy", "keelType", "keelName",
                                    "keelStructName"}
VERSION_MAX = 0x7fff
CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")  # Kafka's rule: timeoutMs is a valid name
CPP_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Versions:
    """A version range [lo, hi]; empty when lo > hi."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text):
        """Kafka's version spec, or None when malformed."""
        if not isinstance(text, str):
            return None
        if text == "none":
            return Versions(1, 0)
        m = re.fullmatch(r"(\d+)(\+|-(\d+))?", text)
        if not m:
            return None
        lo = int(m.group(1))
        hi = lo if m.group(2) is None else VERSION_MAX if m.group(2) == "+" else int(m.group(3))
        return Versions(lo, hi) if lo <= hi <= VERSION_MAX else None

    def empty(self):
        return self.lo > self.hi

    def clip(self, other):
        return Versions(max(self.lo, other.lo), min(self.hi, other.hi))

    def within(self, other):
        return self.empty() or (other.lo <= self.lo and self.hi <= other.hi)

    def __str__(self):
        if self.empty():
            return "none"
        return f"{self.lo}+" if self.hi == VERSION_MAX else f"{self.lo}-{self.hi}"


class Report:
    def __init__(self):
        self.errors = []

    def add(self, where, text):
        self.errors.append(f"{where}: {text}")


def load_schema(path, report):
    """The parsed JSON with full-line and trailing // comments removed, or None."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        report.add(path, f"cannot read: {e.strerror}")
        return None
    try:
        return json.loads(strip_comments(text))
    except json.JSONDecodeError as e:
        report.add(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")
        return None


def strip_comments(text):
    """Blanks // comments outside JSON strings, keeping line numbers."""
    out, i, n, in_str = [], 0, len(text), False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def load_keel_types(root):
    """{name: bit width} for Keel's strong ints (core/base/types.h) and integer enums
    (core/protocol/*.h), the types keelType may name."""
    types = {}
    int_width = {"int8_t": 8, "int16_t": 16, "int32_t": 32, "int64_t": 64, "uint16_t": 16,
                 "uint32_t": 32}
    paths = [os.path.join(root, "core/base/types.h")]
    proto = os.path.join(root, "core/protocol")
    paths += sorted(os.path.join(proto, f) for f in os.listdir(proto) if f.endswith(".h"))
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        for name, rep in re.findall(r"using\s+(\w+)\s*=\s*StrongInt<[^,]+,\s*(\w+)>", text):
            types[name] = int_width.get(rep)
        for name, rep in re.findall(r"enum\s+class\s+(\w+)\s*:\s*(\w+)", text):
            types[name] = int_width.get(rep)
    return types


def load_api_table(root):
    """{api key: (name, first flexible version)} from core/protocol/api_keys.{h,cc}."""
    proto = os.path.join(root, "core/protocol")
    with open(os.path.join(proto, "api_keys.h"), encoding="utf-8") as fh:
        enum = fh.read()
    with open(os.path.join(proto, "api_keys.cc"), encoding="utf-8") as fh:
        table = fh.read()
    numbers = {name: int(n) for name, n in re.findall(r"^\s*(\w+)\s*=\s*(\d+),", enum, re.M)}
    rows = re.findall(r'\{ApiKey::(\w+),\s*"(\w+)",\s*(-?\d+),\s*(-?\d+)\}', table)
    return {numbers[key]: (name, int(flex)) for key, name, _, flex in rows if key in numbers}


class Message:
    """What the field checks need to know about the message being checked."""

    def __init__(self, path, js, report, keel_types):
        self.path, self.js, self.report, self.keel_types = path, js, report, keel_types
        self.valid = Versions(0, VERSION_MAX)
        self.flexible = Versions(1, 0)
        self.structs = set()  # struct type names defined so far (Kafka: unique per file)
        self.common = {}      # common struct name -> its JSON

    def err(self, where, text):
        self.report.add(f"{self.path}: {where}", text)

    def version_spec(self, where, key, text):
        v = Versions.parse(text)
        if v is None:
            self.err(where, f"{key} {text!r} is not a version spec (N, N-M, N+ or none)")
        return v


def check_top(msg):
    """The message-level keys; sets msg.valid and msg.flexible."""
    js, where = msg.js, "message"
    for key in TOP_REQUIRED:
        if key not in js:
            msg.err(where, f"missing required key {key!r}")
    for key in sorted(set(js) - TOP_KEYS):
        msg.err(where, f"unknown key {key!r}")
    name = js.get("name", "")
    if not isinstance(name, str) or not CAMEL.match(name):
        msg.err(where, f"name {name!r} is not CamelCase")
    elif os.path.basename(msg.path) != name + ".json":
        msg.err(where, f"file name does not match name {name!r}")
    check_kind(msg, name)
    valid = msg.version_spec(where, "validVersions", js.get("validVersions"))
    if valid is not None:
        if valid.empty() or valid.hi == VERSION_MAX:
            msg.err(where, f"validVersions {valid} must be a closed range")
        else:
            msg.valid = valid
    check_flexible(msg)
    for key in ("deprecatedVersions", "keelVersions"):
        if key in js:
            v = msg.version_spec(where, key, js[key])
            if v is not None and not v.within(msg.valid):
                msg.err(where, f"{key} {v} outside validVersions {msg.valid}")
    if "latestVersionUnstable" in js and not isinstance(js["latestVersionUnstable"], bool):
        msg.err(where, "latestVersionUnstable must be true or false")
    if "keelName" in js and not CPP_IDENT.match(str(js["keelName"])):
        msg.err(where, f"keelName {js['keelName']!r} is not a C++ identifier")


def check_kind(msg, name):
    js, where = msg.js, "message"
    kind = js.get("type")
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        msg.err(where, f"type {kind!r} is not one of {sorted(MESSAGE_TYPES)}")
    if kind in ("request", "response"):
        if not isinstance(js.get("apiKey"), int) or js["apiKey"] < 0:
            msg.err(where, f"a {kind} needs a non-negative integer apiKey")
        if isinstance(name, str) and not name.endswith(kind.capitalize()):
            msg.err(where, f"a {kind}'s name must end in {kind.capitalize()}")
    listeners = js.get("listeners", [])
    if not isinstance(listeners, list) or any(not isinstance(x, str) or x not in LISTENERS
                                              for x in listeners):
        msg.err(where, f"listeners {listeners!r} must be a list drawn from {sorted(LISTENERS)}")
    elif listeners and kind != "request":
        msg.err(where, "only a request names listeners")


def check_flexible(msg):
    where = "message"
    flex = msg.version_spec(where, "flexibleVersions", msg.js.get("flexibleVersions"))
    if flex is None:
        return
    if not flex.empty() and flex.hi != VERSION_MAX:
        msg.err(where, f"flexibleVersions {flex} must be none or open-ended (N+)")
    elif not flex.empty() and flex.lo > msg.valid.hi:
        msg.err(where, f"flexibleVersions {flex} starts after the last valid version "
                       f"{msg.valid.hi}")
    else:
        msg.flexible = flex


def check_struct(msg, fields, parent, where):
    """A list of fields whose enclosing struct exists in `parent` versions."""
    if not isinstance(fields, list):
        msg.err(where, "fields must be a list")
        return
    names, tags = set(), {}
    for f in fields:
        if not isinstance(f, dict):
            msg.err(where, "a field must be an object")
            continue
        name = f.get("name")
        if not isinstance(name, str):
            name = repr(name)
        if name in names:
            msg.err(f"{where}.{name}", "duplicate field name in this struct")
        names.add(name)
        tag = f.get("tag")
        if isinstance(tag, int) and not isinstance(tag, bool):
            if tag in tags:
                msg.err(f"{where}.{name}", f"tag {tag} already used by {tags[tag]} in this struct")
            tags[tag] = name
        check_field(msg, f, parent, f"{where}.{name}")


def check_field(msg, f, parent, where):
    for key in FIELD_REQUIRED:
        if key not in f:
            msg.err(where, f"missing required key {key!r}")
            return
    for key in sorted(set(f) - FIELD_KEYS):
        msg.err(where, f"unknown key {key!r}")
    if not isinstance(f["name"], str) or not FIELD_NAME.match(f["name"]):
        msg.err(where, f"field name {f['name']!r} is not alphanumeric starting with a letter")
    versions = check_field_versions(msg, f, parent, where)
    if versions is None:
        return
    elem, is_array, struct = check_type(msg, f, where)
    check_nullable(msg, f, versions, elem, is_array, struct, where)
    check_tagged(msg, f, versions, where)
    check_annotations(msg, f, elem, is_array, struct, where)
    check_default(msg, f, versions, elem, is_array, struct, where)
    if struct and "fields" in f:
        check_struct(msg, f["fields"], versions, where)


def check_field_versions(msg, f, parent, where):
    """The field's versions clipped to validVersions, or None when unusable."""
    v = msg.version_spec(where, "versions", f["versions"])
    if v is None:
        return None
    if v.empty():
        msg.err(where, "versions must not be none")
        return None
    if v.hi != VERSION_MAX and v.hi > msg.valid.hi:
        msg.err(where, f"versions {v} end after the last valid version {msg.valid.hi}")
    eff = v.clip(msg.valid)
    if eff.empty():
        msg.err(where, f"versions {v} outside validVersions {msg.valid}")
        return None
    # Kafka writes "0+" for a nested field that exists whenever its struct does, so only a
    # field that can never be present inside its struct is a mistake.
    if eff.clip(parent).empty():
        msg.err(where, f"versions {v} never overlap the enclosing struct's versions {parent}")
        return None
    return eff.clip(parent)


def check_type(msg, f, where):
    """(element type, is array, is struct) after checking the type exists."""
    t = f["type"]
    if not isinstance(t, str):
        msg.err(where, "type must be a string")
        return "", False, False
    is_array = t.startswith("[]")
    elem = t[2:] if is_array else t
    if elem in PRIMITIVE_WIDTH or elem in NULLABLE_PRIMITIVES:
        if "fields" in f:
            msg.err(where, f"a {t} field cannot have nested fields")
        if is_array and elem == "records":
            msg.err(where, "records cannot be an array element")
        return elem, is_array, False
    if not CAMEL.match(elem):
        msg.err(where, f"unknown type {t!r}")
        return elem, is_array, False
    if "fields" in f:
        if elem in msg.structs or elem in msg.common:
            msg.err(where, f"struct type {elem} defined twice")
        msg.structs.add(elem)
    elif elem in msg.structs:
        msg.err(where, f"struct {elem} is defined inline elsewhere; Kafka reuses a struct only "
                       "through commonStructs")
    elif elem not in msg.common:
        msg.err(where, f"unknown type {t!r} (no nested fields and no common struct of that name)")
    return elem, is_array, True


def check_nullable(msg, f, versions, elem, is_array, struct, where):
    if "nullableVersions" not in f:
        return
    nv = msg.version_spec(where, "nullableVersions", f["nullableVersions"])
    if nv is None:
        return
    if not (is_array or struct or elem in NULLABLE_PRIMITIVES):
        msg.err(where, f"a {f['type']} field cannot be nullable")
    # An open-ended range may start before the field does (Kafka's "0+": nullable whenever
    # present); otherwise the nullable versions must be versions of the field.
    open_ok = nv.hi == VERSION_MAX and nv.lo <= versions.hi
    if not open_ok and not nv.clip(msg.valid).within(versions) or nv.clip(versions).empty():
        msg.err(where, f"nullableVersions {nv} not within the field's versions {versions}")


def check_tagged(msg, f, versions, where):
    has_tag, has_tv = "tag" in f, "taggedVersions" in f
    if has_tag != has_tv:
        msg.err(where, "tag and taggedVersions must be given together")
        return
    if not has_tag:
        return
    tag = f["tag"]
    if not isinstance(tag, int) or isinstance(tag, bool) or tag < 0:
        msg.err(where, f"tag {tag!r} must be a non-negative integer")
    tv = msg.version_spec(where, "taggedVersions", f["taggedVersions"])
    if tv is None:
        return
    if tv.empty() or tv.hi != VERSION_MAX:
        msg.err(where, f"taggedVersions {tv} must be open-ended (N+)")
    elif msg.flexible.empty() or tv.lo < msg.flexible.lo:
        msg.err(where, f"taggedVersions {tv} outside flexibleVersions {msg.flexible} "
                       "(tagged fields exist only in flexible versions)")
    if not tv.clip(msg.valid).within(versions):
        msg.err(where, f"taggedVersions {tv} not within the field's versions {versions}")
    if f.get("mapKey"):
        msg.err(where, "a tagged field cannot be a mapKey")
    nv = Versions.parse(f.get("nullableVersions", "none")) or Versions(1, 0)
    both = nv.clip(tv)
    if not both.empty() and (both.lo, both.hi) != (tv.lo, tv.hi):
        msg.err(where, "either every tagged version is nullable or none is")


def check_annotations(msg, f, elem, is_array, struct, where):
    """entityType, keelType, mapKey, ignorable, about, zeroCopy, flexibleVersions, keel*."""
    if "entityType" in f:
        et = f["entityType"]
        if not isinstance(et, str) or et not in ENTITY_TYPES:
            msg.err(where, f"entityType {et!r} is not one of {sorted(ENTITY_TYPES)}")
        elif ENTITY_TYPES[et] is not None and ENTITY_TYPES[et] != elem:
            msg.err(where, f"entityType {et} needs a {ENTITY_TYPES[et]} field, not {f['type']}")
    if "keelType" in f:
        check_keel_type(msg, f["keelType"], elem, struct, where)
    for key in ("mapKey", "ignorable", "zeroCopy"):
        if key in f and not isinstance(f[key], bool):
            msg.err(where, f"{key} must be true or false, not {f[key]!r}")
    if f.get("zeroCopy") and elem not in ("bytes", "records"):
        msg.err(where, "zeroCopy applies to bytes fields only")
    if "about" in f and not isinstance(f["about"], str):
        msg.err(where, "about must be a string")
    if "flexibleVersions" in f:
        if elem not in ("string", "bytes") or is_array:
            msg.err(where, "only string and bytes fields may override flexibleVersions")
        msg.version_spec(where, "flexibleVersions", f["flexibleVersions"])
    for key in ("keelName", "keelStructName"):
        if key in f and not CPP_IDENT.match(str(f[key])):
            msg.err(where, f"{key} {f[key]!r} is not a C++ identifier")
    if "keelStructName" in f and "fields" not in f:
        msg.err(where, "keelStructName applies to a field that defines a struct")


def check_keel_type(msg, kt, elem, struct, where):
    if msg.keel_types is None:
        return
    if not isinstance(kt, str) or kt not in msg.keel_types:
        msg.err(where, f"keelType {kt!r} is not a Keel strong id or enum "
                       "(core/base/types.h, core/protocol/*.h)")
        return
    width = PRIMITIVE_WIDTH.get(elem)
    if struct or width is None or elem not in INT_RANGE:
        msg.err(where, f"keelType {kt} applies to integer fields only")
    elif msg.keel_types[kt] != width:
        msg.err(where, f"keelType {kt} is {msg.keel_types[kt]} bits but the field is {elem}")


def check_default(msg, f, versions, elem, is_array, struct, where):
    if "default" not in f:
        return
    d = f["default"]
    if isinstance(d, bool):
        d = "true" if d else "false"
    d = str(d)
    if d == "null":
        nv = Versions.parse(f.get("nullableVersions", "none")) or Versions(1, 0)
        if not versions.within(nv):
            msg.err(where, "default null needs every version of the field to be nullable")
    elif is_array or struct:
        msg.err(where, f"an array or struct field's default can only be null, not {d!r}")
    elif elem == "bool" and d not in ("true", "false"):
        msg.err(where, f"default {d!r} is not a bool")
    elif elem in INT_RANGE and not int_default_ok(d, elem):
        msg.err(where, f"default {d!r} is not a valid {elem}")
    elif elem in ("uuid", "float64", "records", "bytes") and d != "":
        check_other_default(msg, elem, d, where)


def int_default_ok(d, elem):
    try:
        n = int(d, 16) if d.lower().startswith(("0x", "-0x")) else int(d, 10)
    except ValueError:
        return False
    lo, hi = INT_RANGE[elem]
    return lo <= n <= hi


def check_other_default(msg, elem, d, where):
    if elem == "float64":
        try:
            float(d)
        except ValueError:
            msg.err(where, f"default {d!r} is not a float64")
    elif elem == "uuid":
        msg.err(where, f"a uuid field's default cannot be {d!r}")
    else:
        msg.err(where, f"a {elem} field's default can only be null or empty")


def check_message(path, js, report, keel_types):
    msg = Message(path, js, report, keel_types)
    check_top(msg)
    commons = js.get("commonStructs", [])
    if not isinstance(commons, list):
        msg.err("commonStructs", "must be a list")
        commons = []
    for c in commons:
        name = c.get("name") if isinstance(c, dict) else None
        if not isinstance(name, str) or not CAMEL.match(name):
            msg.err("commonStructs", f"common struct name {name!r} is not CamelCase")
            continue
        if name in msg.common:
            msg.err("commonStructs", f"struct type {name} defined twice")
        msg.common[name] = c
    check_struct(msg, js.get("fields", []), msg.valid, js.get("name", "?"))
    for name, c in msg.common.items():
        cv = msg.version_spec(f"common {name}", "versions", c.get("versions", "0+"))
        check_struct(msg, c.get("fields", []), (cv or msg.valid).clip(msg.valid), f"common {name}")
    return msg


def check_pairs(messages, api_table, report):
    """A request and its response agree; the api keys agree with api_keys.cc."""
    by_key = {}
    for m in messages:
        kind = m.js.get("type")
        if kind in ("request", "response") and isinstance(m.js.get("apiKey"), int):
            slot = by_key.setdefault(m.js["apiKey"], {})
            if kind in slot:
                report.add(m.path, f"apiKey {m.js['apiKey']} already used by {slot[kind].path}")
                continue
            slot[kind] = m
    for key, slot in sorted(by_key.items()):
        req, resp = slot.get("request"), slot.get("response")
        if req is None or resp is None:
            have = req or resp
            report.add(have.path, f"apiKey {key} has no matching "
                                  f"{'response' if req else 'request'} schema")
            continue
        check_pair(req, resp, report)
        if api_table is not None:
            check_api_table(key, req, api_table, report)


def base_name(m):
    """The API name a request or response schema is for ("Heartbeat")."""
    name = m.js.get("name")
    return name[:-len(m.js["type"])] if isinstance(name, str) else repr(name)


def check_pair(req, resp, report):
    base = base_name(req)
    if resp.js.get("name") != base + "Response":
        report.add(resp.path, f"name should be {base}Response to match {req.path}")
    for key in ("validVersions", "flexibleVersions"):
        if req.js.get(key) != resp.js.get(key):
            report.add(resp.path, f"{key} {resp.js.get(key)!r} differs from the request's "
                                  f"{req.js.get(key)!r}")


def check_api_table(key, req, api_table, report):
    base = base_name(req)
    if key not in api_table:
        report.add(req.path, f"apiKey {key} is missing from core/protocol/api_keys.cc")
        return
    name, first_flexible = api_table[key]
    if name != base:
        report.add(req.path, f"apiKey {key} is {name} in core/protocol/api_keys.cc, not {base}")
    flex = req.flexible.lo if not req.flexible.empty() else -1
    if flex != first_flexible:
        report.add(req.path, f"first flexible version {flex} but core/protocol/api_keys.cc "
                             f"says {first_flexible}")


def load_docs_table(path, report):
    """({api key: (name, versions text, first flexible text)} from the table that follows the
    `<!-- schema-table` marker in docs/kafka-apis.md, {keys that lead a row of any table}),
    or None."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as e:
        report.add(path, f"cannot read: {e.strerror}")
        return None
    start = next((i for i, l in enumerate(lines) if l.startswith("<!-- schema-table")), None)
    if start is None:
        report.add(path, "no `<!-- schema-table` marker before the API table")
        return None
    mentioned = {int(m) for m in re.findall(r"^\|\s*(\d+)\s*\|", "\n".join(lines), re.M)}
    rows = {}
    for line in lines[start + 1:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not re.fullmatch(r"\d+", cells[0]):
            continue
        if int(cells[0]) in rows:
            report.add(path, f"two rows for api key {cells[0]}")
        rows[int(cells[0])] = (cells[1], cells[2].replace("\u2013", "-"), cells[3])
    return rows, mentioned


def check_docs(messages, docs_path, report):
    """The docs table agrees with the request schemas, and every broker-listener request leads
    a row of some table on the page (the generator's first batch has its own table)."""
    loaded = load_docs_table(docs_path, report)
    if loaded is None:
        return
    rows, mentioned = loaded
    requests = {m.js.get("apiKey"): m for m in messages if m.js.get("type") == "request"}
    for key, (name, versions, flexible) in sorted(rows.items()):
        req = requests.get(key)
        if req is None:
            report.add(docs_path, f"row {key} ({name}) has no request schema")
            continue
        base = base_name(req)
        v = req.valid
        want_flex = "never" if req.flexible.empty() else str(req.flexible.lo)
        if name != base:
            report.add(docs_path, f"row {key} names {name}, the schema {base}")
        if versions != f"{v.lo}-{v.hi}":
            report.add(docs_path, f"row {key} ({name}) says versions {versions}, the schema's "
                                  f"validVersions are {v.lo}-{v.hi}")
        if flexible != want_flex:
            report.add(docs_path, f"row {key} ({name}) says first flexible {flexible}, the "
                                  f"schema says {want_flex}")
    for key, req in sorted(requests.items(), key=lambda kv: str(kv[0])):
        if "broker" in req.js.get("listeners", []) and key not in mentioned:
            report.add(req.path, f"no row for api key {key} in {docs_path}")


def schema_files(paths, report):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".json"))
        elif os.path.isfile(p):
            files.append(p)
        else:
            report.add(p, "no such file or directory")
    return files


def check_paths(paths, root, docs=None):
    """Every error found in the schema files under `paths`, checked together."""
    report = Report()
    keel_types = load_keel_types(root) if root else None
    api_table = load_api_table(root) if root else None
    messages = []
    files = schema_files(paths, report)
    if not files and not report.errors:
        report.add(" ".join(paths), "no schema files found")
    for path in files:
        js = load_schema(path, report)
        if isinstance(js, dict):
            messages.append(check_message(path, js, report, keel_types))
        elif js is not None:
            report.add(path, "a schema must be a JSON object")
    check_pairs(messages, api_table, report)
    if docs:
        check_docs(messages, docs, report)
    return report.errors, len(files)


def expected_texts(path):
    files = [path] if os.path.isfile(path) else [
        os.path.join(path, f) for f in sorted(os.listdir(path)) if f.endswith(".json")]
    texts = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            texts += re.findall(r"^\s*//\s*expect:\s*(.+?)\s*$", fh.read(), re.M)
    return texts


def run_expect_errors(paths, root):
    failed = 0
    for p in paths:
        texts = expected_texts(p)
        docs = sorted(f for f in os.listdir(p) if f.endswith(".md")) if os.path.isdir(p) else []
        errors, _ = check_paths([p], root, os.path.join(p, docs[0]) if docs else None)
        missing = [t for t in texts if not any(t in e for e in errors)]
        extra = [e for e in errors if not any(t in e for t in texts)]
        if not texts:
            print(f"FAIL {p}: no `// expect:` line says what must be reported")
            failed += 1
        elif missing or extra:
            print(f"FAIL {p}: expected {texts!r}; reported: {errors!r}")
            failed += 1
        else:
            print(f"ok   {p}: rejected ({len(errors)} error(s)): {errors[0]}")
    print(f"{len(paths) - failed}/{len(paths)} planted mistakes caught")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", help="repository root (enables the keelType and api_keys.cc checks)")
    ap.add_argument("--expect-errors", action="store_true",
                    help="each PATH must be rejected with its `// expect:` texts")
    ap.add_argument("--docs", help="check the API table of this page (docs/kafka-apis.md)")
    ap.add_argument("--cases-in", help="with --expect-errors: every entry of DIR is a case")
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    if args.expect_errors:
        cases = list(args.paths)
        if args.cases_in:
            cases += sorted(os.path.join(args.cases_in, f) for f in os.listdir(args.cases_in)
                            if f.endswith(".json") or os.path.isdir(os.path.join(args.cases_in, f)))
        if not cases:
            ap.error("--expect-errors needs cases")
        return run_expect_errors(cases, args.root)
    if not args.paths:
        ap.error("give schema files or directories")
    errors, count = check_paths(args.paths, args.root, args.docs)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_schemas: {len(errors)} error(s) in {count} file(s)", file=sys.stderr)
        return 1
    print(f"check_schemas: {count} schema file(s) OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
