#!/usr/bin/env python3
"""Open311 GeoReport v2 acceptance (issue #17) against the release binary.

Starts `jiesu serve` on a fresh SQLite data folder (or a fresh PostgreSQL database with
--postgres URL), makes a client key with `jiesu open311 key add`, then
1. runs the conformance kit (scripts/open311-kit, a copy of ../shared/open311) with
   schemathesis exactly as the kit's README says: the endpoint in JSON and in XML, the
   discovery file in both, with live service codes, request ids and an address given to the
   fuzzer; every run must end with 0 failures;
2. drives third-party Open311 clients from PyPI, `georeport` and `three` (scripts/open311-client,
   pinned in its requirements.txt; installed into a virtualenv cached under
   ~/.cache/jiesu-open311-client): they list the services, read a definition, create a
   request and read it back, in JSON and XML.
schemathesis is installed into the virtualenv scripts/schemathesis.py uses.

    python3 scripts/open311.py --bin target/release/jiesu [--postgres URL]
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.join(HERE, "open311-kit")
CLIENT = os.path.join(HERE, "open311-client")
CLIENT_CACHE = os.path.expanduser("~/.cache/jiesu-open311-client")


def st_binary():
    """schemathesis from the virtualenv scripts/schemathesis.py keeps (made on first use)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("jiesu_st", os.path.join(HERE, "schemathesis.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.st_binary()


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def client_python():
    """The client virtualenv's python, (re)made when requirements.txt changed."""
    req = os.path.join(CLIENT, "requirements.txt")
    cached = os.path.join(CLIENT_CACHE, "requirements.txt")
    python = os.path.join(CLIENT_CACHE, "bin", "python")
    same = os.path.exists(cached) and open(req, "rb").read() == open(cached, "rb").read()
    if not same or not os.path.exists(python):
        shutil.rmtree(CLIENT_CACHE, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", CLIENT_CACHE], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "-r", req], check=True)
        shutil.copy(req, cached)
    return python


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--postgres", help="admin URL of a PostgreSQL server; a fresh database is made")
    ap.add_argument("--skip-client", action="store_true", help="only the conformance kit")
    args = ap.parse_args()
    bin_ = os.path.abspath(args.bin)
    st = st_binary()
    started = time.time()

    data = tempfile.mkdtemp(prefix="jiesu-o311-")
    port = free_port()
    # The default settings, key rate included: the kit's few hundred submissions with one key
    # must pass as a third party running it would see them (the rate's 429 has its own story).
    env = dict(os.environ, JIESU_ADDR=f"127.0.0.1:{port}", JIESU_DATA_DIR=data,
               JIESU_ADMIN_PASSWORD="open311-admin-1", JIESU_LOG="warn")
    env.pop("JIESU_RATE_OPEN311", None)
    env.pop("JIESU_DATABASE_URL", None)
    db = None
    if args.postgres:
        db = "jiesu_test_o311_" + uuid.uuid4().hex[:8]
        subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {db}"], check=True)
        env["JIESU_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + "/" + db
    failed = []
    log = open(os.path.join(data, "server.log"), "w")
    server = None
    base = f"http://127.0.0.1:{port}"
    try:
        # The key first (the CLI runs the migrations), then the server.
        out = subprocess.run([bin_, "open311", "key", "add", "--name", "conformance kit"], env=env,
                             capture_output=True, text=True, check=True).stdout
        key = next(l.split()[1] for l in out.splitlines() if l.startswith("api_key "))
        server = subprocess.Popen([bin_, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except Exception:
                if server.poll() is not None:
                    sys.exit(f"jiesu serve exited: see {data}/server.log")
                time.sleep(0.1)
        v2 = base + "/open311/v2"
        services = json.load(urllib.request.urlopen(v2 + "/services.json"))
        codes = [s["service_code"] for s in services]
        form = urllib.parse.urlencode({
            "api_key": key, "service_code": "cxjs.csgl.hw", "lat": "39.9087", "long": "116.3975",
            "address_string": "东城区东华门街道天安门广场", "description": "广场东侧垃圾桶满溢，无人清运",
        }).encode()
        seeded = json.load(urllib.request.urlopen(urllib.request.Request(v2 + "/requests.json", data=form)))
        ids = [seeded[0]["service_request_id"]]
        tokens = [seeded[0]["token"]]
        print(f"server up with {len(codes)} services; seeded request {ids[0]}", flush=True)

        work = os.path.join(data, "st")
        os.makedirs(work)
        config = os.path.join(work, "schemathesis.toml")
        with open(os.path.join(KIT, "schemathesis.toml")) as f:
            toml = f.read()
        toml += ('\n"path.service_code" = { dictionary = "service_codes", probability = 0.5 }\n'
                 '"body.service_code" = { dictionary = "service_codes", probability = 0.5 }\n'
                 '"query.service_code" = { dictionary = "service_codes", probability = 0.5 }\n'
                 '"path.service_request_id" = { dictionary = "request_ids", probability = 0.5 }\n'
                 '"query.service_request_id" = { dictionary = "request_ids", probability = 0.5 }\n'
                 '"body.address_string" = { dictionary = "addresses", probability = 0.5 }\n'
                 '"path.token_id" = { dictionary = "tokens", probability = 0.5 }\n\n'
                 f'[dictionaries.tokens]\nvalues = {json.dumps(tokens)}\n\n'
                 f'[dictionaries.service_codes]\nvalues = {json.dumps(codes[:20])}\n\n'
                 f'[dictionaries.request_ids]\nvalues = {json.dumps(ids)}\n\n'
                 '[dictionaries.addresses]\nvalues = ["北京市东城区东华门街道天安门广场"]\n')
        with open(config, "w") as f:
            f.write(toml)
        st_env = dict(os.environ, OPEN311_API_KEY=key,
                      SCHEMATHESIS_HOOKS=os.path.join(KIT, "open311_hooks.py"))
        swagger = os.path.join(KIT, "georeport-v2.swagger.json")
        runs = []
        for fmt in ("json", "xml"):
            runs.append((fmt, ["--url", v2, "--exclude-path", "/discovery.{response_format}",
                               "--max-examples", "40", "--seed", "311", "--workers", "2",
                               "--generation-database", "none"]))
        for fmt in ("json", "xml"):
            runs.append((fmt, ["--url", base + "/open311", "--include-path", "/discovery.{response_format}",
                               "--max-examples", "10", "--seed", "311", "--generation-database", "none"]))
        for fmt, extra in runs:
            cmd = [st, "--config-file", config, "run", swagger] + extra
            print(f"$ OPEN311_FORMAT={fmt} st " + " ".join(cmd[2:]), flush=True)
            rc = subprocess.run(cmd, cwd=work, env=dict(st_env, OPEN311_FORMAT=fmt)).returncode
            if rc != 0:
                failed.append(f"schemathesis {fmt} {extra[1]}")

        if not args.skip_client:
            c_env = dict(os.environ, OPEN311_URL=v2 + "/", OPEN311_API_KEY=key)
            rc = subprocess.run([client_python(), os.path.join(CLIENT, "client.py")], env=c_env).returncode
            if rc != 0:
                failed.append("third-party clients (PyPI georeport, three)")
        print(f"open311: {len(runs)} schemathesis runs, client {'skipped' if args.skip_client else 'run'}, "
              f"{time.time() - started:.1f} s; failures: {failed or 'none'}")
        return 1 if failed else 0
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if db:
            subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"])
        if failed:
            print(f"kept {data} (server.log)")
        else:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
