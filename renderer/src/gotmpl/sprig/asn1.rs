//! Go's `encoding/asn1` `Unmarshal` of the key structures that `x509` and Sprig read, for the values and the exact error texts it gives.
//!
//! Go reads DER into a struct field by field: each field's Go type names the
//! universal tag it expects, an optional field that does not match is left
//! at its zero value, and elements after the last field are ignored. Its
//! errors name what it expected, the tag it met (`%+v` of its internal
//! `tagAndLength`), the field's parameters, the Go type's name and the
//! offset after the tag; Sprig and `x509` pass them on, so a key PEM that
//! holds no key structure fails with that text in Helm.

/// The Go type of a structure field, as `encoding/asn1` matches it.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// `int` (64-bit).
    Int,
    /// `*big.Int`.
    BigInt,
    /// `[]byte`: an OCTET STRING.
    Bytes,
    /// `asn1.ObjectIdentifier`.
    Oid,
    /// `asn1.BitString`.
    BitString,
    /// `asn1.RawValue`: any element.
    Any,
    /// A struct: a SEQUENCE of its members.
    Struct(&'static Structure),
    /// A slice of structs: a SEQUENCE OF them.
    SeqOf(&'static Structure),
}

/// A struct field: its type and its `asn1:"..."` tag options.
pub(super) struct Member {
    kind: Kind,
    optional: bool,
    /// `explicit,tag:N`: the element is wrapped in a context-specific tag N.
    explicit: Option<usize>,
}

/// A Go struct `encoding/asn1` reads as a SEQUENCE.
pub(super) struct Structure {
    name: &'static str,
    members: &'static [Member],
}

const fn plain(kind: Kind) -> Member {
    Member { kind, optional: false, explicit: None }
}

const fn optional(kind: Kind) -> Member {
    Member { kind, optional: true, explicit: None }
}

/// x509's `pkcs1PrivateKey` (RFC 8017 RSAPrivateKey).
pub(super) static PKCS1: Structure = Structure {
    name: "pkcs1PrivateKey",
    members: &[
        plain(Kind::Int),
        plain(Kind::BigInt),
        plain(Kind::Int),
        plain(Kind::BigInt),
        plain(Kind::BigInt),
        plain(Kind::BigInt),
        optional(Kind::BigInt),
        optional(Kind::BigInt),
        optional(Kind::BigInt),
        optional(Kind::SeqOf(&ADDITIONAL_PRIME)),
    ],
};

static ADDITIONAL_PRIME: Structure = Structure {
    name: "pkcs1AdditionalRSAPrime",
    members: &[plain(Kind::BigInt), plain(Kind::BigInt), plain(Kind::BigInt)],
};

/// x509's `ecPrivateKey` (RFC 5915 ECPrivateKey).
pub(super) static EC: Structure = Structure {
    name: "ecPrivateKey",
    members: &[
        plain(Kind::Int),
        plain(Kind::Bytes),
        Member { kind: Kind::Oid, optional: true, explicit: Some(0) },
        Member { kind: Kind::BitString, optional: true, explicit: Some(1) },
    ],
};

/// x509's `pkcs8` (RFC 5208 PrivateKeyInfo without its attributes).
pub(super) static PKCS8: Structure = Structure {
    name: "pkcs8",
    members: &[plain(Kind::Int), plain(Kind::Struct(&ALGORITHM)), plain(Kind::Bytes)],
};

static ALGORITHM: Structure =
    Structure { name: "AlgorithmIdentifier", members: &[plain(Kind::Oid), optional(Kind::Any)] };

/// Sprig's `DSAKeyFormat` (OpenSSL's DSA private key).
pub(super) static DSA: Structure = Structure {
    name: "DSAKeyFormat",
    members: &[
        plain(Kind::Int),
        plain(Kind::BigInt),
        plain(Kind::BigInt),
        plain(Kind::BigInt),
        plain(Kind::BigInt),
        plain(Kind::BigInt),
    ],
};

/// What a field read: the parts of a key the callers look at.
#[derive(Debug, PartialEq)]
pub(super) enum Value<'a> {
    Int(i64),
    /// The content octets of an INTEGER.
    Big(&'a [u8]),
    Bytes(&'a [u8]),
    Oid(Vec<u64>),
    /// The whole element (header and content).
    Any(&'a [u8]),
    Struct(Vec<Value<'a>>),
    /// A BIT STRING (its bits are not kept).
    Other,
    /// A SEQUENCE OF structures: its elements.
    List(Vec<Value<'a>>),
    /// An optional field the DER does not hold.
    Absent,
}

impl Value<'_> {
    /// The `i`th member of a structure.
    pub(super) fn member(&self, i: usize) -> &Self {
        match self {
            Value::Struct(members) => members.get(i).unwrap_or(&Value::Absent),
            _ => &Value::Absent,
        }
    }
}

/// `asn1.Unmarshal(der, &v)` for a `v` of `kind`: the value read and the
/// length of DER it took (Go returns the bytes after it as `rest`), or Go's
/// error text.
pub(super) fn unmarshal(der: &[u8], kind: Kind) -> Result<(Value<'_>, usize), String> {
    field(der, 0, &plain(kind))
}

fn syntax(msg: &str) -> String {
    format!("asn1: syntax error: {msg}")
}

fn structural(msg: &str) -> String {
    format!("asn1: structure error: {msg}")
}

/// Go's internal `tagAndLength`.
struct Head {
    class: u8,
    tag: usize,
    length: usize,
    compound: bool,
}

impl Kind {
    /// Go's `getUniversalType`: whether any element matches, else the
    /// universal tag and constructed bit expected.
    fn universal(&self) -> Option<(usize, bool)> {
        match self {
            Kind::Int | Kind::BigInt => Some((2, false)),
            Kind::BitString => Some((3, false)),
            Kind::Bytes => Some((4, false)),
            Kind::Oid => Some((6, false)),
            Kind::Struct(_) | Kind::SeqOf(_) => Some((16, true)),
            Kind::Any => None,
        }
    }

    /// The Go type's name as `reflect.Type.Name` gives it (empty for
    /// pointer and slice types).
    fn go_name(&self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Oid => "ObjectIdentifier",
            Kind::BitString => "BitString",
            Kind::Any => "RawValue",
            Kind::Struct(s) => s.name,
            Kind::BigInt | Kind::Bytes | Kind::SeqOf(_) => "",
        }
    }
}

/// The `%+v` text of the parameters of a field without `asn1` options,
/// the only kind whose tag mismatch is an error (an optional field is
/// skipped instead).
const PLAIN_PARAMS: &str = "{optional:false explicit:false application:false private:false \
                            defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false \
                            omitEmpty:false}";

/// Go's `parseField`: the field at `start` of `bytes`, and the offset after it.
fn field<'a>(bytes: &'a [u8], start: usize, member: &Member) -> Result<(Value<'a>, usize), String> {
    if start == bytes.len() {
        return if member.optional {
            Ok((Value::Absent, start))
        } else {
            Err(syntax("sequence truncated"))
        };
    }
    let (mut head, mut offset) = tag_and_length(bytes, start)?;
    if let Some(tag) = member.explicit {
        if offset == bytes.len() {
            return Err(structural("explicit tag has no child"));
        }
        if head.class == 2 && head.tag == tag && (head.length == 0 || head.compound) {
            if head.length == 0 {
                return Err(structural("zero length explicit tag was not an asn1.Flag"));
            }
            (head, offset) = tag_and_length(bytes, offset)?;
        } else if member.optional {
            return Ok((Value::Absent, start));
        } else {
            return Err(structural("explicitly tagged member didn't match"));
        }
    }
    if let Some((tag, compound)) = member.kind.universal() {
        if head.class != 0 || head.tag != tag || head.compound != compound {
            if member.optional {
                return Ok((Value::Absent, start));
            }
            return Err(structural(&format!(
                "tags don't match ({tag} vs {{class:{} tag:{} length:{} isCompound:{}}}) {PLAIN_PARAMS} {} @{offset}",
                head.class,
                head.tag,
                head.length,
                head.compound,
                member.kind.go_name()
            )));
        }
    }
    if offset.checked_add(head.length).is_none_or(|end| end > bytes.len()) {
        return Err(syntax("data truncated"));
    }
    let inner = &bytes[offset..offset + head.length];
    offset += head.length;
    let value = match &member.kind {
        Kind::Any => Value::Any(&bytes[start..offset]),
        Kind::Oid => Value::Oid(object_identifier(inner)?),
        Kind::BitString => {
            bit_string(inner)?;
            Value::Other
        }
        Kind::BigInt => {
            check_integer(inner)?;
            Value::Big(inner)
        }
        Kind::Int => {
            check_integer(inner)?;
            if inner.len() > 8 {
                return Err(structural("integer too large"));
            }
            let negative = inner.first().is_some_and(|b| b & 0x80 != 0);
            let init = if negative { -1i64 } else { 0 };
            Value::Int(inner.iter().fold(init, |acc, b| (acc << 8) | i64::from(*b)))
        }
        Kind::Bytes => Value::Bytes(inner),
        Kind::Struct(structure) => {
            let mut values = Vec::with_capacity(structure.members.len());
            let mut at = 0;
            for m in structure.members {
                let (v, next) = field(inner, at, m)?;
                values.push(v);
                at = next;
            }
            Value::Struct(values)
        }
        Kind::SeqOf(structure) => Value::List(sequence_of(inner, structure)?),
    };
    Ok((value, offset))
}

/// Go's `parseSequenceOf` for a slice of structs: every element's head is
/// checked first, then each element is read.
fn sequence_of<'a>(
    bytes: &'a [u8],
    structure: &'static Structure,
) -> Result<Vec<Value<'a>>, String> {
    let mut offset = 0;
    let mut count = 0;
    while offset < bytes.len() {
        let (head, after) = tag_and_length(bytes, offset)?;
        if head.class != 0 || !head.compound || head.tag != 16 {
            return Err(structural("sequence tag mismatch"));
        }
        offset = after
            .checked_add(head.length)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| syntax("truncated sequence"))?;
        count += 1;
    }
    let element = plain(Kind::Struct(structure));
    let mut at = 0;
    let mut elements = Vec::with_capacity(count);
    for _ in 0..count {
        let (value, next) = field(bytes, at, &element)?;
        elements.push(value);
        at = next;
    }
    Ok(elements)
}

