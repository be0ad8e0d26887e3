//! Reading a chart archive as Helm 4's loader does: `archive.LoadArchiveFiles`
//! (gzip, then tar, with its path checks and size budget), the checks that
//! `loader.LoadFile` runs on the chart `helm template` is given (the file must
//! look like gzip, as `net/http`'s `DetectContentType` judges it, and must
//! hold a Chart.yaml), and the errors in Go's words.

use std::io::Read;

/// The most bytes all files of an archive may expand to (Helm's
/// `MaxDecompressedChartSize`, 100 MiB).
const MAX_CHART_BYTES: u64 = 100 * 1024 * 1024;

/// The files of a gzipped tar chart archive, in archive order, each path
/// relative to the archive's top directory (which is dropped), or Go's error
/// text: `gzip: invalid header`, `EOF`, `archive/tar: invalid tar header`,
/// `chart illegally references parent directory`, `no files in chart archive`...
pub(super) fn files(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    // Go's gzip.NewReader reads the 10-byte header before anything else.
    match bytes.len() {
        0 => return Err("EOF".into()),
        1..10 => return Err("unexpected EOF".into()),
        _ if !bytes.starts_with(b"\x1f\x8b\x08") => return Err("gzip: invalid header".into()),
        _ => {}
    }
    // Go's reader reads concatenated gzip members as one stream.
    let gz = flate2::read::MultiGzDecoder::new(bytes);
    let mut archive = tar::Archive::new(gz);
    let mut out = Vec::new();
    let mut remaining = MAX_CHART_BYTES;
    let entries = archive.entries().map_err(|e| read_error(&e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| read_error(&e))?;
        let header = entry.header();
        let kind = header.entry_type();
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        // Directories (also an old-style regular entry named `x/`) and PAX
        // headers are skipped; every other entry (a link too) is a file.
        if kind.is_dir()
            || kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || (matches!(kind, tar::EntryType::Regular) && raw_name.ends_with('/'))
        {
            continue;
        }
        let name = entry_name(&raw_name)?;
        let size = entry.size();
        if size > remaining {
            return Err(too_big());
        }
        let mut data = Vec::new();
        (&mut entry).take(remaining).read_to_end(&mut data).map_err(|e| read_error(&e))?;
        let written = data.len() as u64;
        if written < size {
            return Err(too_big());
        }
        remaining -= written;
        out.push((name, data));
    }
    if out.is_empty() {
        return Err("no files in chart archive".into());
    }
    Ok(out)
}

fn too_big() -> String {
    format!("decompressed chart is larger than the maximum size {MAX_CHART_BYTES}")
}

/// Go's words for a failed read: tar's header errors, a stream cut short,
/// gzip's checksum.
fn read_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "unexpected EOF".into()
    } else if text.contains("corrupt deflate")
        || text.contains("invalid") && text.contains("deflate")
    {
        // Go adds the input offset, which flate2 does not report.
        "flate: corrupt input".into()
    } else if text.contains("crc") || text.contains("CRC") {
        "gzip: invalid checksum".into()
    } else {
        "archive/tar: invalid tar header".into()
    }
}

/// An entry's path inside the chart, checked as `LoadArchiveFiles` checks
/// it: the first segment dropped (`\` is the separator when the name holds
/// one), then `path.Clean`; absolute paths, paths that climb out and drive
/// letters are refused.
fn entry_name(raw: &str) -> Result<String, String> {
    let delimiter = if raw.contains('\\') { '\\' } else { '/' };
    let parts: Vec<&str> = raw.split(delimiter).collect();
    let joined = parts[1..].join(&delimiter.to_string()).replace(delimiter, "/");
    if joined.starts_with('/') {
        return Err("chart illegally contains absolute paths".into());
    }
    let name = crate::gotmpl::sprig::path::clean(&joined);
    if name == "." {
        return Err(format!(
            "chart illegally contains content outside the base directory: {}",
            crate::gotmpl::fmt::quote(raw)
        ));
    }
    if name.starts_with("..") {
        return Err("chart illegally references parent directory".into());
    }
    let b = name.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
        return Err("chart contains illegally named files".into());
    }
    if parts[0] == "Chart.yaml" {
        return Err("chart yaml not in base directory".into());
    }
    Ok(name)
}

