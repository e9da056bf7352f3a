//! One validating pass over a JSON object that records where each known key's value is.
//!
//! KuCoin puts `data` last in the envelope and `changes` before the ids inside a level2
//! push (`kucoin.md` §12), so a push cannot be judged before its end: one pass locates the
//! values (validating all JSON), then typed readers read them in place. A known key seen
//! twice is refused, since `json.loads` would keep the last value and the book cannot
//! un-apply levels.

use super::error::KucoinError;
use crate::gate::json::Scan;

/// Reads the object under the cursor; `at[i]` is the offset of the value of `keys[i]`.
///
/// # Errors
/// Malformed JSON, a value that is not an object, or a known key seen twice.
pub fn locate<const N: usize>(
    s: &mut Scan<'_>,
    keys: &[&str; N],
) -> Result<[Option<usize>; N], KucoinError> {
    let mut at = [None; N];
    locate_into(s, keys, &mut at)?;
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
        s.skip().map_err(|e| KucoinError::json("", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_known_keys_and_refuses_repeats() {
        let f = br#"{"a":1,"x":[1,{"a":2}],"b":"s"}"#;
        let at = locate(&mut Scan::new(f), &["a", "b", "c"]).unwrap();
        assert_eq!(at, [Some(5), Some(27), None]);
        let dup = br#"{"a":1,"a":2}"#;
        assert!(locate(&mut Scan::new(dup), &["a"]).is_err());
        // Unknown keys may repeat: they are not read (json.loads keeps the last one).
        assert!(locate(&mut Scan::new(br#"{"z":1,"z":2}"#), &["a"]).is_ok());
        assert!(locate(&mut Scan::new(b"[1]"), &["a"]).is_err());
        assert!(locate(&mut Scan::new(br#"{"a":1"#), &["a"]).is_err());
    }
}
