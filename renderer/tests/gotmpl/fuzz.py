#!/usr/bin/env python3
"""Grammar-based differential fuzzing of kiln's Go-template engine against Go's text/template + Sprig.

Usage: renderer/tests/gotmpl/fuzz.py [--seed S] [--count N] [--start I] [--batch B] [--oracle PATH]
                                    [--out DIR] [--timeout SECONDS] [--kiln BINARY] [--show K]
                                    [--grammar base|shapes|edges]

It generates N random but plausible templates, each with a random JSON data context, deterministically
from the seed (template i of seed S is the same on every machine and Python 3 version: it uses only
random.Random(f"{S}:{i}"), or f"GRAMMAR:{S}:{i}" for --grammar shapes or edges). It runs them in batches of B through Go's engine (the go-template oracle's
--batch mode, default /work/shared/oracles/go-template or $GO_TEMPLATE_ORACLE) and through kiln's
(the ignored test `batch` of renderer/tests/gotmpl.rs, built with cargo), and compares:
  - both render: the outputs must be byte-equal;
  - both fail: the error messages must be equal (the corpus test asks only for the same location;
    the fuzzer is stricter, and sorts message differences by their kind);
  - one fails: a difference.
Differences go to DIR/diffs.jsonl (default /tmp/gotmpl-fuzz) with the template, data and both answers;
a summary by category is printed. --show K prints K templates from --start and exits (no oracle
needed). --start I begins at template I (to re-run one: --start I --count 1). A job after which
neither program answers for --timeout seconds is killed and answered as a hang; --kiln runs a test
binary built before (e.g. a copy of an older engine's) instead of building with cargo.

Categories "not judged: ..." are differences where kiln follows what Helm 4 is built with (Go 1.20+'s
range checks of a time zone offset in time.Parse and Time.MarshalJSON, Go 1.22+,
JSON v2 messages, newer Sprig dependencies) or where the oracle cannot answer (it crashes on a value
that contains itself, or runs for ever); they are counted apart and do not count as differences.

The generator knows the data it makes, so most paths, variables and argument kinds are right; a small
share of choices is deliberately wrong (a wrong argument kind, a missing key, a bad literal) so that
error paths are exercised too. It avoids what the oracle cannot judge: Go newer than 1.19 (range over an
integer, {{else with}}), functions that are random or read the clock or the environment, %p of maps and
lists (an address), and unbounded sizes (repeat, until, widths are kept small).

The grammar reaches Go's built-ins and printf verbs (%T included), Sprig's functions and their must forms,
dates (toDate, dateModify, date, htmlDate, unixEpoch: a time argument is never piped, since Sprig formats
anything else as the clock's time), *semver.Version methods (Inc*, Set*, comparisons, fields), urlParse and
urlJoin, derivePassword, decryptAES of an encryptAES round trip, keys and values (sorted: Go's map order is
random) and multi-index. It leaves out sha512sum, which Helm 4's newer Sprig has and the oracle's does not.

--grammar shapes generates whole constructs instead (see Shapes): trim markers beside comments, nested
define/template/block, break/continue in nested ranges, with/else chains, shadowed variables, missing keys,
and/or/not on values that are not bools, printf flags on every kind, list/dict functions on nil and mixed lists,
RE2-only regular expressions, semver ranges, dates in zones, JSON and YAML of odd values, xstrings on odd text.
Known "differences" it reports where real Helm 4 agrees with kiln (checked with the helm-template oracle):
semverCompare of a pre-release against "!=x.y.z" (Helm 4's newer Masterminds semver), camelcase of digits and
upper case or of U+FFFD (xstrings v1.5.0), mergeOverwrite of a map onto a scalar (mergo v1).

--grammar edges draws one Sprig call or short chain at a time with edge arguments (see Edges): dates parsed with
Go layouts and printed in zones, time.Time methods, duration/durationRound of overflowing and odd inputs,
semverCompare ranges against pre-releases, regexReplaceAll with $1/${1}/${name}/$name references, printf verbs,
flags, widths and precisions on every type Sprig returns, toJson/toYaml of nested nil/float/int64/large numbers,
dig/pluck/merge/mergeOverwrite/pick/omit of nested dicts, number conversions and arithmetic at int64/float64
edges (NaN, infinities, strings cast reads), and string and list functions at odd lengths and indexes. Known
"differences" it reports where Helm 4 agrees with kiln (cast cutting a decimal string such as "-3.9", camelcase of
xstrings v1.5.0, U+FFFD unescaped in JSON, all in known-differences.txt) and (checked with the helm-template oracle, case hf20-sprig-edges): int64 of a time.Duration (the Sub of two
dates), semverCompare of a pre-release against a hyphen range or an AND range ending below it ("1.2.0 - 1.3.0-0",
">=1.2.3-beta.2 <1.2.3"), the text of a time.Parse error ("cannot parse" names the whole rest, Go 1.20+), and
mergeOverwrite of a map onto a scalar; and one the machine's time zone database decides (EST5EDT before year 1).

Not part of CI: it needs the oracle. Cases it finds go by hand, minimised, into
cases/helm-fuzz-found.txt, which the corpus test replays from recorded answers.
"""
import argparse
import json
import os
import random
import re
import select
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RENDERER = os.path.dirname(os.path.dirname(HERE))

KINDS = ["int", "float", "str", "bool", "nil", "list", "map"]
KEYS = ["a", "b", "c", "name", "items", "cfg", "n", "x", "Values", "list", "m", "empty", "zero",
        "s", "on", "y", "Key", "k1", "k_2", "nested", "v"]
WORDS = ["foo", "bar", "Hello World", "a-b_c", "", " x ", "ÄÖü", "tab\there", "line\nbreak", "1.25e3",
         "42", "true", "null", "0x1F", "snake_case_word", "CamelCaseWord", "a,b,c", "x.y.z",
         "<b>&'\"", "1.2.3", "v1.20.0", "/usr/local/bin/", "http://x.io/a?b=c d", "日本", "😀"]

# Sprig and Go functions: name -> (argument kinds, result kind). "num" is int or float,
# "any" anything; a trailing "*" repeats the last kind 0..3 times.
FUNCS = {
    # Go built-ins
    "not": (["any"], "bool"), "len": (["lenable"], "int"), "print": (["any*"], "str"),
    "println": (["any*"], "str"), "html": (["any*"], "str"), "js": (["any*"], "str"),
    "urlquery": (["any*"], "str"), "eq": (["cmp", "cmp*"], "bool"), "ne": (["cmp", "cmp"], "bool"),
    "lt": (["ord", "ord"], "bool"), "le": (["ord", "ord"], "bool"), "gt": (["ord", "ord"], "bool"),
    "ge": (["ord", "ord"], "bool"), "and": (["any", "any*"], "any"), "or": (["any", "any*"], "any"),
    "index": (["indexable"], "any"),
    # strings
    "upper": (["str"], "str"), "lower": (["str"], "str"), "title": (["str"], "str"),
    "untitle": (["str"], "str"), "trim": (["str"], "str"), "trimAll": (["str", "str"], "str"),
    "trimPrefix": (["str", "str"], "str"), "trimSuffix": (["str", "str"], "str"),
    "repeat": (["small", "str"], "str"), "substr": (["small", "small", "str"], "str"),
    "nospace": (["str"], "str"), "trunc": (["small", "str"], "str"), "abbrev": (["small", "str"], "str"),
    "abbrevboth": (["small", "small", "str"], "str"), "initials": (["str"], "str"),
    "wrap": (["small", "str"], "str"), "wrapWith": (["small", "str", "str"], "str"),
    "contains": (["str", "str"], "bool"), "hasPrefix": (["str", "str"], "bool"),
    "hasSuffix": (["str", "str"], "bool"), "quote": (["any*"], "str"), "squote": (["any*"], "str"),
    "cat": (["any*"], "str"), "indent": (["small", "str"], "str"), "nindent": (["small", "str"], "str"),
    "replace": (["str", "str", "str"], "str"), "plural": (["str", "str", "int"], "str"),
    "snakecase": (["str"], "str"), "camelcase": (["str"], "str"), "kebabcase": (["str"], "str"),
    "swapcase": (["str"], "str"), "toString": (["any"], "str"), "toStrings": (["any"], "list"),
    "split": (["str", "str"], "any"), "splitList": (["str", "str"], "list"),
    "splitn": (["str", "small", "str"], "any"), "join": (["str", "any"], "str"),
    "sortAlpha": (["any"], "list"), "regexMatch": (["regex", "str"], "bool"),
    "regexFind": (["regex", "str"], "str"), "regexFindAll": (["regex", "str", "small"], "list"),
    "regexReplaceAll": (["regex", "str", "str"], "str"),
    "regexReplaceAllLiteral": (["regex", "str", "str"], "str"),
    "regexSplit": (["regex", "str", "small"], "list"), "regexQuoteMeta": (["str"], "str"),
    "b64enc": (["str"], "str"), "b64dec": (["str"], "str"), "b32enc": (["str"], "str"),
    "b32dec": (["str"], "str"), "sha1sum": (["str"], "str"), "sha256sum": (["str"], "str"),
    "adler32sum": (["str"], "str"), "base": (["str"], "str"), "dir": (["str"], "str"),
    "ext": (["str"], "str"), "clean": (["str"], "str"), "isAbs": (["str"], "bool"),
    "toJson": (["any"], "str"), "toPrettyJson": (["any"], "str"), "toRawJson": (["any"], "str"),
    "fromJson": (["json"], "map"), "toYaml": (["any"], "str"), "fromYaml": (["yaml"], "map"),
    # math
    "add": (["num", "num*"], "int"), "add1": (["num"], "int"), "sub": (["num", "num"], "int"),
    "div": (["num", "divisor"], "int"), "mod": (["num", "divisor"], "int"), "mul": (["num", "num*"], "int"),
    "max": (["num", "num*"], "int"), "min": (["num", "num*"], "int"), "floor": (["num"], "float"),
    "ceil": (["num"], "float"), "round": (["num", "small"], "float"), "addf": (["num", "num*"], "float"),
    "subf": (["num", "num*"], "float"), "mulf": (["num", "num*"], "float"),
    "divf": (["num", "divisor*"], "float"), "maxf": (["num", "num*"], "float"),
    "minf": (["num", "num*"], "float"), "int": (["any"], "int"), "int64": (["any"], "int"),
    "float64": (["any"], "float"), "atoi": (["str"], "int"), "toDecimal": (["any"], "int"),
    "seq": (["small", "small*"], "str"), "until": (["small"], "list"),
    "untilStep": (["small", "small", "small"], "list"), "biggest": (["num", "num*"], "int"),
    # defaults, lists, dicts, types
    "default": (["any", "any"], "any"), "empty": (["any"], "bool"), "coalesce": (["any", "any*"], "any"),
    "ternary": (["any", "any", "bool"], "any"), "all": (["any*"], "bool"), "any": (["any*"], "bool"),
    "compact": (["list"], "list"), "list": (["any*"], "list"), "first": (["list"], "any"),
    "rest": (["list"], "list"), "last": (["list"], "any"), "initial": (["list"], "list"),
    "append": (["list", "any"], "list"), "prepend": (["list", "any"], "list"),
    "concat": (["list", "list*"], "list"), "reverse": (["list"], "list"), "uniq": (["list"], "list"),
    "without": (["list", "any*"], "list"), "has": (["any", "list"], "bool"),
    "chunk": (["small", "list"], "list"), "slice": (["list", "small*"], "list"),
    "dict": (["dictargs"], "map"), "get": (["map", "key"], "any"), "set": (["map", "key", "any"], "map"),
    "unset": (["map", "key"], "map"), "hasKey": (["map", "key"], "bool"),
    "pluck": (["key", "map", "map*"], "list"), "pick": (["map", "key*"], "map"),
    "omit": (["map", "key*"], "map"), "merge": (["map", "map*"], "map"),
    "mergeOverwrite": (["map", "map*"], "map"), "dig": (["key", "key*", "any", "map"], "any"),
    "deepCopy": (["any"], "any"), "kindOf": (["any"], "str"), "typeOf": (["any"], "str"),
    "kindIs": (["kindname", "any"], "bool"), "typeIs": (["typename", "any"], "bool"),
    "deepEqual": (["any", "any"], "bool"), "semverCompare": (["constraint", "version"], "bool"),
    "dateInZone": (["layout", "dateval", "zone"], "str"), "duration": (["any"], "str"),
    "durationRound": (["any"], "str"), "mustRegexMatch": (["regex", "str"], "bool"),
    "mustFirst": (["list"], "any"), "mustLast": (["list"], "any"), "mustAppend": (["list", "any"], "list"),
    "mustToJson": (["any"], "str"), "mustFromJson": (["json"], "any"), "typeIsLike": (["typename", "any"], "bool"),
    "fail": (["str"], "str"), "toDecimal ": (["str"], "int"),
    # the must forms, aliases and functions added after the first grammar
    "add1f": (["num"], "float"), "tuple": (["any*"], "list"), "trimall": (["str", "str"], "str"),
    "mustChunk": (["small", "list"], "list"), "mustCompact": (["list"], "list"),
    "mustDeepCopy": (["any"], "any"), "mustHas": (["any", "list"], "bool"),
    "mustInitial": (["list"], "list"), "mustRest": (["list"], "list"), "mustReverse": (["list"], "list"),
    "mustUniq": (["list"], "list"), "mustWithout": (["list", "any*"], "list"),
    "mustPrepend": (["list", "any"], "list"), "mustSlice": (["list", "small*"], "list"),
    "mustMerge": (["map", "map*"], "map"), "mustMergeOverwrite": (["map", "map*"], "map"),
    "mustRegexFind": (["regex", "str"], "str"), "mustRegexFindAll": (["regex", "str", "small"], "list"),
    "mustRegexReplaceAll": (["regex", "str", "str"], "str"),
    "mustRegexReplaceAllLiteral": (["regex", "str", "str"], "str"),
    "mustRegexSplit": (["regex", "str", "small"], "list"), "mustToPrettyJson": (["any"], "str"),
    "mustToRawJson": (["any"], "str"), "osBase": (["str"], "str"), "osClean": (["str"], "str"),
    "osDir": (["str"], "str"), "osExt": (["str"], "str"), "osIsAbs": (["str"], "bool"),
    "hello": ([], "str"),
    # dates: a time.Time from toDate, or seconds since the epoch
    "toDate": (["datepair"], "date"), "mustToDate": (["datepair"], "date"),
    "dateModify": (["duration", "dateval"], "date"), "mustDateModify": (["duration", "dateval"], "date"),
    "date_modify": (["duration", "dateval"], "date"), "date": (["layout", "dateval"], "str"),
    "htmlDate": (["dateval"], "str"), "htmlDateInZone": (["dateval", "zone"], "str"),
    "date_in_zone": (["layout", "dateval", "zone"], "str"), "unixEpoch": (["dateval"], "str"),
    # semantic versions (a *semver.Version with methods), URLs, passwords, AES round trips
    "semver": (["version"], "semver"), "urlParse": (["url"], "map"), "urlJoin": (["urlmap"], "str"),
    "derivePassword": (["small", "pwtype", "str", "str", "str"], "str"),
    "decryptAES": (["aesround"], "str"),
}
FUNCS.pop("toDecimal ")
BY_RESULT = {}
for _name, (_args, _res) in FUNCS.items():
    BY_RESULT.setdefault(_res, []).append(_name)

