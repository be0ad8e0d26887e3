#!/usr/bin/env python3
"""Random differential fuzzing of kiln's kustomize engine against `kubectl kustomize`.

Usage: renderer/tests/kustomize-fuzz.py [--seed S] [--count N] [--start I] [--jobs J]
                                        [--kiln BINARY] [--out DIR] [--shrink K] [--show I]
                                        [--bytes] [--errors] [--no-error-text] [--mode M]

It generates N random but plausible kustomization trees, deterministically from the seed (tree i of
seed S is the same on every machine and Python 3 version: it draws only from
random.Random(f"{S}:{i}")). A tree has one or two bases (each sometimes with a component of its
own), sometimes components (nested, or two siblings) and an overlay; its resources are many
built-in kinds (workloads, Service, Ingress with default backends, HPA, RBAC bindings, PVC/PV,
StorageClass, PriorityClass, APIService, NetworkPolicy, webhook configurations, CRDs and custom
resources, pods with projected volumes) written by PyYAML or, for one file of a base, by hand in
YAML styles PyYAML does not write (comments, block scalars with every chomping, anchors and
aliases, flow collections, quoted numbers, long and folded strings, timestamps). Its
kustomizations use most fields: namespace, name affixes, labels and
commonLabels/commonAnnotations, images, replicas, patches of every form (strategic merge with
`$patch`/`$setElementOrder`/`$retainKeys`/`$deleteFromPrimitiveList` directives, several documents
in one file, JSON 6902, inline and in files, targets by regex and selectors, options), generators
with behaviors and options, replacements (list items by key, create, delimiter/index, reject,
selectors by label/annotation/namespace/group, entries in files), vars, configurations, crds,
openapi, sortOptions, buildMetadata, and transformers:/generators: with builtin plugin
configurations inline and in files. The top directory of each tree is built by
`kubectl kustomize` and by kiln (the `kustomize_build` example of the renderer crate, built first
with `cargo build -p renderer --example kustomize_build`, or --kiln BINARY), and compared:
  - both build: the documents must be equal as YAML data (a difference) and as bytes (counted
    apart as "bytes only", shown with --bytes);
  - both fail: kubectl's message, normalised as renderer/tests/kustomize_cases.rs does (no
    `error: `, the tree's directory dropped from paths, Go heap addresses cut), must stand whole
    in kiln's, else an "error text" difference (--no-error-text turns this off; --errors lists
    every pair);
  - one fails: a difference.
--mode wide extends each tree with what the other modes never write (see WideGen: cluster-scoped
objects with namespaces, replicas on every scalable kind, init/ephemeral container images, vars
into lists, env files with quotes and `export`, generatorOptions at several levels, renaming
patches, CRD name references, validators, kustomization.yml/Kustomization file names, and
`--load-restrictor LoadRestrictionsNone`, passed to both tools when a tree has "flags").
--mode deep extends each tree (see DeepGen: YAML shapes PyYAML never writes, component layers,
replacements from generated objects, image references with ports and digests, list directives,
JSON 6902 move/copy/test, CRD field specs); --mode rich extends each tree with kustomization
features the others write rarely or never (see RichGen: `labels` fields, sort options, per-generator
options, kind changes, OpenAPI merge keys and scopes, `crds:`, configurations beside the defaults);
--mode real draws trees of its own shaped like real GitOps repositories (see RealGen: a Flux v2
fleet of clusters/apps/infrastructure, cloud-platform-environments namespace folders, or apps with
base/overlays/components; Flux, cert-manager and Argo objects patched by label, annotation and regex
targets; generators merged level upon level; replacements across bases; sortOptions at the top;
and, for seeds other than REAL_FIRST_SEEDS, what RealGen.widen adds to the tree drawn: multi-document
files with comments and `---` variants, Flux objects with postBuild variables, a CRD with custom
resources and `crds:`, replacements in `path:` files, renaming patches with options, env files with
comments and quotes, buildMetadata); --mode shared draws trees of its own where one base is built twice
under two envs and a top overlay (see SharedGen: a component both envs use, cluster-scoped bindings
and webhooks a namespace reaches, replicas of a custom kind, `crds:` with merge keys, patches by
label and annotation selectors that rename and change kinds, secret types and `immutable`,
generatorOptions at several levels, HashTransformer and other builtin configs under
`transformers:`, validators, kind changes of generated objects, buildMetadata); --mode novel draws three-level trees of its own for what no other
mode draws (see NovelGen: generators merged and replaced across levels with options, replacements
reading maps and lists an earlier one rewrote, objects embedded in fields a built-in kind's schema
lacks, labels with fields, sortOptions beside components, the same names in two namespaces, images
with digests in initContainers and custom image fields, CRLF files); the default mode, classic,
draws the same trees as before the mode existed.
Each difference is saved to DIR (default /tmp/kustomize-fuzz) as DIR/<category>/<i>/ holding the
tree, kubectl's and kiln's answers; the first K trees of each category (--shrink, default 1) are
shrunk first by dropping kustomization entries, documents and fields while the difference keeps
its category. A summary by category is printed at the end; categories are coarse (the first
differing path with list indexes dropped, or the failing side and the first words of its error).

--start I begins at tree I (re-run one: --start I --count 1); --show I prints tree I and exits.
--jobs J runs J trees at once (default 2; the reference tool takes about 0.15 s a tree on an idle
machine). --cache DIR keeps kubectl's answers keyed by the tree's text, so that a re-run of the same
seed against a changed kiln runs only kiln (the before/after measure of a fix).

Not part of CI: it needs kubectl. Differences it finds go by hand, minimised, into
renderer/tests/cases/ (recorded with record-cases.sh).
"""
import argparse
import concurrent.futures
import copy
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_KILN = os.path.join(ROOT, "target", "debug", "examples", "kustomize_build")


class Dumper(yaml.SafeDumper):
    pass


def _str_repr(dumper, data):
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


Dumper.add_representer(str, _str_repr)


class Loader(yaml.SafeLoader):
    """PyYAML reads a plain `=` as YAML 1.1's value tag; both tools mean the string."""


Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def dump(docs):
    return yaml.dump_all(docs, Dumper=Dumper, sort_keys=False, default_flow_style=False)


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------

NAMES = ["web", "api", "db", "cache", "worker", "app", "web-v2", "frontend"]
LABEL_KEYS = ["app", "tier", "team", "env", "app.kubernetes.io/name", "version"]
LABEL_VALUES = ["web", "api", "backend", "prod", "dev", "blue", "v1", "x"]
IMAGES = ["nginx", "nginx:1.19", "redis:6", "busybox", "gcr.io/proj/app:v1",
          "postgres@sha256:" + "a" * 64, "my.registry:5000/team/api:2.0", "alpine:3.18"]
IMAGE_NAMES = ["nginx", "redis", "busybox", "gcr.io/proj/app", "postgres",
               "my.registry:5000/team/api", "alpine", "missing"]
NAMESPACES = ["ns1", "prod", "staging", "kube-system"]
# Strings that YAML writers quote, fold or resolve to other types.
TRICKY = ["yes", "on", "1.0", "0x1F", "", "~", "null", "a: b", "#c", "- x", "true", "012", "1e3",
          "trailing ", " leading", "a\nb\n", "a\nb", "tab\there", "über", "\u00e9t\u00e9 日本",
          "x" * 90, "word " * 20, "'quoted'", '"dq"', "{a}", "[b]", "*star", "&amp", "!bang", "%pct",
          "@at", "`tick", "a,b", "=", "0.5", "-1", ".inf", "NaN", "2001-01-01"]
CRD_GROUP = "example.com"


def crd_defs(kind, props):
    """A `crds:` file's definitions (kustomize's openapi form) of the custom kind `kind` of
    group example, whose spec has the properties `props`."""
    return {f"github.com/example/api/v1.{kind}": {
        "Schema": {"description": kind, "properties": {
            "apiVersion": {"type": "string"}, "kind": {"type": "string"},
            "metadata": {"$ref": "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta"},
            "spec": {"$ref": f"github.com/example/api/v1.{kind}Spec"}}},
        "Dependencies": []},
        f"github.com/example/api/v1.{kind}Spec": {"Schema": {"properties": props}, "Dependencies": []}}


