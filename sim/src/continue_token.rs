//! Continue tokens: base64 of the JSON kube-apiserver uses (`{"v","rv","start"}`,
//! `staging/src/k8s.io/apiserver/pkg/storage/continue.go`), plus where this simulator keeps the
//! rest of the list. `rv: -1` is the inconsistent continuation the API server hands out with a
//! 410 when the list's revision was compacted: it continues at the newest revision from `start`.

use crate::status::ApiError;
use crate::store::Obj;
use base64::Engine as _;
use serde_json::{Value, json};

const VERSION: &str = "meta.k8s.io/v1";

/// A decoded continue token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Continue {
    /// The next page of a saved list.
    Snapshot {
        /// The saved list.
        id: u64,
        /// Index of the next item.
        offset: usize,
        /// `namespace/name\0` of the next item.
        start: String,
    },
    /// The rest of the list at the newest revision, from `start` on (`rv: -1`).
    Inconsistent {
        /// `namespace/name\0` of the last item served, the first key not served yet.
        start: String,
    },
}

/// The `start` of a token whose next item is `next`: its key and a NUL byte, as etcd3 does.
fn start_of(next: &Obj) -> String {
    format!("{}/{}\u{0}", next.key.0, next.key.1)
}

/// A token for the page starting at `offset` of saved list `id` (read at `rv`).
pub fn encode(id: u64, offset: usize, rv: u64, next: &Obj) -> String {
    let v =
        json!({"v": VERSION, "rv": rv, "start": start_of(next), "snapshot": id, "offset": offset});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// The inconsistent continuation of a list that had reached `start`.
pub fn encode_inconsistent(start: &str) -> String {
    let v = json!({"v": VERSION, "rv": -1, "start": start});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Reads a token; 400 when it is not one of ours.
pub fn decode(token: &str) -> Result<Continue, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    if v.get("v").and_then(Value::as_str) != Some(VERSION) {
        return Err(bad());
    }
    let start = v
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_owned();
    match v.get("rv").and_then(Value::as_i64) {
        Some(-1) => Ok(Continue::Inconsistent { start }),
        Some(rv) if rv > 0 => {
            let id = v.get("snapshot").and_then(Value::as_u64).ok_or_else(bad)?;
            let offset = v.get("offset").and_then(Value::as_u64).ok_or_else(bad)? as usize;
            Ok(Continue::Snapshot { id, offset, start })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inconsistent_tokens_round_trip() {
        let t = encode_inconsistent("kube/a\u{0}");
        assert_eq!(
            decode(&t).unwrap(),
            Continue::Inconsistent {
                start: "kube/a\u{0}".into()
            }
        );
        assert_eq!(decode("bm9wZQ").unwrap_err().code, 400);
    }
}
