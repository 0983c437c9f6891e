//! `jiesu hotspots` as a user runs it: the release-style binary over a CSV file, JSON and CSV
//! out, and a clear error with exit code 2 on bad input. Needs no database.

use std::path::Path;
use std::process::Command;

fn hotspots(csv: &str, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("requests.csv");
    std::fs::write(&file, csv).expect("write csv");
    run_on(&file, extra)
}

fn run_on(file: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(crate::helpers::cli_bin())
        .arg("hotspots")
        .arg("--input")
        .arg(file)
        .args(extra)
        .env("JIESU_LOG", "warn")
        .output()
        .expect("run jiesu")
}

const CSV: &str = "id,submitted_at,title,text,upvotes,downvotes
1,2019-11-13 11:20:21,投诉A2区丽发新城附近建搅拌站噪音扰民,丽发新城小区旁边的搅拌站白天晚上噪音很大,3,0
2,2019/11/15 8:56:46,丽发新城小区附近搅拌站噪音严重扰民,搅拌站噪音很大，粉尘污染，无法休息,0,1
3,2019-11-20T19:12:22+08:00,阳光花园停车难,小区车位太少,0,0
4,2019/11/25 10:17:58,A2区丽发新城附近修建搅拌站噪音污染,丽发新城附近搅拌站噪音污染导致生活不正常,,
";

#[test]
fn hotspots_prints_ranked_problems_as_json_and_csv() {
    let out = hotspots(CSV, &["--top", "5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let top = &v[0];
    assert_eq!(top["rank"], 1);
    assert_eq!(top["place"], "丽发新城");
    assert_eq!(top["request_ids"], serde_json::json!(["1", "2", "4"]));
    assert_eq!(
        (top["from"].as_str(), top["to"].as_str()),
        (Some("2019-11-13"), Some("2019-11-25"))
    );
    assert!(
        top["description"]
            .as_str()
            .unwrap()
            .starts_with("丽发新城 "),
        "{top}"
    );
    assert!(top["heat"].as_f64().unwrap() > 0.0);
    assert_eq!(
        v.as_array().unwrap().len(),
        1,
        "single requests are not hot problems"
    );

    let out = hotspots(CSV, &["--format", "csv"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("\u{feff}rank,heat,description,place,area,from,to,requests,request_ids")
    );
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",2019-11-13,2019-11-25,3,1;2;4"),
        "{text}"
    );
}

#[test]
fn bad_input_names_the_row_and_column_and_exits_with_2() {
    let bad_time = CSV.replace("2019/11/15 8:56:46", "yesterday");
    let out = hotspots(&bad_time, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 2, column `submitted_at`") && err.contains("yesterday"),
        "{err}"
    );

    let out = hotspots(&CSV.replace(",3,0\n", ",many,0\n"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("row 1, column `upvotes`: `many` is not a count"));

    let out = hotspots("id,title,text\n1,a,b\n", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column submitted_at or 留言时间"));

    let out = hotspots(CSV, &["--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn hotspots_runs_on_the_original_fujian3_columns() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/tipdm2020/fujian3_messages_with_votes.csv");
    if !file.exists() {
        eprintln!("skip: {} not found", file.display());
        return;
    }
    let out = run_on(&file, &["--top", "10"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let places: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["place"].as_str().unwrap())
        .collect();
    assert_eq!(places.len(), 10);
    assert!(places.contains(&"丽发新城"), "{places:?}");
}
