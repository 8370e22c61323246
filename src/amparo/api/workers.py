"""`amparo serve --workers N`: a supervisor that binds the socket once and N worker processes that each
build their whole Service (index opened, exact hashes loaded, models loaded) before they accept a
connection. A worker that is still starting is simply not accepting yet, so nothing health-checks it
to death under load; the workers already up keep answering. A worker that exits is started again.

Each worker takes connections from the shared socket with a blocking accept() in a thread of its own,
one connection at a time, and hands each to its event loop. A worker goes back into accept() only
when no other worker that is serving holds fewer open connections (a shared array of counts; it
waits at most 50 ms, so a stuck worker holds nobody back). Linux wakes one thread blocked in
accept() per connection, so kept-alive connections are dealt out evenly. An event loop that accepts
for itself (uvicorn's default) takes every connection waiting when it wakes: a burst of kept-alive
connections (a load balancer's pool, a benchmark's clients) then all went to one worker, measured
at 128 % CPU while the other sat at 0.6 %.

Workers are spawned (not forked), so no database connection, thread or memory map crosses a fork.
They share the index files through the page cache: one worker owns and writes them, the others map
them read-only (matching/matcher.py)."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("amparo.serve")
RESTART_BACKOFF_S = 1.0
TURN_S = 0.001  # how often a worker waiting for its turn looks at the others' loads again
MAX_WAIT_S = 0.05  # the longest a worker waits for its turn before it accepts anyway
NOT_SERVING = 1 << 30


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


def turn_taking_server(
    config: Any,
    listener: socket.socket,
    loads: Any = None,
    slot: int = 0,
    on_serving: Callable[[], None] | None = None,
) -> Any:
    """A uvicorn Server that serves the connections its own accept thread takes from `listener`;
    `on_serving()` is called once that thread runs.

    `loads`: one shared int per worker, its open connections; this worker (`slot`) accepts only when
    no worker that is serving holds fewer, or after MAX_WAIT_S (a stuck worker holds nobody back)."""
    import uvicorn

    listener.setblocking(True)  # accept() sleeps in the kernel, in line with the other workers'

    class _Server(uvicorn.Server):
        accepted = 0  # connections taken; written by the accept thread only
        closed = 0  # of those, the ones gone; written by the event loop only

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=[])  # the app's lifespan, no listener of uvicorn's own
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._accept, args=(loop,), name="amparo-accept", daemon=True).start()
            if on_serving is not None:
                on_serving()

        def _load(self) -> int:
            return self.accepted - self.closed

        def _wait_turn(self) -> None:
            if loads is None:
                return
            deadline = time.monotonic() + MAX_WAIT_S
            while not self.should_exit:
                loads[slot] = mine = self._load()
                if mine <= min(loads) or time.monotonic() > deadline:
                    return
                time.sleep(TURN_S)

        def _accept(self, loop: asyncio.AbstractEventLoop) -> None:
            while not self.should_exit:
                self._wait_turn()
                try:
                    conn, _addr = listener.accept()
                except OSError:  # the listener is gone: this worker is stopping
                    return
                if self.should_exit:  # stopping: the client sees the connection close unanswered
                    conn.close()
                    return
                self.accepted += 1
                if loads is not None:
                    loads[slot] = self._load()
                conn.setblocking(False)
                loop.call_soon_threadsafe(self._adopt, loop, conn)

        def _adopt(self, loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
            cls: Any = self.config.http_protocol_class  # httptools' or h11's, as uvicorn chose

            def protocol() -> asyncio.Protocol:
                made: Any = cls(
                    config=self.config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop
                )
                lost = made.connection_lost

                def connection_lost(exc: Exception | None) -> None:
                    self.closed += 1
                    lost(exc)

                made.connection_lost = connection_lost  # counted as it goes, whichever side closes
                out: asyncio.Protocol = made
                return out

            async def connect() -> None:
                try:
                    await loop.connect_accepted_socket(protocol, conn)
                except OSError:  # gone before it was served: no connection_lost will come
                    self.closed += 1
                    conn.close()

            loop.create_task(connect())

    return _Server(config)


def _worker(sock: socket.socket, number: int, ready: Any, loads: Any = None) -> None:
    from amparo.api.factory import app_from_env
    from amparo.settings import Settings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides; SIGTERM stops gracefully
    t0 = time.monotonic()
    app = app_from_env()  # the Service: index, exact hashes and models, all before accepting
    config = uvicorn_config(app, access_log=Settings().access_log)
    config.load()  # the protocol class the accept thread's connections are served with
    turn_taking_server(config, sock, loads, number, lambda: ready.put((number, time.monotonic() - t0))).run()


def serve_workers(host: str, port: int, workers: int) -> None:
    """Run `workers` worker processes on one socket until SIGINT/SIGTERM; restart any that dies."""
    ctx = mp.get_context("spawn")
    sock = bind(host, port)
    ready: Any = ctx.Queue()
    # Each worker's open connections, for taking turns; NOT_SERVING until it serves, and after it died.
    loads: Any = ctx.RawArray("i", [NOT_SERVING] * workers)
    procs: dict[int, Any] = {}
    stopping = False

    def start(n: int) -> None:
        loads[n] = NOT_SERVING
        p = ctx.Process(target=_worker, args=(sock, n, ready, loads), name=f"amparo-worker-{n}", daemon=False)
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
                    loads[n] = NOT_SERVING  # its last count must not hold the others back
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
