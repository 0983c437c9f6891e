#!/usr/bin/env python3
"""SMS through Kannel (issue 19): messages per second Jiesu -> Kannel -> fake SMSC beside the
same-run baseline of Kannel's own `sendsms` driven directly (same Kannel, same fake SMSC, same
count), and the outbox's backlog under a burst of intakes (how it grows and drains).

    python3 scripts/bench_sms.py --bin target/release/jiesu [--messages 10000] [--out FILE]

Runs, one after the other, against one bearerbox + smsbox + fakesmsc on loopback ports:
 1. baseline: N GETs to sendsms, `--concurrency` at a time, straight from this script;
 2. drain: N receipts written by N intakes with the outbox job off, then `jiesu serve` started
    with the job on; the outbox drains through Kannel;
 3. burst: `jiesu serve` with the job on (every second), N intakes as fast as `--clients`
    clients send them; the backlog (intakes answered minus texts at the fake SMSC) sampled.
Each message goes to its own number; at the end every number must have received exactly one
text (a lost or doubled message fails the run). Rates count arrivals at the fake SMSC.
"""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import http.client, urllib.parse
from concurrent.futures import ThreadPoolExecutor

BEARERBOX, SMSBOX, FAKESMSC = "/usr/sbin/bearerbox", "/usr/sbin/smsbox", "/usr/lib/kannel/test/fakesmsc"
SECRET = "bench-sms-secret-0123456789"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def wait_port(port, what, timeout=15):
    t = time.time()
    while time.time() - t < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError:
            time.sleep(0.02)
    sys.exit(f"{what} did not start")


class Kannel:
    """bearerbox, smsbox and the fake SMSC; counts what the fake SMSC receives, per number."""

    def __init__(self, workdir):
        self.dir = workdir
        self.admin, self.boxes, self.smsc, self.sendsms = (free_port() for _ in range(4))
        conf = f"""group = core
admin-port = {self.admin}
admin-password = admin-secret
smsbox-port = {self.boxes}
log-level = 3
log-file = "{workdir}/bearerbox.log"
dlr-storage = internal
store-type = file
store-location = "{workdir}/bearerbox.store"
box-allow-ip = 127.0.0.1

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.boxes}
sendsms-port = {self.sendsms}
log-level = 3
log-file = "{workdir}/smsbox.log"

group = sendsms-user
username = jiesu
password = kannel-pass
max-messages = 5
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
text = "ok"
"""
        self.conf = os.path.join(workdir, "kannel.conf")
        open(self.conf, "w").write(conf)
        self.lock = threading.Lock()
        self.per_number, self.times = {}, []
        q = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs = [subprocess.Popen([BEARERBOX, self.conf], **q)]
        wait_port(self.boxes, "bearerbox")
        self.procs.append(subprocess.Popen([SMSBOX, self.conf], **q))
        wait_port(self.sendsms, "smsbox"); wait_port(self.smsc, "the fake SMSC port")
        fake = subprocess.Popen([FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.procs.append(fake)
        threading.Thread(target=self._read, args=(fake.stdout,), daemon=True).start()
        t = time.time()
        while b"(online" not in self._status():
            if time.time() - t > 15: sys.exit("the fake SMSC did not come online")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.sendsms}/cgi-bin/sendsms"

    def _status(self):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.admin, timeout=2)
            c.request("GET", "/status.txt?password=admin-secret"); return c.getresponse().read()
        except OSError:
            return b""

    def _read(self, out):
        pat = re.compile(rb"Got message \d+: <(\S+) (\S+) ")
        for line in out:
            m = pat.search(line)
            if m:
                now = time.time()
                with self.lock:
                    to = m.group(2).decode()
                    self.per_number[to] = self.per_number.get(to, 0) + 1
                    self.times.append(now)

    def count(self):
        with self.lock: return len(self.times)

    def reset(self):
        with self.lock: self.per_number, self.times = {}, []

    def wait_for(self, n, timeout):
        t = time.time()
        while self.count() < n:
            if time.time() - t > timeout: sys.exit(f"only {self.count()} of {n} texts reached the fake SMSC")
            time.sleep(0.02)
        time.sleep(2)  # anything doubled would show now
        with self.lock:
            doubled = {k: v for k, v in self.per_number.items() if v != 1}
            if len(self.times) != n or doubled:
                sys.exit(f"expected {n} texts once each, got {len(self.times)}; doubled: {list(doubled.items())[:5]}")
            return list(self.times)

    def stop(self):
        for p in reversed(self.procs):
            p.kill(); p.wait()


def phone(run, i):
    return f"1{3 + run}{i:09d}"[:11]


