#!/usr/bin/env python3
"""Failover under load (issue #21): pg_auto_failover (monitor, primary, synchronous standby),
several `jiesu serve` nodes on a multi-host URL, HAProxy checking /readyz, all on loopback.
Clients run intakes, dispatches, acknowledgements, replies and callbacks through HAProxy while
the script (1) SIGKILLs the PostgreSQL primary (keeper and server), (2) SIGKILLs one Jiesu
node, (3) brings the old primary back as the new standby. Intakes carry an Idempotency-Key and
are sent again while their answer is lost or a 502/503/504. Then it checks that every write
answered 2xx is stored exactly once (an intake retried after a lost answer included), every acknowledged reply has its outbox message, and
`jiesu audit verify` passes; it prints the write outage per event and the failed/retried calls.
Every node reads its reports from the standby (JIESU_STANDBY_DATABASE_URL, the same hosts): the
ranking carries the standby's lag in a header and the dashboard says so, before the failover
and again once the old primary is back as the standby; while no standby is left they come from
the primary and still answer.

    python3 scripts/failover.py --bin target/release/jiesu [--nodes 3] [--port 6400] [--keep]
    python3 scripts/failover.py --bin target/release/jiesu --bench 20   # intakes/s, 1..3 nodes

Runs as root (PostgreSQL nodes run as `postgres`, as pg_autoctl requires) or as postgres.
Timeouts are tuned below pg_auto_failover's defaults (see TUNING and README "Several machines").
"""
import argparse, http.client, http.cookiejar, json, re, urllib.parse, multiprocessing, os, secrets, shutil, signal, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

PGBIN = "/usr/lib/postgresql/15/bin"
# Monitor settings (ms; defaults in brackets): how soon a dead primary is noticed and how long
# it is given to step down before the standby takes writes.
TUNING = {
    "pgautofailover.health_check_period": 1000,        # [5000]
    "pgautofailover.health_check_timeout": 1000,       # [5000]
    "pgautofailover.health_check_max_retries": 1,      # [2]
    "pgautofailover.health_check_retry_delay": 500,    # [2000]
    "pgautofailover.node_considered_unhealthy_timeout": 2000,  # [20000]
    "pgautofailover.primary_demote_timeout": 5000,     # [30000]
}
# Keeper settings (s): a primary cut off from monitor and standby demotes itself after
# network_partition_timeout, which must stay below primary_demote_timeout.
KEEPER = {"timeout.network_partition_timeout": 3, "timeout.prepare_promotion_walreceiver": 1}

T0 = time.time()
def log(*a): print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)
def fail(msg): log("FAIL:", msg); raise SystemExit(1)

