"""Time to hash a 12-megapixel photo on /protect, in this machine's Chromium (issue 12, goal ≤ 1 s).

The page's worker (src/amparo/ui/static/protect-worker.js) hashes a File the way the page does:
MD5 of the bytes, Chromium's decode (createImageBitmap → OffscreenCanvas → getImageData), PDQ of the
full decode (Amparo's hash of record). Inputs, both benign: a synthetic 4032x3024 JPEG (gradients
and noise, quality 90, drawn here) and the shared 12 MP phone photo reg-test/exif-rotn/exif-rotn-1.jpg.

Peers measured in the same run on the same file: Pillow decode + pdqhash (the C++ reference through
its Python bindings, one thread) — what the server spends on the same hash of record — and
Chromium's decode alone (the floor for any in-browser hash). Wall times on a loaded machine mostly
measure the run queue, so CPU seconds are reported too: for the browser, every process under this
one (driver, browser, renderer with the worker thread); for the server path, this process.

    PYTHONPATH=src python bench/bench_protect_browser.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
WORKER = REPO / "src" / "amparo" / "ui" / "static" / "protect-worker.js"
PHOTO = REPO.parent / "shared" / "data" / "pdq" / "reg-test" / "exif-rotn" / "exif-rotn-1.jpg"
CHROMIUM = os.environ.get("AMPARO_CHROMIUM", "/usr/bin/chromium")

HARNESS = b"""<!doctype html><meta charset=utf-8><title>bench</title><script>
const w = new Worker("/protect-worker.js"); let seq = 0; const pend = {};
w.onmessage = (e) => { const m = e.data; if ("progress" in m) return;
  const p = pend[m.id]; delete pend[m.id]; m.ok ? p.res(m.result) : p.rej(new Error(m.error)); };
window.hashWorker = (msg) => new Promise((res, rej) => { msg.id = ++seq; pend[seq] = {res, rej}; w.postMessage(msg); });
window.decodeOnly = async (blob) => {
  const t0 = performance.now();
  const bmp = await createImageBitmap(blob, {colorSpaceConversion: "none", premultiplyAlpha: "none"});
  const c = new OffscreenCanvas(bmp.width, bmp.height); const ctx = c.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(bmp, 0, 0); ctx.getImageData(0, 0, bmp.width, bmp.height); bmp.close();
  return performance.now() - t0;
};
</script>"""


def synthetic_12mp() -> bytes:
    import numpy as np
    from PIL import Image

    h, w = 3024, 4032
    rng = np.random.default_rng(12)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack(
        [
            128 + 100 * np.sin(x / 310.0) * np.cos(y / 170.0),
            128 + 90 * np.cos((x + y) / 420.0),
            128 + 80 * np.sin(y / 260.0),
        ],
        axis=2,
    )
    img += rng.normal(0, 12, img.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def serve(files: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            name = self.path.lstrip("/")
            body = files.get(name)
            self.send_response(200 if body is not None else 404)
            ctype = {"": "text/html", "protect-worker.js": "text/javascript"}.get(name, "application/octet-stream")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by every process started below this one: the
    Playwright driver, Chromium's browser, renderer (with the worker thread) and helpers. On a
    loaded machine wall time mostly measures the queue; CPU time is what an idle core would take."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(d.name)] = int(fields[1])
        cpu[int(d.name)] = (int(fields[11]) + int(fields[12])) / tick
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - mine
        mine |= frontier
    return sum(cpu[p] for p in mine)


def server_side(data: bytes) -> tuple[float, str]:
    """Pillow decode + pdqhash on the full RGB image (the server's hash of record): seconds, hash."""
    import numpy as np
    import pdqhash
    from PIL import Image

    t0 = time.process_time()
    rgb = np.ascontiguousarray(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    bits, _ = pdqhash.compute(rgb)
    hashlib.md5(data).hexdigest()
    dt = time.process_time() - t0  # CPU seconds of this process (one thread), as for the browser
    return dt, np.packbits(bits.astype(np.uint8)).tobytes().hex()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import playwright.sync_api as pw

    inputs = {"synthetic-4032x3024-q90.jpg": synthetic_12mp(), "exif-rotn-1.jpg (phone photo)": PHOTO.read_bytes()}
    files = {"": HARNESS, "protect-worker.js": WORKER.read_bytes()}
    for i, data in enumerate(inputs.values()):
        files[f"in{i}"] = data
    srv, url = serve(files)
    results: dict[str, Any] = {"load_average": os.getloadavg(), "runs": args.runs, "inputs": {}}
    try:
        with pw.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"{url}/")
            for i, (name, data) in enumerate(inputs.items()):
                page.evaluate(f"async () => {{ window.blob{i} = await (await fetch('/in{i}')).blob(); }}")
                totals, decode_only, server, parts, cpu = [], [], [], [], []
                hash_browser = ""
                for run in range(args.runs + 1):  # the first run warms the JIT and is not counted
                    t0, c0 = time.perf_counter(), tree_cpu_seconds()
                    r = page.evaluate(
                        f"async () => await hashWorker({{op: 'hash-file', file: new File([blob{i}], 'x.jpg', "
                        "{type: 'image/jpeg'})})"
                    )
                    wall, cpu_s = time.perf_counter() - t0, tree_cpu_seconds() - c0
                    d = page.evaluate(f"async () => await decodeOnly(blob{i})")
                    s, hash_server = server_side(data)
                    if run == 0:
                        continue
                    totals.append(r["ms"])
                    cpu.append(cpu_s * 1000)
                    parts.append({**r["timings_ms"], "wall_ms": wall * 1000})
                    decode_only.append(d)
                    server.append(s * 1000)
                    hash_browser = r["pdq"]
                dist = bin(int(hash_browser, 16) ^ int(hash_server, 16)).count("1")
                results["inputs"][name] = {
                    "bytes": len(data),
                    "browser_total_ms": {"median": statistics.median(totals), "min": min(totals), "max": max(totals)},
                    "browser_parts_ms_median": {
                        k: statistics.median(p[k] for p in parts) for k in parts[0]
                    },
                    "browser_cpu_ms_median": statistics.median(cpu),
                    "chromium_decode_only_ms_median": statistics.median(decode_only),
                    "server_pillow_pdqhash_cpu_ms_median": statistics.median(server),
                    "ratio_browser_cpu_to_server_cpu": statistics.median(cpu) / statistics.median(server),
                    "pdq_distance_browser_vs_server": dist,
                }
            browser.close()
    finally:
        srv.shutdown()
    results["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for name, r in results["inputs"].items():
            print(
                f"{name}: browser {r['browser_total_ms']['median']:.0f} ms median "
                f"(min {r['browser_total_ms']['min']:.0f}, max {r['browser_total_ms']['max']:.0f}; "
                f"parts {json.dumps({k: round(v) for k, v in r['browser_parts_ms_median'].items()})}); "
                f"browser CPU {r['browser_cpu_ms_median']:.0f} ms; "
                f"Chromium decode alone {r['chromium_decode_only_ms_median']:.0f} ms; "
                f"server Pillow+pdqhash CPU {r['server_pillow_pdqhash_cpu_ms_median']:.0f} ms; "
                f"CPU ratio {r['ratio_browser_cpu_to_server_cpu']:.2f}; "
                f"PDQ distance {r['pdq_distance_browser_vs_server']}"
            )
        print(f"load average before {results['load_average']}, after {results['load_average_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