class Gen:
    def __init__(self, seed, index):
        self.r = random.Random(f"{seed}:{index}")
        self.files = {}  # path -> text or docs (list) or dict (kustomization)

    # small helpers
    def chance(self, p):
        return self.r.random() < p

    def pick(self, xs):
        return self.r.choice(xs)

    def some(self, xs, lo=0, hi=None):
        hi = len(xs) if hi is None else min(hi, len(xs))
        n = self.r.randint(min(lo, hi), hi)
        return self.r.sample(xs, n)

    def value(self, pool):
        return self.pick(TRICKY) if self.chance(self.tricky) else self.pick(pool)

    def labels(self, lo=1, hi=3):
        return {k: self.value(LABEL_VALUES) for k in self.some(LABEL_KEYS, lo, hi)}

    # ---- resources
    def container(self, name=None):
        c = {"name": name or self.pick(["main", "sidecar", "app", "init"]),
             "image": self.pick(IMAGES)}
        if self.chance(0.4):
            c["ports"] = [{"containerPort": self.pick([80, 8080, 443]), "name": "http"}]
        if self.chance(0.4):
            env = []
            # distinct names: a list with two items of one merge key is not plausible input
            for name in self.some(["A", "B", "MODE", "DB_HOST"], 1, 3):
                e = {"name": name}
                k = self.r.random()
                if k < 0.4:
                    e["value"] = self.value(["x", "1", "$(SVC_NAME)", "$(NS)", "true", "prefix-$(SVC_NAME)"])
                elif k < 0.7:
                    e["valueFrom"] = {"configMapKeyRef": {"name": self.pick(["cfg", "settings"]), "key": "k"}}
                else:
                    e["valueFrom"] = {"secretKeyRef": {"name": self.pick(["creds", "tls"]), "key": "k"}}
                env.append(e)
            c["env"] = env
        if self.chance(0.3):
            c["envFrom"] = [{"configMapRef": {"name": self.pick(["cfg", "settings"])}}]
        if self.chance(0.3):
            c["args"] = self.some(["--a", "--b=$(SVC_NAME)", "--c", "run"], 1, 3)
        if self.chance(0.2):
            c["command"] = ["/bin/sh", "-c", self.pick(["echo $(NS)", "sleep 1"])]
        if self.chance(0.2):
            c["resources"] = {"limits": {"cpu": self.pick(["100m", "1", 2]), "memory": "64Mi"}}
        return c

    def pod_spec(self):
        spec = {"containers": [self.container(n) for n in self.some(["main", "sidecar", "app"], 1, 2)]}
        if self.chance(0.2):
            spec["initContainers"] = [self.container("init")]
        if self.chance(0.4):
            vols = []
            for v in self.some(["config", "secret", "data"], 1, 3):
                if v == "config":
                    vols.append({"name": v, "configMap": {"name": self.pick(["cfg", "settings"])}})
                elif v == "secret":
                    vols.append({"name": v, "secret": {"secretName": self.pick(["creds", "tls"])}})
                else:
                    vols.append({"name": v, "persistentVolumeClaim": {"claimName": self.pick(["data", "logs"])}})
            if self.chance(0.3):
                vols.append({"name": "proj", "projected": {"sources": [
                    {"configMap": {"name": self.pick(["cfg", "settings"])}},
                    {"secret": {"name": self.pick(["creds", "tls"])}},
                    {"serviceAccountToken": {"path": "token"}}]}})
            spec["volumes"] = vols
        if self.chance(0.15):
            spec["priorityClassName"] = self.pick(NAMES[:4])
        if self.chance(0.3):
            spec["serviceAccountName"] = self.pick(["sa", "runner"])
        if self.chance(0.1):
            spec["imagePullSecrets"] = [{"name": "regcred"}]
        return spec

    def template(self, labels):
        t = {"metadata": {"labels": dict(labels)}, "spec": self.pod_spec()}
        if self.chance(0.2):
            t["metadata"]["annotations"] = {"a": "b"}
        return t

    def meta(self, name, namespaced=True):
        m = {"name": name}
        if self.chance(0.3):
            m["labels"] = self.labels()
        if self.chance(0.2):
            m["annotations"] = {self.pick(["note", "owner", "config.kubernetes.io/local-config"])
                                if self.chance(0.1) else self.pick(["note", "owner"]): self.value(["x", "y"])}
        if namespaced and self.chance(0.15):
            m["namespace"] = self.pick(NAMESPACES)
        return m

    def resource(self, kind, name, crd_kinds):
        sel = self.labels(1, 2)
        r = self.r
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
            spec = {"selector": {"matchLabels": dict(sel)}, "template": self.template(sel)}
            if kind != "DaemonSet" and self.chance(0.7):
                spec = {"replicas": r.randint(1, 5), **spec}
            if kind == "StatefulSet":
                spec["serviceName"] = self.pick(NAMES)
                if self.chance(0.4):
                    spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"},
                                                     "spec": {"accessModes": ["ReadWriteOnce"]}}]
                    if self.chance(0.5):
                        spec["volumeClaimTemplates"][0]["spec"]["storageClassName"] = self.pick(NAMES[:4])
            return {"apiVersion": "apps/v1", "kind": kind, "metadata": self.meta(name), "spec": spec}
        if kind == "CronJob":
            return {"apiVersion": "batch/v1", "kind": kind, "metadata": self.meta(name),
                    "spec": {"schedule": "*/5 * * * *",
                             "jobTemplate": {"spec": {"template": self.template(sel)}}}}
        if kind == "Job":
            return {"apiVersion": "batch/v1", "kind": kind, "metadata": self.meta(name),
                    "spec": {"template": self.template(sel)}}
        if kind == "Pod":
            return {"apiVersion": "v1", "kind": kind, "metadata": self.meta(name), "spec": self.pod_spec()}
        if kind == "Service":
            spec = {"selector": dict(sel), "ports": [{"port": 80, "targetPort": self.pick([80, "http"])}]}
            if self.chance(0.2):
                spec["type"] = "ClusterIP"
            return {"apiVersion": "v1", "kind": kind, "metadata": self.meta(name), "spec": spec}
        if kind == "Ingress":
            svc = self.pick(NAMES)
            spec = {"rules": [{"host": "x.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": svc, "port": {"number": 80}}}}]}}]}
            if self.chance(0.3):
                spec["tls"] = [{"hosts": ["x.example.com"], "secretName": self.pick(["tls", "creds"])}]
            if self.chance(0.3):
                spec["defaultBackend"] = {"service": {"name": self.pick(NAMES), "port": {"name": "http"}}}
            return {"apiVersion": "networking.k8s.io/v1", "kind": kind, "metadata": self.meta(name), "spec": spec}
        if kind == "HorizontalPodAutoscaler":
            return {"apiVersion": "autoscaling/v2", "kind": kind, "metadata": self.meta(name),
                    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1",
                                                "kind": self.pick(["Deployment", "StatefulSet"]),
                                                "name": self.pick(NAMES)},
                             "minReplicas": 1, "maxReplicas": r.randint(2, 9)}}
        if kind in ("RoleBinding", "ClusterRoleBinding"):
            subj = [{"kind": "ServiceAccount", "name": self.pick(["sa", "runner", "default"])}]
            if self.chance(0.5):
                subj[0]["namespace"] = self.pick(NAMESPACES + ["default"])
            if self.chance(0.2):
                subj.append({"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"})
            rk = "Role" if kind == "RoleBinding" and self.chance(0.6) else "ClusterRole"
            return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                    "metadata": self.meta(name, kind == "RoleBinding"),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": rk,
                                "name": self.pick(["reader", "admin", name])},
                    "subjects": subj}
        if kind in ("Role", "ClusterRole"):
            return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                    "metadata": self.meta(name, kind == "Role"),
                    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
        if kind == "ServiceAccount":
            return {"apiVersion": "v1", "kind": kind, "metadata": self.meta(name)}
        if kind == "PersistentVolumeClaim":
            spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
            if self.chance(0.4):
                spec["storageClassName"] = self.pick(NAMES[:4])
            if self.chance(0.2):
                spec["volumeName"] = self.pick(NAMES[:4])
            return {"apiVersion": "v1", "kind": kind, "metadata": self.meta(name), "spec": spec}
        if kind == "PersistentVolume":
            spec = {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                    "hostPath": {"path": "/tmp/pv"}}
            if self.chance(0.5):
                spec["storageClassName"] = self.pick(NAMES[:4])
            if self.chance(0.4):
                spec["claimRef"] = {"name": self.pick(["data", "logs"]), "namespace": self.pick(NAMESPACES)}
            return {"apiVersion": "v1", "kind": kind, "metadata": self.meta(name, False), "spec": spec}
        if kind == "PriorityClass":
            return {"apiVersion": "scheduling.k8s.io/v1", "kind": kind, "metadata": self.meta(name, False),
                    "value": r.randint(1, 1000)}
        if kind == "StorageClass":
            return {"apiVersion": "storage.k8s.io/v1", "kind": kind, "metadata": self.meta(name, False),
                    "provisioner": "kubernetes.io/no-provisioner"}
        if kind == "APIService":
            return {"apiVersion": "apiregistration.k8s.io/v1", "kind": kind,
                    "metadata": self.meta(name, False),
                    "spec": {"group": CRD_GROUP, "version": "v1", "groupPriorityMinimum": 100,
                             "versionPriority": 10,
                             "service": {"name": self.pick(NAMES), "namespace": self.pick(NAMESPACES)}}}
        if kind == "NetworkPolicy":
            return {"apiVersion": "networking.k8s.io/v1", "kind": kind, "metadata": self.meta(name),
                    "spec": {"podSelector": {"matchLabels": dict(sel)},
                             "ingress": [{"from": [{"podSelector": {"matchLabels": self.labels(1, 1)}}]}]}}
        if kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
                    "metadata": self.meta(name, False),
                    "webhooks": [{"name": "v.example.com", "admissionReviewVersions": ["v1"],
                                  "sideEffects": "None",
                                  "clientConfig": {"service": {"name": self.pick(NAMES),
                                                               "namespace": self.pick(NAMESPACES)}}}]}
        if kind == "ConfigMap":
            return {"apiVersion": "v1", "kind": kind, "metadata": self.meta(name),
                    "data": {self.pick(["k", "a", "b"]): self.value(["v", "1", "x y"])}}
        if kind == "Secret":
            return {"apiVersion": "v1", "kind": kind, "metadata": self.meta(name), "type": "Opaque",
                    "data": {"k": "dg=="}}
        if kind == "Namespace":
            return {"apiVersion": "v1", "kind": kind, "metadata": self.meta(name, False)}
        if kind == "CustomResourceDefinition":
            ck = self.pick(crd_kinds)
            plural = ck.lower() + "s"
            return {"apiVersion": "apiextensions.k8s.io/v1", "kind": kind,
                    "metadata": {"name": f"{plural}.{CRD_GROUP}"},
                    "spec": {"group": CRD_GROUP, "names": {"kind": ck, "plural": plural},
                             "scope": "Namespaced",
                             "versions": [{"name": "v1", "served": True, "storage": True,
                                           "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
        # a custom resource
        spec = {"image": self.pick(IMAGES), "replicas": r.randint(1, 3)}
        if self.chance(0.5):
            spec["configRef"] = {"name": self.pick(["cfg", "settings"])}
        if self.chance(0.4):
            spec["selector"] = {"matchLabels": dict(sel)}
        if self.chance(0.3):
            spec["template"] = self.template(sel)
        return {"apiVersion": f"{CRD_GROUP}/v1", "kind": kind, "metadata": self.meta(name), "spec": spec}

    def styled(self, kind, name):
        """One object as text with comments, block scalars, anchors, flow style and quoted numbers."""
        c = self.chance
        out = []
        if c(0.3):
            out.append("# a comment before the document")
        if c(0.2):
            out.append("---")
        out.append(f"apiVersion: {self.api_of(kind)}  # trailing comment" if c(0.3) else
                   f"apiVersion: {self.api_of(kind)}")
        out.append(f"kind: {kind}" if c(0.8) else f'kind: "{kind}"')
        out.append("metadata:")
        out.append(f"  name: {name}" if c(0.7) else f"  name: '{name}'")
        ns = None
        if c(0.2):
            ns = self.pick(NAMESPACES)
            out.append(f"  namespace: {ns}")
        anchor = c(0.4)
        lbl = self.labels(1, 2)
        flow = ", ".join(f"{k}: {json.dumps(v)}" for k, v in lbl.items())
        if anchor:
            out.append("  labels: &lbl")
            out.extend(f"    {k}: {json.dumps(v)}" for k, v in lbl.items())
        elif c(0.5):
            out.append(f"  labels: {{{flow}}}")
        if c(0.5):
            out.append("  annotations:")
            ann = self.some([
                "    long: " + json.dumps("x" * self.r.randint(70, 130)),
                "    number: \"0123\"",
                "    octal: '0o17'",
                "    float: \"1.50\"",
                "    bool: 'true'",
                "    folded: >\n      folded text\n      on lines\n",
                "    literal: |-\n      one\n        two",
                "    plain-long: " + " ".join(["word"] * self.r.randint(15, 30)),
                "    empty: \"\"",
                "    tilde: '~'",
                "    multi: \"a\\nb\"",
                "    date: 2020-01-01",
                "    quoted-colon: 'a: b'",
            ], 1, 4)
            out.extend(a.rstrip("\n") for a in ann)
        if kind == "ConfigMap":
            out.append("data:")
            items = self.some([
                "  script: |\n    #!/bin/sh\n    echo $(NS) \"quoted\"\n\n    exit 0",
                "  keep: |+\n    kept\n\n",
                "  strip: |-\n    stripped\n    lines",
                "  folded: >-\n    a folded\n    value\n\n    with a break",
                "  indented: |2\n      two more\n    spaces",
                "  json: '{\"a\": 1, \"b\": [1, 2]}'",
                "  port: \"8080\"",
                "  k: v  # comment after a value",
                "  long: " + json.dumps("y" * self.r.randint(80, 200)),
                "  single: 'it''s'",
                "  tab: \"a\\tb\"",
                "  uni: \"\\u00e9t\\u00e9\"",
            ], 1, 5)
            out.extend(items)
            if anchor and c(0.5):
                out.append("binaryData: {}" if c(0.3) else "immutable: false")
        elif kind == "Service":
            out.append("spec:")
            if anchor:
                out.append("  selector: *lbl")
            else:
                out.append(f"  selector: {{{flow}}}")
            if c(0.5):
                out.append("  ports: [{port: 80, targetPort: http, name: http}, {port: 443, name: \"https\"}]")
            else:
                out.append("  ports:\n  - port: 80\n    targetPort: \"8080\"\n    protocol: TCP")
        else:
            out.append("spec:")
            if c(0.5):
                out.append(f"  replicas: {self.r.randint(1, 4)}")
            if anchor:
                out.append("  selector:\n    matchLabels: *lbl")
            else:
                out.append(f"  selector:\n    matchLabels: {{{flow}}}")
            out.append("  template:")
            out.append("    metadata:")
            out.append("      labels: *lbl" if anchor else f"      labels: {{{flow}}}")
            out.append("    spec:")
            out.append("      containers:")
            img = self.pick(IMAGES)
            if c(0.5):
                out.append(f"      - {{name: main, image: {json.dumps(img)}, args: [--a, \"--b=$(SVC_NAME)\"]}}")
            else:
                out.append("      - name: main")
                out.append(f"        image: {img}" if c(0.5) else f"        image: '{img}'")
                out.append("        command:\n        - /bin/sh\n        - -c\n        - |\n          echo start\n          exec app")
                if c(0.5):
                    out.append("        env:\n        - name: A\n          value: \"1\"\n        - {name: B, value: 'yes'}")
            if c(0.4):
                out.append("      volumes:\n      - name: config\n        configMap: {name: cfg}")
        if c(0.2):
            out.append("# a comment at the end")
        return "\n".join(out) + "\n", ns

    # ---- kustomization pieces
    def generator(self, kind, names, taken):
        """A generator; names generated below may be merged or replaced, others created."""
        free = [n for n in names if n not in self.generated[kind] and n not in taken]
        old = [n for n in names if n in self.generated[kind] and n not in taken]
        if old and (not free or self.chance(0.5)):
            g = {"name": self.pick(old), "behavior": self.pick(["merge", "replace", "merge"])}
        elif free:
            g = {"name": self.pick(free)}
            if self.chance(0.15):
                g["behavior"] = "create"
        else:
            return None
        taken.add(g["name"])
        k = self.r.random()
        if k < 0.6:
            g["literals"] = []
            for key in self.some(['k', 'a', 'b', 'MODE'], 1, 3):
                v = self.value(['v', '1', 'x y', 'true', ''])
                g["literals"].append(f"{key}={v.split(chr(10))[0] if self.chance(0.9) else v}")
        elif k < 0.8:
            fname = self.pick(["app.properties", "conf.txt"])
            self.local_files[fname] = self.pick(["a=1\nb=2\n", "hello\n", "x: y\n"])
            g["files"] = [fname if self.chance(0.7) else f"key-{fname}={fname}"]
        else:
            self.local_files["vars.env"] = self.pick(["A=1\nB=two\n", "# c\nX=y\n", "K=v\n"])
            g["envs"] = ["vars.env"]
        if kind == "secret" and self.chance(0.3):
            g["type"] = self.pick(["Opaque", "kubernetes.io/tls"])
        if self.chance(0.02):
            g["behavior"] = self.pick(["create", "merge", "replace"])
        if self.chance(0.3):
            opts = {}
            if self.chance(0.5):
                opts["disableNameSuffixHash"] = self.chance(0.5)
            if self.chance(0.4):
                opts["labels"] = self.labels(1, 1)
            if self.chance(0.4):
                opts["annotations"] = {"gen": "yes"}
            if self.chance(0.2):
                opts["immutable"] = True
            g["options"] = opts
        if self.chance(0.03):
            g["namespace"] = self.pick(NAMESPACES)
        return g

    def target(self, objs, obj=None):
        kind, name, _ = obj if obj and self.chance(0.6) else self.pick(objs)
        t = {}
        k = self.r.random()
        if obj and k < 0.4:
            return {"kind": obj[0], "name": obj[1]}
        if k < 0.5:
            t["kind"] = kind
            if self.chance(0.7):
                t["name"] = name if self.chance(0.7) else self.pick([name[:2] + ".*", "web|api", ".*", "^w.*$"])
        elif k < 0.65:
            t["labelSelector"] = self.pick(["app=web", "tier", "!team", "app in (web,api)", "env!=prod"])
            if self.chance(0.5):
                t["kind"] = kind
        elif k < 0.75:
            t["annotationSelector"] = self.pick(["note=x", "owner", "a=b"])
        elif k < 0.85:
            t["kind"] = self.pick(["Deployment|StatefulSet", "Service", ".*Set"])
        else:
            t["name"] = name
            if self.chance(0.5):
                t["group"] = self.pick(["apps", "", "batch"])
            if self.chance(0.3):
                t["version"] = "v1"
        return t

    def smp(self, kind, name, ns=None):
        p = {"apiVersion": self.api_of(kind), "kind": kind, "metadata": {"name": name}}
        if ns:
            p["metadata"]["namespace"] = ns
        k = self.r.random()
        if k < 0.08:
            p["$patch"] = "delete"
            return p
        if self.chance(0.3):
            p["metadata"]["labels"] = self.labels(1, 2)
        if self.chance(0.2):
            p["metadata"]["annotations"] = {"patched": "true"}
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"):
            spec = {}
            pod = {}
            if kind in ("Deployment", "StatefulSet") and self.chance(0.4):
                spec["replicas"] = self.r.randint(0, 9)
            if self.chance(0.7):
                cs = []
                for cn in self.some(["main", "sidecar", "app", "extra"], 1, 2):
                    c = {"name": cn}
                    kk = self.r.random()
                    if kk < 0.3:
                        c["image"] = self.pick(IMAGES)
                    elif kk < 0.45:
                        c["$patch"] = "delete"
                    elif kk < 0.6:
                        c["env"] = [{"name": "A", "value": "patched"}, {"name": "NEW", "value": "1"}]
                    elif kk < 0.7:
                        c["env"] = [{"name": "A", "$patch": "delete"}]
                    elif kk < 0.8:
                        c["$deleteFromPrimitiveList/args"] = ["--a", "--c"]
                        c["args"] = ["--z"]
                    elif kk < 0.9:
                        c["ports"] = [{"containerPort": 9090, "name": "metrics"}]
                    else:
                        c["resources"] = {"$retainKeys": ["limits"], "limits": {"cpu": "2"}}
                    cs.append(c)
                pod["containers"] = cs
                if self.chance(0.2):
                    pod["$setElementOrder/containers"] = [{"name": c["name"]} for c in cs][::-1]
            if self.chance(0.2):
                pod["volumes"] = [{"name": "config", "$patch": "delete"}] if self.chance(0.5) else \
                    [{"name": "extra", "emptyDir": {}}]
            if self.chance(0.15):
                pod["containers"] = [{"$patch": "replace"}, {"name": "only", "image": "busybox"}] \
                    if self.chance(0.5) else pod.get("containers", [])
            if self.chance(0.1):
                pod["$retainKeys"] = ["containers"]
            if self.chance(0.1):
                pod["serviceAccountName"] = self.pick(["sa", "runner"])
            tmpl = {"spec": pod} if pod else {}
            if self.chance(0.2):
                tmpl["metadata"] = {"labels": self.labels(1, 1)}
            if kind == "CronJob":
                spec["jobTemplate"] = {"spec": {"template": tmpl}}
            elif tmpl:
                spec["template"] = tmpl
            if self.chance(0.1):
                spec = {"$patch": "replace", **spec}
            if spec:
                p["spec"] = spec
        elif kind == "Service":
            p["spec"] = {"ports": [{"port": self.pick([80, 443]), "targetPort": 8443, "name": "https"}]}
            if self.chance(0.2):
                p["spec"]["selector"] = {"$patch": "replace", "app": "new"}
        elif kind == "ConfigMap":
            p["data"] = {"k": "patched", "new": "1"}
            if self.chance(0.2):
                p["data"] = {"$patch": "replace", "only": "1"}
        elif kind in ("RoleBinding", "ClusterRoleBinding"):
            p["subjects"] = [{"kind": "ServiceAccount", "name": "other"}]
        else:
            p["spec"] = {"replicas": 7} if kind not in ("Ingress", "NetworkPolicy") else {}
        return p

    def json6902(self, kind):
        """A JSON patch whose paths mostly exist in an object of this kind."""
        ops = []
        pod = {"Deployment": "/spec/template/spec", "StatefulSet": "/spec/template/spec",
               "DaemonSet": "/spec/template/spec", "Job": "/spec/template/spec",
               "CronJob": "/spec/jobTemplate/spec/template/spec", "Pod": "/spec"}.get(kind)
        for _ in range(self.r.randint(1, 3)):
            k = self.r.random()
            if k < 0.2:
                ops.append({"op": "add", "path": "/metadata/annotations", "value": {"added": self.pick(["x", "1"])}})
                if self.chance(0.4):
                    ops.append(self.pick([
                        {"op": "remove", "path": "/metadata/annotations/added"},
                        {"op": "copy", "from": "/metadata/name", "path": "/metadata/annotations/copied"},
                        {"op": "move", "from": "/metadata/annotations/added", "path": "/metadata/annotations/moved"},
                        {"op": "test", "path": "/metadata/annotations/added", "value": self.pick(["x", "1"])}]))
            elif k < 0.3:
                ops.append({"op": "add", "path": "/metadata/labels", "value": self.labels(1, 2)})
            elif k < 0.37:
                ops.append({"op": "replace", "path": "/metadata/name", "value": self.pick(NAMES) + "-renamed"})
            elif k < 0.42:
                ops.append({"op": "test", "path": "/kind", "value": kind})
            elif pod and k < 0.55:
                ops.append({"op": "replace", "path": pod + "/containers/0/image", "value": self.pick(IMAGES)})
            elif pod and k < 0.65:
                ops.append({"op": "add", "path": pod + self.pick(["/containers/-", "/containers/0", "/containers/1"]),
                            "value": {"name": "added", "image": self.pick(IMAGES)}})
            elif pod and k < 0.7:
                ops.append({"op": "add", "path": pod + "/containers/0/args", "value": ["--x", "$(SVC_NAME)"]})
            elif pod and k < 0.75 and kind != "Pod":
                ops.append({"op": "add", "path": pod.rsplit("/spec", 1)[0] + "/metadata/labels/x", "value": "1"})
            elif kind in ("Deployment", "StatefulSet", "ReplicaSet") or kind in self.crd_kinds:
                ops.append({"op": self.pick(["add", "replace"]), "path": "/spec/replicas",
                            "value": self.r.randint(0, 9)})
            elif kind == "Service":
                ops.append({"op": "replace", "path": "/spec/ports/0/port", "value": 8080})
            elif kind == "ConfigMap":
                ops.append({"op": "add", "path": "/data/new", "value": self.pick(["v", "1"])})
            elif kind in ("RoleBinding", "ClusterRoleBinding"):
                ops.append({"op": "add", "path": "/subjects/-",
                            "value": {"kind": "ServiceAccount", "name": "added", "namespace": "default"}})
            else:
                ops.append({"op": "add", "path": "/metadata/annotations", "value": {"k": "v"}})
            if self.chance(0.01):
                ops.append({"op": "remove", "path": "/spec/missing"})
        return ops

    def api_of(self, kind):
        return self.apis.get(kind, "v1")

    def kustomization(self, d, objs, resources, is_component=False, top=False):
        """Fields of a kustomization in directory d; objs is [(kind, name)] visible below it."""
        k = {}
        if is_component:
            k["apiVersion"] = "kustomize.config.k8s.io/v1alpha1"
            k["kind"] = "Component"
        elif self.chance(0.5):
            k["apiVersion"] = "kustomize.config.k8s.io/v1beta1"
            k["kind"] = "Kustomization"
        if resources:
            k["resources"] = resources
        self.local_files = {}
        if self.chance(0.3):
            k["namespace"] = self.pick(NAMESPACES)
        if self.chance(0.25):
            k["namePrefix"] = self.pick(["p-", "pre-", "a-"])
        if self.chance(0.2):
            k["nameSuffix"] = self.pick(["-s", "-v1", "-x"])
        if self.chance(0.25):
            k["commonLabels"] = self.labels(1, 2)
        if self.chance(0.25):
            entry = {"pairs": self.labels(1, 2)}
            if self.chance(0.5):
                entry["includeSelectors"] = self.chance(0.5)
            if self.chance(0.5):
                entry["includeTemplates"] = self.chance(0.6)
            if self.chance(0.2):
                entry["fields"] = [{"path": self.pick(["spec/selector", "metadata/annotations/lbl",
                                                        "spec/template/metadata/labels"]),
                                    "kind": self.pick(["Deployment", "Service", "MyApp"]),
                                    "create": self.chance(0.5)}]
            k["labels"] = [entry] + ([{"pairs": self.labels(1, 1)}] if self.chance(0.2) else [])
        if self.chance(0.2):
            k["commonAnnotations"] = {self.pick(["note", "owner", "team"]): self.value(["x", "", "1", "a b"])}
        if self.chance(0.3):
            imgs = []
            for n in self.some(IMAGE_NAMES, 1, 2):
                im = {"name": n}
                for f in self.some(["newName", "newTag", "digest"], 1, 2):
                    im[f] = {"newName": self.pick(["quay.io/x/" + n.split("/")[-1].split(":")[0], "local"]),
                             "newTag": self.pick(["v2", "latest", "1.2.3"]),
                             "digest": "sha256:" + "b" * 64}[f]
                imgs.append(im)
            k["images"] = imgs
        scalable = ("Deployment", "StatefulSet", "ReplicaSet")
        workloads = [o[1] for o in objs if all(p[0] in scalable for p in objs if p[1] == o[1])]
        if workloads and self.chance(0.2):
            k["replicas"] = [{"name": self.pick(workloads), "count": self.r.randint(0, 9)}]
        if objs and self.chance(0.45):
            patches = []
            for _ in range(self.r.randint(1, 3)):
                obj = self.pick(objs)
                kind, name, ns = obj
                kk = self.r.random()
                p = {}
                if kk < 0.3:
                    p["patch"] = dump([self.smp(kind, name, ns)])
                elif kk < 0.5:
                    fname = f"smp-{len(self.local_files)}.yaml"
                    docs = [self.smp(kind, name, ns)]
                    if self.chance(0.25):
                        # several strategic merge patches in one file
                        docs.append(self.smp(*self.pick(objs)))
                    self.local_files[fname] = dump(docs)
                    p["path"] = fname
                elif kk < 0.75:
                    p["patch"] = dump([self.json6902(kind)])
                    p["target"] = self.target(objs, obj)
                else:
                    fname = f"json-{len(self.local_files)}.yaml"
                    self.local_files[fname] = dump([self.json6902(kind)])
                    p["path"] = fname
                    p["target"] = self.target(objs, obj)
                if "target" not in p and self.chance(0.3):
                    p["target"] = self.target(objs, obj)
                if self.chance(0.1):
                    p["options"] = {self.pick(["allowNameChange", "allowKindChange"]): True}
                patches.append(p)
            k["patches"] = patches
        if objs and self.chance(0.15):
            psm = []
            for _ in range(self.r.randint(1, 2)):
                kind, name, ns = self.pick(objs)
                if self.chance(0.5):
                    psm.append(dump([self.smp(kind, name, ns)]))
                else:
                    fname = f"psm-{len(self.local_files)}.yaml"
                    docs = [self.smp(kind, name, ns)]
                    if self.chance(0.3):
                        docs.append(self.smp(*self.pick(objs)))
                    self.local_files[fname] = dump(docs)
                    psm.append(fname)
            k["patchesStrategicMerge"] = psm
        if objs and self.chance(0.08):
            kind, name, _ = self.pick(objs)
            fname = f"p6902-{len(self.local_files)}.yaml"
            self.local_files[fname] = dump([self.json6902(kind)])
            k["patchesJson6902"] = [{"target": {"group": self.api_of(kind).rpartition("/")[0],
                                                "version": self.api_of(kind).rpartition("/")[2],
                                                "kind": kind, "name": name}, "path": fname}]
        made = {"cm": set(), "secret": set()}
        if self.chance(0.3):
            gens = [self.generator("cm", ["cfg", "settings", "cfg2"], made["cm"])
                    for _ in range(self.r.randint(1, 2))]
            k["configMapGenerator"] = [g for g in gens if g]
        if self.chance(0.2):
            gens = [self.generator("secret", ["creds", "tls"], made["secret"])]
            k["secretGenerator"] = [g for g in gens if g]
        for kind in made:
            self.generated[kind] |= made[kind]
        if self.chance(0.12):
            opts = {}
            for f in self.some(["disableNameSuffixHash", "labels", "annotations", "immutable"], 1, 2):
                opts[f] = {"disableNameSuffixHash": self.chance(0.5), "labels": {"g": "l"},
                           "annotations": {"g": "a"}, "immutable": self.chance(0.5)}[f]
            k["generatorOptions"] = opts
        if objs and self.chance(0.2):
            reps = []
            for _ in range(self.r.randint(1, 2)):
                skind, sname, _ = self.pick(objs)
                src = {"kind": skind, "name": sname,
                       "fieldPath": "metadata.name" if self.chance(0.8) else
                       self.pick(["metadata.name", "metadata.namespace", "spec.replicas",
                                               "metadata.labels.app", "data.k",
                                               "spec.template.spec.containers.0.image",
                                               "spec.template.spec.containers.[name=main].image"])}
                if self.chance(0.2):
                    src["options"] = {"delimiter": self.pick([":", "-", "/"]), "index": self.r.randint(-1, 2)}
                tkind, tname, _ = self.pick(objs)
                tsel = {"kind": tkind}
                if self.chance(0.6):
                    tsel["name"] = tname
                tgt = {"select": tsel,
                       "fieldPaths": self.some(["metadata.annotations.copied", "spec.replicas",
                                                "spec.template.spec.containers.[name=main].image",
                                                "spec.template.spec.containers.*.env.[name=A].value"
                                                if self.chance(0.2) else "metadata.annotations.other",
                                                "metadata.labels.app", "data.k", "spec.serviceName",
                                                "spec.template.metadata.labels.x"], 1, 2)}
                if self.chance(0.9):
                    tgt["options"] = {}
                    if self.chance(0.95):
                        tgt["options"]["create"] = True
                    if self.chance(0.4):
                        tgt["options"]["delimiter"] = "-"
                        tgt["options"]["index"] = self.r.randint(0, 1)
                if self.chance(0.15):
                    tgt["reject"] = [{"name": self.pick(NAMES)}]
                if self.chance(0.1):
                    tgt["reject"] = [self.pick([{"kind": tkind}, {"namespace": self.pick(NAMESPACES)},
                                                {"labelSelector": "app=web"}, {"name": tname, "kind": tkind}])]
                if self.chance(0.15):
                    tsel = self.pick([{"labelSelector": self.pick(["app=web", "tier", "env!=prod"])},
                                      {"kind": tkind, "namespace": self.pick(NAMESPACES)},
                                      {"annotationSelector": "note"}, {"kind": tkind, "version": "v1"},
                                      {"group": self.pick(["apps", "", CRD_GROUP]), "kind": tkind}])
                    tgt["select"] = tsel
                if self.chance(0.15):
                    tgt["fieldPaths"] = [self.pick([
                        "spec.template.spec.containers.[name=main].env.[name=A].value",
                        "spec.template.spec.containers.[image=nginx].name",
                        "spec.template.spec.volumes.[name=config].configMap.name",
                        "spec.ports.[port=80].name", "spec.rules.0.host", "subjects.[kind=ServiceAccount].name",
                        "metadata.annotations.[a.b/c]", "spec.template.spec.containers.*.image",
                        "spec.template.spec.containers.[name=new].image"])]
                if self.chance(0.1):
                    src = {"kind": skind, "name": sname, "fieldPath": "metadata.name"} \
                        if self.chance(0.5) else {"name": sname, "fieldPath": "metadata.annotations.note"}
                    if self.chance(0.5):
                        src["namespace"] = self.pick(NAMESPACES)
                rep = {"source": src, "targets": [tgt]}
                if self.chance(0.1):
                    fname = f"repl-{len(self.local_files)}.yaml"
                    self.local_files[fname] = dump([rep])
                    reps.append({"path": fname})
                else:
                    reps.append(rep)
            k["replacements"] = reps
        if objs and self.chance(0.12) and not is_component:
            vs = []
            used = set()
            for vn in self.some(["SVC_NAME", "NS"], 1, 2):
                kind, name, ns = self.pick(objs)
                v = {"name": vn, "objref": {"kind": kind, "name": name, "apiVersion": self.api_of(kind)}}
                if self.chance(0.7):
                    v["fieldref"] = {"fieldPath": "metadata.namespace" if vn == "NS" and ns else
                                     "metadata.name" if self.chance(0.9) else
                                     self.pick(["spec.replicas", "metadata.labels.app"])}
                vs.append(v)
                used.add(vn)
            k["vars"] = vs
        if self.chance(0.08):
            self.local_files["config.yaml"] = dump([self.configuration()])
            k["configurations"] = ["config.yaml"]
        if self.chance(0.05) and self.crd_kinds:
            self.local_files["crd-schema.json"] = json.dumps(self.legacy_crd(), indent=1) + "\n"
            k["crds"] = ["crd-schema.json"]
        if top and self.chance(0.1):
            if self.chance(0.5):
                k["sortOptions"] = {"order": "fifo"}
            else:
                so = {"order": "legacy"}
                if self.chance(0.7):
                    so["legacySortOptions"] = {"orderFirst": self.some(["Service", "Deployment", "ConfigMap", "Namespace"], 0, 2),
                                               "orderLast": self.some(["Ingress", "ValidatingWebhookConfiguration", "Pod"], 0, 2)}
                k["sortOptions"] = so
        if self.chance(0.08):
            k["buildMetadata"] = self.some(["managedByLabel", "originAnnotations", "transformerAnnotations"], 1, 3)
        if self.chance(0.04):
            self.local_files["schema.json"] = json.dumps(self.openapi_schema(), indent=1) + "\n"
            k["openapi"] = {"path": "schema.json"}
        if self.chance(0.15):
            ts = []
            for _ in range(self.r.randint(1, 2)):
                cfg = self.builtin_transformer(objs)
                if self.chance(0.5):
                    ts.append(dump([cfg]))
                else:
                    fname = f"tr-{len(self.local_files)}.yaml"
                    self.local_files[fname] = dump([cfg])
                    ts.append(fname)
            k["transformers"] = ts
        if self.chance(0.1):
            gs = []
            for _ in range(self.r.randint(1, 2)):
                cfg = self.builtin_generator(made)
                if self.chance(0.5):
                    gs.append(dump([cfg]))
                else:
                    fname = f"gen-{len(self.local_files)}.yaml"
                    self.local_files[fname] = dump([cfg])
                    gs.append(fname)
            k["generators"] = gs
            for kind in made:
                self.generated[kind] |= made[kind]
        if not is_component and self.chance(0.3):
            # key order is kustomize's business, not ours: shuffle it now and then
            items = list(k.items())
            self.r.shuffle(items)
            k = dict(items)
        for f, text in self.local_files.items():
            self.files[f"{d}/{f}"] = text
        return k

    def field_specs(self, path, kinds=None, create=None):
        fs = {"path": path}
        if kinds:
            fs["kind"] = self.pick(kinds)
        if create is not None:
            fs["create"] = create
        return fs

    def builtin_transformer(self, objs):
        """A builtin transformer's configuration, as the transformers field takes it."""
        kind = self.pick(["PrefixSuffixTransformer", "LabelTransformer", "AnnotationsTransformer",
                          "NamespaceTransformer", "ImageTagTransformer", "ReplicaCountTransformer",
                          "PatchTransformer", "PatchStrategicMergeTransformer", "PatchJson6902Transformer",
                          "ReplacementTransformer", "PrefixSuffixTransformer", "LabelTransformer"])
        c = {"apiVersion": "builtin", "kind": kind, "metadata": {"name": "t-" + self.pick(["a", "b"])}}
        workloads = ["Deployment", "StatefulSet", "Service", "ConfigMap"] + self.crd_kinds
        if kind == "PrefixSuffixTransformer":
            if self.chance(0.7):
                c["prefix"] = self.pick(["tp-", "x-"])
            if self.chance(0.5):
                c["suffix"] = self.pick(["-ts", "-y"])
            c["fieldSpecs"] = [self.field_specs("metadata/name", workloads if self.chance(0.3) else None)]
        elif kind in ("LabelTransformer", "AnnotationsTransformer"):
            key = "labels" if kind == "LabelTransformer" else "annotations"
            c[key] = self.labels(1, 2)
            fss = [self.field_specs(f"metadata/{key}", None, True)]
            if self.chance(0.5):
                fss.append(self.field_specs(self.pick(["spec/selector/matchLabels", "spec/template/metadata/" + key,
                                                       "spec/selector"]),
                                            workloads if self.chance(0.7) else None, self.chance(0.5)))
            if self.chance(0.15):
                fss = []
            c["fieldSpecs"] = fss
        elif kind == "NamespaceTransformer":
            c["metadata"]["namespace"] = self.pick(NAMESPACES)
            c["fieldSpecs"] = [self.field_specs("metadata/namespace", None, True)]
            if self.chance(0.3):
                c["unsetOnly"] = True
            if self.chance(0.3):
                c["setRoleBindingSubjects"] = self.pick(["none", "defaultOnly", "allServiceAccounts"])
        elif kind == "ImageTagTransformer":
            it = {"name": self.pick(IMAGE_NAMES)}
            for f in self.some(["newName", "newTag", "digest"], 1, 2):
                it[f] = {"newName": "plug/" + it["name"].split("/")[-1], "newTag": "p1",
                         "digest": "sha256:" + "c" * 64}[f]
            c["imageTag"] = it
            fss = [self.field_specs("spec/template/spec/containers[]/image")]
            if self.chance(0.3):
                fss.append(self.field_specs("spec/image", self.crd_kinds or ["MyApp"]))
            if self.chance(0.2):
                fss = []
            c["fieldSpecs"] = fss
        elif kind == "ReplicaCountTransformer":
            _, name, _ = self.pick(objs) if objs else (None, "web", None)
            c["replica"] = {"name": name, "count": self.r.randint(0, 9)}
            c["fieldSpecs"] = [self.field_specs("spec/replicas", ["Deployment", "StatefulSet"] + self.crd_kinds,
                                                self.chance(0.5))]
        elif kind == "PatchTransformer":
            if objs:
                okind, name, ns = self.pick(objs)
            else:
                okind, name, ns = "Deployment", "web", None
            if self.chance(0.5):
                c["patch"] = dump([self.smp(okind, name, ns)])
            else:
                c["patch"] = json.dumps(self.json6902(okind))
                c["target"] = {"kind": okind, "name": name}
            if self.chance(0.3):
                c["target"] = {"kind": okind}
        elif kind == "PatchStrategicMergeTransformer":
            if objs:
                okind, name, ns = self.pick(objs)
            else:
                okind, name, ns = "Deployment", "web", None
            c["patches"] = dump([self.smp(okind, name, ns)])
        elif kind == "PatchJson6902Transformer":
            okind, name, _ = self.pick(objs) if objs else ("Deployment", "web", None)
            c["target"] = {"kind": okind, "name": name}
            if self.api_of(okind) != "v1":
                c["target"]["group"] = self.api_of(okind).rpartition("/")[0]
            c["target"]["version"] = self.api_of(okind).rpartition("/")[2]
            c["jsonOp"] = json.dumps(self.json6902(okind)) if self.chance(0.5) else dump([self.json6902(okind)])
        else:
            okind, name, _ = self.pick(objs) if objs else ("Deployment", "web", None)
            tkind, tname, _ = self.pick(objs) if objs else ("Deployment", "web", None)
            c["replacements"] = [{"source": {"kind": okind, "name": name},
                                  "targets": [{"select": {"kind": tkind},
                                               "fieldPaths": ["metadata.annotations.from"],
                                               "options": {"create": True}}]}]
        return c

    def builtin_generator(self, made):
        kind = self.pick(["ConfigMapGenerator", "SecretGenerator"])
        g = "cm" if kind == "ConfigMapGenerator" else "secret"
        names = ["cfg", "settings", "plug"] if g == "cm" else ["creds", "tls", "plug"]
        name = self.pick(names)
        c = {"apiVersion": "builtin", "kind": kind, "metadata": {"name": name}}
        if self.chance(0.2):
            c["metadata"]["namespace"] = self.pick(NAMESPACES)
        c["literals"] = [f"{k}={self.value(['v', '1', 'x y'])}".split("\n")[0]
                         for k in self.some(["k", "a", "PLUG"], 1, 2)]
        if name in self.generated[g] and self.chance(0.6):
            c["behavior"] = self.pick(["merge", "replace"])
        elif self.chance(0.05):
            c["behavior"] = "create"
        if self.chance(0.3):
            c["options"] = {self.pick(["disableNameSuffixHash", "immutable"]): True}
            if self.chance(0.3):
                c["options"]["labels"] = {"plug": "x"}
        if g == "secret" and self.chance(0.3):
            c["type"] = "Opaque"
        made[g].add(name)
        return c

    def configuration(self):
        c = {}
        ck = self.pick(self.crd_kinds) if self.crd_kinds else "MyApp"
        if self.chance(0.6):
            c["nameReference"] = [{"kind": self.pick(["ConfigMap", "Secret", "Deployment"]),
                                   "fieldSpecs": [{"kind": ck, "path": self.pick(["spec/configRef/name", "spec/target"])}]}]
        if self.chance(0.4):
            c["commonLabels"] = [{"kind": ck, "path": "spec/selector/matchLabels", "create": self.chance(0.5)}]
        if self.chance(0.4):
            c["images"] = [{"kind": ck, "path": "spec/image"}]
        if self.chance(0.3):
            c["replicas"] = [{"kind": ck, "path": "spec/replicas"}]
        if self.chance(0.3):
            c["namePrefix"] = [{"path": "metadata/name"}, {"kind": ck, "path": "spec/configRef/name"}]
        if self.chance(0.2):
            c["varReference"] = [{"kind": ck, "path": "spec/image"}]
        if not c:
            c["commonAnnotations"] = [{"kind": ck, "path": "spec/template/metadata/annotations", "create": True}]
        return c

    def legacy_crd(self):
        ck = self.pick(self.crd_kinds)
        props = {"configRef": {"type": "object", "x-kubernetes-object-ref-kind": "ConfigMap",
                               "x-kubernetes-object-ref-name-key": "name",
                               "properties": {"name": {"type": "string"}}}}
        if self.chance(0.5):
            props["selector"] = {"type": "object", "x-kubernetes-label-selector": {}}
        return {"github.com/example/api/v1." + ck: {
            "Schema": {"description": ck, "properties": {
                "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                "metadata": {"$ref": "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta"},
                "spec": {"$ref": "github.com/example/api/v1." + ck + "Spec"}}},
            "Dependencies": []},
            "github.com/example/api/v1." + ck + "Spec": {"Schema": {"properties": props}, "Dependencies": []}}

    def openapi_schema(self):
        ck = self.pick(self.crd_kinds) if self.crd_kinds else "MyApp"
        return {"definitions": {f"com.example.v1.{ck}": {
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "value": {"type": "string"}}},
                    "x-kubernetes-patch-merge-key": "name",
                    "x-kubernetes-patch-strategy": "merge"}}}},
            "x-kubernetes-group-version-kind": [{"group": CRD_GROUP, "kind": ck, "version": "v1"}]}}}

    CLUSTER_KINDS = ("Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                     "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "PriorityClass",
                     "StorageClass", "PersistentVolume", "APIService")

    def moved(self, objs, k):
        """The objects a kustomization gives on: its namespace field moves the namespaced ones."""
        ns = k.get("namespace")
        if not ns:
            return objs
        return [(kind, name, ns if kind not in self.CLUSTER_KINDS else n) for kind, name, n in objs]

    # ---- the tree
    def tree(self):
        # a share of trees uses strings that are hard to write as YAML
        self.tricky = 0.0 if self.chance(0.6) else 0.3
        self.crd_kinds = self.some(["MyApp", "Widget"], 0, 2)
        self.apis = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
                     "ReplicaSet": "apps/v1", "CronJob": "batch/v1", "Job": "batch/v1",
                     "Ingress": "networking.k8s.io/v1", "NetworkPolicy": "networking.k8s.io/v1",
                     "HorizontalPodAutoscaler": "autoscaling/v2",
                     "RoleBinding": "rbac.authorization.k8s.io/v1",
                     "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
                     "Role": "rbac.authorization.k8s.io/v1", "ClusterRole": "rbac.authorization.k8s.io/v1",
                     "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
                     "MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
                     "PriorityClass": "scheduling.k8s.io/v1", "StorageClass": "storage.k8s.io/v1",
                     "APIService": "apiregistration.k8s.io/v1",
                     "CustomResourceDefinition": "apiextensions.k8s.io/v1"}
        for ck in self.crd_kinds:
            self.apis[ck] = f"{CRD_GROUP}/v1"
        kinds = ["Deployment", "StatefulSet", "CronJob", "Job", "DaemonSet", "Pod", "Service", "Ingress",
                 "HorizontalPodAutoscaler", "RoleBinding", "ClusterRoleBinding", "ServiceAccount",
                 "PersistentVolumeClaim", "NetworkPolicy", "ValidatingWebhookConfiguration", "ConfigMap",
                 "Secret", "Role", "ClusterRole", "Namespace"]
        if self.chance(0.5):
            kinds += ["PriorityClass", "StorageClass", "PersistentVolume", "MutatingWebhookConfiguration",
                      "APIService"]
        if self.crd_kinds:
            kinds += ["CustomResourceDefinition"] + self.crd_kinds * 2
        self.kinds = kinds
        self.generated = {"cm": set(), "secret": set()}

        seen = set()
        below = {"cm": set(), "secret": set()}

        def component(d, objs, inner=None):
            """Component d, which may hold component inner; gives the objects as it leaves them."""
            docs = [self.resource(self.pick(kinds[:12]), self.pick(NAMES), self.crd_kinds)]
            self.files[f"{d}/extra.yaml"] = dump(docs)
            cobjs = objs + [(docs[0]["kind"], docs[0]["metadata"]["name"], docs[0]["metadata"].get("namespace"))]
            if inner:
                cobjs = component(inner, cobjs)
            k = self.kustomization(d, cobjs, ["extra.yaml"] if self.chance(0.7) else [], is_component=True)
            if inner:
                k["components"] = [f"../{inner}"]
            self.files[f"{d}/kustomization.yaml"] = k
            return self.moved(cobjs, k)

        def base(d):
            self.generated = {"cm": set(), "secret": set()}
            objs = []
            files = []
            for fi in range(self.r.randint(1, 3)):
                docs = []
                for _ in range(self.r.randint(1, 3)):
                    kind = self.pick(kinds)
                    if kind == "Namespace" and (self.chance(0.7) or any(k == kind for k, _ in seen)):
                        kind = "ServiceAccount"
                    name = self.pick(NAMES + ["sa", "cfg", "data", "runner"])
                    if kind == "CustomResourceDefinition":
                        doc = self.resource(kind, name, self.crd_kinds)
                        name = doc["metadata"]["name"]
                    else:
                        doc = self.resource(kind, name, self.crd_kinds)
                    if (kind, name) in seen and not self.chance(0.03):
                        continue
                    seen.add((kind, name))
                    docs.append(doc)
                    objs.append((kind, name, doc["metadata"].get("namespace")))
                if docs:
                    fn = f"r{fi}.yaml"
                    self.files[f"{d}/{fn}"] = dump(docs)
                    files.append(fn)
            if self.chance(0.3):
                # a file written by hand: YAML styles PyYAML does not write
                kind = self.pick(["ConfigMap", "Deployment", "Service"])
                name = self.pick(NAMES + ["cfg", "settings"])
                if (kind, name) not in seen:
                    seen.add((kind, name))
                    text, ns = self.styled(kind, name)
                    self.files[f"{d}/styled.yaml"] = text
                    files.insert(self.r.randint(0, len(files)), "styled.yaml")
                    objs.append((kind, name, ns))
            bcomp = None
            if self.chance(0.1):
                objs = component(f"{d}-comp", objs)
                bcomp = f"../{d}-comp"
            k = self.kustomization(d, objs, files)
            if bcomp:
                k["components"] = [bcomp]
            self.files[f"{d}/kustomization.yaml"] = k
            for g in below:
                below[g] |= self.generated[g]
            return self.moved(objs, k)

        objs = base("base")
        resources = ["../base"]
        if self.chance(0.3):
            objs += base("base2")
            resources.append("../base2")
        layout = self.r.random()
        if layout < 0.2:
            self.top = "base"
            self.top_objs = objs
            return
        comp = None
        self.generated = below
        if self.chance(0.35):
            # a component adds a resource of its own and transforms what it is given
            nested = self.chance(0.3)
            objs = component("comp", objs, "comp2" if nested else None)
            comp = ["../comp"]
            if not nested and self.chance(0.15):
                # two sibling components, applied in their order
                objs = component("comp2", objs)
                comp.append("../comp2")
        extra = []
        if self.chance(0.3):
            docs = [self.resource(self.pick(kinds), self.pick(NAMES), self.crd_kinds)]
            self.files["overlay/own.yaml"] = dump(docs)
            objs = objs + [(docs[0]["kind"], docs[0]["metadata"]["name"], docs[0]["metadata"].get("namespace"))]
            extra = ["own.yaml"]
        k = self.kustomization("overlay", objs, resources + extra, top=True)
        if comp:
            k["components"] = comp
        self.files["overlay/kustomization.yaml"] = k
        self.top = "overlay"
        self.top_objs = objs

    def generate(self):
        self.tree()
        return {"files": self.files, "top": self.top}

