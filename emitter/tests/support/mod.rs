//! End-to-end harness: the simulator and the emitter as separate processes, a tiny HTTP client
//! for the simulator's admin API and the emitter's health port, and the (uid, resourceVersion)
//! bookkeeping the tests assert on. Every process started here is killed on drop.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The emitter binary under test.
pub fn emitter_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_eventkeeper-emitter"))
}

/// The simulator binary, built once per test run next to the emitter's.
pub fn sim_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let emitter = emitter_bin();
            let dir = emitter.parent().expect("binary dir");
            let sim = dir.join("eventkeeper-sim");
            let release = dir.file_name().is_some_and(|n| n == "release");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "-p", "eventkeeper-sim", "--bin", "eventkeeper-sim"]);
            if release {
                build.arg("--release");
            }
            // Same target dir as this test binary: <target>/<profile>/eventkeeper-sim.
            if let Some(target) = dir.parent() {
                build.env("CARGO_TARGET_DIR", target);
            }
            let status = build.status().expect("cargo runs");
            assert!(status.success(), "building eventkeeper-sim failed");
            assert!(sim.exists(), "{} missing after build", sim.display());
            sim
        })
        .clone()
}

// The workspace's shared test harness has these; this one adds the emitter-specific parts.
pub use eventkeeper_tests::peers::{
    EmitterProcess, read_records as records, wait_until as wait_for,
};

