//! ECDSA on NIST P-224, for a P-224 key given to Sprig's certificate functions: Go's x509 reads such keys and signs with them (ECDSA with SHA-256), and AWS-LC's Rust API has no P-224.
//!
//! The arithmetic is plain affine-coordinate point arithmetic over
//! `num-bigint-dig` numbers. It is not constant-time: the keys are chart
//! values that a renderer prints into manifests anyway.

use num_bigint_dig::BigUint;

/// The curve's parameters (SP 800-186, secp224r1), big-endian hex.
const P: &str = "ffffffffffffffffffffffffffffffff000000000000000000000001";
const GX: &str = "b70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21";
const GY: &str = "bd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34";
/// The group's order.
pub(super) const N: &str = "ffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3d";

/// The size of a field element and of a scalar, in bytes.
const SIZE: usize = 28;

fn num(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).expect("the curve constants are hex")
}

/// A point other than the point at infinity.
#[derive(Clone)]
struct Point {
    x: BigUint,
    y: BigUint,
}

struct Curve {
    p: BigUint,
    n: BigUint,
}

impl Curve {
    fn new() -> Curve {
        Curve { p: num(P), n: num(N) }
    }

    /// `a / b` modulo the prime `m` (Fermat's little theorem).
    fn div(a: &BigUint, b: &BigUint, m: &BigUint) -> BigUint {
        let two = BigUint::from(2u8);
        (a * b.modpow(&(m - &two), m)) % m
    }

    fn sub(&self, a: &BigUint, b: &BigUint) -> BigUint {
        ((a + &self.p) - (b % &self.p)) % &self.p
    }

    fn add(&self, a: Option<&Point>, b: Option<&Point>) -> Option<Point> {
        let (a, b) = match (a, b) {
            (None, b) => return b.cloned(),
            (a, None) => return a.cloned(),
            (Some(a), Some(b)) => (a, b),
        };
        let p = &self.p;
        let slope = if a.x == b.x {
            if (&a.y + &b.y) % p == BigUint::from(0u8) {
                return None;
            }
            // Tangent: (3x² + a) / 2y with a = -3.
            let three_x2 = BigUint::from(3u8) * &a.x * &a.x;
            Curve::div(&self.sub(&three_x2, &BigUint::from(3u8)), &(BigUint::from(2u8) * &a.y), p)
        } else {
            Curve::div(&self.sub(&b.y, &a.y), &self.sub(&b.x, &a.x), p)
        };
        let x = self.sub(&self.sub(&(&slope * &slope), &a.x), &b.x);
        let y = self.sub(&(&slope * self.sub(&a.x, &x)), &a.y);
        Some(Point { x, y })
    }

    /// `k·G`, by double-and-add from the top bit.
    fn mul_base(&self, k: &BigUint) -> Option<Point> {
        let g = Point { x: num(GX), y: num(GY) };
        let mut acc: Option<Point> = None;
        for i in (0..k.bits()).rev() {
            acc = self.add(acc.as_ref(), acc.as_ref());
            if (k >> i) & BigUint::from(1u8) == BigUint::from(1u8) {
                acc = self.add(acc.as_ref(), Some(&g));
            }
        }
        acc
    }
}

/// A P-224 private key and its public point.
pub(super) struct Key {
    d: BigUint,
    /// The uncompressed public point, `04 || X || Y`.
    public: Vec<u8>,
}

/// `n` as `SIZE` big-endian bytes.
fn fixed(n: &BigUint) -> Vec<u8> {
    let bytes = n.to_bytes_be();
    let mut out = vec![0u8; SIZE.saturating_sub(bytes.len())];
    out.extend_from_slice(&bytes);
    out
}

