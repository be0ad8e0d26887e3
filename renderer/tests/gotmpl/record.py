#!/usr/bin/env python3
"""Records the expected output of every gotmpl case from Go's text/template (the go-template oracle).

Usage: renderer/tests/gotmpl/record.py [ORACLE [FILE.txt...]]
  ORACLE defaults to /work/shared/oracles/go-template, or $GO_TEMPLATE_ORACLE ("" for the default);
  the FILEs named (e.g. sprig-go-types.txt) are recorded, all case files when none is named.

Case files are renderer/tests/gotmpl/cases/*.txt. Each case starts with a line `=== NAME`,
followed by the template text; an optional `--- data` line starts the JSON data. The newline
before `--- data` or the next `===` is not part of the template. Files whose name starts with
`sprig-` run with the Sprig functions, `helm-` with Sprig and Helm's (the oracle has
Helm's toYaml, fromYaml, toJson and fromJson), the others with Go's built-ins only.
The answers go to cases/NAME.expected.json: {case: {"ok": bool, "output": str, "error": str}}.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")


def read_cases(path):
    cases, name, part, lines = [], None, None, {"template": [], "data": []}
    def flush():
        if name is not None:
            data = "\n".join(lines["data"]).strip()
            cases.append({"name": name, "template": "\n".join(lines["template"]),
                          "data": json.loads(data) if data else None})
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith("=== "):
                flush()
                name, part, lines = line[4:].strip(), "template", {"template": [], "data": []}
            elif line == "--- data" and name is not None:
                part = "data"
            elif name is not None:
                lines[part].append(line)
    flush()
    return cases


def main():
    oracle = (sys.argv[1] if len(sys.argv) > 1 else "") or os.environ.get(
        "GO_TEMPLATE_ORACLE", "/work/shared/oracles/go-template")
    only = set(sys.argv[2:])
    for file in sorted(os.listdir(CASES)):
        if not file.endswith(".txt") or (only and file not in only):
            continue
        cases = read_cases(os.path.join(CASES, file))
        names = [c["name"] for c in cases]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            sys.exit(f"{file}: duplicate case names {sorted(dup)}")
        sprig = file.startswith(("sprig-", "helm-"))
        jobs = "".join(json.dumps({"template": c["template"], "data": c["data"], "sprig": sprig}) + "\n"
                       for c in cases)
        out = subprocess.run([oracle, "--batch"], input=jobs, capture_output=True, text=True, check=True)
        results = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
        if len(results) != len(cases):
            sys.exit(f"{file}: {len(cases)} cases but {len(results)} answers")
        expected = {}
        for c, r in zip(cases, results):
            e = {"ok": bool(r.get("ok"))}
            if r.get("ok"):
                e["output"] = r.get("output", "")
            else:
                e["error"] = r.get("error", "")
            expected[c["name"]] = e
        target = os.path.join(CASES, file[:-4] + ".expected.json")
        with open(target, "w", encoding="utf-8") as f:
            json.dump(expected, f, indent=1, ensure_ascii=False, sort_keys=True)
            f.write("\n")
        print(f"{file}: {len(cases)} cases recorded")


if __name__ == "__main__":
    main()
