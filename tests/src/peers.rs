//! Real peers for end-to-end tests, each a separate process stopped when its handle drops: the
//! simulator (`eventkeeper-sim`) and moto server (S3, EKS, STS, CloudWatch Logs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The workspace's target directory, found from the running test binary
/// (`<target>/<profile>/deps/<test>`), so `CARGO_TARGET_DIR` is honoured.
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// Path of a workspace binary, building it first when it is missing (once per test process).
pub fn workspace_binary(package: &str, name: &str) -> PathBuf {
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let path = target_profile_dir().join(name);
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", package, "--bin", name])
            .current_dir(crate::repo_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building {name} failed");
    }
    path
}

/// The simulator binary: `EVENTKEEPER_SIM_BIN` if set, else the workspace's own build.
pub fn sim_binary() -> PathBuf {
    match std::env::var_os("EVENTKEEPER_SIM_BIN") {
        Some(path) => PathBuf::from(path),
        None => workspace_binary("eventkeeper-sim", "eventkeeper-sim"),
    }
}

/// A running simulator.
pub struct SimProcess {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// A kubeconfig that points at it.
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl SimProcess {
    /// Starts `eventkeeper-sim` with `args` and waits until it listens.
    pub fn start(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(sim_binary())
            .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the simulator starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("the simulator says where it listens");
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Self {
            child,
            url,
            kubeconfig,
            _dir: dir,
        }
    }

    /// Calls the admin API; panics on a non-2xx answer.
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> String {
        let (status, text) = http_call(&self.url, method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        text
    }

    /// Generates load and waits until the generator is done.
    pub fn generate(&self, spec: Value) {
        self.admin("POST", "/_sim/generate", Some(&spec));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let status: Value = serde_json::from_str(&self.admin("GET", "/_sim/status", None))
                .expect("status JSON");
            if status["generating"] == false {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "generation did not finish: {status}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every observation the simulator produced, in order.
    pub fn observations(&self) -> Vec<Value> {
        self.admin("GET", "/_sim/observations", None)
            .lines()
            .map(|line| serde_json::from_str(line).expect("observation JSON"))
            .collect()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The secret key test clients sign with (moto accepts any; the simulator can verify it).
pub const MOTO_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A running moto server, or `None` (with a loud message) when `EVENTKEEPER_MOTO_SERVER` does not
/// name one (`make test` installs it and sets the variable).
pub struct MotoServer {
    child: Child,
    /// Endpoint URL, e.g. `http://127.0.0.1:5123`.
    pub url: String,
}

impl MotoServer {
    /// Starts moto server on a free loopback port.
    pub fn start() -> Option<Self> {
        let Some(program) =
            std::env::var_os("EVENTKEEPER_MOTO_SERVER").filter(|p| Path::new(p).exists())
        else {
            eprintln!("SKIPPED: needs moto server (set EVENTKEEPER_MOTO_SERVER; `make test` does)");
            return None;
        };
        let port = free_port();
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { child, url })
    }

    /// Environment for an AWS client pointed at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".into()),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            ),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A minimal HTTP/1.1 request to a plain-HTTP server; returns status and body.
pub fn http_call(base: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    send(base, method, path, body, &[])
}

/// A GET-style request with extra headers (e.g. `x-k8s-aws-id`).
pub fn http_call_with_headers(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    send(base, method, path, None, headers)
}

fn send(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let payload = body.map(Value::to_string).unwrap_or_default();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let content_type = if body.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    let host_line = if headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        String::new()
    } else {
        format!("Host: {host}\r\n")
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\n{host_line}Connection: close\r\n{extra}{content_type}Content-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .expect("write request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(rest)
        } else {
            rest.to_owned()
        },
    )
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
