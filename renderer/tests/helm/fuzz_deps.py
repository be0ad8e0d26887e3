#!/usr/bin/env python3
"""Random differential test of chart trees and values: kiln against real Helm (helm-template oracle).

Not run by CI. It builds random, seeded chart trees in a temporary directory
and renders each with the oracle (batch mode, the real Helm v4 library) and
with kiln's binary, then compares the two outputs as bytes and, document by
document, as data; when both fail it compares the error text.

Each tree is a parent chart with subcharts (directories and .tgz archives,
library charts, a second version of one chart, up to two levels deep),
Chart.yaml apiVersion v1 (requirements.yaml) or v2 (now and then with a
stray requirements.yaml, which Helm decodes over Chart.yaml's list),
dependencies with alias (also another subchart's name), condition (several
comma-separated paths, missing paths, non-bool values), tags,
import-values (string and child/parent form), globals at several levels,
nulls in values.yaml, -f files and --set-json at every level, parent
values for subcharts and their subcharts, several `-f` files and
`--set-json` with dotted paths (the oracle takes no `--set`/`--set-string`,
and its `--set-json` takes dotted keys only). Every chart's template prints
`.Values`, `.Values.global`, `.Subcharts`, `.Chart` fields, and a named
template every chart defines (which definition wins) into a ConfigMap.

Drawn from a second generator seeded apart (so the trees of a seed stay
what they were before these were added), each chart may also get:
- a values.schema.json (draft-07 `definitions` or 2020-12 `$defs`, reached
  through `$ref`, local and nested; required, enum, const, minimum,
  additionalProperties, anyOf/oneOf, if/then), mostly lenient so that
  rendering goes on, sometimes strict on a key the values may break;
- a second template with `tpl` of text that reads `.Template.Name` and
  `.Template.BasePath`, defines and includes (`tpl` sees the chart's named
  templates), a recursive `include` (every chart defines one, so which wins
  matters), `lookup` (an empty map in helm template), `.Subcharts`' values,
  `.Files.Get` of a file of the chart, and `.Capabilities` fields.

Usage:
    renderer/tests/helm/fuzz_deps.py [--seed N] [--count N] [--kiln PATH]
        [--oracle PATH] [--keep DIR] [--show N]
--kiln defaults to target/debug/kiln of this worktree (build it first);
--keep writes the trees of differing cases under DIR to reproduce them.
Prints one line per differing tree and a summary by category.
"""
import argparse, io, json, os, random, shutil, subprocess, sys, tarfile, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
KEYS = ["a", "b", "c", "enabled", "x"]


def yaml_dump(v):
    """Values as YAML: JSON is YAML, and keeps the generator free of a YAML writer."""
    return json.dumps(v, indent=1) + "\n"


class Gen:
    def __init__(self, rng):
        self.rng = rng

    def scalar(self):
        r = self.rng
        return r.choice([0, 1, 7, 1000000, 2.5, "s", "t", "", True, False, None, "yes", [1, "z"], []])

    def value(self, depth):
        if depth > 0 and self.rng.random() < 0.4:
            return self.table(depth - 1)
        return self.scalar()

    def table(self, depth, extra=()):
        r = self.rng
        keys = r.sample(KEYS + list(extra), r.randint(0, 3))
        return {k: self.value(depth) for k in keys}

    def globals(self):
        r = self.rng
        g = {}
        for k in r.sample(["g1", "g2", "reg"], r.randint(0, 2)):
            g[k] = self.value(1)
        return g


def chart_yaml(api, name, version, deps, kind="application", v1_deps=False):
    """Chart.yaml; v1 charts list dependencies in requirements.yaml, but may list some here too."""
    out = f"apiVersion: {api}\nname: {name}\nversion: {version}\ndescription: d\n"
    if api == "v2":
        out += f"type: {kind}\n"
    if deps and (api == "v2" or v1_deps):
        out += "dependencies:" + dep_list(deps)
    return out


