//! AWS SDK configuration for the tests: every client signs with the test key and talks to a
//! moto server on 127.0.0.1.

use aws_credential_types::Credentials;

use crate::peers::{MOTO_ACCESS_KEY, MOTO_SECRET_KEY, MotoServer};

/// The credentials test clients sign with (moto accepts any; the simulator can verify them).
pub fn moto_credentials() -> Credentials {
    Credentials::new(MOTO_ACCESS_KEY, MOTO_SECRET_KEY, None, None, "test")
}

/// An SDK configuration whose clients talk to this moto server, in `us-east-1`.
pub async fn moto_sdk_config(moto: &MotoServer) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(moto_credentials())
        .load()
        .await
}
