//! A verdict from a command given in the configuration (e.g. a smoke test or `curl -fsS URL`).
//!
//! The command runs through `sh -c` with `KILN_COMMIT` (the rendered commit)
//! and `KILN_ENV` (the environment, possibly empty) set. Exit status 0 is
//! success, any other status a failure whose reason carries the end of its
//! output; a command still running at the timeout is killed and gives a timeout.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Verdict;

/// How much of the command's output a failure reason keeps (the end of it).
const OUTPUT_TAIL: usize = 400;

/// Runs `command` and turns its outcome into a verdict. Blocking: call it from
/// `spawn_blocking` in async code.
pub fn verdict(command: &str, commit: &str, env: &str, timeout: Duration) -> Verdict {
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("KILN_COMMIT", commit)
        .env("KILN_ENV", env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            return Verdict::Failure {
                reason: format!("check command could not start: {e}"),
                objects: vec![],
            };
        }
    };
    // Output is read on threads so a chatty command cannot block on a full pipe.
    let reader = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = reader(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let stderr = reader(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                return Verdict::Failure {
                    reason: format!("waiting for check command: {e}"),
                    objects: vec![],
                };
            }
        }
    };
    let Some(status) = status else {
        // The readers are left behind: a grandchild of the shell may hold the pipes open.
        return Verdict::Timeout {
            after: timeout,
            pending: vec![format!("check command: {command}")],
        };
    };
    let mut output = stdout.join().unwrap_or_default();
    output.extend(stderr.join().unwrap_or_default());
    let text = String::from_utf8_lossy(&output);
    let text = text.trim();
    let tail = match text.char_indices().rev().nth(OUTPUT_TAIL) {
        Some((i, _)) => &text[i..],
        None => text,
    };
    if status.success() {
        Verdict::Success
    } else {
        Verdict::Failure {
            reason: format!("check command failed ({status}): {tail}"),
            objects: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes() {
        let commit = "9eabf5b536662000f79978c4d1b6e4eff5c8d785";
        let cases: &[(&str, &str)] = &[
            ("true", "success"),
            ("test \"$KILN_COMMIT\" = 9eabf5b536662000f79978c4d1b6e4eff5c8d785", "success"),
            ("test \"$KILN_ENV\" = production", "success"),
            ("echo boom >&2; exit 3", "failure: check command failed (exit status: 3): boom"),
            ("sleep 5", "timeout after 0s\n  pending: check command: sleep 5"),
            ("exec /nonexistent/binary", "failure"),
        ];
        for (command, want) in cases {
            let got =
                verdict(command, commit, "production", Duration::from_millis(300)).to_string();
            assert!(got.starts_with(want), "{command}: {got}");
        }
    }
}
