//! EKS bearer tokens, as `aws eks get-token` and aws-iam-authenticator make them:
//! `k8s-aws-v1.` + unpadded base64url of a presigned STS `GetCallerIdentity` URL whose signed
//! headers include `x-k8s-aws-id: <cluster name>`. The API server's authenticator replays the URL
//! to learn who we are; it accepts it for 15 minutes from `X-Amz-Date`.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine;

/// Prefix of every EKS token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// Header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// The presigned URL's own validity, as aws-iam-authenticator sets it.
const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);
/// Tokens are accepted for 15 minutes; mint a new one well before.
pub const REFRESH_AFTER: Duration = Duration::from_secs(13 * 60);

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The STS endpoint is not a URL we can sign.
    #[error("STS endpoint {0:?} is not a valid URL")]
    BadEndpoint(String),
    /// SigV4 presigning failed.
    #[error("presigning GetCallerIdentity failed: {0}")]
    SigningFailed(String),
}

/// A token and when it was minted.
#[derive(Clone)]
pub struct EksToken {
    /// `k8s-aws-v1.…`, to send as `Authorization: Bearer`.
    pub token: String,
    /// When it was minted.
    pub minted_at: SystemTime,
}

impl std::fmt::Debug for EksToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A token is a credential: never print it.
        f.debug_struct("EksToken")
            .field("minted_at", &self.minted_at)
            .finish_non_exhaustive()
    }
}

impl EksToken {
    /// Whether the token is old enough to be replaced before its next use.
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        now.duration_since(self.minted_at).unwrap_or_default() >= REFRESH_AFTER
    }
}

/// The regional STS endpoint, unless an endpoint override (e.g. `AWS_ENDPOINT_URL`) is given.
pub fn sts_endpoint(region: &str, endpoint_override: Option<&str>) -> String {
    match endpoint_override {
        Some(endpoint) => endpoint.trim_end_matches('/').to_owned(),
        None => format!("https://sts.{region}.amazonaws.com"),
    }
}

/// Mints a token for `cluster` from `credentials`, signed at `now`.
pub fn mint(
    credentials: &Credentials,
    region: &str,
    sts_endpoint: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<EksToken, TokenError> {
    let url = format!("{sts_endpoint}/?Action=GetCallerIdentity&Version=2011-06-15");
    let uri: http::Uri = url
        .parse()
        .map_err(|_| TokenError::BadEndpoint(sts_endpoint.to_owned()))?;
    let host = uri
        .authority()
        .ok_or_else(|| TokenError::BadEndpoint(sts_endpoint.to_owned()))?
        .to_string();

    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError::SigningFailed(e.to_string()))?
        .into();
    let headers = [("host", host.as_str()), (CLUSTER_ID_HEADER, cluster)];
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| TokenError::SigningFailed(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| TokenError::SigningFailed(e.to_string()))?
        .into_parts();
    let mut request = http::Request::get(&url).body(()).expect("a valid request");
    instructions.apply_to_request_http1x(&mut request);
    let presigned = request.uri().to_string();
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned);
    Ok(EksToken {
        token: format!("{TOKEN_PREFIX}{encoded}"),
        minted_at: now,
    })
}

/// The presigned URL inside a token (for tests).
#[cfg(any(test, feature = "testing"))]
pub fn presigned_url(token: &str) -> Option<String> {
    let encoded = token.strip_prefix(TOKEN_PREFIX)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        )
    }

    #[test]
    fn token_is_a_presigned_get_caller_identity_bound_to_the_cluster() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = mint(
            &credentials(),
            "eu-west-1",
            &sts_endpoint("eu-west-1", None),
            "prod",
            now,
        )
        .expect("a token");
        assert!(token.token.starts_with(TOKEN_PREFIX));
        assert!(token.token.len() < 4096, "EKS tokens are at most 4 KiB");
        assert!(!token.token.contains('='), "unpadded");
        let url = presigned_url(&token.token).expect("decodes");
        assert!(
            url.starts_with(
                "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
            ),
            "{url}"
        );
        assert!(url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{url}");
        assert!(url.contains("X-Amz-Expires=60"), "{url}");
        assert!(url.contains("X-Amz-Date=20270115T080000Z"), "{url}");
        let signed = url
            .split("X-Amz-SignedHeaders=")
            .nth(1)
            .expect("signed headers");
        let signed = signed.split('&').next().expect("value");
        assert_eq!(signed, "host%3Bx-k8s-aws-id");
        assert!(url.contains("X-Amz-Signature="));
    }

    #[test]
    fn tokens_are_refreshed_before_fourteen_minutes() {
        let now = SystemTime::now();
        let token = mint(
            &credentials(),
            "us-east-1",
            "http://127.0.0.1:5000",
            "c",
            now,
        )
        .expect("token");
        assert!(!token.needs_refresh(now + Duration::from_secs(12 * 60)));
        assert!(token.needs_refresh(now + Duration::from_secs(13 * 60)));
        assert!(
            !format!("{token:?}").contains("k8s-aws-v1"),
            "never printed"
        );
    }
}