VERBS = "vdsqxXobegfEGtcUT"
# Argument kinds that are always literals (sizes stay small), kinds that mostly are, and kinds that
# stand for one of several kinds.
LITERAL_ONLY = {"small", "dictargs", "indexable", "key", "divisor", "datepair", "pwtype", "aesround"}
SPECIAL = {"regex", "json", "yaml", "kindname", "typename", "constraint", "version", "layout", "epoch", "zone",
           "dateval", "duration", "url", "urlmap", "semver"}
META = {
    "num": lambda r: r.choice(["int", "float", "int", "float", "str"]),
    "cmp": lambda r: r.choice(["int", "float", "str", "bool", "nil"]),
    "ord": lambda r: r.choice(["int", "float", "str"]),
    "lenable": lambda r: r.choice(["str", "list", "map"]),
}
COMPARE = {"eq", "ne", "lt", "le", "gt", "ge"}
# How often a choice is deliberately wrong: an argument of another kind, a missing key, a bad
# literal, a malformed action.
WRONG = 0.004
PRINTF_FLAGS = "+-# 0"


def kind_of(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "float"  # JSON numbers are float64 in the oracle and in kiln
    if isinstance(v, str):
        return "str"
    if isinstance(v, list):
        return "list"
    return "map"


class Gen:
    """One template: random choices from one seeded generator."""

    def __init__(self, rng):
        self.r = rng
        self.defines = []  # (name, dot kind)
        self.data = self.gen_data(0)
        while not isinstance(self.data, dict):
            self.data = self.gen_data(0)
        self.budget = 12  # actions left

    # ---------- data ----------
    def gen_data(self, depth):
        r = self.r
        c = r.random()
        if depth == 0 or (depth < 3 and c < 0.3):
            keys = r.sample(KEYS, r.randint(0 if depth else 3, 6 if depth == 0 else 4))
            return {k: self.gen_data(depth + 1) for k in keys}
        if depth < 3 and c < 0.45:
            return [self.gen_data(depth + 1) for _ in range(r.randint(0, 4))]
        c = r.random()
        if c < 0.3:
            return r.choice([0, 1, -1, 2, 3, 10, 42, 1000000, 1.5, -0.25, 1e21, 123456789, 0.1, 3.0, 1e-7])
        if c < 0.7:
            return r.choice(WORDS)
        if c < 0.85:
            return r.choice([True, False])
        return None

    def paths(self, value, prefix, out, depth=0):
        """Every path below value: (path text, value)."""
        if isinstance(value, dict) and depth < 4:
            for k, v in value.items():
                p = prefix + "." + k
                out.append((p, v))
                self.paths(v, p, out, depth + 1)
        return out

    # ---------- literals ----------
    def int_lit(self):
        r = self.r
        forms = [lambda n: str(n), lambda n: hex(n), lambda n: "0X%X" % n, lambda n: "0o%o" % n,
                 lambda n: "0%o" % n if n else "0", lambda n: bin(n), lambda n: "0B" + bin(n)[2:],
                 lambda n: "{:_}".format(n), lambda n: "0x_" + format(n, "x")]
        n = r.choice([0, 1, 2, 3, 5, 7, 10, 16, 42, 100, 255, 1000, 65536, 1 << 31, 1 << 40])
        s = r.choice(forms)(n)
        if r.random() < 0.2:
            s = "-" + s
        elif r.random() < 0.05:
            s = "+" + s
        if r.random() < WRONG * 2:
            s = r.choice(["9223372036854775807", "-9223372036854775808", "9223372036854775808",
                          "18446744073709551615", "0x7fffffffffffffff", "1__0", "09", "0x", "0b2",
                          "1_", "0_7", "08.5", "0x1.p1", "1e", "--1"])
        return s

    def char_lit(self):
        return self.r.choice(["'a'", "'Z'", "'0'", "' '", "'\\n'", "'\\t'", "'\\x41'", "'\\101'",
                              "'\\u00e9'", "'\\U0001F600'", "'\\''", "'\\\\'", "'日'", "'\"'",
                              "'ab'" if self.r.random() < 0.1 else "'b'"])

    def float_lit(self):
        r = self.r
        s = r.choice(["1.5", "0.1", "1e3", "1E-2", ".5", "1.", "2.50", "1e21", "1e20", "123456789.0",
                      "0x1p4", "0x1.8p1", "0X.8p0", "1_0.2_5", "3.0", "1e100", "0.000001", "1e-7",
                      "6.02214076e23", "0.0", "100000000.0", "1e06", "0e0", "1_000.5"])
        if r.random() < 0.2:
            s = "-" + s
        return s

    def imag_lit(self):
        return self.r.choice(["1i", "2.5i", "0i", "1e2i", "0x10i", "1_0i", "-1i", ".5i"])

    def str_lit(self):
        r = self.r
        c = r.random()
        if c < 0.55:
            w = r.choice(WORDS)
            if r.random() < 0.2:  # escapes for what is not ASCII
                return '"' + "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else
                                     "\\x%02x" % ord(c) if ord(c) < 128 else "\\u%04x" % ord(c)
                                     if ord(c) < 0x10000 else "\\U%08x" % ord(c) for c in w) + '"'
            return json.dumps(w, ensure_ascii=False)
        if c < 0.75:
            return '"' + "".join(r.choice(["a", "b", " ", "\\n", "\\t", "\\\"", "\\\\", "\\x41", "\\101",
                                           "\\u00e9", "\\U0001F600", "\\a", "\\b", "\\f", "\\v", "\\r",
                                           "%", "{", "}", "é", "\\x7f"])
                                 for _ in range(r.randint(0, 6))) + '"'
        if c < 1 - WRONG:
            body = "".join(r.choice(["a", "\\n", "\\", "\"", " ", "x", "\n", "{{", "%d", "'"])
                           for _ in range(r.randint(0, 6)))
            return "`" + body + "`"
        return r.choice(['"\\\'"', '"\\q"', '"\\x4"', '"\\400"', '"a', '"\\uD800"', '"\n"'])

    # ---------- expressions ----------
    def var_of(self, scope, kind):
        names = [n for n, k in scope.items() if kind == "any" or k == kind or k == "any"]
        return self.r.choice(names) if names else None

    def data_of(self, dot, kind):
        """A path (from dot or $) to data of the kind, or None."""
        r = self.r
        cands = []
        if isinstance(dot, tuple) and dot[0] == "data" and isinstance(dot[1], dict):
            cands += self.paths(dot[1], "", [])
        cands += [("$" + p, v) for p, v in self.paths(self.data, "", [])]
        want = [(p, v) for p, v in cands if kind == "any" or kind_of(v) == kind
                or (kind == "num" and kind_of(v) == "float")]
        if not want:
            return None
        p, v = r.choice(want)
        if p == "":
            p = "."
        if r.random() < WRONG * 2:
            p += r.choice([".missing", ".nope.deeper", ".Key"])
        return p

    def operand(self, kind, scope, dot, depth):
        """An argument: a literal, variable, path or parenthesised pipeline of the kind."""
        r = self.r
        if kind in LITERAL_ONLY or (kind in SPECIAL and r.random() < 0.9):
            return self.literal(kind, scope, dot, depth)
        kind = META.get(kind, lambda r: kind)(r)
        if r.random() < WRONG:  # a deliberately wrong kind
            kind = r.choice(KINDS)
        c = r.random()
        if c < 0.15:
            v = self.var_of(scope, kind)
            if v:
                return v
        if c < 0.35:
            p = self.data_of(dot, kind)
            if p:
                return p
        if c < 0.5 and depth < 3:
            return "(" + self.pipeline(kind, scope, dot, depth + 1) + ")"
        if c < 0.54 and kind == "any" and depth < 3:
            # a key of a map that a variable or a parenthesised pipeline gives
            v = self.var_of(scope, "map") if r.random() < 0.5 else None
            head = v or "(" + self.pipeline("map", scope, dot, depth + 1) + ")"
            return head + "." + r.choice(KEYS) + (("." + r.choice(KEYS)) if r.random() < 0.2 else "")
        return self.literal(kind, scope, dot, depth)

    def literal(self, kind, scope, dot, depth):
        r = self.r
        if kind == "divisor":  # mostly not zero
            return r.choice(["3", "-2", "7", "0.5", "2.5", '"4"', "1e3"]) if r.random() > WRONG * 5 else "0"
        if kind == "small":
            if r.random() < WRONG * 5:
                return r.choice(["1.5", '"3"', "nil", "1e3"])
            return r.choice(["0", "1", "2", "3", "4", "5", "-1", "8", "10", "-2"])
        if kind == "int":
            return self.char_lit() if r.random() < 0.1 else self.int_lit()
        if kind == "float":
            return self.float_lit()
        if kind == "num":
            c = r.random()
            return self.int_lit() if c < 0.5 else self.float_lit() if c < 0.85 else \
                self.char_lit() if c < 0.9 else self.str_lit()
        if kind == "str":
            return self.str_lit()
        if kind == "bool":
            return r.choice(["true", "false"])
        if kind == "nil":
            return "nil"
        if kind == "list":
            if depth < 3:
                return "(list " + " ".join(self.operand("any", scope, dot, depth + 1)
                                           for _ in range(r.randint(0, 4))) + ")"
            return r.choice(["(list 1 2)", '(list "a" "b")', "(list)"])
        if kind == "map":
            if r.random() < 0.1:
                return r.choice([".", "$"])
            if depth < 3:
                return "(dict " + " ".join('"%s" %s' % (r.choice(KEYS), self.operand("any", scope, dot, depth + 1))
                                           for _ in range(r.randint(0, 3))) + ")"
            return '(dict "a" 1)'
        if kind in ("cmp", "ord"):
            return self.operand(r.choice(["int", "float", "str"] + (["bool", "nil"] if kind == "cmp" else [])),
                                scope, dot, depth)
        if kind == "lenable":
            return self.operand(r.choice(["str", "list", "map"]), scope, dot, depth)
        if kind == "key":
            return json.dumps(r.choice(KEYS))
        if kind == "regex":
            return json.dumps(r.choice(["a+", "[a-z]+", "^f", "o$", "(\\w)(\\w)", "\\d+", ".", "", "x*",
                                        "(?i)HELLO", "[", "a{2,}", "\\s", "(?P<n>b)", "[[:alpha:]]+", "\\pL+"]))
        if kind == "json":
            return json.dumps(r.choice(['{"a":1,"b":[1,2,{"c":null}]}', '{"x":1e3,"y":"s"}', "{}", "[1,2]",
                                        "not json", '{"a":12345678901234567890}', '{"k":true}']))
        if kind == "yaml":
            return json.dumps(r.choice(["a: 1\nb: [x, y]", "k: v", "- 1\n- 2", "a: {b: 1.5}", ": bad",
                                        "n: 010\ny: yes\nf: 1e3"]))
        if kind == "dictargs":
            return " ".join('%s %s' % (self.operand("str", scope, dot, depth + 1) if r.random() < 0.1
                                       else json.dumps(r.choice(KEYS)), self.operand("any", scope, dot, depth + 1))
                            for _ in range(r.randint(0, 3)))
        if kind == "kindname":
            return json.dumps(r.choice(["string", "int", "int64", "float64", "bool", "map", "slice", "invalid"]))
        if kind == "typename":
            return json.dumps(r.choice(["string", "int", "int64", "float64", "bool", "[]interface {}",
                                        "map[string]interface {}", "<nil>"]))
        if kind == "constraint":
            return json.dumps(r.choice([">=1.2.0", "^1.2", "~1.20.0", "<2.0.0-0", ">1.0 <3.0", "1.x", "!=1.2.3-0",
                                        ">= 1.19-0", "bad constraint"]))
        if kind == "version":
            return json.dumps(r.choice(["1.2.3", "v1.20.0", "1.20.1-gke.1", "2.0.0", "1.2", "x.y", "1.2.3+build.5",
                                        "v2.0.0-rc.1+meta", "0.0.0", "1.2.3-alpha.01", "18446744073709551615.0.0"]))
        if kind == "layout":
            return json.dumps(r.choice(["2006-01-02", "15:04:05", "Mon Jan 2 2006", "2006-01-02T15:04:05Z07:00",
                                        "Jan _2 03:04PM", ".000", "MST -0700", "06/1/2"]))
        if kind == "epoch":
            return r.choice(["0", "1700000000", "(int64 1600000000)", "1234567890"])
        if kind == "datepair":
            return r.choice(['"2006-01-02" "2020-03-04"', '"2006-01-02T15:04:05Z07:00" "2019-12-31T23:59:58+02:00"',
                             '"15:04" "09:30"', '"Jan 2 2006" "Feb 29 2024"', '"2006-01-02" "2021-02-30"',
                             '"02/01/06" "31/12/99"', '"2006-01-02 15:04:05.000" "2001-02-03 04:05:06.789"',
                             '"2006" "x"', '"Mon Jan _2" "Tue Feb  3"', '"2006-01-02T15:04:05Z" "2023-06-01T00:00:00Z"'])
        if kind == "dateval":
            c = r.random()
            if c < 0.35 and depth < 3:
                # only functions that give a time.Time: Sprig formats anything else as the clock's time
                fname = r.choice(BY_RESULT["date"])
                return "(" + " ".join([fname] + self.args_for(fname, scope, dot, depth + 1, False)) + ")"
            if c < 0.5:
                return r.choice(['(toDate "2006-01-02" "2020-03-04")', '(toDate "2006-01-02 15:04" "1999-12-31 23:59")'])
            return self.literal("epoch", scope, dot, depth)
        if kind == "duration":
            return json.dumps(r.choice(["1h", "-30m", "1h30m15s", "90s", "0", "1.5h", "2h45m", "-1ms", "1us", "x",
                                        "24h", "100ns", "1d"]))
        if kind == "pwtype":
            return json.dumps(r.choice(["long", "maximum", "medium", "short", "basic", "pin", "other"]))
        if kind == "aesround":
            key = json.dumps(r.choice(["k", "secret", "", "a long key of many bytes"]))
            if r.random() < 0.2:
                return r.choice(['"bm90IGFlcw==" "k"', '"" "k"', '"!!" "k"', '"YWJj" "k"'])
            return "(encryptAES %s %s) %s" % (key, self.operand("str", scope, dot, depth + 1), key)
        if kind == "url":
            return json.dumps(r.choice(["https://user:pw@x.io:8080/a/b?c=d&e=f#frag", "http://x.io", "/rel/path?q",
                                        "mailto:a@b.c", "://bad", "x.io:80", "https://[::1]:9/p", "http://a b",
                                        "https://x.io/%41%zz", "ftp://u@h/p;x?y#"]))
        if kind == "urlmap":
            if r.random() < 0.4:
                return "(urlParse %s)" % self.literal("url", scope, dot, depth)
            keys = ["scheme", "host", "path", "query", "fragment", "userinfo", "opaque", "rawQuery"]
            return "(dict " + " ".join('"%s" %s' % (k, json.dumps(r.choice(WORDS)) if r.random() < 0.8 else
                                                   self.operand("any", scope, dot, depth + 1))
                                       for k in r.sample(keys, r.randint(0, 5))) + ")"
        if kind == "semver":
            if depth < 3 and r.random() < 0.3:
                return "(" + self.pipeline("semver", scope, dot, depth + 1) + ")"
            return "(semver %s)" % self.literal("version", scope, dot, depth)
        if kind == "zone":
            return json.dumps(r.choice(["UTC", "UTC", "Europe/Berlin", "America/New_York", "Nowhere/X"]))
        if kind == "indexable":
            c = r.random()
            if c < 0.5:
                p = self.data_of(dot, "list")
                if p:
                    return p + " " + r.choice(["0", "1", "2", "-1", "5"])
            p = self.data_of(dot, "map")
            if p:
                return p + " " + json.dumps(r.choice(KEYS))
            return "(list 1 2 3) 1"
        # any
        return self.operand(r.choice(["int", "float", "str", "bool", "nil", "list", "map", "str", "int"]),
                            scope, dot, depth)

    def args_for(self, fname, scope, dot, depth, piped):
        kinds, _ = FUNCS[fname]
        if fname in COMPARE:
            one = META[kinds[0].rstrip("*")](self.r)
            kinds = [one if k == kinds[0] else one + "*" for k in kinds]
        if piped and not kinds[-1].endswith("*"):
            kinds = kinds[:-1]  # the piped value is the last argument
        out = []
        for k in kinds:
            if k.endswith("*"):
                out += [self.operand(k[:-1], scope, dot, depth) for _ in range(self.r.randint(0, 3))]
            else:
                out.append(self.operand(k, scope, dot, depth))
        return out

    def printf_call(self, scope, dot, depth):
        r = self.r
        fmt, args = [], []
        for _ in range(r.randint(1, 4)):
            if r.random() < 0.3:
                fmt.append(r.choice(["x", " ", "-", ":", "%%", "é", "\\n"]))
                continue
            spec = "%"
            for f in PRINTF_FLAGS:
                if r.random() < 0.12:
                    spec += f
            if r.random() < 0.05:
                spec += "[%d]" % r.randint(1, 3)
            c = r.random()
            if c < 0.25:
                spec += str(r.randint(0, 12))
            elif c < 0.32:
                spec += "*"
                args.append(r.choice(["3", "-4", "8", '"x"', "2.0", "100000000"]) if r.random() < 0.2 else str(r.randint(0, 10)))
            c = r.random()
            if c < 0.2:
                spec += "." + str(r.randint(0, 8))
            elif c < 0.25:
                spec += ".*"
                args.append(str(r.randint(-1, 6)))
            elif c < 0.28:
                spec += "."
            v = r.choice(VERBS + "vvvdds" + ("p" if r.random() < 0.1 else ""))
            spec += v
            fmt.append(spec)
            k = r.choice(["int", "float", "str", "bool", "nil", "list", "map", "int", "float", "str"])
            if v == "p":
                k = r.choice(["int", "str", "bool", "float"])
            if v == "T" or r.random() < 0.1:  # typed results: int64, []string, time.Time, *semver.Version
                k = r.choice(["int", "list", "date", "semver", "any"])
            a = self.operand(k, scope, dot, depth) if r.random() > 0.05 else self.imag_lit()
            if v == "c" or v == "U":
                a = r.choice([a, self.char_lit()])
            args.append(a)
        if r.random() < 0.1 and args:
            args.pop()
        elif r.random() < 0.1:
            args.append(self.operand("any", scope, dot, depth))
        return "printf " + json.dumps("".join(fmt)).replace("\\\\n", "\\n") + "".join(" " + a for a in args)

    def method(self, kind, scope, dot, depth):
        """A method call or field chain on a typed value (a semver, a URL map), or None."""
        r = self.r
        v = self.literal("semver", scope, dot, depth + 1)
        other = self.literal("semver", scope, dot, depth + 1)
        forms = {
            "int": [v + ".Major", v + ".Minor", v + ".Patch", v + ".Compare " + other,
                    "(%s.IncMinor).Minor" % v],
            "str": [v + ".Prerelease", v + ".Metadata", v + ".Original", v + ".String",
                    "(%s.IncPatch).String" % v, "(%s.IncMajor).Original" % v,
                    "(%s.SetPrerelease %s).String" % (v, json.dumps(r.choice(["rc.1", "", "bad!", "01"]))),
                    "(%s.SetMetadata %s).String" % (v, json.dumps(r.choice(["b.1", "", "b..1"]))),
                    "(urlParse %s).%s" % (self.literal("url", scope, dot, depth),
                                          r.choice(["scheme", "host", "path", "query", "fragment", "userinfo",
                                                    "opaque", "hostname", "port"]))],
            "bool": [v + ".LessThan " + other, v + ".GreaterThan " + other, v + ".Equal " + other],
            "list": ["keys %s | sortAlpha" % self.operand("map", scope, dot, depth + 1),
                     "values %s | sortAlpha" % self.operand("map", scope, dot, depth + 1),
                     "keys %s %s | sortAlpha | uniq" % (self.operand("map", scope, dot, depth + 1),
                                                        self.operand("map", scope, dot, depth + 1))],
            "any": [v, v + ".IncPatch", "(%s.SetPrerelease \"x\")" % v,
                    "index %s %s" % (self.operand("list", scope, dot, depth + 1),
                                     " ".join(r.choice(["0", "1", "-1", "2"]) for _ in range(r.randint(1, 3)))),
                    "index %s %s" % (self.operand("map", scope, dot, depth + 1),
                                     " ".join(json.dumps(r.choice(KEYS)) for _ in range(r.randint(1, 3))))],
        }
        return r.choice(forms[kind]) if kind in forms else None

    def command(self, kind, scope, dot, depth):
        """One command whose result is (mostly) of the kind."""
        r = self.r
        if r.random() < 0.08 and depth < 3:
            m = self.method(kind, scope, dot, depth)
            if m:
                return m
        if r.random() < 0.3:
            return self.operand(kind, scope, dot, depth) if kind != "nil" else self.operand("any", scope, dot, depth)
        if kind == "str" and r.random() < 0.3:
            return self.printf_call(scope, dot, depth)
        return " ".join([fname] + self.args_for(fname, scope, dot, depth, False)) \
            if (fname := self.pick_func(kind, False)) else self.operand(kind, scope, dot, depth)

    def pick_func(self, kind, piped):
        """A function with a result of the kind; one that takes a piped last argument when piped."""
        r = self.r
        names = BY_RESULT.get(kind, []) + (BY_RESULT["any"] if r.random() < 0.3 else [])
        if kind not in BY_RESULT:
            names = list(FUNCS)
        if piped:
            # a time argument is never piped: Sprig formats any other value as the clock's time
            names = [n for n in names if FUNCS[n][0] and FUNCS[n][0][-1].rstrip("*") not in LITERAL_ONLY
                     and FUNCS[n][0][-1] != "dateval" and n not in COMPARE]
        if not names:
            return None
        fname = r.choice(names)
        if fname == "fail" and r.random() < 0.9:
            return None
        return fname

    def pipeline(self, kind, scope, dot, depth, extra=None):
        """A pipeline: each command's result is the last argument of the next."""
        r = self.r
        if extra is None:
            extra = r.choice([0, 0, 0, 1, 1, 2, 3])
        if extra == 0:
            return self.command(kind, scope, dot, depth)
        fname = self.pick_func(kind, True)
        if fname is None:
            return self.command(kind, scope, dot, depth)
        last = FUNCS[fname][0][-1].rstrip("*")
        last = META.get(last, lambda r: last)(r)
        prefix = self.pipeline(last if last not in SPECIAL else "str", scope, dot, depth, extra - 1)
        return " | ".join([prefix, " ".join([fname] + self.args_for(fname, scope, dot, depth, True))])

    # ---------- statements ----------
    def open(self):
        return "{{- " if self.r.random() < 0.2 else "{{"

    def close(self):
        return " -}}" if self.r.random() < 0.2 else "}}"

    def act(self, body):
        r = self.r
        o, c = self.open(), self.close()
        sp1 = "" if o.endswith(" ") or r.random() < 0.5 else " "
        sp2 = "" if c.startswith(" ") or r.random() < 0.5 else " "
        return o + sp1 + body + sp2 + c

    def text(self):
        return self.r.choice(["\n", " ", "  ", "x", "[", "]", "\n  ", " - ", ",", "a: ", "\t", "é", "\n\n"])

    def dot_after(self, pipe_text, kind):
        """What dot is inside with/range: the data when the pipeline is a plain path, else the kind."""
        p = pipe_text.strip()
        if p.startswith("$.") and " " not in p and "|" not in p:
            v = self.data
            for k in p[2:].split("."):
                if not isinstance(v, dict) or k not in v:
                    return ("kind", "any")
                v = v[k]
            return ("data", v)
        return ("kind", kind)

    def block(self, scope, dot, depth, in_range):
        r = self.r
        out = []
        for _ in range(r.randint(1, 5 if depth < 2 else 2)):
            if self.budget <= 0:
                break
            self.budget -= 1
            c = r.random()
            if c < 0.2:
                out.append(self.text())
            elif c < 0.5 or depth >= 4:
                out.append(self.act(self.pipeline(r.choice(["str", "int", "float", "any", "bool", "list", "map"]),
                                                  scope, dot, depth)))
            elif c < 0.58:
                name = "$" + r.choice(["x", "y", "v", "i", "s", "n", "_", "m", "x1"])
                k = r.choice(["int", "str", "list", "map", "float", "bool", "any"])
                out.append(self.act("%s := %s" % (name, self.pipeline(k, scope, dot, depth))))
                scope[name] = k
            elif c < 0.64 and len(scope) > 1:
                name = r.choice([n for n in scope if n != "$"])
                k = scope[name]
                out.append(self.act("%s = %s" % (name, self.pipeline(k, scope, dot, depth))))
            elif c < 0.74:
                out.append(self.if_stmt(scope, dot, depth, in_range))
            elif c < 0.82:
                out.append(self.range_stmt(scope, dot, depth))
            elif c < 0.88:
                out.append(self.with_stmt(scope, dot, depth, in_range))
            elif c < 0.91 and in_range:
                out.append(self.act(r.choice(["break", "continue"])))
            elif c < 0.95 and self.defines:
                name, k = r.choice(self.defines)
                arg = self.operand(k, scope, dot, depth) if r.random() < 0.9 else ""
                out.append(self.act('template "%s" %s' % (name, arg)))
            elif c < 0.97:
                out.append(self.open() + r.choice(["/* c */", "/*\nmulti\n*/", "/**/"]) + self.close()
                           if r.random() < 0.8 else "{{/* c */}}")
            elif c < 0.97 + WRONG:
                out.append(self.act("%s" % r.choice(["nil", "$", ".", "$.a", "(.)", "$x :=", "else", "end",
                                                        "if", "range", ".a.b c", '"a" | printf', "1 2",
                                                        "print | print", "(1).a", "$undefined", "len"])))
        return "".join(out)

    def if_stmt(self, scope, dot, depth, in_range):
        r = self.r
        inner = dict(scope)
        head = self.pipeline(r.choice(["bool", "any", "str", "int", "list"]), scope, dot, depth)
        if r.random() < 0.15:
            v = "$" + r.choice(["c", "x", "ok"])
            head = "%s := %s" % (v, head)
            inner[v] = "any"
        s = self.act("if " + head) + self.block(dict(inner), dot, depth + 1, in_range)
        while r.random() < 0.3:
            s += self.act("else if " + self.pipeline("bool", inner, dot, depth)) + \
                self.block(dict(inner), dot, depth + 1, in_range)
        if r.random() < 0.4:
            s += self.act("else") + self.block(dict(inner), dot, depth + 1, in_range)
        return s + self.act("end")

    def with_stmt(self, scope, dot, depth, in_range):
        r = self.r
        inner = dict(scope)
        k = r.choice(["map", "list", "str", "any", "int"])
        pipe = self.pipeline(k, scope, dot, depth)
        head = pipe
        if r.random() < 0.2:
            head = "$w := " + pipe
            inner["$w"] = k
        s = self.act("with " + head) + self.block(dict(inner), self.dot_after(pipe, k), depth + 1, in_range)
        if r.random() < 0.3:
            s += self.act("else") + self.block(dict(scope), dot, depth + 1, in_range)
        return s + self.act("end")

    def range_stmt(self, scope, dot, depth):
        r = self.r
        inner = dict(scope)
        k = r.choice(["list", "map", "list"])
        pipe = self.pipeline(k, scope, dot, depth)
        if r.random() < WRONG * 5:
            pipe = r.choice(["3", '"abc"', "true", "1.5"])  # not rangeable in Go 1.19
        c = r.random()
        if c < 0.3:
            head = "$i, $e := " + pipe
            inner["$i"], inner["$e"] = "any", "any"
        elif c < 0.5:
            head = "$e := " + pipe
            inner["$e"] = "any"
        else:
            head = pipe
        s = self.act("range " + head) + self.block(inner, ("kind", "any"), depth + 1, True)
        if r.random() < 0.3:
            s += self.act("else") + self.block(dict(scope), dot, depth + 1, False)
        return s + self.act("end")

    def template(self):
        r = self.r
        out = []
        for i in range(r.choice([0, 0, 0, 1, 1, 2])):
            name = "t%d" % i
            k = r.choice(["map", "str", "int", "list", "any"])
            body = self.block({"$": "map"}, ("kind", k), 2, False)
            if r.random() < 0.3:
                # a block defines and runs at once
                out.append(self.act('block "%s" %s' % (name, self.operand(k, {"$": "map"}, ("data", self.data), 1))) +
                           body + self.act("end"))
            else:
                out.append(self.act('define "%s"' % name) + body + self.act("end"))
            self.defines.append((name, k))
        self.budget = 12
        out.append(self.block({"$": "map"}, ("data", self.data), 0, False))
        r.shuffle(out)  # defines may stand anywhere at the top level
        return "".join(out)


