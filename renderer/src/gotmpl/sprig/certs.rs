//! Sprig's certificate functions: genPrivateKey, genCA, genSelfSignedCert, genSignedCert, their `WithKey` forms and buildCustomCert.
//!
//! Keys are RSA 2048, signatures SHA-256, output PEM, as Sprig makes them.
//! Generated keys, serials and validity make their output random.

use std::sync::Arc;

use rand_core::{OsRng, RngCore};

use super::encoding::base64_decode;
use super::keys::{PrivKey, first_pem};
use crate::gotmpl::{Funcs, Function, Param, Struct, Value};

/// The type of the certificates Sprig's functions make and the CA they take.
const CERTIFICATE: Param = Param::Struct("sprig.certificate");

/// Adds the crypto functions to `f`.
pub(super) fn register(f: &mut Funcs) {
    f.insert(
        "genPrivateKey",
        Function::new(|_, a| match a[0].as_str().unwrap_or_default() {
            // Sprig makes a 4096-bit RSA key here (its certificate functions make 2048-bit ones).
            "" | "rsa" => Ok(Value::from(rsa_key(aws_lc_rs::rsa::KeySize::Rsa4096)?.1)),
            "ecdsa" => Ok(Value::from(ecdsa_key()?)),
            "ed25519" => Ok(Value::from(ed25519_key()?)),
            "dsa" => Ok(Value::from(super::dsa::dsa_key_pem())),
            other => Ok(Value::from(format!("Unknown type {other}"))),
        })
        .params(&[Param::String], None),
    );
    f.insert(
        "genCA",
        Function::new(|_, a| {
            let cn = a[0].as_str().unwrap_or_default();
            let (key, key_pem) = new_key()?;
            let spec = CertSpec { cn, ips: &[], dns: &[], days: days(&a[1]), ca: true };
            let cert = certificate(&spec, &key, &key, &Issuer::itself(cn))?;
            Ok(cert_value(cert, key_pem))
        })
        .params(&[Param::String, Param::Int], None),
    );
    f.insert(
        "genSelfSignedCert",
        Function::new(|_, a| {
            let cn = a[0].as_str().unwrap_or_default();
            let (ips, dns) = (san_ips(&a[1])?, san_dns(&a[2])?);
            let (key, key_pem) = new_key()?;
            let spec = CertSpec { cn, ips: &ips, dns: &dns, days: days(&a[3]), ca: false };
            Ok(cert_value(certificate(&spec, &key, &key, &Issuer::itself(cn))?, key_pem))
        })
        .params(&[Param::String, Param::List, Param::List, Param::Int], None),
    );
    f.insert(
        "genSignedCert",
        Function::new(|_, a| {
            let cn = a[0].as_str().unwrap_or_default();
            let (ips, dns) = (san_ips(&a[1])?, san_dns(&a[2])?);
            let (ca_key, issuer) = ca_parts(&a[4])?;
            let (key, key_pem) = new_key()?;
            let spec = CertSpec { cn, ips: &ips, dns: &dns, days: days(&a[3]), ca: false };
            Ok(cert_value(certificate(&spec, &key, &ca_key, &issuer)?, key_pem))
        })
        .params(&[Param::String, Param::List, Param::List, Param::Int, CERTIFICATE], None),
    );
    f.insert(
        "genCAWithKey",
        Function::new(|_, a| {
            let cn = a[0].as_str().unwrap_or_default();
            let (key, key_pem) = with_key(&a[2])?;
            let spec = CertSpec { cn, ips: &[], dns: &[], days: days(&a[1]), ca: true };
            Ok(cert_value(certificate(&spec, &key, &key, &Issuer::itself(cn))?, key_pem))
        })
        .params(&[Param::String, Param::Int, Param::String], None),
    );
    f.insert(
        "genSelfSignedCertWithKey",
        Function::new(|_, a| {
            let cn = a[0].as_str().unwrap_or_default();
            let (ips, dns) = (san_ips(&a[1])?, san_dns(&a[2])?);
            let (key, key_pem) = with_key(&a[4])?;
            let spec = CertSpec { cn, ips: &ips, dns: &dns, days: days(&a[3]), ca: false };
            Ok(cert_value(certificate(&spec, &key, &key, &Issuer::itself(cn))?, key_pem))
        })
        .params(&[Param::String, Param::List, Param::List, Param::Int, Param::String], None),
    );
    f.insert(
        "genSignedCertWithKey",
        Function::new(|_, a| {
            let cn = a[0].as_str().unwrap_or_default();
            let (ips, dns) = (san_ips(&a[1])?, san_dns(&a[2])?);
            let (ca_key, issuer) = ca_parts(&a[4])?;
            let (key, key_pem) = with_key(&a[5])?;
            let spec = CertSpec { cn, ips: &ips, dns: &dns, days: days(&a[3]), ca: false };
            Ok(cert_value(certificate(&spec, &key, &ca_key, &issuer)?, key_pem))
        })
        .params(
            &[Param::String, Param::List, Param::List, Param::Int, CERTIFICATE, Param::String],
            None,
        ),
    );
    f.insert(
        "buildCustomCert",
        Function::new(|_, a| {
            let decode = |v: &Value, what: &str| {
                base64_decode(v.as_str().unwrap_or_default())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .ok_or_else(|| format!("unable to decode base64 {what}"))
            };
            let cert = decode(&a[0], "certificate")?;
            let key = decode(&a[1], "private key")?;
            // Sprig decodes the PEM block before it parses the certificate.
            let Some((_, der)) = first_pem(&cert) else {
                return Err("unable to decode certificate".into());
            };
            super::x509_check::check(&der)
                .map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
            PrivKey::parse(&key).map_err(|e| format!("error parsing private key: {e}"))?;
            Ok(cert_value(cert, key))
        })
        .params(&[Param::String, Param::String], None),
    );
}

