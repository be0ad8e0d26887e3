#!/usr/bin/env python3
"""Sweep: namespace folders read as `kubectl apply -f` reads them.

Generates ConfigMaps with YAML 1.1-sensitive keys and scalars (booleans,
octal, hex, sexagesimal, timestamps, nulls, repeated keys), renders each
one alone as a namespace folder with kiln, and compares the object with
what `kubectl label --local -f FILE -o json` (which reads files as
`apply -f` does, without a server) decodes; kiln's output is decoded by
the same kubectl call, so both sides are compared as kubectl sees them.
kiln renders what client-side `apply` then creates, which prunes `null`
values from mappings (see tests/kubectl-apply-view.py), so the reference
side is pruned the same way.

usage: tests/kubectl-read-sweep.py [SEED [COUNT]]
env: KILN (default target/debug/kiln), SWEEP_DIR (default a temporary dir)

Known difference: keys that differ in YAML but stringify alike (`1.0:`
and `1:`) collide after yaml.v2 decoded them into distinct Go map keys;
which one kubectl keeps follows Go's random map order.
"""
import tempfile
import json, os, random, subprocess, shutil, sys
root = os.path.join(os.environ.get('SWEEP_DIR') or tempfile.mkdtemp(), 'repo')
KILN = os.environ.get('KILN', 'target/debug/kiln')
shutil.rmtree(root, ignore_errors=True)
d = os.path.join(root, 'namespaces/live/team-a')
os.makedirs(d)
scalars = ['yes','no','on','off','y','n','Y','N','true','False','TRUE','~','null','Null','0644','0o644','0x1F','+12','-0','1_000','0b101','1:30','1.5e3','.inf','-.Inf','.NaN','2001-12-14','2001-12-14t21:59:43.10-05:00','"on"',"'yes'",'12e3','0.','+.5','1__0','0x_1F','09','0777777777777777777777','123456789012345678901234567890','"\\u00e9"','3.0','-1','=','<<']
keys = ['y','n','on','off','yes','1','0x10','true','null','~','a','"y"','1.0','2001-12-14']
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 150
names = []
for i in range(n):
    name = f'f{i:03d}'
    names.append(name)
    lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', f'  name: {name}', 'data:']
    used = []
    for j in range(random.randint(1, 4)):
        k = random.choice(keys)
        v = random.choice(scalars)
        lines.append(f'  {k}: {v}')
    if random.random() < 0.3:
        lines.append(f'  {random.choice(keys)}: {random.choice(scalars)}')
    text = '\n'.join(lines) + '\n'
    open(os.path.join(d, name + '.yaml'), 'w').write(text)

def kubectl_json(path=None, stdin=None):
    args = ['kubectl', 'label', '--local', '-o', 'json', 'zz=1', '-f', path or '-']
    p = subprocess.run(args, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    dec = json.JSONDecoder(); i = 0; objs = []; t = p.stdout
    while True:
        while i < len(t) and t[i].isspace(): i += 1
        if i >= len(t): break
        o, i = dec.raw_decode(t, i); objs.append(o)
    return (objs[0] if len(objs) == 1 else {'kind': 'List', 'items': objs}), None

def kiln_one(name):
    one = os.path.join(root, 'one')
    shutil.rmtree(one, ignore_errors=True)
    os.makedirs(os.path.join(one, 'namespaces/live/team-a'))
    shutil.copy(os.path.join(d, name + '.yaml'), os.path.join(one, 'namespaces/live/team-a'))
    k = subprocess.run([KILN, 'render', one], capture_output=True, text=True)
    if k.returncode != 0:
        return None, k.stderr.strip()
    out, err = kubectl_json(stdin=k.stdout)
    if out is None:
        return None, 'kubectl refused kiln output: ' + err
    items = out['items'] if out.get('kind') == 'List' else [out]
    for it in items:
        if it['kind'] == 'ConfigMap':
            it['metadata'].pop('namespace', None)
            return it, None
    return None, 'no ConfigMap'
def prune_nulls(v):
    if isinstance(v, dict):
        for k in [k for k, x in v.items() if x is None]:
            del v[k]
        for x in v.values(): prune_nulls(x)
    elif isinstance(v, list):
        for x in v: prune_nulls(x)
    return v

same = diff = kerr = both_err = 0
mine = {}
for name in names:
    ref, e = kubectl_json(os.path.join(d, name + '.yaml'))
    ref = prune_nulls(ref)
    got, ke = kiln_one(name)
    mine[name] = got or {}
    if ref is None or got is None:
        if ref is None and got is None:
            both_err += 1
        else:
            diff += 1
            print('ERRDIFF', name, open(os.path.join(d, name + '.yaml')).read().split('data:\n')[1].strip().replace('\n', ' | '))
            print('   kubectl:', (e or '')[:150], '| kiln:', (ke or '')[-150:])
        continue
    if mine.get(name) == ref:
        same += 1
    else:
        diff += 1
        if diff <= 8:
            print('DIFF', name, open(os.path.join(d, name + '.yaml')).read().split('data:\n')[1].strip().replace('\n', ' | '))
            print('   kubectl', json.dumps(ref.get('data')), ' kiln', json.dumps(mine.get(name, {}).get('data')))
print(f'files {len(names)}: same {same}, differ {diff}, both refuse {both_err}')
