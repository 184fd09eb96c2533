//! `eventkeeper-emitter convert` as a user runs it: the real binary, stdin to stdout.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn convert(input: &[u8], args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventkeeper-emitter"))
        .arg("convert")
        .args(args)
        .env_remove("EVENTKEEPER_CLUSTER_NAME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the emitter binary starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("convert finishes");
    writer.join().expect("writer").expect("stdin accepted");
    output
}

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(|line| serde_json::from_str(line).expect("every stdout line is a JSON record"))
        .collect()
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/fixtures").join(path)).expect("fixture exists")
}

#[test]
fn converts_a_kubectl_list_to_one_line_per_event() {
    let output = convert(
        &fixture("seeds/nginx-lifecycle.json"),
        &["--cluster-name", "demo"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = lines(&output);
    let reasons: Vec<_> = records
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "Scheduled",
            "Pulling",
            "Pulled",
            "Created",
            "Started",
            "Killing"
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| r["cluster"] == "demo" && r["origin"] == "convert")
    );
}

#[test]
fn a_broken_list_item_is_reported_and_the_rest_converted() {
    let output = convert(&fixture("edge/list-with-broken-items.json"), &[]);
    assert_eq!(
        output.status.code(),
        Some(65),
        "non-zero when something was skipped"
    );
    assert_eq!(lines(&output).len(), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("items[1]: not a JSON object"), "{stderr}");
    assert!(stderr.contains("items[2]: not a JSON object"), "{stderr}");
    assert!(
        stderr.contains("items[4]: expected kind Event, found kind \"Pod\""),
        "{stderr}"
    );
}

#[test]
fn a_broken_json_line_is_reported_with_its_line() {
    let output = convert(&fixture("edge/lines-with-broken-line.jsonl"), &[]);
    assert_eq!(output.status.code(), Some(65));
    let records = lines(&output);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["message"], "third");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("skipped line 2: invalid JSON"), "{stderr}");
}

#[test]
fn the_line_budget_flag_is_honoured_and_bad_values_exit_64() {
    let output = convert(
        &fixture("edge/huge-message-1mib.json"),
        &["--max-line-bytes", "4096"],
    );
    assert!(output.status.success());
    assert!(output.stdout.len() <= 4096 && output.stdout.ends_with(b"\n"));
    assert_eq!(lines(&output)[0]["truncated"]["fields"][0], "message");

    let bad = convert(b"", &["--max-line-bytes", "12"]);
    assert_eq!(
        bad.status.code(),
        Some(64),
        "bad configuration exits 64 (contract)"
    );
    assert!(bad.stdout.is_empty());
}

#[test]
fn converts_every_file_of_the_real_event_corpus() {
    let Some(dir) = eventkeeper_core::fixtures::real_events_dir() else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus readable")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut total = 0;
    for file in &files {
        let output = convert(&std::fs::read(file).expect("readable"), &[]);
        assert!(
            output.status.success(),
            "{}: {}",
            name(file),
            String::from_utf8_lossy(&output.stderr)
        );
        total += lines(&output).len();
    }
    assert!(
        files.len() >= 40 && total > 250,
        "{} files, {total} records",
        files.len()
    );
}

fn name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