/// Go's `parseTagAndLength`.
fn tag_and_length(bytes: &[u8], start: usize) -> Result<(Head, usize), String> {
    let mut offset = start;
    let Some(&b) = bytes.get(offset) else {
        return Err("asn1: internal error in parseTagAndLength".into());
    };
    offset += 1;
    let mut head =
        Head { class: b >> 6, tag: usize::from(b & 0x1f), length: 0, compound: b & 0x20 == 0x20 };
    if head.tag == 0x1f {
        (head.tag, offset) = base128(bytes, offset)?;
        if head.tag < 0x1f {
            return Err(syntax("non-minimal tag"));
        }
    }
    let Some(&b) = bytes.get(offset) else {
        return Err(syntax("truncated tag or length"));
    };
    offset += 1;
    if b & 0x80 == 0 {
        head.length = usize::from(b & 0x7f);
        return Ok((head, offset));
    }
    let count = usize::from(b & 0x7f);
    if count == 0 {
        return Err(syntax("indefinite length found (not DER)"));
    }
    for _ in 0..count {
        let Some(&b) = bytes.get(offset) else {
            return Err(syntax("truncated tag or length"));
        };
        offset += 1;
        if head.length >= 1 << 23 {
            return Err(structural("length too large"));
        }
        head.length = (head.length << 8) | usize::from(b);
        if head.length == 0 {
            return Err(structural("superfluous leading zeros in length"));
        }
    }
    if head.length < 0x80 {
        return Err(structural("non-minimal length"));
    }
    Ok((head, offset))
}

