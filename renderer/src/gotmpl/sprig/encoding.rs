//! Sprig's encoding and checksum functions: b64enc/b64dec, b32enc/b32dec, sha1sum, sha256sum, sha512sum, adler32sum.

use std::borrow::Cow;

use sha2::Digest;

use super::{def, s};
use crate::gotmpl::{Funcs, Param};

use Param::String as Str;

pub(super) const B64: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Go's `base64.StdEncoding.EncodeToString`: the standard alphabet, padded.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    encode(bytes, B64, 6)
}

/// Go's `base64.StdEncoding.DecodeString`, which skips line breaks (`\r`,
/// `\n`) and nothing else; `None` when the text is not base64.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    decode(text, B64, 6).ok()
}

/// Base64 as yaml.v3 writes `!!binary` data (and kustomize, which copied
/// it, generated Secret data): one line when shorter than 70 characters,
/// else lines of 70, each ending in a newline.
pub(crate) fn base64_lines(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let enc = base64_encode(bytes);
    if enc.len() < LINE {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / LINE + 1);
    let mut rest = enc.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(LINE.min(rest.len()));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out
}

/// The first of the 256 code points (U+10FF00 + byte, the end of a private
/// use plane) that carry bytes which are not UTF-8 inside a Rust string.
const RAW_BYTE_BASE: u32 = 0x10_FF00;

/// A Go string of arbitrary bytes (a binary file from `.Files.Get`, a
/// `b64dec` result) as a Rust string: UTF-8 runs as they are, every other
/// byte as one carrier code point, so [`go_bytes`] gets the bytes back and
/// `b64enc`, `sha256sum` and friends see what Go sees. A real character of
/// the carriers' own range (U+10FF00..U+10FFFF) is carried as its four
/// bytes, so that it does not read as a byte; [`go_runes`] reads it back.
pub fn from_go_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        push_carried(&mut out, chunk.valid());
        out.extend(chunk.invalid().iter().filter_map(|b| carrier(*b)));
    }
    out
}

/// Text read as Go reads it (a values file, Chart.yaml): `None` when it
/// holds no character of the carriers' range, else the text with each such
/// character carried as its bytes (see [`from_go_bytes`]).
pub fn carried_text(text: &str) -> Option<String> {
    if !has_carrier_range(text) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 12);
    push_carried(&mut out, text);
    Some(out)
}

/// Whether `text` holds a character of U+10FF00..U+10FFFF (a carrier, or a
/// real character of that range). Every one's UTF-8 starts with 0xF4 0x8F
/// 0xBC..=0xBF, so the search is on bytes.
fn has_carrier_range(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| w[0] == 0xF4 && w[1] == 0x8F && w[2] >= 0xBC)
}

/// Appends valid text, each character of the carriers' range as the
/// carriers of its four UTF-8 bytes.
fn push_carried(out: &mut String, text: &str) {
    if !has_carrier_range(text) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        push_char(out, c);
    }
}

/// Appends a character as a Go string holds it: one of the carriers' range
/// as its carried bytes (see [`from_go_bytes`]).
pub fn push_char(out: &mut String, c: char) {
    if is_raw_byte(c) {
        out.extend(c.encode_utf8(&mut [0; 4]).bytes().filter_map(carrier));
    } else {
        out.push(c);
    }
}

/// The code point that carries byte `b`.
fn carrier(b: u8) -> Option<char> {
    char::from_u32(RAW_BYTE_BASE + u32::from(b))
}

/// One character of a Go string as Go's decoders see it (`for range`,
/// `strconv.Quote`, `encoding/json`): a code point, or a byte that is not
/// UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoRune {
    /// A code point.
    Char(char),
    /// A byte that is not part of valid UTF-8.
    Byte(u8),
}

/// The characters of a string as Go reads its bytes: carried bytes (see
/// [`from_go_bytes`]) that make UTF-8 together, as a character of the
/// carriers' range is carried, are that character; the others are bytes.
pub fn go_runes(text: &str) -> GoRunes<'_> {
    GoRunes { chars: text.chars(), pending: Vec::new() }
}

/// The iterator of [`go_runes`].
#[derive(Debug)]
pub struct GoRunes<'a> {
    chars: std::str::Chars<'a>,
    /// The rest of a run of carried bytes, decoded, last first.
    pending: Vec<GoRune>,
}