class Layout:
    def __init__(s, a):
        s.a, s.port = a, a.port
        s.dir = tempfile.mkdtemp(prefix="jiesu-failover-")
        os.chmod(s.dir, 0o755)
        s.procs, s.jiesu = [], {}
        s.env = dict(os.environ, PATH=PGBIN + ":" + os.environ["PATH"], XDG_CONFIG_HOME=s.dir + "/cfg", XDG_DATA_HOME=s.dir + "/share")
        s.pg = {1: s.port + 1, 2: s.port + 2}
        s.url = f"postgres://postgres@127.0.0.1:{s.pg[1]},127.0.0.1:{s.pg[2]}/jiesu?target_session_attrs=read-write"
        s.lb = s.port + 20
        s.audit_key = secrets.token_hex(32)  # every node seals the chain with the same key

    def as_pg(s, args):
        return args if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"] + args

    def spawn(s, name, args, env=None):
        out = open(f"{s.dir}/{name}.log", "ab")
        p = subprocess.Popen(args, env=env or s.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        s.procs.append(p); return p

    def autoctl(s, *args, check=True, tries=1):
        for i in range(tries):
            if i: time.sleep(0.5)
            r = subprocess.run(s.as_pg(["env", "PATH=" + s.env["PATH"], "XDG_CONFIG_HOME=" + s.env["XDG_CONFIG_HOME"], "XDG_DATA_HOME=" + s.env["XDG_DATA_HOME"], "pg_autoctl", *args]), capture_output=True, text=True)
            if r.returncode == 0: break
        if check and r.returncode: fail(f"pg_autoctl {' '.join(args)}: {r.stderr[-2000:]}")
        return r.stdout

    def psql(s, port, sql, db="jiesu"):
        r = subprocess.run(["psql", f"postgres://postgres@127.0.0.1:{port}/{db}", "-Atqc", sql], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else None

    def pg_run(s, name, args):
        cmd = s.as_pg(["env", "PATH=" + s.env["PATH"], "XDG_CONFIG_HOME=" + s.env["XDG_CONFIG_HOME"], "XDG_DATA_HOME=" + s.env["XDG_DATA_HOME"], "pg_autoctl", *args])
        return s.spawn(name, cmd)

    def writable(s, n):
        return s.psql(s.pg[n], "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'") == "t"

    def primary(s):
        return next((n for n in s.pg if s.writable(n)), None)

    def state(s):
        return s.autoctl("show", "state", "--pgdata", s.dir + "/mon", "--json", check=False)

    def wait_pair(s, timeout=180):
        """Until one node is primary and the other secondary; nudges checkpoints, which a fresh
        base backup waits for (a spread checkpoint on an idle server takes minutes)."""
        end = time.time() + timeout
        while time.time() < end:
            try: st = {n.get("nodename"): n.get("current_group_state", n.get("reported_state")) for n in json.loads(s.state() or "[]")}
            except ValueError: st = {}
            if sorted(st.values()) == ["primary", "secondary"]: return st
            p = s.primary()
            if p: s.psql(s.pg[p], "CHECKPOINT")
            time.sleep(1)
        fail(f"the PostgreSQL pair did not settle: {s.state()}")

    def start_pg(s):
        os.makedirs(s.dir + "/cfg", exist_ok=True); os.makedirs(s.dir + "/share", exist_ok=True)
        if os.geteuid() == 0: subprocess.run(["chown", "-R", "postgres", s.dir], check=True)
        common = ["--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl", "--pgctl", PGBIN + "/pg_ctl"]
        s.pg_run("monitor", ["create", "monitor", "--pgdata", s.dir + "/mon", "--pgport", str(s.port), *common, "--run"])
        for _ in range(60):
            if s.psql(s.port, "SELECT 1", db="pg_auto_failover") == "1": break
            time.sleep(0.5)
        else: fail("the monitor did not start")
        for k, v in TUNING.items(): s.psql(s.port, f"ALTER SYSTEM SET {k} = {v}", db="pg_auto_failover")
        s.psql(s.port, "SELECT pg_reload_conf()", db="pg_auto_failover")
        s.monitor = f"postgres://autoctl_node@127.0.0.1:{s.port}/pg_auto_failover?sslmode=prefer"
        for n in (1, 2):
            s.pg_run(f"pg{n}", ["create", "postgres", "--pgdata", f"{s.dir}/pg{n}", "--pgport", str(s.pg[n]), *common,
                                "--monitor", s.monitor, "--name", f"pg{n}", "--dbname", "jiesu", "--run"])
            if n == 1:
                for _ in range(120):
                    if s.writable(1): break
                    time.sleep(0.5)
                else: fail("the first PostgreSQL node did not start")
        s.wait_pair()
        for n in (1, 2):
            # The keeper rewrites its configuration file as it starts: a set that reads it half
            # written ("Failed to find section pg_autoctl") is tried again.
            for k, v in KEEPER.items(): s.autoctl("config", "set", "--pgdata", f"{s.dir}/pg{n}", k, str(v), tries=10)
        log("PostgreSQL: monitor", s.port, "primary", s.pg[1], "synchronous standby", s.pg[2],
            "sync:", s.psql(s.pg[1], "SHOW synchronous_standby_names"))

    def kill_pg(s, n):
        pid = int(open(f"{s.dir}/pg{n}/postmaster.pid").readline())
        pgid = os.getpgid(pid)
        os.killpg(pgid, signal.SIGKILL)  # the keeper and the server with its backends

    def restart_pg(s, n):
        s.pg_run(f"pg{n}", ["run", "--pgdata", f"{s.dir}/pg{n}"])

    def jenv(s, i):
        return dict(os.environ, JIESU_DATABASE_URL=s.url, JIESU_STANDBY_DATABASE_URL=s.url, JIESU_DATA_DIR=f"{s.dir}/jiesu{i}", JIESU_ADMIN_PASSWORD="admin-pass-1",
                    JIESU_LOG="warn", JIESU_SWEEP_SECONDS="1", JIESU_SEARCH_REFRESH_MS="1000", JIESU_TRUSTED_PROXIES="127.0.0.1", JIESU_AUDIT_KEY=s.audit_key)

    def cli(s, *args, input=None):
        return subprocess.run([s.a.bin, *args], env=s.jenv(0), input=input, capture_output=True, text=True)

    def start_jiesu(s, i):
        s.jiesu[i] = s.spawn(f"jiesu{i}", [s.a.bin, "serve", "--addr", f"127.0.0.1:{s.port + 10 + i}"], env=s.jenv(i))

    def wait_ready(s, base, timeout=120):
        end = time.time() + timeout
        while time.time() < end:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                    if r.status == 200: return
            except Exception: pass
            time.sleep(0.2)
        fail(f"{base} never ready")

    def start_lb(s, nodes):
        # The shipped deploy/haproxy.cfg, so the recipe is what runs here: its bind moved to
        # loopback, its servers replaced by these nodes, its syslog lines dropped.
        shipped = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy", "haproxy.cfg")).read()
        lines = []
        for line in shipped.splitlines():
            t = line.strip()
            if t.startswith("log ") or t.startswith("server "): continue
            if t.startswith("bind "): line = f"  bind 127.0.0.1:{s.lb}"
            lines.append(line)
            if t.startswith("default-server "):
                lines += [f"  server j{i} 127.0.0.1:{s.port + 10 + i} check" for i in nodes]
        open(f"{s.dir}/haproxy.cfg", "w").write("\n".join(lines) + "\n")
        s.haproxy = s.spawn("haproxy", ["haproxy", "-db", "-f", f"{s.dir}/haproxy.cfg"])

    def stop_lb(s):
        s.haproxy.terminate(); s.haproxy.wait()

    def cleanup(s):
        for p in reversed(s.procs):
            try: os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError): pass
        for n in (1, 2):  # a server left by a keeper killed first
            try: os.killpg(os.getpgid(int(open(f"{s.dir}/pg{n}/postmaster.pid").readline())), signal.SIGKILL)
            except (OSError, ValueError): pass
        try: os.killpg(os.getpgid(int(open(f"{s.dir}/mon/postmaster.pid").readline())), signal.SIGKILL)
        except (OSError, ValueError): pass
        if not s.a.keep: shutil.rmtree(s.dir, ignore_errors=True)
        else: log("kept", s.dir)

def call(base, method, path, token=None, body=None, timeout=15, key=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None: req.add_header("content-type", "application/json")
    if token: req.add_header("authorization", "Bearer " + token)
    if key: req.add_header("idempotency-key", key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r: return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try: return e.code, json.loads(e.read() or b"null")
        except ValueError: return e.code, None
    except Exception as e:  # connection reset, timeout: the outcome is unknown
        return 0, str(e)

STAFF = [("op", "operator", None), ("disp", "dispatcher", None), ("cb", "callback_agent", None), ("yam", "unit_manager", "110106001"),
         ("sup", "supervisor", None)]

def report_lag(base, token):
    """The ranking through `base`: (status, the standby lag header or None)."""
    month = time.strftime("%Y-%m")
    req = urllib.request.Request(f"{base}/api/v1/kpi/ranking?month={month}&level=subdistrict")
    req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            r.read(); return r.status, r.headers.get("x-jiesu-standby-lag-ms")
    except urllib.error.HTTPError as e: return e.code, None
    except Exception: return 0, None

def dashboard_note(base):
    """The supervisor's dashboard through `base` (a browser's login): its standby line, or None."""
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = op.open(base + "/ui/login", timeout=15).read().decode()
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"_csrf": token, "username": "sup", "password": "password-sup"}).encode()
    op.open(base + "/ui/login", form, timeout=15).read()
    html = op.open(base + "/ui/dashboard?month=" + time.strftime("%Y-%m"), timeout=30).read().decode()
    m = re.search(r'data-testid="standby-note">([^<]*)<', html)
    return m.group(1) if m else None

def wait_standby_reads(base, token, timeout=30):
    """Until the ranking through `base` is read from a standby: its lag in ms, or fail."""
    end = time.time() + timeout
    while time.time() < end:
        status, lag = report_lag(base, token)
        if status == 200 and lag is not None: return int(lag)
        time.sleep(0.5)
    fail(f"the ranking through {base} never came from the standby")

class Load:
    """Clients driving requests through intake → dispatch → acknowledge → reply → callback."""
    def __init__(s, base, tokens):
        s.base, s.t = base, tokens
        s.lock, s.stop = threading.Lock(), threading.Event()
        s.ok = []          # (kind, key, finished_at) of writes answered 2xx
        s.unknown = []     # intake tags whose answer was lost (no 2xx, maybe stored)
        s.calls = s.failed = s.retried = 0

    def write(s, kind, key, method, path, who, body, already=None):
        """One write, retried while it answers 502/503/504 or its answer is lost; a
        409 after a lost answer means the first try took (`already` confirms it by reading)."""
        lost = False
        for attempt in range(60):
            st, resp = call(s.base, method, path, s.t[who], body)
            with s.lock:
                s.calls += 1
                if attempt: s.retried += 1
                if not 200 <= st < 300: s.failed += 1
            if 200 <= st < 300:
                with s.lock: s.ok.append((kind, key, time.time()))
                return resp
            if st == 409 and lost and already and already():
                with s.lock: s.ok.append((kind, key, time.time()))
                return True
            if st in (0, 502, 503, 504):
                lost = True  # a 503 may come from a commit cut off: it may have taken
                time.sleep(0.3); continue
            return None
        return None

    def story(s, n, i):
        tag = f"FO-{n}-{i}"
        body = {"kind": "complaint", "text": f"朝阳区亚运村街道小区楼道堆放杂物（{tag}）", "address": "朝阳区亚运村街道", "requester": {"phone": "13812345678"}}
        st, r = 0, None
        for attempt in range(60):
            # The tag is the request's Idempotency-Key: a lost answer, a 502 or a 503 (a commit
            # a failover cut off may have taken) is sent again, and made at most once.
            st, r = call(s.base, "POST", "/api/v1/requests", s.t["op"], body, key=tag)
            with s.lock:
                s.calls += 1
                if attempt: s.retried += 1
                if st != 201: s.failed += 1
            if st in (0, 502, 503, 504):
                time.sleep(0.3); continue
            break
        if st != 201:
            with s.lock: s.unknown.append(tag)
            return
        with s.lock: s.ok.append(("intake", tag, time.time()))
        rid = r["id"]
        def status_is(*want):
            def now_in():
                v = call(s.base, "GET", f"/api/v1/requests/{rid}", s.t["disp"])[1]
                return isinstance(v, dict) and v.get("status") in want
            return now_in
        v = s.write("dispatch", rid, "POST", f"/api/v1/requests/{rid}/dispatch", "disp", {"assignments": [{"unit_code": "110106001", "role": "lead"}]},
                    already=status_is("dispatched", "in_progress", "replied", "closed"))
        if not v: return
        v = call(s.base, "GET", f"/api/v1/requests/{rid}", s.t["disp"])[1]
        v = v if isinstance(v, dict) else {}  # a lost answer is an error text, not a view
        order = next((a["id"] for a in v.get("assignments", []) if a["unit_code"] == "110106001"), None)
        if not order: return
        s.write("ack", order, "POST", f"/api/v1/assignments/{order}/acknowledge", "yam", None, already=status_is("in_progress", "replied", "closed"))
        if not s.write("reply", rid, "POST", f"/api/v1/assignments/{order}/reply", "yam",
                       {"to_requester": "已清理楼道杂物", "to_center": "已现场核查并清理", "outcome": "resolved"}, already=status_is("replied", "closed")):
            return
        s.write("callback", rid, "POST", f"/api/v1/requests/{rid}/callback", "cb",
                {"reached": True, "resolved": True, "satisfaction": "satisfied", "note": "满意"}, already=status_is("closed"))

    def run(s, workers):
        def worker(n):
            i = 0
            while not s.stop.is_set():
                i += 1; s.story(n, i)
        s.threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(workers)]
        for t in s.threads: t.start()

    def join(s):
        s.stop.set()
        for t in s.threads: t.join(timeout=120)

    def outage(s, t0, until):
        """The longest time without a completed 2xx write, from t0 on."""
        times = sorted(t for _, _, t in s.ok if t0 - 0.001 <= t <= until)
        gaps, last = [], t0
        for t in times: gaps.append(t - last); last = t
        return max(gaps, default=until - t0)