# ---------- the "shapes" grammar ----------
# Whole constructs that the base grammar reaches seldom or never: trim markers beside comments, nested
# define/template/block with dot changes and recursion, break/continue in nested ranges, with/else
# chains, variables shadowed and assigned in nested scopes, field chains through missing keys and
# non-maps, and/or/not over values that are not bools (with short-circuits), printf flags, widths and
# precisions on every kind of value, Sprig's list and dict functions on nil and mixed lists, regular
# expressions in RE2's own syntax, semver constraint ranges, dates in layouts and zones, and JSON and
# YAML of odd values. Each snippet is small and stands alone; a template strings 2 to 5 together.
TYPED = ["1", "-5", "0", "255", "(int64 -7)", "3.25", "-0.5", "1e21", "(float64 \"1e-7\")", '"héllo"', '""', '"a\\tb"',
         "true", "false", "nil", "(list 1 \"a\" nil)", "(list)", '(dict "a" 1 "b" (list 2))', "(dict)",
         '(splitList "," "x,y")', "(toDate \"2006-01-02\" \"2020-03-04\")", '(semver "1.2.3-rc.1+b")',
         "'x'", "'日'", "(len \"abc\")", "(b64dec \"aGk=\")", "(until 3)", "(tuple 1 2)", "(float64 3)",
         "(atoi \"12\")", "(1.5)", "(div 7 2)", "(dict \"k\" nil)"]
