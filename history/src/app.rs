//! One question from start to answer: resolve where to read, read every source into one merged
//! set, render it. Returns what to print and the exit status; `main` only prints.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::archive::{self, ArchiveLocation};
use crate::cloudwatch::{self, LogGroup};
use crate::config::{Cli, Command, Resolved, SourceChoice};
use crate::error::{EXIT_PARTIAL, HistoryError, Problem};
use crate::query::{Merged, Query};
use crate::table::{Format, render_json, render_table};
use crate::target::Target;
use crate::window::Window;
use crate::{html, live, why};

/// How long the API server keeps Events: what the live source can answer.
pub const LIVE_SPAN: SignedDuration = SignedDuration::from_hours(1);
/// Problems printed one per line; the rest are counted.
const PROBLEMS_SHOWN: usize = 20;

/// What to print and how to exit.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The answer (stdout).
    pub stdout: String,
    /// Notes and problems (stderr), one line each.
    pub stderr: Vec<String>,
    /// Exit status.
    pub exit_code: i32,
}

/// What each source read, for the notes.
#[derive(Debug, Default)]
struct Reading {
    merged: Merged,
    problems: Vec<Problem>,
    read: Vec<String>,
    notes: Vec<String>,
}

/// Answers the command.
pub async fn run(cli: Cli) -> Result<Outcome, HistoryError> {
    if let Command::Version = cli.command {
        return Ok(Outcome {
            stdout: format!("kubectl-eventkeeper {}\n", env!("CARGO_PKG_VERSION")),
            ..Outcome::default()
        });
    }
    let resolved = cli.sources.resolve()?;
    let now = match &cli.sources.now {
        Some(text) => text
            .parse()
            .map_err(|_| HistoryError::Config(format!("--now {text:?} is not an RFC 3339 time")))?,
        None => Timestamp::now(),
    };
    let config_error = |e: &dyn std::fmt::Display| HistoryError::Config(e.to_string());
    match cli.command {
        Command::Version => unreachable!("answered above"),
        Command::Events(args) => {
            let window = Window::from_flags(
                args.since.as_deref(),
                args.from.as_deref(),
                args.to.as_deref(),
                SignedDuration::from_hours(1),
                now,
            )
            .map_err(|e| config_error(&e))?;
            let target = args
                .for_object
                .as_deref()
                .map(Target::parse)
                .transpose()
                .map_err(|e| config_error(&e))?;
            let query = Query {
                namespace: (!args.all_namespaces)
                    .then(|| args.namespace.clone().unwrap_or_else(|| "default".into())),
                target,
                with_owners: false,
                window,
                types: args.types.clone(),
                reasons: args.reason.clone(),
            };
            let reading = read_sources(&resolved, &query, now).await?;
            let describe = describe(&query);
            let Reading {
                merged,
                problems,
                read,
                notes,
            } = reading;
            let rows = merged.rows(args.all_versions);
            let stdout = match args.output {
                Format::Table | Format::Wide if rows.is_empty() => String::new(),
                Format::Table => render_table(&rows, now, false, args.all_namespaces),
                Format::Wide => render_table(&rows, now, true, args.all_namespaces),
                Format::Json => render_json(&rows),
                Format::Html => html::render(&rows, &query.window, &format!("Events {describe}")),
            };
            let mut stderr = notes;
            if rows.is_empty() {
                stderr.push(format!("No events {describe} (read: {})", read.join(", ")));
            }
            Ok(finish(stdout, stderr, problems, &read))
        }
        Command::Why(args) => {
            let target = Target::parse(&args.object).map_err(|e| config_error(&e))?;
            let window = Window::from_flags(
                Some(&args.since),
                None,
                None,
                SignedDuration::from_hours(24 * 7),
                now,
            )
            .map_err(|e| config_error(&e))?;
            let query = Query {
                namespace: Some(args.namespace.clone().unwrap_or_else(|| "default".into())),
                target: Some(target.clone()),
                with_owners: true,
                window,
                types: vec![],
                reasons: vec![],
            };
            let reading = read_sources(&resolved, &query, now).await?;
            let describe = describe(&query);
            let total = reading.merged.len();
            let rows = reading.merged.rows(false);
            let groups = why::groups(&rows);
            let mut stdout = format!(
                "Why {describe}: {} events of {} objects (read: {})\n",
                rows.len(),
                rows.iter()
                    .map(crate::table::object)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
                reading.read.join(", ")
            );
            if total == 0 {
                stdout.clear();
            } else {
                stdout.push_str(&why::render(&groups, now));
            }
            let mut stderr = reading.notes;
            if total == 0 {
                stderr.push(format!(
                    "No events {describe} (read: {})",
                    reading.read.join(", ")
                ));
            }
            Ok(finish(stdout, stderr, reading.problems, &reading.read))
        }
    }
}

