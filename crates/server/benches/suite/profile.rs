//! With `PICKET_BENCH_PERF=1`, a CPU profile of `picket serve` (perf, sampling call graphs)
//! during a repeat of a measured load, its top entries printed and the whole kept in
//! `target/bench-profiles/`: what to read when a figure misses its target.

use std::process::{Command, Stdio};

use crate::serving::Serve;

pub fn during(serve: &Serve, label: &str, load: impl FnOnce()) {
    let Some(profile) = start(serve, label) else {
        return;
    };
    load();
    profile.finish();
}

/// A profile being recorded.
pub struct Profile {
    perf: std::process::Child,
    data: std::path::PathBuf,
    dir: std::path::PathBuf,
    name: String,
    label: String,
}

/// Starts recording `serve` when `PICKET_BENCH_PERF` is set.
pub fn start(serve: &Serve, label: &str) -> Option<Profile> {
    std::env::var_os("PICKET_BENCH_PERF")?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-profiles");
    let _ = std::fs::create_dir_all(&dir);
    let name: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let data = dir.join(format!("{name}.perf.data"));
    let perf = match Command::new("perf")
        .args(["record", "-F", "499", "-g", "-o"])
        .arg(&data)
        .args(["-p", &serve.child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(perf) => perf,
        Err(error) => {
            eprintln!("  no profile of {label}: cannot run perf ({error}); install linux-perf");
            return None;
        }
    };
    Some(Profile {
        perf,
        data,
        dir,
        name,
        label: label.to_owned(),
    })
}

impl Profile {
    /// Stops recording and prints the top of the profile.
    pub fn finish(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.perf.id().to_string()])
            .status();
        let _ = self.perf.wait();
        let (data, dir, name, label) = (&self.data, &self.dir, &self.name, &self.label);
        let report = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "--no-children",
                "--percent-limit",
                "1.5",
                "-g",
                "none",
                "-i",
            ])
            .arg(data)
            .output();
        if let Ok(report) = report {
            let text = String::from_utf8_lossy(&report.stdout).into_owned();
            let _ = std::fs::write(dir.join(format!("{name}.txt")), &text);
            eprintln!("  profile of {label} (self time):");
            for line in text.lines().filter(|l| l.contains('%')).take(30) {
                eprintln!("    {line}");
            }
        }
    }
}
