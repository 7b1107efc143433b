"""``passport serve``'s application on a real socket for tests: uvicorn in a thread on a free port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import uvicorn

from passport_pipelines.rest_provider.app import Provider, create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(provider: Provider):
    """Yields the server's base URL while it runs."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(provider), host="127.0.0.1", port=port, log_level="warning",
                                          lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the REST provider did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