/// The key a `...WithKey` function takes, and the PEM as Sprig keeps it.
/// Sprig prints the key marshalled anew, not as the template gave it.
fn with_key(pem: &Value) -> Result<(PrivKey, String), String> {
    let text = pem.as_str().unwrap_or_default();
    let key = PrivKey::parse(text).map_err(|e| format!("parsing private key: {e}"))?;
    let key_pem = key.to_pem().unwrap_or_else(|| text.to_string());
    Ok((key, key_pem))
}

fn days(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

/// The IP addresses of a certificate, read as Sprig's `getNetIPs` reads
/// them: each must be a string that Go's `net.ParseIP` takes.
fn san_ips(v: &Value) -> Result<Vec<String>, String> {
    let Value::List(l) = v else { return Ok(Vec::new()) };
    l.iter()
        .map(|ip| match ip.as_str() {
            Some(text) if text.parse::<std::net::IpAddr>().is_ok() => Ok(text.to_string()),
            Some(text) => Err(format!("error parsing ip: {text}")),
            None => Err(format!("error parsing ip: {} is not a string", go_v(ip))),
        })
        .collect()
}

/// The DNS names of a certificate: each must be a string.
fn san_dns(v: &Value) -> Result<Vec<String>, String> {
    let Value::List(l) = v else { return Ok(Vec::new()) };
    l.iter()
        .map(|d| {
            d.as_str().map(str::to_string).ok_or_else(|| {
                format!("error processing alternate dns name: {} is not a string", go_v(d))
            })
        })
        .collect()
}

/// A value as Go's `%v` prints it.
fn go_v(v: &Value) -> String {
    crate::gotmpl::fmt::sprintf("%v", std::slice::from_ref(v))
}

/// A fresh RSA 2048 key, as Sprig's certificate functions make, and its PKCS#1 PEM.
fn new_key() -> Result<(PrivKey, String), String> {
    rsa_key(aws_lc_rs::rsa::KeySize::Rsa2048)
}

/// A fresh RSA key of `size` and its PKCS#1 PEM.
///
/// AWS-LC generates the key: its prime search takes a few milliseconds where
/// the `rsa` crate's takes hundreds, and a chart that makes a CA and a
/// certificate per render (bitnami's TLS secrets) spent most of its time
/// there. The key is then read back as Go reads a PKCS#8 key.
fn rsa_key(size: aws_lc_rs::rsa::KeySize) -> Result<(PrivKey, String), String> {
    use aws_lc_rs::encoding::AsDer;
    let pair = aws_lc_rs::rsa::KeyPair::generate(size)
        .map_err(|_| "genPrivateKey: RSA key generation failed".to_string())?;
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(&pair)
        .map_err(|_| "genPrivateKey: RSA key encoding failed".to_string())?;
    let key = PrivKey::pkcs8(der.as_ref())?;
    let pem = key.to_pem().ok_or("genPrivateKey: RSA key encoding failed")?;
    Ok((key, pem))
}

/// A fresh ECDSA P-256 key as Sprig prints it: SEC1 (RFC 5915) DER under
/// `EC PRIVATE KEY`, as Go's `x509.MarshalECPrivateKey` makes it.
fn ecdsa_key() -> Result<String, String> {
    use aws_lc_rs::encoding::{AsDer, EcPrivateKeyRfc5915Der};
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    let failed = |_| "genPrivateKey: ECDSA key generation failed".to_string();
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(failed)?;
    let der: EcPrivateKeyRfc5915Der<'_> = pair.private_key().as_der().map_err(failed)?;
    Ok(pem("EC PRIVATE KEY", der.as_ref()))
}

/// A fresh Ed25519 key as Sprig prints it: PKCS#8 v1 DER under `PRIVATE
/// KEY`, as Go's `x509.MarshalPKCS8PrivateKey` makes it.
fn ed25519_key() -> Result<String, String> {
    let failed = |_| "genPrivateKey: Ed25519 key generation failed".to_string();
    let pair = aws_lc_rs::signature::Ed25519KeyPair::generate().map_err(failed)?;
    let der = pair.to_pkcs8v1().map_err(failed)?;
    Ok(pem("PRIVATE KEY", der.as_ref()))
}

/// The key of a CA made by genCA (`.Key` PEM, `.Cert` PEM) and what a
/// certificate it signs takes from its certificate.
fn ca_parts(ca: &Value) -> Result<(PrivKey, Issuer), String> {
    let Value::Struct(s) = ca else {
        return Err("genSignedCert: the CA is not a certificate".into());
    };
    let field = |name: &str| {
        s.fields.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.as_str().map(str::to_string))
    };
    let issuer = Issuer::of_cert(&field("Cert").unwrap_or_default())?;
    let key_pem = field("Key").unwrap_or_default();
    let key = PrivKey::parse(&key_pem).map_err(|e| format!("error parsing CA key: {e}"))?;
    Ok((key, issuer))
}

