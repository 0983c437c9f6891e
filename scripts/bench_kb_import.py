#!/usr/bin/env python3
"""Knowledge-base import benchmark (issue #23): `jiesu kb import` of N entries (200,000 by
default) on a fresh SQLite data folder or PostgreSQL database, against two baselines
measured in the same run on the same file:
* the database's own bulk loader into one plain table of the same columns, no checks, no
  versions, no events (sqlite3 `.import`, or psql `\\copy`): the floor of writing the rows;
* `jiesu kb import --dry-run`: reading and checking every row, writing nothing.
The entries are real replies (TipDM 2020 附件4, 答复意见) under their messages' subjects,
repeated under numbered titles to reach N (as the 200,000-entry story does). The import is
then counted back through the API (`/api/v1/kb/entries?status=draft`). Standard library only.

    python3 scripts/bench_kb_import.py --bin target/release/jiesu [--entries 200000] [--postgres URL]
"""
import argparse, csv, json, os, subprocess, sys, tempfile, time, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "data", "tipdm2020")
COLUMNS = ["id", "title", "answer", "category", "unit_code", "source", "valid_from",
           "valid_to", "keywords", "status"]


def pairs(folder):
    clean = lambda s: " ".join(s.split())
    out = []
    with open(os.path.join(folder, "fujian4_messages_with_replies.csv"), encoding="utf-8-sig") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            t, a = clean(row[2]), clean(row[5])
            if t and a and len(t) <= 150 and len(a) <= 10_000:
                out.append((t, a))
    return out


def write_file(path, ps, n):
    cats = ["城乡建设", "交通运输", "劳动和社会保障", "教育文体"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i in range(n):
            t, a = ps[i % len(ps)]
            w.writerow(["", f"{t}（{i // len(ps) + 1}）", a, cats[i % 4], "",
                        "12345 知识库（TipDM 2020 附件4 答复）", "", "", "留言|答复", ""])


def timed(cmd, env=None, stdin=None):
    t = time.monotonic()
    r = subprocess.run(cmd, env=env, stdin=stdin, capture_output=True, text=True)
    el = time.monotonic() - t
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return el, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--postgres")
    ap.add_argument("--data", default=DATA)
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.data, "fujian4_messages_with_replies.csv")):
        print(f"skipped: {args.data} is absent")
        return
    ps = pairs(args.data)
    tmp = tempfile.mkdtemp(prefix="jiesu-kb-bench-")
    file = os.path.join(tmp, "kb.csv")
    write_file(file, ps, args.entries)
    size = os.path.getsize(file) / 1e6
    env = dict(os.environ, JIESU_DATA_DIR=os.path.join(tmp, "data"), JIESU_LOG="warn",
               JIESU_ADMIN_PASSWORD="bench-admin-password-1")
    env.pop("JIESU_DATABASE_URL", None)
    db = None
    try:
        if args.postgres:
            db = "jiesu_test_kbbench_" + uuid.uuid4().hex[:8]
            subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {db}"], check=True)
            env["JIESU_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + "/" + db
        # Migrations and the reference tables first, so the import is timed alone.
        timed([args.bin, "kb", "export", "--out", os.path.join(tmp, "empty.csv")], env)
        # Baseline 1: the database's own loader into a plain table.
        cols = ", ".join(f"{c} TEXT" for c in COLUMNS)
        if args.postgres:
            url = env["JIESU_DATABASE_URL"]
            subprocess.run(["psql", url, "-qc", f"CREATE TABLE bench_plain ({cols})"], check=True)
            floor, _ = timed(["psql", url, "-qc",
                              f"\\copy bench_plain FROM '{file}' WITH (FORMAT csv, HEADER true)"])
            subprocess.run(["psql", url, "-qc", "DROP TABLE bench_plain"], check=True)
            floor_name = "psql \\copy into a plain table"
        else:
            plain = os.path.join(tmp, "plain.db")
            floor, _ = timed(["sqlite3", plain, f"CREATE TABLE bench_plain ({cols});",
                              ".mode csv", f".import --skip 1 {file} bench_plain"])
            floor_name = "sqlite3 .import into a plain table"
        dry, out = timed([args.bin, "kb", "import", file, "--dry-run"], env)
        assert f"{args.entries} would be added" in out, out
        full, out = timed([args.bin, "kb", "import", file], env)
        assert f"{args.entries} added" in out, out
        # Count them back (the console's export reads what was stored).
        back = os.path.join(tmp, "back.csv")
        timed([args.bin, "kb", "export", "--out", back], env)
        with open(back, encoding="utf-8-sig") as f:
            stored = sum(1 for _ in csv.reader(f)) - 1
        assert stored == args.entries, f"{stored} stored of {args.entries}"
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"kb import, {backend}: {args.entries} entries, {size:.0f} MB CSV, {stored} read back")
        print(f"  {floor_name:<40} {floor:7.1f} s")
        print(f"  {'jiesu kb import --dry-run (read, check)':<40} {dry:7.1f} s")
        print(f"  {'jiesu kb import':<40} {full:7.1f} s   x{full / floor:.1f} the plain load, "
              f"{args.entries / full:,.0f} entries/s")
    finally:
        if db:
            subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"])
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
