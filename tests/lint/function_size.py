#!/usr/bin/env python3
"""Fails when a C++ function body is longer than the limit (STYLE.md: a function fits on a
screen, <= 70 lines; the same threshold as .clang-tidy's readability-function-size).

clang-tidy parses every translation unit and takes minutes on a 2-core machine; this check
reads the files as text in about a second, so it runs in every `make test`. It strips
comments and string literals, tracks braces, and treats a `{` as a function body when the
text before it (since the last `;`, `{` or `}`) ends in a parameter list, optionally
followed by qualifiers or a constructor's initializer list. Bodies nested inside another
function (lambdas, local classes) count toward the enclosing function.

usage: function_size.py [--max N] [--exempt FILE] DIR...
Exempt entries are `path:function` lines (generated code, tables); say why beside each.
"""
import argparse
import os
import re
import sys

CONTROL = {"if", "for", "while", "switch", "catch", "do", "else", "return", "sizeof",
           "alignof", "decltype", "noexcept", "static_assert", "requires", "co_return"}
QUALIFIER_TAIL = re.compile(
    r"\)\s*(?:const|volatile|noexcept(?:\s*\([^()]*\))?|override|final|mutable|&&|&|"
    r"->\s*[\w:<>,\s\*&\[\]]+|\s)*$")


def strip_code(text):
    """Blanks comments, string and character literals, keeping newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            k = text.find("(", i + 2)
            delim = text[i + 2:k]
            j = text.find(")" + delim + '"', k)
            j = n if j < 0 else j + len(delim) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                out.append(" ")  # a digit separator: 1'000'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def function_name(header):
    """The name of the function whose header (text before `{`) this is, or None."""
    h = " ".join(header.split())
    if not h.endswith(")") and not QUALIFIER_TAIL.search(h):
        # A constructor's initializer list: `X::X(a) : b_(a), c_{0}` — cut at the first ` : `.
        m = re.search(r"\)\s*:\s*[\w:]+\s*[({]", h)
        if not m:
            return None
        h = h[:m.start() + 1]
    depth, k = 0, len(h) - 1
    close = h.rfind(")")
    if close < 0:
        return None
    k = close
    while k >= 0:  # find the `(` matching the last `)`
        if h[k] == ")":
            depth += 1
        elif h[k] == "(":
            depth -= 1
            if depth == 0:
                break
        k -= 1
    if k <= 0:
        return None
    m = re.search(r"([~\w:]+|operator\s*\S+)\s*$", h[:k])
    if not m:
        return None
    name = m.group(1)
    last = name.split("::")[-1]
    if last in CONTROL or "=" in h[:k].split()[-1:] or h[:k].rstrip().endswith("]"):
        return None
    return name


def functions(text):
    """Yields (name, first_line, line_count) for each top-level function body."""
    code = strip_code(text)
    stack = []  # for each open brace: (is_function, name, line)
    start = 0   # where the current header begins
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == ";":
            start = i + 1
        elif c == "{":
            inside_function = any(s[0] for s in stack)
            name = None if inside_function else function_name(code[start:i])
            stack.append((name is not None, name, line))
            start = i + 1
        elif c == "}":
            if stack:
                is_fn, name, first = stack.pop()
                if is_fn:
                    yield name, first, line - first - 1
            start = i + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=70)
    ap.add_argument("--exempt")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    exempt = set()
    if args.exempt:
        for raw in open(args.exempt, encoding="utf-8"):
            raw = raw.split("#", 1)[0].strip()
            if raw:
                exempt.add(raw)
    root = os.path.commonpath([os.path.abspath(d) for d in args.dirs] + [os.getcwd()])
    bad, count = [], 0
    for d in args.dirs:
        for dirpath, dirnames, files in os.walk(d):
            # node_modules: npm packages of tests/clients (the Node 22 package ships V8's headers).
            dirnames[:] = sorted(x for x in dirnames if x not in ("build", "generated", "node_modules"))
            for f in sorted(files):
                if not f.endswith((".cc", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for name, first, lines in functions(text):
                    count += 1
                    if lines > args.max and f"{rel}:{name}" not in exempt:
                        bad.append(f"{rel}:{first}: {name} has {lines} lines (max {args.max})")
    if bad:
        print(f"{len(bad)} function(s) longer than {args.max} lines (STYLE.md; split them):")
        print("\n".join(bad))
        return 1
    print(f"{count} functions checked, none longer than {args.max} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
