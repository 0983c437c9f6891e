#!/usr/bin/env python3
"""An attacker's probe of the release binary (issue #16's acceptance script).

Starts `jiesu serve` on a fresh SQLite data folder (or a fresh PostgreSQL database with
--postgres URL), seeds staff and requests, and tries what an attacker on the network would:

* bad input: every GET route of the OpenAPI document with hostile query values (extreme dates
  and months, huge and negative numbers, NUL bytes, unknown enum words), every write route
  with hostile JSON bodies, and odd path ids;
* enumeration: a unit asks for other units' requests by id and by number, and acts on their
  orders: every answer must equal the answer for an id that does not exist;
* privacy: no view or list a unit or an operator gets holds a requester's full phone number;
* tracking: number + query code guessed many times (and number + phone, the old way) never
  shows a request, and the guesses are stopped with 429;
* logins: parallel wrong passwords with the right one, unknown names answered like known ones;
* races: twenty pairs of opposite merges (A into B, B into A) at once: exactly one of each pair
  wins and nothing disappears;
* floods: anonymous portal submissions are limited with 429;
* slow clients: hundreds of connections that never finish their headers are closed by the
  server, which keeps answering meanwhile.

Every answer is counted: the probe fails on any 5xx, on any leaked phone number or other
unit's data, and on any lost request. Prints a summary line per section.

    python3 scripts/probe.py --bin target/release/jiesu [--postgres postgres://postgres@127.0.0.1/postgres]
"""
import argparse, concurrent.futures as cf, json, os, re, socket, subprocess, sys, tempfile, time
import urllib.error, urllib.parse, urllib.request, uuid

STATS = {"requests": 0, "5xx": []}


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


