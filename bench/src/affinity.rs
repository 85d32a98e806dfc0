//! Pinning threads to CPUs, so the client and the servers compete for the same core (or each
//! has its own, with `--two-cores`) in every round, whatever else the machine runs.
//!
//! Linux's affinity is per thread and inherited: pinning the main thread before it spawns a
//! thread or a process pins those too. The benchmark pins itself to the server CPU, starts the
//! servers, then pins itself to the client CPU before any client thread exists.

use std::io;

/// The number of CPUs this process may run on.
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Restricts the calling thread (and what it spawns from now on) to `cpu`.
#[allow(unsafe_code)]
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    // SAFETY: `cpu_set_t` is a plain bit array for which all zeroes is the empty set; CPU_SET
    // only writes inside it (it ignores CPUs beyond its size), and sched_setaffinity reads
    // exactly `size_of::<cpu_set_t>()` bytes of it. Pid 0 means the calling thread.
    let result = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