/// `archive.EnsureArchive`'s verdict on the chart file `helm template` was
/// given: `None` when its first bytes are gzip's, else the reason, without
/// the file's name: `Some(Err(()))` for a `.yaml`/`.yml` name, else
/// `Some(Ok(content type))`.
pub(super) fn not_gzip(name: &str, bytes: &[u8]) -> Option<Result<String, ()>> {
    // Helm sniffs a 512-byte buffer, zero-padded past the file's end.
    let mut head = [0u8; 512];
    let n = bytes.len().min(512);
    head[..n].copy_from_slice(&bytes[..n]);
    if head.starts_with(b"\x1f\x8b\x08") {
        return None;
    }
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return Some(Err(()));
    }
    Some(Ok(detect_content_type(&head).to_string()))
}

/// Go's `net/http.DetectContentType` (the WHATWG sniffing table).
fn detect_content_type(data: &[u8]) -> &'static str {
    const HTML: &[&str] = &[
        "<!DOCTYPE HTML",
        "<HTML",
        "<HEAD",
        "<SCRIPT",
        "<IFRAME",
        "<H1",
        "<DIV",
        "<FONT",
        "<TABLE",
        "<A",
        "<STYLE",
        "<TITLE",
        "<B",
        "<BODY",
        "<BR",
        "<P",
        "<!--",
    ];
    let ws = |b: u8| matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
    let first = data.iter().position(|&b| !ws(b)).unwrap_or(data.len());
    let text = &data[first..];
    for sig in HTML {
        let s = sig.as_bytes();
        if text.len() > s.len()
            && text[..s.len()].eq_ignore_ascii_case(s)
            && matches!(text[s.len()], b' ' | b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if text.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let masked = |mask: &[u8], pat: &[u8]| {
        data.len() >= mask.len() && mask.iter().zip(pat).zip(data).all(|((m, p), d)| d & m == *p)
    };
    const ANY4: &[u8] = b"\xff\xff\xff\xff\x00\x00\x00\x00";
    let table: &[(&[u8], &[u8], &str)] = &[
        (b"\xff\xff\xff\xff\xff", b"%PDF-", "application/pdf"),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", b"%!PS-Adobe-", "application/postscript"),
        (b"\xff\xff", b"\xfe\xff", "text/plain; charset=utf-16be"),
        (b"\xff\xff", b"\xff\xfe", "text/plain; charset=utf-16le"),
        (b"\xff\xff\xff", b"\xef\xbb\xbf", "text/plain; charset=utf-8"),
        (b"\xff\xff\xff\xff", b"\x00\x00\x01\x00", "image/x-icon"),
        (b"\xff\xff\xff\xff", b"\x00\x00\x02\x00", "image/x-icon"),
        (b"\xff\xff", b"BM", "image/bmp"),
        (b"\xff\xff\xff\xff\xff\xff", b"GIF87a", "image/gif"),
        (b"\xff\xff\xff\xff\xff\xff", b"GIF89a", "image/gif"),
        (&[ANY4, b"\xff\xff\xff\xff\xff\xff"].concat(), b"RIFF\0\0\0\0WEBPVP", "image/webp"),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff", b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xff\xff", b"\xff\xd8\xff", "image/jpeg"),
        (&[ANY4, b"\xff\xff\xff\xff"].concat(), b"FORM\0\0\0\0AIFF", "audio/aiff"),
        (b"\xff\xff\xff", b"ID3", "audio/mpeg"),
        (b"\xff\xff\xff\xff\xff", b"OggS\x00", "application/ogg"),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff", b"MThd\x00\x00\x00\x06", "audio/midi"),
        (&[ANY4, b"\xff\xff\xff\xff"].concat(), b"RIFF\0\0\0\0AVI ", "video/avi"),
        (&[ANY4, b"\xff\xff\xff\xff"].concat(), b"RIFF\0\0\0\0WAVE", "audio/wave"),
    ];
    for (mask, pat, ct) in table {
        if masked(mask, pat) {
            return ct;
        }
    }
    if is_mp4(data) {
        return "video/mp4";
    }
    let exact: &[(&[u8], &str)] = &[(b"\x1a\x45\xdf\xa3", "video/webm")];
    for (sig, ct) in exact {
        if data.starts_with(sig) {
            return ct;
        }
    }
    if data.len() >= 36 && &data[34..36] == b"LP" {
        return "application/vnd.ms-fontobject";
    }
    let exact: &[(&[u8], &str)] = &[
        (b"\x00\x01\x00\x00", "font/ttf"),
        (b"OTTO", "font/otf"),
        (b"ttcf", "font/collection"),
        (b"wOFF", "font/woff"),
        (b"wOF2", "font/woff2"),
        (b"\x1f\x8b\x08", "application/x-gzip"),
        (b"PK\x03\x04", "application/zip"),
        (b"Rar!\x1a\x07\x00", "application/x-rar-compressed"),
        (b"Rar!\x1a\x07\x01\x00", "application/x-rar-compressed"),
        (b"\x00asm", "application/wasm"),
    ];
    for (sig, ct) in exact {
        if data.starts_with(sig) {
            return ct;
        }
    }
    let binary = |b: &u8| matches!(b, 0x00..=0x08 | 0x0b | 0x0e..=0x1a | 0x1c..=0x1f);
    if !text.iter().any(binary) {
        return "text/plain; charset=utf-8";
    }
    "application/octet-stream"
}