fn describe(query: &Query) -> String {
    let mut text = String::new();
    if let Some(t) = &query.target {
        text.push_str(&format!("for {} ", t.display()));
    }
    match &query.namespace {
        Some(ns) => text.push_str(&format!("in namespace {ns}")),
        None => text.push_str("in all namespaces"),
    }
    text.push_str(&format!(
        " from {} to {}",
        query.window.from, query.window.to
    ));
    text
}

fn finish(
    stdout: String,
    mut stderr: Vec<String>,
    problems: Vec<Problem>,
    read: &[String],
) -> Outcome {
    let mut exit_code = 0;
    if !problems.is_empty() {
        exit_code = EXIT_PARTIAL;
        for p in problems.iter().take(PROBLEMS_SHOWN) {
            stderr.push(format!("skipped {p}"));
        }
        if problems.len() > PROBLEMS_SHOWN {
            stderr.push(format!("… and {} more", problems.len() - PROBLEMS_SHOWN));
        }
        stderr.push(format!(
            "partial answer: {} parts could not be read (read: {})",
            problems.len(),
            read.join(", ")
        ));
    }
    Outcome {
        stdout,
        stderr,
        exit_code,
    }
}

async fn aws_config(resolved: &Resolved) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &resolved.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    loader.load().await
}

async fn read_sources(
    resolved: &Resolved,
    query: &Query,
    now: Timestamp,
) -> Result<Reading, HistoryError> {
    let mut reading = Reading::default();
    let (use_live, use_archive, use_cloudwatch) = match resolved.source {
        SourceChoice::Auto => (
            query.window.recent(now, LIVE_SPAN).is_some(),
            resolved.bucket.is_some(),
            resolved.bucket.is_none() && resolved.log_group.is_some(),
        ),
        SourceChoice::Live => (true, false, false),
        SourceChoice::Archive => (false, true, false),
        SourceChoice::Cloudwatch => (false, false, true),
    };
    let mut any = false;
    if use_live {
        match live::client(resolved.kubeconfig.as_deref()).await {
            Ok(client) => {
                any = true;
                let before = reading.merged.len();
                let mut problems = Vec::new();
                match live::read(
                    client,
                    &resolved.cluster,
                    query,
                    &mut reading.merged,
                    &mut problems,
                )
                .await
                {
                    Ok(listed) => reading.read.push(format!(
                        "live: {listed} Events listed, {} kept",
                        reading.merged.len() - before
                    )),
                    Err(problem) if resolved.source == SourceChoice::Live => {
                        return Err(HistoryError::SourceFailed {
                            source_name: "live",
                            message: format!("{}: {}", problem.part, problem.reason),
                        });
                    }
                    Err(problem) => {
                        reading.read.push("live: failed".into());
                        reading.problems.push(problem);
                    }
                }
                reading.problems.extend(problems);
            }
            Err(e) if resolved.source == SourceChoice::Live => return Err(e),
            Err(e) => reading.notes.push(format!(
                "live source skipped: {e}; the last hour comes from the other sources only"
            )),
        }
    }
    if use_archive || use_cloudwatch {
        let aws = aws_config(resolved).await;
        if use_archive && let Some(bucket) = &resolved.bucket {
            any = true;
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&aws)
                    .force_path_style(true)
                    .build(),
            );
            let location = ArchiveLocation {
                bucket: bucket.clone(),
                prefix: resolved.prefix.clone(),
                cluster: resolved.cluster.clone(),
            };
            let before = reading.merged.len();
            let report = archive::read(
                &s3,
                &location,
                query,
                resolved.parallel_gets,
                &mut reading.merged,
            )
            .await?;
            reading.read.push(format!(
                "archive: {} hours, {} objects, {} observations kept",
                report.hours,
                report.objects,
                reading.merged.len() - before
            ));
            reading.problems.extend(report.problems);
        }
        if use_cloudwatch && let Some((name, layout)) = &resolved.log_group {
            any = true;
            let logs = aws_sdk_cloudwatchlogs::Client::new(&aws);
            let group = LogGroup {
                name: name.clone(),
                layout: *layout,
            };
            let before = reading.merged.len();
            let rows = cloudwatch::read(
                &logs,
                &group,
                query,
                Duration::from_millis(500),
                &mut reading.merged,
                &mut reading.problems,
            )
            .await?;
            reading.read.push(format!(
                "cloudwatch: {rows} lines, {} observations kept",
                reading.merged.len() - before
            ));
        }
    }
    if !any {
        return Err(HistoryError::Config(
            "nothing to read: give --bucket or --log-group (or a config file) for history, or a kubeconfig for the last hour"
                .into(),
        ));
    }
    Ok(reading)
}
