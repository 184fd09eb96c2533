//! The Slack and Teams examples in docs/notifications/ are what the code renders for a fixed
//! notification; this test fails when they drift (regenerate with
//! `EVENTKEEPER_UPDATE_GENERATED=1 cargo test -p eventkeeper-notify --test rendered_examples`).

use std::path::PathBuf;

use eventkeeper_core::fixtures::TestEvent;
use eventkeeper_core::{Context, Origin, normalise};
use eventkeeper_notify::decision::{Episode, Step};
use eventkeeper_notify::layout::Layout;
use eventkeeper_notify::message::{LinkTarget, Notification};
use eventkeeper_notify::render::{self, Outgoing};
use serde_json::{Value, json};

fn example() -> Notification {
    let event = TestEvent::new()
        .warning()
        .namespace("shop")
        .about("Pod", "checkout-7d9f8c6b5-x2x7k")
        .set_in(&["involvedObject", "namespace"], "shop")
        .reason("BackOff")
        .message("Back-off restarting failed container checkout in pod checkout-7d9f8c6b5-x2x7k_shop(4f1c2a9e-0b7d-4c51-9a43-2f7e8d6c1b11)")
        .count(100)
        .last_timestamp(json!("2026-03-14T09:41:07Z"));
    let record = normalise(&event.json(), &Context::new("prod-eu", Origin::Watch)).unwrap();
    let episode = Episode {
        first_seen: Some("2026-03-14T08:58:12Z".parse().unwrap()),
        last_seen: Some("2026-03-14T09:41:07Z".parse().unwrap()),
        count: 100,
        level: 2,
        steps: 3,
    };
    Notification::new(
        "crash-loop",
        "prod-eu/Pod/shop/checkout-7d9f8c6b5-x2x7k/BackOff",
        Step::Threshold(100),
        &episode,
        &record,
        Layout::ContainerInsights,
        false,
        &LinkTarget {
            region: "eu-west-1".into(),
            log_group: "/aws/containerinsights/prod-eu/application".into(),
        },
    )
}

fn check(name: &str, rendered: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/notifications")
        .join(name);
    let text = serde_json::to_string_pretty(rendered).unwrap() + "\n";
    if std::env::var_os("EVENTKEEPER_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e})", path.display()));
    assert_eq!(committed, text, "{} is stale", path.display());
}

#[test]
fn the_documented_slack_and_teams_messages_are_what_the_code_sends() {
    let n = example();
    check("slack-message.json", &render::slack(Outgoing::Single(&n)));
    check("teams-message.json", &render::teams(Outgoing::Single(&n)));
    check(
        "webhook-message.json",
        &render::generic(Outgoing::Single(&n)),
    );
}