impl Key {
    /// The key with private scalar `d` (big-endian), which the caller has
    /// checked is in [1, n-1] as Go's x509 checks it.
    pub(super) fn new(d: &[u8]) -> Option<Key> {
        let d = BigUint::from_bytes_be(d);
        let q = Curve::new().mul_base(&d)?;
        let mut public = vec![0x04];
        public.extend(fixed(&q.x));
        public.extend(fixed(&q.y));
        Some(Key { d, public })
    }

    pub(super) fn scalar(&self) -> Vec<u8> {
        fixed(&self.d)
    }

    pub(super) fn public(&self) -> &[u8] {
        &self.public
    }

    /// The (r, s) signature of `message`'s SHA-256 digest, which Go
    /// truncates to the order's 224 bits.
    pub(super) fn sign(&self, message: &[u8]) -> Result<(BigUint, BigUint), String> {
        use sha2::Digest;
        let curve = Curve::new();
        let digest = sha2::Sha256::digest(message);
        let e = BigUint::from_bytes_be(&digest[..SIZE]);
        let rng = aws_lc_rs::rand::SystemRandom::new();
        loop {
            let mut bytes = [0u8; SIZE + 8];
            aws_lc_rs::rand::SecureRandom::fill(&rng, &mut bytes)
                .map_err(|_| "x509: signing failed".to_string())?;
            let k = BigUint::from_bytes_be(&bytes) % (&curve.n - 1u8) + 1u8;
            let Some(point) = curve.mul_base(&k) else { continue };
            let r = point.x % &curve.n;
            if r == BigUint::from(0u8) {
                continue;
            }
            let s = Curve::div(&((&e + &r * &self.d) % &curve.n), &k, &curve.n);
            if s != BigUint::from(0u8) {
                return Ok((r, s));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Curve, GX, GY, Key, N, fixed, num};
    use num_bigint_dig::BigUint;

    #[test]
    fn the_base_point_has_the_group_order() {
        let c = Curve::new();
        // The base point is on y² = x³ - 3x + b.
        let b = num("b4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4");
        let (x, y) = (num(GX), num(GY));
        let rhs = c.sub(&(&x * &x * &x + &b), &(BigUint::from(3u8) * &x));
        assert_eq!((&y * &y) % &c.p, rhs);
        assert!(c.mul_base(&num(N)).is_none());
        let one = c.mul_base(&BigUint::from(1u8)).unwrap();
        assert_eq!(fixed(&one.x), fixed(&num(GX)));
        let two = c.mul_base(&BigUint::from(2u8)).unwrap();
        let three = c.mul_base(&BigUint::from(3u8)).unwrap();
        assert_eq!(fixed(&c.add(Some(&one), Some(&two)).unwrap().x), fixed(&three.x));
    }

    /// The public point of a key openssl made (`openssl ec -text`).
    #[test]
    fn public_point_of_a_known_key() {
        let d = "935f3128459929eb4b84bdb41ea352f0a3c622cbf34afc570bf81f11";
        let key = Key::new(&num(d).to_bytes_be()).unwrap();
        let hex: String = key.public().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "04a8f8ce174980ece6a148ed59e56185810e3b140e97e16ce84fe650d386e4440faf43d542c98f3310\
             32428b71ed21526eca501fc0bbda24aa"
        );
    }

    /// A signature verifies: u1·G + u2·Q has x = r.
    #[test]
    fn signatures_verify() {
        use sha2::Digest;
        let c = Curve::new();
        let key = Key::new(&[7u8; 28]).unwrap();
        let (r, s) = key.sign(b"tbs").unwrap();
        let e = BigUint::from_bytes_be(&sha2::Sha256::digest(b"tbs")[..28]);
        let w = Curve::div(&BigUint::from(1u8), &s, &c.n);
        let u1 = (&e * &w) % &c.n;
        let u2 = (&r * &w) % &c.n;
        // u2·Q = (u2·d)·G.
        let sum = c.mul_base(&((u1 + u2 * &key.d) % &c.n)).unwrap();
        assert_eq!(sum.x % &c.n, r);
    }
}
