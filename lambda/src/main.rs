//! `eventkeeper-catchup` (and `bootstrap`, the same program packaged for AWS Lambda):
//! parse configuration, then hand over to [`eventkeeper_catchup::app`].

use std::process::ExitCode;

use eventkeeper_catchup::config::Args;
use eventkeeper_cli::{bad_config, init_logs, parse_args, parse_args_from, run_async};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // In Lambda the configuration is the function's environment only.
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let args: Result<Args, ExitCode> = if in_lambda {
        parse_args_from(["eventkeeper-catchup"])
    } else {
        parse_args()
    };
    let config = match args.map(|args| args.validate()) {
        Ok(Ok(config)) => config,
        Ok(Err(error)) => return bad_config(error),
        Err(exit) => return exit,
    };
    init_logs(config.log_format, &config.log_level);
    run_async(eventkeeper_catchup::app::start(config, in_lambda))
}