ODD = ["nil", "(list)", "(dict)", "(list nil)", '(list 1 "1" 1.0 nil true (list 1) (dict "a" 1))', '""', '"s"', "0",
       "1.5", "true", '(dict "b" 1 "a" (list) "c" nil)', ".missing", '(splitList "," "b,a,b")', "(until 4)",
       '(list "b" "a" "b" "")', "(list (list 1) (list 1))", '(list (dict "a" 1) (dict "a" 1))']
RE2 = [r"(?P<y>\d{4})-(?P<m>\d\d)", r"\pL+", r"\p{Greek}", r"\PN+", r"[[:^space:]]+", r"(?i:AB)c", r"(?s)a.b",
       r"(?m)^x$", r"(?U)a+", r"\Qa.b\E", r"b\z", r"\Ab", r"[\d\-]+", r"x{2,}?", r"(a)|b", r"a*", r"\bfoo\b", r"\B",
       r"[^\x00-\x7F]", r"(?i)straße", r"[[:word:]]+", r"\x{65e5}", r"(a|ab)(c|bcd)(d*)", r"^$", r"$", r"(?:x)+",
       r"a**", r"(?=x)", r"(a)\1", r"x{1001}", r"[z-a]", r"(?P<n>a)(?P<n>b)", r"\8", r"[[:foo:]]", r"(?i", r"a{,3}",
       r"\C", r"(?P<>x)", r"a++", r"\p{Foo}"]
REPL = ["${m}/${y}", "$1x", "${1}x", "$$", "[$0]", "<${n}>", "$", "-", "", "${2}${1}", "$name"]
REINPUT = ["2024-06 and 1999-12", "foo foobar bar", "xx AbC abc", "a\nb", "x\ny\nx", "aaa", "baaac", "日本語 αβγ 123",
           "Straße STRASSE", "abcd", "", "a.b axb", "x-1-2", "ab\u00e9"]
CONSTRAINTS = ["~1", "~1.2", "~1.2.3", "^0.0.1", "^0.1", "^0", "^1.2.3-rc.1", ">=1.2.3 <2.0.0 || >=3", "1.2 - 1.4.5",
               "=1.2.3", "*", "x", "1.2.x", "v1", "~> 1.2", ">=1.0.0-0", ">= 1, < 2", "!=1.2.3", "<1.2.3-alpha",
               "1.2.3-beta || 1.2.4", "", ">1.2", "<=1.2", "1.2.3 - 2", "~0.0", "^0.0", "> 1.0.0-alpha.1", "=v1.2",
               "1.*", ">=1.2.3 <=1.2.3", "||", "1.2.3 ||", ">=a", "^1.x", "~1.x.x", "<2.0.0-0", "> =1"]
VERSIONS = ["1.2.3", "1.2.3-alpha", "1.2.3-rc.1", "1.3.0-0", "v1.2", "1", "0.0.1", "0.1.5", "2.0.0", "3.1.0-beta",
            "1.2.4", "01.2.3", "1.2.3.4", "1.2.3-01", "1.2.3+meta", "v1.2.3-rc.1+b.2", "0.0.0", "1.2.3-alpha.beta",
            "99999999999999999999.0.0", " 1.2.3", "1.2", "1.0.0-alpha.1", ""]
LAYOUTS = ["2006-01-02T15:04:05Z07:00", "Mon Jan _2 15:04:05 MST 2006", "02 Jan 06 15:04 -0700", "3:04PM",
           "2006-01-02 15:04:05.999999999 -0700 MST", "Z07", "-07:00:00", "Monday, January 2", "06/01/02 .000",
           "15:04:05,000", "2006-01-02T15:04:05.000000Z", "Jan 2, 2006 at 3:04pm (MST)", "January", "pm PM",
           "20060102150405", "2006-1-2", "_2", "05.99", "Z0700", "-07"]
ZONES = ["UTC", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham", "Etc/GMT+5", "EST",
         "Europe/London", "America/Sao_Paulo", "Nowhere/X", "", "Asia/Kathmandu"]
DATES = ['(toDate "2006-01-02T15:04:05Z07:00" "2020-02-29T23:30:00+05:30")', '(toDate "2006-01-02" "2021-03-28")',
         '(toDate "2006-01-02 15:04:05" "2021-10-31 01:30:00")', "1700000000", "(int64 0)", "-1",
         '(toDate "2006-01-02T15:04:05.999999999Z07:00" "1999-12-31T23:59:59.123456789-08:00")',
         '(dateModify "-90m" (toDate "2006-01-02" "2000-01-01"))', '(toDate "Jan 2 2006 MST" "Mar 1 2020 PST")',
         '(toDate "2006-01-02 -0700" "2022-06-15 +0545")']
ODDSTR = ["yes", "on", "1e3", "0x1F", "", " x", "a: b", "- x", "multi\nline", "trailing\n", "#c", "~", "null", "1.0",
          "010", "true", "<a&b>", "\u2028", "é", "'q'", "\"dq\"", "a\tb", "1_000", ".inf", "2001-12-14", "=", "?",
          "  lead\n", "key: [1]", "*ref", "&anc", "!tag", "%p", "@at", "`bt`", "{x}", "[y]", ">fold", "|lit"]
ODDVAL = ['(float64 "1e21")', '(float64 "-0")', '(float64 "NaN")', '(float64 "Inf")', '(int64 "9223372036854775807")',
          "(list nil (dict) (list))", '(dict "" 1)', '(dict "b" 1 "a" 2 "A" 3 "_" 4 "1" 5)',
          '(toDate "2006-01-02" "2020-03-04")', '(semver "1.2.3")', '(splitList "," "a,b")', "1e20", "1e21", "0.1",
          "100000000.0", "123456789", "-0.0", "(div 1 3)", "(divf 1 3)", "(list 1.0 2.5 -1e-7)", "'a'", "nil",
          '(dict "k" (dict "n" (list (dict "x" nil))))', "(mulf 1e300 1e10)", "(float64 1e-320)", "$", ".",
          '(urlParse "https://u:p@h:1/p?q#f")', "(until 0)", "(b64dec \"4pyT\")"]
JSONTEXT = ['{"a":1e400}', '{"a":-0}', '[1, "a", null]', '{"a":1,"a":2}', '{"a":12345678901234567890}', '"str"', "null",
            '{"a":{"b":[]}}', '{"\\u00e9":"\\ud83d\\ude00"}', "{} x", '{"a":1.0}', '{"a":1e2}', "", " ", '{"a":"\\u0000"}',
            '{"b":1,"a":2}', "[]", "true", '{"x":0.1e-999}']
YAMLTEXT = ["a: &x 1\nb: *x", "'foo' 'bar'", "a: 1\n---\nb: 2", "- a\n- b", "a: !!str 1", "a: 0o17\nb: 0x1F\nc: 1_000",
            "a: .inf\nb: -.Inf\nc: .nan", "a: ~\nb: null\nc:", "? [1]\n: x", "a: 2001-12-14", "a: |\n  x\n  y\n",
            "{a: 1, b: [2, 3]}", "a: 1\na: 2", "a: 'it''s'", "x", "", "a: \"\\u00e9\"", "<<: {a: 1}\nb: 2",
            "a: yes\nb: off\nc: y", "a: 1e3\nb: 1.0\nc: 012"]


