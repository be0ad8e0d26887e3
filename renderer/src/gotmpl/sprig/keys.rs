//! Private keys a certificate function takes, read as Sprig's `parsePrivateKeyPEM` reads them (RSA, ECDSA, Ed25519, DSA), with what a certificate needs of each.

use aws_lc_rs::encoding::{AsDer, EcPrivateKeyRfc5915Der};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
    EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair,
};
use num_bigint_dig::BigUint;

use super::asn1::{self, Kind, Value, unmarshal};
use super::certs::{oid, pem, seq, tlv};
use super::encoding::base64_decode;
use super::rsa_key::RsaKey;

/// A private key of one of the kinds Go's x509 signs with, or a DSA key,
/// which Sprig reads but Go cannot sign a certificate with.
pub(super) enum PrivKey {
    Rsa(Box<RsaKey>),
    Ecdsa(EcdsaKeyPair, Curve),
    /// A P-224 key, which Go signs with and AWS-LC's Rust API does not.
    P224(Box<p224::ecdsa::SigningKey>),
    Ed25519(Ed25519KeyPair),
    Dsa,
}

/// The NIST curves Go's `x509.ParseECPrivateKey` reads.
#[derive(Clone, Copy)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    const ALL: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];

    fn signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    /// The named curve's object identifier.
    fn oid(self) -> &'static [u64] {
        match self {
            Curve::P256 => &[1, 2, 840, 10045, 3, 1, 7],
            Curve::P384 => &[1, 3, 132, 0, 34],
            Curve::P521 => &[1, 3, 132, 0, 35],
        }
    }

    /// The ECDSA signature algorithm Go picks for a key on this curve.
    fn signature_oid(self) -> &'static [u64] {
        match self {
            Curve::P256 => &[1, 2, 840, 10045, 4, 3, 2],
            Curve::P384 => &[1, 2, 840, 10045, 4, 3, 3],
            Curve::P521 => &[1, 2, 840, 10045, 4, 3, 4],
        }
    }
}

const ED25519: &[u64] = &[1, 3, 101, 112];
const EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
const P224: &[u64] = &[1, 3, 132, 0, 33];
/// ecdsa-with-SHA256, which Go signs with for P-224 and P-256 keys.
const ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const NOT_A_SIGNER: &str = "x509: certificate private key does not implement crypto.Signer";

impl PrivKey {
    /// Reads the first PEM block of `text` as Sprig does; the errors are
    /// Sprig's texts (the caller adds its prefix).
    pub(super) fn parse(text: &str) -> Result<PrivKey, String> {
        let (label, der) = first_pem(text).ok_or("no PEM data in input")?;
        if label == "PRIVATE KEY" {
            return PrivKey::pkcs8(&der).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
        }
        let Some(kind) = label.strip_suffix(" PRIVATE KEY") else {
            return Err(format!("no private key data in PEM block of type {label}"));
        };
        match kind {
            "RSA" => {
                PrivKey::pkcs1(&der).map_err(|e| format!("parsing RSA private key from PEM: {e}"))
            }
            "EC" => {
                PrivKey::sec1(&der).map_err(|e| format!("parsing EC private key from PEM: {e}"))
            }
            // Sprig reads a DSA key with asn1.Unmarshal into its own struct.
            "DSA" => unmarshal(&der, Kind::Struct(&asn1::DSA))
                .map(|_| PrivKey::Dsa)
                .map_err(|e| format!("parsing DSA private key from PEM: {e}")),
            _ => Err(format!("invalid private key type {label}")),
        }
    }

