//! The checks of Go's `x509.ParseCertificate` that decide its error text for a
//! DER input that is not a certificate, in Go's order (crypto/x509 parser.go,
//! which reads the DER with `cryptobyte`): the certificate and TBS sequences,
//! version, serial number, the inner and outer signature algorithms, issuer,
//! validity, subject, subject public key info, and no trailing data.
//!
//! Names are checked down to their string values, extensions down to their
//! fields; times, the public key and what an extension holds only by their
//! element tags, so a certificate malformed inside those passes here where Go
//! names the inner fault.

/// One DER element as Go's `cryptobyte` reads it: a low tag number and a definite
/// length in the fewest octets; `(tag, content, rest)`.
pub(super) fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first & 0x80 == 0 {
        (usize::from(first), rest)
    } else {
        let (bytes, rest) = rest.split_at_checked(usize::from(first & 0x7f))?;
        if bytes.is_empty() || bytes.len() > 4 || bytes[0] == 0 {
            return None;
        }
        let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return None;
        }
        (len, rest)
    };
    let (content, rest) = rest.split_at_checked(len)?;
    Some((tag, content, rest))
}

/// A reader over DER elements, as a `cryptobyte.String`.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// The content of the next element if its tag is `tag`.
    fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (t, content, rest) = element(self.0)?;
        if t != tag {
            return None;
        }
        self.0 = rest;
        Some(content)
    }

    /// The whole next element (header and content) if its tag is `tag`.
    fn read_element(&mut self, tag: u8) -> Option<&'a [u8]> {
        let before = self.0;
        self.read(tag)?;
        Some(&before[..before.len() - self.0.len()])
    }

    /// The next element of any tag.
    fn read_any(&mut self) -> Option<&'a [u8]> {
        let (_, content, rest) = element(self.0)?;
        self.0 = rest;
        Some(content)
    }

    /// Whether the next element, if it has tag `tag`, reads; absent is fine.
    fn skip_optional(&mut self, tag: u8) -> bool {
        if self.0.first() != Some(&tag) {
            return true;
        }
        self.read(tag).is_some()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OBJECT_IDENTIFIER: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

// cryptobyte's rules for INTEGER, OBJECT IDENTIFIER and BIT STRING content
// are encoding/asn1's (minimal integers; base-128 arcs of at most 5 octets,
// below 2^31, none starting with 0x80; at most 7 zero padding bits).

fn integer(bytes: &[u8]) -> bool {
    super::asn1::check_integer(bytes).is_ok()
}

fn object_identifier(bytes: &[u8]) -> bool {
    super::asn1::object_identifier(bytes).is_ok()
}

fn bit_string(bytes: &[u8]) -> bool {
    super::asn1::bit_string(bytes).is_ok()
}

/// Go's `parseAI`: an OID, then optional parameters of any tag.
fn algorithm(seq: &[u8]) -> Result<(), &'static str> {
    let mut r = Reader(seq);
    if !r.read(OBJECT_IDENTIFIER).is_some_and(object_identifier) {
        return Err("x509: malformed OID");
    }
    if !r.is_empty() && r.read_any().is_none() {
        return Err("x509: malformed parameters");
    }
    Ok(())
}

/// Go's `parseName` down to each attribute's type and value element.
fn name(seq: &[u8]) -> Result<(), &'static str> {
    let invalid = "x509: invalid RDNSequence";
    let mut rdns = Reader(Reader(seq).read(SEQUENCE).ok_or(invalid)?);
    while !rdns.is_empty() {
        let mut set = Reader(rdns.read(SET).ok_or(invalid)?);
        while !set.is_empty() {
            let mut atav =
                Reader(set.read(SEQUENCE).ok_or("x509: invalid RDNSequence: invalid attribute")?);
            if !atav.read(OBJECT_IDENTIFIER).is_some_and(object_identifier) {
                return Err("x509: invalid RDNSequence: invalid attribute type");
            }
            let (tag, value, _) = element(atav.0).ok_or(
                "x509: invalid RDNSequence: invalid attribute value: invalid ASN.1 element",
            )?;
            string_value(tag, value)?;
        }
    }
    Ok(())
}

/// Go's `parseASN1String` checks of an attribute value; a tag that is not
/// one of its string types passes.
fn string_value(tag: u8, value: &[u8]) -> Result<(), &'static str> {
    let printable = |b: &u8| b.is_ascii_alphanumeric() || b" '()+,-./:=?*&".contains(b);
    let ok = match tag {
        0x13 => value.iter().all(printable),
        0x0c => std::str::from_utf8(value).is_ok(),
        0x1e => value.len().is_multiple_of(2),
        0x16 => value.is_ascii(),
        0x12 => value.iter().all(|b| b.is_ascii_digit() || *b == b' '),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(match tag {
        0x13 => "x509: invalid RDNSequence: invalid attribute value: invalid PrintableString",
        0x0c => "x509: invalid RDNSequence: invalid attribute value: invalid UTF-8 string",
        0x1e => "x509: invalid RDNSequence: invalid attribute value: invalid BMPString",
        0x16 => "x509: invalid RDNSequence: invalid attribute value: invalid IA5String",
        _ => "x509: invalid RDNSequence: invalid attribute value: invalid NumericString",
    })
}