def wait_primary(L, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        p = L.primary()
        if p: return p
        time.sleep(0.2)
    return None

def wait_writes(load, since, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        with load.lock:
            if sum(1 for _, _, t in load.ok if t > since) >= 5: return True
        time.sleep(0.1)
    return False

def tokens_for(base):
    return {n: call(base, "POST", "/api/v1/auth/token", body={"username": n, "password": "password-" + n})[1]["token"] for n, _, _ in STAFF}

def add_staff(L):
    for name, role, unit in STAFF:
        extra = ["--unit", unit] if unit else []
        r = L.cli("user", "add", "--username", name, "--role", role, *extra, "--password-stdin", input="password-" + name + "\n")
        if r.returncode: fail(f"jiesu user add {name}: {r.stderr}")

def start_nodes(L, nodes):
    """Every node at once, as a cluster's first boot: they take turns at the shipped data and
    keep one `admin` (issue 21)."""
    for i in nodes: L.start_jiesu(i)
    for i in nodes: L.wait_ready(f"http://127.0.0.1:{L.port + 10 + i}")
    admins = L.psql(L.pg[wait_primary(L) or fail("no primary")], "SELECT count(*) FROM users WHERE username = 'admin'")
    if admins is None or admins.strip() != "1": fail(f"nodes started at once left {admins!r} admins")

def check_portal_limit(base):
    """deploy/haproxy.cfg limits the portal's submissions per address across every node: the
    first 10 reach a node (refused there for want of a CSRF token), the 11th is HAProxy's 429."""
    got = []
    for _ in range(11):
        req = urllib.request.Request(base + "/ui/portal", data=b"kind=complaint", method="POST")
        req.add_header("content-type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=10) as r: got.append(r.status)
        except urllib.error.HTTPError as e: got.append(e.code)
    if 429 in got[:10] or got[10] != 429: fail(f"the balancer's portal limit: {got}")
    try:
        with urllib.request.urlopen(base + "/ui/portal", timeout=10) as r: st = r.status
    except urllib.error.HTTPError as e: st = e.code
    if st != 200: fail(f"the portal's form is not limited, but answered {st}")
    log(f"portal limit at the balancer: 10 submissions reached the nodes ({sorted(set(got[:10]))}), the 11th got 429")

def check_login_limit(base):
    """deploy/haproxy.cfg limits logins per address across every node: 30 a minute reach the
    nodes (refused there: no such account, or the database's throttle), then HAProxy answers
    429 (its text, not a node's JSON). Run last: the address cannot log in for a minute."""
    got = []
    for i in range(31):
        body = json.dumps({"username": f"nobody-{i}", "password": "wrong-password"}).encode()
        req = urllib.request.Request(base + "/api/v1/auth/token", data=body, method="POST")
        req.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r: got.append((r.status, ""))
        except urllib.error.HTTPError as e: got.append((e.code, e.headers.get("content-type", "")))
    balancer = [i for i, (st, ct) in enumerate(got) if st == 429 and ct.startswith("text/plain")]
    # The load's own logins through the balancer (one per staff member) may still be in the
    # minute: the first refusal comes at the 31st try at most, at the 26th at least.
    first = balancer[0] if balancer else None
    if first is None or not 25 <= first <= 30 or balancer != list(range(first, 31)):
        fail(f"the balancer's login limit: {got}")
    log(f"login limit at the balancer: {first} tries reached the nodes ({sorted({st for st, _ in got[:first]})}), then HAProxy's 429")

def failover(L, a):
    add_staff(L)
    nodes = list(range(1, a.nodes + 1))
    start_nodes(L, nodes)
    L.start_lb(nodes)
    base = f"http://127.0.0.1:{L.lb}"
    L.wait_ready(base)
    check_portal_limit(base)
    load = Load(base, tokens_for(base))
    load.run(a.workers)
    log(f"load: {a.workers} clients through HAProxy on {a.nodes} nodes")
    time.sleep(a.warmup)
    # Reports read from the standby, under load, with the lag stated.
    direct = f"http://127.0.0.1:{L.port + 12}"
    sup = tokens_for(direct)["sup"]
    lag = wait_standby_reads(direct, sup)
    note = dashboard_note(direct)
    if not note: fail("the dashboard read from the standby does not say so")
    log(f"reports from the standby: ranking lag {lag} ms; dashboard: {note}")
    events = []
    # 1. the PostgreSQL primary dies.
    old = L.primary() or fail("no primary")
    t = time.time(); L.kill_pg(old); log(f"SIGKILL PostgreSQL primary pg{old}")
    if not wait_writes(load, t): fail("writes did not come back after the PostgreSQL failover")
    # Writes answered just after the kill may have committed just before it: the new primary
    # is the host that takes writes, looked for until it does.
    new = wait_primary(L) or fail("no host takes writes after the PostgreSQL failover")
    log(f"writes again; pg{new} is primary"); events.append(("PostgreSQL primary SIGKILLed", t))
    status, lag = report_lag(direct, sup)
    if status != 200: fail(f"the ranking answered {status} with no standby left")
    log(f"no standby left: the ranking answers {status} (standby lag header: {lag})")
    time.sleep(a.between)
    # 2. a Jiesu node dies.
    t = time.time(); os.killpg(L.jiesu[1].pid, signal.SIGKILL); log("SIGKILL jiesu node 1")
    if not wait_writes(load, t): fail("writes did not come back after a Jiesu node died")
    events.append(("Jiesu node SIGKILLed", t))
    time.sleep(a.between)
    # 3. the old primary comes back as the standby.
    t = time.time(); L.restart_pg(old); log(f"pg{old} restarted")
    st = L.wait_pair()
    log("pair again:", st, "sync:", L.psql(L.pg[new], "SHOW synchronous_standby_names"))
    events.append((f"pg{old} back as standby", t))
    lag = wait_standby_reads(direct, sup)
    log(f"reports from the standby again (pg{old}): lag {lag} ms; dashboard: {dashboard_note(direct)}")
    time.sleep(a.between)
    end = time.time()
    load.join()
    log(f"calls {load.calls}, answered non-2xx or lost {load.failed}, retried {load.retried}, intakes with a lost answer {len(load.unknown)}")
    for name, t0 in events:
        nxt = min([t for _, t in events if t > t0] + [end])
        log(f"write outage after '{name}': {load.outage(t0, nxt):.2f} s")
    check_login_limit(base)
    check(L, load, new)

def check(L, load, primary):
    port = L.pg[primary]
    counts = {}
    rows = L.psql(port, "SELECT substring(body from 'FO-[0-9]+-[0-9]+'), count(*) FROM requests WHERE body LIKE '%FO-%' GROUP BY 1")
    if rows is None: fail("cannot read the requests back")
    for line in rows.splitlines():
        k, c = line.split("|"); counts[k] = int(c)
    acked = {k for kind, k, _ in load.ok if kind == "intake"}
    lost = [k for k in acked if counts.get(k, 0) != 1]
    if lost: fail(f"{len(lost)} intakes answered 201 are not stored exactly once: {lost[:5]}")
    dup = [k for k in load.unknown if counts.get(k, 0) > 1]
    if dup: fail(f"intakes stored twice: {dup[:5]}")
    def ids(sql):
        rows = L.psql(port, sql)
        if rows is None: fail(f"cannot read back: {sql}")
        return {l.split("|")[0]: int(l.split("|")[1]) for l in rows.splitlines()}
    replies = ids("SELECT request_id, count(*) FROM outbox WHERE kind = 'reply' GROUP BY 1")
    cbs = ids("SELECT request_id, count(*) FROM callbacks GROUP BY 1")
    bad_r = [k for kind, k, _ in load.ok if kind == "reply" and replies.get(k, 0) != 1]
    bad_c = [k for kind, k, _ in load.ok if kind == "callback" and cbs.get(k, 0) != 1]
    if bad_r: fail(f"{len(bad_r)} acknowledged replies without their outbox message")
    if bad_c: fail(f"{len(bad_c)} acknowledged callbacks not stored exactly once")
    n = {kind: sum(1 for k2, _, _ in load.ok if k2 == kind) for kind in ("intake", "dispatch", "ack", "reply", "callback")}
    log("acknowledged writes:", n, "- lost: 0")
    r = L.cli("audit", "verify")
    if r.returncode: fail(f"jiesu audit verify: {r.stdout}{r.stderr}")
    log("audit verify:", r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "ok")
    print("OK: failover under load, nothing acknowledged lost")

def intake_loop(base, token, n, seconds):
    """One client process (no shared GIL): intakes on a kept-alive connection for `seconds`."""
    host, port = base.split("//")[1].split(":")
    conn, done, i, end = http.client.HTTPConnection(host, int(port), timeout=15), 0, 0, time.time() + seconds
    while time.time() < end:
        i += 1
        body = json.dumps({"kind": "complaint", "text": f"小区路灯不亮（B-{n}-{i}）", "requester": {"phone": "13812345678"}})
        try:
            conn.request("POST", "/api/v1/requests", body, {"content-type": "application/json", "authorization": "Bearer " + token})
            r = conn.getresponse(); r.read()
            done += r.status == 201
        except Exception:
            conn.close(); conn = http.client.HTTPConnection(host, int(port), timeout=15)
    return done

def bench(L, a):
    """Intakes/s through HAProxy with 1, 2, 3 nodes on the same PostgreSQL, and one node direct."""
    add_staff(L)
    start_nodes(L, [1, 2, 3])
    def rate(base, seconds):
        t = tokens_for(base)["op"]
        with multiprocessing.Pool(a.workers) as pool:
            counts = pool.starmap(intake_loop, [(base, t, n, seconds) for n in range(a.workers)])
        return sum(counts) / seconds
    results = [("1 node, direct", rate(f"http://127.0.0.1:{L.port + 11}", a.bench))]
    for k in (1, 2, 3):
        L.start_lb(list(range(1, k + 1))); base = f"http://127.0.0.1:{L.lb}"; L.wait_ready(base)
        results.append((f"{k} node(s) via HAProxy", rate(base, a.bench)))
        L.stop_lb()
    single = results[0][1]
    print(f"\nintakes/s, {a.workers} client processes, {a.bench} s each, PostgreSQL primary + sync standby (load {os.getloadavg()[0]:.1f}):")
    for name, r in results: print(f"  {name:24} {r:8.1f}   ×{r / single:.2f}")
    if a.out:
        rows = "\n".join(f"| {name} | {r:.0f} /s | {r / single:.2f} |" for name, r in results)
        pgv = L.psql(L.pg[1], "SHOW server_version") or "?"
        open(a.out, "w").write(f"""## Several app nodes behind HAProxy (PostgreSQL {pgv}, pg_auto_failover)

Machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; everything on this one
machine: the monitor, the primary and its synchronous standby, the Jiesu nodes, HAProxy and the
clients ({a.workers} Python processes, each one intake after another on a kept-alive connection,
`POST /api/v1/requests` without a suggestion). Each setting ran {a.bench:.0f} s, one after the other in
the same run; baseline: one node addressed directly, same run.
`python3 scripts/failover.py --bin target/release/jiesu --bench {a.bench:.0f} --workers {a.workers}`

| setting | intakes | × the single node direct |
|---|---|---|
{rows}
""")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jiesu")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--port", type=int, default=6400, help="monitor; PostgreSQL +1 +2, Jiesu +11.., HAProxy +20")
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--between", type=float, default=4)
    ap.add_argument("--bench", type=float, default=0, help="run the benchmark instead, this many seconds per setting")
    ap.add_argument("--out", help="with --bench: write the figures as a markdown report here")
    ap.add_argument("--keep", action="store_true", help="keep the folder (logs) afterwards")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    L = Layout(a)
    try:
        L.start_pg()
        bench(L, a) if a.bench else failover(L, a)
    finally:
        L.cleanup()

if __name__ == "__main__":
    main()
