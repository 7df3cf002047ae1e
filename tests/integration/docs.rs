//! The documentation as a new admin follows it: the walkthrough in docs/FEDERATING.md runs word
//! for word, two instances federating on one machine, with only the `picket` just built.

use std::process::{Command, Stdio};

use crate::support::free_port;

/// The shell blocks of `doc` between `<!-- tested: NAME -->` and `<!-- end tested -->`.
fn tested_blocks(doc: &str, name: &str) -> String {
    let start = format!("<!-- tested: {name} -->");
    let section = doc
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once("<!-- end tested -->"))
        .map(|(inside, _)| inside)
        .unwrap_or_else(|| panic!("no section {name}"));
    let mut script = String::new();
    let mut inside = false;
    for line in section.lines() {
        match (inside, line.trim_end()) {
            (false, "```sh") => inside = true,
            (true, "```") => inside = false,
            (true, line) => {
                script.push_str(line);
                script.push('\n');
            }
            _ => {}
        }
    }
    script
}

#[test]
fn the_federation_walkthrough_runs_as_written() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/FEDERATING.md"),
    )
    .expect("docs/FEDERATING.md");
    let (a, b) = (free_port(), free_port());
    // The ports the document uses may be taken on a test machine; everything else is as written.
    let script = tested_blocks(&doc, "two-instances")
        .replace("8081", &a.to_string())
        .replace("8082", &b.to_string());
    assert!(
        script.contains("picket --data-dir b admin follow"),
        "{script}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("walkthrough.sh"),
        format!("set -euo pipefail\n{script}"),
    )
    .expect("write the script");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_picket"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("timeout");
    command
        .args(["180", "bash", "walkthrough.sh"])
        .current_dir(dir.path())
        .env("PATH", path)
        .stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("PICKET_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the walkthrough");
    let group = child.id();
    let output = child.wait_with_output().expect("wait");
    // Whatever happened, nothing it started outlives the test.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
    let said = format!(
        "{}{}\n--- a.log:\n{}\n--- b.log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(dir.path().join("a.log")).unwrap_or_default(),
        std::fs::read_to_string(dir.path().join("b.log")).unwrap_or_default(),
    );
    assert!(
        output.status.success(),
        "the walkthrough failed:\n{script}\n{said}"
    );
    assert!(
        said.contains(&format!("following\thttp://localhost:{a}/actor\taccepted")),
        "{said}"
    );
    assert!(
        said.contains(r#""reward":[1.5,600,1]"#) && said.contains("Acme Research"),
        "B counts A's review: {said}"
    );
}
