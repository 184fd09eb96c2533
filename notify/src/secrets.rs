//! Webhook URLs and signing keys come from Secrets Manager or an SSM SecureString, named by ARN,
//! never from plain environment variables. Read once per cold start.

use aws_sdk_ssm::types::ParameterType;

use crate::aws_error::aws_error_text;

/// Secrets Manager and SSM calls of this module (the IAM policy is generated from these).
pub const SECRETS_MANAGER_ACTIONS: [&str; 1] = ["secretsmanager:GetSecretValue"];
/// See [`SECRETS_MANAGER_ACTIONS`].
pub const SSM_ACTIONS: [&str; 1] = ["ssm:GetParameter"];

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The reference is not a Secrets Manager secret ARN or an SSM parameter ARN.
    #[error(
        "secret {0:?} is not a Secrets Manager secret ARN or an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)"
    )]
    NotAnArn(String),
    /// The SSM parameter is a plain String: secrets must be SecureString.
    #[error("SSM parameter {0:?} is not a SecureString")]
    NotSecure(String),
    /// The secret has no string value.
    #[error("secret {0:?} has no string value")]
    Empty(String),
    /// The API call failed.
    #[error("reading secret {reference:?} failed: {reason}")]
    ReadFailed {
        /// The ARN.
        reference: String,
        /// The SDK's error.
        reason: String,
    },
}

impl SecretError {
    /// What a failed read of `reference` becomes (for `map_err`).
    fn read_failed<E: std::error::Error>(reference: &str) -> impl FnOnce(E) -> Self + '_ {
        move |error| Self::ReadFailed {
            reference: reference.to_owned(),
            reason: aws_error_text(error),
        }
    }
}

/// A place a secret can be read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    /// A Secrets Manager secret (ARN).
    SecretsManager(String),
    /// An SSM parameter, by name (`/path/name`), from its ARN.
    Ssm(String),
}

impl SecretRef {
    /// Parses an ARN.
    pub fn parse(arn: &str) -> Result<Self, SecretError> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", _, "secretsmanager", _, _, rest] if rest.starts_with("secret:") => {
                Ok(Self::SecretsManager(arn.to_owned()))
            }
            ["arn", _, "ssm", _, _, rest] if rest.starts_with("parameter/") => {
                let name = &rest["parameter".len()..];
                Ok(Self::Ssm(name.to_owned()))
            }
            _ => Err(SecretError::NotAnArn(arn.to_owned())),
        }
    }
}

/// Reads secrets.
#[derive(Clone, Debug)]
pub struct Secrets {
    secrets_manager: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
}

impl Secrets {
    /// Clients from one AWS configuration.
    pub fn new(aws: &aws_config::SdkConfig) -> Self {
        Self {
            secrets_manager: aws_sdk_secretsmanager::Client::new(aws),
            ssm: aws_sdk_ssm::Client::new(aws),
        }
    }

    /// The secret's string value.
    pub async fn read(&self, reference: &SecretRef) -> Result<String, SecretError> {
        match reference {
            SecretRef::SecretsManager(arn) => {
                let out = self
                    .secrets_manager
                    .get_secret_value()
                    .secret_id(arn)
                    .send()
                    .await
                    .map_err(SecretError::read_failed(arn))?;
                out.secret_string
                    .ok_or_else(|| SecretError::Empty(arn.clone()))
            }
            SecretRef::Ssm(name) => {
                let out = self
                    .ssm
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(SecretError::read_failed(name))?;
                let parameter = out
                    .parameter
                    .ok_or_else(|| SecretError::Empty(name.clone()))?;
                if parameter.r#type != Some(ParameterType::SecureString) {
                    return Err(SecretError::NotSecure(name.clone()));
                }
                parameter
                    .value
                    .ok_or_else(|| SecretError::Empty(name.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_secret_arns_are_accepted() {
        assert_eq!(
            SecretRef::parse("arn:aws:ssm:eu-west-1:123456789012:parameter/ek/slack").unwrap(),
            SecretRef::Ssm("/ek/slack".into())
        );
        assert!(matches!(
            SecretRef::parse("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ek-AbCdEf")
                .unwrap(),
            SecretRef::SecretsManager(_)
        ));
        for bad in [
            "https://hooks.slack.com/services/x",
            "arn:aws:s3:::bucket",
            "/ek/slack",
        ] {
            assert!(matches!(
                SecretRef::parse(bad),
                Err(SecretError::NotAnArn(_))
            ));
        }
    }
}
