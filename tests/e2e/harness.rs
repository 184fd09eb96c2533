//! The shared harness itself: a failed test keeps its outputs where docs/emitter.md says.

use eventkeeper_tests::peers::SimProcess;

#[test]
fn a_failed_test_keeps_its_outputs() {
    let test = "harness-keeps-outputs";
    let kept = std::env::temp_dir().join(format!("eventkeeper-failed-{}", std::process::id()));
    let failed = std::thread::Builder::new()
        .name(test.into())
        .spawn(|| {
            let sim = SimProcess::start(&[]);
            std::fs::write(sim.dir.path().join("stdout.jsonl"), "{}\n").expect("write");
            panic!("this test fails on purpose");
        })
        .expect("thread")
        .join();
    assert!(failed.is_err(), "the thread failed");
    for file in [
        "kubeconfig",
        "sim.log",
        "stdout.jsonl",
        "observations.jsonl",
    ] {
        let path = kept.join(test).join(file);
        assert!(path.is_file(), "{} kept", path.display());
    }
    std::fs::remove_dir_all(&kept).expect("clean up");
}
