#!/usr/bin/env python3
"""Random differential test of YAML and JSON as Helm reads and writes it: kiln against real Helm (helm-template oracle).

Not run by CI. It generates random, seeded YAML texts (and JSON texts) and feeds
each through the ways Helm reads and writes YAML, each as its own chart in a
temporary directory, rendered by the oracle (batch mode, the real Helm v4
library) and by kiln's binary; the outputs are compared as bytes, and the
error texts when both fail. The paths (--paths, default all):

  values    the text is the chart's values.yaml (or, half the time, an -f
            file): sigs.k8s.io/yaml, YAML -> JSON -> Go values. A ConfigMap
            prints `toYaml`, `toYamlPretty`, `toJson`, `toPrettyJson`,
            `toRawJson` and `toToml` of .Values, each base64-encoded (so that
            any output makes a valid object; the diff decodes them).
  files     the text is a chart file x.yaml read with `.Files.Get`: `fromYaml`
            and `fromYamlArray` of it, each printed with `toYaml` and `toJson`.
  json      a random JSON text (now and then broken) as a chart file:
            `fromJson` and `fromJsonArray`, printed with `toJson` and
            `toYaml`; the same text also as `fromYaml` (JSON is YAML).
  rendered  the text is a template's own text, which Helm splits on `---`,
            parses for kind and hook annotations and prints as written.
            Every document carries `helm.sh/hook: test`, so the oracle (which
            installs) never builds it as a typed object.

The generator makes nested block and flow maps and lists with every scalar
shape: YAML 1.1 booleans (yes/no/on/off/y/n), octal 0o17 and 017, hex and
binary, .inf/.nan, integers beyond int64 and floats beyond float64, 1e3,
1_000, timestamps, sexagesimal numbers, ~ and empty values, single and double
quoted scalars with escapes, multi-line plain and quoted scalars, block
scalars with indentation indicators and chomping, long strings, unicode and
control characters; quoted keys, non-string keys (ints, bools, null, floats),
duplicate keys, anchors, aliases and merge keys `<<`, comments, document
markers and directives, CRLF line ends and a byte-order mark. A small share of
choices is deliberately broken (bad indentation, unknown alias, tab indent) so
that error texts are compared too.

An -f file that opens with a `---` line is split by the oracle itself, which
drops that line (Helm keeps it in the first document and counts it in error
lines): error texts that differ only in their line numbers there are counted
as skipped.

Input i of seed S is the same on every machine: it uses only
random.Random(f"{S}:{path}:{i}").

Usage:
    renderer/tests/helm/fuzz_yaml.py [--seed S] [--count N] [--start I] [--batch B]
        [--paths values,files,json,rendered] [--kiln PATH] [--before PATH]
        [--oracle PATH] [--out DIR] [--show N] [--print I]
--kiln defaults to target/debug/kiln of this worktree (build it first);
--before judges another build on the same oracle answers (before/after).
Differences go to DIR/diffs.jsonl (default /tmp/helm-yaml-fuzz) with the
input and both answers; --show N prints N diffs; --print I prints input I of
each path and exits. Prints a summary by path and category.
"""
import argparse, base64, difflib, json, os, random, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PATHS = ["values", "files", "json", "rendered"]

