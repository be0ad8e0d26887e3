//! Sprig's `genPrivateKey "dsa"`: fresh DSA parameters (L = 2048, N = 256) and a key, PEM-encoded.
//!
//! The domain parameters are found as Go's `crypto/dsa.GenerateParameters`
//! finds them: a random N-bit prime `q`, then random L-bit candidates moved
//! down to the nearest value `≡ 1 (mod q)` until one is prime, and the
//! generator `g = h^((p-1)/q) mod p` for the smallest `h ≥ 2` that gives
//! `g ≠ 1`. The key is a random `x` in `[1, q-1]` with `y = g^x mod p`.
//! Sprig encodes it as the DER `SEQUENCE { version 0, P, Q, G, Y, X }` under
//! the `DSA PRIVATE KEY` PEM label (OpenSSL's traditional DSA format).

use num_bigint_dig::BigUint;
use num_bigint_dig::prime::probably_prime;
use rand_core::{OsRng, RngCore};

use super::certs::{pem, seq, tlv};

/// Bits of the prime modulus `p`.
const L: usize = 2048;
/// Bits of the subgroup order `q`.
const N: usize = 256;
/// Miller-Rabin rounds per candidate (a Lucas test follows them).
const ROUNDS: usize = 20;

/// A DSA key with its domain parameters.
pub(super) struct DsaKey {
    /// The prime modulus.
    pub p: BigUint,
    /// The prime order of the subgroup, dividing `p - 1`.
    pub q: BigUint,
    /// The subgroup generator.
    pub g: BigUint,
    /// The public key, `g^x mod p`.
    pub y: BigUint,
    /// The private key.
    pub x: BigUint,
}

/// A fresh DSA key as Sprig prints it.
pub(super) fn dsa_key_pem() -> String {
    encode(&generate())
}

/// `bits` random bits as a number whose top and bottom bits are set.
fn random_odd(bits: usize) -> BigUint {
    let mut bytes = vec![0u8; bits / 8];
    OsRng.fill_bytes(&mut bytes);
    if let Some(last) = bytes.last_mut() {
        *last |= 1;
    }
    if let Some(first) = bytes.first_mut() {
        *first |= 0x80;
    }
    BigUint::from_bytes_be(&bytes)
}

/// Generates domain parameters and a key.
pub(super) fn generate() -> DsaKey {
    let one = BigUint::from(1u32);
    let (p, q) = 'primes: loop {
        let q = random_odd(N);
        if !probably_prime(&q, ROUNDS) {
            continue;
        }
        for _ in 0..4 * L {
            let candidate = random_odd(L);
            // Move down to the nearest value that is 1 modulo q.
            let rem = &candidate % &q;
            let p = candidate - rem + &one;
            if p.bits() < L || !probably_prime(&p, ROUNDS) {
                continue;
            }
            break 'primes (p, q);
        }
    };
    let e = (&p - &one) / &q;
    let mut h = BigUint::from(2u32);
    let g = loop {
        let g = h.modpow(&e, &p);
        if g != one {
            break g;
        }
        h += 1u32;
    };
    let x = loop {
        let mut bytes = vec![0u8; N / 8];
        OsRng.fill_bytes(&mut bytes);
        let x = BigUint::from_bytes_be(&bytes);
        if x != BigUint::from(0u32) && x < q {
            break x;
        }
    };
    let y = g.modpow(&x, &p);
    DsaKey { p, q, g, y, x }
}

/// A DER INTEGER holding a non-negative number.
pub(super) fn integer(n: &BigUint) -> Vec<u8> {
    let mut bytes = n.to_bytes_be();
    if bytes.is_empty() {
        bytes.push(0);
    }
    if bytes[0] & 0x80 != 0 {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

/// The PEM of `key`: `SEQUENCE { 0, P, Q, G, Y, X }` under `DSA PRIVATE KEY`.
fn encode(key: &DsaKey) -> String {
    let der = seq(&[
        integer(&BigUint::from(0u32)),
        integer(&key.p),
        integer(&key.q),
        integer(&key.g),
        integer(&key.y),
        integer(&key.x),
    ]);
    pem("DSA PRIVATE KEY", &der)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one DER TLV at the start of `der`: (tag, content, rest).
    fn read_tlv(der: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = der[0];
        let (len, head) = if der[1] < 0x80 {
            (der[1] as usize, 2)
        } else {
            let n = (der[1] & 0x7f) as usize;
            (der[2..2 + n].iter().fold(0usize, |acc, b| acc << 8 | *b as usize), 2 + n)
        };
        (tag, &der[head..head + len], &der[head + len..])
    }

    fn decode_pem(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        super::super::encoding::decode(&body, super::super::encoding::B64, 6).unwrap()
    }

    #[test]
    fn dsa_key_parses_and_is_consistent() {
        let pem = dsa_key_pem();
        assert!(pem.starts_with("-----BEGIN DSA PRIVATE KEY-----\n"), "{pem}");
        assert!(pem.ends_with("-----END DSA PRIVATE KEY-----\n"), "{pem}");
        assert!(pem.lines().all(|l| l.len() <= 64));
        let der = decode_pem(&pem);
        let (tag, body, rest) = read_tlv(&der);
        assert_eq!((tag, rest.len()), (0x30, 0), "one SEQUENCE");
        let mut fields = Vec::new();
        let mut cur = body;
        while !cur.is_empty() {
            let (tag, content, rest) = read_tlv(cur);
            assert_eq!(tag, 0x02, "every field is an INTEGER");
            assert!(content.len() == 1 || content[0] != 0 || content[1] & 0x80 != 0, "minimal");
            assert_eq!(content[0] & 0x80, 0, "non-negative");
            fields.push(BigUint::from_bytes_be(content));
            cur = rest;
        }
        let [version, p, q, g, y, x] = <[BigUint; 6]>::try_from(fields).unwrap();
        let (zero, one) = (BigUint::from(0u32), BigUint::from(1u32));
        assert_eq!(version, zero);
        assert_eq!((p.bits(), q.bits()), (L, N));
        assert!(probably_prime(&p, 10) && probably_prime(&q, 10));
        assert_eq!((&p - &one) % &q, zero, "q divides p - 1");
        assert!(g > one && g < p && g.modpow(&q, &p) == one, "g generates the order-q subgroup");
        assert!(x != zero && x < q);
        assert_eq!(y, g.modpow(&x, &p), "y = g^x mod p");
    }

    #[test]
    fn integers_are_minimal_two_complement() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x02, 0x01, 0x00]),
            (1, &[0x02, 0x01, 0x01]),
            (0x7f, &[0x02, 0x01, 0x7f]),
            (0x80, &[0x02, 0x02, 0x00, 0x80]),
            (0x1234, &[0x02, 0x02, 0x12, 0x34]),
        ];
        for (n, want) in cases {
            assert_eq!(integer(&BigUint::from(*n)), *want, "{n}");
        }
    }
}