def baseline(k, n, conc):
    """Kannel alone: n sendsms calls, conc at a time, each over its own kept-alive connection."""
    k.reset()
    text = "【12345】您的诉求已受理，编号20261204-000001，查询码AB12CD。回复TD退订"
    local = threading.local()

    def send(i):
        if not hasattr(local, "c"): local.c = http.client.HTTPConnection("127.0.0.1", k.sendsms, timeout=30)
        q = urllib.parse.urlencode({"username": "jiesu", "password": "kannel-pass", "from": "12345", "to": phone(0, i),
                                    "text": text, "charset": "UTF-8", "coding": "2"})
        local.c.request("GET", "/cgi-bin/sendsms?" + q)
        r = local.c.getresponse(); r.read()
        if r.status != 202: sys.exit(f"sendsms answered {r.status}")

    t0 = time.time()
    with ThreadPoolExecutor(conc) as ex: list(ex.map(send, range(n)))
    times = k.wait_for(n, 600)
    return {"n": n, "seconds": times[-1] - t0, "rate": n / (times[-1] - t0)}


class Jiesu:
    def __init__(self, bin, data, k, port, extra):
        self.bin, self.base, self.port = bin, f"http://127.0.0.1:{port}", port
        self.env = dict(os.environ, JIESU_ADMIN_PASSWORD="admin-pass-1", JIESU_LOG="warn", JIESU_DATA_DIR=data,
                        JIESU_KANNEL_URL=k.url, JIESU_KANNEL_USER="jiesu", JIESU_KANNEL_PASSWORD="kannel-pass",
                        JIESU_SMS_TEXTS="1", JIESU_SMS_SECRET=SECRET, JIESU_SMS_QUIET_HOURS="off",
                        JIESU_SMS_DAILY_LIMIT="10", **extra)
        self.env.pop("JIESU_DATABASE_URL", None)
        self.env.pop("JIESU_SMS_CALLBACK_URL", None)
        self.proc = None

    def add_operator(self):
        r = subprocess.run([self.bin, "user", "add", "--username", "op", "--role", "operator", "--password-stdin"],
                           env=self.env, input="operator-pass\n", capture_output=True, text=True)
        if r.returncode: sys.exit(r.stderr)

    def start(self, **env):
        self.proc = subprocess.Popen([self.bin, "serve", "--addr", f"127.0.0.1:{self.port}"], env=dict(self.env, **env),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.time()
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1); c.request("GET", "/healthz")
                if c.getresponse().status == 200: return t
            except OSError:
                pass
            if time.time() - t > 60: sys.exit("jiesu did not start")
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM); self.proc.wait(timeout=60)

    def token(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("POST", "/api/v1/auth/token", json.dumps({"username": "op", "password": "operator-pass"}),
                  {"content-type": "application/json"})
        return json.loads(c.getresponse().read())["token"]

    def intakes(self, run, n, clients, on_done=None):
        token, local = self.token(), threading.local()

        def one(i):
            if not hasattr(local, "c"): local.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            body = {"kind": "complaint", "channel": "phone", "text": f"望京西园三区夜间施工噪音扰民（{i}）", "address": "朝阳区望京西园三区",
                    "requester": {"name": "王女士", "phone": phone(run, i)}}
            local.c.request("POST", "/api/v1/requests", json.dumps(body),
                            {"content-type": "application/json", "authorization": "Bearer " + token})
            r = local.c.getresponse(); r.read()
            if r.status != 201: sys.exit(f"intake answered {r.status}")
            if on_done: on_done()

        with ThreadPoolExecutor(clients) as ex: list(ex.map(one, range(n)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jiesu")
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=8, help="sendsms calls at once, the baseline's and Jiesu's (JIESU_OUTBOX_CONCURRENCY)")
    ap.add_argument("--clients", type=int, default=16, help="intake clients in the burst")
    ap.add_argument("--out")
    a = ap.parse_args()
    for p in (BEARERBOX, SMSBOX, FAKESMSC):
        if not os.path.exists(p): sys.exit(f"{p} is missing: apt-get install kannel kannel-extras")
    work = tempfile.mkdtemp(prefix="jiesu-bench-sms-")
    n, conc = a.messages, a.concurrency
    k = Kannel(work)
    try:
        print(f"== baseline: {n} sendsms calls, {conc} at a time", file=sys.stderr)
        base = baseline(k, n, conc)
        print(f"   {base['rate']:.0f} messages/s", file=sys.stderr)

        print(f"== Jiesu drain: {n} receipts written with the outbox job off, then drained", file=sys.stderr)
        k.reset()
        j = Jiesu(a.bin, os.path.join(work, "drain"), k, free_port(), {"JIESU_OUTBOX_CONCURRENCY": str(conc)})
        j.add_operator()
        j.start(JIESU_SWEEP_SECONDS="0")
        j.intakes(1, n, a.clients)
        j.stop()
        if k.count(): sys.exit("texts went out with the outbox job off")
        t0 = j.start(JIESU_SWEEP_SECONDS="1")
        times = k.wait_for(n, 1200)
        j.stop()
        drain = {"n": n, "seconds": times[-1] - t0, "rate": n / (times[-1] - t0), "first": times[0] - t0,
                 "sustained": (n - 1) / max(times[-1] - times[0], 1e-6)}
        print(f"   {drain['rate']:.0f} messages/s", file=sys.stderr)

        print(f"== burst: {n} intakes from {a.clients} clients with the outbox job on", file=sys.stderr)
        k.reset()
        j = Jiesu(a.bin, os.path.join(work, "burst"), k, free_port(), {"JIESU_OUTBOX_CONCURRENCY": str(conc)})
        j.add_operator()
        j.start(JIESU_SWEEP_SECONDS="1")
        accepted, lock, samples, done = [0], threading.Lock(), [], threading.Event()

        def bump():
            with lock: accepted[0] += 1

        def sample():
            while not done.is_set():
                with lock: acc = accepted[0]
                samples.append((time.time(), acc, acc - k.count()))
                time.sleep(0.25)

        sampler = threading.Thread(target=sample); sampler.start()
        t0 = time.time()
        j.intakes(2, n, a.clients, bump)
        t_burst = time.time()
        times = k.wait_for(n, 1200)
        done.set(); sampler.join()
        j.stop()
        peak = max(samples, key=lambda s: s[2])
        burst = {"n": n, "intake_seconds": t_burst - t0, "intake_rate": n / (t_burst - t0), "peak": peak[2],
                 "peak_at": peak[0] - t0, "empty_at": times[-1] - t0, "after_burst": times[-1] - t_burst,
                 "rate": n / (times[-1] - t0)}
        print(f"   peak backlog {burst['peak']} at {burst['peak_at']:.1f} s, empty {burst['after_burst']:.1f} s after the burst", file=sys.stderr)
    finally:
        k.stop()
    shutil.rmtree(work, ignore_errors=True)
    curve = []
    step = max(1, len(samples) // 12)
    for t, acc, backlog in samples[::step]:
        curve.append(f"| {t - t0:.1f} | {acc} | {backlog} |")
    cmd = "python3 scripts/bench_sms.py --bin target/release/jiesu --messages {} --concurrency {} --clients {}".format(n, conc, a.clients)
    report = f"""# SMS through Kannel

`{cmd}` (release binary, SQLite, one bearerbox + smsbox + fakesmsc from Debian's kannel
{kannel_version()} on loopback; texts in UCS-2, one SMS each; no delivery reports asked for in
any run, so the three runs do the same work at Kannel). Every number received exactly one text
in every run (checked). Rates count arrivals at the fake SMSC.

| run | messages | seconds | messages/s | vs. baseline |
|---|---|---|---|---|
| baseline: Kannel's `sendsms` driven directly, {conc} at a time | {n} | {base['seconds']:.1f} | {base['rate']:.0f} | 1.00 |
| Jiesu drain: the outbox (written first) through Kannel, `JIESU_OUTBOX_CONCURRENCY={conc}` | {n} | {drain['seconds']:.1f} | {drain['rate']:.0f} | {drain['rate'] / base['rate']:.2f} |
| Jiesu burst: {n} intakes from {a.clients} clients while the outbox job runs (every 1 s) | {n} | {burst['empty_at']:.1f} | {burst['rate']:.0f} | {burst['rate'] / base['rate']:.2f} |

In the drain, seconds count from `jiesu serve`'s start: the first text reached the fake SMSC
{drain['first']:.2f} s after it; from the first text to the last the rate was {drain['sustained']:.0f}/s
({drain['sustained'] / base['rate']:.2f} of the baseline).

The burst: the intakes took {burst['intake_seconds']:.1f} s ({burst['intake_rate']:.0f}/s); the backlog (intakes
answered minus texts at the fake SMSC) peaked at {burst['peak']} messages {burst['peak_at']:.1f} s in and was
empty {burst['empty_at']:.1f} s after the first intake, {burst['after_burst']:.1f} s after the last.

| s since the first intake | intakes answered | backlog |
|---|---|---|
""" + "\n".join(curve) + "\n"
    print(report)
    if a.out:
        open(a.out, "w").write(report)


def kannel_version():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "kannel"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


if __name__ == "__main__":
    main()
