"""`verblijfsregels serve`: uvicorn workers, each with its own listening socket on the same port.

uvicorn's own `--workers` shares one listening socket between the workers, and whichever worker
wakes first accepts every connection waiting: 50 keep-alive clients that connect at once ended up
48 on one worker and 2 on the other (measured with `ss`), so one core did all the work and every
client of the busy worker waited for 47 others. Here each worker binds the port itself with
SO_REUSEPORT, and the kernel spreads new connections over the workers' sockets. The parent binds
the port first, once without SO_REUSEPORT (an address in use, also by a second `serve`, is said
before any worker starts), then with it and without listening (so it takes no connections), which
keeps the port for the workers while the server runs.

A worker that stops is started again; one that stops within `QUICK_EXIT` seconds of starting ends
the server (it would fail the same way every time). Where SO_REUSEPORT does not exist (Windows) or
one worker is asked, uvicorn runs as usual.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import socket
import sys
import time
from typing import Any

BUDGET_VARIABLE = "VERBLIJFSREGELS_WHY_NOT_SECONDS"
QUICK_EXIT = 10.0  # seconds: a worker that stops sooner is broken, not unlucky


# no access log: a path holds no applicant data, but a log of who asked what is no one's business here
SERVER_OPTIONS: dict[str, Any] = {"access_log": False, "server_header": False, "log_level": "warning"}


# A request makes some thousands of small containers that die with it and hold no cycles. What
# the worker built at start-up (the knowledge base, the compiled program) is frozen out of
# collection, so no collection walks it again; the first threshold, raised from 700, lets a
# collection come once per several requests instead of one in three.
GC_THRESHOLDS = (10_000, 50, 100)


def settle_heap() -> None:
    """After start-up, before the first request: the heap as it is now is never collected again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _server_config(app: Any, **options: Any):
    import uvicorn

    return uvicorn.Config(app, **SERVER_OPTIONS, **options)


def _listening_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    if listen:
        sock.listen(2048)
    return sock


def _address_free(host: str, port: int) -> None:
    """Raises OSError (address in use) unless `host:port` can be bound without SO_REUSEPORT."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)


def app_from_environment():  # pragma: no cover - uvicorn's own workers, where SO_REUSEPORT is missing
    from engine.web.app import create_app

    return create_app(why_not_seconds=float(os.environ[BUDGET_VARIABLE]))


def _worker(host: str, port: int, why_not_seconds: float) -> None:  # pragma: no cover - runs in a worker process
    import uvicorn

    from engine.web.app import create_app

    sock = _listening_socket(host, port, listen=True)
    config = _server_config(create_app(why_not_seconds=why_not_seconds))
    settle_heap()
    uvicorn.Server(config).run(sockets=[sock])


def serve(host: str, port: int, workers: int, why_not_seconds: float) -> None:
    """Serve until SIGINT or SIGTERM; raises OSError when the address cannot be bound."""
    import uvicorn

    if workers == 1:
        from engine.web.app import create_app

        config = _server_config(create_app(why_not_seconds=why_not_seconds), host=host, port=port)
        settle_heap()
        uvicorn.Server(config).run()
        return
    if not hasattr(socket, "SO_REUSEPORT"):
        os.environ[BUDGET_VARIABLE] = repr(why_not_seconds)  # what the workers' factory reads
        uvicorn.run(
            "engine.web.serve:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **SERVER_OPTIONS,
        )
        return
    # first without SO_REUSEPORT: a port another server holds (this one too, started twice) is refused
    # here, where SO_REUSEPORT alone would let both listen and share the connections
    _address_free(host, port)
    reserved = _listening_socket(host, port, listen=False)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    running: list[tuple[Any, float]] = []

    def start() -> tuple[Any, float]:
        process = context.Process(target=_worker, args=(host, port, why_not_seconds), daemon=True)
        process.start()
        return process, time.monotonic()

    try:
        running = [start() for _ in range(workers)]
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(running):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started < QUICK_EXIT:
                    print(f"een worker stopte direct na het starten (code {process.exitcode})", file=sys.stderr)
                    stopping = True
                    break
                running[i] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests in flight
        for process, _ in running:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        reserved.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