# Image references with registry ports, digests and both, for --mode deep.
DEEP_IMAGES = ["localhost:5000/team/app:v1", "registry.local:443/x/y@sha256:" + "d" * 64,
               "nginx:1.19@sha256:" + "e" * 64, "docker.io/library/nginx:1.25", "ghcr.io/o/r/app",
               "my.registry:5000/team/api:2.0", "localhost:5000/team/app", "alpine"]
DEEP_IMAGE_NAMES = ["localhost:5000/team/app", "registry.local:443/x/y", "nginx", "docker.io/library/nginx",
                    "ghcr.io/o/r/app", "my.registry:5000/team/api", "alpine", "nginx:1.19"]


class DeepGen(Gen):
    """--mode deep: the classic tree, then more layers and shapes drawn from a second stream.

    Tree i of seed S in this mode is the classic tree i of seed S (same draws), or in half the
    trees a plain base of a few objects instead, extended from random.Random(f"{S}:{i}:deep"):
    an overlay on top when the tree has none; a file of
    resources in unusual YAML (merge keys, document end markers, empty and comment-only documents,
    quoted and complex keys, explicit tags, a flow-style document, `kind: List`); two to four
    component layers, nested or side by side, each adding an object and patching objects of other
    layers; replacements whose source is a generated ConfigMap, with source and target options,
    selectors and rejections by label/annotation/namespace and `[key=value]`/`*` paths; images with
    registry ports and digests; strategic merge patches with list directives; JSON 6902
    move/copy/test with escaped paths; configurations with CRD field specs (create) and
    `labels` fields; custom legacy sort orders.
    """

    def __init__(self, seed, index):
        super().__init__(seed, index)
        self.deep_r = random.Random(f"{seed}:{index}:deep")

    def generate(self):
        self.tree()
        self.r = self.deep_r
        self.deepen()
        return {"files": self.files, "top": self.top}

    def obj_of(self, doc):
        return (doc["kind"], doc["metadata"]["name"], doc["metadata"].get("namespace"))

    def deepen(self):
        self.plain_base(0.5)
        self.deepen_rest()

    def plain_base(self, p):
        """Half the trees start from a plain base instead of the classic tree, which fails
        to build about half the time: the pieces added after it are then judged on output too.
        Either way the top is an overlay."""
        if self.chance(p):
            self.files = {}
            self.generated = {"cm": set(), "secret": set()}
            docs, objs, seen = [], [], set()
            for _ in range(self.r.randint(2, 5)):
                kind = self.pick([k for k in self.kinds if k != "Namespace"])
                doc = self.resource(kind, self.pick(NAMES), self.crd_kinds)
                key = (kind, doc["metadata"]["name"])
                if key in seen:
                    continue
                seen.add(key)
                docs.append(doc)
                objs.append(self.obj_of(doc))
            self.files["base/r.yaml"] = dump(docs)
            self.files["base/kustomization.yaml"] = {"resources": ["r.yaml"]}
            self.top, self.top_objs = "base", objs
        if self.top == "base":
            self.files["overlay/kustomization.yaml"] = {"resources": ["../base"]}
            self.top = "overlay"

    def deepen_rest(self):
        k = self.files["overlay/kustomization.yaml"]
        objs = list(self.top_objs)
        if self.chance(0.5):
            text, new = self.odd_yaml()
            self.files["overlay/deep-odd.yaml"] = text
            k.setdefault("resources", []).append("deep-odd.yaml")
            objs += new
        if self.chance(0.45):
            objs = self.layers(k, objs)
        if self.chance(0.5):
            self.generated_replacements(k, objs)
        if self.chance(0.35):
            self.deep_images(k, objs)
        if objs and self.chance(0.5):
            self.deep_patches(k, objs)
        if self.crd_kinds and self.chance(0.3):
            self.crd_configuration(k)
        if self.chance(0.15):
            k["sortOptions"] = {"order": "legacy", "legacySortOptions": {
                "orderFirst": self.some(["Service", "ConfigMap", "MyApp", "Deployment", "List", "Secret"], 0, 3),
                "orderLast": self.some(["Deployment", "Ingress", "Widget", "ServiceAccount"], 0, 2)}}

    # ---- resources in YAML shapes PyYAML never writes
    def odd_yaml(self):
        c = self.chance
        docs, objs = [], []
        ns = f"\n  namespace: {self.pick(NAMESPACES)}" if c(0.2) else ""
        if c(0.7):
            docs.append(
                "# merge keys and anchors\n"
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd-cm" + ns + "\n"
                "  labels: &lbl {app: odd, \"tier\": '1'}\n"
                + ("  annotations:\n    <<: {merged: \"yes\"}\n    own: x\n" if c(0.5) else "")
                + "data:\n  <<: &defaults\n    a: \"1\"\n    b: two\n  b: override\n"
                + ("  \"quoted key\": 'v'\n" if c(0.5) else "")
                + ("  ? complex\n  : value\n" if c(0.3) else "")
                + ("  num: !!str 123\n" if c(0.4) else "")
                + ("  multi: >+\n    kept\n\n" if c(0.3) else ""))
            objs.append(("ConfigMap", "odd-cm", ns.split(": ")[1] if ns else None))
        if c(0.5):
            img = self.pick(DEEP_IMAGES)
            docs.append(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: odd-dep\n"
                "  labels: &l {app: odd-dep}\nspec:\n"
                + ("  replicas: !!int \"2\"\n" if c(0.3) else "  replicas: 2\n")
                + "  selector:\n    matchLabels: *l\n  template:\n    metadata:\n      labels: *l\n"
                "    spec:\n      containers:\n"
                f"      - &c {{name: main, image: \"{img}\", env: [{{name: A, value: '1'}}]}}\n"
                "      - <<: *c\n        name: copy\n"
                + (f"        image: {self.pick(DEEP_IMAGES)}\n" if c(0.5) else ""))
            objs.append(("Deployment", "odd-dep", None))
        if c(0.4):
            docs.append("{apiVersion: v1, kind: Service, metadata: {name: odd-svc, labels: {app: odd}}, "
                        "spec: {selector: {app: odd-dep}, ports: [{port: 80, targetPort: http}]}}")
            objs.append(("Service", "odd-svc", None))
        if c(0.4):
            items = ["  - apiVersion: v1\n    kind: ServiceAccount\n    metadata:\n      name: odd-sa"]
            objs.append(("ServiceAccount", "odd-sa", None))
            if c(0.5):
                items.append("  - {apiVersion: v1, kind: ConfigMap, metadata: {name: odd-listed}, data: {k: v}}")
                objs.append(("ConfigMap", "odd-listed", None))
            docs.append("apiVersion: v1\nkind: " + self.pick(["List", "List", "ConfigMapList"])
                        + "\nitems:\n" + "\n".join(items))
        if c(0.3):
            docs.append("apiVersion: v1\nkind: Secret\nmetadata:\n  name: odd-secret\n"
                        "type: Opaque\nstringData:\n  'pass word': |-\n    s3cr3t\n  token: \"\"\n")
            objs.append(("Secret", "odd-secret", None))
        if not docs:
            docs.append("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: odd-only}")
            objs.append(("ServiceAccount", "odd-only", None))
        out = []
        if c(0.03):
            out.append("%YAML 1.1\n---\n")
        elif c(0.3):
            out.append("---\n")
        for i, d in enumerate(docs):
            if i:
                sep = self.pick(["---\n", "...\n---\n", "---\n---\n", "---\n# only a comment\n---\n",
                                 "--- # comment\n", "---\n~\n---\n", "---\n"])
                out.append(sep)
            out.append(d if d.endswith("\n") else d + "\n")
        if c(0.2):
            out.append(self.pick(["...\n", "---\n", "--- \n# trailing\n"]))
        text = "".join(out)
        if c(0.05):
            text = text.replace("\n", "\r\n")
        return text, objs

    # ---- component layers
    def layers(self, k, objs):
        n = self.r.randint(2, 4)
        names = [f"layer{j}" for j in range(n)]

        def build(j, objs):
            d = names[j]
            doc = self.resource(self.pick(self.kinds[:12]), f"l{j}-{self.pick(NAMES[:4])}", self.crd_kinds)
            self.files[f"{d}/res.yaml"] = dump([doc])
            cobjs = objs + [self.obj_of(doc)]
            last = j
            nested = j + 1 < n and self.chance(0.5)
            if nested:
                cobjs, last = build(j + 1, cobjs)
            res = ["res.yaml"] if self.chance(0.9) else []
            if self.chance(0.5):
                kk = self.kustomization(d, cobjs, res, is_component=True)
            else:
                # only the resource and the patches below: fewer trees fail
                kk = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"}
                if res:
                    kk["resources"] = res
            # patch one object of another layer (or of the bases) and this layer's own
            others = [o for o in cobjs if not o[1].startswith(f"l{j}-")]
            patches = kk.get("patches", [])
            for o in ([self.pick(others)] if others else []) + [cobjs[len(objs)]]:
                if self.chance(0.5):
                    patches.append({"patch": dump([self.smp(*o)])})
                else:
                    patches.append({"patch": dump([self.json6902(o[0])]),
                                    "target": {"kind": o[0], "name": o[1]}})
            kk["patches"] = patches
            if nested:
                kk["components"] = [f"../{names[j + 1]}"]
            self.files[f"{d}/kustomization.yaml"] = kk
            return self.moved(cobjs, kk), last

        comps = []
        j = 0
        while j < n:
            comps.append(f"../{names[j]}")
            objs, last = build(j, objs)
            j = last + 1
        k["components"] = k.get("components", []) + comps
        return objs

    # ---- replacements from a generated object
    def generated_replacements(self, k, objs):
        gen = {"name": self.pick(["gen-src", "cfg"]),
               "literals": ["host=db.example.com", "image=localhost:5000/app:v9", "list=a,b,c",
                            "port=5432", "path=a/b/c", "empty="]}
        if self.chance(0.3):
            gen["options"] = {"disableNameSuffixHash": True}
        if gen["name"] in self.generated["cm"] and self.chance(0.6):
            gen["behavior"] = "merge"
        if any(g.get("name") == gen["name"] for g in k.get("configMapGenerator", [])):
            gen["name"] = "gen-src2"
            gen.pop("behavior", None)
        k.setdefault("configMapGenerator", []).append(gen)
        reps = []
        for _ in range(self.r.randint(1, 3)):
            key = self.pick(["host", "image", "list", "port", "path", "empty", "host", "list"]
                            + (["missing"] if self.chance(0.1) else []))
            src = {"kind": "ConfigMap", "name": gen["name"], "fieldPath": f"data.{key}"}
            if self.chance(0.15):
                del src["fieldPath"]
            if self.chance(0.3):
                src["options"] = {"delimiter": self.pick([",", "/", ":"]),
                                  "index": self.r.randint(0, 1) if self.chance(0.85) else self.pick([-1, 3])}
            tkind, tname, tns = self.pick(objs) if objs else ("ConfigMap", gen["name"], None)
            select = self.pick([{"kind": tkind}, {"kind": tkind, "name": tname},
                                {"labelSelector": self.pick(["app=odd", "app", "!tier", "app in (web,odd)"])},
                                {"annotationSelector": self.pick(["note", "own=x", "merged"])},
                                {"namespace": tns or self.pick(NAMESPACES)},
                                {"kind": "ConfigMap"}, {"name": ".*"}, {"kind": "Deployment|Service"}])
            tgt = {"select": select, "fieldPaths": self.some([
                "metadata.annotations.host", "data.k", "data.[k]",
                "spec.template.spec.containers.[name=main].image",
                "spec.template.spec.containers.*.image",
                "spec.template.spec.containers.[name=main].env.[name=A].value",
                "spec.template.spec.containers.*.env.[name=HOST].value",
                "spec.ports.[name=http].port", "spec.ports.0.targetPort",
                "metadata.labels.[app.kubernetes.io/name]",
                "spec.rules.[host=x.example.com].host", "subjects.*.namespace",
                "spec.template.spec.volumes.[name=config].configMap.name",
                "metadata.annotations.[a.b/c]"], 1, 3)}
            if self.chance(0.95):
                opts = {}
                if self.chance(0.95):
                    opts["create"] = True
                if self.chance(0.3):
                    opts["delimiter"] = self.pick(["/", ":", "."])
                    opts["index"] = self.r.randint(0, 1) if self.chance(0.85) else self.pick([-1, 2])
                tgt["options"] = opts
            if self.chance(0.35):
                tgt["reject"] = [self.pick([{"labelSelector": "app=odd"}, {"annotationSelector": "note"},
                                            {"kind": "ConfigMap", "name": gen["name"]},
                                            {"namespace": self.pick(NAMESPACES)},
                                            {"kind": tkind, "name": tname}, {"group": "apps"}])]
            reps.append({"source": src, "targets": [tgt]})
        k["replacements"] = k.get("replacements", []) + reps

    # ---- images with ports and digests
    def deep_images(self, k, objs):
        if objs and self.chance(0.6):
            # a workload whose images carry ports and digests
            doc = self.resource("Deployment", "img-" + self.pick(NAMES[:3]), self.crd_kinds)
            for c in doc["spec"]["template"]["spec"]["containers"]:
                c["image"] = self.pick(DEEP_IMAGES)
            self.files["overlay/deep-images.yaml"] = dump([doc])
            k.setdefault("resources", []).append("deep-images.yaml")
        imgs = []
        for n in self.some(DEEP_IMAGE_NAMES, 1, 3):
            im = {"name": n}
            for f in self.some(["newName", "newTag", "digest"], 1, 3):
                im[f] = {"newName": self.pick(["localhost:5000/new/app", "reg.io:8443/a/b", "plain",
                                               "docker.io/library/nginx"]),
                         "newTag": self.pick(["v3", "1.0", "latest"]),
                         "digest": "sha256:" + "f" * 64}[f]
            imgs.append(im)
        k["images"] = k.get("images", []) + imgs

    # ---- patches with list directives and JSON 6902 move/copy/test
    def deep_patches(self, k, objs):
        patches = k.get("patches", [])
        for _ in range(self.r.randint(1, 2)):
            kind, name, ns = self.pick(objs)
            if self.chance(0.5):
                p = {"apiVersion": self.api_of(kind) if not name.startswith("odd") else
                     ("apps/v1" if kind == "Deployment" else "v1"), "kind": kind, "metadata": {"name": name}}
                if ns:
                    p["metadata"]["namespace"] = ns
                if self.chance(0.3):
                    p["metadata"]["finalizers"] = ["a", "b"]
                    p["metadata"]["$deleteFromPrimitiveList/finalizers"] = ["c"]
                if kind in ("Deployment", "StatefulSet", "DaemonSet"):
                    c = {"name": self.pick(["main", "copy", "sidecar"])}
                    c["env"] = self.pick([
                        [{"name": "A", "$patch": "delete"}, {"name": "Z", "value": "z"}],
                        [{"name": "NEW", "value": "n"}],
                        [{"$patch": "replace"}, {"name": "ONLY", "value": "1"}]])
                    if self.chance(0.4):
                        c["$setElementOrder/env"] = [{"name": e["name"]} for e in c["env"] if "name" in e][::-1]
                    if self.chance(0.3):
                        c["ports"] = [{"containerPort": 80, "$patch": "delete"}]
                    pod = {"containers": [c]}
                    if self.chance(0.3):
                        pod["$setElementOrder/containers"] = [{"name": "copy"}, {"name": c["name"]}, {"name": "main"}]
                    if self.chance(0.3):
                        pod["volumes"] = {"$patch": "delete"} if self.chance(0.2) else [{"$patch": "replace"}]
                    spec = {"template": {"spec": pod}}
                    if self.chance(0.3):
                        spec["strategy"] = {"$retainKeys": ["type"], "type": "Recreate",
                                            "rollingUpdate": None}
                    p["spec"] = spec
                elif kind == "ConfigMap":
                    p["data"] = {"a": None, "new": "v"} if self.chance(0.5) else {"$patch": "replace", "r": "1"}
                elif kind == "Service":
                    p["spec"] = {"ports": [{"port": 80, "$patch": "delete"}] if self.chance(0.5) else
                                 [{"port": 81, "name": "extra"}],
                                 "$setElementOrder/ports": [{"port": 81}, {"port": 80}]}
                else:
                    p["metadata"]["labels"] = {"patched": "deep"}
                patches.append({"patch": dump([p]), **({"target": {"kind": kind}} if self.chance(0.2) else {})})
            else:
                ops = [{"op": "add", "path": "/metadata/annotations", "value": {"a/b": "1", "c~d": "2"}}]
                pod = {"Deployment": "/spec/template/spec", "StatefulSet": "/spec/template/spec",
                       "DaemonSet": "/spec/template/spec", "Job": "/spec/template/spec",
                       "Pod": "/spec"}.get(kind) if not name.startswith("odd-") or kind == "Deployment" else None
                choices = [
                    [{"op": "move", "from": "/metadata/annotations/a~1b", "path": "/metadata/annotations/moved"}],
                    [{"op": "test", "path": "/metadata/annotations/c~0d", "value": "2"}],
                    [{"op": "test", "path": "/metadata/name", "value": name}],
                    [{"op": "copy", "from": "/metadata/name", "path": "/metadata/annotations/copied"}],
                    [{"op": "remove", "path": "/metadata/annotations/c~0d"}],
                    [{"op": "copy", "from": "/metadata/annotations", "path": "/metadata/labels"}],
                    [{"op": "add", "path": "/metadata/annotations/x~1y~0z", "value": "3"},
                     {"op": "move", "from": "/metadata/annotations/x~1y~0z", "path": "/metadata/annotations/w"}]]
                if pod:
                    choices += [
                        [{"op": "copy", "from": pod + "/containers/0", "path": pod + "/containers/-"},
                         {"op": "replace", "path": pod + "/containers/1/name", "value": "copied"}],
                        [{"op": "add", "path": pod + "/initContainers", "value": []},
                         {"op": "move", "from": pod + "/containers/0", "path": pod + "/initContainers/-"},
                         {"op": "copy", "from": pod + "/initContainers/0", "path": pod + "/containers/0"}],
                        [{"op": "test", "path": pod + "/containers/0/name", "value": self.pick(["main", "sidecar"])}],
                        [{"op": "move", "from": pod + "/containers", "path": pod + "/containers"}]]
                if kind == "ConfigMap":
                    choices += [[{"op": "replace", "path": "/data", "value": {"x": "1"}}],
                                [{"op": "copy", "from": "/data", "path": "/metadata/annotations/d"}]]
                if kind == "Service":
                    choices += [[{"op": "add", "path": "/spec/ports/-", "value": {"port": 9, "name": "nine"}}],
                                [{"op": "test", "path": "/spec/ports/0/port", "value": 80}]]
                for _ in range(self.r.randint(1, 3)):
                    ops += self.pick(choices)
                if self.chance(0.05):
                    ops.append(self.pick([{"op": "test", "path": "/metadata", "value": {"name": name}},
                                          {"op": "add", "path": "", "value": {"kind": kind}},
                                          {"op": "move", "from": "/metadata", "path": "/metadata/x"}]))
                t = {"kind": kind, "name": name}
                if self.chance(0.3):
                    t = self.pick([{"labelSelector": "app"}, {"annotationSelector": "note"},
                                   {"kind": kind, "namespace": ns or self.pick(NAMESPACES)}])
                patches.append({"patch": dump([ops]) if self.chance(0.7) else json.dumps(ops), "target": t})
        k["patches"] = patches

    # ---- field specs of custom resources
    def crd_configuration(self, k):
        ck = self.pick(self.crd_kinds)
        conf = {self.pick(["commonLabels", "labels"]): [{"kind": ck, "path": "spec/podLabels", "create": True}],
                "commonAnnotations": [{"kind": ck, "path": "spec/template/metadata/annotations",
                                       "create": self.chance(0.7)}],
                "namespace": [{"kind": ck, "path": "spec/targetNamespace", "create": self.chance(0.6)}],
                "nameReference": [{"kind": "ConfigMap", "version": "v1",
                                   "fieldSpecs": [{"kind": ck, "path": "spec/configRef/name"},
                                                  {"kind": ck, "path": "spec/volumes/configMap/name"}]},
                                  {"kind": "Service", "fieldSpecs": [{"kind": ck, "path": "spec/serviceName",
                                                                      "create": self.chance(0.3)}]}],
                "images": [{"kind": ck, "path": "spec/image"}],
                "replicas": [{"kind": ck, "path": "spec/replicas", "create": self.chance(0.5)}]}
        conf = {key: conf[key] for key in self.some(list(conf), 1, 4)}
        self.files["overlay/deep-config.yaml"] = dump([conf])
        k["configurations"] = k.get("configurations", []) + ["deep-config.yaml"]
        if self.chance(0.6):
            k.setdefault("commonLabels", {})["deep"] = "yes"
        if self.chance(0.5):
            k.setdefault("namespace", self.pick(NAMESPACES))
        if self.chance(0.4):
            k["labels"] = k.get("labels", []) + [{"pairs": {"lf": "v"}, "fields": [
                {"kind": ck, "path": self.pick(["spec/podLabels", "spec/selector/matchLabels", "spec/extra/labels"]),
                 "create": True}]}]
        if self.chance(0.5):
            doc = {"apiVersion": f"{CRD_GROUP}/v1", "kind": ck, "metadata": {"name": "deep-cr"},
                   "spec": {"image": self.pick(DEEP_IMAGES), "configRef": {"name": self.pick(["cfg", "gen-src", "settings"])},
                            "volumes": [{"configMap": {"name": "cfg"}}], "serviceName": self.pick(NAMES)}}
            self.files["overlay/deep-cr.yaml"] = dump([doc])
            k.setdefault("resources", []).append("deep-cr.yaml")
        if self.chance(0.3) and not any(g.get("name") == "settings" for g in k.get("configMapGenerator", [])):
            gen = {"name": "settings", "literals": ["x=1"]}
            if "settings" in self.generated["cm"]:
                gen["behavior"] = "merge"
            k.setdefault("configMapGenerator", []).append(gen)