PLAIN = [
    # YAML 1.1 and 1.2 booleans and nulls
    "yes", "no", "on", "off", "y", "n", "Y", "N", "Yes", "NO", "On", "OFF", "true", "false", "True", "FALSE",
    "null", "Null", "NULL", "~",
    # integers
    "0", "1", "-1", "+1", "007", "017", "0o17", "0O17", "0x1F", "0X1f", "0b101", "-0x10", "+0o7", "0o", "0x",
    "08", "1_000", "0x_1F", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
    # floats
    "1.5", "-0.0", "0.0", "3.", ".5", "-.5", "1e3", "1E3", "1e+3", "1.5e-3", "1e400", "-1e400", "1e-400",
    "2.5e308", ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "1_000.5", "1,000",
    "6.02e23", "100000000000000000000", "1e21", "1e20", "123456789.0", "0.000001", "0.0000001",
    "1.7976931348623157e308", "5e-324", "1.0e+6",
    # sexagesimal and times
    "1:20", "190:20:30", "12:30:45", "1:30.5", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5", "2002-12-14T10:00:00Z", "2002-1-4", "2002-12-14 10:00:00",
    # strings that look like something
    "abc", "a b c", "foo.bar", "-dash", "a-b_c", "x:y", "a:b:c", "http://x.io/a?b=c", "a#b", "1.2.3",
    "v1.2", "=", "<<", "0.1.0", "1e", "e3", "0x1G", ".", "..", "-", "?x", "%x", "@x", "`x", "é", "日本語",
    "😀", "ÄÖü straße", "tab\there", "with 'quotes'", 'a "dq"', "a\\b",
]
WORDS = ["a", "b", "c", "key", "name", "x", "y", "n", "on", "yes", "true", "null", "1", "0x1", "1.5", "~",
         "Key", "with space", "é", "<<", "-", "a.b", "a:b"]
LONG = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
        "labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco")
DQ_ESCAPES = ["\\n", "\\t", "\\\\", "\\\"", "\\0", "\\a", "\\b", "\\e", "\\f", "\\r", "\\v", "\\/", "\\ ",
              "\\N", "\\_", "\\L", "\\P", "\\x41", "\\x7f", "\\x85", "\\u00e9", "\\u2028", "\\U0001F600",
              "\\ud800", "\\U0010FFFE", "\\xc3"]
