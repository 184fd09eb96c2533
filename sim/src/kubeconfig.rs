//! The kubeconfig a simulator writes for itself (JSON, which every YAML reader accepts).

use base64::Engine as _;
use serde_json::{Value, json};

/// Context, cluster and user name in the kubeconfig.
pub const CONTEXT: &str = "eventkeeper-sim";

/// A kubeconfig for `server`, trusting `ca_pem` (HTTPS) and sending `token` when given.
pub fn render(server: &str, ca_pem: Option<&str>, token: Option<&str>) -> Value {
    let mut cluster = json!({"server": server});
    if let Some(ca) = ca_pem {
        cluster["certificate-authority-data"] =
            json!(base64::engine::general_purpose::STANDARD.encode(ca));
    }
    let mut user = json!({});
    if let Some(t) = token {
        user["token"] = json!(t);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": [{"name": CONTEXT, "user": user}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": "default"}}],
        "current-context": CONTEXT,
        "preferences": {},
    })
}