class Api:
    def __init__(self, base): self.base = base

    def raw(self, method, path, token=None, data=None, headers=None, timeout=30):
        path = urllib.parse.quote(path, safe="/?=&%:+,;@!$'()*[]~")
        req = urllib.request.Request(self.base + path, data=data, method=method)
        for k, v in (headers or {}).items(): req.add_header(k, v)
        if token: req.add_header("authorization", "Bearer " + token)
        STATS["requests"] += 1
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, body, hdrs = r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            status, body, hdrs = e.code, e.read(), dict(e.headers)
        if status >= 500:
            STATS["5xx"].append(f"{method} {path} -> {status}")
        return status, body, hdrs

    def call(self, method, path, token=None, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        h = {"content-type": "application/json"} if data is not None else {}
        h.update(headers or {})
        status, raw, _ = self.raw(method, path, token, data, h)
        try: out = json.loads(raw or b"null")
        except ValueError: out = raw.decode("utf-8", "replace")
        return status, out

    def ok(self, method, path, token=None, body=None, want=200):
        status, out = self.call(method, path, token, body)
        check(status == want, f"{method} {path}: wanted {want}, got {status}: {str(out)[:300]}")
        return out

    def form(self, path, fields, cookies=""):
        data = urllib.parse.urlencode(fields).encode()
        return self.raw("POST", path, data=data, headers={"content-type": "application/x-www-form-urlencoded", "cookie": cookies})


FAILURES = []


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("FAIL:", msg)
    return cond


def section(name, detail):
    print(f"== {name}: {detail}")


HOSTILE_VALUES = ["+262142-12", "-262143-01-01", "262143-13-45", "0000-00", "9999-99-99", "2026-02-30",
                  "-1", "0", "99999999999999999999999", "1e309", "NaN", "\u0000", "%00", "a\r\nb: c",
                  "../../etc/passwd", "' OR 1=1 --", "<script>alert(1)</script>", "x" * 5000, "", " ",
                  "２０２６－０１", "2026-1", "2026-01-01T00:00:00Z"]


def spec_routes(api, token):
    spec = api.ok("GET", "/api/v1/openapi.json", token)
    comps = spec.get("components", {}).get("parameters", {})
    def res(p): return comps[p["$ref"].split("/")[-1]] if "$ref" in p else p
    routes = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters": continue
            params = [res(p) for p in op.get("parameters", [])]
            routes.append((method.upper(), path, [p["name"] for p in params if p["in"] == "query"],
                           [p["name"] for p in params if p["in"] == "path"]))
    return routes


def probe_bad_input(api, t, ids):
    routes = spec_routes(api, t["admin"])
    sent = 0
    fill = {"id": ids["request"], "code": "110105026", "month": "2026-11", "key": "x"}
    for method, path, query, path_params in routes:
        base = path
        for p in path_params: base = base.replace("{" + p + "}", urllib.parse.quote(fill.get(p, "x"), safe=""))
        if method == "GET":
            for q in query:
                for v in HOSTILE_VALUES:
                    api.raw("GET", "/api/v1" + base + "?" + urllib.parse.urlencode({q: v}), t["admin"]); sent += 1
        for p in path_params:
            for v in HOSTILE_VALUES[:14]:
                odd = path
                for other in path_params:
                    odd = odd.replace("{" + other + "}", urllib.parse.quote(v if other == p else fill.get(other, "x"), safe="") or "x")
                api.raw(method, "/api/v1" + odd, t["admin"], b"{}" if method in ("POST", "PUT") else None,
                        {"content-type": "application/json"}); sent += 1
        if method in ("POST", "PUT"):
            for body in [b"", b"null", b"[]", b"{", b'{"a":' + b"[" * 3000, b'"\\u0000"', json.dumps({"text": "\u0000" * 10}).encode(),
                         json.dumps({"month": "+262142-12", "from": "-262143-01-01", "hours": 10**30, "limit": -5}).encode(),
                         json.dumps({k: "x" * 20000 for k in ["text", "title", "address", "reason", "note", "merged_line", "answer"]}).encode()]:
                api.raw(method, "/api/v1" + base, t["admin"], body, {"content-type": "application/json"}); sent += 1
    # The pages take dates and months too.
    for page in ["/ui/dashboard", "/ui/governance", "/ui/portal/track", "/ui/login"]:
        for q in ["month", "date", "from", "to", "next", "page", "lang"]:
            for v in HOSTILE_VALUES[:16]:
                api.raw("GET", page + "?" + urllib.parse.urlencode({q: v}), t["admin"]); sent += 1
    section("bad input", f"{sent} hostile requests over {len(routes)} routes")


def probe_enumeration(api, t, seeded):
    other = t["yam"]  # 右安门: holds no order of the seeded requests
    missing = api.call("GET", "/api/v1/requests/00000000-0000-7000-8000-000000000000", other)
    leaks = 0
    for r in seeded:
        for key in (r["id"], r["number"]):
            if api.call("GET", f"/api/v1/requests/{key}", other) != missing: leaks += 1
        for a in r.get("orders", []):
            got = api.call("POST", f"/api/v1/assignments/{a}/acknowledge", other, {})
            want = api.call("POST", "/api/v1/assignments/00000000-0000-7000-8000-000000000000/acknowledge", other, {})
            if got != want: leaks += 1
    # Numbers next to real ones answer the same as real ones another unit holds.
    for r in seeded[:5]:
        n = int(r["number"][-4:])
        for d in (1, 2, 50):
            guess = r["number"][:-4] + f"{(n + d) % 10000:04d}"
            status, _ = api.call("GET", f"/api/v1/requests/{guess}", other)
            if status != 404: leaks += 1
    check(leaks == 0, f"enumeration: another unit's ids and numbers answer as missing ones ({leaks} differ)")
    section("enumeration", f"{len(seeded)} requests by id, number and order")


def probe_privacy(api, t, phones):
    seen = []
    for who in ["op", "disp", "wj", "cgzf", "yam", "sup"]:
        for path in ["/api/v1/requests?per_page=200", "/api/v1/supervision/overdue", "/api/v1/search?q=施工",
                     "/ui/unit", "/ui/dispatch", "/ui/dashboard"]:
            status, body, _ = api.raw("GET", path, t[who])
            text = body.decode("utf-8", "replace")
            seen += [f"{who} {path}" for p in phones if p in text]
        status, out = api.call("GET", "/api/v1/requests?per_page=200", t[who])
        for r in (out.get("items", []) if isinstance(out, dict) else [])[:20]:
            status, body, _ = api.raw("GET", f"/api/v1/requests/{r['id']}", t[who])
            text = body.decode("utf-8", "replace")
            seen += [f"{who} request {r['number']}" for p in phones if p in text]
    check(not seen, f"privacy: no full phone number outside the callback agent's views ({seen[:5]})")
    section("privacy", f"{len(phones)} phones looked for in the views of 6 roles")


def probe_merge_races(api, t, make_request):
    pairs = [(make_request(), make_request()) for _ in range(20)]
    def merge(a, b): return api.call("POST", f"/api/v1/requests/{a}/merge", t["op"], {"into": b})[0]
    with cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda p: (pool.submit(merge, p[0], p[1]), pool.submit(merge, p[1], p[0])), pairs))
        outcomes = [(x.result(), y.result()) for x, y in results]
    both = sum(1 for x, y in outcomes if x == 200 and y == 200)
    neither = sum(1 for x, y in outcomes if x != 200 and y != 200)
    check(both == 0 and neither == 0, f"merge races: exactly one of each opposite pair wins (both {both}, neither {neither}, {outcomes})")
    lost = 0
    for a, b in pairs:
        va = api.ok("GET", f"/api/v1/requests/{a}", t["disp"]); vb = api.ok("GET", f"/api/v1/requests/{b}", t["disp"])
        if va["status"] == "merged" and vb["status"] == "merged": lost += 1
    check(lost == 0, f"merge races: no pair merged into each other ({lost})")
    section("merge races", f"{len(pairs)} opposite pairs")