ODD_CHARS = ["\u00e9", "\u65e5", "\U0001F600", "\u0085", "\u2028", "\u00a0", "\ufeff", "\u200b", "\x7f",
             "\x01", "\x1b", "\u0080", "\ufffd", "\ufffe", "\ue000"]


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.anchors = []
        self.serial = 0

    def chance(self, p):
        return self.r.random() < p

    # ---------- scalars ----------
    def word(self):
        r = self.r
        w = r.choice(PLAIN)
        if self.chance(0.05):
            w += r.choice(ODD_CHARS)
        return w

    def text(self, n=None):
        r = self.r
        n = n if n is not None else r.randint(0, 4)
        parts = [r.choice(WORDS + ["lorem", "ipsum", "x y", " ", "#c", ": v", "- i", "'", '"'] + ODD_CHARS[:6])
                 for _ in range(n)]
        return r.choice([" ", "", "  "]).join(parts)

    def single_quoted(self):
        s = self.r.choice([self.word(), self.text(), "it's", "", " lead", "trail ", LONG[:self.r.randint(0, 170)]])
        return "'" + s.replace("'", "''") + "'"

    def double_quoted(self):
        r = self.r
        out = ""
        for _ in range(r.randint(0, 4)):
            c = r.random()
            if c < 0.35:
                out += r.choice(DQ_ESCAPES)
            elif c < 0.45:
                out += r.choice(ODD_CHARS)
            else:
                out += self.r.choice([self.word(), self.text(2), LONG[:r.randint(0, 120)]]) \
                    .replace("\\", "\\\\").replace('"', '\\"')
        return '"' + out + '"'

    def block_scalar(self, indent):
        """A block scalar's header and lines, for a value at indent (the lines are deeper)."""
        r = self.r
        style = r.choice("|>")
        chomp = r.choice(["", "", "-", "+"])
        ind = r.choice(["", "", "", "1", "2", "4"])
        head = style + (ind + chomp if self.chance(0.5) else chomp + ind)
        step = int(ind) if ind else r.choice([2, 2, 1, 4])
        pad = " " * (indent + step)
        lines = []
        for _ in range(r.randint(0, 5)):
            c = r.random()
            if c < 0.15:
                lines.append("")
            elif c < 0.25:
                lines.append(pad + "  " + self.text(2))  # more indented
            elif c < 0.3:
                lines.append(pad + self.text(2) + "  ")  # trailing spaces
            elif c < 0.33:
                lines.append(pad + "\t" + self.text(1))
            elif c < 0.4:
                lines.append(pad + LONG[:r.randint(60, 170)])
            else:
                lines.append(pad + (self.word() if self.chance(0.5) else self.text()))
        if self.chance(0.3):
            lines += [""] * r.randint(1, 2)
        if self.chance(0.1) and lines and ind:
            lines[0] = " " * (indent + int(ind) + 1) + lines[0].lstrip()  # leading more-indented line
        head += r.choice(["", "", " # c"])
        return head, lines

    def plain_multiline(self, indent):
        """A plain scalar that goes on over more lines."""
        r = self.r
        first = r.choice(["multi", "a b", "x", LONG[:40]])
        lines = [" " * (indent + r.choice([1, 2, 3])) + r.choice(["more", "words here", "", "x: y", "- z", "# no"])
                 for _ in range(r.randint(1, 3))]
        if lines[-1].strip() == "":
            lines[-1] += "end"
        return first, lines

    def quoted_multiline(self, indent):
        r = self.r
        q = r.choice("'\"")
        lines = [" " * (indent + r.choice([0, 1, 2])) + r.choice(["more", "", "x \\", "  spaced", "a\\tb"])
                 for _ in range(r.randint(1, 3))]
        if q == "'":
            lines = [l.replace("\\", "") for l in lines]
        return q + r.choice(["first", "", "a b "]), lines, q

    def scalar_inline(self):
        """A scalar that fits on the line of its key or dash."""
        r = self.r
        c = r.random()
        if c < 0.5:
            return self.word()
        if c < 0.62:
            return self.single_quoted()
        if c < 0.8:
            return self.double_quoted()
        if c < 0.85:
            return LONG[:r.randint(50, 170)]
        if c < 0.9:
            return r.choice(["!!str 1", "!!int \"3\"", "!!float 1", "!!bool yes", "!!null ''", "!!binary aGk=",
                             "!!str", "!!map {}", "!!seq []", "!custom x", "!!timestamp 2001-12-14", "!!int 0x1F",
                             "!!float .inf", "!!str yes"])
        if c < 0.95 and self.anchors:
            return "*" + r.choice(self.anchors) + ("" if self.chance(0.95) else "x")
        return ""

    # ---------- collections ----------
    def key(self):
        r = self.r
        c = r.random()
        if c < 0.55:
            return r.choice(["a", "b", "c", "key", "name", "x", "Y", "n", "on", "yes", "no", "true", "null", "~",
                             "1", "2", "-1", "0x1F", "017", "0o17", "1.5", "1e3", ".inf", ".nan", "2001-12-14",
                             "1:20", "é", "日本", "with space", "a.b", "a/b", "k-1", "_", "9223372036854775808"])
        if c < 0.7:
            return self.single_quoted() if self.chance(0.5) else self.double_quoted()
        if c < 0.75:
            return r.choice(["''", '""', "? k", "[1, 2]", "{a: 1}", "!!str 1", "!!int \"7\"", "!!null ''"])
        if c < 0.8:
            return "<<"
        return r.choice(["a", "b", "c", "d", "e", "f", "g"])

    def flow(self, depth):
        r = self.r
        if depth <= 0 or self.chance(0.4):
            v = r.choice([self.word(), self.single_quoted(), self.double_quoted(), "", "[]", "{}"])
            if "," in v or "[" in v or "]" in v or "{" in v or "}" in v and not v.startswith(("'", '"')):
                v = "'" + v.replace("'", "''") + "'"
            if v.startswith(("#", "? ", "- ")) or v in ("-", "?"):
                v = "'" + v + "'"
            return v
        if self.chance(0.5):
            items = [self.flow(depth - 1) for _ in range(r.randint(0, 4))]
            sep = r.choice([", ", ",", " , ", ",\n  "])
            return "[" + sep.join(items) + (r.choice(["", ",", ""]) if items else "") + "]"
        items, keys = [], []
        for _ in range(r.randint(0, 4)):
            k = self.key()
            for _ in range(5):
                if k not in keys:
                    break
                k = self.key()
            keys.append(k)
            if k in ("? k", "[1, 2]", "{a: 1}") or k.startswith("!!"):
                k = "k"
            items.append(k + ":" + r.choice([" ", " ", ""]) + self.flow(depth - 1) if self.chance(0.9) else k)
        return "{" + ", ".join(items) + "}"

    def anchor(self):
        if self.chance(0.1):
            self.serial += 1
            name = "a%d" % self.serial
            self.anchors.append(name)
            return "&" + name + " "
        return ""

    def value_lines(self, indent, depth, after_dash=False):
        """(text on the line of the key/dash, following lines) for a value at indent."""
        r = self.r
        c = r.random()
        if depth > 0 and c < 0.35:
            lines = self.block_map(indent + 2, depth - 1) if self.chance(0.6) else \
                self.block_seq(indent + r.choice([0, 2]) if not after_dash else indent + 2, depth - 1)
            if not lines:
                return r.choice(["{}", "[]", ""]), []
            return self.anchor().strip(), lines
        if c < 0.45:
            return self.anchor() + self.flow(depth + 1), []
        if c < 0.55:
            head, lines = self.block_scalar(indent)
            return self.anchor() + head, lines
        if c < 0.6:
            first, lines = self.plain_multiline(indent)
            return first, lines
        if c < 0.64:
            first, lines, q = self.quoted_multiline(indent)
            if self.chance(0.95):
                lines[-1] += q
            return first, lines
        v = self.scalar_inline()
        if v.startswith("*"):
            return v, []
        return self.anchor() + v, []

    def comment(self):
        return r" # " + self.r.choice(["c", "a: b", "- x", "é", ""]) if self.chance(0.1) else ""

    def block_map(self, indent, depth):
        r = self.r
        pad = " " * indent
        out = []
        keys = []
        for _ in range(r.randint(0, 5)):
            k = self.key()
            for _ in range(5):
                if k not in keys or k == "<<":
                    break
                k = self.key()
            if self.chance(0.04) and keys:
                k = r.choice(keys)  # a duplicate
            keys.append(k)
            if k == "<<":
                if self.anchors and self.chance(0.8):
                    v = "*" + r.choice(self.anchors) if self.chance(0.7) else \
                        "[" + ", ".join("*" + a for a in r.sample(self.anchors, min(len(self.anchors), 2))) + "]"
                    out.append(pad + "<<: " + v)
                    continue
            if k == "? k":
                out.append(pad + "? " + self.word())
                out.append(pad + ": " + self.word())
                continue
            head, lines = self.value_lines(indent, depth)
            sep = ":" if head == "" and not lines or self.chance(0.98) else ": "
            out.append(pad + k + (sep + " " + head if head else ":") + (self.comment() if not lines or not head.startswith(("|", ">")) else ""))
            out.extend(lines)
            if self.chance(0.05):
                out.append(pad + "#" + self.text(2))
            if self.chance(0.03):
                out.append("")
        return out

    def block_seq(self, indent, depth):
        r = self.r
        pad = " " * indent
        out = []
        for _ in range(r.randint(0, 4)):
            head, lines = self.value_lines(indent, depth, after_dash=True)
            if lines and head == "" and lines[0].startswith(" " * (indent + 2)) and not lines[0].lstrip().startswith(("- ", "#")) and self.chance(0.5):
                # A compact map: its first key on the dash's line.
                out.append(pad + "- " + lines[0].lstrip())
                out.extend(lines[1:])
                continue
            out.append(pad + "-" + (" " + head if head else "") + self.comment())
            out.extend(lines)
        return out

    # ---------- documents ----------
    def document(self, top="map", depth=3):
        self.anchors = []
        if top == "map":
            lines = self.block_map(0, depth)
        elif top == "seq":
            lines = self.block_seq(0, depth)
        elif top == "flow":
            lines = [self.flow(depth)]
        else:
            lines = [self.scalar_inline()]
        return lines

    def breakage(self, lines):
        """Now and then a deliberate error."""
        r = self.r
        if not lines or not self.chance(0.06):
            return lines
        i = r.randrange(len(lines))
        c = r.random()
        if c < 0.3:
            lines[i] = " " + lines[i]
        elif c < 0.5:
            lines[i] = "\t" + lines[i].lstrip(" ")
        elif c < 0.6:
            lines[i] += " *nosuch"
        elif c < 0.7:
            lines.insert(i, "key: [unclosed")
        elif c < 0.8:
            lines[i] += " :"
        elif c < 0.9:
            lines[i] += "\x01"
        else:
            lines.insert(i, "- item")
        return lines

    def wrap(self, lines, allow_docs=True):
        """The whole text: directives, markers, line ends, BOM."""
        r = self.r
        text = "\n".join(lines)
        if lines:
            text += "\n" if self.chance(0.9) else ""
        if allow_docs:
            c = r.random()
            if c < 0.1:
                text = "---\n" + text
            elif c < 0.13:
                text = "--- " + text if text and not text.startswith((" ", "-", "?")) else "---\n" + text
            elif c < 0.15:
                text = "%YAML 1.1\n---\n" + text
            elif c < 0.16:
                text = "%YAML 1.2\n---\n" + text
            if self.chance(0.05):
                text += "...\n"
            if self.chance(0.06):
                text += "---\n" + "\n".join(self.document("map", 1)) + "\n"
        if self.chance(0.05):
            text = "# leading comment\n" + text
        if self.chance(0.03):
            text = text.replace("\n", "\r\n")
        if self.chance(0.02):
            text = "\ufeff" + text
        if self.chance(0.02):
            text = ""
        return text

    def yaml_text(self, tops=("map", "map", "map", "map", "seq", "flow", "scalar")):
        top = self.r.choice(tops)
        return self.wrap(self.breakage(self.document(top, self.r.choice([1, 2, 3, 4]))))

    # ---------- JSON ----------
    def json_value(self, depth):
        r = self.r
        c = r.random()
        if depth > 0 and c < 0.4:
            if self.chance(0.5):
                return "[" + r.choice([",", ", ", " ,\n "]).join(self.json_value(depth - 1) for _ in range(r.randint(0, 4))) + "]"
            items = []
            for _ in range(r.randint(0, 4)):
                k = r.choice(["a", "b", "a", "", "é", "\\u00e9", "1", "x y", "<&>", "\\n", "A", "true"])
                items.append('"' + k + '"' + r.choice([":", ": ", " : "]) + self.json_value(depth - 1))
            return "{" + ", ".join(items) + "}"
        return r.choice(["0", "1", "-1", "1.5", "1e3", "1E+3", "-0", "0.0", "1.0", "100000000000000000000", "1e21",
                         "1e20", "9007199254740993", "9223372036854775807", "9223372036854775808",
                         "123456789012345678901234567890", "1e400", "5e-324", "1e-400", "0.1", "1.25e-7",
                         "true", "false", "null", '""', '"s"', '"yes"', '"\\u00e9\\ud83d\\ude00"', '"\\ud800"',
                         '"<a&b>"', '"\\u2028"', '"\\/"', '"tab\\t"', '"é"', '"\\u0000"', '"1e3"', '"~"',
                         '"' + LONG[:r.randint(0, 150)] + '"', '"\x7f"', '"\u0085"'])

    def json_text(self):
        r = self.r
        top = r.choice(["obj", "obj", "obj", "arr", "scalar"])
        if top == "obj":
            v = self.json_value(3)
            while not v.startswith("{"):
                v = self.json_value(3)
        elif top == "arr":
            v = self.json_value(3)
            while not v.startswith("["):
                v = self.json_value(3)
        else:
            v = self.json_value(0)
        if self.chance(0.08):
            i = r.randrange(len(v) + 1)
            v = v[:i] + r.choice(["", ",", "}", "x", "'", "\\", " 1"]) + v[i + r.randint(0, 2):]
        if self.chance(0.1):
            v = r.choice([" ", "\n", "\t"]) + v + r.choice(["", "\n", " ", " x", "{}"])
        return v

    # ---------- rendered documents ----------
    def rendered_text(self):
        """A template whose text is one or more documents, each a test hook."""
        r = self.r
        docs = []
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            self.anchors = []
            lines = self.block_map(0, r.choice([1, 2, 3]))
            meta = r.choice(["metadata:\n  annotations:\n    helm.sh/hook: test",
                             "metadata: {annotations: {helm.sh/hook: test}, name: " + self.word() + "}",
                             "metadata:\n  name: " + self.scalar_inline() + "\n  annotations:\n    \"helm.sh/hook\": 'test'",
                             "kind: " + r.choice(["Pod", "x", "''", "[]", "~", "yes"]) +
                             "\nmetadata:\n  annotations:\n    helm.sh/hook: test"])
            at = r.randint(0, len(lines))
            # Keep the block maps at indent 0 whole: insert between top-level keys only.
            while at < len(lines) and lines[at].startswith((" ", "#")) or (at and at < len(lines) and lines[at] == ""):
                at += 1
            lines[at:at] = meta.split("\n")
            lines = self.breakage(lines)
            body = "\n".join(lines) + "\n"
            if self.chance(0.1):
                body = "# comment first\n" + body
            docs.append(body)
        sep = r.choice(["---\n", "---\n", "--- \n", "\n---\n", "---\n# c\n", "--- # c\n"])
        text = sep.join(docs)
        if self.chance(0.1):
            text = "---\n" + text
        if self.chance(0.05):
            text += "---\n"
        if self.chance(0.03):
            text = text.replace("\n", "\r\n")
        return text


