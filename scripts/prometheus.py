#!/usr/bin/env python3
"""Issue 17's acceptance for metrics: a real Prometheus scrapes a running Jiesu.

Starts `jiesu serve` (release binary, fresh SQLite data folder, a metrics token, gauges
refreshed every second), then Debian's `prometheus` on a loopback port with a temporary
configuration that scrapes Jiesu's `/metrics` every second with the token as a bearer. Checks
that Prometheus sees the intake counter at 0 for every channel, makes a few intakes and a
dispatch through the API, and reads back through Prometheus's HTTP query API:

* `jiesu_intakes_total` per channel equal to what it created (a counter);
* the POST /api/v1/requests latency histogram's `+Inf` bucket and count equal to the intakes,
  under the route template;
* `jiesu_orders{state="dispatched"}` equal to the orders it dispatched, and the event chain
  head above 0 (gauges recounted by the refresh job);
* `/metrics` refused (403) to this host without the token.

Exits non-zero on the first failed check; takes a few seconds.

    python3 scripts/prometheus.py --bin target/release/jiesu [--prometheus /usr/bin/prometheus]
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, time
import urllib.error, urllib.parse, urllib.request

TOKEN = "prometheus-acceptance-" + os.urandom(8).hex()


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


DIAGNOSE = []  # called on failure: what Prometheus says of its target


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        for d in DIAGNOSE:
            try: d()
            except Exception as e: print("  (diagnosis failed:", e, ")")
        sys.exit(1)
    print("ok:", msg)


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None: req.add_header("content-type", "application/json")
    if token: req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r: return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(what, probe, timeout=15):
    """Polls `probe` until it returns something true; returns it, or fails after `timeout`."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        try:
            last = probe()
            if last:
                print("ok:", what)
                return last
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            last = e
        time.sleep(0.2)
    check(False, f"{what} (last seen: {last})")