impl Iterator for GoRunes<'_> {
    type Item = GoRune;

    fn next(&mut self) -> Option<GoRune> {
        if let Some(r) = self.pending.pop() {
            return Some(r);
        }
        let c = self.chars.next()?;
        let Some(first) = raw_byte(c) else { return Some(GoRune::Char(c)) };
        // The whole run of carried bytes, decoded as Go decodes bytes.
        let mut bytes = vec![first];
        let mut rest = self.chars.clone();
        while let Some(b) = rest.next().and_then(raw_byte) {
            bytes.push(b);
            self.chars = rest.clone();
        }
        for chunk in bytes.utf8_chunks() {
            self.pending.extend(chunk.valid().chars().map(GoRune::Char));
            self.pending.extend(chunk.invalid().iter().map(|b| GoRune::Byte(*b)));
        }
        self.pending.reverse();
        self.pending.pop()
    }
}

/// The characters of a Go string as Go's `for range` reads them: a
/// character carried as its bytes (see [`from_go_bytes`]) is that character,
/// and a byte that is not UTF-8 is U+FFFD. Write them back with
/// [`push_char`].
pub fn go_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    go_runes(text).map(|r| match r {
        GoRune::Char(c) => c,
        GoRune::Byte(_) => char::REPLACEMENT_CHARACTER,
    })
}

/// `f` applied to `text` with every character of the carriers' own range
/// that it carries (see [`from_go_bytes`]) standing in as a character of
/// another private-use block that `text` does not hold, and carried again in
/// what `f` returns. For functions that read carriers as bytes that are not
/// UTF-8 and treat every private-use character alike (case conversions).
pub fn with_real_chars_apart(text: &str, f: impl Fn(&str) -> String) -> String {
    let carries_char = has_carrier_range(text)
        && go_runes(text).any(|r| matches!(r, GoRune::Char(c) if is_raw_byte(c)));
    if !carries_char {
        return f(text);
    }
    // Blocks of 256 characters in plane 15 (private use, four UTF-8 bytes).
    let free = (0xF_0000u32..0xF_FF00)
        .step_by(256)
        .find(|base| !text.chars().any(|c| (*base..base + 256).contains(&(c as u32))));
    let Some(base) = free else { return f(text) };
    let mut apart = String::with_capacity(text.len());
    for r in go_runes(text) {
        match r {
            GoRune::Char(c) if is_raw_byte(c) => {
                apart.extend(char::from_u32(base + (c as u32 - RAW_BYTE_BASE)));
            }
            GoRune::Char(c) => apart.push(c),
            GoRune::Byte(b) => apart.extend(carrier(b)),
        }
    }
    let mut out = String::with_capacity(text.len());
    for c in f(&apart).chars() {
        match (c as u32).checked_sub(base).filter(|d| *d < 256) {
            Some(d) => out.extend(char::from_u32(RAW_BYTE_BASE + d).map(|real| {
                let mut carried = String::new();
                push_char(&mut carried, real);
                carried
            })),
            None => out.push(c),
        }
    }
    out
}

/// Bytes as Go's `encoding/json` coerces them to UTF-8: every byte that is
/// not part of valid UTF-8 becomes one U+FFFD (what `toJson`, `toYaml` and
/// `.Files.AsConfig` print for a binary file).
pub fn go_lossy(bytes: &[u8]) -> String {
    decode_bytes(bytes, |_| Some(char::REPLACEMENT_CHARACTER))
}

/// A string as `encoding/json` writes it: the bytes it carries that are not
/// UTF-8 (see [`from_go_bytes`]) each become U+FFFD; a carried character
/// stays carried.
pub fn json_text(text: &str) -> Cow<'_, str> {
    if !go_runes(text).any(|r| matches!(r, GoRune::Byte(_))) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for r in go_runes(text) {
        match r {
            GoRune::Byte(_) => out.push('\u{FFFD}'),
            GoRune::Char(c) => push_char(&mut out, c),
        }
    }
    Cow::Owned(out)
}

/// Whether a string carries a byte that is not part of valid UTF-8 (see
/// [`go_runes`]).
pub fn has_broken_utf8(text: &str) -> bool {
    text.as_bytes().contains(&0xF4) && go_runes(text).any(|r| matches!(r, GoRune::Byte(_)))
}

/// A string whose carried bytes all make UTF-8 (a carried character of the
/// carriers' range), as plain text: what Go writes out.
pub fn plain_text(text: &str) -> Cow<'_, str> {
    if !text.as_bytes().contains(&0xF4) || !text.chars().any(is_raw_byte) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(go_lossy(&go_bytes(text)))
}

/// Whether `c` carries a byte that is not UTF-8 (see [`from_go_bytes`]).
pub fn is_raw_byte(c: char) -> bool {
    raw_byte(c).is_some()
}

/// The byte `c` carries, when it carries one that is not UTF-8.
pub fn raw_byte(c: char) -> Option<u8> {
    (c as u32).checked_sub(RAW_BYTE_BASE).and_then(|b| u8::try_from(b).ok())
}

