//! `eventkeeper-emitter`: watches Kubernetes Events and writes one JSON line per observation to
//! stdout; `convert` turns saved Events into the same records.

mod convert;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keeps every Kubernetes Event observation as one JSON line on stdout.
#[derive(Debug, Parser)]
#[command(name = "eventkeeper-emitter", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert saved Events (kubectl JSON, JSON lines, watch output) into record lines.
    Convert(convert::ConvertArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Convert(args) => convert::run(&args),
    }
}
