#!/bin/sh
# Records what Helm's `toYaml` prints for each helm/NAME.json, as the
# baseline of renderer/tests/yaml_helm.rs: the go-template oracle (Go
# text/template + Sprig + Helm's toYaml) runs `{{ toYaml . }}` on the data.
# Output goes to helm/NAME.out, or helm/NAME.err when the template fails.
#
# Usage: renderer/tests/yaml/record_helm.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
oracle=${GO_TEMPLATE_ORACLE:-/work/shared/oracles/go-template}
python3 - "$here/helm" "$oracle" <<'PY'
import json, os, subprocess, sys
folder, oracle = sys.argv[1], sys.argv[2]
names = sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".json"))
jobs = ""
for name in names:
    # The oracle reads "data" as YAML text: pass the file's JSON through as
    # written (raw non-ASCII, no surrogate escapes).
    with open(os.path.join(folder, name + ".json"), encoding="utf-8") as f:
        data = f.read().strip()
    jobs += '{"template": "{{ toYaml . }}", "sprig": true, "data": ' + data + "}\n"
res = subprocess.run([oracle, "--batch"], input=jobs.encode(), capture_output=True, check=True)
lines = res.stdout.decode().splitlines()
assert len(lines) == len(names), (len(lines), len(names))
for name, line in zip(names, lines):
    r = json.loads(line)
    for ext in (".out", ".err"):
        p = os.path.join(folder, name + ext)
        if os.path.exists(p):
            os.remove(p)
    ext, text = (".out", r["output"]) if r["ok"] else (".err", r["error"] + "\n")
    with open(os.path.join(folder, name + ext), "w", encoding="utf-8", newline="") as f:
        f.write(text)
PY
