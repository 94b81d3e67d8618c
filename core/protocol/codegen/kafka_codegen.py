#!/usr/bin/env python3
"""Kafka JSON message schemas -> C++20 codecs (see docs/protocol.md).

usage: kafka_codegen.py SCHEMA_DIR OUT_DIR [--tests-out DIR]

Reads every *.json in SCHEMA_DIR (Kafka's message-schema shape: name, type, apiKey,
validVersions, flexibleVersions, fields, commonStructs; `//` comments allowed) and writes,
into OUT_DIR, one header and one source per message, all_messages.h (includes them all)
and api_table.{h,cc} (api key -> name, valid and flexible versions). With --tests-out it
also writes arbitrary.h: an rc::Arbitrary per generated struct and a type list of the
messages, for the round-trip properties.

Keel extensions to the schema shape:
  keelType     on an integer field (or array of integers): the C++ type that holds it,
               e.g. "NodeId", "QuorumEpoch", "ErrorCode" (converted with wire::from_wire
               and wire::to_wire).
  keelName     on a field: the C++ member name (default: the name in snake_case); on a
               message: the C++ struct name (default: the schema name); on a struct
               field: "keelStructName" renames the nested struct type.
  keelVersions on a message: the versions Keel implements (default: validVersions).
Standard library only; the output is deterministic (sorted inputs, no timestamps).
"""
import argparse
import json
import os
import re
import sys

VERSION_MAX = 0x7fff

PRIMITIVES = {
    # type: (C++ type, default literal, writer call, reader call)
    "bool": ("bool", "false", "w.boolean({v})", "r.boolean()"),
    "int8": ("int8_t", "0", "w.i8({v})", "r.i8()"),
    "int16": ("int16_t", "0", "w.i16({v})", "r.i16()"),
    "int32": ("int32_t", "0", "w.i32({v})", "r.i32()"),
    "int64": ("int64_t", "0", "w.i64({v})", "r.i64()"),
    "uint16": ("uint16_t", "0", "w.u16({v})", "r.u16()"),
    "uint32": ("uint32_t", "0", "w.u32({v})", "r.u32()"),
    "float64": ("double", "0.0", "wire::write_f64(w, {v})", "wire::read_f64(r)"),
    "uuid": ("Uuid", None, "w.uuid({v})", "r.uuid()"),
}
INTEGERS = {"int8", "int16", "int32", "int64", "uint16", "uint32"}
CPP_KEYWORDS = {"default", "class", "struct", "namespace", "delete", "new", "operator",
                "template", "union", "register", "auto", "const", "int", "char"}


class SchemaError(Exception):
    pass


def strip_comments(text):
    """Removes // comments outside JSON strings."""
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


