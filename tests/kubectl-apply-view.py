#!/usr/bin/env python3
"""Prints the objects client-side `kubectl apply` would create from FILE...

Runs `kubectl apply --dry-run=client --validate=false -o json -f FILE`
against a discovery-only stand-in for an API server (started here on a
local port, answering discovery for the kinds the files hold and 404 for
every object, so each object takes apply's create path), then prints each
object as YAML without the `kubectl.kubernetes.io/last-applied-configuration`
annotation kubectl adds for itself (and without `annotations` when nothing
else is left in it). kiln's namespace folders are rendered as this view
(`renderer/src/layout/namespaces.rs`); its tests quote this script's output.

usage: tests/kubectl-apply-view.py [-n NAMESPACE] FILE...  (as `kubectl -n NAMESPACE apply -f`)
"""
import json, os, subprocess, sys, tempfile, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import yaml

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                  "PersistentVolume", "StorageClass", "PriorityClass"}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

files, namespace = sys.argv[1:], "default"
if files[:1] == ["-n"]:
    namespace, files = files[1], files[2:]
kinds = {}  # groupVersion -> {kind}
for path in files:
    for doc in yaml.safe_load_all(open(path)):
        if isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"):
            kinds.setdefault(doc["apiVersion"], set()).add(doc["kind"])


def resources(gv):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": [
        {"name": k.lower() + "s", "singularName": k.lower(), "namespaced": k not in CLUSTER_SCOPED,
         "kind": k, "verbs": ["create", "get", "patch"]} for k in sorted(kinds[gv])]}


class Discovery(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        groups = sorted(gv for gv in kinds if "/" in gv)
        if path == "/api":
            return self.answer(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return self.answer(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": gv.split("/")[0], "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
                 "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]}} for gv in groups]})
        for gv in kinds:
            if path == ("/api/" if "/" not in gv else "/apis/") + gv:
                return self.answer(200, resources(gv))
        if path == "/api/v1":
            return self.answer(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": []})
        self.answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                          "reason": "NotFound", "code": 404})


server = HTTPServer(("127.0.0.1", 0), Discovery)
threading.Thread(target=server.serve_forever, daemon=True).start()
with tempfile.TemporaryDirectory() as home:
    config = os.path.join(home, "kubeconfig")
    with open(config, "w") as f:
        f.write(f"apiVersion: v1\nkind: Config\nclusters: [{{name: s, cluster: {{server: "
                f"'http://127.0.0.1:{server.server_port}'}}}}]\ncontexts: [{{name: s, context: "
                f"{{cluster: s, namespace: {namespace}}}}}]\ncurrent-context: s\nusers: []\n")
    args = ["kubectl", "apply", "--dry-run=client", "--validate=false", "-o", "json"]
    for path in files:
        args += ["-f", path]
    run = subprocess.run(args, capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], "HOME": home, "KUBECONFIG": config})
server.shutdown()
if run.returncode:
    sys.exit(run.stderr.strip())
out = json.loads(run.stdout)
for obj in out["items"] if out.get("kind") == "List" else [out]:
    meta = obj.get("metadata", {})
    meta.get("annotations", {}).pop(LAST_APPLIED, None)
    if meta.get("annotations") == {}:
        del meta["annotations"]
    print("---")
    print(yaml.safe_dump(obj, sort_keys=True, default_flow_style=False), end="")
