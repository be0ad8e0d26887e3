//! Sprig's password and cipher functions: bcrypt, htpasswd, derivePassword, encryptAES, decryptAES.
//!
//! bcrypt and htpasswd hash with a random salt and encryptAES with a random
//! IV, so their output differs between renders as in Helm; derivePassword
//! and decryptAES are deterministic.

use aes::Aes256;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use hmac::Mac;
use rand_core::{OsRng, RngCore};

use super::encoding::{B64, decode, encode};
use super::{def, s};
use crate::gotmpl::{Funcs, Param};

use Param::{String as Str, Uint32};

/// Go's `bcrypt.DefaultCost`.
const BCRYPT_COST: u32 = 10;
const BLOCK: usize = 16;

pub(super) fn register(f: &mut Funcs) {
    def(f, "bcrypt", &[Str], None, |a| Ok(bcrypt(s(&a[0])).into()));
    def(f, "htpasswd", &[Str, Str], None, |a| {
        let user = s(&a[0]);
        if user.contains(':') {
            return Ok(format!("invalid username: {user}").into());
        }
        Ok(format!("{user}:{}", bcrypt(s(&a[1]))).into())
    });
    // The counter is a Go uint32: integers outside it are refused.
    def(f, "derivePassword", &[Uint32, Str, Str, Str, Str], None, |a| {
        let counter = a[0].as_integer().and_then(|c| u32::try_from(c).ok()).unwrap_or_default();
        Ok(derive_password(counter, s(&a[1]), s(&a[2]), s(&a[3]), s(&a[4])).into())
    });
    def(f, "encryptAES", &[Str, Str], None, |a| encrypt_aes(s(&a[0]), s(&a[1])).map(Into::into));
    def(f, "decryptAES", &[Str, Str], None, |a| decrypt_aes(s(&a[0]), s(&a[1])).map(Into::into));
}

/// A `$2a$` bcrypt hash at Go's default cost, or Sprig's message in its place.
fn bcrypt(password: &str) -> String {
    // Go's bcrypt refuses passwords longer than 72 bytes instead of truncating them.
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .to_string();
    }
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    match bcrypt::hash_with_salt(password, BCRYPT_COST, salt) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

/// Character classes of the Master Password algorithm's templates.
fn template_chars(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// The templates of one password type.
fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

/// The Master Password algorithm (scrypt N=32768, r=8, p=2 over the user,
/// then HMAC-SHA256 over the site and counter), as Sprig implements it.
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    const SEED: &[u8] = b"com.lyndir.masterpassword";
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = SEED.to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64).expect("constant scrypt parameters are valid");
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut message = SEED.to_vec();
    message.extend_from_slice(&(site.len() as u32).to_be_bytes());
    message.extend_from_slice(site.as_bytes());
    message.extend_from_slice(&counter.to_be_bytes());
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&key)
        .expect("HMAC takes keys of any length");
    mac.update(&message);
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()];
    template
        .bytes()
        .enumerate()
        .map(|(i, class)| {
            let chars = template_chars(class);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

/// Sprig's AES key: the password's first 32 bytes, zero-padded.
fn aes_key(password: &str) -> Aes256 {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    Aes256::new(GenericArray::from_slice(&key))
}

/// AES-256-CBC with PKCS#7 padding and a random IV, base64 of IV and ciphertext.
fn encrypt_aes(password: &str, plaintext: &str) -> Result<String, String> {
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let cipher = aes_key(password);
    let mut content = plaintext.as_bytes().to_vec();
    let pad = BLOCK - content.len() % BLOCK;
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = vec![0u8; BLOCK];
    OsRng.fill_bytes(&mut out);
    let mut prev: [u8; BLOCK] = out[..BLOCK].try_into().expect("the IV is one block");
    for chunk in content.chunks(BLOCK) {
        let mut block = [0u8; BLOCK];
        for (b, (c, p)) in block.iter_mut().zip(chunk.iter().zip(prev.iter())) {
            *b = c ^ p;
        }
        let mut ga = GenericArray::from(block);
        cipher.encrypt_block(&mut ga);
        prev = ga.into();
        out.extend_from_slice(&prev);
    }
    Ok(encode(&out, B64, 6))
}

/// The inverse of [`encrypt_aes`]; where Go panics (short or ragged input,
/// bad padding) this is an error.
fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, String> {
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let crypt = decode(crypt64, B64, 6)?;
    if crypt.len() < BLOCK {
        // Go decodes into a buffer of `DecodedLen` bytes (3 for each 4 input
        // bytes, line breaks counted) and slices the IV off it: the panic
        // names that buffer's capacity, not the decoded length.
        return Err(format!(
            "runtime error: slice bounds out of range [:{BLOCK}] with capacity {}",
            crypt64.len() / 4 * 3
        ));
    }
    let (iv, body) = crypt.split_at(BLOCK);
    if !body.len().is_multiple_of(BLOCK) {
        return Err("crypto/cipher: input not full blocks".to_string());
    }
    let cipher = aes_key(password);
    let mut prev: [u8; BLOCK] = iv.try_into().expect("split at one block");
    let mut plain = Vec::with_capacity(body.len());
    for chunk in body.chunks(BLOCK) {
        let mut ga = GenericArray::clone_from_slice(chunk);
        cipher.decrypt_block(&mut ga);
        plain.extend(ga.iter().zip(prev.iter()).map(|(b, p)| b ^ p));
        prev.copy_from_slice(chunk);
    }
    let pad = plain.last().map_or(0, |p| usize::from(*p));
    if pad > plain.len() {
        return Err(format!(
            "runtime error: slice bounds out of range [:{}]",
            plain.len() as i64 - pad as i64
        ));
    }
    plain.truncate(plain.len() - pad);
    Ok(String::from_utf8_lossy(&plain).into_owned())
}
