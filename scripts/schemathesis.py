#!/usr/bin/env python3
"""schemathesis (PyPI, 4.x) against the API's own OpenAPI document (issue #16).

Starts `jiesu serve` on a fresh SQLite data folder (or a fresh PostgreSQL database with
--postgres URL), logs in as admin with a bearer token, and runs schemathesis over every
operation of /api/v1/openapi.json with two checks: no answer is a server error (5xx) and
every answer matches the schema the document gives for its status (response conformance).
Exits non-zero on any failure. schemathesis is installed into a virtualenv cached under
~/.cache/jiesu-schemathesis (created on first use).

    python3 scripts/schemathesis.py --bin target/release/jiesu [--postgres URL] [--max-examples 25]
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request, uuid

VERSION = "4.32.5"
VENV = os.path.expanduser("~/.cache/jiesu-schemathesis")
ADMIN_PASSWORD = "schemathesis-admin-1"


def st_binary():
    st = os.path.join(VENV, "bin", "st")
    ok = os.path.exists(st) and subprocess.run(
        [st, "--version"], capture_output=True, text=True
    ).stdout.strip().endswith(VERSION)
    if not ok:
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q",
                        f"schemathesis=={VERSION}"], check=True)
    return st


TOOL_BUG = "AST constructor recursion depth mismatch"


def run_tee(cmd, cwd):
    """Runs cmd, echoing its output as it comes, and returns (exit code, output)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    sys.stdout.flush()
    return proc.wait(), "".join(lines)


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--postgres", help="admin URL of a PostgreSQL server; a fresh database is made")
    ap.add_argument("--max-examples", type=int, default=25)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    st = st_binary()

    data = tempfile.mkdtemp(prefix="jiesu-st-")
    port = free_port()
    env = dict(os.environ, JIESU_ADDR=f"127.0.0.1:{port}", JIESU_DATA_DIR=data,
               JIESU_ADMIN_PASSWORD=ADMIN_PASSWORD, JIESU_LOG="warn")
    env.pop("JIESU_DATABASE_URL", None)
    db = None
    if args.postgres:
        db = "jiesu_test_st_" + uuid.uuid4().hex[:8]
        subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {db}"], check=True)
        env["JIESU_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + "/" + db
    cleanup = []
    log = open(os.path.join(data, "server.log"), "w")
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except Exception:
                if server.poll() is not None:
                    sys.exit(f"jiesu serve exited: see {data}/server.log")
                time.sleep(0.1)
        token = call(base, "POST", "/api/v1/auth/token",
                     {"username": "admin", "password": ADMIN_PASSWORD})["token"]
        work = os.path.join(data, "st")
        os.makedirs(work)
        # Random ids only reach the 404 branches: give the fuzzer a live request and its
        # order half of the time (the `{id}` of requests, assignments and their actions).
        req = call(base, "POST", "/api/v1/requests", {
            "kind": "complaint", "channel": "phone", "text": "望京西园三区夜间施工噪音扰民，凌晨两点还在施工。",
            "address": "朝阳区望京西园三区", "requester": {"name": "王女士", "phone": "13812345678"}}, token)
        view = call(base, "POST", f"/api/v1/requests/{req['id']}/dispatch",
                    {"assignments": [{"unit_code": "110105026", "role": "lead"}]}, token)
        ids = [req["id"]] + [a["id"] for a in view.get("assignments", [])]
        config = os.path.join(work, "schemathesis.toml")
        with open(config, "w") as f:
            f.write('[parameters]\n"path.id" = { dictionary = "ids", probability = 0.5 }\n\n'
                    f'[dictionaries.ids]\nvalues = {json.dumps(ids)}\n')
        cmd = [st, "--config-file", config, "run", f"{base}/api/v1/openapi.json", "--url", f"{base}/api/v1",
               "-H", f"Authorization: Bearer {token}",
               "--checks", "not_a_server_error,response_schema_conformance",
               "--max-examples", str(args.max_examples), "--seed", str(args.seed),
               "--workers", "2", "--generation-database", "none",
               "--request-timeout", "30",
               # logging the token out, or ending the admin's sessions (the stateful phase
               # takes usernames from GET /users, `admin` among them), would leave the rest of
               # the run unauthenticated; the stories cover these three
               "--exclude-operation-id", "logout",
               "--exclude-operation-id", "revokeSessions",
               "--exclude-operation-id", "resetPassword",
               "--suppress-health-check", "all"]
        print("$", " ".join(c if "Bearer" not in c else "Authorization: Bearer …" for c in cmd),
              flush=True)
        rc, out = run_tee(cmd, work)
        if rc != 0 and TOOL_BUG in out:
            # CPython's "AST constructor recursion depth mismatch" (a SystemError raised inside
            # Hypothesis while it compiles a generated strategy, not an answer of ours) once
            # ended a run in which no request had failed. Run the whole thing once more: the
            # second run has to pass every check on its own.
            print(f"schemathesis stopped on a tool-internal error ({TOOL_BUG}); running it again",
                  flush=True)
            rc, out = run_tee(cmd, work)
        if rc == 0:
            cleanup.append(data)
        else:
            print(f"schemathesis failed (exit {rc}); server log: {data}/server.log")
            with open(os.path.join(data, "server.log")) as f:
                tail = f.read()[-4000:]
            print(tail)
        return rc
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if db:
            subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"])
        for d in cleanup:  # kept, with the server log, only when the run failed
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
