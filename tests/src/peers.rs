//! Real peers for end-to-end tests, each a separate process stopped when its handle drops: the
//! simulator (`eventkeeper-sim`), moto server (S3, EKS, STS, CloudWatch Logs) and the emitter
//! (`eventkeeper-emitter`, for tests of other crates that run next to it).

use std::io::{BufRead, BufReader};
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

/// Path of a workspace binary, built (or found fresh: cargo does nothing then) once per test
/// process, in the test's own profile and target directory. Never a stale copy: a test of
/// another crate that runs `eventkeeper-emitter` gets the emitter as the source is now.
pub fn workspace_binary(package: &str, name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let profile_dir = target_profile_dir();
    let path = profile_dir.join(name);
    if !built.iter().any(|b| b == name) {
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "-p", package, "--bin", name])
            .current_dir(crate::repo_root());
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            build.env("CARGO_TARGET_DIR", target);
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building {name} failed");
        assert!(path.exists(), "{} missing after the build", path.display());
        built.push(name.to_owned());
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

/// The catch-up `binary` (its own crate's tests pass `CARGO_BIN_EXE_eventkeeper-catchup`,
/// others [`workspace_binary`]) as a CLI run, never in Lambda mode: cluster `demo`, read
/// through the simulator's kubeconfig, logs as text. The caller names where it archives.
pub fn catchup_command(binary: &Path, sim: &SimProcess) -> Command {
    let mut command = Command::new(binary);
    command
        .args([
            "--cluster-name",
            "demo",
            "--log-format",
            "text",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig)
        .env_remove("AWS_LAMBDA_RUNTIME_API");
    command
}

/// A running simulator.
pub struct SimProcess {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// A kubeconfig that points at it.
    pub kubeconfig: PathBuf,
    /// The test's scratch directory: the kubeconfig, the simulator's log (`sim.log`), and room
    /// for the test's own outputs. Copied aside when the test fails.
    pub dir: tempfile::TempDir,
}

impl SimProcess {
    /// Starts `eventkeeper-sim` with `args` and waits until it listens. Logs at `warn` unless
    /// `args` set `--log-level` (e.g. `warn,eventkeeper_sim::router=debug` logs every request,
    /// see [`Self::requests`]).
    pub fn start(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let log = std::fs::File::create(dir.path().join("sim.log")).expect("log file");
        let mut child = Command::new(sim_binary())
            .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .args(if args.contains(&"--log-level") {
                &[][..]
            } else {
                &["--log-level", "warn"][..]
            })
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
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
            dir,
        }
    }

    /// Starts the simulator serving Events from a watch cache (`--watch-cache`: BOOKMARKs every
    /// `--bookmark-interval`, a window of `--watch-history` changes), as a cluster configured
    /// with `--watch-cache-sizes` does. Without it Events are served as by default, from etcd.
    pub fn start_with_watch_cache(args: &[&str]) -> Self {
        let mut all = vec!["--watch-cache"];
        all.extend_from_slice(args);
        Self::start(&all)
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

    /// POST to the admin API; the answer as JSON (`null` when it is not JSON).
    pub fn post(&self, path: &str, body: Value) -> Value {
        serde_json::from_str(&self.admin("POST", path, Some(&body))).unwrap_or(Value::Null)
    }

    /// `/_sim/status`: live events, generation progress, ...
    pub fn status(&self) -> Value {
        serde_json::from_str(&self.admin("GET", "/_sim/status", None)).expect("status JSON")
    }

    /// Sets faults (`/_sim/faults`).
    pub fn faults(&self, faults: Value) {
        self.post("/_sim/faults", faults);
    }

    /// The fault settings and what is left of them (`GET /_sim/faults`).
    pub fn faults_state(&self) -> Value {
        serde_json::from_str(&self.admin("GET", "/_sim/faults", None)).expect("faults JSON")
    }

    /// Starts generating load and returns at once (see [`Self::wait_generated`]).
    pub fn start_generating(&self, spec: Value) {
        self.post("/_sim/generate", spec);
    }

    /// Generates load and waits until the generator is done.
    pub fn generate(&self, spec: Value) {
        self.start_generating(spec);
        wait_until(Duration::from_secs(120), "the generator to finish", || {
            (self.status()["generating"] == false).then_some(())
        });
    }

    /// Waits until no generation runs and at least `writes` were generated in total.
    pub fn wait_generated(&self, writes: u64, timeout: Duration) {
        wait_until(timeout, "the generator to finish", || {
            let status = self.status();
            (status["generated"].as_u64() >= Some(writes) && status["generating"] == false)
                .then_some(())
        });
    }

    /// The Lease `namespace/name` as the API returns it (`None` when it does not exist).
    pub fn lease(&self, namespace: &str, name: &str) -> Option<Value> {
        let path = format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}");
        let (status, text) = http_call(&self.url, "GET", &path, None);
        match status {
            404 => None,
            200 => Some(serde_json::from_str(&text).expect("Lease JSON")),
            other => panic!("GET {path}: {other} {text}"),
        }
    }

    /// The requests the simulator logged (`Request method=… path=… query=…` lines of its log,
    /// written when it runs with `eventkeeper_sim::router=debug`), each as that line.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("sim.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" Request ") && l.contains("method="))
            .map(str::to_owned)
            .collect()
    }

    /// Every observation the simulator produced, in order.
    pub fn observations(&self) -> Vec<Value> {
        self.admin("GET", "/_sim/observations", None)
            .lines()
            .map(|line| serde_json::from_str(line).expect("observation JSON"))
            .collect()
    }

    /// Copies the scratch directory and the simulator's observations where a failed test's
    /// reader can look at them.
    fn keep_outputs(&self) {
        let test = std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "-");
        let keep = std::env::temp_dir()
            .join(format!("eventkeeper-failed-{}", std::process::id()))
            .join(test);
        if std::fs::create_dir_all(&keep).is_err() {
            return;
        }
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::copy(entry.path(), keep.join(entry.file_name()));
        }
        if let Ok((_, observations)) = try_http_call(&self.url, "GET", "/_sim/observations", None) {
            let _ = std::fs::write(keep.join("observations.jsonl"), observations);
        }
        eprintln!("kept the outputs in {}", keep.display());
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.keep_outputs();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms until it returns `Some`; panics with `what` after `timeout`.
pub fn wait_until<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Lease timings for test emitters: a dead leader's Lease expires after two seconds.
pub const FAST_LEASE: [&str; 8] = [
    "--lease-duration",
    "2s",
    "--renew-deadline",
    "1500ms",
    "--retry-period",
    "250ms",
    "--checkpoint-interval",
    "300ms",
];