class WideGen(DeepGen):
    """--mode wide: the classic tree (or, in half the trees, a plain base), then pieces drawn from a
    stream of their own, random.Random(f"{S}:{i}:wide"), that the other modes never write:
    cluster-scoped objects written with a namespace, beside bindings whose subjects name
    namespaces and webhooks whose services do; `replicas:` on StatefulSets, ReplicaSets and
    custom kinds (with `configurations:` replicas field specs, objects without the field, renamed
    objects); images in initContainers, ephemeralContainers and custom resources' container
    lists; vars whose fieldref reaches into lists (`spec.ports[0].port`,
    `containers[0].image`), used as `$(VAR)`, `$$(VAR)` and unknown names in command, args,
    env values and Ingress hosts; env files with quoted values, blank lines, comments, `export`,
    spaces, BOMs and CRLF, literals with quotes, TLS secrets from files; generatorOptions in the
    base and the overlay against options of each generator, merged by a `behavior: merge`
    generator; patches renaming objects and changing their kinds with and without
    `options.allowNameChange`/`allowKindChange`, objects referring to them; name affixes over
    custom resources whose references to ConfigMaps, Secrets, Services and lists of names are
    declared by `configurations:` nameReference entries (and `crds:` files); `validators:`
    entries; kustomization files named kustomization.yml and Kustomization (now and then two in
    one directory); and `--load-restrictor LoadRestrictionsNone` with files beside the
    overlay's directory (the tree's "flags", passed to both tools).
    """

    def __init__(self, seed, index):
        super().__init__(seed, index)
        self.wide_r = random.Random(f"{seed}:{index}:wide")
        self.flags = []

    def generate(self):
        self.tree()
        self.r = self.wide_r
        self.widen()
        t = {"files": self.files, "top": self.top}
        if self.flags:
            t["flags"] = self.flags
        return t

    def widen(self):
        self.plain_base(0.5)
        k = self.files["overlay/kustomization.yaml"]
        self.wk = k
        objs = list(self.top_objs)
        pieces = [self.w_cluster_ns, self.w_scalable, self.w_containers, self.w_vars, self.w_env_generators,
                  self.w_gen_options, self.w_renames, self.w_crd_refs, self.w_validators, self.w_restrictor]
        chosen = [f for f in pieces if self.chance(0.3)]
        if not chosen:
            chosen = [self.pick(pieces)]
        for f in chosen:
            objs = f(k, objs) or objs
        if self.chance(0.4):
            self.w_kfile_names()

    def w_add(self, k, fname, docs):
        self.files[f"overlay/{fname}"] = dump(docs) if not isinstance(docs, str) else docs
        k.setdefault("resources", []).append(fname)

    # ---- cluster-scoped objects with a namespace, bindings and webhooks
    def w_cluster_ns(self, k, objs):
        docs = []
        for kind in self.some(["ClusterRole", "Namespace", "PersistentVolume", "StorageClass", "ClusterRoleBinding",
                               "PriorityClass", "CustomResourceDefinition", "ValidatingWebhookConfiguration"], 1, 3):
            doc = self.resource(kind, "wide-" + kind.lower()[:6], self.crd_kinds or ["MyApp"])
            doc["metadata"]["namespace"] = self.pick(NAMESPACES + ["default"])
            docs.append(doc)
        for kind in self.some(["RoleBinding", "ClusterRoleBinding"], 1, 2):
            subj = []
            for sk, sn, sns in self.some([("ServiceAccount", "default", None), ("ServiceAccount", "sa", "default"),
                                          ("ServiceAccount", "runner", "other"), ("User", "alice", None),
                                          ("Group", "devs", "default"), ("ServiceAccount", "default", "default")],
                                         1, 4):
                s = {"kind": sk, "name": sn}
                if sns:
                    s["namespace"] = sns
                if sk != "ServiceAccount":
                    s["apiGroup"] = "rbac.authorization.k8s.io"
                subj.append(s)
            docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                         "metadata": {"name": "wide-bind"},
                         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                     "name": "wide-cluste" if self.chance(0.5) else "reader"},
                         "subjects": subj})
        if self.chance(0.4):
            svc = {"name": self.pick(NAMES[:3] + ["wide-svc"])}
            if self.chance(0.6):
                svc["namespace"] = self.pick(NAMESPACES + ["default"])
            docs.append({"apiVersion": "admissionregistration.k8s.io/v1",
                         "kind": self.pick(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]),
                         "metadata": {"name": "wide-hook"},
                         "webhooks": [{"name": "a.example.com", "clientConfig": {"service": svc}},
                                      {"name": "b.example.com", "clientConfig": {"url": "https://x"}}]})
            if svc["name"] == "wide-svc":
                docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "wide-svc"},
                             "spec": {"ports": [{"port": 443}]}})
        self.w_add(k, "wide-cluster.yaml", docs)
        if self.chance(0.6):
            k["namespace"] = self.pick(NAMESPACES)
        if self.chance(0.3):
            k["namePrefix"] = self.pick(["w-", "p-"])
        return objs + [self.obj_of(d) for d in docs]

    # ---- replicas on every scalable kind
    def w_scalable(self, k, objs):
        ck = self.pick(self.crd_kinds) if self.crd_kinds else "MyApp"
        docs = []
        for kind in self.some(["StatefulSet", "ReplicaSet", "Deployment", ck, "DaemonSet"], 1, 3):
            doc = self.resource(kind, "sc-" + kind.lower()[:5], self.crd_kinds)
            if kind != "DaemonSet" and self.chance(0.3):
                doc["spec"].pop("replicas", None)
            docs.append(doc)
        self.w_add(k, "wide-scale.yaml", docs)
        configured = self.chance(0.4)
        # a name of a kind replicas does not reach fails the build: now and then
        names = [d["metadata"]["name"] for d in docs
                 if d["kind"] not in ("DaemonSet", ck) or (d["kind"] == ck and configured) or self.chance(0.1)]
        names += [n for kind, n, _ in objs if kind in ("Deployment", "StatefulSet")]
        reps = []
        for n in self.some(names or ["missing"], 1, 3):
            reps.append({"name": n if self.chance(0.85) else self.pick(["p-" + n, n + "-s", "missing"]),
                         "count": self.r.randint(0, 5) if self.chance(0.95) else self.pick(["3", -1])})
        k["replicas"] = k.get("replicas", []) + reps
        if configured:
            fname = "wide-replicas-config.yaml"
            self.files[f"overlay/{fname}"] = dump([{"replicas": [
                {"kind": ck, "path": self.pick(["spec/replicas", "spec/size"]), "create": self.chance(0.5)}]}])
            k["configurations"] = k.get("configurations", []) + [fname]
        if self.chance(0.3):
            k["namePrefix"] = "p-"
        if self.chance(0.2):
            k["nameSuffix"] = "-s"
        return objs + [self.obj_of(d) for d in docs]

    # ---- images in init and ephemeral containers and custom resources
    def w_containers(self, k, objs):
        kind = self.pick(["Deployment", "Pod", "CronJob", "Job"])
        doc = self.resource(kind, "ctr-" + self.pick(NAMES[:3]), self.crd_kinds)
        spec = doc["spec"]
        for key in ("jobTemplate", "spec", "template", "spec"):
            if key in spec and "containers" not in spec:
                spec = spec[key]
        spec["initContainers"] = [{"name": "init", "image": self.pick(DEEP_IMAGES + IMAGES)}]
        if self.chance(0.7):
            spec["ephemeralContainers"] = [{"name": "debug", "image": self.pick(DEEP_IMAGES + IMAGES),
                                            "targetContainerName": "main"}]
        docs = [doc]
        ck = self.pick(self.crd_kinds) if self.crd_kinds else "MyApp"
        if self.chance(0.5):
            docs.append({"apiVersion": f"{CRD_GROUP}/v1", "kind": ck, "metadata": {"name": "ctr-cr"},
                         "spec": {"containers": [{"name": "a", "image": self.pick(IMAGES)},
                                                 {"name": "b", "image": self.pick(DEEP_IMAGES)}],
                                  "sidecar": {"image": self.pick(IMAGES)}}})
            if self.chance(0.6):
                fname = "wide-images-config.yaml"
                self.files[f"overlay/{fname}"] = dump([{"images": [
                    {"kind": ck, "path": self.pick(["spec/containers/image", "spec/containers[]/image"])},
                    {"path": "spec/sidecar/image"}]}])
                k["configurations"] = k.get("configurations", []) + [fname]
        self.w_add(k, "wide-containers.yaml", docs)
        imgs = []
        for n in self.some(IMAGE_NAMES + DEEP_IMAGE_NAMES + ["ngin", "nginx:1.19", "postgres@sha256:" + "a" * 64],
                           1, 3):
            im = {"name": n}
            for f in self.some(["newName", "newTag", "digest"], 0 if self.chance(0.1) else 1, 2):
                im[f] = {"newName": self.pick(["w.io/x", "local:5000/y"]), "newTag": self.pick(["w1", "2.0"]),
                         "digest": "sha256:" + "9" * 64}[f]
            imgs.append(im)
        k["images"] = k.get("images", []) + imgs
        return objs + [self.obj_of(d) for d in docs]

    # ---- vars reaching into lists
    def w_vars(self, k, objs):
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "vars-svc"},
               "spec": {"ports": [{"port": 8080, "name": "http"}, {"port": 9090, "name": "metrics"}],
                        "selector": {"app": "v"}}}
        uses = ["$(PORT)", "$(IMG)", "$(SVC)", "$$(SVC)", "$(UNKNOWN)", "x-$(SVC)-$(PORT)", "$(SVC", "$()",
                "$(CM_K)", "$(LABEL)"]
        c = {"name": "main", "image": self.pick(IMAGES),
             "command": ["/bin/sh", "-c", " ".join(self.some(uses, 1, 3))],
             "args": self.some(uses, 1, 3),
             "env": [{"name": f"E{j}", "value": u} for j, u in enumerate(self.some(uses, 1, 3))]}
        dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "vars-dep", "labels": {"app": "v"}},
               "spec": {"selector": {"matchLabels": {"app": "v"}},
                        "template": {"metadata": {"labels": {"app": "v"}}, "spec": {"containers": [c]}}}}
        docs = [svc, dep]
        if self.chance(0.3):
            docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "vars-ing"},
                         "spec": {"rules": [{"host": "$(SVC).example.com", "http": {"paths": [
                             {"path": "/$(PORT)", "pathType": "Prefix",
                              "backend": {"service": {"name": "vars-svc", "port": {"number": 80}}}}]}}]}})
        if self.chance(0.3):
            docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "vars-cm"},
                         "data": {"k": "value-$(SVC)", "url": "http://$(SVC):$(PORT)"}})
        self.w_add(k, "wide-vars.yaml", docs)
        fields = {"PORT": ("Service", "vars-svc", self.pick(["spec.ports[0].port", "spec.ports[1].name",
                                                              "spec.ports.0.port", "spec.ports[1].port"]
                                                             if self.chance(0.85) else
                                                             ["spec.ports[2].port", "spec.ports[name=http].port"])),
                  "IMG": ("Deployment", "vars-dep", self.pick(["spec.template.spec.containers[0].image",
                                                               "spec.template.spec.containers[0].name",
                                                               "metadata.labels.app"])),
                  "SVC": ("Service", "vars-svc", None),
                  "LABEL": ("Deployment", "vars-dep", "spec.selector.matchLabels.app")}
        vs = []
        for name in self.some(list(fields), 1, 4):
            kind, oname, fp = fields[name]
            v = {"name": name, "objref": {"kind": kind, "name": oname,
                                           "apiVersion": "v1" if kind == "Service" else "apps/v1"}}
            if fp:
                v["fieldref"] = {"fieldpath": fp} if self.chance(0.5) else {"fieldPath": fp}
            vs.append(v)
        if self.chance(0.3):
            k.setdefault("configMapGenerator", []).append({"name": "vars-gen", "literals": ["k=from-gen"]})
            vs.append({"name": "CM_K", "objref": {"kind": "ConfigMap", "name": "vars-gen", "apiVersion": "v1"},
                       "fieldref": {"fieldpath": "data.k"}})
        if self.chance(0.3):
            fname = "wide-varref.yaml"
            self.files[f"overlay/{fname}"] = dump([{"varReference": [
                {"kind": "ConfigMap", "path": "data"} if self.chance(0.5) else {"kind": "ConfigMap", "path": "data/k"}]}])
            k["configurations"] = k.get("configurations", []) + [fname]
        k["vars"] = k.get("vars", []) + vs
        if self.chance(0.3):
            k["namePrefix"] = "v-"
        return objs + [self.obj_of(d) for d in docs]

    # ---- env files, literals and files of generators
    ENV_LINES = ["A=1", "B=\"two words\"", "C='single'", "", "# a comment", "  D=indented", "E=", "F = spaced",
                 "G=a=b", "export H=1", "I=\"unterminated", "J=\"esc\\\"aped\"", "K=trailing   ", "L=#not a comment",
                 "M=x # c", "N=\"\"", "O=ü", "P_Q.r-s=dots"]

    def w_env_generators(self, k, objs):
        gens = []
        for j in range(self.r.randint(1, 2)):
            kind = self.pick(["configMapGenerator", "secretGenerator"])
            g = {"name": f"wide-env{j}"}
            src = self.some(["envs", "literals", "files"], 1, 2)
            if "envs" in src:
                g["envs"] = []
                for e in range(self.r.randint(1, 2)):
                    lines = self.some(self.ENV_LINES, 1, 5)
                    text = "\n".join(lines) + ("\n" if self.chance(0.8) else "")
                    if self.chance(0.1):
                        text = "\ufeff" + text
                    if self.chance(0.1):
                        text = text.replace("\n", "\r\n")
                    fname = f"wide-{j}-{e}.env"
                    self.files[f"overlay/{fname}"] = text
                    g["envs"].append(fname)
            if "literals" in src:
                g["literals"] = self.some(["q=\"quoted value\"", "s='single quoted'", "e=", "eq==", "sp=a b",
                                           "n=1", "t=true", "u=ü", "m=\"a\nb\"", "k=v=w"], 1, 3)
            if "files" in src:
                g["files"] = []
                for fname, text in self.some([("tls.crt", "CERT\n"), ("tls.key", "KEY\n"),
                                              ("data.json", "{\"a\": 1}\n"), ("empty.txt", ""),
                                              ("multi.txt", "a\n\nb\n\n")], 1, 2):
                    self.files[f"overlay/{fname}"] = text
                    g["files"].append(fname if self.chance(0.7) else f"renamed-{fname.split('.')[0]}={fname}")
            if kind == "secretGenerator" and self.chance(0.5):
                g["type"] = self.pick(["kubernetes.io/tls", "Opaque", "kubernetes.io/basic-auth", "custom/x"])
            gens.append((kind, g))
        for kind, g in gens:
            k.setdefault(kind, []).append(g)
        if self.chance(0.4):
            docs = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "env-user"},
                     "spec": {"containers": [{"name": "main", "image": "busybox",
                                              "envFrom": [{"configMapRef": {"name": g["name"]}} if kind[0] == "c"
                                                          else {"secretRef": {"name": g["name"]}}
                                                          for kind, g in gens]}]}}]
            self.w_add(k, "wide-env-user.yaml", docs)
        return objs

    # ---- generatorOptions at several levels
    def w_gen_options(self, k, objs):
        def opts():
            o = {}
            for f in self.some(["disableNameSuffixHash", "immutable", "labels", "annotations"], 1, 3):
                o[f] = {"disableNameSuffixHash": self.chance(0.5), "immutable": self.chance(0.5),
                        "labels": {self.pick(["gl", "app"]): self.pick(["1", "x"])},
                        "annotations": {"ga": self.pick(["1", "2"])}}[f]
            return o

        base = self.files.get("base/kustomization.yaml")
        if isinstance(base, dict):
            g = {"name": "wide-gen", "literals": ["a=1"]}
            if self.chance(0.4):
                g["options"] = opts()
            base.setdefault("configMapGenerator", []).append(g)
            if self.chance(0.6):
                base["generatorOptions"] = opts()
            og = {"name": "wide-gen", "behavior": self.pick(["merge", "merge", "replace"]), "literals": ["b=2"]}
            if self.chance(0.5):
                og["options"] = opts()
            k.setdefault("configMapGenerator", []).append(og)
        k.setdefault("secretGenerator", []).append({"name": "wide-sec", "literals": ["p=q"],
                                                    **({"options": opts()} if self.chance(0.5) else {})})
        if self.chance(0.7):
            k["generatorOptions"] = opts()
        if self.chance(0.4):
            self.w_add(k, "wide-gen-user.yaml", [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gen-user"},
                                                  "spec": {"containers": [{"name": "main", "image": "busybox"}],
                                                           "volumes": [{"name": "a", "configMap": {"name": "wide-gen"}},
                                                                       {"name": "b", "secret": {"secretName": "wide-sec"}}]}}])
        return objs

    # ---- patches that rename objects or change their kinds
    def w_renames(self, k, objs):
        docs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rn-cm"}, "data": {"k": "v"}},
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "rn-dep"},
                 "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                          "spec": {"containers": [{"name": "main", "image": "nginx",
                                                   "envFrom": [{"configMapRef": {"name": "rn-cm"}}]}],
                                   "volumes": [{"name": "c", "configMap": {"name": "rn-cm"}}]}}}}]
        self.w_add(k, "wide-rename.yaml", docs)
        patches = []
        for _ in range(self.r.randint(1, 2)):
            tkind, tname = self.pick([("ConfigMap", "rn-cm"), ("Deployment", "rn-dep")])
            how = self.r.random()
            if how < 0.4:
                p = {"patch": dump([{"apiVersion": "v1" if tkind == "ConfigMap" else "apps/v1", "kind": tkind,
                                     "metadata": {"name": tname + "-new"}}]),
                     "target": {"kind": tkind, "name": tname}}
            elif how < 0.8:
                ops = [{"op": "replace", "path": "/metadata/name", "value": tname + "-renamed"}]
                if self.chance(0.4):
                    ops.append({"op": "replace", "path": "/kind", "value": "Secret" if tkind == "ConfigMap" else "StatefulSet"})
                p = {"patch": dump([ops]), "target": {"kind": tkind, "name": tname}}
            else:
                p = {"patch": dump([{"apiVersion": "v1", "kind": "Secret" if tkind == "ConfigMap" else "StatefulSet",
                                     "metadata": {"name": tname}}]),
                     "target": {"kind": tkind, "name": tname}}
            if self.chance(0.7):
                p["options"] = {o: self.chance(0.8) for o in self.some(["allowNameChange", "allowKindChange"], 1, 2)}
            patches.append(p)
        k["patches"] = k.get("patches", []) + patches
        if self.chance(0.4):
            k["namePrefix"] = self.pick(["r-", "p-"])
        if self.chance(0.3):
            k["nameSuffix"] = "-x"
        return objs + [self.obj_of(d) for d in docs]

    # ---- affixes over custom resources with declared name references
    def w_crd_refs(self, k, objs):
        ck = self.pick(self.crd_kinds) if self.crd_kinds else "MyApp"
        cr = {"apiVersion": f"{CRD_GROUP}/v1", "kind": ck, "metadata": {"name": "ref-cr"},
              "spec": {"configRef": {"name": "ref-cm"}, "secretName": "ref-sec", "serviceName": "ref-svc",
                       "targets": [{"name": "ref-dep"}, {"name": "other"}], "names": ["ref-cm", "x"]}}
        docs = [cr, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ref-svc"},
                     "spec": {"ports": [{"port": 80}]}},
                self.resource("Deployment", "ref-dep", self.crd_kinds)]
        self.w_add(k, "wide-refs.yaml", docs)
        k.setdefault("configMapGenerator", []).append({"name": "ref-cm", "literals": ["a=1"]})
        k.setdefault("secretGenerator", []).append({"name": "ref-sec", "literals": ["b=2"]})
        refs = [{"kind": "ConfigMap", "fieldSpecs": [{"kind": ck, "path": "spec/configRef/name"}]},
                {"kind": "Secret", "fieldSpecs": [{"kind": ck, "path": "spec/secretName"}]},
                {"kind": "Service", "version": "v1", "fieldSpecs": [{"kind": ck, "path": "spec/serviceName"}]},
                {"kind": "Deployment", "group": "apps", "fieldSpecs": [{"kind": ck, "path": self.pick(
                    ["spec/targets/name", "spec/targets[]/name", "spec/targets"])}]},
                {"kind": "ConfigMap", "fieldSpecs": [{"kind": ck, "path": "spec/names"}]}]
        conf = {"nameReference": self.some(refs, 1, 4)}
        if self.chance(0.3):
            conf["namePrefix"] = [{"path": "metadata/name"}, {"kind": ck, "path": "spec/extraName", "create": True}]
        self.files["overlay/wide-nameref.yaml"] = dump([conf])
        k["configurations"] = k.get("configurations", []) + ["wide-nameref.yaml"]
        if self.chance(0.7):
            k["nameSuffix"] = self.pick(["-s", "-v2"])
        if self.chance(0.5):
            k["namePrefix"] = self.pick(["a-", "b-"])
        if self.chance(0.3):
            k["namespace"] = self.pick(NAMESPACES)
        if self.chance(0.25):
            crd = {"github.com/example/api/v1." + ck: {
                "Schema": {"properties": {"spec": {"$ref": "github.com/example/api/v1." + ck + "Spec"}}},
                "Dependencies": []},
                "github.com/example/api/v1." + ck + "Spec": {"Schema": {"properties": {
                    "serviceName": {"type": "string", "x-kubernetes-object-ref-kind": "Service",
                                    "x-kubernetes-object-ref-name-key": "serviceName"},
                    "configRef": {"type": "object", "x-kubernetes-object-ref-kind": "ConfigMap",
                                  "x-kubernetes-object-ref-name-key": "name"}}}, "Dependencies": []}}
            self.files["overlay/wide-crd.json"] = json.dumps(crd, indent=1) + "\n"
            k["crds"] = k.get("crds", []) + ["wide-crd.json"]
        return objs + [self.obj_of(d) for d in docs]

    # ---- validators
    def w_validators(self, k, objs):
        # a validator may not change what it is given: mostly ones that change nothing
        cfg = self.builtin_transformer(objs) if self.chance(0.25) else self.pick([
            {"apiVersion": "builtin", "kind": "LabelTransformer", "metadata": {"name": "v"},
             "labels": {"validated": "yes"}, "fieldSpecs": [{"path": "spec/nowhere/labels"}]},
            {"apiVersion": "builtin", "kind": "AnnotationsTransformer", "metadata": {"name": "v"},
             "annotations": {}, "fieldSpecs": [{"path": "metadata/annotations", "create": True}]},
            {"apiVersion": "builtin", "kind": "PrefixSuffixTransformer", "metadata": {"name": "v"},
             "fieldSpecs": [{"path": "metadata/name"}]},
            {"apiVersion": "builtin", "kind": "ImageTagTransformer", "metadata": {"name": "v"},
             "imageTag": {"name": "never-used"}},
            {"apiVersion": "builtin", "kind": "NamespaceTransformer", "metadata": {"name": "v"},
             "fieldSpecs": [{"path": "metadata/namespace", "kind": "Nothing"}]}])
        if self.chance(0.5):
            k["validators"] = [dump([cfg])]
        else:
            self.files["overlay/wide-validator.yaml"] = dump([cfg])
            k["validators"] = ["wide-validator.yaml"]
        return objs

    # ---- files beside the overlay, read with LoadRestrictionsNone
    def w_restrictor(self, k, objs):
        if self.chance(0.8):
            self.flags = ["--load-restrictor", "LoadRestrictionsNone"]
        what = self.some(["resource", "patch", "env", "config"], 1, 3)
        if "resource" in what:
            self.files["shared/extra.yaml"] = dump([{"apiVersion": "v1", "kind": "ConfigMap",
                                                     "metadata": {"name": "shared-cm"}, "data": {"s": "1"}}])
            k.setdefault("resources", []).append("../shared/extra.yaml")
            objs = objs + [("ConfigMap", "shared-cm", None)]
        if "patch" in what and objs:
            kind, name, ns = self.pick(objs)
            self.files["shared/patch.yaml"] = dump([self.smp(kind, name, ns)])
            k["patches"] = k.get("patches", []) + [{"path": "../shared/patch.yaml"}]
        if "env" in what:
            self.files["shared/vals.env"] = "S=1\n"
            k.setdefault("configMapGenerator", []).append({"name": "shared-gen", "envs": ["../shared/vals.env"]})
        if "config" in what:
            self.files["shared/conf.yaml"] = dump([{"commonAnnotations": [{"path": "spec/template/metadata/annotations",
                                                                           "kind": "Deployment", "create": True}]}])
            k["configurations"] = k.get("configurations", []) + ["../shared/conf.yaml"]
            k.setdefault("commonAnnotations", {"shared": "yes"})
        return objs

    # ---- kustomization file names
    def w_kfile_names(self):
        for path in sorted(p for p in self.files if p.endswith("/kustomization.yaml")):
            d = path.rsplit("/", 1)[0]
            x = self.r.random()
            if x < 0.35:
                self.files[f"{d}/kustomization.yml"] = self.files.pop(path)
            elif x < 0.6:
                self.files[f"{d}/Kustomization"] = self.files.pop(path)
            elif x < 0.63:
                self.files[f"{d}/{self.pick(['kustomization.yml', 'Kustomization'])}"] = {"resources": []}


