#!/usr/bin/env python3
"""Writes the data files of the Helm toYaml corpus (helm/*.json).

Each file is JSON data for `{{ toYaml . }}`. JSON keeps the data free of YAML
resolution questions (Helm reads values with YAML 1.1 rules, kiln with
yaml.v3's), so that only toYaml's output is under test. Run record_helm.sh
afterwards.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "helm")

STRINGS = [
    ["y", "n", "yes", "No", "on", "OFF", "true", "Null", "~", ""],
    ["1", "0755", "0x1F", "1_000", "1e3", ".5", "-1", "+1", "12:30", "190:20:30"],
    ["2001-12-14", "2001-1-4", "2001-12-14T21:59:43.10-05:00", "1e400", "<<", "0b102", "1.", "-", "---", "..."],
    ["a: b", "a #b", "#a", "- a", "? x", ":x", "x:", "'q'", "\"d\"", "a\\b"],
    [" lead", "trail ", " ", "a\tb", "\t", "a  b", "@x", "`x", "%x", "!x"],
    ["héllo", "日本語", "emoji 😀", "\u00a0", "\u2028", "a\u2029b", "\u0085", "a\u0085b", "\ufeffa", "\ue000"],
    ["\x00", "\x01", "\x1b", "a\rb", "\n", "a\n", "a\n\n", "\na", " \na", "a \nb"],
    ["line1\nline2\n", "trailing \n", "a\n b", "a\nb ", "\ta\nb", "#a\nb", "- a\nb", "a\n\n\nb", "a\r\n", "\ufeff\na"],
    [" ".join(["word"] * 40), "x" * 200, "#" + " ".join(["w"] * 50), "\x01" + " ".join(["w"] * 50),
     ("x" * 79) + " " + ("y" * 10), " ".join(["日本語"] * 40), "yes " * 30, "a\n" + " ".join(["w"] * 50)],
]

# NEL, LS, PS and the byte order mark where goyaml.v2 must choose a style,
# escape, fold or indent around them (NEL folds in the JSON round trip).
BREAKS = [
    ["x\u2028y", "x \u2028 y", "x\u2028\u2028y", "\u2028x", "x\u2028", "x\u2028\ny", "x\n\u2028y"],
    ["x\u2029y", "x \u2029 y", "\u2029\u2029", "x\u2029\n", "x\u0085y", "x \u0085 y", "x\u0085\u0085y"],
    ["\u0085x", "x\u0085", "x\ufeffy", "\ufeff", "x \ufeff", "\ufeff\u2028", "x\u00a0\u2028"],
    [" ".join(["word"] * 15) + " w\u2028x " + " ".join(["word"] * 6),
     " ".join(["word"] * 16) + " \u2029 " + " ".join(["word"] * 4),
     " ".join(["word"] * 15) + " w\u0085x " + " ".join(["word"] * 6),
     " ".join(["word"] * 15) + " w\ufeffx " + " ".join(["word"] * 6)],
]

NUMBERS = [0, -1, 42, 1.5, 1e-7, 123456789.123, 1e21, 1e20, -0.0, 1e308, 5e-324, 0.1, 1e6,
           1234567.0, 12345678.9, float(9007199254740993), 1.5e19, 3.14159265358979, 100000,
           float(2 ** 62)]  # Helm reads every number as float64: write big ones as floats

NESTED = [
    {"a": [[1, 2], [3, [4, []]], [[]], [{}], [None, None, ""]]},
    {"items": [{"name": "a", "list": [1, [2, 3], {"x": []}]}, {"b": {"c": [{"d": {}}]}}]},
    {"m": {}, "s": [], "mm": {"m": {}}, "ss": [[]], "sm": [{}], "n": None},
    {"deep": {"a": {"b": {"c": {"d": {"e": {"f": " ".join(["w"] * 40)}}}}}}},
    {"l": [{"a": 1, "b": 2}, {"c": {"d": 3}}, [{"e": 4}], [[{"f": 5}]]]},
    {"lit": {"a": [{"b": "x\ny\n"}, "p\nq", [" lead\nb"]]}},
    {"containers": [{"name": "c", "args": ["--x=1", "yes"], "env": [{"name": "E", "value": "1"}]}]},
]

KEYS = [
    ["a1", "a10", "a2", "a01", "A", "a", "B", "_a", "-a", ".a", "1", "10", "2", "01"],
    ["v1.10", "v1.9", "x-1", "x_1", "x.1", "x1", "x10", "x9", "x09", "é", "z", "~", "", " "],
    ["yes", "1", "a: b", "-", "key with space", "#k", "null", "k" * 128, "k" * 129, "é" * 70,
     "a\nb", "\u2028", "\ufeff a", "x" * 130 + " " + " ".join(["w"] * 30)],
]


def write(name, data):
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
        # The oracle reads the data as YAML, where raw line and paragraph
        # separators and NEL are line breaks: keep them escaped.
        text = json.dumps(data, ensure_ascii=False)
        for c in "\u2028\u2029\u0085\ufffe\uffff" + "".join(map(chr, range(0x7F, 0xA0))):
            text = text.replace(c, "\\u%04x" % ord(c))
        f.write(text + "\n")


def main():
    for f in os.listdir(OUT):
        if f.endswith(".json"):
            os.remove(os.path.join(OUT, f))
    for i, group in enumerate(STRINGS):
        for j in range(0, len(group), 3):
            write("str-%02d-%d" % (i, j // 3), {"k%d" % n: s for n, s in enumerate(group[j : j + 3])})
    for i, group in enumerate(BREAKS):
        write("brk-%02d" % i, {"k%d" % n: x for n, x in enumerate(group)})
        write("brk-keys-%02d" % i, {("k" + x if len(x) < 100 else "k%d" % n): [x] for n, x in enumerate(group)})
    for i in range(0, len(NUMBERS), 4):
        write("num-%02d" % (i // 4), {"v%d" % n: x for n, x in enumerate(NUMBERS[i : i + 4])})
    write("num-list", {"list": NUMBERS})
    for i, d in enumerate(NESTED):
        write("nest-%02d" % i, d)
    for i, ks in enumerate(KEYS):
        write("keys-%02d" % i, {k: "v" for k in ks})
        write("keysnest-%02d" % i, {"m": {k: [k] for k in ks[:7]}})
    write("empty", {})
    # Values the JSON round trip refuses: toYaml swallows the error.
    for i, d in enumerate([{"k": "a\x7fb"}, {"k": ["\x9f"]}, {"a\x85b": 1}, {"k": "\uffff"}]):
        write("reject-%02d" % i, d)
    # Documents that are not maps.
    top = ["a\nb", "x y z", 5, None, [], [[1, "a"], {"k": "v"}], "yes", " lead\ntext", 1.5,
           " ".join(["ab", "cd", "ef"] * 12), "", ["x" * 90 + " y", "a\n"], "#x", "\u2028x"]
    for i, d in enumerate(top):
        write("top-%02d" % i, d)


main()
