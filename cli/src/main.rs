//! `wayfarer`: a curl-like command-line HTTP client on the wayfarer library.
//!
//! `main` only parses the arguments, runs the command and turns its outcome into an exit
//! status; everything else lives in the modules below.

mod args;
mod data;
mod exit;
mod run;
mod timeline;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with status 2 (and 0 for --help/--version).
    let args = args::Args::parse();
    match run::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if args.show_errors() {
                eprintln!("{failure}");
            }
            ExitCode::from(failure.code)
        }
    }
}
