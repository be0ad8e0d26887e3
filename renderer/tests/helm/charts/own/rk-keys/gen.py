#!/usr/bin/env python3
"""Writes values.yaml: RSA private keys (PKCS#1 PEM) whose numbers break one of Go's checks each
(x509.ParsePKCS1PrivateKey, crypto/rsa Precompute/Validate, signing), and valid ones.
Deterministic (seeded). Usage: gen.py > values.yaml"""
import base64, json, random, sys, os
R = random.Random(19)
def tlv(t, c):
    n = len(c)
    h = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length()+7)//8)]) + n.to_bytes((n.bit_length()+7)//8, 'big')
    return bytes([t]) + h + c
seq = lambda *x: tlv(0x30, b"".join(x))
i = lambda v: tlv(2, v.to_bytes(max(1,(v.bit_length()+8)//8), 'big', signed=True))
def isprime(n):
    if n < 2: return False
    for sp in (2,3,5,7,11,13,17,19,23,29,31,37):
        if n % sp == 0: return n == sp
    d, s = n-1, 0
    while d % 2 == 0: d //= 2; s += 1
    for a in (2,3,5,7,11,13,17,19,23,29,31,37):
        x = pow(a, d, n)
        if x in (1, n-1): continue
        for _ in range(s-1):
            x = x*x % n
            if x == n-1: break
        else: return False
    return True
def prime(bits, e=65537):
    while True:
        c = R.getrandbits(bits) | (3 << (bits-2)) | 1
        if isprime(c) and (e is None or (c-1) % e): return c
def nextprime(x):
    x |= 1
    while not isprime(x): x += 2
    return x
def key(bits, e=65537):
    while True:
        p, q = prime(bits//2, e), prime(bits//2, e)
        if p != q: break
    lam = (p-1)*(q-1)//__import__('math').gcd(p-1, q-1)
    d = pow(e, -1, lam)
    return dict(n=p*q, e=e, d=d, p=p, q=q, dp=d % (p-1), dq=d % (q-1), qi=pow(q, -1, p))
F = ["n", "e", "d", "p", "q", "dp", "dq", "qi"]
def der(k, ver=0, extra=None, crt=True):
    fs = F if crt is True else F[:5] if crt is False else F[:5 + crt]
    parts = [i(ver)] + [i(k[f]) for f in fs]
    if extra is not None: parts.append(seq(*[seq(i(r), i(k["d"] % (r-1) if r > 1 else 0), i(1)) for r in extra]))
    return seq(*parts)
out = {}
def put(name, d, label="RSA PRIVATE KEY"):
    b = base64.b64encode(d).decode()
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "".join(b[j:j+64] + "\n" for j in range(0, len(b), 64)) + "-----END RSA PRIVATE KEY-----\n"
    if label != "RSA PRIVATE KEY":
        pem = pem.replace("RSA PRIVATE KEY", label)
    out[name] = pem
def mod(k, **kw): k = dict(k); k.update(kw); return k
big = key(1024); small = key(64)
put("valid-1024", der(big))
put("d-plus-pm1", der(mod(big, d=big["d"] + big["p"] - 1)))
RSA_OID = bytes.fromhex("06092a864886f70d010101")
put("pkcs8-pq-mismatch", seq(i(0), seq(RSA_OID, bytes.fromhex("0500")), tlv(4, der(mod(big, n=big["n"]+2)))), "PRIVATE KEY")
put("pkcs8-valid", seq(i(0), seq(RSA_OID, bytes.fromhex("0500")), tlv(4, der(big))), "PRIVATE KEY")
put("valid-64", der(small))
put("e-one", der(mod(big, e=1)))
put("e-neg", der(mod(big, e=-3)))
put("e-zero", der(mod(big, e=0)))
put("e-even", der(mod(big, e=4)))
put("e-2pow31", der(mod(big, e=2**31+1)))
put("e-2pow63", der(mod(big, e=2**63+1)))
put("e-2pow64", der(mod(big, e=2**64+1)))
put("e-3-wrongd", der(mod(big, e=3)))
put("n-one", der(mod(big, n=1)))
put("n-even", der(mod(big, n=big["n"]+1)))
put("n-even-e1", der(mod(big, n=big["n"]+1, e=1)))
put("p-one", der(mod(big, p=1)))
put("q-one", der(mod(big, q=1)))
put("p-two", der(mod(big, p=2, qi=1)))
put("p-two-nocrt", der(mod(big, p=2), crt=False))
put("p-four-nocrt", der(mod(big, p=4), crt=False))
put("p-even-nocrt", der(mod(big, p=big["p"]+1), crt=False))
put("p-one-nocrt", der(mod(big, p=1), crt=False))
put("d-ge-n", der(mod(big, d=big["n"]+2)))
put("d-longer", der(mod(big, d=big["n"]*256)))
put("d-eq-n", der(mod(big, d=big["n"])))
put("qi-ge-p", der(mod(big, qi=big["p"]+big["qi"])))
put("qi-wrong", der(mod(big, qi=big["qi"]+1)))
put("qi-zero", der(mod(big, qi=0)))
put("dp-zero", der(mod(big, dp=0)))
put("dp-wrong", der(mod(big, dp=big["dp"]+2)))
put("dq-wrong", der(mod(big, dq=big["dq"]+2)))
put("dp-ge-pm1", der(mod(big, dp=big["dp"]+big["p"]-1)))
put("d-wrong", der(mod(big, d=big["d"]+2)))
put("d-wrong-nocrt", der(mod(big, d=big["d"]+2), crt=False))
put("d-plus-lam", der(mod(big, d=big["d"]+(big["p"]-1)*(big["q"]-1))))
put("pq-mismatch", der(mod(big, n=big["n"]+2)))
put("p-ge-n", der(mod(big, p=big["n"]+2)))
put("p-eq-n", der(mod(big, p=big["n"])))
put("swap-pq", der(mod(big, p=big["q"], q=big["p"])))
put("swap-pq-nocrt", der(mod(big, p=big["q"], q=big["p"]), crt=False))
put("nocrt-valid", der(big, crt=False))
put("nocrt-small", der(small, crt=False))
put("e-one-nocrt", der(mod(big, e=1), crt=False))
put("pq-mismatch-nocrt", der(mod(big, n=big["n"]+2), crt=False))
# p == q
pp = prime(512); lamq = pp*(pp-1); dd = pow(65537, -1, pp-1)
put("p-eq-q", der(dict(n=pp*pp, e=65537, d=dd, p=pp, q=pp, dp=dd, dq=dd, qi=1)))
# |p - q| too small
x = R.getrandbits(512) | (3 << 510)
p1 = nextprime(x)
while (p1-1) % 65537 == 0: p1 = nextprime(p1+2)
q1 = nextprime(p1+2)
while (q1-1) % 65537 == 0: q1 = nextprime(q1+2)
import math
lam = (p1-1)*(q1-1)//math.gcd(p1-1, q1-1); d1 = pow(65537, -1, lam)
close = dict(n=p1*q1, e=65537, d=d1, p=p1, q=q1, dp=d1 % (p1-1), dq=d1 % (q1-1), qi=pow(q1, -1, p1))
put("pq-close", der(close))
put("pq-close-nocrt", der(close, crt=False))
# multi-prime
def mkey(bits, k):
    while True:
        ps = [prime(bits//k) for _ in range(k)]
        if len(set(ps)) < k: continue
        n = math.prod(ps); lam = 1
        for r in ps: lam = lam*(r-1)//math.gcd(lam, r-1)
        try: d = pow(65537, -1, lam)
        except ValueError: continue
        return dict(n=n, e=65537, d=d, p=ps[0], q=ps[1], dp=d % (ps[0]-1), dq=d % (ps[1]-1), qi=pow(ps[1], -1, ps[0])), ps[2:]
mk, rest = mkey(1536, 3)
put("mp-valid", der(mk, 1, rest))
put("mp-ver0", der(mk, 0, rest))
put("mp-n-wrong", der(mod(mk, n=mk["n"]+2), 1, rest))
put("mp-prime-one", der(mk, 1, [1]))
put("mp-p-one", der(mod(mk, p=1), 1, rest))
put("mp-e-one", der(mod(mk, e=1), 1, rest))
put("mp-e-even", der(mod(mk, e=6), 1, rest))
put("mp-n-even", der(mod(mk, n=mk["n"]+1), 1, rest))
put("mp-d-ge-n", der(mod(mk, d=mk["n"]+2), 1, rest))
put("mp-notcoprime", der(mk, 1, [mk["p"]]))
put("mp-dp-wrong", der(mod(mk, dp=5), 1, rest))
put("mp-d-wrong", der(mod(mk, d=mk["d"]+2), 1, rest))
put("mp-pq-same", der(mod(mk, q=mk["p"]), 1, rest))
smk, srest = mkey(96, 3)
put("mp-small", der(smk, 1, srest))
put("mp-empty", der(mk, 1, []))
put("mp-prime-neg", der(mk, 1, [-7]))
put("mp-prime-zero", der(mk, 1, [0]))
put("ver1-noextra", der(big, 1))
put("crt-dp-only", der(mod(big, dp=5), crt=1))
put("crt-dp-dq-only", der(mod(big, dq=5), crt=2))
put("e-2pow40", der(mod(big, e=2**40+1)))
# primes that do not multiply to n, with n, e and d consistent: Go signs with d alone
put("mp-primes-unrelated", der(mk2 := key(1536), 1, [prime(64)]))
put("mp-primes-unrelated-small", der(key(512), 1, [prime(64)]))
k3 = key(2048, 3)
put("valid-2048-e3", der(k3))
put("valid-2048-ebig", der(key(2048, 2**31 - 1)))
put("valid-2048-e3-nocrt", der(k3, crt=False))
# tiny moduli
put("n-three", der(dict(n=3, e=3, d=1, p=3, q=1, dp=1, dq=1, qi=1)))
put("n-15", der(dict(n=15, e=3, d=3, p=5, q=3, dp=3, dq=1, qi=2)))
put("n-15-swap", der(dict(n=15, e=3, d=3, p=3, q=5, dp=1, dq=3, qi=2)))
put("n-35-e5", der(dict(n=35, e=5, d=5, p=7, q=5, dp=5, dq=1, qi=3)))
print("f: self\npick: valid-1024\nkeys:")
for k, v in out.items():
    print(f"  {k}: |")
    for line in v.splitlines():
        print("    " + line)
