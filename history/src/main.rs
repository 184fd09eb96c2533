//! `kubectl-eventkeeper` (also `kubectl eventkeeper`): parse, answer, print, exit.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use eventkeeper_history::app;
use eventkeeper_history::config::Cli;
use eventkeeper_history::error::EXIT_CONFIG;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // Bad usage: one line, exit 64, like every eventkeeper binary.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            eprintln!("kubectl-eventkeeper: {first}");
            return ExitCode::from(EXIT_CONFIG as u8);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("kubectl-eventkeeper: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(app::run(cli)) {
        Ok(outcome) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(outcome.stdout.as_bytes());
            let _ = stdout.flush();
            for line in &outcome.stderr {
                eprintln!("{line}");
            }
            ExitCode::from(outcome.exit_code as u8)
        }
        Err(e) => {
            eprintln!("kubectl-eventkeeper: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
