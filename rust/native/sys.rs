//! The two C library calls the worker needs that `std` does not expose: `CLOCK_MONOTONIC` in
//! nanoseconds (the clock Python's `time.monotonic_ns()` reads, so worker times compare
//! directly with Python's) and `poll(2)` on the socket plus the command wake-up.
//!
//! `std` links the C library anyway; declaring the two functions avoids a crate for them.

use std::os::fd::RawFd;

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    fn poll(fds: *mut PollFd, nfds: u64, timeout: i32) -> i32;
}

/// `CLOCK_MONOTONIC` on Linux.
const CLOCK_MONOTONIC: i32 = 1;
const POLLIN: i16 = 0x1;
const POLLERR: i16 = 0x8;
const POLLHUP: i16 = 0x10;
const POLLNVAL: i16 = 0x20;

/// Nanoseconds on `CLOCK_MONOTONIC`.
#[inline]
#[must_use]
pub fn monotonic_ns() -> u64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0);
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// Waits until one of `fds` is readable (or hung up) or `timeout_ms` passes (negative: no
/// limit); which of them are ready. An interrupted wait reports none ready.
#[must_use]
pub fn wait_readable<const N: usize>(fds: [RawFd; N], timeout_ms: i32) -> [bool; N] {
    let mut p = fds.map(|fd| PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    });
    // SAFETY: `p` is an array of N valid pollfd structs that outlives the call.
    let rc = unsafe { poll(p.as_mut_ptr(), N as u64, timeout_ms) };
    if rc <= 0 {
        return [false; N];
    }
    p.map(|f| f.revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL) != 0)
}
