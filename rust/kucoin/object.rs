//! One validating pass over a JSON object that records where each known key's value is.
//!
//! KuCoin puts `data` last in the envelope and `changes` before the ids inside a level2
//! push (`kucoin.md` §12), so a push cannot be judged before its end: one pass locates the
//! values (validating all JSON), then typed readers read them in place. A known key seen
//! twice is refused, since `json.loads` would keep the last value and the book cannot
//! un-apply levels.
//!
//! Only the envelope pass validates values it skips; objects inside `data` are located again
//! with [`Trust::Valid`], which skips values by bracket and quote matching alone (the frame
//! was validated whole by then), so a level array is checked once, not once per pass.

use super::error::KucoinError;
use crate::json::{string_stop, Scan};

/// Whether the bytes under the cursor were already validated as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Unchecked input: every skipped value is validated.
    Raw,
    /// Part of a frame that passed a validating pass: values are skipped by structure only.
    Valid,
}

/// Reads the object under the cursor; `at[i]` is the offset of the value of `keys[i]`.
///
/// # Errors
/// Malformed JSON, a value that is not an object, or a known key seen twice.
pub fn locate<const N: usize>(
    s: &mut Scan<'_>,
    keys: &[&str; N],
    trust: Trust,
) -> Result<[Option<usize>; N], KucoinError> {
    let mut at = [None; N];
    locate_into(s, keys, &mut at, trust)?;
    Ok(at)
}

/// As [`locate`], for a key list shorter than the output (`at[i]` for `i >= keys.len()`
/// stays None).
///
/// # Errors
/// As [`locate`].
pub fn locate_into(
    s: &mut Scan<'_>,
    keys: &[&str],
    at: &mut [Option<usize>],
    trust: Trust,
) -> Result<(), KucoinError> {
    if s.peek() != Some(b'{') {
        let pos = s.i;
        let v = s.value().map_err(|e| KucoinError::json("", e))?;
        return Err(KucoinError::at(
            "",
            pos,
            crate::gate::GateErrorKind::Type {
                expected: "object",
                found: v.type_name(),
            },
        ));
    }
    let mut first = true;
    while let Some(k) = s
        .next_key(&mut first)
        .map_err(|e| KucoinError::json("", e))?
    {
        s.peek();
        let pos = s.i;
        if let Some(i) = keys.iter().position(|name| k.is(name)) {
            if at[i].is_some() {
                return Err(KucoinError::duplicate(keys[i], pos));
            }
            at[i] = Some(pos);
        }
        match trust {
            Trust::Raw => s.skip().map_err(|e| KucoinError::json("", e))?,
            Trust::Valid => s.i = skip_valid(s.bytes(), s.i),
        }
    }
    Ok(())
}

/// The index after the value at `i` of validated JSON (whitespace before it skipped). On
/// input that is not valid JSON it stops somewhere in bounds (or at the end) without
/// panicking; callers only use it on validated frames.
#[must_use]
pub fn skip_valid(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' => {
                        i = skip_string(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            i
        }
        _ => {
            while let Some(&c) = b.get(i) {
                if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            i
        }
    }
}

/// The index after the string whose opening quote is at `i`.
fn skip_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    loop {
        j = string_stop(b, j);
        match b.get(j) {
            Some(b'"') => return j + 1,
            Some(b'\\') => j += 2,
            Some(_) => j += 1,
            None => return b.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_known_keys_and_refuses_repeats() {
        let f = br#"{"a":1,"x":[1,{"a":2}],"b":"s"}"#;
        for trust in [Trust::Raw, Trust::Valid] {
            let at = locate(&mut Scan::new(f), &["a", "b", "c"], trust).unwrap();
            assert_eq!(at, [Some(5), Some(27), None]);
        }
        let dup = br#"{"a":1,"a":2}"#;
        assert!(locate(&mut Scan::new(dup), &["a"], Trust::Raw).is_err());
        // Unknown keys may repeat: they are not read (json.loads keeps the last one).
        assert!(locate(&mut Scan::new(br#"{"z":1,"z":2}"#), &["a"], Trust::Raw).is_ok());
        assert!(locate(&mut Scan::new(b"[1]"), &["a"], Trust::Raw).is_err());
        assert!(locate(&mut Scan::new(br#"{"a":1"#), &["a"], Trust::Raw).is_err());
    }

    /// On valid JSON the structural skip ends where the validating one does; on anything
    /// else it stays in bounds.
    #[test]
    fn structural_skip_agrees_with_the_validating_skip() {
        for v in [
            r#""a\"b""#,
            r#" {"x":[1,"]",{"y":"}"}],"z":null} "#,
            "[[],[[]],{}]",
            "-1.5e3",
            "true",
            r#""\\""#,
            r#""é\u00e9""#,
        ] {
            let b = v.as_bytes();
            let mut s = Scan::new(b);
            s.skip().unwrap();
            assert_eq!(skip_valid(b, 0), s.i, "{v}");
        }
        for junk in [&b"\"abc"[..], b"[[", b"{\"a\":\"\\", b"]]]", b"", b"   "] {
            assert!(skip_valid(junk, 0) <= junk.len());
        }
    }
}