def dep_list(deps):
    out = "\n"
    for d in deps:
        out += f"- name: {d['name']}\n  version: {json.dumps(d['version'])}\n"
        for k in ("alias", "condition"):
            if k in d:
                out += f"  {k}: {json.dumps(d[k])}\n"
        if "tags" in d:
            out += "  tags: " + json.dumps(d["tags"]) + "\n"
        if "import-values" in d:
            out += "  import-values: " + json.dumps(d["import-values"]) + "\n"
    return out


TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}-%s
data:
  chart: {{ printf "%%s|%%s|%%s|%%s" .Chart.Name .Chart.Version .Chart.APIVersion .Chart.Type | quote }}
  subcharts: {{ range $k, $v := .Subcharts }}{{ $k }}={{ $v.Name }}/{{ $v.Version }};{{ end }}.
  dependencies: {{ toJson .Chart.Dependencies | quote }}
  tag: {{ include "common.tag" . | quote }}
  global: |
{{ toYaml .Values.global | indent 4 }}
  values: |
{{ toYaml .Values | indent 4 }}
"""

# Every chart defines the same named template; which definition wins is
# Helm's template order (library charts included).
HELPERS = """{{- define "common.tag" -}}
%s:{{ .Chart.Name }}:{{ .Values.global.g1 | toJson }}
{{- end -}}
"""


class Tree:
    def __init__(self, rng, root, xrng=None):
        self.rng = rng
        self.g = Gen(rng)
        self.root = root
        self.serial = 0
        # The extras (schemas, the tpl/include/lookup template) draw from
        # their own generator, so that the rest of a seed's trees stays as it was.
        self.xr = xrng or random.Random(0)

    def chart(self, path, name, depth, version="0.1.0", top=False):
        """Writes a chart at path; returns nothing. depth: how many levels of subcharts may follow."""
        r, g = self.rng, self.g
        os.makedirs(os.path.join(path, "templates"), exist_ok=True)
        api = r.choice(["v1", "v2", "v2"])
        # Library subcharts: their templates define but never render.
        kind = "library" if api == "v2" and r.random() < (0.02 if top else 0.2) else "application"
        self.serial += 1
        with open(os.path.join(path, "templates", "cm.yaml"), "w") as f:
            f.write(TEMPLATE % f"c{self.serial}")
        if r.random() < 0.5:
            with open(os.path.join(path, "templates", "_helpers.tpl"), "w") as f:
                f.write(HELPERS % f"h{self.serial}")
        self.extras(path, f"c{self.serial}")
        deps, subnames, two_any = [], [], False
        if depth > 0:
            pool = r.sample(["sa", "sb", "sc"], r.randint(1, 3))
            for sub in pool:
                subpath = os.path.join(path, "charts", sub)
                self.chart(subpath, sub, depth - 1 if r.random() < 0.5 else 0)
                if r.random() < 0.35:
                    pack(subpath, os.path.join(path, "charts", f"{sub}-0.1.0.tgz"))
                    shutil.rmtree(subpath)
                # Only in the top chart, whose dependencies Helm always
                # processes: in a subchart it does not reach, both versions
                # would stay, in random order.
                two = top and r.random() < 0.15
                two_any = two_any or two
                if two:
                    # A second version of the same chart, which version ranges choose between.
                    other = os.path.join(path, "charts", f"{sub}2")
                    self.chart(other, sub, 0, version="0.2.0")
                    if r.random() < 0.5:
                        pack(other, os.path.join(path, "charts", f"{sub}-0.2.0.tgz"), arcname=sub)
                        shutil.rmtree(other)
                # Helm loads charts/ through a Go map: which of two versions
                # a range matching both picks, or the order of two unlisted
                # ones, is random; a second version therefore comes with
                # ranges that tell the two apart.
                listed = two or r.random() < 0.9
                ranges = ["0.1.0", "~0.1", "0.1.x", "0.2.x", "^0.1", "0.2.0"] if two else \
                    ["0.1.0", "~0.1", ">=0.1.0", "0.1.x", "0.2.x", "^0.1"]
                for _ in range(r.choice([1, 1, 2, 2, 3]) if listed else 0):
                    d = {"name": sub, "version": r.choice(ranges)}
                    if r.random() < 0.4 or any(x["name"] == sub for x in deps):
                        taken = {x.get("alias", x["name"]) for x in deps}
                        free = [sub + c for c in "xyz" if sub + c not in taken]
                        # Rarely a clash, which Helm refuses, or the name of another subchart.
                        d["alias"] = r.choice(free) if free and r.random() < 0.93 else \
                            r.choice([sub + "x", r.choice(["sa", "sb", "sc"])])
                    eff = d.get("alias", sub)
                    if r.random() < 0.5:
                        conds = r.sample([f"{eff}.enabled", "missing.path", f"global.{eff}", "flags.on", f"{eff}.x",
                                          f"{eff}.sa.enabled", "flags", " flags.on"], r.randint(1, 3))
                        d["condition"] = ",".join(conds)
                    if r.random() < 0.4:
                        d["tags"] = r.sample(["t1", "t2", "t3"], r.randint(1, 2))
                    if r.random() < 0.45:
                        ivs = []
                        for _ in range(r.randint(1, 2)):
                            if r.random() < 0.5:
                                ivs.append(r.choice(["data", "more", "none", "data.c"]))
                            else:
                                ivs.append({"child": r.choice(["exports.data", "a", "cfg", "cfg.inner", "missing",
                                                               "global", "exports", "sa", "sb.cfg"]),
                                            "parent": r.choice([".", "imp", "imp.deep", "a", "cfg", "global",
                                                                "sa", "exports.data"])})
                        d["import-values"] = ivs
                    deps.append(d)
                    subnames.append(eff)
        # A v1 chart's requirements.yaml wins over Chart.yaml; a stray one
        # in a v2 chart too (Helm only warns). Not with two versions of a
        # chart, which it could leave both unlisted (in random order).
        stray = deps and not two_any and r.random() < 0.1
        reqs = deps
        if stray:
            reqs = r.sample(deps, r.randint(0, len(deps)))
        with open(os.path.join(path, "Chart.yaml"), "w") as f:
            f.write(chart_yaml(api, name, version, deps if api == "v2" or stray else [], kind, v1_deps=stray))
        if (api == "v1" and deps) or stray:
            with open(os.path.join(path, "requirements.yaml"), "w") as f:
                f.write("dependencies:" + (dep_list(reqs) if reqs else " []\n"))
        vals = g.table(2, extra=["cfg", "exports"])
        if r.random() < 0.5:
            vals["exports"] = {"data": g.table(1), "more": g.table(1)} if r.random() < 0.8 else g.scalar()
        if r.random() < 0.4:
            vals["cfg"] = {"inner": g.table(1), "k": g.scalar()}
        if r.random() < 0.6:
            # Now and then not a table, which Helm skips with a warning.
            vals["global"] = g.globals() if r.random() < 0.93 else r.choice([None, "s", [1]])
        if r.random() < 0.4:
            vals["tags"] = {t: r.choice([True, False, "yes", None]) for t in r.sample(["t1", "t2", "t3"], 2)}
        if r.random() < 0.3:
            vals["flags"] = {"on": r.choice([True, False, "true", None])}
        for eff in subnames:
            if r.random() < 0.6:
                sv = g.table(1)
                if r.random() < 0.5:
                    sv["enabled"] = r.choice([True, False, "false", None, 1])
                if r.random() < 0.3:
                    sv["global"] = g.globals() if r.random() < 0.95 else r.choice([None, 5])
                if r.random() < 0.2:
                    # Values for a subchart of the subchart.
                    sv[r.choice(["sa", "sb", "sc", "sax", "sby"])] = r.choice(
                        [g.table(1), {"enabled": r.choice([True, False])}, {"global": g.globals()}, None])
                vals[eff] = sv if r.random() < 0.97 else None
        if r.random() < 0.2:
            vals["imp"] = r.choice([None, {"deep": None}, g.table(1)])
        with open(os.path.join(path, "values.yaml"), "w") as f:
            f.write(yaml_dump(vals))

    def extras(self, path, serial):
        """The second template, a recursive named template, a file, and a values.schema.json."""
        x = self.xr
        if x.random() < 0.6:
            with open(os.path.join(path, "templates", "extra.yaml"), "w") as f:
                # Texts that fail (a missing key's field, .Capabilities in a dict
                # without it) fail the whole tree: seldom.
                texts = TPL_TEXTS if x.random() < 0.05 else TPL_TEXTS[:-2]
                f.write(EXTRA % (serial, x.choice(texts), x.choice(TPL_SAFE), x.randint(0, 4)))
            with open(os.path.join(path, "templates", "_rec.tpl"), "w") as f:
                f.write(REC % (serial, serial))
            with open(os.path.join(path, "note.txt"), "w") as f:
                f.write(x.choice(["note of " + serial + "\n", "", "a: {{ .Values.a }}\n", "ÄÖ\r\nx"]))
        if x.random() < 0.35:
            with open(os.path.join(path, "values.schema.json"), "w") as f:
                json.dump(schema(x), f, indent=1)

    def user(self, subnames):
        """-f files and --set-json arguments."""
        r, g = self.rng, self.g
        files = []
        for i in range(r.choice([0, 1, 1, 2, 3])):
            v = g.table(2)
            for eff in r.sample(subnames, min(len(subnames), r.randint(0, 2))):
                v[eff] = r.choice([g.table(1), {"enabled": r.choice([True, False, None])}]) if r.random() < 0.95 else None
                if isinstance(v[eff], dict) and r.random() < 0.4:
                    # Values for a subchart of the subchart.
                    v[eff][r.choice(subnames)] = r.choice([g.table(1), {"global": g.globals()}])
            if r.random() < 0.4:
                v["global"] = g.globals() if r.random() < 0.9 else r.choice([None, None, "s"])
            if r.random() < 0.3:
                v["tags"] = {t: r.choice([True, False, None]) for t in r.sample(["t1", "t2", "t3"], 1)}
            if r.random() < 0.15:
                v[r.choice(["imp", "cfg", "exports"])] = r.choice([None, g.table(1)])
            p = os.path.join(self.root, f"user{i}.yaml")
            with open(p, "w") as f:
                f.write(yaml_dump(v))
            files.append(p)
        sets = []
        for _ in range(r.choice([0, 0, 1, 2])):
            head = r.choice(subnames + ["global", "a", "tags"]) if subnames else "a"
            if subnames and r.random() < 0.2:
                head += "." + r.choice(["sa", "sb", "sc", "global"])
            key = head + "." + r.choice(KEYS + ["g1", "t1"])
            sets.append(key + "=" + json.dumps(g.value(1)))
        if r.random() < 0.1:
            sets.append(r.choice(["tags", "global", "tags.t1", "global.g1"]) + "=null")
        return files, sets


# A second template: tpl of texts that read .Template, include recursion,
# lookup, .Subcharts' values, .Files and .Capabilities.
EXTRA = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}-x%s
data:
  tpl1: {{ tpl %s . | quote }}
  tpl2: {{ tpl %s (dict "Template" .Template "Values" .Values "Chart" .Chart "Release" .Release) | quote }}
  template: {{ printf "%%s|%%s" .Template.Name .Template.BasePath | quote }}
  rec: {{ include "fz.rec" (list %d .) | quote }}
  lookup: {{ lookup "v1" "ConfigMap" .Release.Namespace "cm" | toJson | quote }}
  lookupList: {{ (lookup "v1" "Secret" "" "").items | toJson | quote }}
  subvalues: {{ range $n, $c := .Subcharts }}{{ $n }}={{ toJson $c.Values.a }}/{{ $c.Values.global | toJson }};{{ end }}.
  file: {{ .Files.Get "note.txt" | quote }}
  fileTpl: {{ tpl (.Files.Get "note.txt") . | quote }}
  caps: {{ printf "%%s|%%s|%%v" .Capabilities.KubeVersion.Version .Capabilities.KubeVersion.Minor (.Capabilities.APIVersions.Has "apps/v1") | quote }}
"""
TPL_TEXTS = [json.dumps(t) for t in [
    "{{ .Template.Name }}", "{{ .Template.BasePath }}", "{{ .Chart.Name }}-{{ .Values.a | toJson }}",
    '{{ include "common.tag" . }}', '{{ define "fz.inner" }}in:{{ .Chart.Name }}{{ end }}{{ include "fz.inner" . }}',
    '{{ tpl "{{ .Template.Name }}" . }}', "{{ .Values.global | toJson }}", '{{ include "fz.rec" (list 1 .) }}',
    "{{ .Release.Name }}/{{ .Release.Namespace }}", "", "{{ .Files.Get \"note.txt\" | trim }}",
    "{{ $x := 1 }}{{ $x }}{{ template \"fz.rec\" (list 0 .) }}", "{{ .Subcharts | keys | sortAlpha | join \",\" }}",
    "{{ .Capabilities.KubeVersion }}", "{{ .Values.missing.deeper }}"]]