class RichGen(WideGen):
    """--mode rich: the classic tree (or, in half the trees, a plain base), then pieces drawn from
    a stream of their own, random.Random(f"{S}:{i}:rich"), for kustomization features the other
    modes write rarely or never: `labels` entries with `fields` (custom kinds, list paths,
    `create`), several entries with every include flag; `sortOptions` fifo and legacy with
    orderFirst/orderLast of custom, unknown and repeated kinds (also in bases, and invalid ones);
    generators whose own options (`immutable`, `disableNameSuffixHash`, labels, annotations) meet
    the kustomization's generatorOptions, referred to by a workload; patches changing an object's
    kind and name with and without `options.allowKindChange`/`allowNameChange`; `openapi:`
    schemas with custom merge keys (ints, `x-kubernetes-list-type: map` with list-map-keys,
    `replace` and `retainKeys` strategies) patched by strategic merge, and with `paths` making a
    custom kind namespaced or cluster-scoped under a `namespace:`; `crds:` files with object
    references (custom name keys), label selectors and a name prefix; `configurations:` entries
    for custom kinds without `create` beside the defaults' paths (kustomize's merge conflicts);
    and replacements with fields kustomize v5.5 does not have (`sourceValue`). From a second
    stream, random.Random(f"{S}:{i}:rich2"): custom resources embedding whole objects (with and
    without their own apiVersion/kind) patched by strategic merge, after a kind change or not;
    and `List` files alone, beside other documents or before a `---` line, whose items
    replacements write (created fields, empty values, `[key=value]` items, a target that is the
    source's own field) with vars declared.
    """

    def __init__(self, seed, index):
        super().__init__(seed, index)
        self.rich_r = random.Random(f"{seed}:{index}:rich")
        self.rich2_r = random.Random(f"{seed}:{index}:rich2")

    def generate(self):
        self.tree()
        self.r = self.rich_r
        self.plain_base(0.5)
        k = self.files["overlay/kustomization.yaml"]
        objs = list(self.top_objs)
        pieces = [self.r_labels, self.r_sort, self.r_generators, self.r_kind_change, self.r_openapi,
                  self.r_crds, self.r_config_conflicts, self.r_source_value]
        weights = [0.35, 0.3, 0.35, 0.3, 0.35, 0.25, 0.15, 0.05]
        chosen = [f for f, w in zip(pieces, weights) if self.chance(w)]
        if not chosen:
            chosen = [self.pick(pieces)]
        for f in chosen:
            objs = f(k, objs) or objs
        self.r = self.rich2_r
        for f, w in [(self.r_embedded, 0.3), (self.r_lists, 0.3)]:
            if self.chance(w):
                objs = f(k, objs) or objs
        return {"files": self.files, "top": self.top}

    def custom(self, kind, name, spec):
        return {"apiVersion": f"{CRD_GROUP}/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}

    # ---- labels with fields
    def r_labels(self, k, objs):
        entries = []
        for _ in range(self.r.randint(1, 3)):
            e = {"pairs": self.labels(1, 2)}
            for flag in ("includeSelectors", "includeTemplates"):
                if self.chance(0.5):
                    e[flag] = self.chance(0.5)
            if self.chance(0.6):
                fields = []
                for _ in range(self.r.randint(1, 3)):
                    f = {"path": self.pick(["spec/selector/matchLabels", "spec/template/metadata/labels",
                                            "spec/selector", "metadata/labels", "spec/labels",
                                            "spec/volumeClaimTemplates[]/metadata/labels",
                                            "spec/jobTemplate/spec/template/metadata/labels",
                                            "spec/podSelector/matchLabels", "spec/extra/labels"])}
                    if self.chance(0.8):
                        f["kind"] = self.pick(["Deployment", "StatefulSet", "CronJob", "Service", "Widget",
                                               "MyApp", "NetworkPolicy", "Job"])
                    if self.chance(0.2):
                        f["group"] = self.pick(["apps", CRD_GROUP, "batch", ""])
                    if self.chance(0.6):
                        f["create"] = self.chance(0.5)
                    fields.append(f)
                e["fields"] = fields
            entries.append(e)
        if self.chance(0.4):
            kind = self.pick(["Widget", "MyApp"])
            self.w_add(k, "rich-labelled.yaml", [self.custom(kind, "labelled", {"selector": {"matchLabels": {"a": "b"}},
                                                                               "extra": {}})])
            objs = objs + [(kind, "labelled", None)]
        k["labels"] = k.get("labels", []) + entries
        return objs

    # ---- sort options
    def sort_options(self):
        k = self.r.random()
        if k < 0.3:
            so = {"order": "fifo"}
            if self.chance(0.15):
                so["legacySortOptions"] = {"orderFirst": ["Service"]}
            return so
        if k < 0.9:
            so = {"order": "legacy"}
            if self.chance(0.8):
                pool = ["Service", "Deployment", "ConfigMap", "Namespace", "Widget", "MyApp", "Unknown",
                        "Ingress", "ValidatingWebhookConfiguration", "Secret", "Pod", "CronJob"]
                lso = {}
                if self.chance(0.85):
                    first = self.some(pool, 0, 4)
                    if first and self.chance(0.1):
                        first.append(first[0])
                    lso["orderFirst"] = first
                if self.chance(0.85):
                    lso["orderLast"] = self.some(pool, 0, 3)
                so["legacySortOptions"] = lso
            return so
        return self.pick([{"order": "random"}, {}, {"legacySortOptions": {"orderFirst": ["Pod"]}}])

    def r_sort(self, k, objs):
        k["sortOptions"] = self.sort_options()
        if self.chance(0.2):
            base = self.files.get("base/kustomization.yaml")
            if isinstance(base, dict):
                base["sortOptions"] = self.sort_options()
        if self.chance(0.5):
            docs = [self.custom(self.pick(["Widget", "MyApp"]), self.pick(["s1", "s2"]), {"x": 1}),
                    {"apiVersion": "v1", "kind": self.pick(["Service", "Pod", "ConfigMap"]),
                     "metadata": {"name": "sorted"}},
                    {"apiVersion": "example.org/v1", "kind": "Unknown", "metadata": {"name": "u"}}]
            self.r.shuffle(docs)
            self.w_add(k, "rich-sorted.yaml", docs)
        return objs

    # ---- generator options, per generator and for the kustomization
    def options(self):
        o = {}
        for f in self.some(["disableNameSuffixHash", "immutable", "labels", "annotations"], 1, 3):
            o[f] = {"disableNameSuffixHash": self.chance(0.5), "immutable": self.chance(0.6),
                    "labels": {self.pick(["gen", "app"]): self.pick(["a", "b"])},
                    "annotations": {self.pick(["note", "gen"]): self.pick(["x", "y"])}}[f]
        return o

    def r_generators(self, k, objs):
        names = []
        for kind in ("configMapGenerator", "secretGenerator"):
            if not self.chance(0.7):
                continue
            gens = k.setdefault(kind, [])
            for _ in range(self.r.randint(1, 2)):
                name = f"rich-{kind[:3]}-{len(gens)}"
                g = {"name": name, "literals": [f"K{len(gens)}={self.pick(['v', '1', 'true', 'x y'])}"]}
                if kind == "secretGenerator" and self.chance(0.3):
                    g["type"] = self.pick(["Opaque", "kubernetes.io/basic-auth"])
                if self.chance(0.7):
                    g["options"] = self.options()
                gens.append(g)
                names.append((kind, name))
        if self.chance(0.6):
            k["generatorOptions"] = self.options()
        if names:
            refs = []
            for kind, name in names:
                if kind == "configMapGenerator":
                    refs.append({"configMapRef": {"name": name}})
                else:
                    refs.append({"secretRef": {"name": name}})
            dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gen-user"},
                   "spec": {"selector": {"matchLabels": {"app": "g"}},
                            "template": {"metadata": {"labels": {"app": "g"}},
                                         "spec": {"containers": [{"name": "c", "image": "busybox",
                                                                  "envFrom": refs}]}}}}
            self.w_add(k, "rich-gen-user.yaml", [dep])
            objs = objs + [("Deployment", "gen-user", None)]
        return objs

    # ---- patches changing kinds and names
    def r_kind_change(self, k, objs):
        changes = [("ConfigMap", "Secret", "v1", "v1"), ("Deployment", "StatefulSet", "apps/v1", "apps/v1"),
                   ("Widget", "Gadget", f"{CRD_GROUP}/v1", f"{CRD_GROUP}/v1"),
                   ("Service", "Service", "v1", "v1")]
        old, new, old_api, new_api = self.pick(changes)
        doc = {"apiVersion": old_api, "kind": old, "metadata": {"name": "shifty"}}
        if old == "ConfigMap":
            doc["data"] = {"a": "1"}
        elif old == "Deployment":
            doc["spec"] = {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
        else:
            doc["spec"] = {"x": 1}
        user = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shifty-user"},
                "spec": {"containers": [{"name": "c", "image": "busybox",
                                         "envFrom": [{"configMapRef": {"name": "shifty"}}]}],
                         "serviceAccountName": "shifty"}}
        self.w_add(k, "rich-shifty.yaml", [doc, user])
        patch = {"apiVersion": new_api, "kind": new, "metadata": {"name": self.pick(["shifty", "shifted"])}}
        if self.chance(0.5):
            patch["metadata"]["labels"] = {"moved": "yes"}
        p = {"patch": dump([patch]), "target": {"kind": old, "name": "shifty"}}
        if self.chance(0.2):
            del p["target"]["name"]
        if self.chance(0.75):
            p["options"] = {}
            for opt in self.some(["allowKindChange", "allowNameChange"], 1, 2):
                p["options"][opt] = self.chance(0.8)
        if self.chance(0.3):
            p["patch"] = json.dumps([{"op": "replace", "path": "/kind", "value": new}])
        k.setdefault("patches", []).append(p)
        if self.chance(0.4):
            k["namePrefix"] = self.pick(["k-", "moved-"])
        return objs + [(old, "shifty", None), ("Pod", "shifty-user", None)]

    # ---- openapi with custom merge keys and scopes
    def r_openapi(self, k, objs):
        kinds = self.some(["Widget", "Gadget", "Thing"], 1, 2)
        defs, paths, docs, patches = {}, {}, [], []
        for kind in kinds:
            props = {}
            spec_obj = {}
            patch_spec = {}
            for field in self.some(["ports", "rules", "items", "volumes", "entries"], 1, 3):
                strategy = self.pick(["merge", "replace", "merge,retainKeys", None, "listmap"])
                key = {"ports": "port", "rules": "host", "items": "id", "volumes": "name", "entries": "key"}[field]
                item_props = {key: {"type": "integer" if key in ("port", "id") else "string"},
                              "value": {"type": "string"}, "extra": {"type": "string"}}
                schema = {"type": "array", "items": {"type": "object", "properties": item_props}}
                if strategy == "listmap":
                    schema["x-kubernetes-list-type"] = "map"
                    schema["x-kubernetes-list-map-keys"] = [key]
                elif strategy:
                    schema["x-kubernetes-patch-strategy"] = strategy
                    if strategy.startswith("merge") or self.chance(0.3):
                        schema["x-kubernetes-patch-merge-key"] = key
                props[field] = schema
                val = (lambda i: i * 80) if key in ("port", "id") else (lambda i: f"h{i}")
                spec_obj[field] = [{key: val(i), "value": f"old{i}", "extra": "keep"} for i in range(1, 3)]
                patch_spec[field] = [{key: val(self.pick([1, 2, 3])), "value": "new"}]
                if self.chance(0.2):
                    patch_spec[field].append({key: val(1), "$patch": "delete"})
            if self.chance(0.3):
                props["opts"] = {"type": "object", "x-kubernetes-patch-strategy": "retainKeys",
                                 "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
                spec_obj["opts"] = {"a": "1", "b": "2"}
                patch_spec["opts"] = {"a": "9"}
            defs[f"com.example.v1.{kind}"] = {
                "type": "object",
                "properties": {"spec": {"type": "object", "properties": props}},
                "x-kubernetes-group-version-kind": [{"group": CRD_GROUP, "kind": kind, "version": "v1"}]}
            scope = self.pick(["namespaced", "cluster", "both", None])
            plural = kind.lower() + "s"
            gvk = {"group": CRD_GROUP, "kind": kind, "version": "v1"}
            if scope in ("cluster", "both"):
                paths[f"/apis/{CRD_GROUP}/v1/{plural}/{{name}}"] = {"get": {"x-kubernetes-group-version-kind": gvk}}
            if scope in ("namespaced", "both"):
                paths[f"/apis/{CRD_GROUP}/v1/namespaces/{{namespace}}/{plural}/{{name}}"] = {
                    "get": {"x-kubernetes-group-version-kind": gvk}}
            name = self.pick(["oa", "ob"])
            doc = self.custom(kind, name, spec_obj)
            if self.chance(0.3):
                doc["metadata"]["namespace"] = self.pick(NAMESPACES)
            docs.append(doc)
            patches.append({"patch": dump([self.custom(kind, name, patch_spec)])})
        schema = {"definitions": defs}
        if paths:
            schema["paths"] = paths
        self.files["overlay/rich-schema.json"] = json.dumps(schema, indent=1) + "\n"
        k["openapi"] = {"path": "rich-schema.json"}
        self.w_add(k, "rich-custom.yaml", docs)
        k.setdefault("patches", []).extend(patches)
        if self.chance(0.6):
            k["namespace"] = self.pick(NAMESPACES)
        if self.chance(0.2):
            k["namePrefix"] = "oa-"
        return objs + [self.obj_of(d) for d in docs]

    # ---- crds: files
    def r_crds(self, k, objs):
        kind = self.pick(["Widget", "MyApp"])
        name_key = self.pick(["name", "ref", "cmName"])
        props = {"configRef": {"type": "object", "x-kubernetes-object-ref-kind": self.pick(["ConfigMap", "Secret"]),
                               "x-kubernetes-object-ref-name-key": name_key,
                               "properties": {name_key: {"type": "string"}}}}
        if self.chance(0.3):
            props["configRef"]["x-kubernetes-object-ref-api-version"] = "v1"
            del props["configRef"]["x-kubernetes-object-ref-name-key"]
            name_key = "name"
        if self.chance(0.5):
            props["selector"] = {"type": "object", "x-kubernetes-label-selector": {}}
        defs = crd_defs(kind, props)
        self.files["overlay/rich-crd.json"] = json.dumps(defs, indent=1) + "\n"
        k["crds"] = k.get("crds", []) + ["rich-crd.json"]
        target = props["configRef"]["x-kubernetes-object-ref-kind"]
        spec = {"configRef": {name_key: "refd"}, "selector": {"matchLabels": {"app": "r"}}}
        docs = [self.custom(kind, "crd-user", spec)]
        if target == "ConfigMap":
            k.setdefault("configMapGenerator", []).append({"name": "refd", "literals": ["a=1"]})
        else:
            docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "refd"}, "data": {"k": "dg=="}})
        self.w_add(k, "rich-crd-user.yaml", docs)
        if self.chance(0.6):
            k["namePrefix"] = self.pick(["c-", "crd-"])
        if self.chance(0.5):
            k["commonLabels"] = {"team": "x"}
        return objs + [(kind, "crd-user", None)]

    # ---- configurations beside the defaults
    def r_config_conflicts(self, k, objs):
        kind = self.pick(["Rollout", "Widget", "ValidatingWebhookConfiguration", "Deployment"])
        where = self.pick(["images", "commonLabels", "replicas", "namePrefix", "commonAnnotations", "namespace"])
        path = {"images": "spec/template/spec/containers[]/image", "commonLabels": "metadata/labels",
                "replicas": "spec/replicas", "namePrefix": "metadata/name",
                "commonAnnotations": "metadata/annotations", "namespace": "metadata/name"}[where]
        spec = {"kind": kind, "path": path}
        if self.chance(0.4):
            spec["create"] = self.chance(0.5)
        layer = self.pick(["overlay", "base", "comp"])
        if layer == "comp":
            self.files["rich-comp/kustomization.yaml"] = {"apiVersion": "kustomize.config.k8s.io/v1alpha1",
                                                          "kind": "Component",
                                                          "configurations": ["config.yaml"]}
            self.files["rich-comp/config.yaml"] = dump([{where: [spec]}])
            k.setdefault("components", []).append("../rich-comp")
        else:
            kk = self.files.get(f"{layer}/kustomization.yaml")
            if not isinstance(kk, dict):
                kk, layer = k, "overlay"
            self.files[f"{layer}/rich-config.yaml"] = dump([{where: [spec]}])
            kk["configurations"] = kk.get("configurations", []) + ["rich-config.yaml"]
        return objs

    # ---- fields kustomize does not know
    # ---- objects embedded whole in custom resources, patched by strategic merge
    def r_embedded(self, k, objs):
        def containers(*names):
            return [{"name": n, "image": self.pick(IMAGES)} for n in names]
        def pod_spec(*names):
            return {"containers": containers(*names)}
        embedded = {}
        for field in self.some(["deployment", "pod", "bare", "unknown", "data"], 1, 4):
            if field == "deployment":
                embedded[field] = {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "spec": {"template": {"spec": pod_spec("a", "b")}}}
            elif field == "pod":
                embedded[field] = {"apiVersion": "v1", "kind": "Pod", "spec": pod_spec("a", *self.some(["a", "b"], 0, 1))}
            elif field == "unknown":
                embedded[field] = {"apiVersion": f"{CRD_GROUP}/v1", "kind": "Part", "spec": pod_spec("a")}
            else:
                embedded[field] = {"spec": pod_spec("a")}
        kind = self.pick(["Composition", "Widget"])
        docs = [self.custom(kind, "bundle", embedded)]
        if self.chance(0.3):
            docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd"},
                         "data": {"apiVersion": "v1", "kind": "Pod", "spec": pod_spec("a")}})
        self.w_add(k, "rich-embedded.yaml", docs)
        patch_spec = {}
        for field in self.some(list(embedded) + ["added"], 1, 3):
            inner = {"spec": pod_spec("b", *self.some(["c"], 0, 1))}
            if field in ("deployment",):
                inner = {"spec": {"template": inner}}
            if field in ("bare", "added") and self.chance(0.6):
                inner = {"apiVersion": "v1", "kind": "Pod", **inner}
            lst = inner["spec"]["template"]["spec"]["containers"] if field == "deployment" else inner["spec"]["containers"]
            if self.chance(0.25):
                lst.insert(self.r.randint(0, len(lst)), {"$patch": self.pick(["replace", "merge", "delete"])})
            patch_spec[field] = inner
        patch = self.custom(kind, "bundle", patch_spec)
        p = {"patch": dump([patch])}
        if self.chance(0.4):
            p["target"] = {"kind": kind}
        if self.chance(0.3):
            # Change the kind first: the later patch, found by the first identity, keeps its own.
            k.setdefault("patches", []).append({
                "patch": dump([{"apiVersion": self.pick(["v1", f"{CRD_GROUP}/v1"]), "kind": self.pick(["Gadget", "Pod"]),
                                "metadata": {"name": "any"}}]),
                "target": {"kind": kind}, "options": {"allowKindChange": True}})
        k.setdefault("patches", []).append(p)
        if len(docs) > 1 and self.chance(0.7):
            k["patches"].append({"patch": dump([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd"},
                                                 "data": {"spec": pod_spec("b")}}])})
        return objs + [(kind, "bundle", None)]

    # ---- List files, and replacements into their items
    def r_lists(self, k, objs):
        item = lambda name: {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
        shape = self.pick(["alone", "beside", "separator-after", "other-kind"])
        lst = {"apiVersion": "v1", "kind": "ServiceAccountList" if shape == "other-kind" else "List",
               "items": [item("listed"), item("listed-b")]}
        if self.chance(0.4):
            lst["items"][0]["metadata"]["annotations"] = {"n": self.pick(["0x1F", "'0x1F'", "1e3", "2001-12-14"])}
        text = dump([lst])
        if shape == "beside":
            text += "---\n" + dump([item("plain")])
        elif shape == "separator-after":
            text += "---\n"
        self.w_add(k, "rich-list.yaml", text)
        if self.chance(0.5):
            k.setdefault("configMapGenerator", []).append(
                {"name": "src", "literals": ["empty=", "host=db.example.com"], "options": {"disableNameSuffixHash": True}})
            source = {"kind": "ConfigMap", "name": "src", "fieldPath": self.pick(["data.empty", "data.host"])}
        else:
            source = {"kind": "ServiceAccount", "name": "listed",
                      "fieldPath": self.pick(["metadata.name", "metadata.annotations.n"])}
        paths = self.some(["data.k", "metadata.labels.x", "metadata.annotations.n", "spec.ports.[port=80].name",
                           "secrets.[name=tok].namespace", "metadata.name"], 1, 3)
        target = {"select": {"kind": "ServiceAccount"}, "fieldPaths": paths,
                  "options": {"create": self.chance(0.8)}}
        if self.chance(0.4):
            target["options"].update({"delimiter": ".", "index": self.r.randint(-1, 2)})
        rep = {"source": source, "targets": [target]}
        if self.chance(0.4):
            rep["targets"].append({"select": {"kind": "ServiceAccount", "name": "listed-b"},
                                   "fieldPaths": ["data.copy"], "options": {"create": True}})
        k.setdefault("replacements", []).append(rep)
        if self.chance(0.5):
            k.setdefault("vars", []).append({"name": "SA", "objref": {"kind": "ServiceAccount", "name": "listed",
                                                                      "apiVersion": "v1"},
                                             "fieldref": {"fieldPath": "metadata.name"}})
        return objs + [("ServiceAccount", "listed", None)]

    def r_source_value(self, k, objs):
        rep = {"source": {"sourceValue": "x"} if self.chance(0.5) else {"kind": "ConfigMap", "name": "cfg",
                                                                      "sourceValue": "x"},
               "targets": [{"select": {"kind": "ConfigMap"}, "fieldPaths": ["data.k"]}]}
        if self.chance(0.5):
            self.files["overlay/rich-repl.yaml"] = dump([rep])
            k.setdefault("replacements", []).append({"path": "rich-repl.yaml"})
        else:
            k.setdefault("replacements", []).append(rep)
        return objs


# Images of real repositories, some pinned by digest, and the `images:` names that meet them.
REAL_IMAGES = ["ghcr.io/stefanprodan/podinfo:6.5.0", "ghcr.io/stefanprodan/podinfo@sha256:" + "1" * 64,
               "nginx:1.25.3", "docker.io/library/redis:7.2@sha256:" + "2" * 64,
               "quay.io/jetstack/cert-manager-controller:v1.13.2", "registry.local:5000/team/api:2.0",
               "ministryofjustice/cloud-platform-app:1.0", "argoproj/rollouts-demo:blue"]
REAL_IMAGE_NAMES = ["ghcr.io/stefanprodan/podinfo", "nginx", "docker.io/library/redis", "redis",
                    "quay.io/jetstack/cert-manager-controller", "registry.local:5000/team/api",
                    "ministryofjustice/cloud-platform-app", "argoproj/rollouts-demo"]
# Custom kinds of GitOps repositories: kind -> apiVersion (no CRD in the tree, as in most real repos).
REAL_APIS = {"HelmRelease": "helm.toolkit.fluxcd.io/v2", "HelmRepository": "source.toolkit.fluxcd.io/v1",
             "GitRepository": "source.toolkit.fluxcd.io/v1", "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
             "Certificate": "cert-manager.io/v1", "ClusterIssuer": "cert-manager.io/v1",
             "Rollout": "argoproj.io/v1alpha1", "ServiceMonitor": "monitoring.coreos.com/v1",
             "PrometheusRule": "monitoring.coreos.com/v1", "Deployment": "apps/v1",
             "Ingress": "networking.k8s.io/v1", "NetworkPolicy": "networking.k8s.io/v1",
             "RoleBinding": "rbac.authorization.k8s.io/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
             "PodDisruptionBudget": "policy/v1"}
REAL_APPS = ["podinfo", "redis", "frontend", "api"]
# Seeds run before RealGen.widen existed: their trees stay as they were drawn then.
REAL_FIRST_SEEDS = {"s16r", "s16s", "s16t", "s16u", "s17a", "s17b", "s17c"}
REAL_ENVS = ["staging", "production", "dev"]


class RealGen(Gen):
    """--mode real: trees shaped like real GitOps repositories, drawn from
    random.Random(f"{S}:{i}:real"). One of three layouts: a Flux v2 fleet (clusters/<env> listing
    flux-system with its bootstrap patches, infrastructure/controllers and configs, apps/<env>
    overlays over apps/base/<app>, the Flux Kustomization/HelmRelease/HelmRepository objects
    themselves), cloud-platform-environments namespace folders (namespaces/<cluster>/<ns> with
    Namespace, RBAC, LimitRange, ResourceQuota, NetworkPolicy, monitoring, sharing components),
    or apps with base/overlays/components. Overlays carry what such repos use: namespaces,
    suffixes, `labels` with `fields` for custom kinds, images with tags and digests, replicas,
    patches on HelmReleases, Certificates and Argo Rollouts targeted by labelSelector,
    annotationSelector and regex names and kinds, JSON 6902 patches on lists, configMap and
    secret generators merged or replaced level upon level, a kustomizeconfig nameReference for
    HelmRelease valuesFrom, replacements from one base into another, and sortOptions at the top.
    """

    def __init__(self, seed, index):
        super().__init__(seed, index)
        self.r = random.Random(f"{seed}:{index}:real")
        self.seed = seed
        self.tricky = 0.0
        self.crd_kinds = []
        self.apis = REAL_APIS
        self.obj_ns = {}  # (kind, name) -> the namespace its file wrote, which patches name too

    def generate(self):
        self.pick([self.flux_fleet, self.cloud_platform, self.app_overlays])()
        if self.seed not in REAL_FIRST_SEEDS:
            self.widen()
        return {"files": self.files, "top": self.top}

    # ---- objects
    def obj(self, kind, name, labels=None, annotations=None, **top):
        m = {"name": name}
        if labels:
            m["labels"] = dict(labels)
        if annotations:
            m["annotations"] = dict(annotations)
        return {"apiVersion": self.api_of(kind), "kind": kind, "metadata": m, **top}

    def real_container(self, app):
        c = {"name": app, "image": self.pick(REAL_IMAGES)}
        if self.chance(0.6):
            c["ports"] = [{"name": "http", "containerPort": 9898, "protocol": "TCP"}]
        if self.chance(0.8):
            c["env"] = [{"name": "LOG_LEVEL", "value": "info"},
                        {"name": "CONFIG", "valueFrom": {"configMapKeyRef": {"name": f"{app}-config", "key": "mode"}}}]
        if self.chance(0.4):
            c["envFrom"] = [{"secretRef": {"name": f"{app}-secrets"}}]
        if self.chance(0.8):
            c["args"] = ["--port=9898", "--level=info"]
        if self.chance(0.3):
            c["resources"] = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}
        return c

    def workload(self, app, kind):
        sel = {"app.kubernetes.io/name": app}
        pod = {"containers": [self.real_container(app)]}
        if self.chance(0.3):
            pod["containers"].append({"name": "proxy", "image": "nginx:1.25.3"})
        if self.chance(0.4):
            pod["volumes"] = [{"name": "config", "configMap": {"name": f"{app}-config"}}]
        if self.chance(0.3):
            pod["serviceAccountName"] = app
        spec = {"replicas": self.r.randint(1, 3), "selector": {"matchLabels": dict(sel)},
                "template": {"metadata": {"labels": dict(sel)}, "spec": pod}}
        if kind == "Rollout":
            spec["strategy"] = {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "1m"}},
                                                     {"setWeight": 60}, {"pause": {}}]}}
            if self.chance(0.5):
                spec["strategy"]["canary"]["canaryService"] = f"{app}-canary"
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/component": self.pick(["frontend", "backend"])}
        ann = {"fluxcd.io/automated": "true"} if self.chance(0.4) else None
        return self.obj(kind, app, labels, ann, spec=spec)

    def certificate(self, name, hosts, issuer="letsencrypt"):
        return self.obj("Certificate", name, {"app.kubernetes.io/name": name},
                        spec={"secretName": f"{name}-tls", "dnsNames": list(hosts),
                              "issuerRef": {"name": issuer, "kind": "ClusterIssuer"}})

    def helm_release(self, app, repo="podinfo"):
        values = {"replicaCount": self.r.randint(1, 3),
                  "ingress": {"enabled": True, "hosts": [{"host": f"{app}.example.com",
                                                          "paths": [{"path": "/", "pathType": "Prefix"}]}]}}
        if self.chance(0.4):
            values["resources"] = {"limits": {"memory": "256Mi"}}
        spec = {"releaseName": app, "interval": "50m",
                "chart": {"spec": {"chart": app, "version": self.pick(["6.x", ">=1.0.0", "1.2.3"]),
                                   "sourceRef": {"kind": "HelmRepository", "name": repo,
                                                 "namespace": "flux-system"}}},
                "values": values}
        if self.chance(0.8):
            spec["valuesFrom"] = [{"kind": "ConfigMap", "name": f"{app}-values"}]
        if self.chance(0.3):
            spec["install"] = {"remediation": {"retries": 3}}
        return self.obj("HelmRelease", app, {"app.kubernetes.io/name": app},
                        {"fluxcd.io/automated": "true"} if self.chance(0.3) else None, spec=spec)

    def flux_kustomization(self, name, path, depends=()):
        spec = {"interval": "10m0s", "path": path, "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}
        if depends:
            spec["dependsOn"] = [{"name": d} for d in depends]
        if self.chance(0.5):
            spec["postBuild"] = {"substitute": {"cluster_env": "${CLUSTER_ENV:=dev}"},
                                 "substituteFrom": [{"kind": "ConfigMap", "name": "cluster-vars"}]}
        if self.chance(0.3):
            spec["patches"] = [{"patch": "- op: replace\n  path: /spec/replicas\n  value: 2\n",
                                "target": {"kind": "Deployment"}}]
        m = self.obj("Kustomization", name, spec=spec)
        m["metadata"]["namespace"] = "flux-system"
        return m

    # ---- kustomization pieces
    def generator_entry(self, name, behavior=None):
        g = {"name": name}
        if behavior:
            g["behavior"] = behavior
        k = self.r.random()
        if k < 0.6:
            g["literals"] = [f"{key}={self.pick(['info', 'debug', 'on', '1', 'a=b'])}"
                             for key in self.some(["mode", "LOG_LEVEL", "region", "domain"], 1, 3)]
        elif k < 0.8:
            fname = f"{name}.properties"
            self.local_files[fname] = self.pick(["mode=prod\nregion=eu\n", "domain=example.com\n"])
            g["files"] = [fname]
        else:
            fname = f"{name}.env"
            self.local_files[fname] = self.pick(["mode=dev\nLOG_LEVEL=debug\n", "domain=staging.example.com\n"])
            g["envs"] = [fname]
        if self.chance(0.25):
            g["options"] = self.pick([{"disableNameSuffixHash": True}, {"labels": {"gen": "yes"}},
                                      {"annotations": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}},
                                      {"immutable": True}])
        return g

    def real_target(self, kind, name):
        k = self.r.random()
        if k < 0.25:
            return {"kind": kind, "name": name}
        if k < 0.4:
            return {"kind": kind, "name": self.pick([name[:3] + ".*", f"({name}|other)", ".*", f"^{name}$"])}
        if k < 0.55:
            t = {"labelSelector": self.pick([f"app.kubernetes.io/name={name}", "app.kubernetes.io/component=frontend",
                                             "app.kubernetes.io/name in (podinfo,redis)", "!app.kubernetes.io/part-of"])}
            if self.chance(0.5):
                t["kind"] = kind
            return t
        if k < 0.65:
            return {"annotationSelector": self.pick(["fluxcd.io/automated=true", "fluxcd.io/automated"])}
        if k < 0.75:
            return {"kind": self.pick(["Deployment|Rollout", "HelmRelease", "Certificate|Ingress", "Roll.*"])}
        g, _, v = self.api_of(kind).rpartition("/")
        t = {"group": g, "kind": kind}
        if self.chance(0.5):
            t["version"] = v
        if self.chance(0.5):
            t["name"] = name
        return t

    def real_smp(self, kind, name):
        p = {"apiVersion": self.api_of(kind), "kind": kind, "metadata": {"name": name}}
        if (kind, name) in self.obj_ns:
            p["metadata"]["namespace"] = self.obj_ns[kind, name]
        if kind == "HelmRelease":
            p["spec"] = self.pick([{"values": {"replicaCount": self.r.randint(2, 5)}},
                                   {"values": {"ingress": {"hosts": [{"host": "prod.example.com"}]}}},
                                   {"chart": {"spec": {"version": "6.5.1"}}},
                                   {"values": {"resources": None}}, {"interval": "5m"}])
        elif kind == "Certificate":
            p["spec"] = self.pick([{"dnsNames": ["a.example.com", "b.example.com"]},
                                   {"issuerRef": {"name": "letsencrypt-staging"}}])
        elif kind in ("Deployment", "Rollout"):
            spec = {"template": {"spec": {"containers": [self.pick([
                {"name": name, "image": self.pick(REAL_IMAGES)},
                {"name": name, "env": [{"name": "LOG_LEVEL", "value": "debug"}]},
                {"name": name, "resources": {"limits": {"memory": "512Mi"}}},
                {"name": "proxy", "$patch": "delete"}])]}}}
            if self.chance(0.4):
                spec["replicas"] = self.r.randint(2, 6)
            if kind == "Rollout" and self.chance(0.5):
                spec["strategy"] = {"canary": {"steps": [{"setWeight": 50}, {"pause": {"duration": "10m"}}]}}
            p["spec"] = spec
        elif kind == "Kustomization":
            p["spec"] = {"interval": "1m", "prune": False}
        else:
            p["metadata"]["labels"] = {"patched": "yes"}
        return p

    def real_json6902(self, kind):
        pod = "/spec/template/spec"
        ops = {"HelmRelease": [
                   {"op": "add", "path": "/spec/values/ingress/hosts/-", "value": {"host": "extra.example.com"}},
                   {"op": "replace", "path": "/spec/values/ingress/hosts/0/host", "value": "env.example.com"},
                   {"op": "add", "path": "/spec/valuesFrom/-", "value": {"kind": "Secret", "name": "extra-values"}},
                   {"op": "remove", "path": "/spec/values/ingress/hosts/0/paths/0"},
                   {"op": "test", "path": "/spec/chart/spec/sourceRef/kind", "value": "HelmRepository"}],
               "Certificate": [
                   {"op": "add", "path": "/spec/dnsNames/-", "value": "www.example.com"},
                   {"op": "replace", "path": "/spec/dnsNames/0", "value": "env.example.com"},
                   {"op": "add", "path": "/spec/dnsNames/0", "value": "first.example.com"},
                   {"op": "copy", "from": "/spec/dnsNames/0", "path": "/spec/commonName"}],
               "Rollout": [
                   {"op": "replace", "path": "/spec/strategy/canary/steps/0/setWeight", "value": 10},
                   {"op": "remove", "path": "/spec/strategy/canary/steps/1"},
                   {"op": "add", "path": "/spec/strategy/canary/steps/-", "value": {"setWeight": 100}},
                   {"op": "add", "path": pod + "/containers/0/args/-", "value": "--canary"}],
               "Deployment": [
                   {"op": "add", "path": pod + "/containers/0/env/-", "value": {"name": "EXTRA", "value": "1"}},
                   {"op": "add", "path": pod + "/containers/0/args/-", "value": "--concurrent=4"},
                   {"op": "replace", "path": pod + "/containers/0/image", "value": "nginx:1.26"},
                   {"op": "move", "from": pod + "/containers/0/args/0", "path": pod + "/containers/0/args/-"},
                   {"op": "add", "path": pod + "/tolerations", "value": [{"key": "spot", "operator": "Exists"}]}],
               "Kustomization": [
                   {"op": "add", "path": "/spec/dependsOn", "value": [{"name": "infra-configs"}]},
                   {"op": "replace", "path": "/spec/interval", "value": "5m"}],
               "Ingress": [
                   {"op": "replace", "path": "/spec/rules/0/host", "value": "env.example.com"},
                   {"op": "add", "path": "/spec/tls/0/hosts/-", "value": "www.example.com"},
                   {"op": "add", "path": "/spec/rules/0/http/paths/-",
                    "value": {"path": "/api", "pathType": "Prefix",
                              "backend": {"service": {"name": "api", "port": {"number": 80}}}}}]}
        pool = ops.get(kind, [{"op": "add", "path": "/metadata/annotations", "value": {"patched": "yes"}}])
        return self.some(pool, 1, 2)

    def real_patches(self, objs):
        """Patches of an overlay on objs [(kind, name)]: strategic merge and JSON 6902, inline and in files."""
        patches = []
        for _ in range(self.r.randint(1, 3)):
            kind, name = self.pick(objs)
            k = self.r.random()
            if k < 0.35:
                doc = self.real_smp(kind, name)
                if self.chance(0.5):
                    p = {"patch": dump([doc])}
                else:
                    fname = f"{name}-{kind.lower()}-patch.yaml"
                    self.local_files[fname] = dump([doc])
                    p = {"path": fname}
                if self.chance(0.4):
                    p["target"] = self.real_target(kind, name)
            else:
                ops = self.real_json6902(kind)
                if self.chance(0.6):
                    p = {"patch": dump([ops])}
                else:
                    fname = f"{name}-{kind.lower()}-ops.yaml"
                    self.local_files[fname] = dump([ops]) if self.chance(0.7) else json.dumps(ops) + "\n"
                    p = {"path": fname}
                p["target"] = self.real_target(kind, name)
            patches.append(p)
        return patches

    def real_labels(self, env):
        e = {"pairs": {self.pick(["environment", "app.kubernetes.io/part-of", "team"]): env}}
        k = self.r.random()
        if k < 0.3:
            e["includeSelectors"] = True
        elif k < 0.6:
            e["includeTemplates"] = True
        if self.chance(0.35):
            e["fields"] = [self.pick([
                {"path": "spec/template/metadata/labels", "kind": "Rollout", "create": True},
                {"path": "spec/selector/matchLabels", "kind": "Rollout"},
                {"path": "spec/values/podLabels", "kind": "HelmRelease", "create": True},
                {"path": "spec/commonMetadata/labels", "kind": "Kustomization",
                 "group": "kustomize.toolkit.fluxcd.io", "create": True},
                {"path": "spec/secretTemplate/labels", "kind": "Certificate", "create": self.chance(0.5)},
                {"path": "spec/selector/matchLabels", "kind": "ServiceMonitor"}])
                for _ in range(self.r.randint(1, 2))]
        return [e]

    def real_images(self):
        imgs = []
        for n in self.some(REAL_IMAGE_NAMES, 1, 3):
            im = {"name": n}
            k = self.r.random()
            if k < 0.3:
                im["newTag"] = self.pick(["6.5.1", "latest", "v2"])
            elif k < 0.5:
                im["digest"] = "sha256:" + "3" * 64
            elif k < 0.65:
                im["newTag"] = "6.5.1@sha256:" + "4" * 64
            elif k < 0.8:
                im["newName"] = self.pick(["registry.local:5000/mirror/" + n.split("/")[-1], "ghcr.io/mirror/app"])
                if self.chance(0.5):
                    im["newTag"] = "1.0"
            else:
                im["newName"] = "ghcr.io/mirror/app"
                im["digest"] = "sha256:" + "5" * 64
            imgs.append(im)
        return imgs

    def sort_options(self):
        if self.chance(0.4):
            return {"order": "fifo"}
        so = {"order": "legacy"}
        if self.chance(0.7):
            so["legacySortOptions"] = {
                "orderFirst": self.some(["Namespace", "HelmRepository", "GitRepository", "ServiceAccount",
                                         "ClusterIssuer", "ConfigMap"], 1, 3),
                "orderLast": self.some(["HelmRelease", "Kustomization", "Certificate", "Rollout"], 0, 2)}
        return so

    def write_kustomization(self, d, k, component=False):
        if component:
            k = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", **k}
        elif self.chance(0.6):
            k = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", **k}
        self.files[f"{d}/kustomization.yaml"] = k
        for f, text in self.local_files.items():
            self.files[f"{d}/{f}"] = text
        self.local_files = {}

    def name_reference_config(self):
        """Flux's documented kustomizeconfig.yaml: generated names reach HelmRelease valuesFrom."""
        return {"nameReference": [{"kind": "ConfigMap", "version": "v1",
                                   "fieldSpecs": [{"path": "spec/valuesFrom/name", "kind": "HelmRelease"}]},
                                  {"kind": "Secret", "version": "v1",
                                   "fieldSpecs": [{"path": "spec/valuesFrom/name", "kind": "HelmRelease"}]}]}

    # ---- an app: base, components, overlays
    def app_base(self, d, app):
        """Base of one app; gives its objects [(kind, name)] and generator names."""
        self.local_files = {}
        style = self.pick(["plain", "rollout", "helm"])
        docs = []
        if style == "helm":
            docs.append(self.obj("HelmRepository", app, spec={"interval": "1h", "url": f"https://charts.example.com/{app}"}))
            docs.append(self.helm_release(app, app))
        else:
            docs.append(self.workload(app, "Rollout" if style == "rollout" else "Deployment"))
            docs.append(self.obj("Service", app, {"app.kubernetes.io/name": app},
                                 spec={"selector": {"app.kubernetes.io/name": app},
                                       "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}))
            if self.chance(0.6):
                host = f"{app}.example.com"
                docs.append(self.obj("Ingress", app, spec={
                    "ingressClassName": "nginx",
                    "tls": [{"hosts": [host], "secretName": f"{app}-tls"}],
                    "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                        "service": {"name": app, "port": {"name": "http"}}}}]}}]}))
                if self.chance(0.6):
                    docs.append(self.certificate(app, [host]))
            if self.chance(0.3):
                docs.append(self.obj("ServiceAccount", app))
        objs = [(doc["kind"], doc["metadata"]["name"]) for doc in docs]
        files = []
        if self.chance(0.5):
            self.files[f"{d}/{app}.yaml"] = dump(docs)
            files.append(f"{app}.yaml")
        else:
            for doc in docs:
                fn = doc["kind"].lower() + ".yaml"
                self.files[f"{d}/{fn}"] = dump([doc])
                files.append(fn)
        k = {"resources": files}
        gens = []
        if self.chance(0.7):
            gens.append(self.generator_entry(f"{app}-config" if style != "helm" else f"{app}-values"))
        if gens:
            k["configMapGenerator"] = gens
        if style == "helm" and gens and self.chance(0.7):
            self.local_files["kustomizeconfig.yaml"] = dump([self.name_reference_config()])
            k["configurations"] = ["kustomizeconfig.yaml"]
        if self.chance(0.3):
            k["secretGenerator"] = [{"name": f"{app}-secrets", "literals": ["token=s3cr3t"],
                                     **({"type": "Opaque"} if self.chance(0.5) else {})}]
        if self.chance(0.4):
            k["labels"] = [{"pairs": {"app.kubernetes.io/instance": app}, "includeSelectors": self.chance(0.3)}]
        if self.chance(0.2):
            k["commonAnnotations"] = {"owner": "team-a"}
        self.write_kustomization(d, k)
        return objs, [g["name"] for g in gens] + [s["name"] for s in k.get("secretGenerator", [])]

    def component(self, d, objs, gen_names):
        """A shared component: monitoring, TLS or scaling pieces for the objects it meets."""
        self.local_files = {}
        what = self.pick(["monitoring", "tls", "scaling", "config"])
        k = {}
        apps = sorted({n for kind, n in objs if kind in ("Deployment", "Rollout", "HelmRelease")}) or ["podinfo"]
        app = self.pick(apps)
        if what == "monitoring":
            self.files[f"{d}/servicemonitor.yaml"] = dump([self.obj("ServiceMonitor", f"{app}-metrics", spec={
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "endpoints": [{"port": "http", "interval": "30s"}]})])
            k["resources"] = ["servicemonitor.yaml"]
            k["patches"] = [{"patch": dump([[{"op": "add", "path": "/metadata/annotations/prometheus.io~1scrape",
                                              "value": "true"}]]) if self.chance(0.5) else
                             dump([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
                                 "name": "any", "annotations": {"prometheus.io/scrape": "true"}}}]),
                             "target": {"labelSelector": "app.kubernetes.io/component=frontend"}}]
            objs = objs + [("ServiceMonitor", f"{app}-metrics")]
        elif what == "tls":
            self.files[f"{d}/certificate.yaml"] = dump([self.certificate(f"{app}-cert", [f"{app}.example.com"])])
            k["resources"] = ["certificate.yaml"]
            objs = objs + [("Certificate", f"{app}-cert")]
        elif what == "scaling":
            self.files[f"{d}/hpa.yaml"] = dump([self.obj("HorizontalPodAutoscaler", app, spec={
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicas": 2, "maxReplicas": 10}), self.obj("PodDisruptionBudget", app, spec={
                "minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": app}}})])
            k["resources"] = ["hpa.yaml"]
            objs = objs + [("HorizontalPodAutoscaler", app), ("PodDisruptionBudget", app)]
        made = [n for n in gen_names if "secrets" not in n]
        if made and (what == "config" or self.chance(0.3)):
            k["configMapGenerator"] = [self.generator_entry(self.pick(made), self.pick(["merge", "merge", "replace"]))]
        if self.chance(0.4):
            k["patches"] = k.get("patches", []) + self.real_patches(objs)
        self.write_kustomization(d, k, component=True)
        return objs

    def overlay(self, d, bases, objs, gen_names, env, comps=()):
        self.local_files = {}
        k = {"resources": list(bases)}
        if comps:
            k["components"] = list(comps)
        if self.chance(0.75):
            k["namespace"] = self.pick([env, f"apps-{env}", "flux-system"])
        if self.chance(0.25):
            k["nameSuffix"] = f"-{env}"
        if self.chance(0.15):
            k["namePrefix"] = f"{env}-"
        if self.chance(0.5):
            k["labels"] = self.real_labels(env)
        elif self.chance(0.2):
            k["commonLabels"] = {"environment": env}
        if self.chance(0.5):
            k["images"] = self.real_images()
        scalable = [n for kind, n in objs if kind == "Deployment"]
        if scalable and self.chance(0.3):
            k["replicas"] = [{"name": self.pick(scalable), "count": self.r.randint(0, 5)}]
        if self.chance(0.7):
            k["patches"] = self.real_patches(objs)
        if gen_names and self.chance(0.6):
            k["configMapGenerator"] = [self.generator_entry(n, self.pick(["merge", "merge", "replace"]))
                                       for n in self.some([n for n in gen_names if "secrets" not in n], 1, 2)]
            if self.chance(0.05):
                k["configMapGenerator"].append(self.generator_entry("never-made", "merge"))
        if any("secrets" in n for n in gen_names) and self.chance(0.4):
            k["secretGenerator"] = [{"name": next(n for n in gen_names if "secrets" in n),
                                     "behavior": self.pick(["merge", "replace"]), "literals": [f"token={env}"]}]
        if self.chance(0.2):
            k["generatorOptions"] = self.pick([{"disableNameSuffixHash": True}, {"labels": {"env": env}}])
        self.write_kustomization(d, k)
        return k

    def replacements(self, src_objs, tgt_objs, objs):
        """Replacements from an object of one base into objects of another (a source is one object
        of all, objs, most of the time)."""
        reps = []
        unique = [o for o in src_objs if objs.count(o) == 1 or self.chance(0.05)] or src_objs
        for _ in range(self.r.randint(1, 2)):
            skind, sname = self.pick(unique)
            field = {"Service": "metadata.name", "Certificate": "spec.secretName",
                     "HelmRelease": "spec.values.ingress.hosts.0.host", "Ingress": "spec.rules.0.host",
                     "ConfigMap": "data.domain"}.get(skind, "metadata.name")
            src = {"kind": skind, "name": sname, "fieldPath": field}
            if self.chance(0.3) and field.endswith("host"):
                src["options"] = {"delimiter": ".", "index": 0}
            tkind, tname = self.pick(tgt_objs)
            paths = {"Certificate": ["spec.dnsNames.0", "spec.commonName", "spec.secretTemplate.annotations.source"],
                     "Ingress": ["spec.rules.0.host", "spec.tls.0.hosts.1", "spec.rules.0.http.paths.0.backend.service.name"],
                     "HelmRelease": ["spec.values.ingress.hosts.0.host", "spec.values.fullnameOverride",
                                     "spec.valuesFrom.[kind=ConfigMap].name"],
                     "Deployment": ["spec.template.spec.containers.0.env.[name=LOG_LEVEL].value",
                                    "metadata.annotations.source"],
                     "Rollout": ["spec.strategy.canary.canaryService", "spec.template.metadata.annotations.source"],
                     "Kustomization": ["spec.postBuild.substitute.cluster_domain", "spec.targetNamespace"]
                     }.get(tkind, ["metadata.annotations.source"])
            tgt = {"select": {"kind": tkind} if self.chance(0.5) else {"kind": tkind, "name": tname},
                   "fieldPaths": self.some(paths, 1, 2)}
            if self.chance(0.85):
                tgt["options"] = {"create": True}
            if self.chance(0.2):
                tgt["options"] = {"delimiter": ".", "index": self.pick([0, 1])}
            if self.chance(0.2):
                tgt["reject"] = [{"name": tname}] if self.chance(0.3) else [{"labelSelector": "app.kubernetes.io/name=redis"}]
            reps.append({"source": src, "targets": [tgt]})
        return reps

    def top_kustomization(self, d, resources, objs, src_objs=None, tgt_objs=None):
        self.local_files = {}
        k = {"resources": resources}
        if self.chance(0.5):
            k["sortOptions"] = self.sort_options()
        if self.chance(0.3):
            k["labels"] = self.real_labels("cluster")
        if self.chance(0.3):
            k["commonAnnotations"] = {"cluster": self.pick(["prod-eu", "${CLUSTER_NAME}"])}
        if src_objs and tgt_objs and self.chance(0.6):
            reps = self.replacements(src_objs, tgt_objs, objs)
            if self.chance(0.3):
                self.local_files["replacements.yaml"] = dump(reps)
                k["replacements"] = [{"path": "replacements.yaml"}]
            else:
                k["replacements"] = reps
        if objs and self.chance(0.3):
            k["patches"] = self.real_patches(objs)
        self.write_kustomization(d, k)

    def apps(self, root, envs):
        """apps/base/<app> for one or two apps, optional components, one overlay per env."""
        names = self.some(REAL_APPS, 1, 2)
        base_objs, gen_names = [], []
        for app in names:
            o, g = self.app_base(f"{root}/base/{app}", app)
            base_objs += o
            gen_names += g
        comps = []
        cobjs = base_objs
        for c in self.some(["monitoring", "tls", "ha"], 0, 2):
            cobjs = self.component(f"{root}/components/{c}", cobjs, gen_names)
            comps.append(c)
        env_objs = {}
        for env in envs:
            use = [f"../components/{c}" for c in comps if self.chance(0.7)]
            bases = [f"../base/{a}" for a in names]
            objs = cobjs if use else base_objs
            self.overlay(f"{root}/{env}", bases, objs, gen_names, env, use)
            env_objs[env] = objs
        return env_objs

    # ---- layouts
    def flux_fleet(self):
        envs = self.some(REAL_ENVS[:2], 1, 2)
        app_objs = self.apps("apps", envs)
        # infrastructure/controllers: HelmRepositories and HelmReleases; configs: issuers and certificates
        self.local_files = {}
        infra = [self.obj("Namespace", "cert-manager"),
                 self.obj("HelmRepository", "jetstack", spec={"interval": "24h", "url": "https://charts.jetstack.io"}),
                 self.helm_release("cert-manager", "jetstack")]
        if self.chance(0.5):
            infra.append(self.helm_release("ingress-nginx", "ingress-nginx"))
        self.files["infrastructure/controllers/cert-manager.yaml"] = dump(infra)
        ik = {"resources": ["cert-manager.yaml"]}
        if self.chance(0.5):
            ik["patches"] = self.real_patches([("HelmRelease", "cert-manager")])
        self.write_kustomization("infrastructure/controllers", ik)
        infra_objs = [(d["kind"], d["metadata"]["name"]) for d in infra]
        self.files["infrastructure/configs/issuers.yaml"] = dump([
            self.obj("ClusterIssuer", issuer, spec={"acme": {"server": "https://acme.example.com/directory",
                                                             "privateKeySecretRef": {"name": issuer}}})
            for issuer in ("letsencrypt", "letsencrypt-staging")])
        self.write_kustomization("infrastructure/configs", {"resources": ["issuers.yaml"]})
        # clusters/<env>: flux-system with bootstrap patches, Flux Kustomizations, cluster variables
        env = envs[0]
        cl = f"clusters/{env}"
        self.files[f"{cl}/flux-system/gotk-components.yaml"] = dump(
            [self.obj("Namespace", "flux-system")] +
            [dict(self.obj("Deployment", c, {"app.kubernetes.io/component": c}, spec={
                "selector": {"matchLabels": {"app": c}},
                "template": {"metadata": {"labels": {"app": c}}, "spec": {"containers": [
                    {"name": "manager", "image": f"ghcr.io/fluxcd/{c}:v1.2.0", "args": ["--log-level=info"]}]}}}))
             for c in ("source-controller", "kustomize-controller", "helm-controller")])
        sync = [self.obj("GitRepository", "flux-system", spec={"interval": "1m0s", "ref": {"branch": "main"},
                                                               "url": "ssh://git@github.com/org/fleet"}),
                self.flux_kustomization("flux-system", f"./{cl}")]
        for s in sync:
            s["metadata"]["namespace"] = "flux-system"
        self.files[f"{cl}/flux-system/gotk-sync.yaml"] = dump(sync)
        fk = {"resources": ["gotk-components.yaml", "gotk-sync.yaml"]}
        if self.chance(0.7):
            fk["patches"] = [{"patch": dump([[{"op": "add", "path": "/spec/template/spec/containers/0/args/-",
                                               "value": "--concurrent=20"}]]),
                              "target": {"kind": "Deployment",
                                         "name": self.pick(["(kustomize-controller|helm-controller)",
                                                            ".*-controller", "source-controller"])}}]
        self.write_kustomization(f"{cl}/flux-system", fk)
        fl = [self.flux_kustomization("infra-controllers", "./infrastructure/controllers"),
              self.flux_kustomization("infra-configs", "./infrastructure/configs", ["infra-controllers"]),
              self.flux_kustomization("apps", f"./apps/{env}", ["infra-configs"])]
        self.files[f"{cl}/infrastructure.yaml"] = dump(fl[:2])
        self.files[f"{cl}/apps.yaml"] = dump(fl[2:])
        flux_objs = [("Kustomization", d["metadata"]["name"]) for d in fl] + [("GitRepository", "flux-system")]
        self.local_files = {}
        ck = {"resources": ["flux-system", "infrastructure.yaml", "apps.yaml"]}
        if self.chance(0.5):
            ck["configMapGenerator"] = [{"name": "cluster-vars", "namespace": "flux-system",
                                         "literals": [f"CLUSTER_ENV={env}", "domain=example.com"],
                                         "options": {"disableNameSuffixHash": True}}]
            flux_objs.append(("ConfigMap", "cluster-vars"))
        if self.chance(0.4):
            ck["patches"] = self.real_patches(flux_objs)
        if self.chance(0.3):
            ck["sortOptions"] = self.sort_options()
        self.write_kustomization(cl, ck)
        # what is built: the cluster folder, one overlay, or everything at once as a check would
        k = self.r.random()
        if k < 0.25:
            self.top = cl
        elif k < 0.5:
            self.top = f"apps/{env}"
        else:
            self.top = "all"
            resources = [f"../apps/{e}" for e in envs if len(envs) == 1 or
                         self.files[f"apps/{e}/kustomization.yaml"].get("namespace")]
            resources = resources or [f"../apps/{env}"]
            if self.chance(0.7):
                resources.append("../infrastructure/controllers")
            if self.chance(0.5):
                resources.append("../infrastructure/configs")
            objs = app_objs[env] + infra_objs
            self.top_kustomization("all", resources, objs, infra_objs + app_objs[env], app_objs[env] + infra_objs)

    def cloud_platform(self):
        cluster = "namespaces/live.cloud-platform.service.justice.gov.uk"
        comps = []
        if self.chance(0.6):
            self.local_files = {}
            self.files["components/default-network-policy/networkpolicy.yaml"] = dump([
                self.obj("NetworkPolicy", "default", spec={"podSelector": {}, "policyTypes": ["Ingress"],
                                                           "ingress": [{"from": [{"podSelector": {}}]}]}),
                self.obj("NetworkPolicy", "allow-ingress-controllers", spec={
                    "podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"namespaceSelector": {
                        "matchLabels": {"component": "ingress-controllers"}}}]}]})])
            self.write_kustomization("components/default-network-policy", {"resources": ["networkpolicy.yaml"]},
                                     component=True)
            comps.append("default-network-policy")
        if self.chance(0.5):
            self.local_files = {}
            self.files["components/monitoring/rule.yaml"] = dump([self.obj("PrometheusRule", "alerts", {
                "role": "alert-rules"}, spec={"groups": [{"name": "app", "rules": [
                    {"alert": "Down", "expr": "up == 0", "for": "5m", "labels": {"severity": "warning"}}]}]})])
            ck = {"resources": ["rule.yaml"]}
            if self.chance(0.5):
                ck["patches"] = [{"patch": dump([[{"op": "add", "path": "/spec/groups/0/rules/-", "value": {
                    "alert": "Slow", "expr": "latency > 1", "labels": {"severity": "info"}}}]]),
                    "target": {"kind": "PrometheusRule", "labelSelector": "role=alert-rules"}}]
            self.write_kustomization("components/monitoring", ck, component=True)
            comps.append("monitoring")
        folders = []
        all_objs = {}
        for ns in self.some(["abundant-namespace-dev", "court-probation-prod", "hmpps-staging", "laa-apply"], 1, 3):
            d = f"{cluster}/{ns}"
            self.local_files = {}
            team = self.pick(["webops", "hmpps-sre", "laa-team"])
            docs = {"00-namespace.yaml": [self.obj("Namespace", ns, {
                "cloud-platform.justice.gov.uk/is-production": "false",
                "cloud-platform.justice.gov.uk/environment-name": ns.rsplit("-", 1)[-1]}, {
                "cloud-platform.justice.gov.uk/business-unit": "HQ", "cloud-platform.justice.gov.uk/owner": team})],
                "01-rbac.yaml": [dict(self.obj("RoleBinding", f"{ns}-admin"), roleRef={
                    "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"}, subjects=[
                    {"kind": "Group", "name": f"github:{team}", "apiGroup": "rbac.authorization.k8s.io"}])],
                "02-limitrange.yaml": [self.obj("LimitRange", "limitrange", spec={"limits": [{
                    "default": {"cpu": "1", "memory": "1000Mi"}, "defaultRequest": {"cpu": "10m", "memory": "100Mi"},
                    "type": "Container"}]})],
                "03-resourcequota.yaml": [self.obj("ResourceQuota", "namespace-quota", spec={"hard": {"pods": "50"}})]}
            for f, ds in docs.items():
                for doc in ds[:1] if f != "00-namespace.yaml" else []:
                    doc["metadata"]["namespace"] = ns
                    self.obj_ns[doc["kind"], doc["metadata"]["name"]] = ns
                self.files[f"{d}/{f}"] = dump(ds)
            objs = [(ds[0]["kind"], ds[0]["metadata"]["name"]) for ds in docs.values()]
            k = {"resources": sorted(docs)}
            if self.chance(0.5):
                app = self.pick(REAL_APPS)
                wl = self.workload(app, self.pick(["Deployment", "Rollout"]))
                self.files[f"{d}/app.yaml"] = dump([wl, self.certificate(app, [f"{app}.{ns}.service.justice.gov.uk"])])
                k["resources"].append("app.yaml")
                objs += [(wl["kind"], app), ("Certificate", app)]
            use = [f"../../../components/{c}" for c in comps if self.chance(0.6)]
            if use:
                k["components"] = use
            if use or self.chance(0.6):
                k["namespace"] = ns
            if self.chance(0.4):
                k["patches"] = self.real_patches(objs)
            if self.chance(0.3):
                k["images"] = self.real_images()
            if self.chance(0.3):
                k["labels"] = self.real_labels(ns.rsplit("-", 1)[-1])
            if self.chance(0.3):
                k["secretGenerator"] = [self.generator_entry(f"{ns}-env")]
                k["secretGenerator"][0]["type"] = "Opaque"
            self.write_kustomization(d, k)
            folders.append(ns)
            all_objs[ns] = objs
        if len(folders) > 1 and self.chance(0.6):
            self.top = cluster
            objs = [o for ns in folders for o in all_objs[ns]]
            src = all_objs[folders[0]]
            tgt = all_objs[folders[-1]]
            self.top_kustomization(cluster, sorted(folders), objs, src, tgt)
        else:
            self.top = f"{cluster}/{self.pick(folders)}"

    def app_overlays(self):
        envs = self.some(REAL_ENVS, 1, 3)
        env_objs = self.apps("deploy", envs)
        if len(envs) > 1 and self.chance(0.5):
            # a check that renders every environment: the overlays must not collide
            resources = []
            for e in envs:
                k = self.files[f"deploy/{e}/kustomization.yaml"]
                if k.get("namespace") or k.get("nameSuffix") or k.get("namePrefix") or not resources:
                    resources.append(f"../{e}")
            objs = [o for e in envs for o in env_objs[e]]
            self.top_kustomization("deploy/all", resources, objs, env_objs[envs[0]], env_objs[envs[-1]])
            self.top = "deploy/all"
        else:
            self.top = f"deploy/{self.pick(envs)}"

    # ---- widening: drawn after the layout, so a seed's layout is the one the first generator drew
    def widen(self):
        """What the layouts above never write, added to the tree they drew: multi-document files
        with comments and `---` variants (Flux image-policy markers on lines), Flux objects with
        postBuild substitutions as plain resources, a CRD with its custom resources and a `crds:`
        file, replacements in `path:` files with delimiter/index options, patches with
        allowNameChange/allowKindChange, env files with comments, blanks, quotes and `export`,
        and buildMetadata."""
        top = self.files[f"{self.top}/kustomization.yaml"]
        resources = [p for p, t in self.files.items() if isinstance(t, str) and p.endswith(".yaml")
                     and os.path.basename(p) in self.files.get(os.path.dirname(p) + "/kustomization.yaml",
                                                               {}).get("resources", [])]
        for path in self.some(sorted(resources), 0, 2):
            self.files[path] = self.hand_written(self.files[path])
        added = []
        if self.chance(0.45):
            added += self.flux_vars(top)
        if self.chance(0.3):
            added += self.crds_and_crs(top)
        if added and self.chance(0.6):
            self.replacement_files(top, added)
        if added and self.chance(0.4):
            self.renaming_patch(top, added)
        if self.chance(0.4):
            self.env_generator(top)
        if self.chance(0.3):
            top["buildMetadata"] = self.some(["originAnnotations", "transformerAnnotations", "managedByLabel"], 1, 3)

    SEPARATORS = ["---\n", "--- # next\n", "---   \n", "\n---\n", "---\n# only a comment\n---\n", "...\n---\n",
                  "---\n---\n", "# between\n---\n"]

    def hand_written(self, text):
        """A dumped file rewritten as people write them: comments, `---` variants, line comments."""
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        out = self.pick(["", "", "---\n", "--- # first\n", "# Managed by Flux\n", "# head\n---\n"])
        for i, doc in enumerate(docs):
            if i:
                out += self.pick(self.SEPARATORS)
            body = dump([doc])
            if self.chance(0.4):
                body = f"# {doc.get('kind')} {doc.get('metadata', {}).get('name')}\n" + body
            if self.chance(0.5):
                policy = self.pick(['# {"$imagepolicy": "flux-system:podinfo"}', "# pinned", "#no space"])
                body = re.sub(r"^(\s*(?:- )?image: \S+)$", rf"\1 {policy}", body, flags=re.M)
            if self.chance(0.3):
                body = re.sub(r"^(\s*replicas: \d+)$", r"\1  # scaled by HPA", body, flags=re.M)
            out += body
        return out + self.pick(["", "", "---\n", "...\n", "# end\n", "\n\n"])

    def flux_vars(self, k):
        """Flux objects whose fields hold postBuild variables, built by kustomize as plain text."""
        vars_cm = self.obj("ConfigMap", "cluster-settings")
        vars_cm["data"] = {"CLUSTER_NAME": "prod-eu", "CLUSTER_DOMAIN": self.pick(["eu.example.com", "example.com"]),
                           "REPLICAS": self.pick(["3", "0x1F", "1e3"]), "ENABLED": self.pick(["true", "yes", "on"])}
        ks = self.flux_kustomization("platform", "./platform/${CLUSTER_NAME}")
        ks["spec"]["postBuild"] = {"substitute": {"domain": "${CLUSTER_DOMAIN:=example.com}",
                                                  "replicas": self.pick(["2", "1.0", "012"]),
                                                  "escaped": "$${NOT_SUBSTITUTED}"},
                                   "substituteFrom": [{"kind": "ConfigMap", "name": "cluster-settings"},
                                                      {"kind": "Secret", "name": "cluster-secrets", "optional": True}]}
        hr = self.helm_release("platform")
        hr["spec"]["values"].update({"replicaCount": "${REPLICAS:-2}", "host": "app.${CLUSTER_DOMAIN}",
                                     "enabled": "${ENABLED}", "raw": "$${KEEP}"})
        docs = [vars_cm, ks, hr]
        self.files[f"{self.top}/flux-vars.yaml"] = self.hand_written(dump(docs)) if self.chance(0.5) else dump(docs)
        k["resources"] = k.get("resources", []) + ["flux-vars.yaml"]
        if self.chance(0.4):
            k["commonAnnotations"] = {**k.get("commonAnnotations", {}),
                                      "kustomize.toolkit.fluxcd.io/substitute": self.pick(["disabled", "${SUB}"])}
        return [(d["kind"], d["metadata"]["name"]) for d in docs]

    def crds_and_crs(self, k):
        """A CRD, custom resources of its kind and a `crds:` file that makes a field a name reference."""
        scope = self.pick(["Namespaced", "Cluster"])
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.com"},
               "spec": {"group": "example.com", "scope": scope,
                        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                            "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
        crs = [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": n},
                "spec": {"configRef": {"name": "widget-config"}, "size": self.r.randint(1, 3)}}
               for n in self.some(["small", "large"], 1, 2)]
        self.files[f"{self.top}/widgets.yaml"] = dump([crd] + crs)
        k["resources"] = k.get("resources", []) + ["widgets.yaml"]
        defs = {"example.com/v1.Widget": {"Schema": {"properties": {
            "spec": {"$ref": "example.com/v1.WidgetSpec"}}}, "Dependencies": []},
            "example.com/v1.WidgetSpec": {"Schema": {"properties": {"configRef": {
                "type": "object", "x-kubernetes-object-ref-kind": "ConfigMap",
                "x-kubernetes-object-ref-api-version": "v1", "properties": {"name": {"type": "string"}}}}},
                "Dependencies": []}}
        self.files[f"{self.top}/widget-crd.json"] = json.dumps(defs, indent=1) + "\n"
        k["crds"] = ["widget-crd.json"] + (["widgets.yaml"] if self.chance(0.05) else [])
        k["configMapGenerator"] = k.get("configMapGenerator", []) + [
            {"name": "widget-config", "literals": ["size=small"]}]
        return [("Widget", cr["metadata"]["name"]) for cr in crs] + [("ConfigMap", "widget-config")]

    def replacement_files(self, k, objs):
        """Replacements between the objects just added, in `path:` files (one in a subdirectory)."""
        sources = {"cluster-settings": ["data.CLUSTER_DOMAIN", "data.REPLICAS", "metadata.name"],
                   "widget-config": ["data.size", "metadata.name"],
                   "Kustomization": ["spec.postBuild.substitute.domain", "spec.path"],
                   "HelmRelease": ["spec.values.host", "spec.chart.spec.version"],
                   "Widget": ["spec.size", "spec.configRef.name"]}
        targets = {"ConfigMap": ["data.CLUSTER_NAME", "data.copied"],
                   "Kustomization": ["spec.postBuild.substitute.domain", "spec.targetNamespace", "spec.path"],
                   "HelmRelease": ["spec.values.host", "spec.values.ingress.hosts.0.host", "spec.releaseName"],
                   "Widget": ["spec.configRef.name", "metadata.annotations.domain", "spec.size"]}
        files = []
        for j in range(self.r.randint(1, 2)):
            reps = []
            for _ in range(self.r.randint(1, 2)):
                skind, sname = self.pick(objs)
                src = {"kind": skind, "name": sname, "fieldPath": self.pick(sources.get(sname) or sources[skind])}
                if self.chance(0.4):
                    src["options"] = {"delimiter": self.pick([".", "/", "-"]), "index": self.pick([0, 1, 2, -1])}
                tkind, tname = self.pick(objs)
                tgt = {"select": {"kind": tkind, "name": tname} if self.chance(0.6) else {"kind": tkind},
                       "fieldPaths": self.some(targets[tkind], 1, 2)}
                opts = {}
                if self.chance(0.5):
                    opts.update(delimiter=self.pick([".", "-", "/"]), index=self.pick([0, 1, 3, -1]))
                if self.chance(0.8):
                    opts["create"] = True
                if opts:
                    tgt["options"] = opts
                reps.append({"source": src, "targets": [tgt]})
            name = self.pick(["replacements.yaml", f"replacements/r{j}.yaml"])
            self.files[f"{self.top}/{name}"] = dump(reps) if self.chance(0.8) else json.dumps(reps) + "\n"
            if name not in files:
                files.append(name)
        entries = [{"path": f} for f in files]
        if self.chance(0.3):
            entries.insert(0, {"source": {"kind": objs[0][0], "name": objs[0][1], "fieldPath": "metadata.name"},
                               "targets": [{"select": {"kind": objs[-1][0]},
                                            "fieldPaths": ["metadata.annotations.first"], "options": {"create": True}}]})
        k["replacements"] = k.get("replacements", []) + entries

    def renaming_patch(self, k, objs):
        """A patch that renames or re-kinds one added object, with and without the options allowing it."""
        kind, name = self.pick(objs)
        doc = {"apiVersion": self.api_of(kind) if kind != "Widget" else "example.com/v1", "kind": kind,
               "metadata": {"name": name}}
        opts = {}
        if self.chance(0.6):
            doc["metadata"]["name"] = f"{name}-v2"
            opts["allowNameChange"] = self.chance(0.85)
        if not opts or self.chance(0.3):
            doc["kind"] = self.pick([kind + "Copy", "Secret" if kind == "ConfigMap" else kind])
            opts["allowKindChange"] = self.chance(0.85)
        p = {"patch": dump([doc]), "target": {"kind": kind, "name": name}}
        if self.chance(0.9):
            p["options"] = opts
        k["patches"] = k.get("patches", []) + [p]

    ENV_LINES = ["# cluster settings", "", "CLUSTER_NAME=prod-eu", 'DOMAIN="example.com"', "TOKEN='s3cr3t'",
                 "export REGION=eu-west-1", "EMPTY=", "URL=https://example.com/?a=b#frag", "  INDENTED=1",
                 "QUOTED_HASH=\"a # b\"", "TRAILING=x   ", "# KEY=commented out", "MULTI=\"a b c\""]

    def env_generator(self, k):
        """A ConfigMap or Secret from env files with comments, blank lines, quotes and `export`."""
        envs = []
        lines = self.r.sample(self.ENV_LINES, len(self.ENV_LINES))
        for j in range(self.r.randint(1, 2)):
            # the files share no key: kustomize refuses a key given twice
            text = "\n".join(lines[j * 6:j * 6 + self.r.randint(2, 6)])
            if self.chance(0.8):
                text += "\n"
            name = self.pick([f"cluster-{j}.env", f"env/settings-{j}.env"])
            self.files[f"{self.top}/{name}"] = text
            if name not in envs:
                envs.append(name)
        g = {"name": "cluster-env", "envs": envs}
        if self.chance(0.3):
            g["literals"] = ["EXTRA=1"]
        if self.chance(0.3):
            g["options"] = {"disableNameSuffixHash": True}
        field = self.pick(["configMapGenerator", "configMapGenerator", "secretGenerator"])
        k[field] = k.get(field, []) + [g]


