#!/usr/bin/env python3
"""Records what real Helm prints for every case in cases.json (helm-template oracle, batch mode).

Usage: renderer/tests/helm/record.py [ORACLE [CASE...]]   (ORACLE default, or "": /work/shared/oracles/helm-template)
Records the CASEs named, every case when none is named.
Writes expected/<case>.out (the rendered stream) or expected/<case>.err (the error text).
KILN_CASE=substring records only the cases whose name contains it (as the test runs them).
A case with "serve": DIR has DIR served over HTTP on 127.0.0.1:18931 while Helm renders it,
so that Helm downloads the remote schemas its values.schema.json names from there (kiln
fetches nothing; see "Deliberate differences" in README.md).
"""
import functools, http.server, json, os, subprocess, sys, threading

here = os.path.dirname(os.path.abspath(__file__))
oracle = (sys.argv[1] if len(sys.argv) > 1 else "") or "/work/shared/oracles/helm-template"
only = set(sys.argv[2:])
cases = [c for c in json.load(open(os.path.join(here, "cases.json"))) if not only or c["name"] in only]
only_sub = os.environ.get("KILN_CASE", "")
cases = [c for c in cases if only_sub in c["name"]]
jobs = []
for c in cases:
    jobs.append(json.dumps({
        "release": c.get("release", "rel"),
        "chart": os.path.join(here, c["chart"]),
        "namespace": c.get("namespace", "ns1"),
        "values": [os.path.join(here, v) for v in c.get("values", [])],
        "set_json": c.get("set_json", []),
        "kube_version": c.get("kube_version", "1.31.0"),
        "api_versions": c.get("api_versions", []),
        "skip_tests": False,
        "show_only": [],
    }))
served = {c["serve"] for c in cases if "serve" in c}
if len(served) > 1:
    sys.exit(f"record the cases that serve {sorted(served)} one directory at a time")
if served:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=os.path.join(here, served.pop()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 18931), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
res = subprocess.run([oracle, "--batch"], input="\n".join(jobs) + "\n", capture_output=True, text=True)
lines = res.stdout.splitlines()
if len(lines) != len(cases):
    sys.exit(f"oracle answered {len(lines)} of {len(cases)} jobs: {res.stderr}")
out_dir = os.path.join(here, "expected")
os.makedirs(out_dir, exist_ok=True)
for c, line in zip(cases, lines):
    r = json.loads(line)
    for ext in (".out", ".err"):
        p = os.path.join(out_dir, c["name"] + ext)
        if os.path.exists(p):
            os.remove(p)
    if r.get("ok"):
        open(os.path.join(out_dir, c["name"] + ".out"), "w").write(r["output"])
    elif r.get("limitation"):
        print(f"{c['name']}: oracle limitation, not recorded: {r.get('error')}", file=sys.stderr)
    else:
        open(os.path.join(out_dir, c["name"] + ".err"), "w").write(r["error"])
    print(c["name"], "ok" if r.get("ok") else "error")