    /// Go's `x509.ParsePKCS1PrivateKey`.
    fn pkcs1(der: &[u8]) -> Result<PrivKey, String> {
        let (key, used) = unmarshal(der, Kind::Struct(&asn1::PKCS1))
            .map_err(|e| other_structure(der, [SEC1, PKCS8]).unwrap_or(e))?;
        if used < der.len() {
            return Err("asn1: syntax error: trailing data".into());
        }
        if matches!(key.member(0), Value::Int(v) if *v > 1) {
            return Err("x509: unsupported private key version".into());
        }
        let number = |v: &Value<'_>| match v {
            Value::Big(b)
                if b.first().is_some_and(|f| f & 0x80 == 0) && b.iter().any(|x| *x != 0) =>
            {
                Some(BigUint::from_bytes_be(b))
            }
            _ => None,
        };
        let [n, d, p, q] = [1, 3, 4, 5].map(|i| number(key.member(i)));
        // The CRT values may be absent; present, they must be positive too.
        let [dp, dq, qinv] = [6, 7, 8].map(|i| match key.member(i) {
            Value::Absent => Some(None),
            v => number(v).map(Some),
        });
        let (Some(n), Some(d), Some(p), Some(q), Some(dp), Some(dq), Some(qinv)) =
            (n, d, p, q, dp, dq, qinv)
        else {
            return Err("x509: private key contains zero or negative value".into());
        };
        let mut primes = vec![p, q];
        if let Value::List(others) = key.member(9) {
            for other in others {
                primes.push(
                    number(other.member(0))
                        .ok_or("x509: private key contains zero or negative prime")?,
                );
            }
        }
        let crt = match (dp, dq, qinv) {
            (Some(dp), Some(dq), Some(qinv)) => Some([dp, dq, qinv]),
            _ => None,
        };
        let Value::Int(e) = key.member(2) else {
            return Err("x509: failed to parse private key".into());
        };
        RsaKey::new(n, *e, d, primes, crt).map(|k| PrivKey::Rsa(Box::new(k)))
    }

    /// Go's `x509.ParseECPrivateKey`.
    fn sec1(der: &[u8]) -> Result<PrivKey, String> {
        let (curve, scalar) = ec_structure(der, None)?;
        if curve == P224 {
            return p224_key(&scalar);
        }
        Curve::ALL
            .into_iter()
            .find_map(|c| EcdsaKeyPair::from_private_key_der(c.signing(), der).ok().map(|k| (k, c)))
            .filter(|(_, c)| *curve == *c.oid())
            .map(|(k, c)| PrivKey::Ecdsa(k, c))
            .ok_or_else(|| "x509: invalid elliptic curve private key value".to_string())
    }

    /// Go's `x509.ParsePKCS8PrivateKey` for the key kinds Sprig signs with.
    pub(super) fn pkcs8(der: &[u8]) -> Result<PrivKey, String> {
        let (info, _) = unmarshal(der, Kind::Struct(&asn1::PKCS8))
            .map_err(|e| other_structure(der, [SEC1, PKCS1]).unwrap_or(e))?;
        let (Value::Oid(algorithm), parameters, Value::Bytes(inner)) =
            (info.member(1).member(0), info.member(1).member(1), info.member(2))
        else {
            return Err("x509: failed to parse private key".into());
        };
        match algorithm.as_slice() {
            [1, 2, 840, 113549, 1, 1, 1] => PrivKey::pkcs1(inner).map_err(|e| {
                format!("x509: failed to parse RSA private key embedded in PKCS#8: {e}")
            }),
            [1, 2, 840, 10045, 2, 1] => {
                let named = match parameters {
                    Value::Any(p) => match unmarshal(p, Kind::Oid) {
                        Ok((Value::Oid(arcs), _)) => Some(arcs),
                        _ => None,
                    },
                    _ => None,
                };
                let embedded = |e: String| {
                    format!("x509: failed to parse EC private key embedded in PKCS#8: {e}")
                };
                let (curve, scalar) = ec_structure(inner, named).map_err(embedded)?;
                if curve == P224 {
                    return p224_key(&scalar);
                }
                Curve::ALL
                    .into_iter()
                    .filter(|c| *curve == *c.oid())
                    .find_map(|c| {
                        EcdsaKeyPair::from_pkcs8(c.signing(), der)
                            .ok()
                            .map(|k| PrivKey::Ecdsa(k, c))
                    })
                    .ok_or_else(|| {
                        embedded("x509: invalid elliptic curve private key value".into())
                    })
            }
            ED25519 => {
                if matches!(parameters, Value::Any(p) if !p.is_empty()) {
                    return Err("x509: invalid Ed25519 private key parameters".into());
                }
                let seed = match unmarshal(inner, Kind::Bytes) {
                    Ok((Value::Bytes(seed), _)) => seed,
                    Ok(_) => &[],
                    Err(e) => return Err(format!("x509: invalid Ed25519 private key: {e}")),
                };
                if seed.len() != 32 {
                    return Err(format!(
                        "x509: invalid Ed25519 private key length: {}",
                        seed.len()
                    ));
                }
                Ed25519KeyPair::from_seed_unchecked(seed)
                    .map(PrivKey::Ed25519)
                    .map_err(|_| "x509: invalid Ed25519 private key".to_string())
            }
            other => Err(format!(
                "x509: PKCS#8 wrapping contained private key with unknown algorithm: {}",
                other.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
            )),
        }
    }

    /// The key as Sprig prints it in a certificate it made with the key
    /// (Go's `pemBlockForKey` marshals the parsed key again): PKCS#1 for RSA,
    /// SEC 1 for ECDSA, PKCS#8 for Ed25519. None for DSA, which no
    /// certificate is made with.
    pub(super) fn to_pem(&self) -> Option<String> {
        match self {
            PrivKey::Rsa(k) => Some(pem("RSA PRIVATE KEY", &k.pkcs1_der())),
            PrivKey::Ecdsa(k, _) => {
                let der: EcPrivateKeyRfc5915Der<'_> = k.private_key().as_der().ok()?;
                Some(pem("EC PRIVATE KEY", der.as_ref()))
            }
            PrivKey::P224(k) => {
                let der = seq(&[
                    tlv(0x02, &[1]),
                    tlv(0x04, &k.to_bytes()),
                    tlv(0xa0, &oid(P224)),
                    tlv(0xa1, &bit_string(&p224_public(k))),
                ]);
                Some(pem("EC PRIVATE KEY", &der))
            }
            PrivKey::Ed25519(k) => Some(pem("PRIVATE KEY", k.to_pkcs8v1().ok()?.as_ref())),
            PrivKey::Dsa => None,
        }
    }

    /// The DER SubjectPublicKeyInfo of the key, as Go marshals it; a DSA
    /// key fails as Go's `x509.CreateCertificate` fails on it.
    pub(super) fn spki(&self) -> Result<Vec<u8>, String> {
        match self {
            PrivKey::Rsa(k) => Ok(k.spki()),
            PrivKey::Ecdsa(k, c) => Ok(seq(&[
                seq(&[oid(EC_PUBLIC_KEY), oid(c.oid())]),
                bit_string(k.public_key().as_ref()),
            ])),
            PrivKey::P224(k) => {
                Ok(seq(&[seq(&[oid(EC_PUBLIC_KEY), oid(P224)]), bit_string(&p224_public(k))]))
            }
            PrivKey::Ed25519(k) => {
                Ok(seq(&[seq(&[oid(ED25519)]), bit_string(k.public_key().as_ref())]))
            }
            PrivKey::Dsa => Err("x509: unsupported public key type: *dsa.PublicKey".into()),
        }
    }

    /// The AlgorithmIdentifier of the signatures this key makes, as Go picks it.
    pub(super) fn signature_algorithm(&self) -> Result<Vec<u8>, String> {
        match self {
            PrivKey::Rsa(_) => Ok(seq(&[oid(&[1, 2, 840, 113549, 1, 1, 11]), vec![0x05, 0x00]])),
            PrivKey::Ecdsa(_, c) => Ok(seq(&[oid(c.signature_oid())])),
            PrivKey::P224(_) => Ok(seq(&[oid(ECDSA_SHA256)])),
            PrivKey::Ed25519(_) => Ok(seq(&[oid(ED25519)])),
            PrivKey::Dsa => Err(NOT_A_SIGNER.into()),
        }
    }

    /// Signs `message` (a certificate's TBS bytes).
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            PrivKey::Rsa(k) => k.sign(message),
            PrivKey::Ecdsa(k, _) => k
                .sign(&aws_lc_rs::rand::SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "x509: signing failed".to_string()),
            PrivKey::P224(k) => {
                // Go signs a SHA-256 digest, truncated to the order's 224 bits.
                use p224::ecdsa::signature::hazmat::PrehashSigner;
                use sha2::Digest;
                let signature: p224::ecdsa::Signature = k
                    .sign_prehash(&sha2::Sha256::digest(message))
                    .map_err(|_| "x509: signing failed".to_string())?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            PrivKey::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            PrivKey::Dsa => Err(NOT_A_SIGNER.into()),
        }
    }
}