class DirGen(Gen):
    """A generator that keeps the documents of each directory's files in self.docs (path -> docs)
    and each directory's kustomization in self.ks (directory -> dict)."""

    def add(self, d, docs, fname="more.yaml"):
        path = f"{d}/{fname}"
        if path not in self.docs:
            self.docs[path] = []
            self.ks.setdefault(d, {}).setdefault("resources", []).append(fname)
        self.docs[path].extend(docs)


class NovelGen(DirGen):
    """--mode novel: trees of three levels (base/, mid/ over it, overlay/ over that, the top) drawn
    from random.Random(f"{S}:{i}:novel"), for what the other modes never draw: configMapGenerator
    and secretGenerator entries made in base/ and merged or replaced in mid/ and overlay/ with
    options of their own (labels, annotations, immutable, disableNameSuffixHash) beside
    generatorOptions, from literals, files and env files; replacements whose source is a map or a
    list (or a scalar in one) that an earlier replacement rewrote, at one level or two; objects
    embedded in fields a built-in kind's schema lacks (a pod template's `extra`, a Service's
    `embedded`) with containers, patched by strategic merge and JSON 6902; `labels` entries with
    `fields` and includeTemplates at two levels; sortOptions (fifo or legacy) at the top beside
    components that add and patch objects (a component sometimes with sortOptions of its own);
    two bases with objects of the same names in two namespaces (team-a/, team-b/) referring to
    each other, renamed above; images with digests and newName meeting initContainers and the
    image fields of a custom kind named in `configurations:`; and files (kustomizations,
    resources, env and literal files) with CRLF line ends (the tree's "crlf" list, applied when
    it is written).
    """

    LEVELS = ["base", "mid", "overlay"]

    def __init__(self, seed, index):
        super().__init__(seed, index)
        self.r = random.Random(f"{seed}:{index}:novel")
        self.tricky = 0.0
        self.top = "overlay"
        self.ks = {"base": {"resources": ["app.yaml"]}, "mid": {"resources": ["../base"]},
                   "overlay": {"resources": ["../mid"]}}
        self.docs = {"base/app.yaml": []}  # resource files, as documents
        self.crlf = []

    def generate(self):
        self.n_app()
        pieces = [(self.n_generators, 0.5), (self.n_replacements, 0.4), (self.n_embedded, 0.35),
                  (self.n_labels, 0.35), (self.n_components, 0.3), (self.n_namespaces, 0.3),
                  (self.n_images, 0.4)]
        chosen = [f for f, w in pieces if self.chance(w)] or [self.pick(pieces)[0]]
        for f in chosen:
            f()
        for d, k in self.ks.items():
            self.files[f"{d}/kustomization.yaml"] = k
        for path, docs in self.docs.items():
            self.files[path] = dump(docs)
        if self.chance(0.3):
            self.crlf = sorted(self.some(sorted(self.files), 1, 4))
        tree = {"files": self.files, "top": self.top}
        if self.crlf:
            tree["crlf"] = self.crlf
        return tree

    def level(self, levels=("mid", "overlay")):
        return self.ks[self.pick(list(levels))]

    # ---- the application every tree has
    def n_app(self):
        kind = self.pick(["Deployment", "Deployment", "StatefulSet", "DaemonSet"])
        labels = {"app": "web"}
        app = {"name": "app", "image": self.pick(IMAGES), "args": ["--mode", "plain"],
               "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}},
                       {"name": "A", "value": "plain"}],
               "envFrom": [{"secretRef": {"name": "sec"}}]}
        spec = {"initContainers": [{"name": "init", "image": self.pick(["busybox", "busybox:1.35",
                                                                          "alpine@sha256:" + "c" * 64])}],
                "containers": [app],
                "volumes": [{"name": "config", "configMap": {"name": "cfg"}},
                            {"name": "secret", "secret": {"secretName": "sec"}}]}
        w = {"apiVersion": "apps/v1", "kind": kind,
             "metadata": {"name": "web", "labels": dict(labels), "annotations": {"note": "base"}},
             "spec": {"selector": {"matchLabels": dict(labels)},
                      "template": {"metadata": {"labels": dict(labels), "annotations": {"k": "base"}},
                                   "spec": spec}}}
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": dict(labels), "ports": [{"port": 80, "targetPort": 8080}]}}
        src = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "src"},
               "data": {"k": "from-src", "host": "db.example.com", "list": "a,b,c"}}
        self.docs["base/app.yaml"] = [w, svc, src]
        self.workload = kind

    # ---- generators made in base/ and merged or replaced above it
    def gen_options(self):
        o = {}
        if self.chance(0.4):
            o["labels"] = self.labels(1, 2)
        if self.chance(0.3):
            o["annotations"] = {self.pick(["note", "owner"]): self.pick(["x", "z", "1"])}
        if self.chance(0.25):
            o["disableNameSuffixHash"] = self.chance(0.6)
        if self.chance(0.2):
            o["immutable"] = self.chance(0.6)
        return o

    def gen_sources(self, d, name, secret):
        e = {}
        # The keys of one entry's sources are apart (a key twice fails); levels share them.
        if self.chance(0.7):
            e["literals"] = [f"{key}={self.pick(['v1', 'v2', '', 'a b', 'x=y', '1'])}"
                             for key in self.some(["k", "extra", "mode", name], 1, 3)]
        if self.chance(0.35):
            fname = f"{name}-{self.pick(['conf.txt', 'app.properties'])}"
            self.files[f"{d}/{fname}"] = self.pick(["line one\nline two\n", "k=from-file\n", "x", "\n"])
            e["files"] = [self.pick([fname, f"file-k={fname}", f"{name}.key={fname}"])]
        if self.chance(0.3) or not e:
            fname = f"{name}.env"
            self.files[f"{d}/{fname}"] = "".join(self.some(
                ["env-k=from-env\n", "# comment\n", "env-mode=\"quoted\"\n", "env-extra= spaced \n", "\n",
                 "env-only\n"], 1, 4))
            e["envs"] = [fname]
        if secret and self.chance(0.3):
            e["type"] = self.pick(["Opaque", "kubernetes.io/tls"])
        return e

    def n_generators(self):
        for key, name in [("configMapGenerator", "cfg"), ("secretGenerator", "sec")]:
            if self.chance(0.2):
                continue
            secret = key == "secretGenerator"
            for i, d in enumerate(self.LEVELS):
                if i and not self.chance(0.6):
                    continue
                e = {"name": name, **self.gen_sources(d, name, secret)}
                if i:
                    e["behavior"] = self.pick(["merge", "merge", "replace", "create"] if self.chance(0.1)
                                              else ["merge", "merge", "replace"])
                options = self.gen_options()
                if options:
                    e["options"] = options
                self.ks[d].setdefault(key, []).append(e)
        for d in self.LEVELS:
            if self.chance(0.25):
                self.ks[d]["generatorOptions"] = self.gen_options()

    # ---- replacements reading what an earlier one wrote
    def n_replacements(self):
        w = self.workload
        shape = self.pick(["map", "list", "scalar-in-map", "scalar-in-list"])
        first = {"source": {"kind": "ConfigMap", "name": "src"}, "targets": [{"select": {"kind": w}}]}
        second = {"source": {"kind": w, "name": "web"}, "targets": []}
        if shape in ("map", "scalar-in-map"):
            first["source"]["fieldPath"] = "data"
            first["targets"][0]["fieldPaths"] = [self.pick(["spec.template.metadata.annotations",
                                                            "metadata.annotations"])]
            read = first["targets"][0]["fieldPaths"][0]
            if shape == "scalar-in-map":
                read += "." + self.pick(["host", "k", "missing"])
        else:
            first["source"]["fieldPath"] = self.pick(["data.k", "data.list"])
            where = self.pick(["spec.template.spec.containers.[name=app].args",
                               "spec.template.spec.containers.[name=app].env"])
            if where.endswith("args"):
                first["targets"][0]["fieldPaths"] = [where + "." + self.pick(["0", "1", "2"])]
            else:
                first["targets"][0]["fieldPaths"] = [where + ".[name=A].value"]
            read = where if shape == "list" else first["targets"][0]["fieldPaths"][0]
        if self.chance(0.4):
            first["targets"][0]["options"] = {"create": True}
        if shape == "scalar-in-list" and self.chance(0.3):
            first["targets"][0]["options"] = {"delimiter": ",", "index": self.r.randint(0, 2)}
        second["source"]["fieldPath"] = read
        if self.chance(0.3):
            second["source"]["options"] = {"delimiter": ".", "index": self.r.randint(-1, 1)}
        for kind, paths in [("Service", ["metadata.annotations", "spec.selector", "metadata.labels.copied"]),
                            ("ConfigMap", ["data", "data.copied"]),
                            (w, ["spec.template.spec.initContainers.[name=init].args",
                                 "spec.template.spec.initContainers.[name=init].env"])]:
            if self.chance(0.5):
                t = {"select": {"kind": kind}, "fieldPaths": self.some(paths, 1, 2)}
                if kind == "ConfigMap":
                    t["select"]["name"] = "src"
                if self.chance(0.6):
                    t["options"] = {"create": True}
                second["targets"].append(t)
        if not second["targets"]:
            second["targets"].append({"select": {"kind": "Service"}, "fieldPaths": ["metadata.annotations"],
                                      "options": {"create": True}})
        # Renamed objects and generated ones carry kustomize's build annotations, which a map copied
        # from or over `metadata.annotations` takes along.
        if self.chance(0.4):
            self.ks["mid"][self.pick(["namePrefix", "nameSuffix"])] = self.pick(["m-", "-m"])
        if self.chance(0.3):
            self.ks["base"].setdefault("configMapGenerator", []).append({"name": "made", "literals": ["a=b"]})
            second["targets"].append({"select": {"kind": "ConfigMap", "name": "made"},
                                      "fieldPaths": [self.pick(["metadata.annotations", "data"])],
                                      "options": {"create": True}})
        if self.chance(0.4):
            self.ks["mid"].setdefault("replacements", []).append(first)
            self.ks["overlay"].setdefault("replacements", []).append(second)
        else:
            k = self.level()
            for rep in (first, second):
                if self.chance(0.3):
                    fname = f"rep-{len(k.get('replacements', []))}.yaml"
                    d = "mid" if k is self.ks["mid"] else "overlay"
                    self.files[f"{d}/{fname}"] = dump([rep])
                    rep = {"path": fname}
                k.setdefault("replacements", []).append(rep)

    # ---- objects in fields a built-in kind's schema lacks
    def n_embedded(self):
        pod = lambda *names: {"containers": [{"name": n, "image": self.pick(IMAGES)} for n in names]}
        w = self.docs["base/app.yaml"][0]
        inner = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "inner", "labels": {"app": "inner"}},
                 "spec": pod("a", "b")}
        if self.chance(0.3):
            del inner["apiVersion"]
        if self.chance(0.3):
            inner["spec"]["volumes"] = [{"name": "c", "configMap": {"name": "cfg"}}]
        field = self.pick(["template", "service"])
        if field == "template":
            w["spec"]["template"]["spec"]["extra"] = inner
            target, path = w, ["spec", "template", "spec", "extra"]
        else:
            svc = self.docs["base/app.yaml"][1]
            svc["spec"]["embedded"] = {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "spec": {"template": {"spec": pod("a")}}}
            target, path = svc, ["spec", "embedded", "spec", "template"]
        k = self.level()
        if self.chance(0.7):
            patch = {"apiVersion": target["apiVersion"], "kind": target["kind"], "metadata": {"name": "web"}}
            node = patch
            for p in path:
                node = node.setdefault(p, {})
            containers = [{"name": self.pick(["a", "c"]), "image": self.pick(IMAGES)}]
            if self.chance(0.3):
                containers.insert(0, {"$patch": self.pick(["replace", "merge", "delete"])})
            node.setdefault("spec", {})["containers"] = containers
            if self.chance(0.3):
                node["metadata"] = {"labels": {"patched": "yes"}}
            k.setdefault("patches", []).append({"patch": dump([patch])})
        if self.chance(0.4):
            ptr = "/" + "/".join(path + ["spec", "containers", "0", "image"])
            k.setdefault("patches", []).append({
                "target": {"kind": target["kind"], "name": "web"},
                "patch": dump([[{"op": self.pick(["replace", "add"]), "path": ptr, "value": "patched:1"}]])})

    # ---- labels with fields and includeTemplates at two levels
    def n_labels(self):
        for d in self.some(["mid", "overlay"], 1, 2):
            entries = []
            for _ in range(self.r.randint(1, 2)):
                e = {"pairs": self.labels(1, 2)}
                if self.chance(0.7):
                    e["includeTemplates"] = self.chance(0.7)
                if self.chance(0.4):
                    e["includeSelectors"] = self.chance(0.5)
                if self.chance(0.6):
                    e["fields"] = [dict({"path": self.pick(["spec/template/metadata/labels", "spec/selector",
                                                             "spec/selector/matchLabels", "metadata/labels",
                                                             "spec/runner/labels", "spec/template/spec/extra/metadata/labels"])},
                                        **({"kind": self.pick([self.workload, "Service", "Widget", "ConfigMap"])}
                                           if self.chance(0.7) else {}),
                                        **({"create": self.chance(0.5)} if self.chance(0.6) else {}))
                                   for _ in range(self.r.randint(1, 2))]
                entries.append(e)
            self.ks[d]["labels"] = entries
            if self.chance(0.2):
                self.ks[d]["commonLabels"] = self.labels(1, 1)

    # ---- sortOptions at the top beside components
    def n_components(self):
        k = self.ks["overlay"]
        order = self.pick(["fifo", "fifo", "legacy"])
        so = {"order": order}
        if order == "legacy" and self.chance(0.6):
            so["legacySortOptions"] = {"orderFirst": self.some(["Service", "ConfigMap", "Widget", "Namespace"], 0, 2),
                                       "orderLast": self.some([self.workload, "Secret"], 0, 2)}
        k["sortOptions"] = so
        for c in self.some(["comp-a", "comp-b"], 1, 2):
            comp = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"}
            docs = [{"apiVersion": "v1", "kind": self.pick(["ConfigMap", "Secret", "ServiceAccount"]),
                     "metadata": {"name": f"{c}-obj"}},
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{c}-ns"}}]
            self.files[f"{c}/objs.yaml"] = dump(self.some(docs, 1, 2))
            comp["resources"] = ["objs.yaml"]
            if self.chance(0.5):
                comp["patches"] = [{"target": {"kind": "Service"},
                                    "patch": dump([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
                                                    "spec": {"type": "NodePort"}}])}]
            if self.chance(0.3):
                comp["configMapGenerator"] = [{"name": "cfg", "behavior": self.pick(["merge", "create"]),
                                               "literals": [f"from-{c}=1"]}]
            if self.chance(0.15):
                comp["sortOptions"] = {"order": self.pick(["fifo", "legacy"])}
            self.files[f"{c}/kustomization.yaml"] = comp
            owner = self.ks[self.pick(["overlay", "overlay", "mid"])]
            owner.setdefault("components", []).append(f"../{c}")
        if self.chance(0.5):
            self.add("overlay", [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "top-first"}},
                                 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "late"}}],
                     fname="top.yaml")
            k["resources"].insert(0, k["resources"].pop())

    # ---- the same names in two namespaces, referring to each other
    def n_namespaces(self):
        for team in ("team-a", "team-b"):
            ns = "a" if team == "team-a" else "b"
            k = {"namespace": ns, "resources": ["objs.yaml"]}
            if self.chance(0.4):
                k["configMapGenerator"] = [{"name": "settings", "literals": [f"team={ns}"]}]
            if self.chance(0.4):
                k[self.pick(["namePrefix", "nameSuffix"])] = self.pick([f"{ns}-", f"-{ns}"])
            docs = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner"}},
                    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"},
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                     "subjects": [dict({"kind": "ServiceAccount", "name": "runner"},
                                       **({"namespace": self.pick([ns, "a", "other"])} if self.chance(0.5) else {}))]},
                    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "reader"}},
                    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "worker"},
                     "spec": {"template": {"spec": {"serviceAccountName": "runner",
                                                    "containers": [{"name": "w", "image": "busybox"}],
                                                    "volumes": [{"name": "s", "configMap": {"name": "settings"}}]}}}}]
            if "configMapGenerator" not in k:
                docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}})
            self.files[f"{team}/objs.yaml"] = dump(docs)
            self.ks[team] = k
            self.ks["overlay"]["resources"].append(f"../{team}")
        top = self.ks["overlay"]
        if self.chance(0.6):
            top[self.pick(["namePrefix", "nameSuffix"])] = self.pick(["top-", "-top"])
        if self.chance(0.3):
            # a cluster-wide binding naming both service accounts
            self.add("overlay", [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                                  "metadata": {"name": "both"},
                                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                              "name": "view"},
                                  "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "a"},
                                               {"kind": "ServiceAccount", "name": "runner", "namespace": "b"}]}])
        if self.chance(0.15):
            # One namespace for both: each team's own affix keeps its references its own (without
            # one, kustomize reports whichever ambiguous reference its map iteration meets first).
            top["namespace"] = self.pick(["a", "c"])
            for team, ns in (("team-a", "a"), ("team-b", "b")):
                if "namePrefix" not in self.ks[team] and "nameSuffix" not in self.ks[team]:
                    self.ks[team]["nameSuffix"] = f"-{ns}"

    # ---- images with digests and newName in initContainers and custom image fields
    def n_images(self):
        k = self.level(("mid", "overlay", "overlay"))
        images = []
        for name in self.some(["busybox", "alpine", "nginx", "redis", "gcr.io/proj/app", "postgres"], 1, 3):
            e = {"name": name}
            if self.chance(0.6):
                e["newName"] = self.pick(["registry.local:5000/mirror/" + name.split("/")[-1], "quay.io/x", name])
            if self.chance(0.6):
                e["digest"] = "sha256:" + self.pick(["d", "e"]) * 64
            if self.chance(0.35) or len(e) == 1:
                e["newTag"] = self.pick(["1.36", "latest", "v2"])
            images.append(e)
        k["images"] = images
        if self.chance(0.6):
            self.add("base", [{"apiVersion": f"{CRD_GROUP}/v1", "kind": "Widget", "metadata": {"name": "runner"},
                               "spec": {"runner": {"image": self.pick(IMAGES), "labels": {"r": "1"}},
                                        "jobs": [{"image": self.pick(IMAGES)}, {"image": "busybox:1.0"}]}}])
            cfg = {"images": self.some([{"path": "spec/runner/image", "kind": "Widget"},
                                        {"path": "spec/jobs[]/image", "kind": "Widget"},
                                        {"path": "spec/jobs/image", "kind": "Widget"}], 1, 2)}
            d = self.pick(["base", "mid", "overlay"])
            self.files[f"{d}/image-fields.yaml"] = dump([cfg])
            self.ks[d].setdefault("configurations", []).append("image-fields.yaml")


