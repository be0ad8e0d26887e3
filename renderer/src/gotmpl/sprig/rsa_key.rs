//! RSA private keys as Go's `crypto/rsa` takes them from `x509.ParsePKCS1PrivateKey`:
//! the numeric checks of its `Precompute`/`Validate` in Go's order and texts,
//! and the PKCS#1 v1.5 signature a certificate gets.
//!
//! Go (1.24 and later) reads a two-prime key through its FIPS module: with the
//! key's CRT values (`NewPrivateKeyWithPrecomputation`) when the DER holds all
//! three, else computing them (`NewPrivateKey`); either way the key must then
//! pass `checkPrivateKey` (p·q ≡ 0 mod n, e·dP ≡ 1 mod p−1, qInv·q ≡ 1 mod p,
//! d matching dP and dQ, |p−q| and d not too small). A key of more primes is
//! checked only for its public part and for primes that have inverses
//! (`precomputeLegacy`); it signs without CRT. Signing refuses a modulus under
//! 1024 bits and checks the signature it made.

use num_bigint_dig::{BigUint, ModInverse};

use super::certs::{oid, seq, tlv};
use super::dsa::integer;

pub(super) struct RsaKey {
    n: BigUint,
    e: u32,
    d: BigUint,
    primes: Vec<BigUint>,
}

/// The CRT values of a two-prime key: d mod (p−1), d mod (q−1), q⁻¹ mod p.
struct Crt {
    dp: BigUint,
    dq: BigUint,
    qinv: BigUint,
}

const TOO_SMALL: &str = "modulus must be > 1";

fn one() -> BigUint {
    BigUint::from(1u8)
}

fn is_odd(n: &BigUint) -> bool {
    n.to_bytes_be().last().is_some_and(|b| b & 1 == 1)
}

/// Go's `bigmod.NewModulus`: a modulus must be above 1.
fn modulus(m: &BigUint) -> Result<(), String> {
    if *m <= one() { Err(TOO_SMALL.into()) } else { Ok(()) }
}

/// Go's `bigmod.Nat.SetBytes(x, m)`: `x` must fit the modulus's 64-bit limbs
/// and be below it.
fn reduced(x: &BigUint, m: &BigUint) -> Result<(), String> {
    let limbs = |v: &BigUint| v.bits().div_ceil(64);
    if limbs(x) > limbs(m) {
        Err("input overflows the modulus size".into())
    } else if x >= m {
        Err("input overflows the modulus".into())
    } else {
        Ok(())
    }
}

fn rsa_error(text: &str) -> String {
    format!("crypto/rsa: {text}")
}

impl RsaKey {
    /// The key of a PKCS#1 structure whose numbers `x509` found positive;
    /// `crt` holds the DER's dP, dQ and qInv when it has all three.
    pub(super) fn new(
        n: BigUint,
        e: i64,
        d: BigUint,
        primes: Vec<BigUint>,
        crt: Option<[BigUint; 3]>,
    ) -> Result<RsaKey, String> {
        modulus(&n)?;
        let e = match primes.as_slice() {
            [p, q] => {
                modulus(p)?;
                modulus(q)?;
                reduced(&d, &n)?;
                let crt = match crt {
                    Some([dp, dq, qinv]) => {
                        reduced(&qinv, p)?;
                        Crt { dp, dq, qinv }
                    }
                    None => computed_crt(&d, p, q)?,
                };
                check_two_primes(&n, e, &d, p, q, &crt)?
            }
            _ => check_multi_prime(&n, e, &d, &primes)?,
        };
        Ok(RsaKey { n, e, d, primes })
    }

    /// Go's `x509.MarshalPKCS1PrivateKey` of the key: version 1 and the
    /// further primes' (prime, exponent, coefficient) for a multi-prime key.
    pub(super) fn pkcs1_der(&self) -> Vec<u8> {
        let one = one();
        let (p, q) = (&self.primes[0], &self.primes[1]);
        let mut parts = vec![
            integer(&BigUint::from(u8::from(self.primes.len() > 2))),
            integer(&self.n),
            integer(&BigUint::from(self.e)),
            integer(&self.d),
            integer(p),
            integer(q),
            integer(&(&self.d % (p - &one))),
            integer(&(&self.d % (q - &one))),
            integer(&inverse(q, p)),
        ];
        if self.primes.len() > 2 {
            let mut product = p * q;
            let mut others = Vec::new();
            for r in &self.primes[2..] {
                others.push(seq(&[
                    integer(r),
                    integer(&(&self.d % (r - &one))),
                    integer(&inverse(&product, r)),
                ]));
                product *= r;
            }
            parts.push(seq(&others));
        }
        seq(&parts)
    }