def query(prom, expr):
    """An instant query: {labels-as-tuple: value}."""
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        out = json.loads(r.read())
    if out.get("status") != "success": raise RuntimeError(out)
    return {tuple(sorted((k, v) for k, v in s["metric"].items() if k not in ("instance", "job", "__name__"))): float(s["value"][1])
            for s in out["data"]["result"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jiesu")
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    args = ap.parse_args()
    started = time.time()
    work = tempfile.mkdtemp(prefix="jiesu-prometheus-")
    data = os.path.join(work, "jiesu")
    env = dict(os.environ, JIESU_ADMIN_PASSWORD="admin-pass-1", JIESU_LOG="warn", JIESU_DATA_DIR=data,
               JIESU_METRICS_TOKEN=TOKEN, JIESU_METRICS_REFRESH_SECONDS="1")
    env.pop("JIESU_DATABASE_URL", None)
    for name, role in [("op", "operator"), ("disp", "dispatcher")]:
        r = subprocess.run([args.bin, "user", "add", "--username", name, "--role", role, "--password-stdin"],
                           env=env, input=f"password-{name}\n", capture_output=True, text=True)
        check(r.returncode == 0, f"jiesu user add {name} {r.stderr.strip()}")
    jport, pport = free_port(), free_port()
    jiesu_base, prom = f"http://127.0.0.1:{jport}", f"http://127.0.0.1:{pport}"
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: jiesu
    scrape_interval: 1s
    scrape_timeout: 1s
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials: {TOKEN}
    static_configs:
      - targets: ['127.0.0.1:{jport}']
""")
    procs = []
    try:
        jiesu = subprocess.Popen([args.bin, "serve", "--addr", f"127.0.0.1:{jport}"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "jiesu.log"), "w"))
        procs.append(jiesu)
        prometheus = subprocess.Popen([args.prometheus, f"--config.file={config}",
                                       f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
                                       f"--web.listen-address=127.0.0.1:{pport}"],
                                      stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.log"), "w"))
        procs.append(prometheus)
        wait_for("jiesu answers /healthz", lambda: call(jiesu_base, "GET", "/healthz")[0] == 200)
        status, body = call(jiesu_base, "GET", "/metrics")
        check(status == 403, f"/metrics without the token is refused to this host too ({status})")
        status, body = call(jiesu_base, "GET", "/metrics", token=TOKEN)
        check(status == 200 and b"jiesu_intakes_total" in body, "/metrics with the token answers the text format")
        def targets():
            with urllib.request.urlopen(f"{prom}/api/v1/targets", timeout=5) as r:
                for t in json.loads(r.read())["data"]["activeTargets"]:
                    print("  target", t["scrapeUrl"], t["health"], t.get("lastError"))
        DIAGNOSE.append(targets)
        wait_for("prometheus is ready", lambda: call(prom, "GET", "/-/ready")[0] == 200)
        wait_for("prometheus scrapes jiesu with the bearer token (up == 1)",
                 lambda: query(prom, 'up{job="jiesu"}').get((), 0) == 1)
        zero = wait_for("prometheus sees every channel's intake counter at 0",
                        lambda: (lambda r: r if len(r) >= 9 and all(v == 0 for v in r.values()) else None)(
                            query(prom, "jiesu_intakes_total")))
        check(True, f"{len(zero)} channels at 0 before any intake")

        tok = {n: json.loads(call(jiesu_base, "POST", "/api/v1/auth/token",
                                  body={"username": n, "password": f"password-{n}"})[1])["token"] for n in ("op", "disp")}
        created = {"phone": 3, "wechat": 2}
        ids = []
        for channel, n in created.items():
            for i in range(n):
                status, out = call(jiesu_base, "POST", "/api/v1/requests", tok["op"], {
                    "kind": "complaint", "channel": channel, "text": f"望京西园三区门口垃圾堆放第{i + 1}天无人清理（{channel}）",
                    "address": "朝阳区望京西园三区", "requester": {"name": "王女士", "phone": "13812345678"}})
                check(status == 201, f"intake {channel} #{i + 1} ({status})")
                ids.append(json.loads(out)["id"])
        status, out = call(jiesu_base, "POST", f"/api/v1/requests/{ids[0]}/dispatch", tok["disp"],
                           {"assignments": [{"unit_code": "110105026", "role": "lead"}]})
        check(status == 200, f"dispatch one request ({status})")
        total = sum(created.values())

        def intakes_equal():
            r = query(prom, "jiesu_intakes_total")
            by = {dict(k)["channel"]: v for k, v in r.items()}
            return by if all(by.get(c) == n for c, n in created.items()) and sum(by.values()) == total else None
        by = wait_for(f"prometheus reads jiesu_intakes_total equal to the {total} intakes made", intakes_equal)
        check(True, f"jiesu_intakes_total through Prometheus: phone={by['phone']:.0f} wechat={by['wechat']:.0f} (sum {sum(by.values()):.0f})")
        got = query(prom, 'sum(jiesu_intakes_total)').get(())
        check(got == total, f"sum(jiesu_intakes_total) = {got} == {total}")

        sel = 'route="/api/v1/requests",method="POST",status="201"'
        inf = wait_for("the latency histogram's +Inf bucket counts every intake",
                       lambda: query(prom, f'jiesu_http_request_duration_seconds_bucket{{{sel},le="+Inf"}}').get(
                           (("le", "+Inf"), ("method", "POST"), ("route", "/api/v1/requests"), ("status", "201"))) == total)
        count = query(prom, f'jiesu_http_request_duration_seconds_count{{{sel}}}')
        check(list(count.values()) == [total], f"histogram count {list(count.values())} == {total} under the route template")
        buckets = query(prom, f'jiesu_http_request_duration_seconds_bucket{{{sel}}}')
        check(len(buckets) >= 10, f"{len(buckets)} latency buckets")
        raw = query(prom, f'jiesu_http_requests_total{{route=~".*{ids[0]}.*"}}')
        check(not raw, "no route label carries a request id")

        wait_for("gauge jiesu_orders{state=\"dispatched\"} == 1 (the refresh job)",
                 lambda: query(prom, 'jiesu_orders{state="dispatched"}').get((("state", "dispatched"),)) == 1)
        head = query(prom, "jiesu_event_chain_head").get(())
        check(head is not None and head >= total + 1, f"gauge jiesu_event_chain_head = {head}")
        check(query(prom, "jiesu_outbox_backlog").get(()) is not None, "gauge jiesu_outbox_backlog present")
        elapsed = time.time() - started
        check(elapsed < 30, f"done in {elapsed:.1f} s")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try: p.wait(timeout=10)
            except subprocess.TimeoutExpired: p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