class Shapes(Gen):
    """Templates made of the constructs listed above (see SNIPPETS)."""

    def template(self):
        r = self.r
        out, self.defines = [], []
        self.budget = 6
        for _ in range(r.randint(2, 5)):
            out.append(r.choice(SNIPPETS)(self))
            if r.random() < 0.3:
                out.append(self.text())
        return "".join(out)

    def val(self, pool=None):
        """A value: mostly one of the pool, sometimes from the base grammar."""
        r = self.r
        if r.random() < 0.25:
            return self.operand(r.choice(["any", "str", "int", "list", "map", "bool", "nil"]), {"$": "map"},
                                ("data", self.data), 1)
        return r.choice(pool or TYPED)

    def path(self):
        """A field chain from dot or $, right or wrong."""
        r = self.r
        known = self.paths(self.data, "", [])
        p = r.choice(known)[0] if known and r.random() < 0.6 else ""
        p += "".join("." + r.choice(KEYS + ["missing", "Nope"]) for _ in range(r.randint(0 if p else 1, 2)))
        return r.choice(["", "$"]) + p

    def trim_comment(self):
        r = self.r
        good = ["{{- /* c */ -}}", "{{/* c */ -}}", "{{- /* multi\nline */ -}}", "{{/*c*/}}", "{{- /* c */}}",
                "{{/* {{ }} */}}", "{{- /**/ -}}", "{{- 3 -}}", "{{3 -}}", "{{- -3 -}}", "{{- .a}}",
                "{{-\t/* c */\t-}}", "{{-\n/* c */\n-}}", "{{-\n.a\n-}}", "{{- \"s\" -}}", "{{-\r\n/* c */ -}}"]
        bad = ["{{-/* c */}}", "{{/* c */-}}", "{{ /* c */ }}", "{{-  /* c */  -}}", "{{/* c */ }}", "{{/* a */ /* b */}}",
               "{{- /* c*/-}}", "{{/* unclosed }}", "{{-3}}", "{{3-}}", "{{- \n/* c */ -}}"]
        pads = ["", " ", "\n", " \n\t ", "x ", " y", "\r\n", "\n\n  "]
        return "".join(r.choice(pads) + r.choice(bad if r.random() < 0.1 else good)
                       for _ in range(r.randint(1, 3))) + r.choice(pads)

    def nested_define(self):
        r = self.r
        n = len(self.defines)
        a, b = "d%d" % n, "d%d" % (n + 1)
        self.defines += [(a, "any"), (b, "any")]
        inner = r.choice(["{{.}}", "{{.name}}", "[{{$}}]", "{{with .a}}<{{.}}>{{else}}-{{end}}", "{{len .}}",
                          "{{range .}}({{.}}){{end}}", "{{$.a}}", "{{if .}}T{{else}}F{{end}}", "{{toJson .}}",
                          "{{template \"%s\" .}}" % a, "{{block \"bb%d\" .}}B{{.}}{{end}}" % n])
        outer = r.choice(['{{template "%s" .%s}}' % (a, r.choice(["", "a", "name", "items", "missing"])),
                          '{{range $i, $v := .}}{{template "%s" $v}}{{end}}' % a,
                          '{{with .cfg}}{{template "%s" .}}{{end}}{{template "%s" $}}' % (a, a),
                          '{{template "%s" (list 1 2)}}|{{template "%s"}}' % (a, a),
                          '{{template "%s" (dict "name" "n" "a" .)}}' % a,
                          '{{template "%s" %s}}' % (a, self.val())])
        parts = ['{{define "%s"}}%s{{end}}' % (a, inner), '{{define "%s"}}%s{{end}}' % (b, outer)]
        if r.random() < 0.2:
            # recursion over a shrinking list, bounded by its length
            parts.append('{{define "rec%d"}}{{if .}}{{first .}},{{template "rec%d" (rest .)}}{{end}}{{end}}' % (n, n))
            parts.append('{{template "rec%d" %s}}' % (n, r.choice(["(list 1 2 3)", "(until 4)", "(list)", ".items",
                                                                    "nil", "(splitList \"-\" \"a-b\")"])))
        if r.random() < 0.15:
            parts.append(r.choice(['{{define "%s"}}again{{end}}' % a, '{{define "%s"}}{{end}}' % a,
                                   '{{block "%s" .}}blk{{end}}' % a, '{{template "undefined%d"}}' % n,
                                   '{{define "%s"}} {{end}}' % a, '{{template "%s" .}}{{define "x%d"}}' % (a, n)]))
        parts.append(r.choice(['{{template "%s" %s}}' % (b, r.choice([".", "$", ".cfg", "nil", '"s"', "(dict)"])),
                               '{{block "blk%d" .}}{{template "%s" .}}{{end}}' % (n, b),
                               '{{with $x := 1}}{{template "%s" $}}{{end}}' % b]))
        r.shuffle(parts)
        return "".join(parts)

    def nested_range(self):
        r = self.r
        lists = ["(list 1 2 3)", "(until 4)", '(list "a" "" "c")', "(list)", "nil", '(dict "b" 2 "a" 1 "c" 3)',
                 '(list (list 1 2) (list) (list 3))', ".items", ".", "$", '(splitList "," "x,,y")', "(tuple 0 1)"]
        ctl = lambda: r.choice(["{{break}}", "{{continue}}", "{{if %s}}{{break}}{{end}}" % self.cond(),
                                "{{if %s}}{{continue}}{{end}}" % self.cond(),
                                "{{with %s}}{{continue}}{{end}}" % self.val(), ""])
        v1, v2 = r.choice([("$i, $a", "$j, $b"), ("$a", "$b"), ("", ""), ("$i, $a", "$b")])
        h1 = (v1 + " := " if v1 else "") + r.choice(lists)
        h2 = (v2 + " := " if v2 else "") + r.choice(lists + ["."])
        body2 = ctl() + r.choice(["{{.}}", "{{$b}}" if v2 else "{{.}}", "{{$a}}-{{.}}" if v1 else "{{.}}",
                                  "{{$i}}" if "$i" in v1 else ""])
        else2 = "{{else}}E" if r.random() < 0.3 else ""
        inner = "{{range %s}}%s%s%s{{end}}" % (h2, body2, ctl(), else2)
        else1 = "{{else}}empty" if r.random() < 0.2 else ""
        s = "{{range %s}}[%s%s]%s%s{{end}}" % (h1, ctl(), inner, ctl(), else1)
        if r.random() < 0.1:
            s += r.choice(["{{break}}", "{{continue}}", "{{define \"br\"}}{{break}}{{end}}"])
        return s

    def cond(self):
        r = self.r
        return r.choice(["eq . 2", "not .", "true", "false", "eq (len (list 1)) 1",
                         "and . (ne . 1)", "(gt (len (toString .)) 1)", "kindIs \"string\" .", "."])

    def with_chain(self):
        r = self.r
        v = lambda: self.val(TYPED + [".missing", ".a", "$.name", "0", '""', "(list)", "(dict)", "false"])
        s = "{{with %s}}<{{.}}>" % (("$w := " if r.random() < 0.3 else "") + v())
        if r.random() < 0.6:
            s += "{{else}}{{with %s}}[{{.}}]{{else}}none{{end}}" % v()
        s += "{{end}}"
        if "$w" in s and r.random() < 0.5:
            s += "{{$w}}"  # out of scope: an error
        if r.random() < 0.3:
            s = "{{with %s}}%s{{.}}{{end}}" % (v(), s)
        return s

    def shadowing(self):
        r = self.r
        x, y = self.val(), self.val()
        forms = ["{{$x := %s}}{{range (list 1 2)}}{{$x := .}}{{$x}}{{end}}{{$x}}" % x,
                 "{{$x := %s}}{{range $i, $e := (list 7 8)}}{{$x = $e}}{{end}}{{$x}}" % x,
                 "{{$x := %s}}{{with %s}}{{$x := .}}{{$x}}{{end}}|{{$x}}" % (x, y),
                 "{{$x := %s}}{{if true}}{{$x = %s}}{{$y := 1}}{{end}}{{$x}}" % (x, y),
                 "{{$x := %s}}{{if true}}{{$x := %s}}{{end}}{{$x}}" % (x, y),
                 "{{$x := 1}}{{$x := %s}}{{$x}}" % x,
                 "{{range $x := (list 1 2)}}{{end}}{{$x}}",
                 "{{$x := 0}}{{range $x = (list 4 5)}}{{end}}{{$x}}",
                 "{{$i := 9}}{{range $i, $v := %s}}{{$i}}{{end}}{{$i}}" % r.choice(["(list 1 2)", '(dict "z" 1 "a" 2)']),
                 "{{$x := %s}}{{define \"sh\"}}{{$x}}{{end}}" % x,
                 "{{$ := 1}}", "{{$x := %s}}{{$x = $x}}{{$x}}" % x, "{{$x = 1}}",
                 "{{$x := %s}}{{with $x := %s}}{{$x}}{{end}}{{$x}}" % (x, y),
                 "{{$_ := %s}}{{$_}}" % x, "{{$x, $y := %s}}" % x,
                 "{{$.x := 1}}", "{{$x := %s}}{{$x.a}}{{$x.a.b}}" % x,
                 "{{$x := %s}}{{range $x}}{{$x}}{{end}}" % r.choice(["(list 1 2)", '(dict "k" 3)', "(list)"])]
        return r.choice(forms)

    def missing_keys(self):
        r = self.r
        p = self.path()
        forms = ["{{%s}}" % p, "{{%s | default \"d\"}}" % p, "{{printf \"%%v|%%T\" %s %s}}" % (p, p),
                 "{{index . \"%s\"}}" % r.choice(KEYS + ["missing"]), "{{(index . \"%s\").b}}" % r.choice(KEYS),
                 "{{(dict \"a\" 1).b}}", "{{(dict \"a\" nil).a.b}}", "{{(list 1).a}}", '{{("s").a}}',
                 "{{if %s}}y{{else}}n{{end}}" % p, "{{with %s}}{{.}}{{else}}none{{end}}" % p,
                 "{{len %s}}" % p, "{{%s | toJson}}" % p, "{{eq %s nil}}" % p, "{{%s.x}}" % p.rstrip(".") if p else "{{.x}}",
                 "{{hasKey . \"%s\"}}" % r.choice(KEYS), "{{get . \"%s\"}}" % r.choice(KEYS + ["missing"]),
                 "{{dig \"a\" \"b\" \"d\" .}}", "{{(.).missing}}", "{{$.Values.x}}", "{{.Values.missing | quote}}",
                 "{{ %s | kindOf }}" % p, "{{ typeOf %s }}" % p, "{{ empty %s }}" % p, "{{ printf \"%%q\" %s }}" % p]
        return r.choice(forms)

    def bool_ops(self):
        r = self.r
        v = lambda: self.val(TYPED + ['""', "0", "(list)", "(dict)", "nil", ".missing", "(fail \"boom\")",
                                       "(index (list) 3)", "(div 1 0)"])
        op = r.choice(["and", "or", "not", "and", "or"])
        n = 1 if op == "not" else r.randint(1, 4)
        if r.random() < 0.05:
            n = 0 if op != "not" else 2
        e = "%s %s" % (op, " ".join(v() for _ in range(n)))
        return r.choice(["{{%s}}" % e, "{{if %s}}Y{{else}}N{{end}}" % e, "{{%s | printf \"%%v/%%T\"}}" % e,
                         "{{%s | not}}" % v(), "{{%s | and %s}}" % (v(), v()), "{{%s | or %s}}" % (v(), v()),
                         "{{with %s}}W{{.}}{{end}}" % e, "{{(%s) | toJson}}" % e])

    def printf_prefix(self, flag_p, width, precision):
        """`%`, flags (each with probability flag_p), then sometimes a width and a precision drawn by the given
        functions: the start of a printf verb."""
        r = self.r
        spec = "%" + "".join(f for f in PRINTF_FLAGS if r.random() < flag_p)
        if r.random() < 0.5:
            spec += str(width())
        if r.random() < 0.4:
            spec += "." + str(precision())
        return spec

    def printf_all(self):
        r = self.r
        fmt, args = [], []
        for _ in range(r.randint(1, 3)):
            spec = self.printf_prefix(0.25, lambda: r.randint(0, 12), lambda: r.randint(0, 9))
            spec += r.choice("vdsqxXobegfEGtcUT" + "vqxd")
            if r.random() < 0.05:
                spec = r.choice(["%!", "%[2]d", "%[0]d", "%[x]d", "%", "%-", "%.", "%[1]*d", "%z", "%w"])
            fmt.append(spec)
            # a time.Time printed with a verb that is not a string verb shows its fields, one of them an address
            args.append(self.val([t for t in TYPED if "toDate" not in t] if spec[-1] not in "vsqxX" else TYPED))
        if r.random() < 0.1:
            args.append(self.val())
        return "{{printf %s %s}}" % (json.dumps(" ".join(fmt)), " ".join(args))

    def list_dict_nil(self):
        r = self.r
        one = ["first", "last", "rest", "initial", "reverse", "uniq", "compact", "sortAlpha", "keys", "values",
               "toStrings", "deepCopy", "len", "empty", "mustFirst", "mustLast", "mustRest", "mustInitial",
               "mustReverse", "mustUniq", "mustCompact", "kindOf", "typeOf"]
        two = ["without %s %s", "has %s %s", "append %s %s", "prepend %s %s", "concat %s %s", "pick %s \"a\" %s",
               "omit %s \"a\"", "merge %s %s", "mergeOverwrite %s %s", "dig \"a\" %s %s", "get %s \"a\"",
               "hasKey %s \"a\"", "pluck \"a\" %s %s", "slice %s 1", "chunk 2 %s", "mustHas %s %s",
               "mustAppend %s %s", "mustPrepend %s %s", "mustWithout %s %s", "mustSlice %s 0 1", "mustChunk 1 %s",
               "set %s \"a\" %s", "unset %s \"a\"", "join \",\" %s", "deepEqual %s %s", "coalesce %s %s",
               "default %s %s", "ternary %s %s true", "list %s %s", "dict \"a\" %s \"b\" %s", "index %s 0",
               "first (list %s %s)", "max 1 %s", "sortAlpha (list %s %s)", "uniq (list %s %s)", "all %s %s",
               "any %s %s", "compact (list %s %s)"]
        if r.random() < 0.4:
            e = "%s %s" % (r.choice(one), self.val(ODD))
        else:
            f = r.choice(two)
            e = f % tuple(self.val(ODD) for _ in range(f.count("%s")))
        return r.choice(["{{%s}}", "{{%s | toJson}}", "{{printf \"%%v %%T\" (%s)}}", "{{range %s}}{{.}},{{end}}"]) % e

    def regex_re2(self):
        r = self.r
        p, s = json.dumps(r.choice(RE2[:RE2.index("a**")] if r.random() < 0.7 else RE2)), json.dumps(r.choice(REINPUT))
        n = r.choice(["-1", "0", "1", "2"])
        e = r.choice(["regexMatch %s %s" % (p, s), "regexFind %s %s" % (p, s),
                      "regexFindAll %s %s %s" % (p, s, n), "regexSplit %s %s %s" % (p, s, n),
                      "regexReplaceAll %s %s %s" % (p, s, json.dumps(r.choice(REPL))),
                      "regexReplaceAllLiteral %s %s %s" % (p, s, json.dumps(r.choice(REPL))),
                      "mustRegexMatch %s %s" % (p, s), "mustRegexFindAll %s %s %s" % (p, s, n),
                      "mustRegexReplaceAll %s %s %s" % (p, s, json.dumps(r.choice(REPL))),
                      "regexQuoteMeta %s" % s, "mustRegexSplit %s %s %s" % (p, s, n)])
        return r.choice(["{{%s}}", "{{%s | toJson}}"]) % e

    def semver_edges(self, constraints=CONSTRAINTS, versions=VERSIONS):
        r = self.r
        c, v = json.dumps(r.choice(constraints)), json.dumps(r.choice(versions))
        w = json.dumps(r.choice(versions))
        return r.choice(["{{semverCompare %s %s}}" % (c, v), "{{semverCompare %s %s}}" % (c, v),
                         "{{(semver %s).Compare (semver %s)}}" % (v, w),
                         "{{(semver %s).LessThan (semver %s)}}" % (v, w),
                         "{{(semver %s) | toJson}}" % v, "{{semver %s}}" % v,
                         "{{with semver %s}}{{.Major}}.{{.Minor}}.{{.Patch}}-{{.Prerelease}}+{{.Metadata}} {{.Original}}{{end}}" % v,
                         "{{(semver %s).IncMinor}}" % v, "{{semverCompare %s (semver %s).String}}" % (c, v)])

    def dates(self):
        r = self.r
        lay, d, z = json.dumps(r.choice(LAYOUTS)), r.choice(DATES), json.dumps(r.choice(ZONES))
        return "{{%s}}" % r.choice(["date %s %s" % (lay, d), "dateInZone %s %s %s" % (lay, d, z),
                                    "date_in_zone %s %s %s" % (lay, d, z), "htmlDateInZone %s %s" % (d, z),
                                    "htmlDate %s" % d, "unixEpoch %s" % d,
                                    "dateModify %s %s | date %s" % (json.dumps(r.choice(["1h", "-24h", "30m", "8760h",
                                                                                          "-1.5h", "2h3m4s5ms"])), d, lay),
                                    "toDate %s %s | date %s" % (lay, json.dumps(r.choice(
                                        ["2020-02-29T23:30:00+05:30", "Mon Jan  2 15:04:05 PST 2006", "3:04PM",
                                         "02 Jan 06 15:04 +0100", "2006-1-2", "January"])), json.dumps(r.choice(LAYOUTS))),
                                    "printf \"%%v\" %s" % d, "%s | toJson" % d, "%s | toYaml" % d,
                                    "(%s).Unix" % d if d.startswith("(") else "unixEpoch %s" % d,
                                    "(%s).Format %s" % (d, lay) if d.startswith("(") else "date %s %s" % (lay, d),
                                    "(%s).UTC" % d if d.startswith("(") else "htmlDate %s" % d])

    def json_yaml_odd(self):
        r = self.r
        f = r.choice(["toJson", "toPrettyJson", "toRawJson", "toYaml", "mustToJson", "toString", "quote"])
        v = r.choice(ODDVAL + [json.dumps(s) for s in ODDSTR] + ['(dict "k" %s)' % json.dumps(r.choice(ODDSTR)),
                                                                 "(list %s)" % json.dumps(r.choice(ODDSTR))])
        forms = ["{{%s %s}}" % (f, v), "{{%s | %s}}" % (v, f),
                 "{{fromJson %s | toJson}}" % json.dumps(r.choice(JSONTEXT)),
                 "{{fromJson %s}}" % json.dumps(r.choice(JSONTEXT)),
                 "{{mustFromJson %s | toYaml}}" % json.dumps(r.choice(JSONTEXT)),
                 "{{fromYaml %s | toJson}}" % json.dumps(r.choice(YAMLTEXT)),
                 "{{fromYaml %s}}" % json.dumps(r.choice(YAMLTEXT)),
                 "{{toYaml (fromYaml %s)}}" % json.dumps(r.choice(YAMLTEXT)),
                 "{{(fromJson (toJson %s)) | toYaml}}" % v, "{{toYaml (dict \"k\" %s)}}" % v,
                 "{{toYaml (list %s %s)}}" % (v, r.choice(ODDVAL))]
        return r.choice(forms)

    def strings_cases(self):
        r = self.r
        f = r.choice(["camelcase", "snakecase", "kebabcase", "swapcase", "title", "untitle", "upper", "lower",
                      "initials", "nospace", "trim", "abbrev 5", "trunc 3", "trunc -3", "wrap 4", "substr 1 3",
                      "repeat 2", "quote", "squote", "indent 2", "nindent 1", "b64enc", "b32enc", "sha1sum",
                      "adler32sum", "toString", "len"])
        s = r.choice(ODDSTR + WORDS + ["HTTPServer", "xmlHTTPRequest", "a__b--c", "ÀB cD", "ǅemo", "İstanbul",
                                       "ﬁx", "ß", "_lead", "trail_", "A1b2C3", "Id", "ID", "x--", "—dash—"])
        e = "%s %s" % (f, json.dumps(s))
        if r.random() < 0.15:
            e = "%s (b64dec %s)" % (f, json.dumps(r.choice(["/w==", "YcNi", "wMGA", "gA==", "4pyT/w==", "7aCA"])))
        return "{{%s}}" % e


