//! How the catch-up reaches the Kubernetes API: through EKS (`DescribeCluster` for the endpoint
//! and CA, an EKS token for auth) or, for local runs and non-EKS clusters, a kubeconfig.
//!
//! The cluster description is cached for the life of a warm Lambda container; a token is minted
//! per run and replaced before it gets old.

pub mod eks_token;

use std::path::PathBuf;
use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use base64::Engine;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::{Mutex, OnceCell};

use eks_token::EksToken;

/// EKS API calls the catch-up makes, for the IAM policy's single source of truth.
pub const EKS_ACTIONS: [&str; 1] = ["eks:DescribeCluster"];

/// Why the API server could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// `DescribeCluster` failed (missing permission, wrong name, throttling).
    #[error("DescribeCluster {cluster} failed: {message}")]
    DescribeFailed {
        /// Cluster name.
        cluster: String,
        /// The SDK's account of it.
        message: String,
    },
    /// The cluster has no endpoint or CA yet (still creating), or they are malformed.
    #[error("cluster {0} has no usable endpoint or certificate authority")]
    NotReady(String),
    /// AWS credentials could not be loaded.
    #[error("loading AWS credentials failed: {0}")]
    CredentialsFailed(String),
    /// A token could not be minted.
    #[error(transparent)]
    TokenFailed(#[from] eks_token::TokenError),
    /// The kubeconfig or CA override file could not be used.
    #[error("cluster configuration: {0}")]
    BadConfig(String),
}

impl ClusterError {
    /// Whether a later run can succeed without a change of configuration.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ClusterError::DescribeFailed { .. }
                | ClusterError::NotReady(_)
                | ClusterError::CredentialsFailed(_)
        )
    }
}

/// Which cluster to read, and how.
#[derive(Clone, Debug)]
pub enum ClusterTarget {
    /// An EKS cluster by name.
    Eks {
        /// The EKS cluster name (also the token's `x-k8s-aws-id`).
        name: String,
        /// Use this API endpoint instead of DescribeCluster's (tests, private DNS setups).
        endpoint_override: Option<String>,
        /// Trust this PEM CA file instead of DescribeCluster's.
        ca_override: Option<PathBuf>,
    },
    /// Whatever a kubeconfig file says (local runs, non-EKS clusters).
    Kubeconfig(PathBuf),
}

/// Builds API clients for the target, caching what can be cached.
pub struct ClusterConnector {
    target: ClusterTarget,
    aws: Option<aws_config::SdkConfig>,
    described: OnceCell<(String, Option<Vec<u8>>)>,
    token: Mutex<Option<EksToken>>,
}

impl ClusterConnector {
    /// A connector; `aws` is required for [`ClusterTarget::Eks`].
    pub fn new(target: ClusterTarget, aws: Option<aws_config::SdkConfig>) -> Self {
        Self {
            target,
            aws,
            described: OnceCell::new(),
            token: Mutex::new(None),
        }
    }

    /// A client with a fresh-enough token.
    pub async fn client(&self) -> Result<kube::Client, ClusterError> {
        let config = match &self.target {
            ClusterTarget::Kubeconfig(path) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .map_err(|e| ClusterError::BadConfig(format!("{}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| ClusterError::BadConfig(format!("{}: {e}", path.display())))?
            }
            ClusterTarget::Eks { name, .. } => self.eks_config(name).await?,
        };
        kube::Client::try_from(config).map_err(|e| ClusterError::BadConfig(e.to_string()))
    }

    async fn eks_config(&self, name: &str) -> Result<kube::Config, ClusterError> {
        let aws = self
            .aws
            .as_ref()
            .ok_or_else(|| ClusterError::BadConfig("EKS mode needs AWS configuration".into()))?;
        let (endpoint, ca) = self
            .described
            .get_or_try_init(|| self.describe(aws, name))
            .await?
            .clone();
        let token = self.token(aws, name).await?;
        let url: http::Uri = endpoint
            .parse()
            .map_err(|_| ClusterError::NotReady(name.to_owned()))?;
        let mut config = kube::Config::new(url);
        config.root_cert = ca.map(|der| vec![der]);
        let bearer = format!("Bearer {}", token.token);
        let value = http::HeaderValue::from_str(&bearer)
            .map_err(|_| ClusterError::NotReady(name.to_owned()))?;
        config.headers.push((http::header::AUTHORIZATION, value));
        Ok(config)
    }

    /// Endpoint and CA (DER), from the overrides or DescribeCluster.
    async fn describe(
        &self,
        aws: &aws_config::SdkConfig,
        name: &str,
    ) -> Result<(String, Option<Vec<u8>>), ClusterError> {
        let ClusterTarget::Eks {
            endpoint_override,
            ca_override,
            ..
        } = &self.target
        else {
            unreachable!("only EKS targets are described");
        };
        let ca_from_file = match ca_override {
            Some(path) => {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| ClusterError::BadConfig(format!("{}: {e}", path.display())))?;
                Some(pem_to_der(&pem).ok_or_else(|| {
                    ClusterError::BadConfig(format!("{}: not a PEM certificate", path.display()))
                })?)
            }
            None => None,
        };
        if let Some(endpoint) = endpoint_override {
            return Ok((endpoint.clone(), ca_from_file));
        }
        let cluster = aws_sdk_eks::Client::new(aws)
            .describe_cluster()
            .name(name)
            .send()
            .await
            .map_err(|e| ClusterError::DescribeFailed {
                cluster: name.to_owned(),
                message: aws_sdk_eks::error::DisplayErrorContext(&e).to_string(),
            })?
            .cluster
            .ok_or_else(|| ClusterError::NotReady(name.to_owned()))?;
        let endpoint = cluster
            .endpoint
            .ok_or_else(|| ClusterError::NotReady(name.to_owned()))?;
        let ca = match ca_from_file {
            Some(der) => Some(der),
            None => {
                let data = cluster
                    .certificate_authority
                    .and_then(|ca| ca.data)
                    .ok_or_else(|| ClusterError::NotReady(name.to_owned()))?;
                let pem = base64::engine::general_purpose::STANDARD
                    .decode(data.trim())
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| ClusterError::NotReady(name.to_owned()))?;
                Some(pem_to_der(&pem).ok_or_else(|| ClusterError::NotReady(name.to_owned()))?)
            }
        };
        Ok((endpoint, ca))
    }

    async fn token(
        &self,
        aws: &aws_config::SdkConfig,
        name: &str,
    ) -> Result<EksToken, ClusterError> {
        let mut cached = self.token.lock().await;
        let now = SystemTime::now();
        if let Some(token) = cached.as_ref().filter(|t| !t.needs_refresh(now)) {
            return Ok(token.clone());
        }
        let provider = aws
            .credentials_provider()
            .ok_or_else(|| ClusterError::CredentialsFailed("no credentials provider".into()))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| ClusterError::CredentialsFailed(e.to_string()))?;
        let region = aws
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        // The token names the STS the *API server* replays it against: always the real regional
        // one, even when our own AWS calls go to an endpoint override.
        let endpoint = eks_token::sts_endpoint(&region, None);
        let token = eks_token::mint(&credentials, &region, &endpoint, name, now)?;
        *cached = Some(token.clone());
        Ok(token)
    }
}

/// The first certificate of a PEM text, as DER.
fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END CERTIFICATE-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()
        .filter(|d| !d.is_empty())
}
