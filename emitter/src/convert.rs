//! `eventkeeper-emitter convert`: turns saved Events (a `kubectl get events -A -o json` dump,
//! a single Event, JSON lines, `kubectl get events -w -o json` output) into eventkeeper records,
//! one line per event on stdout.
//!
//! A broken item is reported on stderr with its position and skipped; the rest is converted and
//! the exit status says that something was skipped.

use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use eventkeeper_core::event_input::{self, Entry};
use eventkeeper_core::normalise::normalise_owned;
use eventkeeper_core::record::line_budget::{DEFAULT_MAX_LINE_BYTES, parse_max_line_bytes};
use eventkeeper_core::{Context, Origin};

/// Exit status when some input items were skipped (sysexits `EX_DATAERR`).
const EXIT_SKIPPED: u8 = 65;
/// Exit status when the input could not be read (sysexits `EX_NOINPUT`).
const EXIT_NO_INPUT: u8 = 66;
/// Exit status when stdout could not be written (sysexits `EX_IOERR`).
const EXIT_OUTPUT_FAILED: u8 = 74;

/// Convert saved Kubernetes Events (stdin or a file) into eventkeeper record lines on stdout.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Cluster name written into every record.
    #[arg(long, env = "EVENTKEEPER_CLUSTER_NAME", default_value = "unknown")]
    pub cluster_name: String,

    /// Largest line in bytes, newline included; longer records are cut and marked `truncated`.
    #[arg(long, env = "EVENTKEEPER_MAX_LINE_BYTES", default_value_t = DEFAULT_MAX_LINE_BYTES,
          value_parser = parse_max_line_bytes)]
    pub max_line_bytes: usize,

    /// Read from this file instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
}

/// What a conversion did, for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    converted: usize,
    skipped: usize,
    ignored: usize,
    truncated: usize,
}

/// Runs the conversion; the exit code says whether everything was converted.
pub fn run(args: &ConvertArgs) -> ExitCode {
    let input = match read_input(args.input.as_ref()) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("eventkeeper convert: cannot read input: {error}");
            return ExitCode::from(EXIT_NO_INPUT);
        }
    };
    let ctx = Context {
        cluster: args.cluster_name.clone(),
        origin: Origin::Convert,
        max_line_bytes: args.max_line_bytes,
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let result = convert(&input, &ctx, &mut out, &mut io::stderr()).and_then(|tally| {
        out.flush()?;
        Ok(tally)
    });
    match result {
        Ok(tally) => {
            eprintln!(
                "eventkeeper convert: {} converted ({} truncated), {} skipped, {} ignored",
                tally.converted, tally.truncated, tally.skipped, tally.ignored
            );
            if tally.skipped > 0 {
                ExitCode::from(EXIT_SKIPPED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::from(EXIT_OUTPUT_FAILED)
        }
        Err(error) => {
            eprintln!("eventkeeper convert: cannot write output: {error}");
            ExitCode::from(EXIT_OUTPUT_FAILED)
        }
    }
}

fn read_input(path: Option<&PathBuf>) -> io::Result<String> {
    let mut bytes = Vec::new();
    match path {
        Some(path) => bytes = std::fs::read(path)?,
        None => {
            io::stdin().lock().read_to_end(&mut bytes)?;
        }
    }
    // Keep going on invalid UTF-8: a replaced character beats a lost event.
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("eventkeeper convert: input is not valid UTF-8; invalid bytes replaced");
            String::from_utf8_lossy(error.as_bytes()).into_owned()
        }
    })
}

/// Converts every entry of `input`, writing records to `out` and problems to `problems`.
fn convert(
    input: &str,
    ctx: &Context,
    out: &mut impl Write,
    problems: &mut impl Write,
) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let mut first_error = None;
    event_input::for_each_entry(input, |entry| {
        if first_error.is_some() {
            return;
        }
        let written = match entry {
            Entry::Event(at, event) => match normalise_owned(event, ctx) {
                Ok(record) => {
                    tally.converted += 1;
                    tally.truncated += usize::from(record.is_truncated());
                    out.write_all(record.to_line().as_bytes())
                }
                Err(error) => {
                    tally.skipped += 1;
                    writeln!(problems, "eventkeeper convert: skipped {at}: {error}")
                }
            },
            Entry::Malformed(at, why) => {
                tally.skipped += 1;
                writeln!(problems, "eventkeeper convert: skipped {at}: {why}")
            }
            Entry::Ignored(_, _) => {
                tally.ignored += 1;
                Ok(())
            }
        };
        if let Err(error) = written {
            first_error = Some(error);
        }
    });
    match first_error {
        Some(error) => Err(error),
        None => Ok(tally),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(input: &str) -> (Tally, Vec<serde_json::Value>, String) {
        let ctx = Context::new("test", Origin::Convert);
        let (mut out, mut problems) = (Vec::new(), Vec::new());
        let tally = convert(input, &ctx, &mut out, &mut problems).expect("writes to memory");
        let lines = String::from_utf8(out).expect("records are UTF-8");
        let records = lines
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        (tally, records, String::from_utf8(problems).expect("UTF-8"))
    }

    #[test]
    fn a_broken_item_is_reported_and_the_rest_converted() {
        let input =
            r#"{"kind":"List","items":[{"reason":"A"},"junk",{"kind":"Pod"},{"reason":"B"}]}"#;
        let (tally, records, problems) = run_on(input);
        assert_eq!(tally.converted, 2);
        assert_eq!(tally.skipped, 2);
        assert_eq!(records[1]["reason"], "B");
        assert!(
            problems.contains("items[1]: not a JSON object"),
            "{problems}"
        );
        assert!(
            problems.contains("items[2]: expected kind Event"),
            "{problems}"
        );
    }

    #[test]
    fn every_record_says_it_came_from_convert() {
        let (_, records, _) = run_on("{\"reason\":\"A\"}\n{\"reason\":\"B\"}\n");
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r["origin"] == "convert"));
    }
}