/// Minimal HTTP/1.1 request; returns (status, body). Bounded by a 20 s timeout.
pub fn http(
    method: &str,
    addr: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// A simulator process.
pub struct Sim {
    child: Child,
    /// host:port.
    pub addr: String,
    /// kubeconfig written by the simulator.
    pub kubeconfig: PathBuf,
    /// Scratch directory of the test (kubeconfig, outputs).
    pub dir: tempfile::TempDir,
}

impl Sim {
    /// Starts `eventkeeper-sim` with extra flags and waits for its `listening on` line.
    pub fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig.yaml");
        let mut child = Command::new(sim_bin())
            .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .args(["--log-level", "warn"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("simulator starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("simulator prints its address");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self {
            child,
            addr,
            kubeconfig,
            dir,
        }
    }

    /// POST to the admin API.
    pub fn post(&self, path: &str, body: Value) -> Value {
        let (status, body) =
            http("POST", &self.addr, path, Some(&body)).expect("admin API answers");
        assert!(
            status < 300,
            "POST {path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    }

    /// GET a JSON document.
    pub fn get(&self, path: &str) -> Value {
        let (status, body) = http("GET", &self.addr, path, None).expect("API answers");
        assert!(status < 300, "GET {path}: {status}");
        serde_json::from_slice(&body).expect("JSON")
    }

    /// `/_sim/status`.
    pub fn status(&self) -> Value {
        self.get("/_sim/status")
    }

    /// Starts a load generation.
    pub fn generate(&self, spec: Value) {
        self.post("/_sim/generate", spec);
        // `generating` becomes true when the task starts; wait for `generated` to move or end.
    }

    /// Waits until no generation runs and at least `writes` were generated in total.
    pub fn wait_generated(&self, writes: u64, timeout: Duration) {
        wait_for(timeout, "the generator to finish", || {
            let s = self.status();
            (s["generated"].as_u64() >= Some(writes) && s["generating"] == false).then_some(())
        });
    }

    /// Sets faults.
    pub fn faults(&self, faults: Value) {
        self.post("/_sim/faults", faults);
    }

    /// Every observation the simulator produced: (uid, resourceVersion) → the observation.
    pub fn observations(&self) -> Vec<Value> {
        let (status, body) =
            http("GET", &self.addr, "/_sim/observations", None).expect("observations");
        assert_eq!(status, 200);
        body.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("observation JSON"))
            .collect()
    }

    /// The Lease as the API returns it.
    pub fn lease(&self, name: &str) -> Value {
        self.get(&format!(
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/{name}"
        ))
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Keep the outputs and logs of a failed test for a look.
        if std::thread::panicking() {
            let keep =
                std::env::temp_dir().join(format!("eventkeeper-e2e-failed-{}", std::process::id()));
            let keep = keep.join(
                std::thread::current()
                    .name()
                    .unwrap_or("test")
                    .replace("::", "-"),
            );
            if std::fs::create_dir_all(&keep).is_ok() {
                for entry in std::fs::read_dir(self.dir.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let _ = std::fs::copy(entry.path(), keep.join(entry.file_name()));
                }
                let _ = std::fs::write(
                    keep.join("observations.jsonl"),
                    http("GET", &self.addr, "/_sim/observations", None)
                        .map(|r| r.1)
                        .unwrap_or_default(),
                );
                eprintln!("kept the outputs in {}", keep.display());
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The emitter under test (the binary cargo built for these tests) against `sim`; the harness
/// itself is the workspace's, shared with the other crates' tests.
pub fn start_emitter(sim: &Sim, identity: &str, out: &Path, extra: &[&str]) -> EmitterProcess {
    EmitterProcess::start_binary(&emitter_bin(), &sim.kubeconfig, identity, out, extra)
}

/// (uid, resourceVersion) → how many times.
pub type Tally = BTreeMap<(String, String), u32>;

/// Counts records by idempotency key.
pub fn tally_records(records: &[Value]) -> Tally {
    let mut tally = Tally::new();
    for r in records {
        let key = (
            r["metadata"]["uid"].as_str().unwrap_or_default().to_owned(),
            r["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        *tally.entry(key).or_default() += 1;
    }
    tally
}

/// Counts observations by idempotency key.
pub fn tally_observations<'a>(observations: impl IntoIterator<Item = &'a Value>) -> Tally {
    let mut tally = Tally::new();
    for o in observations {
        let key = (
            o["uid"].as_str().unwrap_or_default().to_owned(),
            o["resourceVersion"].as_str().unwrap_or_default().to_owned(),
        );
        *tally.entry(key).or_default() += 1;
    }
    tally
}

/// What the comparison found.
#[derive(Debug)]
pub struct Comparison {
    /// Observations never written.
    pub lost: Vec<(String, String)>,
    /// Lines that match no observation.
    pub unexpected: Vec<(String, String)>,
    /// Extra copies of observations written more than once.
    pub duplicates: u32,
    /// Observations expected.
    pub expected: usize,
}

/// Compares what was written with what was expected.
pub fn compare(expected: &Tally, written: &Tally) -> Comparison {
    let lost = expected
        .keys()
        .filter(|k| !written.contains_key(*k))
        .cloned()
        .collect();
    let unexpected = written
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .cloned()
        .collect();
    let duplicates = written.values().map(|n| n.saturating_sub(1)).sum();
    Comparison {
        lost,
        unexpected,
        duplicates,
        expected: expected.len(),
    }
}

/// Waits until every expected observation is in `out` (or the timeout), then compares.
pub fn settle(expected: &Tally, outs: &[&Path], timeout: Duration) -> Comparison {
    let deadline = Instant::now() + timeout;
    loop {
        let mut written = Tally::new();
        for out in outs {
            for (k, n) in tally_records(&records(out)) {
                *written.entry(k).or_default() += n;
            }
        }
        let comparison = compare(expected, &written);
        if comparison.lost.is_empty() || Instant::now() >= deadline {
            return comparison;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A scale factor for the big tests: `EVENTKEEPER_E2E_SCALE` (default 1).
pub fn scale() -> u64 {
    std::env::var("EVENTKEEPER_E2E_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// A small pseudo-random number generator (xorshift), seeded from the clock and printed so a
/// failing run can be repeated with `EVENTKEEPER_E2E_SEED`.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `EVENTKEEPER_E2E_SEED` or the clock.
    pub fn new() -> Self {
        let seed = std::env::var("EVENTKEEPER_E2E_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            })
            | 1;
        eprintln!("e2e seed: {seed} (set EVENTKEEPER_E2E_SEED to repeat)");
        Self(seed)
    }

    /// A number in `lo..hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo).max(1)
    }
}