    /// The DER SubjectPublicKeyInfo of the key (rsaEncryption, NULL parameters).
    pub(super) fn spki(&self) -> Vec<u8> {
        let public = seq(&[integer(&self.n), integer(&BigUint::from(self.e))]);
        let mut bits = vec![0];
        bits.extend(public);
        seq(&[seq(&[oid(&[1, 2, 840, 113549, 1, 1, 1]), vec![0x05, 0x00]]), tlv(0x03, &bits)])
    }

    /// Go's `rsa.SignPKCS1v15` with SHA-256 of `message`: refused under 1024
    /// bits; the signature is checked against the public key before it is
    /// returned. AWS-LC signs a two-prime key it accepts (in a small part of
    /// the time; the padding is deterministic, so the bytes are the same).
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let bits = self.n.bits();
        if bits < 1024 {
            return Err(rsa_error(&format!(
                "{bits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)"
            )));
        }
        if self.primes.len() == 2 {
            if let Some(signature) = aws_lc_sign(&self.pkcs1_der(), message) {
                return Ok(signature);
            }
        }
        self.sign_here(message)
    }

    /// The signature computed here, with Go's check of it.
    fn sign_here(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        use sha2::Digest;
        let size = self.n.bits().div_ceil(8);
        // EMSA-PKCS1-v1_5: 00 01 FF.. 00, then SHA-256's DigestInfo and the digest.
        const SHA256_INFO: [u8; 19] = [
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ];
        let mut encoded = vec![0xff; size];
        encoded[0] = 0;
        encoded[1] = 1;
        let tail = size - SHA256_INFO.len() - 32;
        encoded[tail - 1] = 0;
        encoded[tail..tail + SHA256_INFO.len()].copy_from_slice(&SHA256_INFO);
        encoded[tail + SHA256_INFO.len()..].copy_from_slice(&sha2::Sha256::digest(message));
        let c = BigUint::from_bytes_be(&encoded);
        let m = self.private_op(&c);
        if m.modpow(&BigUint::from(self.e), &self.n) != c {
            return Err(rsa_error("decryption error"));
        }
        let bytes = m.to_bytes_be();
        let mut signature = vec![0; size - bytes.len()];
        signature.extend(bytes);
        Ok(signature)
    }

    /// c^d mod n: by CRT for a two-prime key as Go computes it, else directly.
    fn private_op(&self, c: &BigUint) -> BigUint {
        let [p, q] = self.primes.as_slice() else {
            return c.modpow(&self.d, &self.n);
        };
        let one = one();
        let m1 = (c % p).modpow(&(&self.d % (p - &one)), p);
        let m2 = (c % q).modpow(&(&self.d % (q - &one)), q);
        let h = ((m1 + p) - (&m2 % p)) % p * inverse_fermat(q, p) % p;
        (h * (q % &self.n) + m2) % &self.n
    }
}

/// q⁻¹ mod p as Go's `NewPrivateKey` computes it: q^(p−2) mod p.
fn inverse_fermat(q: &BigUint, p: &BigUint) -> BigUint {
    (q % p).modpow(&(p - BigUint::from(2u8)), p)
}

/// a⁻¹ mod m, or 0 where there is none (Go checked every key it keeps).
fn inverse(a: &BigUint, m: &BigUint) -> BigUint {
    a.clone().mod_inverse(m).and_then(|v| v.to_biguint()).unwrap_or_default()
}

/// Go's `newPrivateKey`: the CRT values of d, p and q, with its errors.
fn computed_crt(d: &BigUint, p: &BigUint, q: &BigUint) -> Result<Crt, String> {
    let one = one();
    let p1 = p - &one;
    modulus(&p1)?;
    let q1 = q - &one;
    modulus(&q1)?;
    if !is_odd(p) {
        return Err(rsa_error("p is even"));
    }
    Ok(Crt { dp: d % &p1, dq: d % &q1, qinv: inverse_fermat(q, p) })
}

