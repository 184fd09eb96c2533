//! The one exit path for bad configuration: one line on stderr, exit status 64 (sysexits
//! `EX_USAGE`), before the binary does any work. `--help` and `--version` print and exit 0.

use std::ffi::OsString;
use std::fmt::Display;
use std::process::ExitCode;

/// Exit status for bad configuration (sysexits `EX_USAGE`).
pub const EXIT_BAD_CONFIG: u8 = 64;

/// Prints `error: <reason>` (its first line only) on stderr; returns exit status 64.
pub fn bad_config(reason: impl Display) -> ExitCode {
    let reason = reason.to_string();
    let line = reason.lines().next().unwrap_or("bad configuration");
    let line = line.strip_prefix("error: ").unwrap_or(line);
    eprintln!("error: {line}");
    ExitCode::from(EXIT_BAD_CONFIG)
}

/// Parses the process's arguments and environment; `Err` carries the exit status when the
/// process should end now (after `--help` or `--version`: 0; after a bad flag: 64, one line).
pub fn parse_args<P: clap::Parser>() -> Result<P, ExitCode> {
    parse_args_from(std::env::args_os())
}

/// [`parse_args`] from given arguments (the first is the program name).
pub fn parse_args_from<P, I, T>(args: I) -> Result<P, ExitCode>
where
    P: clap::Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    P::try_parse_from(args).map_err(|error| {
        if error.use_stderr() {
            bad_config(error)
        } else {
            let _ = error.print();
            ExitCode::SUCCESS
        }
    })
}