SNIPPETS = [Shapes.trim_comment, Shapes.nested_define, Shapes.nested_range, Shapes.with_chain, Shapes.shadowing,
            Shapes.missing_keys, Shapes.bool_ops, Shapes.printf_all, Shapes.list_dict_nil, Shapes.regex_re2,
            Shapes.semver_edges, Shapes.dates, Shapes.json_yaml_odd, Shapes.strings_cases]


# ---------- the "edges" grammar ----------
# Edge arguments of the Sprig functions charts lean on, each snippet one call or a short chain (see EDGE_SNIPPETS): dates parsed
# with Go layouts and printed in zones (toDate, dateModify, duration, durationRound and time.Time methods),
# semverCompare ranges against pre-releases, regexReplaceAll with $1, ${1}, ${name} and $name references,
# printf verbs, flags, widths and precisions on every type Sprig returns (int64, float64 edges, []string,
# time.Time, *semver.Version, maps), toJson/toYaml of nested nil, float, int64 and large numbers, and
# dig/pluck/merge/mergeOverwrite/deepCopy of nested dicts.
ELAYOUTS = ["2006-01-02", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z", "2006-01-02 15:04:05 MST",
            "2006-01-02 15:04:05 -0700", "Jan 2 2006 15:04 MST", "02/01/2006 15h04", "2006-01-02T15:04:05.000Z07:00",
            "Mon, 02 Jan 2006 15:04:05 -0700", "2006-002", "15:04:05.999999", "2006-01-02 3PM", "Z07:00", "MST"]
ETIMES = {"2006-01-02": ["2024-02-29", "2023-02-29", "1969-12-31", "0001-01-01", "2024-13-01", "24-01-01"],
          "2006-01-02T15:04:05Z07:00": ["2024-03-10T02:30:00-05:00", "2024-01-01T00:00:00Z", "2024-06-01T12:00:00+14:00",
                                        "2024-06-01T12:00:00.5Z", "2024-06-01T12:00:00+0100", "2024-06-01T24:00:00Z"],
          "2006-01-02T15:04:05Z": ["2024-06-01T12:00:00Z", "2024-06-01T12:00:00+01:00"],
          "2006-01-02 15:04:05 MST": ["2024-06-01 12:00:00 UTC", "2024-06-01 12:00:00 CEST", "2024-01-01 00:00:00 PST",
                                      "2024-01-01 00:00:00 XYZ", "2024-01-01 00:00:00 GMT"],
          "2006-01-02 15:04:05 -0700": ["2024-11-03 01:30:00 -0400", "2024-01-01 00:00:00 +0545", "2024-01-01 00:00:00 -1200"],
          "Jan 2 2006 15:04 MST": ["Feb 29 2024 23:59 EST", "Dec 31 1999 23:59 UTC"],
          "02/01/2006 15h04": ["31/12/2024 23h59", "01/01/2024 24h00"],
          "2006-01-02T15:04:05.000Z07:00": ["2024-06-01T12:00:00.123+02:00", "2024-06-01T12:00:00.1+02:00"],
          "Mon, 02 Jan 2006 15:04:05 -0700": ["Sat, 01 Jun 2024 12:00:00 +0000", "Mon, 01 Jun 2024 12:00:00 +0000"],
          "2006-002": ["2024-366", "2023-366", "2024-060"],
          "15:04:05.999999": ["23:59:59.5", "00:00:00", "12:30:45.123456"],
          "2006-01-02 3PM": ["2024-06-01 3PM", "2024-06-01 12AM", "2024-06-01 13PM"],
          "Z07:00": ["+05:30", "Z"], "MST": ["PDT", "UTC"]}
EZONES = ["UTC", "Local", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Europe/Dublin", "Etc/GMT-14",
          "America/Caracas", "Africa/Casablanca", "Nowhere/X", "", "utc", "EST5EDT", "Pacific/Apia"]
EDURS = ["1h", "-1h30m", "1.5h", ".5h", "1h-30m", "+2h", "-0", "0", "1e3s", "1000000h", "1µs", "1us", "3ns", "1d",
         "", "h", "2562047h", "2562048h", "-2562047h47m16.854775808s", "1h1h", "5m30.5s"]
ESECONDS = ["0", "1", "59", "60", "3600", "86399", "90061", "-1", "-3661", "1.9", "-0.5", '"120"', '"1h"', '"x"', "nil",
            "true", "(int64 9223372036)", "(int64 9223372037)", "1e9", '"3.7"', "(list 1)"]
EROUND = ['"2h5m"', '"-90m"', '"8760h"', '"25h"', '"36h30m"', '"720h"', '"1h59m59s"', '"0s"', '"x"', "3600000000000",
          "(int64 90000000000)", "1.5", '""', "-1", "nil", "86400000000000", '"100ms"', '"61s"', '"-1ns"', "(int64 -1)"]
EPRE_CONSTRAINTS = [">=1.2.3-0", ">=1.2.3-alpha", "~1.2.3-beta", "^1.2.3-alpha.1", "<1.2.3-rc.2", ">1.2.3-rc.1",
                    "1.2.3-alpha - 1.2.3", "1.2.0 - 1.3.0-0", "^1.2.0-0", "~1.2-0", ">=1.0.0-0 <2.0.0-0", "=1.2.3-rc.1",
                    "!=1.2.3-rc.1", "1.2.3-rc.1 || >=2", ">= 1.20.0-0", "<1.21-0", "^0.0.3-beta", "~0-0", "*-0",
                    ">=1.2.3-alpha.10", "1.x-0", "^1.2.3+build", ">=1.2.3-beta.2 <1.2.3", "~1.2.3-alpha.9",
                    ">1.2.3-0 <1.2.4-0", "^v1.2.3-rc", ">=1.2.3-01", "<=1.2.3-alpha.beta"]
