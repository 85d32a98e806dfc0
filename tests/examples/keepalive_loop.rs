//! N sequential keep-alive GETs on one client, for counting system calls per request:
//! `strace -c -f target/debug/examples/keepalive_loop blocking http://127.0.0.1:8080/small.txt 1000`.

use wayfarer_core::Request;

fn main() {
    let mut args = std::env::args().skip(1);
    let runtime = args.next().unwrap_or_else(|| "blocking".into());
    let url = args
        .next()
        .expect("usage: keepalive_loop RUNTIME URL [COUNT]");
    let count: usize = args.next().map_or(1000, |n| n.parse().expect("a count"));
    match runtime.as_str() {
        "blocking" => {
            let client = wayfarer_blocking::Client::new();
            for _ in 0..count {
                let request = Request::get(&url).build().expect("url");
                let body = client
                    .new_call(request)
                    .execute()
                    .expect("call")
                    .bytes()
                    .expect("body");
                assert!(!body.is_empty());
            }
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let client = wayfarer_tokio::Client::new();
                for _ in 0..count {
                    let request = Request::get(&url).build().expect("url");
                    let response = client.new_call(request).execute().await.expect("call");
                    assert!(!response.bytes().await.expect("body").is_empty());
                }
            });
        }
        "smol" => smol::block_on(async {
            let client = wayfarer_smol::Client::new();
            for _ in 0..count {
                let request = Request::get(&url).build().expect("url");
                let response = client.new_call(request).execute().await.expect("call");
                assert!(!response.bytes().await.expect("body").is_empty());
            }
        }),
        other => panic!("unknown runtime {other}"),
    }
}