def public_form(api, page):
    """GETs a public page: its anti-forgery cookie and the form's token."""
    status, body, hdrs = api.raw("GET", page)
    cookie = "; ".join(c.split(";")[0] for k, c in hdrs.items() if k.lower() == "set-cookie")
    m = re.search(r'name="_csrf" value="([^"]*)"', body.decode("utf-8", "replace"))
    return cookie, (m.group(1) if m else "")


def probe_tracking(api, t, seeded, phones):
    secret = seeded[0]
    view = api.ok("GET", f"/api/v1/requests/{secret['id']}", t["admin"])
    title = view["title"]
    cookie, token = public_form(api, "/ui/portal/track")
    shown, limited, answers, statuses = 0, 0, set(), []
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    import random
    rng = random.Random(16)
    # The old way (number + phone) and guessed codes: never the request, soon 429.
    guesses = [phones[0]] + ["".join(rng.choice(alphabet) for _ in range(8)) for _ in range(40)]
    for g in guesses:
        status, body, hdrs = api.form("/ui/portal/track", {"_csrf": token, "number": secret["number"], "code": g}, cookie)
        statuses.append(status)
        text = body.decode("utf-8", "replace")
        if title in text or status == 200: shown += 1
        if status == 429:
            limited += 1
            check(any(k.lower() == "retry-after" for k in hdrs), "tracking: a 429 says when to retry (Retry-After)")
    check(shown == 0, f"tracking: {len(guesses)} guessed codes and the phone never show the request ({shown})")
    check(limited > 0, f"tracking: guessing one number is stopped with 429 ({statuses})")
    # Missing and real numbers with a wrong code answer alike (before any limit).
    section("tracking", f"{len(guesses)} guesses at one number: {limited} × 429, 0 shown")


