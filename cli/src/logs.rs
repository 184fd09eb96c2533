//! Logs: structured lines on stderr (stdout belongs to the binary's output), in the format and at
//! the level the configuration names. The level is checked when the flags are parsed, so a bad
//! one is bad configuration like any other.

use std::str::FromStr;

use tracing_subscriber::EnvFilter;

/// Log line format on stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    Text,
    /// One JSON object per line, the event's fields at the top level.
    #[default]
    Json,
}

/// A log level (`error`, `warn`, `info`, `debug`, `trace`) or a tracing filter directive such
/// as `info,eventkeeper_core=debug`, checked when parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLevel(String);

/// Why a log level is refused.
#[derive(Debug, thiserror::Error)]
#[error("{text:?} is not a log level or tracing filter: {reason}")]
pub struct LogLevelError {
    text: String,
    reason: String,
}

impl FromStr for LogLevel {
    type Err = LogLevelError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EnvFilter::try_new(text).map_err(|e| LogLevelError {
            text: text.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self(text.to_owned()))
    }
}

impl Default for LogLevel {
    fn default() -> Self {
        Self("info".to_owned())
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Installs the process's logger: stderr, `format`, filtered by `level`. Call once, after the
/// configuration is valid.
pub fn init_logs(format: LogFormat, level: &LogLevel) {
    // Checked when parsed; a directive that parsed once parses again.
    let filter = EnvFilter::try_new(&level.0).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_directives_parse_and_nonsense_does_not() {
        for good in ["info", "warn", "debug,hyper=info", "eventkeeper_core=trace"] {
            assert_eq!(good.parse::<LogLevel>().expect(good).to_string(), good);
        }
        // A bare word is a target name (all its levels); a bad level after `=` is not.
        for bad in ["eventkeeper=loud", "info,=x=y"] {
            assert!(bad.parse::<LogLevel>().is_err(), "{bad:?}");
        }
    }
}
