//! The HTML timeline in a real browser: the golden records are read back from moto S3 through
//! the archive source by the real binary with `-o html`; headless Chromium (Debian's `chromium`)
//! takes a screenshot and dumps the DOM. The screenshot must not be blank and must show the
//! Warning colour where the marks are; the DOM must hold one row per object, one mark per
//! observation and each mark's hover text; the page must name no URL it could fetch.
//!
//! `make history-html-check` (part of `make test`) installs Chromium and a Pillow venv and runs
//! it with `--ignored`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use eventkeeper_core::Record;
use eventkeeper_history::html::{NORMAL_COLOUR, WARNING_COLOUR};
use eventkeeper_tests::peers::MotoServer;

mod common;

use common::{history_command, output_of, s3_with_bucket};

const BUCKET: &str = "eventkeeper-archive";
/// The golden test's clock (`tests/golden.rs`).
const NOW: &str = "2026-11-23T12:00:00Z";

/// Pixels of the screenshot, counted by Pillow: the whole picture and, right of the object
/// labels (x ≥ `min_x`), the pixels of exactly each mark colour.
const COUNT_PIXELS: &str = r#"
import json, sys
from PIL import Image
image = Image.open(sys.argv[1]).convert("RGB")
min_x = int(sys.argv[2])
colours = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in sys.argv[3:]]
width, height = image.size
pixels = image.load()
counts = [0] * len(colours)
non_white = 0
distinct = set()
for y in range(height):
    for x in range(width):
        p = pixels[x, y]
        distinct.add(p)
        if p != (255, 255, 255):
            non_white += 1
        if x >= min_x and p in colours:
            counts[colours.index(p)] += 1
print(json.dumps({"width": width, "height": height, "non_white": non_white,
                  "distinct": len(distinct), "marks": counts}))
"#;

fn env_path(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|p| Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!("{name} must name an executable; `make history-html-check` sets it")
        })
}