def probe_logins(api, t, pid):
    # A known name and an unknown one answer the same to a wrong password.
    known = api.call("POST", "/api/v1/auth/token", body={"username": "cb", "password": "wrong-password"})
    unknown = api.call("POST", "/api/v1/auth/token", body={"username": "nobody-here", "password": "wrong-password"})
    check(known == unknown, f"logins: an unknown name answers like a known one ({known} / {unknown})")
    # 39 wrong passwords and the right one, in parallel.
    bodies = [{"username": "sup", "password": "wrong-%d" % i} for i in range(39)] + [{"username": "sup", "password": "password-sup"}]
    with cf.ThreadPoolExecutor(40) as pool:
        got = list(pool.map(lambda b: api.call("POST", "/api/v1/auth/token", body=b)[0], bodies))
    judged_wrong = got.count(401)
    check(judged_wrong <= 5, f"logins: of 39 parallel wrong passwords at most 5 are judged before the wait ({judged_wrong} × 401, {got.count(429)} × 429)")
    # A flood of anonymous logins does not take the server's memory.
    def rss():
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) // 1024
    before = rss()
    with cf.ThreadPoolExecutor(96) as pool:
        flood = list(pool.map(lambda i: api.call("POST", "/api/v1/auth/token", body={"username": f"ghost{i}", "password": "x" * 64})[0], range(96)))
    after = rss()
    check(after - before < 300, f"logins: 96 parallel anonymous logins grow the server by {after - before} MB (from {before} MB)")
    section("logins", f"parallel race {got.count(200)} × 200 / {judged_wrong} × 401 / {got.count(429)} × 429; flood {sorted(set(flood))}, RSS {before} → {after} MB")


def probe_csrf(api, t, seeded):
    order = seeded[1]["orders"][0]
    status, body, _ = api.raw("POST", f"/api/v1/assignments/{order}/acknowledge", data=b"{}",
                              headers={"content-type": "text/plain", "origin": "http://evil.example",
                                       "cookie": f"jiesu_session={t['wj']}"})
    check(status in (401, 403, 415), f"csrf: a cookie-only API write from a foreign origin is refused ({status})")
    section("csrf", f"cookie-only write answered {status}")


def probe_portal_flood(api, admin_token, accepted_before):
    cookie, token = public_form(api, "/ui/portal")
    codes = []
    for i in range(25):
        status, body, _ = api.form("/ui/portal", {"_csrf": token, "kind": "complaint", "name": "李", "phone": f"1370000{i:04d}",
                                                  "text": "路灯不亮" + "很久" * 9000, "address": "朝阳区望京西园三区"}, cookie)
        codes.append(status)
    accepted = sum(1 for c in codes if c in (200, 201, 303))
    check(codes.count(429) > 0, f"floods: anonymous portal submissions are limited per address ({codes})")
    total = api.ok("GET", "/api/v1/requests?per_page=1", admin_token)["total"]
    check(total == accepted_before + accepted, f"floods: every accepted portal submission is stored ({total} = {accepted_before} + {accepted})")
    section("floods", f"25 portal submissions of ~18,000 characters: {accepted} accepted, {codes.count(429)} × 429, {codes.count(413)} × 413")
    return accepted


