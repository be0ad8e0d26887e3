//! Sprig's non-deterministic functions: randAlphaNum, randAlpha, randNumeric, randAscii, randBytes, randInt, shuffle, uuidv4.
//!
//! Like Helm's, their output differs between renders, so a chart that uses
//! them does not render byte-identically twice. The generator is seeded
//! from the standard library's per-process random hash keys and the clock.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use super::{i, s};
use crate::gotmpl::{Funcs, Function, Param, Value};

use Param::{Int, String as Str};

/// The most characters one call produces.
const MAX_LEN: i64 = 1 << 20;

/// A xorshift64* generator shared by the functions of one registry.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let mut h = RandomState::new().build_hasher();
        if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(d.as_nanos());
        }
        Rng(h.finish() | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub(super) fn register(f: &mut Funcs) {
    let rng = Arc::new(Mutex::new(Rng::seeded()));
    let charsets: [(&str, Vec<char>); 4] = [
        ("randAlphaNum", ('A'..='Z').chain('a'..='z').chain('0'..='9').collect()),
        ("randAlpha", ('A'..='Z').chain('a'..='z').collect()),
        ("randNumeric", ('0'..='9').collect()),
        ("randAscii", (' '..='~').collect()),
    ];
    for (name, chars) in charsets {
        let rng = rng.clone();
        let func = Function::new(move |_, a| {
            let n = i(&a[0]);
            if n < 0 {
                // goutils refuses a negative count and Sprig drops the error.
                return Ok(Value::from(""));
            }
            if n > MAX_LEN {
                return Err(format!("{name}: count {n} out of range"));
            }
            let mut r = rng.lock().unwrap_or_else(|e| e.into_inner());
            let out: String = (0..n).map(|_| chars[r.below(chars.len() as u64) as usize]).collect();
            Ok(out.into())
        });
        f.insert(name, func.params(&[Int], None));
    }
    let r = rng.clone();
    let rand_int = Function::new(move |_, a| {
        let (min, max) = (i(&a[0]), i(&a[1]));
        if max <= min {
            return Err("invalid argument to Intn".into());
        }
        let span = (max as i128 - min as i128) as u64;
        let mut g = r.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Value::Int(min.wrapping_add(g.below(span) as i64)))
    });
    f.insert("randInt", rand_int.params(&[Int, Int], None));
    let r = rng.clone();
    let rand_bytes = Function::new(move |_, a| {
        let n = i(&a[0]);
        if !(0..=MAX_LEN).contains(&n) {
            return Err(format!("randBytes: count {n} out of range"));
        }
        let mut g = r.lock().unwrap_or_else(|e| e.into_inner());
        let bytes: Vec<u8> = (0..n).map(|_| g.next() as u8).collect();
        Ok(super::encoding::encode(&bytes, super::encoding::B64, 6).into())
    });
    f.insert("randBytes", rand_bytes.params(&[Int], None));
    let r = rng.clone();
    let shuffle = Function::new(move |_, a| {
        let mut chars: Vec<char> = s(&a[0]).chars().collect();
        let mut g = r.lock().unwrap_or_else(|e| e.into_inner());
        for k in (1..chars.len()).rev() {
            let j = g.below(k as u64 + 1) as usize;
            chars.swap(k, j);
        }
        Ok(chars.into_iter().collect::<String>().into())
    });
    f.insert("shuffle", shuffle.params(&[Str], None));
    let uuid = Function::new(move |_, _| {
        let mut g = rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut b = [0u8; 16];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&g.next().to_le_bytes());
        }
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Ok(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]).into())
    });
    f.insert("uuidv4", uuid.params(&[], None));
}
