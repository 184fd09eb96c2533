//! The archive in S3: conditional writes (`If-None-Match: *` for objects, `If-Match: <etag>` for
//! the checkpoint) make concurrent and repeated runs safe. Throttling and 5xx are retried by the
//! SDK's standard retry policy before they surface as `Unavailable`.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::http::Response as HttpResponse;

use super::{ArchiveStore, Checkpoint, ObjectInfo, SpooledObject, StoreError, Tag, checkpoint_key};

/// S3 API calls the catch-up makes, for the IAM policy's single source of truth.
pub const S3_ACTIONS: [&str; 2] = ["s3:GetObject", "s3:PutObject"];

/// Granted on the bucket itself: without `s3:ListBucket`, S3 answers a GET of a missing key with
/// 403 instead of 404, and the first run could never read "no checkpoint yet".
pub const S3_BUCKET_ACTIONS: [&str; 1] = ["s3:ListBucket"];

/// User-metadata key holding [`ObjectInfo`] as JSON.
const INFO_METADATA: &str = "eventkeeper-info";

/// An archive in one bucket under one prefix.
#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
    checkpoint_key: String,
}

impl S3Store {
    /// An archive in `bucket`, keys starting with `prefix`, for `cluster`.
    pub fn new(client: Client, bucket: &str, prefix: &str, cluster: &str) -> Self {
        Self {
            client,
            bucket: bucket.to_owned(),
            checkpoint_key: checkpoint_key(prefix, cluster),
        }
    }
}

impl ArchiveStore for S3Store {
    async fn read_checkpoint(&self) -> Result<Option<(Checkpoint, Tag)>, StoreError> {
        let response = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.checkpoint_key)
            .send()
            .await;
        let Some(output) = missing_as_none(response, |e| e.is_no_such_key())? else {
            return Ok(None);
        };
        let etag = output.e_tag().unwrap_or_default().to_owned();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable(format!("reading the checkpoint: {e}")))?
            .into_bytes();
        let checkpoint = serde_json::from_slice(&bytes).map_err(|e| {
            StoreError::Failed(format!(
                "s3://{}/{} is not a checkpoint: {e}",
                self.bucket, self.checkpoint_key
            ))
        })?;
        Ok(Some((checkpoint, Tag(etag))))
    }

    async fn write_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        expected: Option<&Tag>,
    ) -> Result<Tag, StoreError> {
        let body = serde_json::to_vec_pretty(checkpoint).expect("a checkpoint serializes");
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.checkpoint_key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        let request = match expected {
            Some(Tag(etag)) => request.if_match(etag),
            None => request.if_none_match("*"),
        };
        let output = request.send().await.map_err(classify)?;
        Ok(Tag(output.e_tag().unwrap_or_default().to_owned()))
    }

    async fn create_object(&self, key: &str, object: &SpooledObject) -> Result<(), StoreError> {
        let SpooledObject { body, info } = object;
        // Streamed from disk; the SDK reopens the file if it retries the request.
        let stream = ByteStream::read_from()
            .path(body.path())
            .build()
            .await
            .map_err(|e| StoreError::Unavailable(format!("reading the spooled archive: {e}")))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/x-ndjson")
            .content_encoding("gzip")
            .metadata(
                INFO_METADATA,
                serde_json::to_string(info).expect("info serializes"),
            )
            .if_none_match("*")
            .content_length(body.len() as i64)
            .body(stream)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn object_info(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let response = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let Some(output) = missing_as_none(response, |e| e.is_not_found())? else {
            return Ok(None);
        };
        let text = output
            .metadata()
            .and_then(|m| m.get(INFO_METADATA))
            .ok_or_else(|| {
                StoreError::Failed(format!(
                    "s3://{}/{key} has no {INFO_METADATA} metadata",
                    self.bucket
                ))
            })?;
        serde_json::from_str(text).map(Some).map_err(|e| {
            StoreError::Failed(format!("s3://{}/{key}: bad metadata: {e}", self.bucket))
        })
    }
}

/// A read whose object may be absent: `Ok(None)` when `is_missing` recognises the service's
/// answer, otherwise the response with any other error classified.
fn missing_as_none<T, E>(
    response: Result<T, SdkError<E, HttpResponse>>,
    is_missing: impl FnOnce(&E) -> bool,
) -> Result<Option<T>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match response {
        Ok(output) => Ok(Some(output)),
        Err(error) if error.as_service_error().is_some_and(is_missing) => Ok(None),
        Err(error) => Err(classify(error)),
    }
}

/// Maps an SDK error to what the protocol needs to know.
fn classify<E>(error: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error.code().map(str::to_owned);
    let text = aws_sdk_s3::error::DisplayErrorContext(&error).to_string();
    match (status, code.as_deref()) {
        // 409 ConditionalRequestConflict: a concurrent conditional write; same meaning for us.
        (Some(412 | 409), _) | (_, Some("PreconditionFailed")) => {
            StoreError::PreconditionFailed(text)
        }
        (Some(429 | 500..=599), _) | (None, _) => StoreError::Unavailable(text),
        (_, Some("SlowDown" | "ServiceUnavailable" | "InternalError" | "RequestTimeout")) => {
            StoreError::Unavailable(text)
        }
        _ => StoreError::Failed(text),
    }
}