fn decode_bytes(bytes: &[u8], invalid: impl Fn(u8) -> Option<char>) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().filter_map(|b| invalid(*b)));
    }
    out
}

/// A string whose carried bytes (see [`from_go_bytes`]) may have come
/// together into UTF-8 (`print "\xc3" "\xa9"` is `é` in Go), carried anew;
/// `None` when it carries no byte. The first test is a byte search, so
/// strings without carried bytes cost little.
pub fn rejoin_bytes(text: &str) -> Option<String> {
    // Every carrier code point's UTF-8 starts with 0xF4.
    if !text.as_bytes().contains(&0xF4) || !text.chars().any(is_raw_byte) {
        return None;
    }
    Some(from_go_bytes(&go_bytes(text)))
}

/// The bytes a string stands for: the inverse of [`from_go_bytes`].
pub fn go_bytes(text: &str) -> Cow<'_, [u8]> {
    let carrier = is_raw_byte;
    if !text.chars().any(carrier) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if carrier(c) {
            out.push((c as u32 - RAW_BYTE_BASE) as u8);
        } else {
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
    Cow::Owned(out)
}

/// Lower-case hex of a digest, as Sprig prints checksums.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn register(f: &mut Funcs) {
    def(f, "b64enc", &[Str], None, |a| Ok(encode(&go_bytes(s(&a[0])), B64, 6).into()));
    def(f, "b64dec", &[Str], None, |a| Ok(text(decode(s(&a[0]), B64, 6)).into()));
    def(f, "b32enc", &[Str], None, |a| Ok(encode(&go_bytes(s(&a[0])), B32, 5).into()));
    def(f, "b32dec", &[Str], None, |a| Ok(text(decode(s(&a[0]), B32, 5)).into()));
    def(
        f,
        "sha256sum",
        &[Str],
        None,
        |a| Ok(hex(&sha2::Sha256::digest(go_bytes(s(&a[0])))).into()),
    );
    // Sprig 3.3, which Helm 4 ships, adds sha512sum.
    def(
        f,
        "sha512sum",
        &[Str],
        None,
        |a| Ok(hex(&sha2::Sha512::digest(go_bytes(s(&a[0])))).into()),
    );
    def(f, "sha1sum", &[Str], None, |a| Ok(hex(&sha1(&go_bytes(s(&a[0])))).into()));
    def(f, "adler32sum", &[Str], None, |a| {
        let (mut x, mut y) = (1u32, 0u32);
        for &b in go_bytes(s(&a[0])).iter() {
            x = (x + u32::from(b)) % 65521;
            y = (y + x) % 65521;
        }
        Ok(((y << 16) | x).to_string().into())
    });
}

/// Decoded bytes as a string, or Go's error text, which Sprig returns in its place.
fn text(r: Result<Vec<u8>, String>) -> String {
    match r {
        Ok(bytes) => from_go_bytes(&bytes),
        Err(e) => e,
    }
}

/// Standard padded base64 (`bits` = 6) or base32 (`bits` = 5) encoding.
pub(super) fn encode(data: &[u8], alphabet: &[u8], bits: u32) -> String {
    let mut out = String::new();
    let (mut acc, mut n) = (0u64, 0u32);
    for &b in data {
        acc = (acc << 8) | u64::from(b);
        n += 8;
        while n >= bits {
            n -= bits;
            out.push(alphabet[((acc >> n) & ((1 << bits) - 1)) as usize] as char);
        }
    }
    if n > 0 {
        out.push(alphabet[((acc << (bits - n)) & ((1 << bits) - 1)) as usize] as char);
    }
    let block = if bits == 6 { 4 } else { 8 };
    while !out.len().is_multiple_of(block) {
        out.push('=');
    }
    out
}

/// Go's padded `StdEncoding` decoding of base64 (`bits` 6) or base32 (`bits`
/// 5); errors read like Go's `illegal base64 data at input byte N`, with the
/// offset Go's decoder reports.
pub(super) fn decode(text: &str, alphabet: &[u8], bits: u32) -> Result<Vec<u8>, String> {
    let mut map = [0xffu8; 256];
    for (i, c) in alphabet.iter().enumerate() {
        map[usize::from(*c)] = i as u8;
    }
    if bits == 6 {
        decode64(text.as_bytes(), &map)
            .map_err(|i| format!("illegal base64 data at input byte {i}"))
    } else {
        decode32(text.as_bytes(), &map)
            .map_err(|i| format!("illegal base32 data at input byte {i}"))
    }
}

