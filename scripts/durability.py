#!/usr/bin/env python3
"""Durability under load (issue #5): kill the server with SIGKILL in the middle of a load run,
restart it, and check that every request answered 201 is there with its event, every
consultation answered 200 has its outbox message, and `jiesu audit verify` passes.

    python3 scripts/durability.py --bin target/release/jiesu [--requests 300] [--postgres URL]
"""
import argparse, json, os, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request, uuid

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def call(base, method, path, token=None, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None: req.add_header("content-type", "application/json")
    if token: req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r: return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e: return e.code, json.loads(e.read() or b"null")

def fail(msg):
    print("FAIL:", msg); sys.exit(1)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jiesu")
    ap.add_argument("--requests", type=int, default=300, help="kill after this many 201s")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--postgres")
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="jiesu-durability-")
    env = dict(os.environ, JIESU_ADMIN_PASSWORD="admin-pass-1", JIESU_LOG="warn", JIESU_DATA_DIR=data, JIESU_SWEEP_SECONDS="0", JIESU_SEARCH_REFRESH_MS="0")
    env.pop("JIESU_DATABASE_URL", None)
    db = None
    if a.postgres:
        db = "jiesu_durability_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", a.postgres, "-qc", f"CREATE DATABASE {db}"], check=True)
        env["JIESU_DATABASE_URL"] = a.postgres.rsplit("/", 1)[0] + "/" + db
    r = subprocess.run([a.bin, "user", "add", "--username", "op", "--role", "operator", "--password-stdin"], env=env, input="operator-pass\n", capture_output=True, text=True)
    if r.returncode: fail(r.stderr)
    port = free_port(); base = f"http://127.0.0.1:{port}"
    def start():
        p = subprocess.Popen([a.bin, "serve", "--addr", f"127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try: urllib.request.urlopen(base + "/healthz", timeout=1); return p
            except Exception: time.sleep(0.1)
        fail("server did not start")
    server = start()
    token = call(base, "POST", "/api/v1/auth/token", body={"username": "op", "password": "operator-pass"})[1]["token"]
    created, answered, lock, stop = [], [], threading.Lock(), threading.Event()
    def worker(n):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                st, body = call(base, "POST", "/api/v1/requests", token, {"kind": "consultation", "text": f"请问居住证怎么办理？（{n}-{i}）", "requester": {"phone": "13812345678"}})
                if st != 201: continue
                with lock: created.append(body["id"])
                st, _ = call(base, "POST", f"/api/v1/requests/{body['id']}/answer", token, {"answer": "到街道政务服务中心办理。"})
                if st == 200:
                    with lock: answered.append(body["id"])
            except Exception:
                time.sleep(0.01)  # the server is gone: keep trying until told to stop
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(a.workers)]
    t0 = time.time()
    for t in threads: t.start()
    while len(created) < a.requests and time.time() - t0 < 120: time.sleep(0.005)
    server.send_signal(signal.SIGKILL); server.wait()
    with lock: acked, done = list(created), list(answered)
    stop.set()
    for t in threads: t.join()
    print(f"killed with SIGKILL after {len(acked)} requests answered 201 and {len(done)} answers answered 200 ({time.time() - t0:.1f} s)")
    server = start()
    token = call(base, "POST", "/api/v1/auth/token", body={"username": "op", "password": "operator-pass"})[1]["token"]
    for rid in acked:
        st, body = call(base, "GET", f"/api/v1/requests/{rid}", token)
        if st != 200: fail(f"request {rid} answered 201 but is gone ({st})")
        if not any(e["action"] == "request.created" for e in body["events"]): fail(f"request {rid} has no creation event")
        if rid in done and body["status"] != "answered": fail(f"answer of {rid} was acknowledged but is lost")
    server.terminate(); server.wait(timeout=30)
    sql = "SELECT request_id FROM outbox"
    if db:
        rows = subprocess.run(["psql", env["JIESU_DATABASE_URL"], "-Atc", sql], capture_output=True, text=True, check=True).stdout.split()
    else:
        con = sqlite3.connect(os.path.join(data, "jiesu.db")); rows = [r[0] for r in con.execute(sql)]; con.close()
    missing = set(done) - set(rows)
    if missing: fail(f"{len(missing)} acknowledged answers have no outbox message")
    r = subprocess.run([a.bin, "audit", "verify"], env=env, capture_output=True, text=True)
    if r.returncode: fail("audit verify: " + r.stderr)
    print(r.stdout.strip())
    if db: subprocess.run(["psql", a.postgres, "-qc", f"DROP DATABASE {db} WITH (FORCE)"], check=True)
    print(f"durability: all {len(acked)} acknowledged requests and {len(done)} answers survived SIGKILL", "(PostgreSQL)" if db else "(SQLite)")

if __name__ == "__main__":
    main()
