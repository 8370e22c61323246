"""Hash-check throughput over HTTP: Amparo against a real HMA server (OpenMediaMatch), same hashes,
same client (wrk), same machine, same run.

  prepare  --data DIR --size N        bank N random PDQ hashes (+ 1,000 MD5, 1,000 SHA-256) in a fresh
                                      Amparo data directory; writes DIR/bench.json (admin key, query set)
  amparo   --data DIR --workers W     serve Amparo from DIR, drive each route with wrk, print JSON
  hma      --hma-url URL --data DIR   drive the same routes of a running HMA (bench/hma_server.sh
                                      setup/serve with DIR/pdq_hashes.txt: the same hashes)

Routes: `GET /m/raw_lookup` (PDQ, 4,096 signals, 1 in 8 banked), `POST /m/lookup` and (Amparo only)
`POST /v1/check` with a 100 KB JPEG (detectors off; the check records its event before answering).
The load generator is wrk (C, keep-alive, 8 connections), so the client costs little of the 2 shared
cores. Needs `apt-get install wrk`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
IMAGE = ROOT.parent / "shared" / "data" / "pdq" / "bridge-mods" / "aaa-orig.jpg"
QUERIES = 4096  # distinct raw_lookup signals (1 in 8 is banked)


def amparo(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    cmd = [PY, "-m", "amparo.cli.main", *args]
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, check=True).stdout


def env_for(data: Path, src: Path = ROOT / "src") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPARO_")}
    env.update(
        AMPARO_DATA_DIR=str(data),
        AMPARO_DETECTORS="none",
        OMP_NUM_THREADS="1",
        PYTHONPATH=str(src),
        # The bench measures the check path, not the limiter's 429s.
        AMPARO_RATE_LIMIT_PER_KEY="100000000",
        AMPARO_RATE_LIMIT_PER_ADDRESS="100000000",
    )
    return env


def jpeg_100kb() -> bytes:
    """A benign photo (the PDQ reference set's bridge) re-encoded near 100 KB."""
    from PIL import Image

    img = Image.open(IMAGE).convert("RGB")
    img.thumbnail((800, 800))
    best = b""
    for q in range(95, 20, -5):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        best = buf.getvalue()
        if len(best) <= 100_000:
            break
    return best


def prepare(args: argparse.Namespace) -> None:
    import numpy as np

    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    env = env_for(data)
    key = json.loads(amparo(env, "keys", "create", "bench", "--role", "admin", "--json"))["key"]
    amparo(env, "banks", "create", "BENCH", "--category", "csam")
    rng = np.random.default_rng(13)
    t0 = time.time()
    banked: list[str] = []
    step = 200_000
    for start in range(0, args.size, step):
        n = min(step, args.size - start)
        rows = [bytes(r).hex() for r in rng.integers(0, 256, (n, 32), dtype=np.uint8)]
        banked.extend(rows[: max(1, QUERIES // 8 // max(1, args.size // step))])
        amparo(env, "banks", "import", "BENCH", "-", "--format", "lines", "--signal-type", "pdq", stdin="\n".join(rows))
        print(f"{start + n:,} banked, {time.time() - t0:.0f} s", flush=True)
    for t, nbytes in (("md5", 16), ("sha256", 32)):
        rows = [bytes(r).hex() for r in rng.integers(0, 256, (1000, nbytes), dtype=np.uint8)]
        amparo(env, "banks", "import", "BENCH", "-", "--format", "lines", "--signal-type", t, stdin="\n".join(rows))
    misses = [bytes(r).hex() for r in rng.integers(0, 256, (QUERIES - len(banked), 32), dtype=np.uint8)]
    queries = banked + misses
    rng.shuffle(queries)
    info = {"key": key, "size": args.size, "import_s": time.time() - t0, "queries": queries}
    (data / "bench.json").write_text(json.dumps(info))
    (data / "bench.jpg").write_bytes(jpeg_100kb())
    with open(data / "pdq_hashes.txt", "w") as f:
        rng = np.random.default_rng(13)
        for start in range(0, args.size, step):
            n = min(step, args.size - start)
            f.write("\n".join(bytes(r).hex() for r in rng.integers(0, 256, (n, 32), dtype=np.uint8)) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "queries"}))


# -- load ------------------------------------------------------------------------------------------
LUA_GET = """
local i = 0
local q = {%s}
request = function()
  i = i + 1
  return wrk.format("GET", "%s" .. q[(i %% #q) + 1], {["Authorization"] = "Bearer %s"})
end
"""

LUA_POST = """
local f = io.open("%s", "rb")
local body = f:read("*all")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "multipart/form-data; boundary=%s"
wrk.headers["Authorization"] = "Bearer %s"
"""

BOUNDARY = "amparobenchboundary7c1e"


def multipart(path: Path, image: bytes, field: str) -> Path:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="x.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    path.write_bytes(head + image + f"\r\n--{BOUNDARY}--\r\n".encode())
    return path


def wrk(url: str, script: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", f.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    res: dict[str, float] = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\b", out)
        if m:
            v = float(m.group(1))
            res[f"p{pct}_ms"] = v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["errors"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: (.*)", out)
    if m:
        res["socket_errors"] = float(sum(int(x) for x in re.findall(r"\d+", m.group(1))))
    return res


def drive(base: str, data: Path, key: str, routes: list[str], seconds: int, connections: int) -> dict[str, object]:
    info = json.loads((data / "bench.json").read_text())
    image = (data / "bench.jpg").read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="bench-thr-"))
    out: dict[str, object] = {"load_before": os.getloadavg()[0]}
    for route in routes:
        if route == "raw_lookup":
            q = ",".join(f'"{h}"' for h in info["queries"])
            script = LUA_GET % (q, "/m/raw_lookup?signal_type=pdq&signal=", key)
            res = wrk(base, script, seconds, connections)
        else:
            path = "/m/lookup" if route == "lookup" else "/v1/check"
            body = multipart(tmp / f"{route}.body", image, "photo" if route == "lookup" else "file")
            res = wrk(base + path, LUA_POST % (body, BOUNDARY, key), seconds, connections)
        res["load"] = os.getloadavg()[0]
        out[route] = res
        print(route, json.dumps(res), file=sys.stderr, flush=True)
    return out


def wait_ready(url: str, timeout: float = 300) -> float:
    import httpx

    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.time() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready after {timeout} s")


def run_amparo(args: argparse.Namespace) -> None:
    data = Path(args.data)
    info = json.loads((data / "bench.json").read_text())
    env = env_for(data, Path(args.src))
    port = args.port
    log = open(data / "serve.log", "w")  # noqa: SIM115 (closed below, after the server)
    t_start = time.time()
    server = subprocess.Popen(
        [PY, "-m", "amparo.cli.main", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        ready_s = wait_ready(f"http://127.0.0.1:{port}/ready")
        # /ready answers once the first worker is up; connections made before the others are up
        # would all stay on that one (kept alive), so wait for the supervisor's "(W/W)" line.
        deadline = time.time() + 300
        while args.workers > 1 and f"({args.workers}/{args.workers})" not in (data / "serve.log").read_text():
            if time.time() > deadline:
                raise SystemExit("not every worker became ready")
            time.sleep(0.2)
        ready_s = max(ready_s, time.time() - t_start)
        res = drive(f"http://127.0.0.1:{port}", data, info["key"], args.routes.split(","), args.seconds, args.c)
        res.update(server="amparo", workers=args.workers, ready_s=ready_s, size=info["size"])
        print(json.dumps(res))
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def wait_hma_index(base: str, signal: str, timeout: float = 900) -> float:
    """HMA answers 503 "index not yet ready" until each worker has loaded the index: wait for ten
    answers in a row (index/status reports the database's size before the workers have it)."""
    import httpx

    t0, ok = time.time(), 0
    while ok < 10:
        if time.time() - t0 > timeout:
            raise SystemExit(f"HMA index not ready after {timeout} s")
        try:
            r = httpx.get(f"{base}/m/raw_lookup", params={"signal_type": "pdq", "signal": signal}, timeout=30)
            ok = ok + 1 if r.status_code == 200 else 0
        except httpx.HTTPError:
            ok = 0
        if not ok:
            time.sleep(1)
    return time.time() - t0


def run_hma(args: argparse.Namespace) -> None:
    data = Path(args.data)
    info = json.loads((data / "bench.json").read_text())
    ready_s = wait_hma_index(args.hma_url, info["queries"][0])
    res = drive(args.hma_url, data, "unused", args.routes.split(","), args.seconds, args.c)
    res.update(server="hma", workers=args.workers, ready_s=ready_s, size=info["size"])
    print(json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["prepare", "amparo", "hma"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=18770)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("-c", type=int, default=8, help="concurrent connections")
    ap.add_argument("--routes", default="raw_lookup,lookup,check")
    ap.add_argument("--hma-url", default="http://127.0.0.1:5000")
    ap.add_argument("--src", default=str(ROOT / "src"), help="Amparo sources to serve (e.g. another checkout's)")
    args = ap.parse_args()
    {"prepare": prepare, "amparo": run_amparo, "hma": run_hma}[args.cmd](args)


if __name__ == "__main__":
    main()