EPRE_VERSIONS = ["1.2.3-alpha", "1.2.3-alpha.1", "1.2.3-alpha.10", "1.2.3-alpha.9", "1.2.3-beta", "1.2.3-beta.2",
                 "1.2.3-rc.1", "1.2.3-rc.2", "1.2.3", "1.2.4-0", "1.3.0-alpha", "2.0.0-0", "1.20.5-gke.100",
                 "v1.21.0-eks-abc", "0.0.3-beta", "0.0.3", "1.2.3-0", "1.2.3-alpha.beta", "1.2.3+build.1",
                 "1.2.3-rc.1+build", "1.2", "v1.2.3-rc", "1.2.3-x-y-z", "1.2.3-a.b.c.d"]
EREGEX = [r"(?P<first>\w+)\s(?P<second>\w+)", r"(\d+)-(\d+)", r"(a)(b)?", r"(?P<x>.)", r"^(\w)(\w*)$", r"(x*)",
          r"(?P<a1>[a-z]+)(?P<b_2>\d*)", r"(o)", r"", r"(\w+)@(\w+)\.com", r"((a)|(b))+"]
EREPL = ["$1", "${1}", "$2$1", "${2}-${1}", "${first}", "$first", "${second} ${first}", "$1x", "${1}x", "$10",
         "${10}", "$$1", "$", "${", "${1", "${}", "$-", "$x", "${x}${x}", "$a1", "${b_2}", "$b_2", "[$0]", "${0}",
         "$3", "$3$2$1", "$first_", "${first}_", "\\1", "$$", "$1$", "é$1é"]
ERINPUT = ["hello world", "12-34 56-78", "ab a", "xyz", "", "abc123 def", "john@example.com x@y.com", "aaa",
           "ab ba", "Foo Bar", "日本 語"]
# Values of every type Sprig can hand to printf.
EVALUES = ['1', '-42', '(int64 "9223372036854775807")', '(int64 -9223372036854775807)', '(int 3000000000)', '0',
           '3.0', '-0.5', '1e21', '1e-7', '123456789.0', '(float64 "NaN")', '(float64 "+Inf")', '(float64 "-Inf")',
           '(float64 "-0")', '(div 7 2)', '(divf 7 2)', '(mulf 0.1 3)', '(add 0.1 0.2)', '(addf 0.1 0.2)',
           '"s"', '""', '"héllo wörld"', '"a\\tb\\n"', '"日本"', '"%d"', 'true', 'false', 'nil', '(list)',
           '(list 1 "a" nil 2.5)', '(splitList "," "a,b")', '(list (list 1) (dict "k" "v"))', '(dict)',
           '(dict "b" 2 "a" (list 1 2))', '(dict "k" nil)', '(semver "1.2.3-rc.1+b")', '(until 3)',
           '(toDate "2006-01-02" "2024-02-29")', "'x'", "(b64dec \"AAE=\")", "(sha256sum \"a\")", "(tuple 1 nil)",
           '(regexFindAll "a" "aaa" -1)', '(atoi "-12")', '(float64 3)', '(int64 3.9)', '(len "héllo")',
           '(max 1 2.5)', '(min -1 (int64 -3))', '(round 2.675 2)', '(floor -1.5)', '(ceil 1.0000001)']
ENUMS = ["0", "-0.0", "1e21", "1e20", "123456789012", "1.0e-7", "0.000001", "1e-320", "1.7976931348623157e308",
         "9007199254740993", "12345678901234567890", "-9223372036854775808", "3.14159265358979323846", "2.5e+10",
         "100.0", "1.10", "0.1", "5e-324"]


class Edges(Shapes):
    """Templates made of the edge-argument snippets listed above (see EDGE_SNIPPETS)."""

    def template(self):
        r = self.r
        out = []
        for _ in range(r.randint(1, 3)):
            out.append(r.choice(EDGE_SNIPPETS)(self))
            out.append(r.choice(["\n", " | ", ""]))
        return "".join(out)

    def a_date(self):
        """A time.Time from toDate, or a pipeline that gives one."""
        r = self.r
        lay = r.choice(list(ETIMES))
        d = "(toDate %s %s)" % (json.dumps(lay), json.dumps(r.choice(ETIMES[lay])))
        if r.random() < 0.3:
            d = "(dateModify %s %s)" % (json.dumps(r.choice(EDURS)), d)
        if r.random() < 0.1:
            d = "(mustToDate %s %s)" % (json.dumps(lay), json.dumps(r.choice(ETIMES[r.choice(list(ETIMES))])))
        return d

    def dates_go(self):
        r = self.r
        d, lay, z = self.a_date(), json.dumps(r.choice(ELAYOUTS + LAYOUTS)), json.dumps(r.choice(EZONES))
        forms = ["date %s %s" % (lay, d), "dateInZone %s %s %s" % (lay, d, z), "htmlDateInZone %s %s" % (d, z),
                 "unixEpoch %s" % d, "%s.Format %s" % (d, lay), "%s.UTC" % d, "%s.Unix" % d, "%s.UnixNano" % d,
                 "%s.Year" % d, "%s.Month" % d, "%s.Weekday" % d, "%s.YearDay" % d, "%s.Nanosecond" % d,
                 "%s.IsZero" % d, "%s.Before %s" % (d, self.a_date()), "%s.Equal %s" % (d, self.a_date()),
                 "%s.Sub %s" % (d, self.a_date()), "%s.AddDate %d %d %d" % (d, r.randint(-1, 1), r.randint(-13, 13),
                                                                            r.randint(-40, 40)),
                 "%s | toJson" % d, "%s | toYaml" % d, "toString %s" % d, "printf \"%%s|%%v\" %s %s" % (d, d),
                 "date %s %s" % (lay, r.choice(["0", "1700000000", "(int64 -86400)", "(int 1234567890)"])),
                 "dateInZone %s %s %s" % (lay, r.choice(["0", "(int64 1700000000)"]), z),
                 "%s.String" % d, "(%s.Round 0).String" % d, "%s.Location" % d, "%s.Month | int" % d]
        return "{{%s}}" % r.choice(forms)

    def durations(self):
        r = self.r
        forms = ["duration %s" % r.choice(ESECONDS), "durationRound %s" % r.choice(EROUND),
                 "dateModify %s (toDate \"2006-01-02\" \"2024-01-31\") | date \"2006-01-02T15:04:05.999999999\"" %
                 json.dumps(r.choice(EDURS)),
                 "mustDateModify %s (toDate \"2006-01-02\" \"2024-01-31\") | unixEpoch" % json.dumps(r.choice(EDURS)),
                 "(toDate \"2006-01-02\" \"2024-03-01\").Sub (toDate \"2006-01-02\" \"2024-02-01\") | %s" %
                 r.choice(["toString", "durationRound", "toJson", "int64", "printf \"%v %d %T\""]),
                 "duration %s | durationRound" % r.choice(ESECONDS), "%s | duration" % r.choice(ESECONDS)]
        return "{{%s}}" % r.choice(forms)

    def semver_pre(self):
        return self.semver_edges(EPRE_CONSTRAINTS, EPRE_VERSIONS)

    def regex_refs(self):
        r = self.r
        p, s, t = json.dumps(r.choice(EREGEX)), json.dumps(r.choice(ERINPUT)), json.dumps(r.choice(EREPL))
        return "{{%s}}" % r.choice(["regexReplaceAll %s %s %s" % (p, s, t), "regexReplaceAll %s %s %s" % (p, s, t),
                                    "mustRegexReplaceAll %s %s %s" % (p, s, t),
                                    "regexReplaceAllLiteral %s %s %s" % (p, s, t),
                                    "%s | regexReplaceAll %s %s" % (s, p, t)])

    def printf_types(self):
        r = self.r
        fmt, args = [], []
        for _ in range(r.randint(1, 3)):
            spec = self.printf_prefix(0.2, lambda: r.choice([0, 1, 3, 8, 12, 20]),
                                      lambda: r.choice([0, 1, 2, 3, 6, 10]))
            verb = r.choice("vvvsdqxXfeEgGtTcUbo")
            spec += verb
            fmt.append(spec)
            pool = EVALUES if verb in "vsqxXT" else [v for v in EVALUES if "toDate" not in v and "semver" not in v]
            args.append(r.choice(pool))
        return "{{printf %s %s}}" % (json.dumps(" ".join(fmt)), " ".join(args))

    def nested(self, depth=0, c=None):
        """A nested value of dicts and lists whose leaves are numbers, nil, strings and bools; c=0 makes a dict."""
        r = self.r
        c = r.random() if c is None else c
        if depth < 3 and c < 0.35:
            return "(dict %s)" % " ".join("%s %s" % (json.dumps(r.choice(KEYS + ["", "1", "yes", "a b", "é"])),
                                                      self.nested(depth + 1)) for _ in range(r.randint(0, 3)))
        if depth < 3 and c < 0.55:
            return "(list %s)" % " ".join(self.nested(depth + 1) for _ in range(r.randint(0, 3)))
        if c < 0.75:
            return r.choice(ENUMS + ["(int64 %s)" % r.choice(["9223372036854775807", "-1", "1e18", "0"]),
                                     '(float64 "%s")' % r.choice(["1e21", "-0", "1e-7", "123456789"])])
        return r.choice(["nil", "true", '"s"', '""', '"null"', '"1e3"', '"yes"', '"<&>"', '"a\\nb"', "(list)", "(dict)"])

    def json_nested(self):
        r = self.r
        v = self.nested()
        f = r.choice(["toJson", "toPrettyJson", "toRawJson", "toYaml", "mustToJson", "toString"])
        return r.choice(["{{%s %s}}" % (f, v), "{{%s | %s}}" % (v, f), "{{%s | toJson | fromJson | %s}}" % (v, f),
                         "{{%s | toYaml | fromYaml | %s}}" % (v, f), "{{dict \"k\" %s | %s}}" % (v, f),
                         "{{toYaml (dict \"a\" (dict \"b\" %s))}}" % v])

    def dict_nested(self):
        r = self.r
        a, b, c = (self.nested(1, 0 if r.random() < 0.9 else None) for _ in range(3))
        keys = " ".join(json.dumps(r.choice(KEYS)) for _ in range(r.randint(1, 3)))
        e = r.choice(["dig %s %s %s" % (keys, self.nested(2), a), "pluck %s %s %s" % (json.dumps(r.choice(KEYS)), a, b),
                      "merge %s %s %s" % (a, b, c), "mergeOverwrite %s %s %s" % (a, b, c), "mustMerge %s %s" % (a, b),
                      "deepCopy %s" % a, "merge (deepCopy %s) %s" % (a, b), "pick %s %s" % (a, keys),
                      "omit %s %s" % (a, keys), "get %s %s" % (a, json.dumps(r.choice(KEYS))),
                      "set %s %s %s" % (a, json.dumps(r.choice(KEYS)), b),
                      "keys %s | sortAlpha" % a, "dig %s \"d\" (dict %s %s)" % (keys, json.dumps(r.choice(KEYS)), a)])
        return r.choice(["{{%s | toJson}}", "{{%s}}", "{{%s | toYaml}}"]) % e

    def numbers(self):
        r = self.r
        n = lambda: r.choice(ENUMBERS)
        f = r.choice(["int", "int64", "float64", "toDecimal", "atoi", "add1", "add1f", "floor", "ceil", "toString",
                      "add %s" % n(), "sub %s" % n(), "mul %s" % n(), "div %s" % n(), "mod %s" % n(),
                      "max %s" % n(), "min %s" % n(), "addf %s" % n(), "subf %s" % n(), "mulf %s" % n(),
                      "divf %s" % n(), "maxf %s" % n(), "minf %s" % n(), "round %s" % r.choice(["0", "1", "2", "-1"]),
                      "biggest %s" % n(), "until", "seq", "seq 1", "untilStep 0 %s" % r.choice(["1", "-1", "3"]),
                      "printf \"%v %T\"", "toJson", "toYaml", "quote"])
        return r.choice(["{{%s %s}}" % (f, n()), "{{%s | %s}}" % (n(), f), "{{%s %s | printf \"%%v|%%T\"}}" % (f, n()),
                         "{{seq %s %s %s}}" % (r.choice(["5", "1", "-2", "0"]), r.choice(["-2", "1", "0", "2"]),
                                               r.choice(["1", "-1", "0", "3"]))])

    def strings_lists(self):
        r = self.r
        s = json.dumps(r.choice(ESTRS))
        k = r.choice(["-3", "-1", "0", "1", "2", "3", "5", "100"])
        e = r.choice(["trunc %s %s" % (k, s), "abbrev %s %s" % (k, s), "abbrevboth %s %s %s" % (k, k, s),
                      "substr %s %s %s" % (k, r.choice(["-1", "0", "2", "4", "100"]), s), "wrap %s %s" % (k, s),
                      "wrapWith %s \"|\" %s" % (k, s), "indent %s %s" % (k, s), "nindent %s %s" % (k, s),
                      "replace \"\" \"-\" %s" % s, "splitn \" \" %s %s" % (k, s), "split \"\" %s" % s,
                      "regexSplit \"\\\\s*\" %s %s" % (s, k), "title %s" % s, "untitle %s" % s,
                      "initials %s" % s, "swapcase %s" % s, "camelcase %s" % s, "snakecase %s" % s,
                      "kebabcase %s" % s, "shuffle \"\"", "plural \"one\" \"many\" %s" % k, "nospace %s" % s,
                      "trimAll \"-_ \" %s" % s, "quote %s nil (list 1) (dict)" % s, "squote nil 1.5 %s" % s,
                      "cat nil %s (list) 1e21" % s, "toStrings (list nil 1 1.5 true %s (list 1))" % s,
                      "join \",\" (list nil 1 %s 2.5 true)" % s, "sortAlpha (list 1 \"b\" %s 2.5 \"B\")" % s,
                      "b64dec %s" % s, "b32dec %s" % s, "b64enc %s | b64dec" % s, "slice (list 1 2 3) %s" % k,
                      "slice (list 1 2 3) 2 %s" % k, "index (list 1 2 3) %s" % k, "chunk %s (list 1 2 3 4 5)" % k,
                      "repeat %s %s" % (r.choice(["0", "2", "-1"]), s), "len %s" % s, "adler32sum %s" % s,
                      "ternary %s 1 (eq (len %s) 0)" % (s, s), "regexQuoteMeta %s" % s, "urlquery %s" % s,
                      "html %s" % s, "js %s" % s, "print %s nil 1 2 \"x\" \"y\" 3" % s, "println %s" % s])
        return r.choice(["{{%s}}", "{{%s | toJson}}", "{{printf \"%%q\" (%s)}}"]) % e


