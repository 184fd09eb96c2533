//! Bearer-token authentication: none, a static token, or an EKS token checked the way
//! aws-iam-authenticator does (the `k8s-aws-v1.` presigned STS GetCallerIdentity URL).
//!
//! An EKS token only carries the cluster name inside its signature (`x-k8s-aws-id` is a signed
//! header). The simulator can prove it two ways: recompute the SigV4 signature with a configured
//! secret key (`--eks-secret-key`), and/or replay the presigned request against an STS endpoint
//! (`--sts-endpoint`, e.g. moto) with the header set to the configured cluster name, which also
//! tells who the caller is.

use crate::http::bearer;
use crate::status::ApiError;
use aws_lc_rs::{digest, hmac};
use base64::Engine as _;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jiff::Timestamp;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Duration;

/// Why an EKS token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No `k8s-aws-v1.` prefix.
    #[error("token is not a k8s-aws-v1 token")]
    Prefix,
    /// Longer than aws-iam-authenticator accepts.
    #[error("token is longer than 4096 bytes")]
    TooLong,
    /// Not base64url, or not a URL.
    #[error("token does not decode to a URL: {0}")]
    Decode(String),
    /// The URL is not an STS GetCallerIdentity URL.
    #[error("not an STS GetCallerIdentity URL: {0}")]
    NotSts(String),
    /// `x-k8s-aws-id` is not among the signed headers.
    #[error("x-k8s-aws-id is not a signed header")]
    ClusterHeaderNotSigned,
    /// X-Amz-Date + X-Amz-Expires is in the past.
    #[error("token expired at {0}")]
    Expired(String),
    /// The signature does not match the cluster name and secret key.
    #[error("signature does not match (wrong cluster name or credentials)")]
    BadSignature,
    /// STS refused the presigned request or could not be reached.
    #[error("STS rejected the token: {0}")]
    StsRejected(String),
}

/// How requests are authenticated.
#[derive(Clone, Debug, Default)]
pub enum AuthMode {
    /// Every request is accepted.
    #[default]
    None,
    /// `Authorization: Bearer <token>` must carry this token.
    StaticToken(String),
    /// An EKS token for this cluster.
    Eks(EksConfig),
}

/// EKS token checks.
#[derive(Clone, Debug, Default)]
pub struct EksConfig {
    /// The `x-k8s-aws-id` value a token must be signed for.
    pub cluster_name: String,
    /// Replay the presigned request against this STS endpoint (`http://127.0.0.1:PORT`).
    pub sts_endpoint: Option<String>,
    /// Verify the SigV4 signature with this secret access key.
    pub secret_key: Option<String>,
}

/// The authenticator.
pub struct Auth {
    mode: AuthMode,
    cache: Mutex<HashMap<String, (String, Timestamp)>>,
}