/// Go's `parseBase128Int`: a tag number or an OID arc.
fn base128(bytes: &[u8], start: usize) -> Result<(usize, usize), String> {
    let mut offset = start;
    let mut value: i64 = 0;
    let mut shifted = 0;
    while let Some(&b) = bytes.get(offset) {
        if shifted == 5 {
            return Err(structural("base 128 integer too large"));
        }
        value <<= 7;
        if shifted == 0 && b == 0x80 {
            return Err(syntax("integer is not minimally encoded"));
        }
        offset += 1;
        value |= i64::from(b & 0x7f);
        if b & 0x80 == 0 {
            return match usize::try_from(value) {
                Ok(v) if value <= i64::from(i32::MAX) => Ok((v, offset)),
                _ => Err(structural("base 128 integer too large")),
            };
        }
        shifted += 1;
    }
    Err(syntax("truncated base 128 integer"))
}

/// Go's `checkInteger`: DER integers are non-empty and minimally encoded.
pub(super) fn check_integer(bytes: &[u8]) -> Result<(), String> {
    match bytes {
        [] => Err(structural("empty integer")),
        [0, b, ..] if b & 0x80 == 0 => Err(structural("integer not minimally-encoded")),
        [0xff, b, ..] if b & 0x80 == 0x80 => Err(structural("integer not minimally-encoded")),
        _ => Ok(()),
    }
}