/// The uncompressed public point `04 || X || Y` of a P-224 key.
fn p224_public(key: &p224::ecdsa::SigningKey) -> Vec<u8> {
    key.verifying_key().to_encoded_point(false).as_bytes().to_vec()
}

/// A DER BIT STRING holding `bytes` whole.
fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0u8];
    content.extend_from_slice(bytes);
    tlv(0x03, &content)
}

/// Go's x509 advice when key DER that its parser does not read has the
/// structure of another parser's key (the parsers try the others in turn).
fn other_structure(der: &[u8], others: [(&'static asn1::Structure, &str); 2]) -> Option<String> {
    others.into_iter().find(|(s, _)| unmarshal(der, Kind::Struct(s)).is_ok()).map(|(_, parser)| {
        format!("x509: failed to parse private key (use {parser} instead for this key format)")
    })
}

const PKCS1: (&asn1::Structure, &str) = (&asn1::PKCS1, "ParsePKCS1PrivateKey");
const SEC1: (&asn1::Structure, &str) = (&asn1::EC, "ParseECPrivateKey");
const PKCS8: (&asn1::Structure, &str) = (&asn1::PKCS8, "ParsePKCS8PrivateKey");

/// The named curves Go's x509 reads, with the order of each (big-endian).
const GO_CURVES: [(&[u64], &str); 4] = [
    (P224, "ffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3d"),
    (
        &[1, 2, 840, 10045, 3, 1, 7],
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    ),
    (
        &[1, 3, 132, 0, 34],
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf\
         581a0db248b0a77aecec196accc52973",
    ),
    (
        &[1, 3, 132, 0, 35],
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
         fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa\
         51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
    ),
];

/// A P-224 key with a scalar `ec_structure` has checked.
fn p224_key(scalar: &[u8]) -> Result<PrivKey, String> {
    p224::ecdsa::SigningKey::from_slice(scalar)
        .map(|k| PrivKey::P224(Box::new(k)))
        .map_err(|_| "x509: invalid elliptic curve private key value".into())
}

/// Go's `parseECPrivateKey`: the SEC 1 structure, its version, the curve
/// (`named`, from PKCS#8 parameters, or the key's own), which must be one Go
/// knows, and the private scalar, which must fit the curve's order and be
/// non-zero. The curve's arcs and the scalar padded to the curve's size.
fn ec_structure(der: &[u8], named: Option<Vec<u64>>) -> Result<(Vec<u64>, Vec<u8>), String> {
    let (key, _) = unmarshal(der, Kind::Struct(&asn1::EC)).map_err(|e| {
        other_structure(der, [PKCS8, PKCS1])
            .unwrap_or_else(|| format!("x509: failed to parse EC private key: {e}"))
    })?;
    if let Value::Int(version) = key.member(0) {
        if *version != 1 {
            return Err(format!("x509: unknown EC private key version {version}"));
        }
    }
    let curve = match (named, key.member(2)) {
        (Some(arcs), _) => arcs,
        (None, Value::Oid(arcs)) => arcs.clone(),
        _ => Vec::new(),
    };
    let Some((_, order)) = GO_CURVES.iter().find(|(arcs, _)| curve == *arcs) else {
        return Err("x509: unknown elliptic curve".into());
    };
    let order: Vec<u8> = (0..order.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(order.get(i..i + 2)?, 16).ok())
        .collect();
    let mut scalar = match key.member(1) {
        Value::Bytes(b) => *b,
        _ => &[],
    };
    // Go drops leading zero octets past the curve's size, then pads to it.
    while scalar.len() > order.len() {
        if scalar[0] != 0 {
            return Err("x509: invalid private key length".into());
        }
        scalar = &scalar[1..];
    }
    let mut padded = vec![0u8; order.len() - scalar.len()];
    padded.extend_from_slice(scalar);
    if padded >= order {
        return Err("input overflows the modulus".into());
    }
    if padded.iter().all(|b| *b == 0) {
        return Err("ecdsa: invalid public key encoding".into());
    }
    Ok((curve, padded))
}

/// The label and bytes of the first PEM block in `text`, as Go's
/// `pem.Decode` finds it: text before a `-----BEGIN ` line is skipped, and so
/// is a block whose END line does not match its BEGIN line or whose base64
/// does not decode (the search goes on after that block's BEGIN line).
pub(super) fn first_pem(text: &str) -> Option<(String, Vec<u8>)> {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "\n-----END ";
    let mut rest = text;
    loop {
        rest = match rest.strip_prefix(BEGIN) {
            Some(after) => after,
            None => &rest[rest.find(&format!("\n{BEGIN}"))? + 1 + BEGIN.len()..],
        };
        let (type_line, after) = pem_line(rest);
        rest = after;
        let Some(label) = type_line.strip_suffix("-----") else { continue };
        // Header lines (`Key: value`) come before the base64.
        let mut headers = false;
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next) = pem_line(rest);
            if !line.contains(':') {
                break;
            }
            headers = true;
            rest = next;
        }
        // Without headers the END line may follow the BEGIN line at once.
        let (body_end, trailer) = if !headers && rest.starts_with(&END[1..]) {
            (0, END.len() - 1)
        } else {
            match rest.find(END) {
                Some(i) => (i, i + END.len()),
                None => continue,
            }
        };
        let end_line = &rest[trailer..];
        let Some(after_end) = end_line.strip_prefix(label).and_then(|r| r.strip_prefix("-----"))
        else {
            continue;
        };
        if !pem_line(after_end).0.is_empty() {
            continue;
        }
        let body: String = rest[..body_end].chars().filter(|c| *c != ' ' && *c != '\t').collect();
        if let Some(bytes) = base64_decode(&body) {
            return Some((label.to_string(), bytes));
        }
    }
}