/// What a certificate takes from its issuer, as Go's `x509.CreateCertificate`
/// does: the issuer's subject name as it is encoded in the issuer's
/// certificate, and its subject key identifier (which becomes the authority
/// key identifier of the certificates it signs).
struct Issuer {
    name: Vec<u8>,
    key_id: Option<Vec<u8>>,
    /// The SubjectPublicKeyInfo of the issuer's certificate, which the
    /// signing key must match; none for a certificate that signs itself.
    public_key: Option<Vec<u8>>,
}

impl Issuer {
    /// The issuer of a self-signed certificate named `cn`.
    fn itself(cn: &str) -> Issuer {
        Issuer { name: name(cn), key_id: None, public_key: None }
    }

    /// The issuer that the PEM certificate `cert_pem` describes.
    fn of_cert(cert_pem: &str) -> Result<Issuer, String> {
        let (_, der) =
            first_pem(cert_pem).ok_or_else(|| "unable to decode certificate".to_string())?;
        let bad = || "error parsing certificate: x509: malformed certificate".to_string();
        let (_, cert) = der_content(&der).ok_or_else(bad)?;
        let (_, tbs) = der_content(cert).ok_or_else(bad)?;
        let mut fields = der_children(tbs).ok_or_else(bad)?;
        if fields.first().is_some_and(|f| f[0] == 0xa0) {
            fields.remove(0);
        }
        // serial, signature algorithm, issuer, validity, subject, key, ...
        let subject = fields.get(4).ok_or_else(bad)?;
        let key_id = fields
            .iter()
            .find(|f| f[0] == 0xa3)
            .and_then(|f| der_content(f))
            .and_then(|(_, exts)| der_content(exts))
            .and_then(|(_, list)| der_children(list))
            .and_then(|list| {
                list.into_iter().find_map(|ext| {
                    let parts = der_children(der_content(ext)?.1)?;
                    if parts.first()? != &oid(&[2, 5, 29, 14]).as_slice() {
                        return None;
                    }
                    let value = der_content(parts.last()?)?.1;
                    Some(der_content(value)?.1.to_vec())
                })
            });
        let public_key = fields.get(5).map(|k| k.to_vec());
        Ok(Issuer { name: subject.to_vec(), key_id, public_key })
    }
}