/// Packs the `n` symbols of a quantum (`bits` bits each) into bytes:
/// `n * bits / 8` of them, as Go keeps of a short final quantum.
fn pack(out: &mut Vec<u8>, symbols: &[u8], bits: u32) {
    let mut acc = 0u64;
    for s in symbols {
        acc = (acc << bits) | u64::from(*s);
    }
    let total = symbols.len() as u32 * bits;
    for k in 0..total / 8 {
        out.push((acc >> (total - 8 * (k + 1))) as u8);
    }
}

/// Go's `base64` `decodeQuantum` loop: line breaks are skipped anywhere, the
/// error offset is where Go's decoder stops.
fn decode64(src: &[u8], map: &[u8; 256]) -> Result<Vec<u8>, usize> {
    let is_break = |c: u8| c == b'\n' || c == b'\r';
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        let mut buf = [0u8; 4];
        let mut j = 0;
        let mut end = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if map[usize::from(c)] != 0xff {
                buf[j] = map[usize::from(c)];
                j += 1;
                continue;
            }
            if is_break(c) {
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                // A second '=' must follow, line breaks aside.
                while si < src.len() && is_break(src[si]) {
                    si += 1;
                }
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
            }
            while si < src.len() && is_break(src[si]) {
                si += 1;
            }
            if si < src.len() {
                return Err(si);
            }
            end = true;
            break;
        }
        pack(&mut out, &buf[..j], 6);
        if end {
            break;
        }
    }
    Ok(out)
}

/// Go's `base32` decoding: line breaks are removed first, then quanta of 8
/// are read; the text after a padded quantum is ignored, as Go ignores it.
fn decode32(text: &[u8], map: &[u8; 256]) -> Result<Vec<u8>, usize> {
    let src: Vec<u8> = text.iter().copied().filter(|c| *c != b'\n' && *c != b'\r').collect();
    let olen = src.len();
    let mut out = Vec::with_capacity(olen / 8 * 5);
    let mut rest = &src[..];
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut buf = [0u8; 8];
        let mut j = 0;
        while j < 8 {
            let Some((&c, tail)) = rest.split_first() else {
                return Err(olen - j);
            };
            rest = tail;
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return Err(olen);
                }
                for k in 0..7 - j {
                    if rest.len() > k && rest[k] != b'=' {
                        return Err(olen - rest.len() + k - 1);
                    }
                }
                end = true;
                // 1, 3 and 6 symbols hold no whole byte.
                if matches!(j, 1 | 3 | 6) {
                    return Err(olen - rest.len() - 1);
                }
                break;
            }
            buf[j] = map[usize::from(c)];
            if buf[j] == 0xff {
                return Err(olen - rest.len() - 1);
            }
            j += 1;
        }
        pack(&mut out, &buf[..j], 5);
    }
    Ok(out)
}

/// SHA-1 (FIPS 180-4), which Sprig's `sha1sum` prints in hex.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (t, word) in block.chunks(4).enumerate() {
            w[t] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for t in 16..80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (t, wt) in w.iter().enumerate() {
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp =
                a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wt);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real character of the carriers' range is carried as its four bytes
    /// and reads back as that character; a lone byte stays a byte.
    #[test]
    fn carriers_range_characters_are_carried() {
        let go = "a\u{10FFFF}\u{10FF41}".as_bytes().to_vec();
        let text = from_go_bytes(&go);
        assert_eq!(text.chars().count(), 1 + 4 + 4);
        assert_eq!(go_bytes(&text), go.as_slice());
        let runes: Vec<GoRune> = go_runes(&text).collect();
        let want = ['a', '\u{10FFFF}', '\u{10FF41}'].map(GoRune::Char);
        assert_eq!(runes, want);
        assert_eq!(plain_text(&text), "a\u{10FFFF}\u{10FF41}");
        assert_eq!(carried_text("a\u{10FFFF}\u{10FF41}").as_deref(), Some(text.as_str()));
        assert_eq!(carried_text("plain"), None);
        assert!(!has_broken_utf8(&text));
        let broken = from_go_bytes(b"\xff\xf4\x8f\xbf\xbfz\xc3");
        let runes: Vec<GoRune> = go_runes(&broken).collect();
        let want =
            [GoRune::Byte(0xFF), GoRune::Char('\u{10FFFF}'), GoRune::Char('z'), GoRune::Byte(0xC3)];
        assert_eq!(runes, want);
        assert!(has_broken_utf8(&broken));
        assert_eq!(json_text(&broken), format!("\u{FFFD}{}z\u{FFFD}", &text[1..17]));
        assert_eq!(crate::gotmpl::fmt::quote(&broken), "\"\\xff\\U0010ffffz\\xc3\"");
    }
}