/// A running emitter whose stdout is appended to a file (like a container log; stderr goes
/// next to it with the extension `log`). Restarts keep appending to the same files.
pub struct EmitterProcess {
    child: Child,
    /// Health port on 127.0.0.1.
    pub port: u16,
    /// Where stdout goes.
    pub out: PathBuf,
    binary: PathBuf,
    kubeconfig: PathBuf,
    args: Vec<String>,
}

impl EmitterProcess {
    /// Starts the workspace's `eventkeeper-emitter run` against `kubeconfig` as `identity`
    /// (cluster `demo`, [`FAST_LEASE`] timings unless `extra` sets them, then `extra`), and
    /// waits until its health port answers.
    pub fn start(kubeconfig: &Path, identity: &str, out: &Path, extra: &[&str]) -> Self {
        let binary = workspace_binary("eventkeeper-emitter", "eventkeeper-emitter");
        Self::start_binary(&binary, kubeconfig, identity, out, extra)
    }

    /// [`Self::start`] with a given binary (the emitter's own tests pass the one cargo built
    /// for them).
    pub fn start_binary(
        binary: &Path,
        kubeconfig: &Path,
        identity: &str,
        out: &Path,
        extra: &[&str],
    ) -> Self {
        let mut args: Vec<String> = vec!["--identity".into(), identity.into()];
        for flag in FAST_LEASE.chunks(2) {
            if !extra.contains(&flag[0]) {
                args.extend(flag.iter().map(|s| (*s).to_owned()));
            }
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let port = free_port();
        let emitter = Self {
            child: spawn_emitter(binary, kubeconfig, &args, out, port),
            port,
            out: out.to_owned(),
            binary: binary.to_owned(),
            kubeconfig: kubeconfig.to_owned(),
            args,
        };
        emitter.wait_live();
        emitter
    }

    /// Waits until the health port answers.
    pub fn wait_live(&self) {
        wait_until(Duration::from_secs(20), "the emitter's /livez", || {
            self.probe("/livez").map(|_| ())
        });
    }

    /// Waits until this replica leads.
    pub fn wait_leader(&self, timeout: Duration) {
        wait_until(timeout, "the emitter to lead", || {
            self.is_leader().then_some(())
        });
    }

    /// GET on the health port: (status, body), `None` when it does not answer.
    pub fn probe(&self, path: &str) -> Option<(u16, String)> {
        try_http_call(&format!("127.0.0.1:{}", self.port), "GET", path, None).ok()
    }

    /// Whether `/readyz` says this replica leads.
    pub fn is_leader(&self) -> bool {
        self.probe("/readyz")
            .is_some_and(|(status, body)| status == 200 && body == "leader")
    }

    /// A metric's value: the first series whose line starts with `series`.
    pub fn metric(&self, series: &str) -> Option<f64> {
        let (_, text) = self.probe("/metrics")?;
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    /// The sum of every series of a metric (all label values).
    pub fn metric_sum(&self, name: &str) -> Option<f64> {
        let (_, text) = self.probe("/metrics")?;
        Some(
            text.lines()
                .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum(),
        )
    }

    /// The process id of the current run (it changes on a restart).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size of the process (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// SIGTERM (the emitter flushes, checkpoints and releases its Lease), then waits at most
    /// `timeout` for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        wait_until(timeout, "the emitter to exit after SIGTERM", || {
            self.child.try_wait().ok().flatten()
        })
    }

    /// SIGKILL, and waits for the process to end.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGKILL, then the same binary, flags and identity again (on a new health port).
    pub fn kill_and_restart(&mut self) {
        self.kill9();
        self.port = free_port();
        self.child = spawn_emitter(
            &self.binary,
            &self.kubeconfig,
            &self.args,
            &self.out,
            self.port,
        );
        self.wait_live();
    }

    /// The records the emitter wrote so far.
    pub fn records(&self) -> Vec<Value> {
        read_records(&self.out)
    }
}