/// The minimal DER INTEGER content of the unsigned big-endian number `n`,
/// as Go encodes the random serial below 2^128 that Sprig draws.
pub(super) fn der_unsigned(n: &[u8]) -> Vec<u8> {
    let digits =
        n.iter().position(|b| *b != 0).map_or(&n[n.len().saturating_sub(1)..], |i| &n[i..]);
    let mut out = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_some_and(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(digits);
    out
}

/// The tag and content of the DER element at the start of `der`.
pub(super) fn der_content(der: &[u8]) -> Option<(u8, &[u8])> {
    super::x509_check::element(der).map(|(tag, content, _)| (tag, content))
}

/// The whole elements (header and content) that `content` is made of.
pub(super) fn der_children(mut content: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (_, _, rest) = super::x509_check::element(content)?;
        out.push(&content[..content.len() - rest.len()]);
        content = rest;
    }
    Some(out)
}

fn cert_value(cert: String, key: String) -> Value {
    Value::Struct(Arc::new(Struct {
        type_name: "sprig.certificate".into(),
        fields: vec![("Cert".into(), Value::from(cert)), ("Key".into(), Value::from(key))],
        ..Struct::default()
    }))
}

/// What a certificate is for.
struct CertSpec<'a> {
    cn: &'a str,
    ips: &'a [String],
    dns: &'a [String],
    days: i64,
    ca: bool,
}

/// A PEM certificate for `spec` with `key`'s public key, signed by `signer` as `issuer`.
fn certificate(
    spec: &CertSpec<'_>,
    key: &PrivKey,
    signer: &PrivKey,
    issuer: &Issuer,
) -> Result<String, String> {
    // Go checks that the signer signs before it encodes the public key.
    let creating = |e: String| format!("error creating certificate: {e}");
    let sig_alg = signer.signature_algorithm().map_err(creating)?;
    if let Some(parent) = &issuer.public_key
        && signer.spki().ok().as_ref() != Some(parent)
    {
        return Err(creating("x509: provided PrivateKey doesn't match parent's PublicKey".into()));
    }
    let spki = key.spki().map_err(creating)?;
    let mut random = [0u8; 16];
    OsRng.fill_bytes(&mut random);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let validity =
        seq(&[utc_time(now), utc_time(now.saturating_add(spec.days.saturating_mul(86_400)))]);
    let mut key_usage: u8 = 0x80 | 0x20; // digitalSignature, keyEncipherment
    if spec.ca {
        key_usage |= 0x04; // keyCertSign
    }
    let mut exts = vec![
        extension(&[2, 5, 29, 15], true, tlv(0x03, &[key_usage.trailing_zeros() as u8, key_usage])),
        extension(
            &[2, 5, 29, 37],
            false,
            seq(&[oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]), oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2])]),
        ),
        extension(
            &[2, 5, 29, 19],
            true,
            seq(&if spec.ca { vec![vec![0x01, 0x01, 0xff]] } else { vec![] }),
        ),
    ];
    // Go gives a CA a subject key identifier: the first 160 bits of the
    // SHA-256 of its public key's bits; a certificate signed by another
    // carries that issuer's identifier as its authority key identifier.
    if spec.ca {
        let bits = der_content(&spki)
            .and_then(|(_, c)| der_children(c))
            .and_then(|parts| Some(der_content(parts.get(1)?)?.1.get(1..)?.to_vec()))
            .unwrap_or_default();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&bits);
        exts.push(extension(&[2, 5, 29, 14], false, tlv(0x04, &digest[..20])));
    }
    let subject = name(spec.cn);
    if let Some(id) = issuer.key_id.as_ref().filter(|_| issuer.name != subject) {
        exts.push(extension(&[2, 5, 29, 35], false, seq(&[tlv(0x80, id)])));
    }
    if !spec.ips.is_empty() || !spec.dns.is_empty() {
        let mut names = Vec::new();
        for d in spec.dns {
            // Go's x509 writes a DNS name as an IA5String: ASCII only.
            if !d.is_ascii() {
                let quoted = crate::gotmpl::fmt::quote(d);
                return Err(creating(format!("x509: {quoted} cannot be encoded as an IA5String")));
            }
            names.push(tlv(0x82, d.as_bytes()));
        }
        for ip in spec.ips {
            if let Ok(addr) = ip.parse::<std::net::IpAddr>() {
                // Go's x509 writes an address in its 4-byte form when it has
                // one (`To4`), an IPv4-mapped IPv6 address included.
                let bytes = match addr {
                    std::net::IpAddr::V4(v) => v.octets().to_vec(),
                    std::net::IpAddr::V6(v) => match v.to_ipv4_mapped() {
                        Some(v4) => v4.octets().to_vec(),
                        None => v.octets().to_vec(),
                    },
                };
                names.push(tlv(0x87, &bytes));
            }
        }
        exts.push(extension(&[2, 5, 29, 17], false, seq(&names)));
    }
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[0x02])),
        tlv(0x02, &der_unsigned(&random)),
        sig_alg.clone(),
        issuer.name.clone(),
        validity,
        subject,
        spki,
        tlv(0xa3, &seq(&exts)),
    ]);
    let signature = signer.sign(&tbs).map_err(creating)?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signature);
    let der = seq(&[tbs, sig_alg, tlv(0x03, &bits)]);
    Ok(pem("CERTIFICATE", &der))
}