# Texts for tpl with a dict of .Template, .Values, .Chart and .Release only.
TPL_SAFE = [t for t in TPL_TEXTS if "Files" not in t and "Subcharts" not in t and "Capabilities" not in t
            and "missing" not in t]
REC = """{{- define "fz.rec" -}}
{{- $n := index . 0 -}}{{- $top := index . 1 -}}
{{- if gt $n 0 -}}%s:{{ $n }}>{{ include "fz.rec" (list (sub $n 1) $top) }}{{- else -}}{{ $top.Template.Name }}@%s{{- end -}}
{{- end -}}
"""


def schema(x):
    """A values.schema.json: mostly lenient, now and then strict on a key the values may break."""
    draft = x.choice(["07", "2020"])
    defs = "definitions" if draft == "07" else "$defs"
    anything = {"type": ["object", "array", "string", "number", "boolean", "null"]}
    scalar = x.choice([{"type": ["string", "number", "boolean", "null", "array"]},
                       {"anyOf": [{"type": "string"}, {"type": "number"}, {"$ref": f"#/{defs}/rest"}]},
                       {"oneOf": [{"type": "string"}, {"type": "integer"},
                                  {"type": "number", "not": {"type": "integer"}},
                                  {"type": ["boolean", "null", "array", "object"]}]}])
    out = {"$schema": "http://json-schema.org/draft-07/schema#" if draft == "07" else
           "https://json-schema.org/draft/2020-12/schema",
           "type": "object",
           defs: {"any": anything, "scalar": scalar, "rest": {"type": ["boolean", "null", "array", "object"]},
                  "table": {"type": ["object", "null"], "additionalProperties": {"$ref": f"#/{defs}/any"}}},
           "properties": {}}
    for k in x.sample(KEYS + ["cfg", "exports", "global", "tags"], x.randint(1, 5)):
        out["properties"][k] = x.choice([{"$ref": f"#/{defs}/any"}] * 6 + [{}, True, {"$ref": f"#/{defs}/table"}] +
                                        [{"$ref": f"#/{defs}/scalar"}, {"allOf": [{"$ref": f"#/{defs}/any"}]}])
    c = x.random()
    if c < 0.05:
        out["required"] = x.sample(KEYS, 1)
    elif c < 0.1:
        out["properties"][x.choice(KEYS)] = x.choice([{"type": "boolean"}, {"enum": [0, 1, "s", True]},
                                                     {"const": 7}, {"type": "number", "minimum": 1},
                                                     {"type": "string", "maxLength": 0}])
    elif c < 0.12:
        out["additionalProperties"] = False
    elif c < 0.15:
        out["if"] = {"properties": {"enabled": {"const": True}}, "required": ["enabled"]}
        out["then"] = {"required": ["x"]}
    return out