def generate(seed, i, path):
    g = Gen(random.Random("%s:%s:%d" % (seed, path, i)))
    if path == "values":
        return {"text": g.yaml_text(), "as_file": g.chance(0.5)}
    if path == "files":
        return {"text": g.yaml_text(("map", "map", "seq", "seq", "flow", "scalar"))}
    if path == "json":
        return {"text": g.json_text()}
    return {"text": g.rendered_text()}


# ---------- charts ----------
def cm(name, fields):
    out = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n" % name
    for k, expr in fields:
        out += "  %s: {{ %s | b64enc }}\n" % (k, expr)
    return out


VALUES_FIELDS = [("toYaml", "toYaml .Values"), ("toYamlPretty", "toYamlPretty .Values"),
                 ("toJson", "toJson .Values"), ("toPrettyJson", "toPrettyJson .Values"),
                 ("toRawJson", "toRawJson .Values"), ("toToml", "toToml .Values")]
FILES_FIELDS = [("fromYaml", "fromYaml (.Files.Get \"x.yaml\") | toYaml"),
                ("fromYamlJson", "fromYaml (.Files.Get \"x.yaml\") | toJson"),
                ("fromYamlArray", "fromYamlArray (.Files.Get \"x.yaml\") | toYaml"),
                ("fromYamlArrayJson", "fromYamlArray (.Files.Get \"x.yaml\") | toJson")]