/// Go's `parseObjectIdentifier`: the arcs, the first octet holding two.
pub(super) fn object_identifier(bytes: &[u8]) -> Result<Vec<u64>, String> {
    if bytes.is_empty() {
        return Err(syntax("zero length OBJECT IDENTIFIER"));
    }
    let (first, mut offset) = base128(bytes, 0)?;
    let first = first as u64;
    let mut arcs = if first < 80 { vec![first / 40, first % 40] } else { vec![2, first - 80] };
    while offset < bytes.len() {
        let (arc, next) = base128(bytes, offset)?;
        arcs.push(arc as u64);
        offset = next;
    }
    Ok(arcs)
}

/// Go's `parseBitString` checks: a padding count of at most 7 whose bits are zero.
pub(super) fn bit_string(bytes: &[u8]) -> Result<(), String> {
    let Some((&padding, rest)) = bytes.split_first() else {
        return Err(syntax("zero length BIT STRING"));
    };
    let last = rest.last().copied().unwrap_or(padding);
    let unused_bits_set = padding <= 7 && last & ((1u8 << padding) - 1) != 0;
    if padding > 7 || (rest.is_empty() && padding > 0) || unused_bits_set {
        return Err(syntax("invalid padding bits in BIT STRING"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{DSA, EC, Kind, PKCS1, PKCS8, Value, unmarshal};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// Texts of Go's encoding/asn1, checked with the helm-template oracle
    /// (Sprig's key parsing passes them on).
    #[test]
    fn errors_are_go_texts() {
        let params = "{optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false}";
        let cases: &[(&str, &super::Structure, String)] = &[
            ("", &PKCS1, "asn1: syntax error: sequence truncated".into()),
            ("3080020100", &PKCS1, "asn1: syntax error: indefinite length found (not DER)".into()),
            ("3081030201", &PKCS1, "asn1: structure error: non-minimal length".into()),
            ("3010020100", &EC, "asn1: syntax error: data truncated".into()),
            ("300402020001", &DSA, "asn1: structure error: integer not minimally-encoded".into()),
            (
                "68656c6c6f20776f726c64",
                &PKCS1,
                format!(
                    "asn1: structure error: tags don't match (16 vs {{class:1 tag:8 length:101 isCompound:true}}) {params} pkcs1PrivateKey @2"
                ),
            ),
            (
                "1f8101020100",
                &PKCS8,
                format!(
                    "asn1: structure error: tags don't match (16 vs {{class:0 tag:129 length:2 isCompound:false}}) {params} pkcs8 @4"
                ),
            ),
            (
                "30030101ff",
                &EC,
                format!(
                    "asn1: structure error: tags don't match (2 vs {{class:0 tag:1 length:1 isCompound:false}}) {params} int @2"
                ),
            ),
            (
                "3006020100020100",
                &EC,
                format!(
                    "asn1: structure error: tags don't match (4 vs {{class:0 tag:2 length:1 isCompound:false}}) {params}  @5"
                ),
            ),
            (
                "3006020100020100",
                &PKCS8,
                format!(
                    "asn1: structure error: tags don't match (16 vs {{class:0 tag:2 length:1 isCompound:false}}) {params} AlgorithmIdentifier @5"
                ),
            ),
        ];
        for (der, structure, want) in cases {
            let got = unmarshal(&hex(der), Kind::Struct(structure)).err();
            assert_eq!(got.as_deref(), Some(want.as_str()), "{der}");
        }
    }

    #[test]
    fn values_are_read_and_extra_elements_ignored() {
        let der = hex("300d020100300506032a0304040100");
        let (v, used) = unmarshal(&der, Kind::Struct(&PKCS8)).unwrap();
        assert_eq!(used, der.len());
        assert_eq!(v.member(0), &Value::Int(0));
        assert_eq!(v.member(1).member(0), &Value::Oid(vec![1, 2, 3, 4]));
        assert_eq!(v.member(1).member(1), &Value::Absent);
        // An EC key with a curve and trailing elements in its SEQUENCE.
        let der = hex("301302010104020102a00706052b81040021020100");
        let (v, _) = unmarshal(&der, Kind::Struct(&EC)).unwrap();
        assert_eq!(v.member(2), &Value::Oid(vec![1, 3, 132, 0, 33]));
    }
}