# Numbers whose conversions and arithmetic have edges: int64 bounds, float64 beyond them, NaN, strings Go's cast reads.
ENUMBERS = ["0", "1", "-1", "7", "-7", "2.5", "-2.5", "0.5", "-0.5", "1e21", "-1e21", "1e19", "(int64 9223372036854775807)",
            "(int64 -9223372036854775808)", "(float64 \"NaN\")", "(float64 \"Inf\")", "nil", "true", '"12"', '"-3.9"',
            '"0x1F"', '"1e3"', '" 4"', '"1_000"', '"0777"', '"abc"', '""', "(list 1)", "9007199254740993",
            "(float64 9223372036854775807)", "(int 2147483648)", "'a'", "(float64 1e-320)", "(div 9 4)", "(divf 9 4)"]
ESTRS = ["hello world", "", " ", "a", "Hello_World-foo bar", "ÄÖÜ äöü ß", "日本語テキスト", "😀 emoji x", "line1\nline2\r\nline3",
         "\tindented\n\n", "a  b   c", "--x__y--", "HTTPServerID", "x.y.z", "1 2 3", "aGVsbG8=", "aGVsbG8", "NBSWY3DP",
         "!!", "ǅungla ǈj", "İı", "ﬀ ligature", "a\u00adb", "<script>&'\"", "one,two,,three", "%s %d", "snake_Case"]


EDGE_SNIPPETS = [Edges.dates_go, Edges.durations, Edges.semver_pre, Edges.regex_refs, Edges.printf_types,
                 Edges.json_nested, Edges.dict_nested, Edges.numbers, Edges.strings_lists]


def generate(seed, i, grammar="base"):
    rng = random.Random("%s:%d" % (seed, i) if grammar == "base" else "%s:%s:%d" % (grammar, seed, i))
    g = {"base": Gen, "shapes": Shapes, "edges": Edges}[grammar](rng)
    return {"template": g.template(), "data": g.data, "sprig": True}


# ---------- running ----------
def build_kiln():
    """The path of the gotmpl test binary, built with cargo."""
    out = subprocess.run(["cargo", "test", "-p", "renderer", "--test", "gotmpl", "--no-run",
                          "--message-format=json"], cwd=RENDERER, capture_output=True, text=True)
    msgs = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0:
        sys.exit("fuzz.py: cargo failed\n" + "".join(m["message"].get("rendered") or "" for m in msgs
                                                     if m.get("reason") == "compiler-message"))
    for msg in msgs:
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "gotmpl" \
                and msg.get("executable"):
            return msg["executable"]
    sys.exit("fuzz.py: cargo built no gotmpl test binary")


def run_batch(command, jobs, timeout, env_files, stall, crash):
    """Answers of a batch program, one JSON line a job. A job after which no answer comes for
    timeout seconds is answered with stall, one that ends the program with crash; the program
    then runs again on the jobs after it. With env_files the program reads and writes the files
    named by the environment (kiln's batch test); else stdin and stdout (the oracle)."""
    answers = []
    while len(answers) < len(jobs):
        rest = jobs[len(answers):]
        with tempfile.TemporaryDirectory() as tmp:
            inp, outp = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
            with open(inp, "w") as f:
                f.write("".join(json.dumps(j, ensure_ascii=False) + "\n" for j in rest))
            env = dict(os.environ, KILN_GOTMPL_BATCH=inp, KILN_GOTMPL_BATCH_OUT=outp)
            with open(inp) as fin, open(outp, "w") as fout:
                p = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL if env_files else fin,
                                     stdout=subprocess.DEVNULL if env_files else fout,
                                     stderr=subprocess.DEVNULL)
                done, last, stalled = 0, time.time(), False
                while p.poll() is None:
                    time.sleep(0.05)
                    # bytes: the program may be mid-way through a character
                    with open(outp, "rb") as f:
                        n = f.read().count(b"\n")
                    if n != done:
                        done, last = n, time.time()
                    elif time.time() - last > timeout:
                        p.kill()
                        p.wait()
                        stalled = True
            with open(outp) as f:
                got = [json.loads(l) for l in f.read().split("\n")[:-1] if l.startswith("{")]
            answers += got[:len(rest)]
            if len(answers) < len(jobs):
                if not stalled and p.returncode == 0:
                    sys.exit("fuzz.py: %s gave %d answers for %d jobs" % (command[0], len(got), len(rest)))
                answers.append(stall if stalled else crash)
    return answers


def run_kiln(binary, jobs, timeout):
    return run_batch([binary, "--ignored", "--exact", "batch", "--test-threads=1"], jobs, timeout, True,
                     {"ok": False, "error": "HANG"}, {"ok": False, "error": "CRASH"})


def run_go(oracle, jobs, timeout=20.0):
    """Go's answers. The oracle can die (Go's fmt overflows the stack on a map that holds itself,
    which no recover catches) or run for ever (a value doubled in nested loops): such a job is
    not judged."""
    return run_batch([oracle, "--batch"], jobs, timeout, False,
                     {"ok": False, "error": "GO TIMEOUT"}, {"ok": False, "error": "GO CRASH"})


def location(err):
    rest = err[len("template: "):] if err.startswith("template: ") else err
    return rest.split(": ")[0]


NOT_JUDGED = "not judged: "


def newer(go, kiln):
    """Why a difference is one where kiln follows the Go and libraries of Helm 4 rather than the
    oracle's Go 1.19 and Debian's Sprig (see known-differences.txt), or None."""
    ge, ke = go.get("error", ""), kiln.get("error", "")
    if re.search(r"range can't iterate over -?\d+$", ge):
        return "range over an integer is Go 1.22"
    if "\ufffd" in go.get("output", "") + ge:
        return "kiln's strings are UTF-8, Go's are bytes"
    g, k = ge or go.get("output", ""), ke or kiln.get("output", "")
    if re.search(r"time zone offset (hour|minute|second) out of range", ke) and not ge:
        return "Go 1.20+ checks the range of a parsed zone offset"
    if re.search(r'T[0-9:.]+[+-](2[4-9]|[3-9]\d):\d\d"', g) and not ge:
        return "Go 1.20+'s Time.MarshalJSON refuses a zone offset of 24 hours"
    if "MarshalJSON for type *time.Time: " in ke and "MarshalJSON for type time.Time: Time.MarshalJSON: " in ge:
        return "Helm 4's JSON v2 words a MarshalJSON error its own way"
    if bool(ge) != bool(ke) or g == k:
        return None
    if re.sub(r"(incompatible types for comparison): .+? and .+?(?=\n|$)", r"\1", k) == g:
        return "Go 1.22 names the types of an incompatible comparison"
    if re.sub(r"into Go struct field \S* of type", "into Go value of type", k) == g or (
            "into Go struct field" in k and "into Go value of type" in g and go.get("ok") and kiln.get("ok")):
        # fromJson's map also keeps the field's zero value where Go 1.19 leaves null.
        return "Helm 4's Go names the field of a JSON type error"
    if re.search(r"invalid character ' ' in (numeric )?literal", g) and "unexpected end of JSON input" in k:
        return "Helm 4's JSON v2 says a cut literal ends the input"
    json19 = [(r"invalid character '(.+?)' in string escape code", r"invalid escape sequence `\\\1` in string"),
              (r"(invalid character '.+?') in string literal", r"\1 in string"),
              (r"(invalid character '.+?') in exponent of numeric literal", r"\1 in numeric literal")]
    if any(re.sub(a, b, g) == k for a, b in json19):
        return "Helm 4's JSON v2 words a bad string its own way"
    char = r"invalid character '(?:[^']|\\')+'"
    if re.sub(char, "C", g) == re.sub(char, "C", k):
        return "Helm 4's JSON v2 names the rune, Go 1.19 its first byte"
    return None


def classify(go, kiln):
    """None when equal, else a category."""
    if go.get("error", "") == "GO CRASH":
        return NOT_JUDGED + "the oracle crashes (a value that contains itself)"
    if go.get("error", "") == "GO TIMEOUT":
        return NOT_JUDGED + "the oracle runs for ever"
    if re.search(r"range can't iterate over -?\d+$", go.get("error", "")):
        return NOT_JUDGED + "range over an integer is Go 1.22"
    if kiln.get("error", "").startswith("PANIC"):
        return "kiln panics"
    if kiln.get("error", "") in ("HANG", "CRASH"):
        return "kiln hangs or crashes"
    if go["ok"] and kiln["ok"]:
        if go["output"] == kiln["output"]:
            return None
        why = newer(go, kiln)
        return NOT_JUDGED + why if why else "output differs"
    if not go["ok"] and not kiln["ok"] and go["error"] == kiln["error"]:
        return None
    why = newer(go, kiln)
    if why:
        return NOT_JUDGED + why
    if go["ok"]:
        return "kiln fails, Go renders"
    if kiln["ok"]:
        return "Go fails, kiln renders"
    if location(go["error"]) != location(kiln["error"]):
        return "error location differs"
    return "error message differs"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", default="1")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--oracle", default=os.environ.get("GO_TEMPLATE_ORACLE") or "/work/shared/oracles/go-template")
    ap.add_argument("--out", default="/tmp/gotmpl-fuzz")
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--grammar", choices=["base", "shapes", "edges"], default="base",
                    help="base: random pipelines and statements; shapes: the constructs listed at Shapes; "
                         "edges: Sprig calls with edge arguments (see Edges)")
    ap.add_argument("--kiln", help="a gotmpl test binary already built (default: build it with cargo)")
    a = ap.parse_args()
    if a.show:
        for i in range(a.start, a.start + a.show):
            j = generate(a.seed, i, a.grammar)
            print("=== %s:%d\n%s\n--- data\n%s" % (a.seed, i, j["template"], json.dumps(j["data"])))
        return
    binary = a.kiln or build_kiln()
    os.makedirs(a.out, exist_ok=True)
    diffs = open(os.path.join(a.out, "diffs.jsonl"), "w")
    counts, total, both_ok, both_err = {}, 0, 0, 0
    for b in range(a.start, a.start + a.count, a.batch):
        ids = list(range(b, min(b + a.batch, a.start + a.count)))
        jobs = [generate(a.seed, i, a.grammar) for i in ids]
        go = run_go(a.oracle, jobs, a.timeout)
        kiln = run_kiln(binary, jobs, a.timeout)
        for i, j, g, k in zip(ids, jobs, go, kiln):
            total += 1
            both_ok += g["ok"] and k["ok"]
            both_err += (not g["ok"]) and (not k["ok"])
            cat = classify(g, k)
            if cat:
                counts[cat] = counts.get(cat, 0) + 1
                diffs.write(json.dumps({"id": "%s:%d" % (a.seed, i), "category": cat, "template": j["template"],
                                        "data": j["data"], "go": g, "kiln": k}, ensure_ascii=False) + "\n")
        diffs.flush()
        print("%d templates, %d differ" % (total, sum(n for c, n in counts.items() if not c.startswith(NOT_JUDGED))),
              file=sys.stderr)
    ndiff = sum(n for c, n in counts.items() if not c.startswith(NOT_JUDGED))
    print("seed %s: %d templates (%d render in both, %d fail in both), %d differ (%.2f %%)"
          % (a.seed, total, both_ok, both_err, ndiff, 100.0 * ndiff / max(total, 1)))
    for cat, n in sorted(counts.items(), key=lambda x: -x[1]):
        print("  %6d  %s" % (n, cat))


if __name__ == "__main__":
    main()