def probe_slow_clients(api, n, wait):
    host, port = api.base.rsplit(":", 1)[0].replace("http://", ""), int(api.base.rsplit(":", 1)[1])
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(s)
        except OSError:
            break
    t0 = time.time()
    status, _, _ = api.raw("GET", "/healthz", timeout=10)
    answered = time.time() - t0
    check(status == 200, f"slow clients: the server answers with {len(socks)} stalled connections open")
    time.sleep(wait)
    closed = 0
    for s in socks:
        s.settimeout(1)
        try:
            data = s.recv(1024)
            closed += 1  # EOF or an error answer (408): either way the server let go
        except socket.timeout:
            pass
        except OSError:
            closed += 1
        s.close()
    check(closed == len(socks), f"slow clients: the server closed {closed} of {len(socks)} connections with unfinished headers after {wait} s")
    section("slow clients", f"{len(socks)} stalled connections; /healthz answered in {answered:.2f} s meanwhile")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jiesu")
    ap.add_argument("--postgres")
    ap.add_argument("--slow", type=int, default=300, help="stalled connections to open")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="jiesu-probe-")
    env = dict(os.environ, JIESU_ADMIN_PASSWORD="admin-pass-1", JIESU_LOG="warn", JIESU_DATA_DIR=data,
               JIESU_HEADER_TIMEOUT_SECS="2")
    env.pop("JIESU_DATABASE_URL", None)
    dbname = None
    if args.postgres:
        dbname = "jiesu_probe_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {dbname}"], check=True)
        env["JIESU_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + "/" + dbname
    def cli(*a, **kw): return subprocess.run([args.bin, *a], env=env, capture_output=True, text=True, **kw)
    staff = [("op", "operator", None), ("disp", "dispatcher", None), ("cb", "callback_agent", None), ("sup", "supervisor", None),
             ("wj", "unit_manager", "110105026"), ("yam", "unit_manager", "110106001"), ("cgzf", "unit_handler", "dept.cgzf")]
    for name, role, unit in staff:
        extra = ["--unit", unit] if unit else []
        r = cli("user", "add", "--username", name, "--role", role, *extra, "--password-stdin", input="password-" + name + "\n")
        if not check(r.returncode == 0, f"jiesu user add {name}: {r.stderr}"): sys.exit(1)
    port = free_port()
    server = subprocess.Popen([args.bin, "serve", "--addr", f"127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        api = Api(f"http://127.0.0.1:{port}")
        for _ in range(300):
            try: urllib.request.urlopen(api.base + "/healthz", timeout=1); break
            except Exception: time.sleep(0.1)
        else:
            check(False, "server did not start"); sys.exit(1)
        t = {name: api.ok("POST", "/api/v1/auth/token", body={"username": name, "password": "password-" + name})["token"]
             for name, _, _ in staff}
        t["admin"] = api.ok("POST", "/api/v1/auth/token", body={"username": "admin", "password": "admin-pass-1"})["token"]
        phones, seeded = [], []
        def make_request(phone=None):
            phone = phone or f"139{len(phones) + 10000000:08d}"
            phones.append(phone)
            v = api.ok("POST", "/api/v1/requests", t["op"], {"kind": "complaint", "text": f"望京西园三区工地夜间施工噪音扰民，第{len(phones)}次反映。",
                        "address": "朝阳区望京西园三区", "requester": {"name": "王女士", "phone": phone}}, want=201)
            return v["id"]
        for i in range(12):
            rid = make_request()
            v = api.ok("POST", f"/api/v1/requests/{rid}/dispatch", t["disp"], {"assignments": [
                {"unit_code": "110105026", "role": "lead"}, {"unit_code": "dept.cgzf", "role": "co"}]})
            seeded.append({"id": rid, "number": v["number"], "orders": [a["id"] for a in v["assignments"]]})
        probe_bad_input(api, t, {"request": seeded[0]["id"]})
        probe_enumeration(api, t, seeded)
        probe_privacy(api, t, phones)
        probe_merge_races(api, t, make_request)
        probe_tracking(api, t, seeded, phones)
        probe_csrf(api, t, seeded)
        portal = probe_portal_flood(api, t["admin"], len(phones))
        probe_logins(api, t, server.pid)
        probe_slow_clients(api, args.slow, 4)
        check(server.poll() is None, "the server is still running")
        total = api.ok("GET", "/api/v1/requests?per_page=1", t["admin"])["total"]
        check(total == len(phones) + portal, f"no request lost: {total} stored of {len(phones) + portal} accepted")
    finally:
        server.terminate()
        try: server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            FAILURES.append("the server did not stop within 15 s of SIGTERM"); server.kill()
        if dbname:
            subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"])
    check(not STATS["5xx"], f"no 5xx: {len(STATS['5xx'])} of {STATS['requests']} ({STATS['5xx'][:5]})")
    print(f"probe: {STATS['requests']} requests, {len(STATS['5xx'])} × 5xx, {len(FAILURES)} failed checks")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