/// Go's `checkPublicKey`: the public exponent Go keeps (an `int` under 2³¹).
fn check_public(n: &BigUint, e: i64) -> Result<u32, String> {
    if !is_odd(n) {
        return Err(rsa_error("public modulus is even"));
    }
    if e < 2 {
        return Err(rsa_error("public exponent too small or negative"));
    }
    if e & 1 == 0 {
        return Err(rsa_error("public exponent is even"));
    }
    u32::try_from(e)
        .ok()
        .filter(|e| *e <= i32::MAX as u32)
        .ok_or_else(|| rsa_error("public exponent too large"))
}

/// Go's `NewPrivateKeyWithoutCRT` and `precomputeLegacy` of a key of more
/// primes: only the public part is checked, and that the primes have the
/// inverses its CRT values need (q mod p, then each prime's predecessors').
fn check_multi_prime(n: &BigUint, e: i64, d: &BigUint, primes: &[BigUint]) -> Result<u32, String> {
    reduced(d, n)?;
    let e = check_public(n, e)?;
    let [p, q, rest @ ..] = primes else {
        return Err(rsa_error("missing primes"));
    };
    if primes.iter().any(|r| *r <= one()) {
        return Err(rsa_error("prime factor is <= 1"));
    }
    let coprime = "prime factors are not relatively prime";
    if q.clone().mod_inverse(p).is_none() {
        return Err(rsa_error(coprime));
    }
    let mut product = p * q;
    for r in rest {
        if product.clone().mod_inverse(r).is_none() {
            return Err(rsa_error(coprime));
        }
        product *= r;
    }
    Ok(e)
}

/// Go's `checkPrivateKey` of a two-prime key.
fn check_two_primes(
    n: &BigUint,
    e: i64,
    d: &BigUint,
    p: &BigUint,
    q: &BigUint,
    crt: &Crt,
) -> Result<u32, String> {
    let e = check_public(n, e)?;
    if p >= n || q >= n {
        return Err(rsa_error("invalid prime"));
    }
    if p * q % n != BigUint::default() {
        return Err(rsa_error("p * q != n"));
    }
    let one = one();
    let exponent = |prime: &BigUint, dx: &BigUint| {
        let m = prime - &one;
        modulus(&m).map_err(|_| rsa_error("invalid prime"))?;
        if reduced(dx, &m).is_err() || BigUint::from(e) * dx % &m != one {
            return Err(rsa_error("invalid CRT exponent"));
        }
        Ok(m)
    };
    let p1 = exponent(p, &crt.dp)?;
    let q1 = exponent(q, &crt.dq)?;
    if (q % p) * &crt.qinv % p != one {
        return Err(rsa_error("invalid CRT coefficient"));
    }
    if d % &p1 != crt.dp {
        return Err(rsa_error("d does not match dP"));
    }
    if d % &q1 != crt.dq {
        return Err(rsa_error("d does not match dQ"));
    }
    if p == q {
        return Err(rsa_error("p == q"));
    }
    let diff = if p > q { p - q } else { q - p };
    let half = (n.bits() / 2) as i64;
    if (diff.bits() as i64) <= half - 100 {
        return Err(rsa_error("|p - q| too small"));
    }
    if (d.bits() as i64) <= half {
        return Err(rsa_error("d too small"));
    }
    Ok(e)
}

/// The PKCS#1 v1.5 SHA-256 signature AWS-LC makes with the key `der`, or
/// None for a key it refuses (under 2048 bits, among others).
fn aws_lc_sign(der: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    let pair = aws_lc_rs::rsa::KeyPair::from_der(der).ok()?;
    let mut signature = vec![0; pair.public_modulus_len()];
    let rng = aws_lc_rs::rand::SystemRandom::new();
    pair.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, message, &mut signature).ok()?;
    Some(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS-LC's signatures are the bytes computed here and the `rsa` crate's.
    #[test]
    fn signatures_are_the_same_from_aws_lc_and_here() {
        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::{SignatureEncoding, Signer};
        use rsa::traits::{PrivateKeyParts, PublicKeyParts};
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = AsDer::<Pkcs8V1Der<'_>>::as_der(&pair).unwrap();
        let theirs = rsa::RsaPrivateKey::from_pkcs8_der(der.as_ref()).unwrap();
        let key = RsaKey::new(
            theirs.n().clone(),
            65537,
            theirs.d().clone(),
            theirs.primes().to_vec(),
            None,
        )
        .unwrap();
        let by_rsa = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(theirs).sign(b"tbs").to_vec();
        assert_eq!(aws_lc_sign(&key.pkcs1_der(), b"tbs"), Some(by_rsa.clone()));
        assert_eq!(key.sign_here(b"tbs").unwrap(), by_rsa);
    }
}