def pack(src, dest, arcname=None):
    with tarfile.open(dest, "w:gz") as t:
        t.add(src, arcname=arcname or os.path.basename(src))


def top_subnames(chart):
    out = []
    for base in os.listdir(os.path.join(chart, "charts")) if os.path.isdir(os.path.join(chart, "charts")) else []:
        out.append(base.split("-")[0].rstrip("2"))
    out = sorted(set(out))
    return out + [n + s for n in out for s in "xyz"]


def documents(text):
    docs = []
    for piece in text.split("---\n# Source: ")[1:]:
        src, _, body = piece.partition("\n")
        docs.append((src, body))
    return docs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--first", type=int, default=0, help="index of the first tree")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "target", "debug", "kiln"))
    ap.add_argument("--oracle", default="/work/shared/oracles/helm-template")
    ap.add_argument("--keep", default="")
    ap.add_argument("--show", type=int, default=3, help="diffs to print in full")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kiln-fuzz-deps-")
    jobs, trees = [], []
    for i in range(a.first, a.first + a.count):
        rng = random.Random(a.seed * 1000003 + i)
        root = os.path.join(work, str(i))
        os.makedirs(root)
        t = Tree(rng, root, random.Random(f"extras:{a.seed}:{i}"))
        chart = os.path.join(root, "parent")
        t.chart(chart, "parent", 2, top=True)
        files, sets = t.user(top_subnames(chart))
        trees.append((i, root, chart, files, sets))
        jobs.append(json.dumps({"release": "rel", "chart": chart, "namespace": "ns1", "values": files,
                                "set_json": sets, "kube_version": "1.31.0", "api_versions": [],
                                "skip_tests": False, "show_only": []}))
    answers = []
    while len(answers) < len(jobs):
        rest = jobs[len(answers):]
        res = subprocess.run([a.oracle, "--batch"], input="\n".join(rest) + "\n", capture_output=True, text=True)
        got = [json.loads(l) for l in res.stdout.splitlines()]
        answers += got
        if len(got) < len(rest):
            # The library died on this tree (Go's stack overflow on
            # import-values that make the values contain themselves).
            answers.append({"crashed": True})
    cats, shown = {}, 0
    for (i, root, chart, files, sets), want in zip(trees, answers):
        if want.get("limitation") or want.get("crashed"):
            cat = "skipped (oracle limitation)" if want.get("limitation") else "skipped (oracle crashed)"
            cats[cat] = cats.get(cat, 0) + 1
            continue
        cmd = [a.kiln, "helm", "template", "rel", chart, "-n", "ns1", "--kube-version", "1.31.0"]
        for f in files:
            cmd += ["-f", f]
        for s in sets:
            cmd += ["--set-json", s]
        got = subprocess.run(cmd, capture_output=True, text=True)
        cat = None
        if want["ok"] and got.returncode == 0:
            if got.stdout != want["output"]:
                wd, gd = documents(want["output"]), documents(got.stdout)
                cat = "output differs" if [d[0] for d in wd] == [d[0] for d in gd] else "documents differ"
        elif got.returncode != 0 and got.stderr.startswith("Error: failed parsing --set-json data"):
            # The oracle emulates --set-json in Python and overwrites a
            # non-table on the path, where Helm's strvals fails.
            cat = "skipped (--set-json through a non-table)"
        elif want["ok"]:
            cat = "kiln fails, helm renders"
        elif got.returncode == 0:
            cat = "kiln renders, helm fails"
        else:
            werr = want["error"].strip().removeprefix("Error: ").split("\n")[0]
            gerr = got.stderr.strip().removeprefix("Error: ").split("\n")[0]
            if werr != gerr:
                cat = "error text differs"
        # Equal trees are counted apart by whether they rendered: only those exercise the templates.
        cat_or_equal = cat or ("equal (rendered)" if want["ok"] else "equal (both fail)")
        cats[cat_or_equal] = cats.get(cat_or_equal, 0) + 1
        if cat and not cat.startswith("skipped"):
            print(f"tree {i} (seed {a.seed}): {cat}")
            if a.keep:
                kept = os.path.join(a.keep, f"s{a.seed}-{i}")
                shutil.copytree(root, kept, dirs_exist_ok=True)
                with open(os.path.join(kept, "cmd"), "w") as f:
                    f.write(" ".join(json.dumps(c.replace(root, kept)) for c in cmd) + "\n")
                with open(os.path.join(kept, "cmd.json"), "w") as f:
                    json.dump([c.replace(root, kept) for c in cmd], f)
            if shown < a.show:
                shown += 1
                import difflib
                wtext = want["output"] if want["ok"] else want["error"]
                gtext = got.stdout if got.returncode == 0 else got.stderr
                sys.stdout.writelines(list(difflib.unified_diff(wtext.splitlines(True), gtext.splitlines(True),
                                                                "helm", "kiln", n=2))[:60])
    print(json.dumps(cats, sort_keys=True))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
