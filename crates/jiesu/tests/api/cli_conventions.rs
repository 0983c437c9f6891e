//! The command line's conventions: `serve --help` lists every environment variable, closed
//! choices are listed, and every bad value (flag or environment) exits with 2 and says why.

use std::process::{Command, Output};

/// A command line, its environment, and what its error must say.
type BadCall<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

fn jiesu(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(crate::helpers::cli_bin())
        .args(args)
        .env("JIESU_DATA_DIR", dir.path())
        .env("JIESU_LOG", "warn")
        .env_remove("JIESU_DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn serve_help_lists_every_environment_variable_with_its_default() {
    let out = jiesu(&["serve", "--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for (name, default, _) in jiesu::config::ENV_VARS {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} not in serve --help:\n{help}"));
        assert!(line.ends_with(&format!("[{default}]")), "{line}");
    }
}

#[test]
fn closed_choices_are_listed_and_bad_values_exit_with_2() {
    let help = String::from_utf8(jiesu(&["user", "add", "--help"], &[]).stdout).unwrap();
    assert!(
        help.contains("unit_manager") && help.contains("callback_agent"),
        "{help}"
    );
    let help = String::from_utf8(jiesu(&["kpi", "ranking", "--help"], &[]).stdout).unwrap();
    assert!(
        help.contains("subdistrict") && help.contains("xlsx"),
        "{help}"
    );

    let bad: [BadCall; 10] = [
        (
            &["kpi", "ranking", "--month", "2026-11", "--format", "pdf"],
            &[],
            "--format",
        ),
        (
            &["kpi", "ranking", "--month", "2026-11", "--level", "city"],
            &[],
            "--level",
        ),
        (&["kpi", "ranking", "--month", "2026-13"], &[], "month"),
        (
            &["kpi", "ranking", "--month", "2026-11", "--format", "xlsx"],
            &[],
            "--out",
        ),
        (
            &["user", "add", "--username", "x", "--role", "boss"],
            &[],
            "--role",
        ),
        (
            &["reindex"],
            &[("JIESU_SWEEP_SECONDS", "soon")],
            "JIESU_SWEEP_SECONDS=soon",
        ),
        (
            &["serve"],
            &[("JIESU_SECURE_COOKIES", "maybe")],
            "JIESU_SECURE_COOKIES",
        ),
        (
            &["reindex"],
            &[("JIESU_LOG_FORMAT", "xml")],
            "JIESU_LOG_FORMAT=xml",
        ),
        (&["open311", "key", "add", "--name", " "], &[], "name"),
        (
            &["open311", "key", "revoke", "no-such-key"],
            &[],
            "key not found",
        ),
    ];
    for (args, env, says) in bad {
        let out = jiesu(args, env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {err}");
        assert!(err.contains(says), "{args:?} {env:?}: {err}");
    }
    // A bad address for serve, read by clap from JIESU_ADDR (it names the flag).
    let out = jiesu(&["serve"], &[("JIESU_ADDR", "here")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'here'") && err.contains("--addr"), "{err}");
}

#[test]
fn long_work_reports_progress_in_plain_lines_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let out = jiesu(&[&["--data-dir", data][..], args].concat(), &[]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{args:?}: {err}");
        err
    };
    let err = run(&["simulate", "--days", "2", "--per-day", "20"]);
    // no terminal: no bar drawing, and the last day is reported
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(err.contains("simulated days: 2/2 ·"), "{err}");
    let err = run(&["reindex"]);
    let line = err
        .lines()
        .find(|l| l.starts_with("reindex: "))
        .expect(&err);
    let (done, total) = line["reindex: ".len()..]
        .trim_end_matches(" events")
        .split_once('/')
        .unwrap();
    assert_eq!(done, total, "{line}");
    assert!(done.parse::<u64>().unwrap() > 0, "{line}");
    let err = run(&["kpi", "rollups", "--rebuild"]);
    assert!(err.lines().any(|l| l.starts_with("rollups: ")), "{err}");
}

/// `jiesu text place TEXT` on Beijing's shipped table (no data folder or database named), run in
/// `dir` with `env`; both its output and its errors piped.
fn text_place(dir: &std::path::Path, text: &str, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(crate::helpers::cli_bin());
    c.args(["text", "place", text])
        .current_dir(dir)
        .env("JIESU_LOG", "warn")
        .env_remove("JIESU_DATA_DIR")
        .env_remove("JIESU_DATABASE_URL")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c
}

/// A reader that goes away (`jiesu text place … | head -1`) ends the command quietly with 141,
/// as SIGPIPE ends `cat` or `grep`; `println!` panicked with "failed printing to stdout".
#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let place = || text_place(dir.path(), "北京市朝阳区望京街道花家地西里东门", &[]);
    let mut child = place().spawn().unwrap();
    // the only reader closes before the command has built its gazetteer and printed
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.trim().is_empty(), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");

    // the same command with its reader prints the place in full
    let out = place().output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("花家地西里社区"));
}

/// Errors and progress that nobody reads any more (`jiesu … 2>&1 | head -1`) are dropped; the
/// exit code still says how the command ended. `eprintln!` panicked and made it 101.
#[test]
fn a_closed_error_pipe_does_not_turn_an_error_into_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // a bad log format is refused with 2 and a message on standard error
    let bad = || text_place(dir.path(), "望京", &[("JIESU_LOG_FORMAT", "sideways")]);
    let out = bad().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JIESU_LOG_FORMAT"));

    // with nobody reading standard error the message is lost, not the exit code (a panic
    // would end it with 101)
    let mut child = bad().spawn().unwrap();
    drop(child.stderr.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