fn assert_ok(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what}: {}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Headless Chromium with a fresh profile and nothing that reaches out on its own.
fn chromium(profile: &Path) -> Command {
    let mut command = Command::new(env_path("EVENTKEEPER_CHROMIUM"));
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1400,700",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// Text as Chromium serialises it in a dumped DOM.
fn dom_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs headless Chromium (EVENTKEEPER_CHROMIUM) and Pillow (EVENTKEEPER_PILLOW_PYTHON): run by make history-html-check"]
async fn the_timeline_renders_in_headless_chromium() {
    let chromium_path = env_path("EVENTKEEPER_CHROMIUM");
    let pillow = env_path("EVENTKEEPER_PILLOW_PYTHON");
    let moto = MotoServer::start().expect("moto server (EVENTKEEPER_MOTO_SERVER)");
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/events-all-versions.jsonl"),
    )
    .expect("golden records");
    let records: Vec<Record> = fixture
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record"))
        .collect();
    let warnings = records
        .iter()
        .filter(|r| r.event_type() == "Warning")
        .count();
    assert!(warnings > 0 && warnings < records.len(), "both types");
    let objects: std::collections::BTreeSet<_> = records
        .iter()
        .map(|r| {
            let o = &r.involved_object;
            (o.namespace.clone(), o.kind.clone(), o.name.clone())
        })
        .collect();

    // The fixture as one archived object, where the catch-up would have put it.
    let s3 = s3_with_bucket(&moto, BUCKET).await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(fixture.as_bytes()).unwrap();
    s3.put_object()
        .bucket(BUCKET)
        .key("events/cluster=demo/dt=2026-11-23/hour=12/golden.json.gz")
        .body(gz.finish().unwrap().into())
        .send()
        .await
        .unwrap();

    let mut command = history_command(&moto);
    command
        .args(["events", "-A", "--all-versions", "--source", "archive"])
        .args(["--bucket", BUCKET, "--cluster", "demo", "--now", NOW])
        .args(["--since", "7h", "-o", "html"]);
    let out = output_of(command).await;
    assert_ok("kubectl-eventkeeper -o html", &out);
    let page = String::from_utf8(out.stdout).expect("UTF-8");

    // Self-contained: nothing in the page can make the browser fetch anything.
    let lower = page.to_ascii_lowercase();
    for needle in [
        "http:", "https:", "//", "<script", "<link", "<img", "<iframe", "src=", "href=", "url(",
        "@import",
    ] {
        assert!(!lower.contains(needle), "the page contains {needle:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("timeline.html");
    std::fs::write(&html, &page).unwrap();
    let url = format!("file://{}", html.display());
    let screenshot = dir.path().join("timeline.png");
    let (shot_profile, dom_profile) = (dir.path().join("p1"), dir.path().join("p2"));
    let mut shoot = chromium(&shot_profile);
    shoot
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&url);
    let mut dump = chromium(&dom_profile);
    dump.arg("--dump-dom").arg(&url);
    let (shot, dom) =
        tokio::task::spawn_blocking(move || (shoot.output().unwrap(), dump.output().unwrap()))
            .await
            .unwrap();
    assert_ok(&format!("{chromium_path} --screenshot"), &shot);
    assert_ok(&format!("{chromium_path} --dump-dom"), &dom);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();

    // The DOM: one labelled row per object, one mark per observation, each with its hover text.
    assert_eq!(
        dom.matches("class=\"object\"").count(),
        objects.len(),
        "one row per object:\n{dom}"
    );
    for (_, kind, name) in &objects {
        let label = format!(
            "{}/{}",
            kind.as_deref().unwrap_or("").to_ascii_lowercase(),
            name.as_deref().unwrap_or("")
        );
        assert!(dom.contains(&dom_text(&label)), "row {label}:\n{dom}");
    }
    assert_eq!(
        dom.matches("<circle").count(),
        records.len(),
        "a mark per observation"
    );
    assert_eq!(
        dom.matches(&format!("fill=\"{WARNING_COLOUR}\"")).count(),
        warnings
    );
    for r in &records {
        let hover = format!(
            "{} {} {} (x{}): {}",
            r.effective_time.as_deref().unwrap(),
            r.event_type(),
            r.reason.as_deref().unwrap(),
            r.occurrences,
            r.message.as_deref().unwrap()
        );
        let mark = format!("<title>{}</title></circle>", dom_text(&hover));
        assert!(dom.contains(&mark), "hover text {mark}:\n{dom}");
    }

    // The pixels: a picture, and marks of both colours right of the labels (the legend's dots
    // are at the left, so they do not count).
    let counted = Command::new(pillow)
        .arg("-c")
        .arg(COUNT_PIXELS)
        .arg(&screenshot)
        .arg((eventkeeper_history::html::LABEL_WIDTH as u32 + 8).to_string())
        .args([WARNING_COLOUR, NORMAL_COLOUR])
        .output()
        .unwrap();
    assert_ok("pixel count", &counted);
    let counts: serde_json::Value = serde_json::from_slice(&counted.stdout).unwrap();
    let (width, height) = (
        counts["width"].as_u64().unwrap(),
        counts["height"].as_u64().unwrap(),
    );
    assert_eq!((width, height), (1400, 700), "{counts}");
    let non_white = counts["non_white"].as_u64().unwrap();
    assert!(non_white * 200 > width * height, "not blank: {counts}");
    assert!(
        counts["distinct"].as_u64().unwrap() > 10,
        "not flat: {counts}"
    );
    // A mark of radius 6 has about 80 pixels of exactly its colour inside its anti-aliased edge.
    let warning_pixels = counts["marks"][0].as_u64().unwrap();
    let normal_pixels = counts["marks"][1].as_u64().unwrap();
    assert!(warning_pixels >= 40, "Warning marks visible: {counts}");
    assert!(normal_pixels >= 40, "Normal marks visible: {counts}");
}