JSON_FIELDS = [("fromJson", "fromJson (.Files.Get \"x.yaml\") | toJson"),
               ("fromJsonYaml", "fromJson (.Files.Get \"x.yaml\") | toYaml"),
               ("fromJsonArray", "fromJsonArray (.Files.Get \"x.yaml\") | toJson"),
               ("fromJsonArrayYaml", "fromJsonArray (.Files.Get \"x.yaml\") | toYaml"),
               ("fromYaml", "fromYaml (.Files.Get \"x.yaml\") | toJson")]


def write_chart(root, path, inp):
    """The chart directory and the -f files for one input."""
    chart = os.path.join(root, "c")
    os.makedirs(os.path.join(chart, "templates"))
    with open(os.path.join(chart, "Chart.yaml"), "w") as f:
        f.write("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    files = []
    data = inp["text"].encode("utf-8", "surrogatepass")
    if path == "values":
        if inp["as_file"]:
            files.append(os.path.join(root, "user.yaml"))
            open(files[0], "wb").write(data)
        else:
            open(os.path.join(chart, "values.yaml"), "wb").write(data)
        tpl = cm("v", VALUES_FIELDS)
    elif path in ("files", "json"):
        open(os.path.join(chart, "x.yaml"), "wb").write(data)
        tpl = cm("f", FILES_FIELDS if path == "files" else JSON_FIELDS)
    else:
        tpl = None
        open(os.path.join(chart, "templates", "doc.yaml"), "wb").write(data)
    if tpl:
        with open(os.path.join(chart, "templates", "cm.yaml"), "w") as f:
            f.write(tpl)
    return chart, files


def decode(out):
    """The output with its base64 fields decoded, for diffs."""
    def dec(m):
        try:
            return m.group(1) + ": |-\n    " + base64.b64decode(m.group(2)).decode("utf-8", "replace") \
                .replace("\n", "\n    ")
        except Exception:
            return m.group(0)
    return re.sub(r"(?m)^  (\w+): ([A-Za-z0-9+/=]+)$", dec, out)


def first_line(err):
    """An error text without the `Error: ` prefix and the --debug hint."""
    return err.strip().removeprefix("Error: ").replace("\nUse --debug flag to render out invalid YAML", "").strip()


def oracle_split_line(inp, want_error, got_error):
    """Whether two error texts differ only in their line numbers, for an -f file that opens with a `---`
    line: the oracle splits -f files into documents itself and drops that line, where Helm's YAMLReader
    keeps a separator that opens a document in it (so Helm counts it, as kiln does)."""
    first = inp["text"].split("\n", 1)[0]
    if not inp.get("as_file") or not first.startswith("---") or first[3:].strip()[:1] not in ("", "#"):
        return False
    unlined = lambda e: re.sub(r"line \d+: ", "", e)
    return unlined(want_error) == unlined(got_error)


def unsigned_zeros(text):
    """The text with its negative zeros (-0, -0.0) written without the sign. The oracle reads -f files
    with Helm's YAML code but hands the values to Helm as JSON through Python, whose json reads -0 as the
    integer 0; real Helm keeps the float -0 that sigs.k8s.io/yaml reads."""
    return re.sub(r"(?<![\w.])-(0(?:\.0)?)(?![\w.])", r"\1", text)


def classify(want, got, inp=None):
    if want.get("limitation"):
        return "skipped (oracle limitation)"
    if want.get("crashed"):
        return "skipped (oracle crashed)"
    if got["code"] not in (0, 1):
        return "kiln crashed (exit %d)" % got["code"]
    if want["ok"] and got["code"] == 0:
        if got["out"] == want["output"]:
            return None
        if inp and inp.get("as_file") and unsigned_zeros(decode(got["out"])) == decode(want["output"]):
            return "skipped (oracle reads -f files through Python's JSON: -0 loses its sign)"
        return "output differs"
    if want["ok"]:
        return "kiln fails, helm renders"
    if got["code"] == 0:
        return "kiln renders, helm fails"
    w, g = first_line(want["error"]), first_line(got["err"])
    if w != g and inp and oracle_split_line(inp, w, g):
        return "skipped (oracle drops an -f file's first ---)"
    return None if w == g else "error text differs"


def run_kiln(binary, chart, files):
    cmd = [binary, "helm", "template", "rel", chart, "-n", "ns1", "--kube-version", "1.31.0"]
    for f in files:
        cmd += ["-f", f]
    res = subprocess.run(cmd, capture_output=True)
    return {"code": res.returncode, "out": res.stdout.decode("utf-8", "surrogateescape"),
            "err": res.stderr.decode("utf-8", "surrogateescape")}


def run_oracle(oracle, jobs):
    answers = []
    while len(answers) < len(jobs):
        rest = jobs[len(answers):]
        res = subprocess.run([oracle, "--batch"], input="\n".join(rest) + "\n", capture_output=True, text=True)
        got = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
        answers += got
        if len(got) < len(rest):
            answers.append({"crashed": True, "ok": False, "error": res.stderr[-2000:]})
    return answers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", default="1")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--kiln", default=os.path.join(ROOT, "target", "debug", "kiln"))
    ap.add_argument("--before", default="", help="another kiln binary (an older build) judged on the same "
                    "oracle answers, for before/after figures")
    ap.add_argument("--oracle", default="/work/shared/oracles/helm-template")
    ap.add_argument("--out", default="/tmp/helm-yaml-fuzz")
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--print", type=int, default=-1, dest="print_i")
    a = ap.parse_args()
    paths = a.paths.split(",")
    if a.print_i >= 0:
        for p in paths:
            print("=== %s %s:%d\n%s" % (p, a.seed, a.print_i, generate(a.seed, a.print_i, p)["text"]))
        return
    os.makedirs(a.out, exist_ok=True)
    diffs = open(os.path.join(a.out, "diffs.jsonl"), "w")
    counts, before, shown = {}, {}, 0
    for b in range(a.start, a.start + a.count, a.batch):
        ids = range(b, min(b + a.batch, a.start + a.count))
        work = tempfile.mkdtemp(prefix="kiln-fuzz-yaml-")
        todo, jobs = [], []
        for p in paths:
            for i in ids:
                inp = generate(a.seed, i, p)
                root = os.path.join(work, "%s-%d" % (p, i))
                chart, files = write_chart(root, p, inp)
                todo.append((p, i, inp, chart, files))
                jobs.append(json.dumps({"release": "rel", "chart": chart, "namespace": "ns1", "values": files,
                                        "set_json": [], "kube_version": "1.31.0", "api_versions": [],
                                        "skip_tests": False, "show_only": []}))
        answers = run_oracle(a.oracle, jobs)
        for (p, i, inp, chart, files), want in zip(todo, answers):
            got = run_kiln(a.kiln, chart, files)
            cat = classify(want, got, inp)
            if a.before:
                old = classify(want, run_kiln(a.before, chart, files), inp)
                before[(p, old or "equal")] = before.get((p, old or "equal"), 0) + 1
            key = (p, cat or "equal")
            counts[key] = counts.get(key, 0) + 1
            if cat and not cat.startswith("skipped"):
                diffs.write(json.dumps({"path": p, "id": "%s:%d" % (a.seed, i), "category": cat, "input": inp,
                                        "helm": want, "kiln": got}, ensure_ascii=False) + "\n")
                diffs.flush()
                if shown < a.show:
                    shown += 1
                    print("=== %s %s:%d %s\n%s" % (p, a.seed, i, cat, inp["text"]))
                    wt = decode(want["output"]) if want["ok"] else want["error"]
                    gt = decode(got["out"]) if got["code"] == 0 else got["err"]
                    sys.stdout.writelines(list(difflib.unified_diff(wt.splitlines(True), gt.splitlines(True),
                                                                    "helm", "kiln", n=2))[:40])
        shutil.rmtree(work)
        print("%d inputs done" % (len(todo) and (ids[-1] + 1 - a.start)), file=sys.stderr)
    for name, table in ([("before", before)] if a.before else []) + [("kiln", counts)]:
        for p in paths:
            row = {c: n for (q, c), n in table.items() if q == p}
            print("%-6s %-9s %5d inputs: %s" % (name, p, sum(row.values()), json.dumps(row, sort_keys=True)))


if __name__ == "__main__":
    main()
