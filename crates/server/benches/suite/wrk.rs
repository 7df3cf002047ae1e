//! Load from `wrk` (installed from Debian's packages when missing), driven by a Lua script, and
//! what it says: requests per second and latency percentiles.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What one run of `wrk` measured.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

/// Makes sure `wrk` is on the PATH.
pub fn ensure() {
    let found = |c: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {c} >/dev/null")])
            .status()
            .is_ok_and(|s| s.success())
    };
    if found("wrk") {
        return;
    }
    eprintln!("installing wrk (Debian package) for the load runs");
    let installed = Command::new("apt-get")
        .args(["install", "-y", "-qq", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success())
        || (Command::new("apt-get")
            .args(["update", "-qq"])
            .status()
            .is_ok()
            && Command::new("apt-get")
                .args(["install", "-y", "-qq", "wrk"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success()));
    assert!(
        installed && found("wrk"),
        "wrk is needed for the load runs: install it (Debian: apt-get install wrk)"
    );
}

fn millis(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1e3)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// Runs `wrk` against `base` for `duration` with `connections` over 2 threads, the requests
/// made by `script` (Lua, written to `dir`).
pub fn run(base: &str, script: &str, connections: u32, duration: Duration, dir: &Path) -> Load {
    let file = dir.join(format!("load-{}.lua", rand::random::<u32>()));
    std::fs::write(&file, script).expect("write the wrk script");
    let output = Command::new("wrk")
        .args(["-t", "2", "-c", &connections.to_string()])
        .args(["-d", &format!("{}s", duration.as_secs())])
        .args(["--timeout", "5s", "--latency", "-s"])
        .arg(&file)
        .arg(base)
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut load = Load {
        per_second: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        errors: 0,
    };
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            load.per_second = rest.trim().parse().unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("50%") {
            load.p50_ms = millis(rest).unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("99%") {
            load.p99_ms = millis(rest).unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.errors += rest.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            load.errors += rest
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    assert!(load.per_second > 0.0, "wrk measured nothing: {text}");
    load
}

/// A Lua chunk defining `rid()`: one of the `count` seeded requester ids at random.
pub fn random_rid(count: usize) -> String {
    format!(
        "math.randomseed(os.time() * 1000 + (tonumber(tostring({{}}):match(\"0x(%x+)\") or \"0\", 16) % 997))\n\
         local count = {count}\n\
         function rid() return string.format(\"ASEED%010d\", math.random(0, count - 1)) end\n"
    )
}
