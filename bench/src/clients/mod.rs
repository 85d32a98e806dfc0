//! Every client under test, one module per family.

mod curl;
mod floor;
mod hyper;
mod reqwest;
mod ureq;
mod wayfarer;

use crate::client::ClientUnderTest;

/// Every client, in the order the tables list them: wayfarer, the peers, the floors.
pub fn all() -> Vec<Box<dyn ClientUnderTest>> {
    vec![
        Box::new(wayfarer::Blocking),
        Box::new(wayfarer::Tokio),
        Box::new(wayfarer::Smol),
        Box::new(reqwest::Reqwest),
        Box::new(ureq::Ureq),
        Box::new(hyper::Hyper),
        Box::new(curl::Curl),
        Box::new(floor::StdFloor),
        Box::new(floor::TokioFloor),
    ]
}

/// The client with this exact name.
pub fn by_name(name: &str) -> Option<Box<dyn ClientUnderTest>> {
    all().into_iter().find(|client| client.about().name == name)
}
