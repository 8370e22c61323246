"""`amparo serve --workers N`: a supervisor that binds the socket once and N worker processes that each
build their whole Service (index opened, exact hashes loaded, models loaded) before they accept a
connection. A worker that is still starting is simply not accepting yet, so nothing health-checks it
to death under load; the workers already up keep answering. A worker that exits is started again.

Workers are spawned (not forked), so no database connection, thread or memory map crosses a fork.
They share the index files through the page cache: one worker owns and writes them, the others map
them read-only (matching/matcher.py)."""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import socket
import time
from typing import Any

log = logging.getLogger("amparo.serve")
RESTART_BACKOFF_S = 1.0


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, *, access_log: bool, **kw: Any) -> Any:
    """httptools and uvloop when installed (`auto`), no per-request access log unless asked for."""
    import uvicorn

    return uvicorn.Config(app, access_log=access_log, log_level="info", http="auto", loop="auto", **kw)


def _worker(sock: socket.socket, number: int, ready: Any) -> None:
    import uvicorn

    from amparo.api.factory import app_from_env
    from amparo.settings import Settings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides; SIGTERM stops gracefully
    t0 = time.monotonic()
    app = app_from_env()  # the Service: index, exact hashes and models, all before accepting
    ready.put((number, time.monotonic() - t0))
    server = uvicorn.Server(uvicorn_config(app, access_log=Settings().access_log))
    server.run(sockets=[sock])


def serve_workers(host: str, port: int, workers: int) -> None:
    """Run `workers` worker processes on one socket until SIGINT/SIGTERM; restart any that dies."""
    ctx = mp.get_context("spawn")
    sock = bind(host, port)
    ready: Any = ctx.Queue()
    procs: dict[int, Any] = {}
    stopping = False

    def start(n: int) -> None:
        p = ctx.Process(target=_worker, args=(sock, n, ready), name=f"amparo-worker-{n}", daemon=False)
        p.start()
        procs[n] = p

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for n in range(workers):
        start(n)
    up = 0
    try:
        while not stopping:
            while not ready.empty():
                n, seconds = ready.get_nowait()
                up += 1
                log.warning("worker %s ready in %.1f s (%s/%s)", n, seconds, up, workers)
            for n, p in list(procs.items()):
                if not p.is_alive() and not stopping:
                    log.error("worker %s exited with %s; starting it again", n, p.exitcode)
                    time.sleep(RESTART_BACKOFF_S)
                    start(n)
            time.sleep(0.2)
    finally:
        for p in procs.values():
            if p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
        deadline = time.monotonic() + 30
        for p in procs.values():
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
        sock.close()