impl Drop for EmitterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_emitter(
    binary: &Path,
    kubeconfig: &Path,
    args: &[String],
    out: &Path,
    port: u16,
) -> Child {
    let open = |path: &Path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("output file")
    };
    let log = if out == Path::new("/dev/null") {
        out.to_owned()
    } else {
        out.with_extension("log")
    };
    Command::new(binary)
        .args(["run", "--cluster-name", "demo", "--log-format", "text"])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .env_remove("EVENTKEEPER_NAMESPACES")
        .env_remove("EVENTKEEPER_INCLUDE")
        .env_remove("EVENTKEEPER_EXCLUDE")
        // As in a pod of namespace `default`: the emitter's Lease is `default/eventkeeper`.
        .env("POD_NAMESPACE", "default")
        .env("EVENTKEEPER_LOG_LEVEL", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::from(open(out)))
        .stderr(Stdio::from(open(&log)))
        .spawn()
        .expect("the emitter starts")
}

/// The records in an emitter's output file: every complete line, parsed (a line that does not
/// parse fails the test; a last line still being written is left for the next read).
pub fn read_records(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
    complete
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line ({e}): {l:.200}")))
        .collect()
}

/// The access key test clients sign with.
pub const MOTO_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

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
            eventkeeper_core::fixtures::missing_peer(
                "moto server",
                "set EVENTKEEPER_MOTO_SERVER; `make test` does",
            );
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

    /// The server's process id (a benchmark pins it to another core).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Environment for an AWS client pointed at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", MOTO_ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", MOTO_SECRET_KEY.into()),
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

/// One request to a plain-HTTP server (through [`crate::http`]); returns status and body.
pub fn http_call(base: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    send(base, method, path, body, &[]).unwrap_or_else(|e| panic!("{method} {base}{path}: {e}"))
}

/// [`http_call`] for a server that may be going away (a probe): `Err` instead of a panic.
pub fn try_http_call(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, String)> {
    send(base, method, path, body, &[])
}

/// A GET-style request with extra headers (e.g. `x-k8s-aws-id`).
pub fn http_call_with_headers(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    send(base, method, path, None, headers).unwrap_or_else(|e| panic!("{method} {base}{path}: {e}"))
}

fn send(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String)> {
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut all = headers.to_vec();
    if body.is_some() {
        all.push(("content-type", "application/json"));
    }
    crate::http::call(base, method, path, &all, payload.as_bytes())
}