class Versions:
    """A closed range of versions; empty when lo > hi."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text, what):
        text = str(text).strip()
        if text == "none":
            return Versions(1, 0)
        m = re.fullmatch(r"(\d+)\+", text)
        if m:
            return Versions(int(m.group(1)), VERSION_MAX)
        m = re.fullmatch(r"(\d+)-(\d+)", text)
        if m:
            return Versions(int(m.group(1)), int(m.group(2)))
        if re.fullmatch(r"\d+", text):
            return Versions(int(text), int(text))
        raise SchemaError(f"{what}: bad version range {text!r}")

    def empty(self):
        return self.lo > self.hi

    def intersect(self, o):
        return Versions(max(self.lo, o.lo), min(self.hi, o.hi))

    def contains_range(self, o):
        return o.empty() or (self.lo <= o.lo and o.hi <= self.hi)

    def cond(self, within, var="ver"):
        """C++ condition `var` in self, knowing var is in `within`; "" when always true."""
        r = self.intersect(within)
        if r.empty():
            return "false"
        parts = []
        if r.lo > within.lo:
            parts.append(f"{var} >= {r.lo}")
        if r.hi < within.hi:
            parts.append(f"{var} <= {r.hi}")
        return " && ".join(parts)


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.lower()
    return s + "_" if s in CPP_KEYWORDS else s


def cpp_string_literal(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Field:
    def __init__(self, js, msg, owner):
        where = f"{msg.name}.{owner}.{js.get('name')}"
        for key in ("name", "type", "versions"):
            if key not in js:
                raise SchemaError(f"{where}: field lacks {key!r}")
        self.js = js
        self.name = js["name"]
        self.type = js["type"]
        self.cpp_name = js.get("keelName", snake(self.name))
        self.versions = Versions.parse(js["versions"], where)
        self.nullable = Versions.parse(js.get("nullableVersions", "none"), where)
        self.tagged = Versions.parse(js.get("taggedVersions", "none"), where)
        self.tag = js.get("tag")
        if (self.tag is None) != self.tagged.empty():
            raise SchemaError(f"{where}: tag and taggedVersions go together")
        if not self.tagged.empty() and not msg.flexible.contains_range(self.tagged):
            raise SchemaError(f"{where}: taggedVersions outside flexibleVersions")
        fv = js.get("flexibleVersions")
        self.flex_override = None if fv is None else Versions.parse(fv, where)
        self.keel_type = js.get("keelType")
        self.default = js.get("default")
        self.where = where
        self.is_array = self.type.startswith("[]")
        self.elem = self.type[2:] if self.is_array else self.type
        self.struct = None  # Struct, for struct and struct-array fields
        if self.elem not in PRIMITIVES and self.elem not in ("string", "bytes", "records"):
            if not self.elem[:1].isupper():
                raise SchemaError(f"{where}: unknown type {self.type!r}")
            self.struct = msg.struct_for(js, self.elem, where)
        elif "fields" in js:
            raise SchemaError(f"{where}: a {self.type} field cannot have fields")
        if self.keel_type and (self.struct or self.elem not in INTEGERS):
            raise SchemaError(f"{where}: keelType applies to integer fields only")
        if not self.nullable.empty() and not self.is_array and self.elem in PRIMITIVES:
            raise SchemaError(f"{where}: a {self.type} field cannot be nullable")

    def is_nullable_type(self):
        return not self.nullable.empty()

    def elem_cpp(self):
        if self.struct:
            return self.struct.cpp_name
        if self.elem == "string":
            return "std::string"
        if self.elem in ("bytes", "records"):
            return "Bytes"
        return self.keel_type or PRIMITIVES[self.elem][0]

    def cpp_type(self):
        t = f"std::vector<{self.elem_cpp()}>" if self.is_array else self.elem_cpp()
        return f"std::optional<{t}>" if self.is_nullable_type() else t

    def default_init(self):
        """The member initializer (Kafka's default rules), or "" for value-initialized."""
        d = self.default
        if self.is_array or self.struct:
            if d not in (None, "null", ""):
                raise SchemaError(f"{self.where}: arrays and structs take no default")
            return ""
        if self.is_nullable_type() and (d is None or d == "null"):
            return ""
        if d == "null":
            raise SchemaError(f"{self.where}: default null on a non-nullable field")
        if self.elem == "string":
            return "" if not d else f"{{{cpp_string_literal(str(d))}}}"
        if self.elem in ("bytes", "records", "uuid"):
            if d not in (None, ""):
                raise SchemaError(f"{self.where}: {self.elem} takes no default")
            return ""
        if self.elem == "bool":
            val = "true" if str(d).lower() == "true" else "false"
            if d is not None and str(d).lower() not in ("true", "false"):
                raise SchemaError(f"{self.where}: bad bool default {d!r}")
        elif self.elem == "float64":
            val = repr(float(d if d is not None else 0.0))
        else:
            try:
                val = str(int(str(d if d is not None else 0), 0))
            except ValueError as e:
                raise SchemaError(f"{self.where}: bad default {d!r}") from e
        raw = PRIMITIVES[self.elem][0]
        if self.keel_type:
            return f"{{wire::from_wire<{self.keel_type}, {raw}>({raw}{{{val}}})}}"
        return f"{{{val}}}"

    def default_expr(self):
        init = self.default_init()
        return f"{self.cpp_type()}{init if init else '{}'}"


# Member and local names the generated code uses; a field mapping to one needs a keelName.
RESERVED_ANY = {"write", "read", "write_tags", "read_tags", "unknown_tagged_fields", "known",
                "w", "r", "ver", "flex"}
RESERVED_TOP = {"api_key_value", "schema_name", "version_min", "version_max", "flexible_min",
                "is_flexible", "encode", "decode", "encoded_size", "encode_to_bytes",
                "decode_from_bytes", "m"}
RESERVED_API = {"api_key", "name"}


class Struct:
    def __init__(self, name, cpp_name, fields_js, msg, versions, top=False):
        self.name = name
        self.cpp_name = cpp_name
        self.versions = versions
        self.fields = [Field(f, msg, name) for f in fields_js]
        names = [f.cpp_name for f in self.fields]
        if len(set(names)) != len(names):
            raise SchemaError(f"{msg.name}.{name}: duplicate field names")
        reserved = RESERVED_ANY | (RESERVED_TOP if top else set()) | (
            RESERVED_API if top and msg.kind in ("request", "response") else set())
        for f in self.fields:
            if f.cpp_name in reserved or f.cpp_name.startswith(("write_part", "read_part")):
                raise SchemaError(f"{f.where}: C++ name {f.cpp_name!r} is reserved; give a keelName")
        tags = [f.tag for f in self.fields if f.tag is not None]
        if len(set(tags)) != len(tags):
            raise SchemaError(f"{msg.name}.{name}: duplicate tags")


class Message:
    def __init__(self, js, path):
        self.path = path
        for key in ("name", "type", "validVersions"):
            if key not in js:
                raise SchemaError(f"{path}: lacks {key!r}")
        self.name = js["name"]
        self.kind = js["type"]
        if self.kind not in ("request", "response", "header", "metadata", "data"):
            raise SchemaError(f"{path}: unknown message type {self.kind!r}")
        self.api_key = js.get("apiKey")
        if self.kind in ("request", "response") and self.api_key is None:
            raise SchemaError(f"{path}: a {self.kind} needs an apiKey")
        self.valid = Versions.parse(js["validVersions"], self.name)
        self.keel_versions = Versions.parse(js.get("keelVersions", js["validVersions"]), self.name)
        if not self.valid.contains_range(self.keel_versions) or self.valid.empty():
            raise SchemaError(f"{path}: keelVersions outside validVersions")
        self.flexible = Versions.parse(js.get("flexibleVersions", "none"), self.name)
        self.cpp_name = js.get("keelName", self.name)
        self.common_js = {c["name"]: c for c in js.get("commonStructs", [])}
        self.structs = []  # definition order: dependencies first
        self.by_name = {}
        self.top = Struct(self.name, self.cpp_name, js.get("fields", []), self, self.valid, top=True)

    def struct_for(self, field_js, type_name, where):
        if type_name in self.by_name:
            if "fields" in field_js:
                raise SchemaError(f"{where}: struct {type_name} defined twice")
            return self.by_name[type_name]
        if "fields" in field_js:
            fields_js = field_js["fields"]
        elif type_name in self.common_js:
            fields_js = self.common_js[type_name].get("fields", [])
        else:
            raise SchemaError(f"{where}: struct type {type_name} has no fields and no commonStruct")
        cpp = field_js.get("keelStructName", type_name)
        s = Struct(type_name, cpp, fields_js, self, self.valid)
        self.by_name[type_name] = s
        self.structs.append(s)
        return s

    def file_stem(self):
        return snake(self.cpp_name)


# ------------------------------------------------------------------------ emission helpers

class Ctx:
    """Names used while emitting one read or write function."""

    def __init__(self, msg, w="w", r="r", flex="flex"):
        self.msg, self.w, self.r, self.flex = msg, w, r, flex


def field_flex(f, ctx):
    if f.flex_override is None:
        return ctx.flex
    c = f.flex_override.cond(ctx.msg.valid)
    return c if c else "true"


def nullable_cond(f, ctx):
    c = f.nullable.cond(ctx.msg.valid)
    return c if c else "true"


def write_scalar(f, t, value, w):
    """Statement writing one non-array value of field f's element type `t`."""
    if t in PRIMITIVES:
        raw = PRIMITIVES[t][0]
        v = f"wire::to_wire<{raw}>({value})" if (f.keel_type and t in INTEGERS) else value
        return PRIMITIVES[t][2].format(v=v).replace("w.", f"{w}.", 1).replace("(w,", f"({w},")
    raise AssertionError(t)


def read_scalar(f, t, r):
    raw_read = PRIMITIVES[t][3].replace("r.", f"{r}.", 1).replace("(r)", f"({r})")
    if f.keel_type and t in INTEGERS:
        return f"wire::from_wire<{f.keel_type}, {PRIMITIVES[t][0]}>({raw_read})"
    return raw_read


def write_elem(f, value, w, flex):
    """Statement writing one element (or the whole non-array value) of field f."""
    t = f.elem
    if f.struct:
        return f"{value}.write({w}, ver, {flex});"
    if t == "string":
        return f"wire::write_string({w}, {flex}, {value});"
    if t in ("bytes", "records"):
        return f"wire::write_bytes({w}, {flex}, {value});"
    return write_scalar(f, t, value, w) + ";"


def read_elem(f, target, r, flex):
    t = f.elem
    if f.struct:
        return f"{target}.read({r}, ver, {flex});"
    if t == "string":
        return f"{target} = wire::read_string({r}, {flex});"
    if t in ("bytes", "records"):
        return f"{target} = wire::read_bytes({r}, {flex});"
    return f"{target} = {read_scalar(f, t, r)};"


def write_field(f, ctx, value):
    """Statements (list of lines) writing field f's value."""
    w, flex = ctx.w, field_flex(f, ctx)
    nullable = f.is_nullable_type()
    if f.is_array:
        each = write_elem(f, "e_", w, flex)
        if nullable:
            return [f"wire::write_nullable_array({w}, {flex}, {nullable_cond(f, ctx)}, {value}, "
                    f"[&](const auto& e_) {{ {each} }});"]
        return [f"wire::write_array({w}, {flex}, {value}, [&](const auto& e_) {{ {each} }});"]
    if not nullable:
        return [write_elem(f, value, w, flex)]
    if f.struct:
        return [f"wire::write_struct_presence({w}, {value}.has_value());",
                f"if ({value}) {value}->write({w}, ver, {flex});"]
    if f.elem == "string":
        return [f"wire::write_nullable_string({w}, {flex}, {value}, {nullable_cond(f, ctx)});"]
    return [f"wire::write_nullable_bytes({w}, {flex}, {value}, {nullable_cond(f, ctx)});"]


def read_field(f, ctx, target):
    r, flex = ctx.r, field_flex(f, ctx)
    nullable = f.is_nullable_type()
    if f.is_array:
        each = read_elem(f, "e_", r, flex)
        if nullable:
            return [f"wire::read_nullable_array({r}, {flex}, {nullable_cond(f, ctx)}, {target}, "
                    f"[&](auto& e_) {{ {each} }});"]
        return [f"wire::read_array({r}, {flex}, {target}, [&](auto& e_) {{ {each} }});"]
    if not nullable:
        return [read_elem(f, target, r, flex)]
    if f.struct:
        return [f"if (wire::read_struct_presence({r}, {nullable_cond(f, ctx)})) "
                f"{target}.emplace().read({r}, ver, {flex});"]
    if f.elem == "string":
        return [f"{target} = wire::read_nullable_string({r}, {flex}, {nullable_cond(f, ctx)});"]
    return [f"{target} = wire::read_nullable_bytes({r}, {flex}, {nullable_cond(f, ctx)});"]


def guarded(cond, lines, indent="    "):
    if cond == "false":
        return []
    if not cond:
        return [indent + l for l in lines]
    if len(lines) == 1 and len(lines[0]) < 70:
        return [f"{indent}if ({cond}) {lines[0]}"]
    return [f"{indent}if ({cond}) {{"] + [indent + "    " + l for l in lines] + [indent + "}"]


def regular_cond(f, within):
    """Condition for f being a regular (untagged) field at `ver`."""
    present = f.versions.intersect(within)
    if present.empty():
        return "false"
    if f.tagged.empty():
        return f.versions.cond(within)
    tagged_part = f.tagged.intersect(present)
    if tagged_part.empty():
        return f.versions.cond(within)
    untagged = [Versions(present.lo, tagged_part.lo - 1), Versions(tagged_part.hi + 1, present.hi)]
    untagged = [u for u in untagged if not u.empty()]
    if not untagged:
        return "false"
    conds = []
    for u in untagged:
        c = u.cond(within)
        conds.append(f"({c})" if c else "true")
    return " || ".join(conds)


def chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


# ------------------------------------------------------------------------- C++ emission

HEADER_PREAMBLE = "// Generated by core/protocol/codegen/kafka_codegen.py from {src}. Do not edit.\n"


def hoisted(msg):
    """Whether msg's nested structs are declared at namespace scope (in their own detail
    namespace, aliased into the message). A struct field that is nullable but not an array is
    a std::optional of a nested struct; clang 14 cannot default-construct a nested struct with
    default member initializers there while the enclosing class is incomplete (GCC can). The
    aliases keep every name (Message::Nested) as it is."""
    return any(f.struct is not None and not f.is_array and f.is_nullable_type()
               for st in [msg.top] + msg.structs for f in st.fields)


def detail_namespace(msg):
    return f"{msg.file_stem()}_detail"


def emit_struct_decl(s, msg, top, out, ind):
    if top and hoisted(msg):
        out.append(f"namespace {detail_namespace(msg)} {{")
        out.append("")
        for sub in msg.structs:
            emit_struct_decl(sub, msg, False, out, ind)
        out.append(f"}}  // namespace {detail_namespace(msg)}")
        out.append("")
    out.append(f"{ind}struct {s.cpp_name} {{")
    inner = ind + "    "
    if top:
        emit_top_constants(msg, out, inner)
        for sub in msg.structs:
            if hoisted(msg):
                out.append(f"{inner}using {sub.cpp_name} = {detail_namespace(msg)}::{sub.cpp_name};")
            else:
                emit_struct_decl(sub, msg, False, out, inner)
        if hoisted(msg) and msg.structs:
            out.append("")
    for f in s.fields:
        out.append(f"{inner}{f.cpp_type()} {f.cpp_name}{f.default_init() or '{}'};")
    out.append(f"{inner}RawTaggedFields unknown_tagged_fields{{}};")
    out.append("")
    nwrite = len(chunks(regular_fields(s), FIELDS_PER_FUNCTION))
    for i in range(nwrite):
        out.append(f"{inner}void write_part{i}(Writer& w, int16_t ver, bool flex) const;")
        out.append(f"{inner}void read_part{i}(Reader& r, int16_t ver, bool flex);")
    out.append(f"{inner}void write_tags(Writer& w, int16_t ver) const;")
    out.append(f"{inner}void read_tags(Reader& r, int16_t ver);")
    out.append(f"{inner}void write(Writer& w, int16_t ver, bool flex) const;")
    out.append(f"{inner}void read(Reader& r, int16_t ver, bool flex);")
    if top:
        emit_top_methods(msg, out, inner)
    out.append(f"{inner}bool operator==(const {s.cpp_name}&) const = default;")
    out.append(f"{ind}}};")
    if not top:
        out.append("")


def emit_top_constants(msg, out, ind):
    if msg.api_key is not None:
        out.append(f"{ind}static constexpr int16_t api_key_value = {int(msg.api_key)};")
    if msg.kind in ("request", "response"):
        out.append(f"{ind}static constexpr ApiKey api_key = static_cast<ApiKey>({int(msg.api_key)});")
        out.append(f"{ind}static constexpr std::string_view name = {cpp_string_literal(msg.name)};")
    out.append(f"{ind}static constexpr std::string_view schema_name = {cpp_string_literal(msg.name)};")
    out.append(f"{ind}static constexpr int16_t version_min = {msg.keel_versions.lo};")
    out.append(f"{ind}static constexpr int16_t version_max = {msg.keel_versions.hi};")
    fl = msg.flexible.intersect(msg.valid)
    out.append(f"{ind}// Kafka's flexibleVersions: {msg.flexible.lo if not fl.empty() else 'none'}"
               f"{'+' if not fl.empty() else ''}")
    out.append(f"{ind}static constexpr int16_t flexible_min = {fl.lo if not fl.empty() else -1};")
    out.append(f"{ind}static constexpr bool is_flexible(int16_t ver) {{")
    out.append(f"{ind}    return flexible_min >= 0 && ver >= flexible_min;")
    out.append(f"{ind}}}")
    out.append("")


def emit_top_methods(msg, out, ind):
    n = msg.cpp_name
    out.append("")
    out.append(f"{ind}// Requires version_min <= ver <= version_max (Kafka's validVersions are all")
    out.append(f"{ind}// encodable; the bounds are what Keel serves). Decode failures are kept in r.")
    out.append(f"{ind}void encode(Writer& w, int16_t ver) const {{ write(w, ver, is_flexible(ver)); }}")
    out.append(f"{ind}static {n} decode(Reader& r, int16_t ver) {{")
    out.append(f"{ind}    {n} m;")
    out.append(f"{ind}    m.read(r, ver, is_flexible(ver));")
    out.append(f"{ind}    return m;")
    out.append(f"{ind}}}")
    out.append(f"{ind}size_t encoded_size(int16_t ver) const;")
    out.append(f"{ind}// The whole encoding as bytes; decoding requires every byte to be consumed.")
    out.append(f"{ind}Bytes encode_to_bytes(int16_t ver) const;")
    out.append(f"{ind}static Result<{n}> decode_from_bytes(ByteView b, int16_t ver);")


FIELDS_PER_FUNCTION = 12


def regular_fields(s):
    return [f for f in s.fields if regular_cond(f, s.versions) != "false"]


def tagged_fields(s):
    return sorted([f for f in s.fields if not f.tagged.intersect(f.versions).empty()],
                  key=lambda f: f.tag)


def emit_struct_defs(s, qual, msg, out):
    ctx = Ctx(msg)
    regs = chunks(regular_fields(s), FIELDS_PER_FUNCTION)
    for i, part in enumerate(regs):
        used = any(regular_cond(f, s.versions) for f in part) or any(
            f.flex_override is not None or not f.nullable.empty() or f.struct for f in part)
        out.append(f"void {qual}::write_part{i}(Writer& w, int16_t ver, bool flex) const {{")
        body = []
        for f in part:
            body += guarded(regular_cond(f, s.versions), write_field(f, ctx, f.cpp_name))
        out += body or ["    (void)w;"]
        out.append("    (void)ver;")
        out.append("    (void)flex;")
        out.append("}")
        out.append("")
        out.append(f"void {qual}::read_part{i}(Reader& r, int16_t ver, bool flex) {{")
        body = []
        for f in part:
            body += guarded(regular_cond(f, s.versions), read_field(f, ctx, f.cpp_name))
        out += body or ["    (void)r;"]
        out.append("    (void)ver;")
        out.append("    (void)flex;")
        out.append("}")
        out.append("")
        del used
    emit_tags_write(s, qual, msg, out)
    emit_tags_read(s, qual, msg, out)
    out.append(f"void {qual}::write(Writer& w, int16_t ver, bool flex) const {{")
    for i in range(len(regs)):
        out.append(f"    write_part{i}(w, ver, flex);")
    out.append("    if (flex) write_tags(w, ver);")
    out.append("}")
    out.append("")
    out.append(f"void {qual}::read(Reader& r, int16_t ver, bool flex) {{")
    for i in range(len(regs)):
        out.append(f"    read_part{i}(r, ver, flex);")
    out.append("    if (flex) read_tags(r, ver);")
    out.append("}")
    out.append("")


def tag_is_default(f, value):
    """C++ condition: the tagged field holds its default (Kafka then omits it)."""
    if f.is_nullable_type():
        d = f.default
        if d in (None, "null") or f.is_array or f.struct:
            return f"!{value}.has_value()"
    if f.is_array:
        return f"{value}.empty()"
    return f"{value} == {f.default_expr()}"


def emit_tags_write(s, qual, msg, out):
    tags = tagged_fields(s)
    out.append(f"void {qual}::write_tags(Writer& w, int16_t ver) const {{")
    out.append("    std::vector<Writer::TaggedField> known;")
    ctx = Ctx(msg, w="t_", flex="true")
    for f in tags:
        cond = f.tagged.intersect(f.versions).cond(s.versions)
        full = f"!({tag_is_default(f, f.cpp_name)})"
        if cond:
            full = f"{cond} && {full}"
        lines = write_field(f, ctx, f.cpp_name)
        out.append(f"    if ({full}) {{")
        out.append(f"        known.push_back(wire::tag({f.tag}, [&](Writer& t_) {{")
        out += ["            " + l for l in lines]
        out.append("        }));")
        out.append("    }")
    out.append("    wire::write_tagged_fields(w, std::move(known), unknown_tagged_fields);")
    out.append("    (void)ver;")
    out.append("}")
    out.append("")


def emit_tags_read(s, qual, msg, out):
    tags = tagged_fields(s)
    out.append(f"void {qual}::read_tags(Reader& r, int16_t ver) {{")
    out.append("    wire::read_tagged_fields(r, unknown_tagged_fields, [&](uint32_t tag_, Reader& t_) {")
    ctx = Ctx(msg, r="t_", flex="true")
    if tags:
        out.append("        switch (tag_) {")
        for f in tags:
            cond = f.tagged.intersect(f.versions).cond(s.versions)
            out.append(f"            case {f.tag}:")
            if cond:
                out.append(f"                if (!({cond})) return false;")
            out += ["                " + l for l in read_field(f, ctx, f.cpp_name)]
            out.append("                return true;")
        out.append("            default:")
        out.append("                return false;")
        out.append("        }")
    else:
        out.append("        (void)tag_;")
        out.append("        (void)t_;")
        out.append("        return false;")
    out.append("    });")
    out.append("    (void)ver;")
    out.append("}")
    out.append("")


def emit_header(msg, src):
    out = [HEADER_PREAMBLE.format(src=src).rstrip()]
    out.append(f"// {msg.name}: Kafka message type {msg.kind}"
               + (f", api key {msg.api_key}" if msg.api_key is not None else "")
               + f", versions {msg.valid.lo}-{msg.valid.hi}.")
    out += ["#pragma once", "", "#include <cstdint>", "#include <optional>", "#include <string>",
            "#include <string_view>", "#include <vector>", "",
            '#include "core/base/bytes.h"', '#include "core/base/result.h"',
            '#include "core/base/types.h"', '#include "core/protocol/api_keys.h"',
            '#include "core/protocol/codec.h"', '#include "core/protocol/error_codes.h"',
            '#include "core/protocol/wire.h"', "", "namespace keel::protocol {", ""]
    emit_struct_decl(msg.top, msg, True, out, "")
    out += ["", "}  // namespace keel::protocol", ""]
    return "\n".join(out)


def emit_source(msg, src):
    n = msg.cpp_name
    out = [HEADER_PREAMBLE.format(src=src).rstrip(), f'#include "core/protocol/generated/{msg.file_stem()}.h"',
           "", "#include <utility>", "", "namespace keel::protocol {", ""]
    for s in msg.structs:
        emit_struct_defs(s, f"{n}::{s.cpp_name}", msg, out)
    emit_struct_defs(msg.top, n, msg, out)
    out += [f"size_t {n}::encoded_size(int16_t ver) const {{",
            "    Writer w(is_flexible(ver));", "    encode(w, ver);", "    return w.size();", "}", "",
            f"Bytes {n}::encode_to_bytes(int16_t ver) const {{",
            "    Writer w(is_flexible(ver));", "    encode(w, ver);", "    return w.take();", "}", "",
            f"Result<{n}> {n}::decode_from_bytes(ByteView b, int16_t ver) {{",
            "    if (ver < version_min || ver > version_max) {",
            "        return Error{Errc::unsupported_version, std::string(schema_name) + \" v\" + "
            "std::to_string(ver) + \" is not supported\"};",
            "    }",
            "    Reader r(b, is_flexible(ver));",
            f"    {n} m = decode(r, ver);",
            "    KEEL_TRY(r.finish(std::string(schema_name) + \" v\" + std::to_string(ver)));",
            "    return m;", "}", "", "}  // namespace keel::protocol", ""]
    return "\n".join(out)


def emit_index(msgs):
    out = [HEADER_PREAMBLE.format(src="core/protocol/schemas/*.json").rstrip(),
           "// Every generated message.", "#pragma once", ""]
    out += [f'#include "core/protocol/generated/{m.file_stem()}.h"' for m in msgs]
    out.append("")
    return "\n".join(out)


def emit_api_table(msgs):
    reqs = {m.api_key: m for m in msgs if m.kind == "request"}
    h = [HEADER_PREAMBLE.format(src="core/protocol/schemas/*Request.json").rstrip(),
         "// What the schemas say about each API: Kafka's valid and flexible versions.",
         "#pragma once", "", "#include <cstdint>", "#include <optional>", "#include <span>",
         "#include <string_view>", "", "namespace keel::protocol {", "",
         "struct SchemaApi {", "    int16_t api_key;", "    std::string_view name;",
         "    int16_t valid_min;", "    int16_t valid_max;",
         "    int16_t flexible_min;  // -1: never flexible", "};", "",
         "// Sorted by api key.", "std::span<const SchemaApi> schema_apis();",
         "std::optional<SchemaApi> schema_api(int16_t api_key);", "",
         "}  // namespace keel::protocol", ""]
    c = [HEADER_PREAMBLE.format(src="core/protocol/schemas/*Request.json").rstrip(),
         '#include "core/protocol/generated/api_table.h"', "", "#include <array>", "",
         "namespace keel::protocol {", "namespace {", "",
         f"constexpr std::array<SchemaApi, {len(reqs)}> apis{{{{"]
    for key in sorted(reqs):
        m = reqs[key]
        fl = m.flexible.intersect(m.valid)
        name = m.name[:-len("Request")] if m.name.endswith("Request") else m.name
        c.append(f"    {{{key}, {cpp_string_literal(name)}, {m.valid.lo}, {m.valid.hi}, "
                 f"{fl.lo if not fl.empty() else -1}}},")
    c += ["}};", "", "}  // namespace", "",
          "std::span<const SchemaApi> schema_apis() { return apis; }", "",
          "std::optional<SchemaApi> schema_api(int16_t api_key) {",
          "    for (const SchemaApi& a : apis) {",
          "        if (a.api_key == api_key) return a;",
          "    }",
          "    return std::nullopt;",
          "}", "", "}  // namespace keel::protocol", ""]
    return "\n".join(h), "\n".join(c)


# ------------------------------------------------------------------ RapidCheck generators

def gen_expr(f):
    """A RapidCheck generator expression for field f (names from generated_gen_support.h)."""
    t = f.elem
    if f.struct:
        g = f"rc::gen::arbitrary<{f.struct.qual}>()"
    elif t == "string":
        g = "gen_string()"
    elif t in ("bytes", "records"):
        g = "gen_bytes()"
    elif t == "uuid":
        g = "gen_uuid()"
    elif t == "float64":
        g = "gen_f64()"
    elif t == "bool":
        g = "rc::gen::arbitrary<bool>()"
    else:
        raw = PRIMITIVES[t][0]
        g = f"gen_wire<{f.keel_type or raw}, {raw}>()"
    if f.is_array:
        g = f"gen_vector({g}, {'true' if f.struct else 'false'})"
    if f.is_nullable_type():
        g = f"gen_optional({g})"
    return g


ARBITRARY_PARTS = 4  # arbitrary_<k>.cc: RapidCheck's templates make each a long compile


def emit_arbitrary(msgs):
    """arbitrary.h declares an rc::Arbitrary per struct; arbitrary_<k>.cc define them (once),
    the messages dealt over ARBITRARY_PARTS files by size so that they compile in parallel."""
    h = [HEADER_PREAMBLE.format(src="core/protocol/schemas/*.json").rstrip(),
         "// rc::Arbitrary for every generated struct (defined in arbitrary_<k>.cc), and the list",
         "// of generated messages.", "#pragma once", "", "#include <gtest/gtest.h>",
         "#include <rapidcheck.h>", "", '#include "core/protocol/generated/all_messages.h"', "",
         "namespace rc {", ""]
    preamble = [HEADER_PREAMBLE.format(src="core/protocol/schemas/*.json").rstrip(),
                '#include "tests/protocol/generated/arbitrary.h"', "",
                '#include "tests/protocol/generated_gen_support.h"', "", "namespace rc {", ""]
    parts = [list(preamble) for _ in range(ARBITRARY_PARTS)]
    sizes = [0] * ARBITRARY_PARTS
    for m in msgs:
        for s in m.structs + [m.top]:
            s.qual = f"keel::protocol::{m.cpp_name}" + ("" if s is m.top else f"::{s.cpp_name}")
    for m in msgs:
        for s in m.structs + [m.top]:
            h += ["template <>", f"struct Arbitrary<{s.qual}> {{",
                  f"    static Gen<{s.qual}> arbitrary();", "};", ""]
    for m in msgs:
        k = sizes.index(min(sizes))  # the lightest part so far (messages in schema order)
        c = parts[k]
        sizes[k] += sum(len(s.fields) + 1 for s in m.structs + [m.top])
        for s in m.structs + [m.top]:
            known = sorted({f.tag for f in s.fields if f.tag is not None})
            c += [f"Gen<{s.qual}> Arbitrary<{s.qual}>::arbitrary() {{",
                  "    using namespace keel;",
                  "    using namespace keel::protocol;",
                  "    using namespace keel::protocol::generated_testing;",
                  "    return gen::exec([] {",
                  f"        {s.qual} m;"]
            for f in s.fields:
                c.append(f"        m.{f.cpp_name} = *{gen_expr(f)};")
            if m.flexible.intersect(m.valid).empty():
                c.append("        // never flexible: no tagged fields")
            else:
                c.append(f"        m.unknown_tagged_fields = *gen_unknown_tags({{"
                         f"{', '.join(str(k) for k in known)}}});")
            c += ["        return m;", "    });", "}", ""]
    h += ["}  // namespace rc", "", "namespace keel::protocol::generated_testing {", "",
          "using GeneratedMessages = ::testing::Types<"]
    h.append(",\n".join(f"    {m.cpp_name}" for m in msgs) + ">;")
    h += ["", "}  // namespace keel::protocol::generated_testing", ""]
    for c in parts:
        c += ["}  // namespace rc", ""]
    return "\n".join(h), {f"arbitrary_{k}.cc": "\n".join(c) for k, c in enumerate(parts)}


# ------------------------------------------------------------------------------- driver

def load(schema_dir):
    msgs = []
    for fn in sorted(os.listdir(schema_dir)):
        if not fn.endswith(".json"):
            continue
        path = os.path.join(schema_dir, fn)
        with open(path, encoding="utf-8") as fh:
            try:
                js = json.loads(strip_comments(fh.read()))
            except json.JSONDecodeError as e:
                raise SchemaError(f"{path}: {e}") from e
        msgs.append((fn, Message(js, path)))
    names = [m.cpp_name for _, m in msgs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SchemaError(f"duplicate message names: {sorted(dup)}")
    return msgs


def render(schema_dir, with_tests):
    msgs = load(schema_dir)
    files = {}
    for fn, m in msgs:
        src = f"core/protocol/schemas/{fn}"
        files[f"{m.file_stem()}.h"] = emit_header(m, src)
        files[f"{m.file_stem()}.cc"] = emit_source(m, src)
    only = [m for _, m in msgs]
    files["all_messages.h"] = emit_index(only)
    files["api_table.h"], files["api_table.cc"] = emit_api_table(only)
    tests = {}
    if with_tests:
        tests["arbitrary.h"], sources = emit_arbitrary(only)
        tests.update(sources)
    return files, tests


def sync(out_dir, files, check):
    """Writes files (or, with check, compares); returns the list of differences."""
    diffs = []
    existing = set(os.listdir(out_dir)) if os.path.isdir(out_dir) else set()
    for name, text in sorted(files.items()):
        path = os.path.join(out_dir, name)
        old = None
        if name in existing:
            with open(path, encoding="utf-8") as fh:
                old = fh.read()
        if old != text:
            diffs.append(f"{path}: {'stale' if old is not None else 'missing'}")
            if not check:
                os.makedirs(out_dir, exist_ok=True)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    for name in sorted(existing - set(files)):
        if name.endswith((".h", ".cc")):
            diffs.append(f"{os.path.join(out_dir, name)}: not generated by any schema")
            if not check:
                os.remove(os.path.join(out_dir, name))
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("schema_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--tests-out", help="directory for arbitrary.h (RapidCheck generators)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; fail if any output differs from what would be written")
    args = ap.parse_args()
    try:
        files, tests = render(args.schema_dir, args.tests_out is not None)
    except SchemaError as e:
        print(f"kafka_codegen: {e}", file=sys.stderr)
        return 2
    diffs = sync(args.out_dir, files, args.check)
    if args.tests_out:
        diffs += sync(args.tests_out, tests, args.check)
    if args.check and diffs:
        print("generated protocol code is not current (run `make protocol-gen`):", file=sys.stderr)
        for d in diffs:
            print("  " + d, file=sys.stderr)
        return 1
    if not args.check:
        print(f"kafka_codegen: {len(files)} files, {len(diffs)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