/// Go's reading of the extensions: a SEQUENCE of SEQUENCEs of an OID, an
/// optional BOOLEAN and an OCTET STRING (what each extension holds is not
/// checked here).
fn extensions(explicit: &[u8]) -> Result<(), &'static str> {
    let mut list = Reader(Reader(explicit).read(SEQUENCE).ok_or("x509: malformed extensions")?);
    while !list.is_empty() {
        let mut ext = Reader(list.read(SEQUENCE).ok_or("x509: malformed extension")?);
        if !ext.read(OBJECT_IDENTIFIER).is_some_and(object_identifier) {
            return Err("x509: malformed extension OID field");
        }
        if ext.0.first() == Some(&BOOLEAN)
            && !ext.read(BOOLEAN).is_some_and(|b| matches!(b, [0x00] | [0xff]))
        {
            return Err("x509: malformed extension critical field");
        }
        ext.read(OCTET_STRING).ok_or("x509: malformed extension value field")?;
    }
    Ok(())
}

/// Go's `parseValidity`, by the tags of its two times.
fn validity(seq: &[u8]) -> Result<(), &'static str> {
    let mut r = Reader(seq);
    for _ in 0..2 {
        match r.0.first() {
            Some(&UTC_TIME) => r.read(UTC_TIME).map(|_| ()).ok_or("x509: malformed UTCTime")?,
            Some(&GENERALIZED_TIME) => {
                r.read(GENERALIZED_TIME).map(|_| ()).ok_or("x509: malformed GeneralizedTime")?
            }
            _ => return Err("x509: unsupported time format"),
        }
    }
    Ok(())
}

/// The error Go's `x509.ParseCertificate` reports first for `der`, as far
/// as this module checks (see the module's documentation).
pub(super) fn check(der: &[u8]) -> Result<(), &'static str> {
    let malformed = "x509: malformed certificate";
    let (tag, cert, trailing) = element(der).ok_or(malformed)?;
    if tag != SEQUENCE {
        return Err(malformed);
    }
    let mut input = Reader(cert);
    let mut tbs = Reader(input.read(SEQUENCE).ok_or("x509: malformed tbs certificate")?);
    let mut version = 0i64;
    if tbs.0.first() == Some(&0xa0) {
        let mut explicit = Reader(tbs.read(0xa0).ok_or("x509: malformed version")?);
        let v = explicit.read(INTEGER).filter(|v| integer(v) && v.len() <= 8);
        let (Some(v), true) = (v, explicit.is_empty()) else {
            return Err("x509: malformed version");
        };
        version = v
            .iter()
            .fold(if v[0] & 0x80 != 0 { -1 } else { 0 }, |acc, b| (acc << 8) | i64::from(*b));
    }
    if version < 0 {
        return Err("x509: malformed version");
    }
    if version + 1 > 3 {
        return Err("x509: invalid version");
    }
    let serial = tbs.read(INTEGER).filter(|s| integer(s)).ok_or("x509: malformed serial number")?;
    if serial[0] & 0x80 != 0 {
        return Err("x509: negative serial number");
    }
    let inner = tbs.read(SEQUENCE).ok_or("x509: malformed signature algorithm identifier")?;
    let outer = input.read(SEQUENCE).ok_or("x509: malformed algorithm identifier")?;
    if inner != outer {
        return Err("x509: inner and outer signature algorithm identifiers don't match");
    }
    algorithm(inner)?;
    name(tbs.read_element(SEQUENCE).ok_or("x509: malformed issuer")?)?;
    validity(tbs.read(SEQUENCE).ok_or("x509: malformed validity")?)?;
    // Go names the subject "issuer" in this message.
    name(tbs.read_element(SEQUENCE).ok_or("x509: malformed issuer")?)?;
    let mut spki = Reader(tbs.read(SEQUENCE).ok_or("x509: malformed spki")?);
    let key_algorithm =
        spki.read(SEQUENCE).ok_or("x509: malformed public key algorithm identifier")?;
    algorithm(key_algorithm)?;
    if !spki.read(BIT_STRING).is_some_and(bit_string) {
        return Err("x509: malformed subjectPublicKey");
    }
    if version > 0 {
        if !tbs.skip_optional(0x81) {
            return Err("x509: malformed issuerUniqueID");
        }
        if !tbs.skip_optional(0x82) {
            return Err("x509: malformed subjectUniqueID");
        }
        if version == 2 && tbs.0.first() == Some(&0xa3) {
            extensions(tbs.read(0xa3).ok_or("x509: malformed extensions")?)?;
        }
    }
    if !input.read(BIT_STRING).is_some_and(bit_string) {
        return Err("x509: malformed signature");
    }
    if !trailing.is_empty() {
        return Err("x509: trailing data");
    }
    Ok(())
}
