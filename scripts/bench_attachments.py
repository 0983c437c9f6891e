#!/usr/bin/env python3
"""Attachments benchmark (issue #20): upload and download throughput of one large file
against the same-run baseline of copying that file on disk, and the server's memory held
during the upload.

Starts `jiesu serve` on a fresh SQLite data folder (or a fresh PostgreSQL database with
--postgres URL; or the folder backend with --dir), makes a file of --mb MB that sniffs as
MP4 (random bytes after an `ftyp` box, so nothing compresses it), then:
* baseline: copies it on disk (shutil.copyfile, then fsync) - what the disk does anyway;
* upload: POST /api/v1/requests/{id}/attachments with the file as a streamed body,
  sampling the server's VmRSS every 5 ms; reports the peak above the RSS before it;
* download: GET /api/v1/attachments/{id}, read and thrown away, bytes checked by SHA-256.
Throughputs are MB/s and the ratio to the baseline. Standard library only.

    python3 scripts/bench_attachments.py --bin target/release/jiesu [--mb 100] [--postgres URL] [--dir]
"""
import argparse, hashlib, json, os, shutil, socket, subprocess, sys, tempfile, threading, time
import urllib.request, uuid

PASSWORD = "bench-admin-password-1"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def make_file(path, mb):
    h = hashlib.sha256()
    with open(path, "wb") as f:
        head = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2"
        f.write(head); h.update(head)
        left = mb * 1_000_000 - len(head)
        while left > 0:
            piece = os.urandom(min(left, 1 << 20))
            f.write(piece); h.update(piece); left -= len(piece)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--postgres", help="admin URL of a PostgreSQL server; a fresh database is made")
    ap.add_argument("--dir", action="store_true", help="the folder backend (JIESU_ATTACHMENTS_DIR)")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="jiesu-bench-att-")
    port = free_port()
    env = dict(os.environ, JIESU_ADDR=f"127.0.0.1:{port}", JIESU_DATA_DIR=data,
               JIESU_ADMIN_PASSWORD=PASSWORD, JIESU_LOG="warn", JIESU_SWEEP_SECONDS="0",
               JIESU_REQUEST_TIMEOUT_SECS="600", JIESU_ATTACHMENTS_MAX_VIDEO_MB=str(args.mb + 1))
    env.pop("JIESU_DATABASE_URL", None)
    if args.dir:
        env["JIESU_ATTACHMENTS_DIR"] = os.path.join(data, "files")
    db = None
    if args.postgres:
        db = "jiesu_bench_att_" + uuid.uuid4().hex[:8]
        subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {db}"], check=True)
        env["JIESU_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + "/" + db
    log = open(os.path.join(data, "server.log"), "w")
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1); break
            except Exception:
                if server.poll() is not None:
                    sys.exit(f"jiesu serve exited: see {data}/server.log")
                time.sleep(0.1)
        token = call(base, "POST", "/api/v1/auth/token", {"username": "admin", "password": PASSWORD})["token"]
        req = call(base, "POST", "/api/v1/requests", {
            "kind": "complaint", "channel": "phone", "text": "望京西园三区夜间施工噪音扰民，附通话录像。",
            "address": "朝阳区望京西园三区", "requester": {"name": "王女士", "phone": "13812345678"}}, token)
        src = os.path.join(data, "video.mp4")
        digest = make_file(src, args.mb)
        size = os.path.getsize(src)

        # Baseline: the same bytes copied on the same disk, flushed.
        dst = os.path.join(data, "copy.mp4")
        t = time.perf_counter()
        shutil.copyfile(src, dst)
        with open(dst, "rb+") as f:
            os.fsync(f.fileno())
        copy_s = time.perf_counter() - t
        os.remove(dst)

        # The server's memory settles after its start (models, indexes, pools) and after a
        # first small upload; only then is the baseline read.
        warm = os.path.join(data, "warm.mp4")
        with open(warm, "wb") as f:
            f.write(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2" + os.urandom(1 << 20))
        with open(warm, "rb") as f:
            r = urllib.request.Request(f"{base}/api/v1/requests/{req['id']}/attachments?name=warm.mp4",
                                       data=f.read(), method="POST")
            r.add_header("authorization", "Bearer " + token)
            urllib.request.urlopen(r, timeout=60).read()
        last, steady = rss_kib(server.pid), 0
        for _ in range(200):
            time.sleep(0.1)
            now = rss_kib(server.pid)
            steady = steady + 1 if abs(now - last) < 256 else 0
            last = now
            if steady >= 10:
                break

        # Upload, sampling the server's RSS.
        before = rss_kib(server.pid)
        peak, samples, stop = [before], [0], threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(server.pid)); samples[0] += 1; time.sleep(0.005)
        th = threading.Thread(target=sample); th.start()
        t = time.perf_counter()
        with open(src, "rb") as f:
            r = urllib.request.Request(f"{base}/api/v1/requests/{req['id']}/attachments?name=video.mp4",
                                       data=f, method="POST")
            r.add_header("authorization", "Bearer " + token)
            r.add_header("content-length", str(size))
            r.add_header("content-type", "application/octet-stream")
            with urllib.request.urlopen(r, timeout=600) as resp:
                att = json.loads(resp.read())
        up_s = time.perf_counter() - t
        stop.set(); th.join()
        assert att["sha256"] == digest, "stored bytes differ"

        # Download, checked.
        t = time.perf_counter()
        h = hashlib.sha256()
        r = urllib.request.Request(f"{base}/api/v1/attachments/{att['id']}")
        r.add_header("authorization", "Bearer " + token)
        with urllib.request.urlopen(r, timeout=600) as resp:
            while True:
                piece = resp.read(1 << 20)
                if not piece:
                    break
                h.update(piece)
        down_s = time.perf_counter() - t
        assert h.hexdigest() == digest, "downloaded bytes differ"

        mb = size / 1e6
        backend = ("postgres" if args.postgres else "sqlite") + (" + folder" if args.dir else "")
        print(f"attachments, {args.mb} MB file, {backend}")
        print("| step | seconds | MB/s | vs disk copy |")
        print("|---|---|---|---|")
        print(f"| disk copy (baseline) | {copy_s:.2f} | {mb / copy_s:.0f} | 1.00 |")
        print(f"| upload | {up_s:.2f} | {mb / up_s:.0f} | {copy_s / up_s:.2f} |")
        print(f"| download | {down_s:.2f} | {mb / down_s:.0f} | {copy_s / down_s:.2f} |")
        print(f"server RSS before the upload {before / 1024:.1f} MiB, peak during it "
              f"{peak[0] / 1024:.1f} MiB ({samples[0]} samples): {peak[0] - before} KiB held "
              f"for a {mb:.0f} MB upload")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        if db:
            subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"])
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
