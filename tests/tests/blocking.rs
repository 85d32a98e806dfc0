//! Every vector, replayed over loopback against the blocking client.

use std::io::Read;

use wayfarer_blocking::Client;
use wayfarer_tests::origin;
use wayfarer_tests::run::{self, StreamKind};
use wayfarer_tests::vector::{self, Authorities, CallSpec, Outcome, ReadBody, Variant};

include!(concat!(env!("OUT_DIR"), "/vectors_socket.rs"));

fn run(path: &str, variant: Variant) {
    let vector = vector::load(path);
    let origins = origin::play_all(&vector.scripts(), variant);
    let authorities = origins.authorities();
    let builder = run::configure_for(Client::builder(), &vector.config, &authorities);
    let (builder, _cache) = vector::cache::configure(builder, vector.config.cache);
    let client: Client = builder.build().expect("client");
    let outcomes: Vec<Outcome> = vector
        .calls
        .iter()
        .map(|spec| call(&client, spec, &authorities))
        .collect();
    drop(client);
    let records = origins.finish();
    if let Err(report) = vector::check(&vector, &outcomes, &records, &authorities) {
        panic!("{path} ({}):\n{report}", variant.name());
    }
}

fn call(client: &Client, spec: &CallSpec, authorities: &Authorities) -> Outcome {
    // A short `after` (a vector with long ones runs on the core only) is waited out for real.
    if let Some(after) = spec.after {
        std::thread::sleep(after);
    }
    let mut outcome = Outcome::default();
    let request = match run::request(spec, authorities, StreamKind::Reader) {
        Ok(r) => r,
        Err(e) => {
            outcome.error = Some(run::error(&e));
            return outcome;
        }
    };
    let mut response = match client.new_call(request).execute() {
        Ok(r) => r,
        Err(e) => {
            outcome.error = Some(run::error(&e));
            return outcome;
        }
    };
    outcome.head = Some(run::head(&response));
    let limit = match spec.read_body {
        ReadBody::All => usize::MAX,
        ReadBody::None => 0,
        ReadBody::Bytes(n) => n,
    };
    let mut buf = [0u8; 4096];
    while outcome.body.len() < limit {
        let want = (limit - outcome.body.len()).min(buf.len());
        match response.body_mut().read_bytes(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => outcome.body.extend_from_slice(&buf[..n]),
            Err(e) => {
                outcome.error = Some(run::error(&e));
                break;
            }
        }
    }
    // std::io::Read is implemented too; make sure it agrees on a finished body.
    if outcome.error.is_none() && limit == usize::MAX {
        assert_eq!(
            response.body_mut().read(&mut buf).expect("read after end"),
            0
        );
    }
    outcome
}
