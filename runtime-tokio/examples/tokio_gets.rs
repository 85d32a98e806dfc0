//! Sequential keep-alive GETs on one tokio client, on a current-thread runtime: the async
//! counterpart of the blocking runtime's `profile_gets`, for `perf stat -e task-clock`,
//! `perf record` and `strace -c` against any local server.
//!
//! ```sh
//! cargo build --release -p wayfarer-tokio --example tokio_gets
//! taskset -c 0 perf stat -e task-clock target/release/examples/tokio_gets http://127.0.0.1:8080/small.txt 100000
//! ```

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, count] = &args[..] else {
        return Err("usage: tokio_gets URL COUNT".into());
    };
    let count: usize = count.parse()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = wayfarer_tokio::Client::new();
        let mut bytes = 0u64;
        let started = Instant::now();
        for _ in 0..count {
            let request = wayfarer_tokio::Request::get(url.as_str()).build()?;
            let mut response = client.new_call(request).execute().await?;
            while let Some(chunk) = response.body_mut().chunk().await? {
                bytes += chunk.len() as u64;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{count} requests, {bytes} body bytes, {:.0} requests/s",
            count as f64 / seconds
        );
        Ok(())
    })
}
