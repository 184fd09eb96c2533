//! EKS bearer tokens, built here with AWS's own SigV4 signer (`aws-sigv4`) the way
//! aws-iam-authenticator and `aws eks get-token` do: a presigned STS GetCallerIdentity URL with
//! the signed header `x-k8s-aws-id: <cluster>`. Checked offline (signature with the secret key)
//! and, when EVENTKEEPER_MOTO_SERVER is set, by replaying the URL against moto's STS.

mod common;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use common::{get, request, tool};
use eventkeeper_sim::{AuthMode, EksConfig, SimConfig, Simulator};
use std::time::{Duration, SystemTime};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn token(endpoint: &str, cluster: &str, signed_at: SystemTime) -> String {
    let identity: Identity = Credentials::new("AKIDEXAMPLE", SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(signed_at)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let url = format!("{endpoint}/?Action=GetCallerIdentity&Version=2011-06-15");
    let signable = SignableRequest::new(
        "GET",
        &url,
        [("x-k8s-aws-id", cluster)].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut req = http::Request::get(&url).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    let presigned = req.uri().to_string();
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned)
    )
}

async fn list_status(sim: &Simulator, token: Option<&str>) -> (u16, serde_json::Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    let r = request(
        "GET",
        &format!("{}/api/v1/events", sim.url()),
        &headers,
        None,
    )
    .await;
    (r.status, r.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_tokens_are_checked_offline_with_the_signing_key() {
    let sim = Simulator::start(SimConfig {
        auth: AuthMode::Eks(EksConfig {
            cluster_name: "demo".into(),
            sts_endpoint: None,
            secret_key: Some(SECRET.into()),
        }),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let aws = "https://sts.us-east-1.amazonaws.com";
    let now = SystemTime::now();
    let (code, _) = list_status(&sim, Some(&token(aws, "demo", now))).await;
    assert_eq!(code, 200, "a token for this cluster is accepted");

    let (code, status) = list_status(&sim, Some(&token(aws, "another-cluster", now))).await;
    assert_eq!(code, 401, "signed for another cluster");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "Unauthorized");

    let old = now - Duration::from_secs(20 * 60);
    let (code, status) = list_status(&sim, Some(&token(aws, "demo", old))).await;
    assert_eq!(code, 401, "expired");
    assert!(status.to_string().contains("expired"), "{status}");

    let (code, _) = list_status(&sim, Some(&token("https://sts.evil.example", "demo", now))).await;
    assert_eq!(code, 401, "not an STS host");
    let (code, _) = list_status(&sim, Some("k8s-aws-v1.bm90LWEtdXJs")).await;
    assert_eq!(code, 401);
    let (code, _) = list_status(&sim, None).await;
    assert_eq!(code, 401);
}

struct Moto(tokio::process::Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_tokens_are_replayed_against_sts() {
    let Some(moto_server) = tool("EVENTKEEPER_MOTO_SERVER", "moto_server") else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = tokio::process::Command::new(moto_server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("moto_server starts");
    let mut moto = Moto(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let up = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await;
        if matches!(up, Ok(Ok(_))) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "moto did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(get(&format!("{endpoint}/moto-api/")).await.status < 500);

    let sim = Simulator::start(SimConfig {
        auth: AuthMode::Eks(EksConfig {
            cluster_name: "demo".into(),
            sts_endpoint: Some(endpoint.clone()),
            secret_key: None,
        }),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (code, body) = list_status(&sim, Some(&token(&endpoint, "demo", SystemTime::now()))).await;
    assert_eq!(code, 200, "{body}");
    let (code, _) = list_status(
        &sim,
        Some(&token("http://127.0.0.1:1", "demo", SystemTime::now())),
    )
    .await;
    assert_eq!(code, 401, "a URL for another STS endpoint is refused");
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        logged.contains("GetCallerIdentity"),
        "moto saw the presigned request: {logged}"
    );
    moto.0.kill().await.unwrap();
}