class SharedGen(DirGen):
    """--mode shared: trees drawn from random.Random(f"{S}:{i}:shared") where one base is built twice,
    by env-a/ and env-b/ (told apart by name affixes or namespaces, now and then by nothing, which
    fails), under a top overlay/, for what the other modes never draw: a component used by both
    envs that adds objects, patches and generator merges to the base's; a ClusterRoleBinding with
    service account, user and group subjects and webhook configurations whose services a
    `namespace:` moves (setRoleBindingSubjects in a NamespaceTransformer config); `replicas` on a
    custom kind whose field `configurations:` names; `crds:` files whose schemas give merge keys
    and patch strategies (which only an `openapi:` schema makes kustomize use) beside object
    references; patches whose targets select by labels and annotations, with allowNameChange and
    allowKindChange; secretGenerator types (Opaque, tls, basic-auth, dockerconfigjson) with
    `immutable`; generatorOptions in the base, an env and the overlay at once; builtin
    HashTransformer, PrefixSuffixTransformer and NamespaceTransformer configs under
    `transformers:` (inline or in files); `validators:` that change nothing or something; patches
    that give the generated ConfigMap another kind (then hashed by its node tree); and
    buildMetadata at the top.
    """

    SECRET_TYPES = {"Opaque": ["token"], "kubernetes.io/tls": ["tls.crt", "tls.key"],
                    "kubernetes.io/basic-auth": ["username", "password"],
                    "kubernetes.io/dockerconfigjson": [".dockerconfigjson"]}

    def __init__(self, seed, index):
        super().__init__(seed, index)
        self.r = random.Random(f"{seed}:{index}:shared")
        self.tricky = 0.0
        self.ks = {"base": {"resources": ["app.yaml"]}, "env-a": {"resources": ["../base"]},
                   "env-b": {"resources": ["../base"]}, "overlay": {"resources": ["../env-a", "../env-b"]}}
        self.docs = {"base/app.yaml": []}
        self.flags = []

    def generate(self):
        self.s_base()
        pieces = [(self.s_component, 0.5), (self.s_cluster, 0.45), (self.s_replicas, 0.35),
                  (self.s_crds, 0.3), (self.s_selected_patches, 0.45), (self.s_secrets, 0.4),
                  (self.s_gen_options, 0.35), (self.s_transformers, 0.35), (self.s_validators, 0.2),
                  (self.s_kind_changes, 0.3), (self.s_build_metadata, 0.3)]
        chosen = [f for f, w in pieces if self.chance(w)] or [self.pick(pieces)[0]]
        for f in chosen:
            f()
        self.s_envs()
        for d, k in self.ks.items():
            self.files[f"{d}/kustomization.yaml"] = k
        for path, docs in self.docs.items():
            self.files[path] = dump(docs)
        tree = {"files": self.files, "top": "overlay"}
        if self.flags:
            tree["flags"] = self.flags
        return tree

    def obj(self, api, kind, name, **top):
        meta = {"name": name}
        for key in ("labels", "annotations", "namespace"):
            if key in top:
                meta[key] = top.pop(key)
        return dict({"apiVersion": api, "kind": kind, "metadata": meta}, **top)

    # ---- the base both envs build
    def s_base(self):
        labels = {"app": "web"}
        pod = {"serviceAccountName": "runner",
               "containers": [{"name": "web", "image": self.pick(IMAGES),
                               "envFrom": [{"configMapRef": {"name": "cfg"}}],
                               "volumeMounts": [{"name": "creds", "mountPath": "/c"}]}],
               "volumes": [{"name": "creds", "secret": {"secretName": "creds"}}]}
        self.add("base", [
            self.obj("apps/v1", "Deployment", "web", labels=dict(labels, tier="front"),
                     annotations={"owner": "team-a"} if self.chance(0.5) else {"note": "x"},
                     spec={"replicas": 1, "selector": {"matchLabels": dict(labels)},
                           "template": {"metadata": {"labels": dict(labels)}, "spec": pod}}),
            self.obj("v1", "Service", "web", labels=dict(labels),
                     spec={"selector": dict(labels), "ports": [{"port": 80, "targetPort": 8080}]}),
            self.obj("v1", "ServiceAccount", "runner", labels={"tier": "auth"})], "app.yaml")
        k = self.ks["base"]
        k["configMapGenerator"] = [{"name": "cfg", "literals": ["mode=base", "level=1"]}]
        # (s_secrets may generate it instead)
        self.add("base", [self.obj("v1", "Secret", "creds", data={"token": "dG9r"})])
        if self.chance(0.3):
            k["commonLabels"] = {"team": "shared"}

    # ---- the two envs over the base, and the overlay over both
    def s_envs(self):
        apart = self.pick(["prefix", "prefix", "suffix", "namespace", "both", "nothing"])
        for env, x in (("env-a", "a"), ("env-b", "b")):
            k = self.ks[env]
            if apart in ("prefix", "both"):
                k["namePrefix"] = f"{x}-"
            if apart == "suffix":
                k["nameSuffix"] = f"-{x}"
            if apart in ("namespace", "both"):
                k["namespace"] = f"ns-{x}"
            if self.chance(0.3):
                k.setdefault("configMapGenerator", []).append(
                    {"name": "cfg", "behavior": self.pick(["merge", "merge", "replace"]),
                     "literals": [f"env={x}"]})
            if self.chance(0.25):
                k["commonAnnotations"] = {"env": x}
        top = self.ks["overlay"]
        if self.chance(0.3):
            top["namePrefix"] = "top-"
        if self.chance(0.2):
            top["labels"] = [{"pairs": {"stack": "shared"}, "includeSelectors": self.chance(0.5)}]

    # ---- a component both envs (or one) use
    def s_component(self):
        comp = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"}
        docs = [self.obj("v1", "ConfigMap", "extra", labels={"app": "web"}, data={"from": "comp"})]
        if self.chance(0.5):
            docs.append(self.obj("v1", "ServiceAccount", "helper", labels={"tier": "auth"}))
        self.files["comp/objs.yaml"] = dump(docs)
        comp["resources"] = ["objs.yaml"]
        patches = []
        if self.chance(0.7):
            patches.append({"target": {"kind": "Deployment"} if self.chance(0.5) else {"labelSelector": "app=web"},
                            "patch": dump([{"apiVersion": "apps/v1", "kind": "Deployment",
                                            "metadata": {"name": "any"},
                                            "spec": {"template": {"spec": {"containers": [
                                                {"name": "web", "env": [{"name": "COMP", "value": "1"}]}]}}}}])})
        if self.chance(0.4):
            patches.append({"path": "patch.yaml"})
            self.files["comp/patch.yaml"] = dump([{"apiVersion": "v1", "kind": "Service",
                                                   "metadata": {"name": "web"},
                                                   "spec": {"type": self.pick(["NodePort", "ClusterIP"])}}])
        if patches:
            comp["patches"] = patches
        if self.chance(0.4):
            comp["configMapGenerator"] = [{"name": "cfg", "behavior": self.pick(["merge", "merge", "create"]),
                                           "literals": ["comp=yes"]}]
        if self.chance(0.2):
            comp["namePrefix"] = "c-"
        self.files["comp/kustomization.yaml"] = comp
        for env in self.some(["env-a", "env-b"], 1, 2):
            self.ks[env].setdefault("components", []).append("../comp")

    # ---- cluster-scoped objects a namespace reaches: binding subjects and webhook services
    def s_cluster(self):
        subjects = [{"kind": "ServiceAccount", "name": "runner"}]
        ns = self.pick([None, "default", "other"])
        if ns:
            subjects[0]["namespace"] = ns
        if self.chance(0.5):
            subjects.append({"kind": "ServiceAccount", "name": "elsewhere", "namespace": "kube-system"})
        if self.chance(0.5):
            subjects.append({"apiGroup": "rbac.authorization.k8s.io", "kind": self.pick(["User", "Group"]),
                             "name": "dev"})
        docs = [self.obj("rbac.authorization.k8s.io/v1", self.pick(["ClusterRoleBinding", "RoleBinding"]),
                         "runner-binding", subjects=subjects,
                         roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"})]
        for kind in self.some(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"], 1, 2):
            svc = {"name": "web", "path": "/hook"}
            if self.chance(0.6):
                svc["namespace"] = self.pick(["default", "hooks"])
            docs.append(self.obj("admissionregistration.k8s.io/v1", kind, "hooks",
                                 webhooks=[{"name": "hook.example.com", "sideEffects": "None",
                                            "admissionReviewVersions": ["v1"],
                                            "clientConfig": {"service": svc}}]))
        self.add(self.pick(["base", "base", "overlay"]), docs, "cluster.yaml")
        where = self.ks[self.pick(["overlay", "overlay", "env-a"])]
        if self.chance(0.4):
            cfg = {"apiVersion": "builtin", "kind": "NamespaceTransformer",
                   "metadata": {"name": "ns", "namespace": self.pick(["moved", "ns-a"])},
                   "setRoleBindingSubjects": self.pick(["none", "defaultOnly", "allServiceAccounts"]),
                   "fieldSpecs": [{"path": "metadata/namespace", "create": True}]}
            if self.chance(0.5):
                cfg["unsetOnly"] = True
            where.setdefault("transformers", []).append(dump([cfg]))
        else:
            where["namespace"] = self.pick(["moved", "ns-a", "default"])

    # ---- replicas of a custom kind, by a field configurations name
    def s_replicas(self):
        field = self.pick(["spec/replicas", "spec/size", "spec/scale/count"])
        spec = {}
        cur = spec
        parts = field.split("/")[1:]
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        if self.chance(0.8):
            cur[parts[-1]] = self.pick([1, 3, "2"])
        self.add("base", [self.obj(f"{CRD_GROUP}/v1", "Widget", "scaler", spec=spec)], "widget.yaml")
        # (where an env builds the Widget before the field is configured, its replicas fail)
        d = self.pick(["base", "base", "base", "overlay", "env-b"])
        self.files[f"{d}/replica-fields.yaml"] = dump([{"replicas": [
            dict({"path": field, "kind": "Widget"}, **({"create": True} if self.chance(0.4) else {}))]}])
        self.ks[d].setdefault("configurations", []).append("replica-fields.yaml")
        where = self.pick(["overlay", "env-a", "env-a"])
        names = ["scaler", "a-scaler", "scaler-a"] if where == "overlay" else ["scaler", "scaler", "a-scaler"]
        self.ks[where]["replicas"] = [{"name": n, "count": self.r.randint(0, 5)} for n in self.some(names, 1, 2)]

    # ---- crds: whose schemas give merge keys, which kustomize's patches do not use
    def s_crds(self):
        kind = "Widget"
        props = {"items": {"type": "array", "x-kubernetes-patch-merge-key": "name",
                           "x-kubernetes-patch-strategy": self.pick(["merge", "replace", "merge,retainKeys"]),
                           "items": {"type": "object", "properties": {"name": {"type": "string"},
                                                                      "value": {"type": "string"}}}}}
        if self.chance(0.6):
            props["configRef"] = {"type": "object", "x-kubernetes-object-ref-kind": "ConfigMap",
                                  "x-kubernetes-object-ref-name-key": "name",
                                  "properties": {"name": {"type": "string"}}}
        defs = crd_defs(kind, props)
        d = self.pick(["base", "overlay"])
        self.files[f"{d}/crd.json"] = json.dumps(defs, indent=1) + "\n"
        self.ks[d].setdefault("crds", []).append("crd.json")
        spec = {"items": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}], "configRef": {"name": "cfg"}}
        self.add("base", [self.obj(f"{CRD_GROUP}/v1", kind, "lister", spec=spec)], "lister.yaml")
        patch = self.obj(f"{CRD_GROUP}/v1", kind, "lister",
                         spec={"items": [{"name": "b", "value": "patched"}, {"name": "c", "value": "3"}]})
        if self.chance(0.4):
            self.files[f"{d}/lister-schema.json"] = json.dumps({"definitions": {f"com.example.v1.{kind}": {
                "type": "object", "properties": {"spec": {"type": "object", "properties": {"items": props["items"]}}},
                "x-kubernetes-group-version-kind": [{"group": CRD_GROUP, "kind": kind, "version": "v1"}]}}},
                indent=1) + "\n"
            self.ks[d]["openapi"] = {"path": "lister-schema.json"}
        # (above the envs the patch meets both copies, which kustomize refuses)
        where = self.pick(["base", "base", "env-a", "overlay"])
        self.ks[where].setdefault("patches", []).append({"patch": dump([patch])})

    # ---- patches selected by labels and annotations, renaming and changing kinds
    def s_selected_patches(self):
        k = self.ks[self.pick(["overlay", "overlay", "env-a", "base"])]
        for _ in range(self.r.randint(1, 2)):
            t = {}
            if self.chance(0.6):
                t["labelSelector"] = self.pick(["app=web", "tier", "tier in (front,auth)", "!team", "app!=db"])
            if self.chance(0.5) or not t:
                t["annotationSelector"] = self.pick(["owner=team-a", "note", "!note", "env=a"])
            if self.chance(0.4):
                t["kind"] = self.pick(["Deployment", "ServiceAccount", "ConfigMap", "Service"])
            opts = {}
            if self.chance(0.5):
                opts["allowNameChange"] = True
            if self.chance(0.35):
                opts["allowKindChange"] = True
            meta = {"name": self.pick(["renamed", "web", "x"])}
            if self.chance(0.4):
                meta["labels"] = {"patched": "yes"}
            doc = {"apiVersion": "v1", "kind": self.pick(["ConfigMap", "ServiceAccount", "Thing"]), "metadata": meta}
            if self.chance(0.3):
                patch = json.dumps([{"op": "add", "path": "/metadata/annotations/hit", "value": "y"}])
            else:
                patch = dump([doc])
            e = {"target": t, "patch": patch}
            if opts:
                e["options"] = opts
            k.setdefault("patches", []).append(e)

    # ---- secretGenerator types, immutable
    def s_secrets(self):
        k = self.ks[self.pick(["base", "base", "env-b"])]
        typ = self.pick(list(self.SECRET_TYPES))
        keys = self.SECRET_TYPES[typ]
        if self.chance(0.15):
            keys = ["other"]  # a type without its keys
        e = {"name": "creds", "literals": [f"{key}={self.pick(['c2VjcmV0', 'x', '{}'])}" for key in keys]}
        if typ != "Opaque" or self.chance(0.5):
            e["type"] = typ
        if self.chance(0.5):
            e["options"] = {"immutable": True}
        if k is self.ks["base"]:
            self.docs["base/more.yaml"] = [d for d in self.docs.get("base/more.yaml", []) if d["kind"] != "Secret"]
        else:
            e["behavior"] = self.pick(["merge", "replace", "create"])
        k.setdefault("secretGenerator", []).append(e)
        if self.chance(0.3):
            self.ks["overlay"].setdefault("secretGenerator", []).append(
                {"name": "top-secret", "type": typ, "literals": [f"{key}=dA==" for key in keys],
                 "options": {"immutable": self.chance(0.5), "disableNameSuffixHash": self.chance(0.3)}})

    # ---- generatorOptions at several levels at once
    def s_gen_options(self):
        for d in self.some(["base", "env-a", "env-b", "overlay"], 1, 3):
            o = {}
            if self.chance(0.5):
                o["disableNameSuffixHash"] = self.chance(0.6)
            if self.chance(0.5):
                o["labels"] = {"gen": d}
            if self.chance(0.4):
                o["annotations"] = {"by": d}
            if self.chance(0.3):
                o["immutable"] = True
            self.ks[d]["generatorOptions"] = o
        if self.chance(0.5):
            self.ks["overlay"].setdefault("configMapGenerator", []).append({"name": "top-cfg", "literals": ["t=1"]})

    # ---- builtin transformer configs under transformers:
    def s_transformers(self):
        d = self.pick(["overlay", "env-a", "base"])
        configs = []
        for kind in self.some(["HashTransformer", "PrefixSuffixTransformer", "LabelTransformer"], 1, 2):
            c = {"apiVersion": "builtin", "kind": kind, "metadata": {"name": "t-" + kind[:4].lower()}}
            if kind == "PrefixSuffixTransformer":
                c["prefix"] = "p-"
                c["fieldSpecs"] = [{"path": "metadata/name", **({"kind": "ConfigMap"} if self.chance(0.5) else {})}]
            elif kind == "LabelTransformer":
                c["labels"] = {"plugged": "yes"}
                c["fieldSpecs"] = [{"path": "metadata/labels", "create": True}]
            configs.append(c)
        if self.chance(0.5):
            self.ks[d].setdefault("transformers", []).append(dump(configs))
        else:
            self.files[f"{d}/plugins.yaml"] = dump(configs)
            self.ks[d].setdefault("transformers", []).append("plugins.yaml")
        if self.chance(0.4):
            # an object read from a file that asks for a hash suffix
            self.add("base", [self.obj("v1", "ConfigMap", "hashed", data={"a": "1"},
                                       annotations={"internal.config.kubernetes.io/needsHashSuffix": "enabled"})])

    # ---- generated objects a patch gives another kind (hashed then by their whole node tree)
    def s_kind_changes(self):
        k = self.ks[self.pick(["base", "env-a", "overlay"])]
        doc = {"apiVersion": "v1", "kind": self.pick(["ConfigMapCopy", "Settings"]),
               "metadata": {"name": self.pick(["cfg-v2", "cfg"])}}
        if self.chance(0.4):
            doc["metadata"]["annotations"] = {"copied": "yes"}
        if self.chance(0.3):
            doc["data"] = {"added": "1"}
        e = {"target": {"kind": "ConfigMap", "name": self.pick(["cfg", ".*cfg"])}, "patch": dump([doc]),
             "options": {"allowKindChange": True, "allowNameChange": self.chance(0.7)}}
        k.setdefault("patches", []).append(e)
        if self.chance(0.4):
            k.setdefault("patches", []).append(
                {"target": {"kind": doc["kind"]}, "patch": dump([{"op": "add", "path": "/data/later", "value": "x"}])})

    # ---- build metadata over it all
    def s_build_metadata(self):
        self.ks["overlay"]["buildMetadata"] = self.some(
            ["originAnnotations", "transformerAnnotations", "managedByLabel"], 1, 3)

    # ---- validators
    def s_validators(self):
        cfg = self.pick([
            {"apiVersion": "builtin", "kind": "LabelTransformer", "metadata": {"name": "v"},
             "labels": {"checked": "yes"}, "fieldSpecs": [{"path": "spec/nowhere/labels"}]},
            {"apiVersion": "builtin", "kind": "LabelTransformer", "metadata": {"name": "v"},
             "labels": {"checked": "yes"}, "fieldSpecs": [{"path": "metadata/labels", "create": True}]},
            {"apiVersion": "builtin", "kind": "HashTransformer", "metadata": {"name": "v"}},
            {"apiVersion": "builtin", "kind": "AnnotationsTransformer", "metadata": {"name": "v"},
             "annotations": {}, "fieldSpecs": [{"path": "metadata/annotations", "create": True}]}])
        self.ks[self.pick(["overlay", "env-b"])]["validators"] = [dump([cfg])]


def file_text(tree, path):
    """The text of a tree's file: a kustomization dumped, with CRLF line ends where the tree says."""
    content = tree["files"][path]
    text = content if isinstance(content, str) else dump([content])
    return text.replace("\n", "\r\n") if path in tree.get("crlf", ()) else text


def write_tree(tree, root):
    for path in tree["files"]:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", newline="") as f:
            f.write(file_text(tree, path))


def show(tree):
    out = []
    for path in sorted(tree["files"]):
        out.append(f"--- {path}\n{file_text(tree, path)}")
    flags = "".join(f" {f}" for f in tree.get("flags", []))
    return f"# build {tree['top']}{flags}\n" + "".join(out)


# ---------------------------------------------------------------------------------------------
# Running and comparing
# ---------------------------------------------------------------------------------------------

def run(cmd, timeout=60):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", "timeout"


def error_text(stderr):
    m = re.search(r'"command failed" err=<\n((?:\t.*\n)*)', stderr)
    if m:
        return "\n".join(l[1:] for l in m.group(1).splitlines())
    m = re.search(r'"command failed" err="(.*)"\s*$', stderr, re.M)
    if m:
        return re.sub(r"\\(.)", r"\1", m.group(1))
    m = re.search(r"^error: (.*)$", stderr, re.M)
    if m:
        return m.group(1)
    # kustomize panics on a few inputs: the message is the `panic:` line, as record-cases.sh keeps it
    m = re.search(r"^panic: (.*)$", stderr, re.M)
    if m:
        return m.group(1)
    lines = [l for l in stderr.splitlines() if l.strip()]
    return lines[-1] if lines else ""


def first_diff(a, b, path=""):
    """The first path where two values differ, list indexes written as []."""
    if type(a) is not type(b):
        return path or "."
    if isinstance(a, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}"
            d = first_diff(a[key], b[key], f"{path}.{key}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}[]#len"
        for x, y in zip(a, b):
            d = first_diff(x, y, f"{path}[]")
            if d:
                return d
        return None
    return None if a == b else path or "."


def norm_words(msg, n=4):
    msg = re.sub(r"/[^\s:'\"]+", "<path>", msg)
    msg = re.sub(r"[0-9a-f]{6,}", "<h>", msg)
    return "_".join(re.findall(r"[A-Za-z]+", msg)[:n]) or "empty"


CACHE = None
CHECK_ERRORS = True
MODES = {"classic": Gen, "deep": DeepGen, "wide": WideGen, "rich": RichGen, "real": RealGen,
         "novel": NovelGen, "shared": SharedGen}


def kubectl(tree, tmp):
    """kubectl's answer for a tree written to tmp, from the --cache directory when it has it."""
    key = None
    if CACHE:
        key = os.path.join(CACHE, hashlib.sha256(show(tree).encode()).hexdigest() + ".json")
        if os.path.exists(key):
            with open(key) as f:
                got = json.load(f)
            if len(got) == 3:
                # written before the cache kept kubectl's whole stderr
                return tuple(got)
            kc, kout, kerr, _ = got
            return kc, kout, error_text(kerr) if kc else ""
    kc, kout, kerr = run(["kubectl", "kustomize", *tree.get("flags", []), os.path.join(tmp, tree["top"])])
    kerr = kerr.replace(tmp, "<tmp>")
    if key and kc >= 0:
        with open(key + ".part", "w") as f:
            json.dump([kc, kout, kerr, "stderr"], f)
        os.replace(key + ".part", key)
    return kc, kout, error_text(kerr) if kc else ""


def normalise_kubectl(msg):
    """kubectl's message as renderer/tests/kustomize_cases.rs compares it with the engine's."""
    msg = msg.rstrip()
    msg = msg.removeprefix("error: ")
    msg = re.sub(r"0xc[0-9a-f]{6,}", "0xADDR", msg)
    msg = msg.replace("<tmp>/", "").replace("<tmp>", ".")
    msg = re.sub(r" &\{0xADDR[^}]*\}", "", msg)
    at = msg.find("0xADDR")
    if at >= 0:
        msg = msg[:msg.rfind("\n", 0, at) + 1].rstrip()
    return msg


NAME_REFERENCE = "updating name reference in '"
AMBIGUOUS = "found multiple possible referrals"


def error_matches(kubectl_err, kiln_err):
    """Whether kubectl's normalised message stands whole in kiln's. kustomize's name reference
    transformer walks its referrers in Go map order (another one from run to run), so where both
    fail there, the same problem (after the referrer's field and object) is a match, and any two
    ambiguous references are."""
    if NAME_REFERENCE in kubectl_err and NAME_REFERENCE in kiln_err:
        if AMBIGUOUS in kubectl_err and AMBIGUOUS in kiln_err:
            return True
        problem = lambda m: m.split("\n")[0].split("]: ")[-1]
        return problem(normalise_kubectl(kubectl_err)) == problem(kiln_err)
    return normalise_kubectl(kubectl_err) in kiln_err.removeprefix("error: ")


def compare(tree, kiln):
    """Builds one tree with both tools; returns (category or None, details)."""
    with tempfile.TemporaryDirectory(prefix="kzfuzz-") as tmp:
        write_tree(tree, tmp)
        kc, kout, kerr = kubectl(tree, tmp)
        ic, iout, ierr = run([kiln, *tree.get("flags", []), "--root", tmp, tree["top"]])
    details = {"kubectl_rc": kc, "kubectl_out": kout, "kubectl_err": kerr,
               "kiln_rc": ic, "kiln_out": iout, "kiln_err": ierr.strip() if ic else ""}
    if ic < 0 or ic > 1:
        return f"kiln crashed ({ic})", details
    if kc != 0 and ic != 0:
        if CHECK_ERRORS and not error_matches(kerr, details["kiln_err"]):
            return "error text: " + norm_words(normalise_kubectl(kerr), 6), details
        return None, details
    if kc != 0:
        return "kubectl fails: " + norm_words(details["kubectl_err"]), details
    if ic != 0:
        return "kiln fails: " + norm_words(details["kiln_err"].removeprefix("error: ")), details
    try:
        kdocs = [d for d in yaml.load_all(kout, Loader=Loader) if d is not None]
    except yaml.YAMLError as e:
        return "kubectl output unreadable", details
    try:
        idocs = [d for d in yaml.load_all(iout, Loader=Loader) if d is not None]
    except yaml.YAMLError:
        return "kiln output unreadable", details
    if kdocs != idocs:
        if len(kdocs) != len(idocs):
            kn = sorted(f"{d.get('kind')}/{d.get('metadata', {}).get('name')}" for d in kdocs)
            inn = sorted(f"{d.get('kind')}/{d.get('metadata', {}).get('name')}" for d in idocs)
            return ("data: document count" if kn != inn else "data: document count"), details
        for kd, idd in zip(kdocs, idocs):
            if kd != idd:
                kind = kd.get("kind") if isinstance(kd, dict) else "?"
                if isinstance(kd, dict) and isinstance(idd, dict) and kd.get("kind") != idd.get("kind"):
                    return "data: order or kind", details
                path = first_diff(kd, idd) or "."
                # keep an annotation's key (origin, transformations), drop label keys and values
                path = re.sub(r"\.(labels|matchLabels|data|selector)\..*", r".\1.*", path)
                return f"data: {kind} {path}", details
    if kout != iout:
        return "bytes only", details
    return None, details


def signature(cat):
    return cat


def shrink(tree, kiln, cat, budget=150):
    """Greedy: drop kustomization entries, documents and fields while the category stays."""
    tree = copy.deepcopy(tree)
    tries = [0]

    def still(t):
        if tries[0] >= budget:
            return False
        tries[0] += 1
        c, _ = compare(t, kiln)
        return c == cat

    changed = True
    while changed and tries[0] < budget:
        changed = False
        for path in sorted(tree["files"]):
            content = tree["files"][path]
            if isinstance(content, dict):
                # a kustomization: whole keys, then list entries
                for key in list(content):
                    t = copy.deepcopy(tree)
                    del t["files"][path][key]
                    if still(t):
                        tree, changed = t, True
                        continue
                    val = tree["files"][path].get(key)
                    if isinstance(val, list) and len(val) > 1:
                        i = 0
                        while i < len(tree["files"][path][key]):
                            t = copy.deepcopy(tree)
                            del t["files"][path][key][i]
                            if still(t):
                                tree, changed = t, True
                            else:
                                i += 1
            elif path.endswith(".yaml") and "kustomization" not in path:
                try:
                    docs = list(yaml.safe_load_all(content))
                except yaml.YAMLError:
                    continue
                if len(docs) > 1:
                    i = 0
                    while i < len(docs):
                        t = copy.deepcopy(tree)
                        nd = docs[:i] + docs[i + 1:]
                        t["files"][path] = dump(nd)
                        if still(t):
                            tree, docs, changed = t, nd, True
                        else:
                            i += 1
                # fields of each document, one level under spec/metadata
                for di in range(len(docs)):
                    doc = docs[di]
                    if not isinstance(doc, dict):
                        continue
                    for top in ("metadata", "spec"):
                        sub = doc.get(top)
                        if not isinstance(sub, dict):
                            continue
                        for key in list(sub):
                            if top == "metadata" and key == "name":
                                continue
                            nd = copy.deepcopy(docs)
                            del nd[di][top][key]
                            t = copy.deepcopy(tree)
                            t["files"][path] = dump(nd)
                            if still(t):
                                tree, docs, changed = t, nd, True
        # files no longer named
    return tree


def save(out, cat, index, tree, details):
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", cat)[:80]
    d = os.path.join(out, safe, str(index))
    if os.path.exists(d):
        shutil.rmtree(d)
    write_tree(tree, d)
    with open(os.path.join(d, "build-dir"), "w") as f:
        f.write(tree["top"] + "\n")
    if tree.get("flags"):
        with open(os.path.join(d, "flags"), "w") as f:
            f.write(" ".join(tree["flags"]) + "\n")
    with open(os.path.join(d, "answers.txt"), "w") as f:
        f.write(f"category: {cat}\n")
        f.write(f"kubectl rc={details['kubectl_rc']} {details['kubectl_err']}\n{details['kubectl_out']}\n")
        f.write(f"=== kiln rc={details['kiln_rc']} {details['kiln_err']}\n{details['kiln_out']}\n")
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--kiln", default=DEFAULT_KILN)
    ap.add_argument("--out", default="/tmp/kustomize-fuzz")
    ap.add_argument("--shrink", type=int, default=1)
    ap.add_argument("--cache", help="keep kubectl's answers here, keyed by the tree, so that re-runs "
                    "against a changed kiln only run kiln")
    ap.add_argument("--show", type=int)
    ap.add_argument("--bytes", action="store_true", help="list the trees whose bytes alone differ")
    ap.add_argument("--errors", action="store_true", help="print both messages where both fail")
    ap.add_argument("--no-error-text", action="store_true",
                    help="where both fail, do not require kubectl's normalised message in kiln's")
    ap.add_argument("--mode", choices=sorted(MODES), default="classic",
                    help="classic: the trees described above; deep, wide, rich: the same trees "
                    "extended (see DeepGen, WideGen, RichGen); real: trees shaped like GitOps repos "
                    "(see RealGen); novel: three-level trees of what the others never draw (see NovelGen); "
                    "shared: one base built twice under two envs (see SharedGen)")
    args = ap.parse_args()
    Kind = MODES[args.mode]
    global CHECK_ERRORS
    CHECK_ERRORS = not args.no_error_text

    if args.show is not None:
        print(show(Kind(args.seed, args.show).generate()), end="")
        return 0
    if not os.access(args.kiln, os.X_OK):
        print(f"kustomize-fuzz: {args.kiln} is not built "
              "(cargo build -p renderer --example kustomize_build)", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    global CACHE
    if args.cache:
        os.makedirs(args.cache, exist_ok=True)
        CACHE = args.cache

    indexes = range(args.start, args.start + args.count)
    trees = {}

    def job(i):
        t = Kind(args.seed, i).generate()
        trees[i] = t
        return i, compare(t, args.kiln)

    counts = {}
    examples = {}
    both_failed = 0
    built = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for i, (cat, details) in ex.map(job, indexes):
            if details["kubectl_rc"] != 0 and details["kiln_rc"] != 0:
                both_failed += 1
                if args.errors or (cat or "").startswith("error text"):
                    print(f"[{i}] both fail\n  kubectl: {details['kubectl_err']}\n  kiln:    {details['kiln_err']}")
            elif details["kubectl_rc"] == 0:
                built += 1
            if cat is None:
                trees.pop(i, None)
                continue
            counts[cat] = counts.get(cat, 0) + 1
            examples.setdefault(cat, []).append(i)
            tree = trees.pop(i)
            if cat == "bytes only" and not args.bytes:
                continue
            if counts[cat] <= args.shrink and cat != "bytes only":
                tree = shrink(tree, args.kiln, cat)
                _, details = compare(tree, args.kiln)
            d = save(args.out, cat, i, tree, details)
            print(f"[{i}] {cat} -> {d}", flush=True)
    total = len(indexes)
    diffs = sum(c for k, c in counts.items() if k != "bytes only")
    print(f"\n{total} trees (seed {args.seed}, mode {args.mode}, from {args.start}): kubectl built {built}, both failed "
          f"{both_failed}; {diffs} differ, {counts.get('bytes only', 0)} differ in bytes only")
    for cat, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        ex_ = ", ".join(str(x) for x in examples[cat][:5])
        print(f"  {n:5d}  {cat}   (e.g. {ex_})")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