impl Auth {
    /// An authenticator for the mode.
    pub fn new(mode: AuthMode) -> Self {
        Self {
            mode,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The mode.
    pub fn mode(&self) -> &AuthMode {
        &self.mode
    }

    /// Who is calling, or 401.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        match &self.mode {
            AuthMode::None => Ok("anonymous".to_owned()),
            AuthMode::StaticToken(t) => match bearer(headers) {
                Some(got) if constant_time_eq(got.as_bytes(), t.as_bytes()) => {
                    Ok("static-token-user".to_owned())
                }
                Some(_) => Err(ApiError::unauthorized("invalid bearer token")),
                None => Err(ApiError::unauthorized("no bearer token")),
            },
            AuthMode::Eks(cfg) => {
                let token =
                    bearer(headers).ok_or_else(|| ApiError::unauthorized("no bearer token"))?;
                let now = Timestamp::now();
                if let Some((who, until)) = self.cache.lock().get(token)
                    && *until > now
                {
                    return Ok(who.clone());
                }
                let checked = check_eks_token(token, cfg, now).map_err(|e| {
                    tracing::info!(error = %e, "Refused an EKS token");
                    ApiError::unauthorized(&e.to_string())
                })?;
                let who = match &cfg.sts_endpoint {
                    Some(_) => call_sts(&checked.url, &cfg.cluster_name)
                        .await
                        .map_err(|e| {
                            tracing::info!(error = %e, "STS refused an EKS token");
                            ApiError::unauthorized(&e.to_string())
                        })?,
                    None => format!("eks-access-key:{}", checked.access_key),
                };
                let mut cache = self.cache.lock();
                if cache.len() > 1024 {
                    cache.clear();
                }
                cache.insert(token.to_owned(), (who.clone(), checked.expires));
                Ok(who)
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a structurally valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedToken {
    /// The presigned URL.
    pub url: String,
    /// The access key id from X-Amz-Credential.
    pub access_key: String,
    /// When the token stops being valid.
    pub expires: Timestamp,
}

/// Checks an EKS token without network access: format, STS URL, signed headers, expiry, and the
/// signature when a secret key is configured.
pub fn check_eks_token(
    token: &str,
    cfg: &EksConfig,
    now: Timestamp,
) -> Result<CheckedToken, TokenError> {
    let b64 = token
        .strip_prefix("k8s-aws-v1.")
        .ok_or(TokenError::Prefix)?;
    if token.len() > 4096 {
        return Err(TokenError::TooLong);
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('='))
        .map_err(|e| TokenError::Decode(e.to_string()))?;
    let text = String::from_utf8(raw).map_err(|e| TokenError::Decode(e.to_string()))?;
    let url = url::Url::parse(&text).map_err(|e| TokenError::Decode(e.to_string()))?;
    let host = url.host_str().unwrap_or("").to_owned();
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let configured = cfg
        .sts_endpoint
        .as_deref()
        .and_then(|e| url::Url::parse(e).ok())
        .map(|e| match e.port() {
            Some(p) => format!("{}:{p}", e.host_str().unwrap_or("")),
            None => e.host_str().unwrap_or("").to_owned(),
        });
    let aws_host = url.scheme() == "https"
        && (host == "sts.amazonaws.com"
            || (host.starts_with("sts.")
                && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"))));
    if !aws_host && configured.as_deref() != Some(authority.as_str()) {
        return Err(TokenError::NotSts(format!("unexpected host {authority}")));
    }
    if url.path() != "/" {
        return Err(TokenError::NotSts(format!(
            "unexpected path {}",
            url.path()
        )));
    }
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    if get("Action") != Some("GetCallerIdentity") {
        return Err(TokenError::NotSts("Action is not GetCallerIdentity".into()));
    }
    if get("X-Amz-Algorithm") != Some("AWS4-HMAC-SHA256") {
        return Err(TokenError::NotSts(
            "X-Amz-Algorithm is not AWS4-HMAC-SHA256".into(),
        ));
    }
    let signed = get("X-Amz-SignedHeaders").unwrap_or("");
    if !signed
        .split(';')
        .any(|h| h.eq_ignore_ascii_case("x-k8s-aws-id"))
    {
        return Err(TokenError::ClusterHeaderNotSigned);
    }
    let date = get("X-Amz-Date").ok_or_else(|| TokenError::NotSts("no X-Amz-Date".into()))?;
    let signed_at = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", date)
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| TokenError::NotSts(format!("bad X-Amz-Date {date}")))?;
    let expires_in: i64 = get("X-Amz-Expires")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| TokenError::NotSts("no X-Amz-Expires".into()))?;
    let expires = signed_at
        .checked_add(jiff::SignedDuration::from_secs(expires_in.clamp(0, 900)))
        .map_err(|e| TokenError::NotSts(e.to_string()))?;
    if now >= expires {
        return Err(TokenError::Expired(expires.to_string()));
    }
    let credential = get("X-Amz-Credential").unwrap_or("");
    let access_key = credential.split('/').next().unwrap_or("").to_owned();
    if let Some(secret) = &cfg.secret_key {
        let sig = get("X-Amz-Signature").unwrap_or("");
        let ok = [UNSIGNED_PAYLOAD, EMPTY_SHA256].iter().any(|payload| {
            sigv4_presigned_signature(
                &params,
                &authority,
                signed,
                &cfg.cluster_name,
                secret,
                payload,
            )
            .is_some_and(|s| constant_time_eq(s.as_bytes(), sig.as_bytes()))
        });
        if !ok {
            return Err(TokenError::BadSignature);
        }
    }
    Ok(CheckedToken {
        url: text,
        access_key,
        expires,
    })
}

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&k, data).as_ref().to_vec()
}

/// The SigV4 query-string signature of a GET / with headers `host` and `x-k8s-aws-id` (the only
/// headers an EKS token may sign); None when other headers are signed.
fn sigv4_presigned_signature(
    params: &[(String, String)],
    host: &str,
    signed_headers: &str,
    cluster: &str,
    secret: &str,
    payload_hash: &str,
) -> Option<String> {
    let mut canonical_headers = String::new();
    for h in signed_headers.split(';') {
        let value = match h.to_ascii_lowercase().as_str() {
            "host" => host,
            "x-k8s-aws-id" => cluster,
            _ => return None,
        };
        canonical_headers.push_str(&format!("{}:{}\n", h.to_ascii_lowercase(), value.trim()));
    }
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request =
        format!("GET\n/\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}");
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let amz_date = get("X-Amz-Date")?;
    let credential = get("X-Amz-Credential")?;
    let mut scope_parts = credential.splitn(2, '/');
    scope_parts.next()?;
    let scope = scope_parts.next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    let [day, region, service, terminator] = parts.as_slice() else {
        return None;
    };
    let hashed = hex::encode(digest::digest(
        &digest::SHA256,
        canonical_request.as_bytes(),
    ));
    let string_to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashed}");
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, terminator.as_bytes());
    Some(hex::encode(hmac_sha256(
        &k_signing,
        string_to_sign.as_bytes(),
    )))
}

