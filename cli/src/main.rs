//! `wayfarer`: a curl-like command-line HTTP client on the wayfarer library.
//!
//! `main` only parses the arguments, runs the command and turns its outcome into an exit
//! status; everything else lives in the modules below.

mod args;
mod cookies;
mod credentials;
mod data;
mod demo;
mod exit;
mod hops;
mod interim;
mod parallel;
mod proxy;
mod run;
mod timeline;
mod tls;
mod write_out;

use std::process::ExitCode;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with status 2 (and 0 for --help/--version);
    // an unknown option gets curl's one-line message instead of the usage.
    let args = match args::Args::try_parse_ordered(std::env::args_os()) {
        Ok(args) => args,
        Err(error) => match args::unknown_option(&error) {
            Some(message) => {
                eprintln!("{message}");
                return ExitCode::from(2);
            }
            None => error.exit(),
        },
    };
    let outcome = match args.command {
        Some(args::Command::Demo) => demo::run(),
        // -Z with one URL is one transfer, with every single-URL option.
        None if args.more_urls.is_empty() => run::run(&args),
        None => parallel::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if args.show_errors() {
                eprintln!("{failure}");
            }
            ExitCode::from(failure.code)
        }
    }
}
