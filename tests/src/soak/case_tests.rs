//! Tests of `case` (kept apart so the module reads on its own).

use super::*;

#[test]
fn a_case_depends_only_on_seed_and_id() {
    assert_eq!(Case::new(7, 42), Case::new(7, 42));
    let differ = (0..50)
        .filter(|&id| Case::new(7, id) != Case::new(8, id))
        .count();
    assert!(
        differ > 40,
        "only {differ} of 50 cases changed with the seed"
    );
}

#[test]
fn idle_faults_and_their_hops_only_meet_get_and_head_on_the_idempotent_port() {
    for id in 0..20_000 {
        let case = Case::new(1, id);
        for hop in 0..=case.hops.len() {
            if case.port_at(hop) == Port::Idempotent {
                assert_ne!(case.method_at(hop), Verb::Post, "{case:?} hop {hop}");
            }
        }
        if let Answer::Ok { after, .. } = case.answer {
            if after != After::KeepOpen {
                assert_eq!(case.port_at(case.hops.len()), Port::Idempotent, "{case:?}");
            }
        }
    }
}

#[test]
fn every_fault_and_framing_is_generated() {
    let mut names = std::collections::BTreeSet::new();
    for id in 0..20_000 {
        names.insert(Case::new(3, id).answer_name());
    }
    assert_eq!(names.len(), 22, "{names:?}");
}

#[test]
fn a_one_shot_post_redirected_with_307_gets_the_redirect() {
    let case = Case {
        id: 5,
        verb: Verb::Post,
        upload: Some(Upload {
            len: 3,
            kind: UploadKind::SizedStream,
        }),
        port: Port::Main,
        hops: vec![Hop {
            status: 307,
            to: Port::Main,
            chunked: false,
        }],
        answer: Answer::Bodiless { status: 204 },
        read: ReadMode::All,
    };
    assert_eq!(case.returned(), 0);
    assert_eq!(case.served_name(), "307 / 308 returned (one-shot body)");
    assert!(matches!(
        case.expect(1),
        Expect::Response { status: 307, .. }
    ));
    let bytes = Case {
        upload: Some(Upload {
            len: 3,
            kind: UploadKind::Bytes,
        }),
        ..case
    };
    assert_eq!(bytes.returned(), 1);
    assert_eq!(bytes.served_name(), "204 / 304");
}

#[test]
fn a_body_spec_checks_chunks_against_the_body_it_describes() {
    let case = Case {
        id: 77,
        verb: Verb::Post,
        upload: Some(Upload {
            len: 40,
            kind: UploadKind::Bytes,
        }),
        port: Port::Main,
        hops: vec![],
        answer: Answer::Ok {
            framing: Framing::Length,
            size: 30,
            after: After::KeepOpen,
            interim: false,
        },
        read: ReadMode::All,
    };
    let spec = case.answer_body(7, Verb::Post);
    let body = spec.to_vec();
    assert_eq!(body.len(), spec.len());
    assert!(body.starts_with(b"<77|POST|40|"));
    let upload = case.upload_bytes(7);
    assert_eq!(&body[12..52], &upload[..]);
    assert_ne!(
        upload,
        case.upload_bytes(8),
        "the upload depends on the seed"
    );
    assert_eq!(spec.first_difference(0, &body), None);
    assert_eq!(spec.first_difference(10, &body[10..20]), None);
    let mut wrong = body.clone();
    wrong[25] ^= 1;
    assert_eq!(spec.first_difference(0, &wrong), Some(25));
    assert_eq!(spec.first_difference(body.len(), b"x"), Some(body.len()));
}

#[test]
fn bodies_name_their_case() {
    let case = Case::new(9, 1234);
    assert_eq!(
        named_id(&case.answer_body(9, Verb::Get).to_vec()),
        Some(1234)
    );
    assert_eq!(named_id(&case.hop_body(0).to_vec()), Some(1234));
    assert_eq!(named_id(b"HTTP/1.1 200 OK"), None);
}