pub(super) fn pem(label: &str, der: &[u8]) -> String {
    let b64 = super::encoding::encode(der, super::encoding::B64, 6);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub(super) fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}

pub(super) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        chunk.reverse();
        body.extend(chunk);
    }
    tlv(0x06, &body)
}

fn extension(id: &[u64], critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![oid(id)];
    if critical {
        parts.push(vec![0x01, 0x01, 0xff]);
    }
    parts.push(tlv(0x04, &value));
    seq(&parts)
}

/// An X.501 name holding only a common name.
fn name(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return seq(&[]);
    }
    seq(&[tlv(0x31, &seq(&[oid(&[2, 5, 4, 3]), tlv(string_tag(cn), cn.as_bytes())]))])
}

/// The ASN.1 string type Go's encoding/asn1 gives an untagged string:
/// PrintableString (0x13) when every byte is in its set (letters, digits,
/// space and `'()+,-./:=?`), UTF8String (0x0c) otherwise.
fn string_tag(s: &str) -> u8 {
    let printable = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b' ' | b'\'' | b'(' | b')' | b'+' | b',' | b'-' | b'.' | b'/' | b':' | b'=' | b'?'
            )
    };
    if s.bytes().all(printable) { 0x13 } else { 0x0c }
}

/// UTCTime (or GeneralizedTime from 2050) of a Unix time.
fn utc_time(secs: i64) -> Vec<u8> {
    // Years 1 to 9999, the range the encodings can hold.
    let secs = secs.clamp(-62_135_596_800, 253_402_300_799);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let hms = format!("{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60);
    if (1950..2050).contains(&y) {
        tlv(0x17, format!("{:02}{m:02}{d:02}{hms}", y % 100).as_bytes())
    } else {
        tlv(0x18, format!("{y:04}{m:02}{d:02}{hms}").as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_use_go_string_types() {
        // (common name, ASN.1 tag Go's encoding/asn1 gives it)
        let cases = [
            ("rel-metrics-server", 0x13),
            ("it's (a) b+c,d-e.f/g:h=i?", 0x13),
            ("my-ca_x", 0x0c),
            ("*.example.com", 0x0c),
            ("a&b", 0x0c),
            ("caf\u{e9}", 0x0c),
            ("a@b", 0x0c),
        ];
        for (cn, tag) in cases {
            assert_eq!(string_tag(cn), tag, "{cn}");
            let der = name(cn);
            assert_eq!(der[der.len() - cn.len() - 2], tag, "{cn}");
        }
        assert_eq!(name(""), vec![0x30, 0x00]);
    }

    #[test]
    fn ip_addresses_are_written_in_their_shortest_form() {
        let (key, _) = new_key().unwrap();
        let ips = ["::ffff:1.2.3.4".to_string(), "::1".to_string(), "10.0.0.1".to_string()];
        let spec = CertSpec { cn: "svc", ips: &ips, dns: &[], days: 1, ca: false };
        let pem = certificate(&spec, &key, &key, &Issuer::itself("svc")).unwrap();
        let der =
            base64_decode(&pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
                .unwrap();
        let mut one = [0u8; 16];
        one[15] = 1;
        let sans = seq(&[tlv(0x87, &[1, 2, 3, 4]), tlv(0x87, &one), tlv(0x87, &[10, 0, 0, 1])]);
        assert!(der.windows(sans.len()).any(|w| w == sans.as_slice()));
    }

    #[test]
    fn alternate_names_are_checked_as_sprig_checks_them() {
        let list = Value::list;
        let cases = [
            (san_ips(&list(vec![Value::from("1.2.3")])), "error parsing ip: 1.2.3"),
            (san_ips(&list(vec![Value::from("fe80::1%eth0")])), "error parsing ip: fe80::1%eth0"),
            (san_ips(&list(vec![Value::from("01.2.3.4")])), "error parsing ip: 01.2.3.4"),
            (san_ips(&list(vec![Value::Float(5.0)])), "error parsing ip: 5 is not a string"),
            (
                san_dns(&list(vec![Value::from("a"), Value::Nil])),
                "error processing alternate dns name: <nil> is not a string",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got.unwrap_err(), want);
        }
        assert!(san_ips(&list(vec![Value::from("::ffff:1.2.3.4")])).is_ok());
    }

    #[test]
    fn serials_are_minimal_der_integers() {
        let cases: [(&[u8], &[u8]); 5] = [
            (&[0x00, 0x00, 0x12], &[0x12]),
            (&[0x00, 0x80, 0x01], &[0x00, 0x80, 0x01]),
            (&[0x7f, 0x00], &[0x7f, 0x00]),
            (&[0xff], &[0x00, 0xff]),
            (&[0x00, 0x00], &[0x00]),
        ];
        for (n, want) in cases {
            assert_eq!(der_unsigned(n), want, "{n:?}");
        }
    }

    #[test]
    fn signed_certificates_name_their_issuer_and_its_key() {
        let (ca_key, _) = new_key().unwrap();
        let ca_spec = CertSpec { cn: "my-ca_x", ips: &[], dns: &[], days: 1, ca: true };
        let ca_pem = certificate(&ca_spec, &ca_key, &ca_key, &Issuer::itself("my-ca_x")).unwrap();
        let ca = Issuer::of_cert(&ca_pem).unwrap();
        assert_eq!(ca.name, name("my-ca_x"));
        let ski = ca.key_id.clone().expect("a CA has a subject key identifier");
        assert_eq!(ski.len(), 20);

        let (key, _) = new_key().unwrap();
        let spec = CertSpec { cn: "svc", ips: &[], dns: &[], days: 1, ca: false };
        let leaf = certificate(&spec, &key, &ca_key, &ca).unwrap();
        let leaf_der =
            base64_decode(&leaf.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
                .unwrap();
        let aki = [oid(&[2, 5, 29, 35]), tlv(0x04, &seq(&[tlv(0x80, &ski)]))].concat();
        assert!(leaf_der.windows(aki.len()).any(|w| w == aki.as_slice()));
        assert!(leaf_der.windows(ca.name.len()).any(|w| w == ca.name.as_slice()));
        // A leaf has no subject key identifier, so it names no authority key.
        assert_eq!(Issuer::of_cert(&leaf).unwrap().key_id, None);

        let self_signed = certificate(&spec, &key, &key, &Issuer::itself("svc")).unwrap();
        let der = base64_decode(
            &self_signed.lines().filter(|l| !l.starts_with("-----")).collect::<String>(),
        )
        .unwrap();
        assert!(!der.windows(5).any(|w| w == oid(&[2, 5, 29, 35]).as_slice()));
        assert!(Issuer::of_cert("not a certificate").is_err());
    }
}

/// Keys for the tests of the key reader.
#[cfg(test)]
pub(super) mod tests_support {
    pub(in crate::gotmpl::sprig) fn ecdsa() -> String {
        super::ecdsa_key().expect("an ECDSA key")
    }
    pub(in crate::gotmpl::sprig) fn ed25519() -> String {
        super::ed25519_key().expect("an Ed25519 key")
    }
}
