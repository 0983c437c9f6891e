//! Issue 17, logs: `jiesu serve` with `JIESU_LOG_FORMAT=json` writes one JSON object per line,
//! the access log among them with the request's id; a format it does not know and a metrics
//! token too short stop the start with a clear message. SQLite only, the real binary.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn jiesu(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(crate::helpers::cli_bin());
    cmd.arg("serve")
        .env("JIESU_ADDR", "127.0.0.1:0")
        .env("JIESU_DATA_DIR", dir)
        .env("JIESU_ADMIN_PASSWORD", "adminpass1")
        .env("JIESU_LOG", "info")
        .env_remove("JIESU_DATABASE_URL")
        .env_remove("JIESU_METRICS_TOKEN")
        .env("JIESU_SWEEP_SECONDS", "0");
    cmd
}

#[test]
fn json_logs_are_one_object_a_line_with_the_request_id_and_bad_settings_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = jiesu(dir.path())
        .env("JIESU_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jiesu starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answered = rt.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("http://{addr}/healthz"))
            .header("x-request-id", "json-log-story-1")
            .send()
            .await
            .unwrap();
        r.headers()["x-request-id"].to_str().unwrap().to_string()
    });
    assert_eq!(answered, "json-log-story-1");
    // SIGTERM: the server shuts down, its last lines written.
    #[cfg(unix)]
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    #[cfg(not(unix))]
    let _ = child.kill();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "jiesu did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let lines: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 2, "{err}");
    let access = lines
        .iter()
        .find(|l| l["target"] == "jiesu::access")
        .unwrap_or_else(|| panic!("no access line in\n{err}"));
    assert_eq!(access["span"]["id"], "json-log-story-1", "{access}");
    assert_eq!(access["span"]["route"], "/healthz", "{access}");
    assert_eq!(access["status"], 200, "{access}");
    assert_eq!(access["message"], "GET /healthz", "{access}");
    assert!(access["latency_ms"].as_f64().is_some(), "{access}");
    assert_eq!(access["level"], "INFO");

    // Settings it cannot use stop the start, naming the variable.
    for (var, value, says) in [
        (
            "JIESU_LOG_FORMAT",
            "xml",
            "JIESU_LOG_FORMAT=xml is not valid",
        ),
        (
            "JIESU_METRICS_TOKEN",
            "short",
            "JIESU_METRICS_TOKEN is too short",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = jiesu(dir.path()).env(var, value).output().unwrap();
        assert!(!out.status.success(), "{var}={value} started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{var}={value}: {err}");
    }
}
