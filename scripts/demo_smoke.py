#!/usr/bin/env python3
"""`jiesu demo` end to end at a small size: it simulates into a fresh folder, starts, prints
its users; a demo supervisor logs in and sees this month's ranking with ranked streets and the
four classes; a demo operator sees the requests; then it stops on SIGTERM.

    python3 scripts/demo_smoke.py --bin target/release/jiesu
"""
import argparse
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def call(base, path, token=None, body=None):
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(req, data, timeout=30) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    a = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    folder = tempfile.mkdtemp(prefix="jiesu-demo-")
    # Ten days ending yesterday, so this month's ranking has data (the 1st: last month's).
    today = datetime.date.today()
    start = today - datetime.timedelta(days=10)
    month = start.strftime("%Y-%m") if today.day <= 2 else today.strftime("%Y-%m")
    env = {**os.environ, "JIESU_LOG": "warn", "JIESU_DEMO_PASSWORD": "demo-pass-1"}
    env.pop("JIESU_DATABASE_URL", None)
    proc = subprocess.Popen(
        [a.bin, "--data-dir", folder, "demo", "--days", "10", "--per-day", "120", "--start", start.isoformat(), "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 600
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except Exception:
                if proc.poll() is not None or time.time() > deadline:
                    sys.exit(f"demo did not start (exit {proc.poll()})")
                time.sleep(1)
        sup = call(base, "/api/v1/auth/token", body={"username": "demo.supervisor", "password": "demo-pass-1"})["token"]
        ranking = call(base, f"/api/v1/kpi/ranking?month={month}&level=subdistrict", sup)
        ranked = [u for u in ranking["units"] if u["rank"] is not None]
        classes = {u["class"] for u in ranked if u["class"]}
        assert len(ranked) >= 50, f"only {len(ranked)} streets ranked"
        assert {"leading", "rectify", "priority_governance"} <= classes, classes
        op = call(base, "/api/v1/auth/token", body={"username": "demo.operator", "password": "demo-pass-1"})["token"]
        page = call(base, "/api/v1/requests?per_page=5", op)
        assert page["total"] >= 800, page["total"]
        print(f"demo ok: {page['total']} requests, {len(ranked)} streets ranked in {month}, classes {sorted(classes)}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "demo.operator" in out and "demo.supervisor" in out, out
    assert proc.returncode == 0, f"exit {proc.returncode}"


if __name__ == "__main__":
    main()
