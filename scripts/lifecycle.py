#!/usr/bin/env python3
"""A request's whole life against the running release binary (issue #2's acceptance script).

Starts `jiesu serve` on a fresh SQLite data folder, or on a fresh PostgreSQL database with
--postgres URL, creates staff with `jiesu user add`, and drives one request through intake,
multi-dispatch, a return accepted by the dispatcher and re-dispatch, an approved extension, acknowledgements, dual
replies, an unsatisfied callback, rework, a satisfied callback and close. Checks that other
units' staff cannot see it, that `jiesu audit verify` passes, and that it fails after a stored
event is edited by hand. Exits non-zero on the first failed check.

    python3 scripts/lifecycle.py --bin target/release/jiesu [--postgres postgres://postgres@127.0.0.1/postgres]
"""
import argparse, json, os, socket, sqlite3, subprocess, sys, tempfile, time, urllib.request, urllib.error, uuid

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

class Api:
    def __init__(self, base): self.base = base
    def call(self, method, path, token=None, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None: req.add_header("content-type", "application/json")
        if token: req.add_header("authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r: return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")
    def ok(self, method, path, token=None, body=None, want=200):
        status, out = self.call(method, path, token, body)
        check(status == want, f"{method} {path}: wanted {want}, got {status}: {out}")
        return out

def check(cond, msg):
    if not cond:
        print("FAIL:", msg); sys.exit(1)
    print("ok:", msg.split(":")[0] if ":" in msg else msg)

def order(view, unit, rnd):
    for a in view["assignments"]:
        if a["unit_code"] == unit and a["round"] == rnd and a["status"] != "returned": return a["id"]
    check(False, f"no live order for {unit} round {rnd}")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jiesu")
    ap.add_argument("--postgres", help="admin URL of a PostgreSQL server; a fresh database is created on it")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="jiesu-lifecycle-")
    env = dict(os.environ, JIESU_ADMIN_PASSWORD="admin-pass-1", JIESU_LOG="warn", JIESU_DATA_DIR=data)
    env.pop("JIESU_DATABASE_URL", None)
    dbname = None
    if args.postgres:
        dbname = "jiesu_lifecycle_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {dbname}"], check=True)
        env["JIESU_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + "/" + dbname
    def cli(*a, **kw): return subprocess.run([args.bin, *a], env=env, capture_output=True, text=True, **kw)
    staff = [("op", "operator", None), ("disp", "dispatcher", None), ("cb", "callback_agent", None),
             ("wj", "unit_manager", "110105026"), ("hjd", "unit_handler", "110105026034"),
             ("yam", "unit_manager", "110106001"), ("cgzf", "unit_handler", "dept.cgzf"), ("other", "unit_manager", "110108001")]
    for name, role, unit in staff:
        extra = ["--unit", unit] if unit else []
        r = cli("user", "add", "--username", name, "--role", role, *extra, "--password-stdin", input="password-" + name + "\n")
        check(r.returncode == 0, f"jiesu user add {name}: {r.stderr}")
    port = free_port()
    server = subprocess.Popen([args.bin, "serve", "--addr", f"127.0.0.1:{port}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        api = Api(f"http://127.0.0.1:{port}")
        for _ in range(200):
            try:
                urllib.request.urlopen(api.base + "/healthz", timeout=1); break
            except Exception: time.sleep(0.1)
        else: check(False, "server did not become healthy")
        t = {name: api.ok("POST", "/api/v1/auth/token", body={"username": name, "password": "password-" + name})["token"] for name, _, _ in staff}
        v = api.ok("POST", "/api/v1/requests", t["op"], {"kind": "complaint", "text": "望京西园三区工地夜间施工噪音扰民，凌晨两点仍在施工。",
            "address": "朝阳区望京西园三区", "requester": {"name": "王女士", "phone": "13812345678"}}, want=201)
        rid = v["id"]; print("request", v["number"])
        v = api.ok("POST", f"/api/v1/requests/{rid}/dispatch", t["disp"], {"assignments": [
            {"unit_code": "110106001", "role": "lead"}, {"unit_code": "110105026034", "role": "co"}, {"unit_code": "dept.cgzf", "role": "co"}]})
        check(v["status"] == "dispatched" and len(v["assignments"]) == 3, "multi-dispatch to 3 units")
        wrong = order(v, '110106001', 1)
        v = api.ok("POST", f"/api/v1/assignments/{wrong}/return", t["yam"], {"reason": "非本街道辖区"})
        check(v["status"] == "dispatched", "a return waits for the dispatcher's review (退单审核)")
        pending = api.ok("GET", "/api/v1/returns?status=pending", t["disp"])
        check([p["assignment_id"] for p in pending] == [wrong], "the dispatcher lists the pending return")
        v = api.ok("POST", f"/api/v1/assignments/{wrong}/return-review", t["disp"], {"decision": "accept"})
        check(v["status"] == "received", "the accepted return by the wrong street puts it back for dispatch")
        v = api.ok("POST", f"/api/v1/requests/{rid}/dispatch", t["disp"], {"assignments": [{"unit_code": "110105026", "role": "lead"}]})
        for who, unit in [("wj", "110105026"), ("hjd", "110105026034"), ("cgzf", "dept.cgzf")]:
            v = api.ok("POST", f"/api/v1/assignments/{order(v, unit, 1)}/acknowledge", t[who])
        check(v["status"] == "in_progress", "all three acknowledged")
        v = api.ok("POST", f"/api/v1/assignments/{order(v, '110105026', 1)}/extension", t["wj"], {"hours": 48, "reason": "需联合执法"})
        v = api.ok("POST", f"/api/v1/extensions/{v['extensions'][0]['id']}/decision", t["disp"], {"approve": True})
        check(v["extensions"][0]["status"] == "approved", "extension approved")
        status, _ = api.call("GET", f"/api/v1/requests/{rid}", t["other"])
        check(status == 404, f"another street's manager cannot see it: 404, as if it did not exist ({status})")
        check(api.ok("GET", "/api/v1/requests", t["other"])["total"] == 0, "nor list it")
        status, _ = api.call("POST", f"/api/v1/assignments/{order(v, '110105026', 1)}/acknowledge", t["other"])
        check(status == 404, f"nor act on it ({status})")
        for rnd in (1, 2):
            for who, unit in [("hjd", "110105026034"), ("cgzf", "dept.cgzf"), ("wj", "110105026")]:
                o = order(v, unit, rnd)
                if rnd == 2: api.ok("POST", f"/api/v1/assignments/{o}/acknowledge", t[who])
                v = api.ok("POST", f"/api/v1/assignments/{o}/reply", t[who], {"to_requester": "已处理，夜间已停工", "to_center": "已核查并责令整改", "outcome": "resolved"})
            check(v["status"] == "replied", f"round {rnd}: dual replies from all units")
            cb = {"reached": True, "resolved": rnd == 2, "satisfaction": "satisfied" if rnd == 2 else "unsatisfied"}
            v = api.ok("POST", f"/api/v1/requests/{rid}/callback", t["cb"], cb)
            if rnd == 1: check(v["status"] == "dispatched" and v["round"] == 2, "unsatisfied callback: rework round 2")
        check(v["status"] == "closed" and v["close_reason"] == "resolved", "satisfied callback closes it")
        print("timeline:", ", ".join(e["action"] for e in v["events"]))
    finally:
        server.terminate(); server.wait(timeout=30)
    r = cli("audit", "verify")
    check(r.returncode == 0, f"jiesu audit verify passes: {r.stdout.strip()} {r.stderr.strip()}")
    sql = "UPDATE events SET payload = '{\"edited\":true}' WHERE seq = 5"
    if dbname:
        subprocess.run(["psql", env["JIESU_DATABASE_URL"], "-qc", sql], check=True)
    else:
        con = sqlite3.connect(os.path.join(data, "jiesu.db")); con.execute(sql); con.commit(); con.close()
    r = cli("audit", "verify")
    check(r.returncode == 1 and "seq 5" in r.stderr, f"jiesu audit verify fails after an edit: {r.stderr.strip()}")
    if dbname:
        subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE {dbname} WITH (FORCE)"], check=True)
    print("lifecycle: all checks passed", "(PostgreSQL)" if dbname else "(SQLite)")

if __name__ == "__main__":
    main()