/// Replays the presigned GetCallerIdentity against STS with `x-k8s-aws-id: <cluster>`; returns
/// the caller ARN.
///
/// The same signature is also sent as an `Authorization` header: moto's single-port server picks
/// the service from that header (an unsigned-looking GET would reach its S3 backend). AWS STS
/// itself is never called by the simulator.
async fn call_sts(url: &str, cluster: &str) -> Result<String, TokenError> {
    let parsed = url::Url::parse(url).map_err(|e| TokenError::StsRejected(e.to_string()))?;
    let q: HashMap<String, String> = parsed.query_pairs().into_owned().collect();
    let field = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}",
        field("X-Amz-Credential"),
        field("X-Amz-SignedHeaders"),
        field("X-Amz-Signature")
    );
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let req = http::Request::get(url)
        .header("x-k8s-aws-id", cluster)
        .header(http::header::AUTHORIZATION, authorization)
        .body(Empty::new())
        .map_err(|e| TokenError::StsRejected(e.to_string()))?;
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .map_err(|_| TokenError::StsRejected("timed out".into()))?
        .map_err(|e| TokenError::StsRejected(e.to_string()))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| TokenError::StsRejected(e.to_string()))?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    if !status.is_success() {
        return Err(TokenError::StsRejected(format!("HTTP {status}")));
    }
    let arn = text
        .split("<Arn>")
        .nth(1)
        .and_then(|r| r.split("</Arn>").next())
        .ok_or_else(|| TokenError::StsRejected("no Arn in the answer".into()))?;
    Ok(arn.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_for(url: &str) -> String {
        format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        )
    }

    fn cfg() -> EksConfig {
        EksConfig {
            cluster_name: "demo".into(),
            ..EksConfig::default()
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let now = Timestamp::now();
        assert_eq!(check_eks_token("abc", &cfg(), now), Err(TokenError::Prefix));
        assert!(matches!(
            check_eks_token("k8s-aws-v1.!!!", &cfg(), now),
            Err(TokenError::Decode(_))
        ));
        let evil = token_for("https://evil.example.com/?Action=GetCallerIdentity");
        assert!(matches!(
            check_eks_token(&evil, &cfg(), now),
            Err(TokenError::NotSts(_))
        ));
    }

    #[test]
    fn tokens_must_sign_the_cluster_header_and_be_fresh() {
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let base = "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
                    &X-Amz-Algorithm=AWS4-HMAC-SHA256\
                    &X-Amz-Credential=AKID%2F20261123%2Fus-east-1%2Fsts%2Faws4_request\
                    &X-Amz-Date=20261123T095500Z&X-Amz-Expires=60";
        let unsigned = token_for(&format!(
            "{base}&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
        ));
        assert_eq!(
            check_eks_token(&unsigned, &cfg(), now),
            Err(TokenError::ClusterHeaderNotSigned)
        );
        let good = token_for(&format!(
            "{base}&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=00"
        ));
        assert!(matches!(
            check_eks_token(&good, &cfg(), now),
            Err(TokenError::Expired(_))
        ));
        let later: Timestamp = "2026-11-23T09:55:30Z".parse().unwrap();
        let ok = check_eks_token(&good, &cfg(), later).unwrap();
        assert_eq!(ok.access_key, "AKID");
        let with_secret = EksConfig {
            secret_key: Some("secret".into()),
            ..cfg()
        };
        assert_eq!(
            check_eks_token(&good, &with_secret, later),
            Err(TokenError::BadSignature)
        );
    }
}