/// Go's `pem` `getLine`: the text up to the next line feed (without a
/// carriage return before it and without trailing spaces and tabs), and the
/// text after that line feed.
fn pem_line(text: &str) -> (&str, &str) {
    let (line, rest) = text.split_once('\n').unwrap_or((text, ""));
    let line = line.strip_suffix('\r').unwrap_or(line);
    (line.trim_end_matches([' ', '\t']), rest)
}

#[cfg(test)]
mod tests {
    use super::{PrivKey, p224_key, p224_public};

    /// A P-224 key openssl made (`openssl ec -text`): its public point, and a
    /// certificate signature over a SHA-256 digest that verifies with it.
    #[test]
    fn p224_keys_give_their_public_point_and_verifying_signatures() {
        use p224::ecdsa::signature::hazmat::PrehashVerifier;
        use sha2::Digest;
        let d: Vec<u8> = (0..28)
            .map(|i| {
                u8::from_str_radix(
                    &"935f3128459929eb4b84bdb41ea352f0a3c622cbf34afc570bf81f11"[2 * i..2 * i + 2],
                    16,
                )
                .unwrap()
            })
            .collect();
        let Ok(PrivKey::P224(key)) = p224_key(&d) else { panic!("a P-224 key") };
        let hex: String = p224_public(&key).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "04a8f8ce174980ece6a148ed59e56185810e3b140e97e16ce84fe650d386e4440faf43d542c98f3310\
             32428b71ed21526eca501fc0bbda24aa"
        );
        let der = PrivKey::P224(key.clone()).sign(b"tbs").unwrap();
        let signature = p224::ecdsa::Signature::from_der(&der).unwrap();
        key.verifying_key().verify_prehash(&sha2::Sha256::digest(b"tbs"), &signature).unwrap();
    }

    /// Sprig's `parsePrivateKeyPEM` errors, checked with the helm-template oracle.
    #[test]
    fn keys_that_are_not_keys_fail_as_in_sprig() {
        let err = |text: &str| PrivKey::parse(text).err().unwrap_or_default();
        assert_eq!(err("Unknown type bogus"), "no PEM data in input");
        assert_eq!(
            err("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            "no private key data in PEM block of type CERTIFICATE"
        );
        assert_eq!(
            err("-----BEGIN FOO PRIVATE KEY-----\nAAAA\n-----END FOO PRIVATE KEY-----\n"),
            "invalid private key type FOO PRIVATE KEY"
        );
    }

    #[test]
    fn generated_keys_of_every_kind_read_back() {
        for pem in [
            super::super::certs::tests_support::ecdsa(),
            super::super::certs::tests_support::ed25519(),
        ] {
            let key = PrivKey::parse(&pem).expect("a generated key reads back");
            let signature = key.sign(b"tbs").expect("the key signs");
            assert!(!signature.is_empty());
            assert!(key.spki().is_ok() && key.signature_algorithm().is_ok());
        }
    }
}