/// The MP4 rule of Go's sniffer: an `ftyp` box whose brands name `mp4`.
fn is_mp4(data: &[u8]) -> bool {
    if data.len() < 12 {
        return false;
    }
    let size = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    if data.len() < size || !size.is_multiple_of(4) || &data[4..8] != b"ftyp" {
        return false;
    }
    (8..size).step_by(4).any(|st| st != 12 && data.get(st..st + 3) == Some(b"mp4".as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_as_go_does() {
        let pad = |b: &[u8]| {
            let mut h = [0u8; 512];
            h[..b.len()].copy_from_slice(b);
            h
        };
        assert_eq!(detect_content_type(&pad(b"hello: world\n")), "application/octet-stream");
        assert_eq!(detect_content_type(&[b'a'; 512]), "text/plain; charset=utf-8");
        assert_eq!(detect_content_type(&pad(b"PK\x03\x04")), "application/zip");
        assert_eq!(detect_content_type(&pad(b"  <html>")), "text/html; charset=utf-8");
        assert_eq!(detect_content_type(&pad(b"%PDF-1.4")), "application/pdf");
        assert_eq!(detect_content_type(&pad(b"\x89PNG\r\n\x1a\n")), "image/png");
    }

    #[test]
    fn entry_names_follow_helm() {
        assert_eq!(entry_name("c/templates/./x.yaml").unwrap(), "templates/x.yaml");
        assert_eq!(entry_name("c\\templates\\x.yaml").unwrap(), "templates/x.yaml");
        assert_eq!(entry_name("/c/Chart.yaml").unwrap(), "c/Chart.yaml");
        assert!(entry_name("c//x").is_err());
        assert_eq!(
            entry_name("c/../../x").unwrap_err(),
            "chart illegally references parent directory"
        );
        assert_eq!(entry_name("c/d:/x").unwrap_err(), "chart contains illegally named files");
        assert_eq!(entry_name("Chart.yaml/x").unwrap_err(), "chart yaml not in base directory");
        assert_eq!(
            entry_name("Chart.yaml").unwrap_err(),
            "chart illegally contains content outside the base directory: \"Chart.yaml\""
        );
    }
}
