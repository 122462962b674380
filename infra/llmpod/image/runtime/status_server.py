"""The probe server: a tiny HTTP server on its own port, separate from vLLM's.

Stdlib only (copied into the image). Paths (GET or HEAD):

* ``/ready``  — 200 only after warmup completed, while vLLM's ``/health`` passes and
  before SIGTERM; 503 otherwise. Wire the readiness probe here.
* ``/health`` — same as ``/ready``, for load balancers that probe one path only
  (AWS target groups): an instance that is warming up or draining gets no traffic.
* ``/live``   — 200 while the vLLM child runs (or was deliberately never started
  because of a bad plan); 503 once it died. Wire the liveness probe here. It never
  depends on warmup, so a slow weight load cannot get the pod killed.
* ``/status`` — 200 with the JSON snapshot: phase, reason, pid, warmup timings,
  ``vllm_args`` (what was launched after ``vllm serve``) and ``plan_check`` (what
  vLLM reports against the plan, once ready; ``llmpod verify`` reads both).

Every connection gets an idle timeout and a total deadline, at most
``MAX_CONNECTIONS`` handler threads run at once and at most ``MAX_PER_CLIENT`` for
one client address (more connections get a 503 and are closed at once, so slow
clients from one address cannot starve the kubelet's probes), and a client that
resets is one JSON log line.

Why a separate port instead of vLLM's own ``/health``: vLLM answers 200 as soon
as the engine is up, before warmup, and keeps answering during drain, so probing
it directly sends traffic to cold or terminating pods.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .jsonlog import log_event
from .state import LifecycleState


def _make_handler(state: LifecycleState) -> type[BaseHTTPRequestHandler]:
    class ProbeHandler(BaseHTTPRequestHandler):
        # Probes arrive every few seconds; access logs would drown the phase logs.
        def log_message(self, format: str, *args: object) -> None:
            return

        def _answer(self, send_body: bool) -> None:
            path = self.path.split("?", 1)[0].rstrip("/") or "/"
            if path in ("/ready", "/health"):
                ok = state.is_ready()
                code, body = (200, b"ready\n") if ok else (503, b"not ready\n")
                ctype = "text/plain"
            elif path == "/live":
                ok = state.is_live()
                code, body = (200, b"live\n") if ok else (503, b"vllm exited\n")
                ctype = "text/plain"
            elif path == "/status":
                code = 200
                body = (json.dumps(state.snapshot(), sort_keys=True) + "\n").encode()
                ctype = "application/json"
            else:
                code, body, ctype = 404, b"paths: /ready /live /health /status\n", "text/plain"
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

    return ProbeHandler


#: A probe is one short request; anything slower is a stuck or hostile client.
IDLE_TIMEOUT_S = 5.0
#: Whole-connection budget, against clients that trickle one byte per idle timeout.
CONNECTION_DEADLINE_S = 10.0
#: Handler threads at most; kubelet and a load balancer need a handful.
MAX_CONNECTIONS = 32
#: Slots one client address may hold: 40 slow clients from one address (reconnecting
#: when cut) failed 96% of the kubelet's /ready probes when they could take all 32.
#: The kubelet probes from the node's address, which such a client cannot take.
MAX_PER_CLIENT = 4
_BUSY = b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n"


class _BoundedServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a cap on threads, a deadline per connection, and
    errors logged as one JSON line.

    The stdlib server starts a thread per connection with no limit and no
    timeout, and prints a traceback to stderr for every client that resets:
    300 slow clients held 300 threads for as long as they liked (issue 10).
    """

    daemon_threads = True
    block_on_close = False
    # socketserver listens with a backlog of 5: under a burst the kernel drops SYNs
    # and clients (kubelet included) retry only after 1 s. Accepting is cheap now
    # (over the cap a connection is closed at once), so let the queue be longer.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        max_connections: int,
        deadline_s: float,
        max_per_client: int = MAX_PER_CLIENT,
    ) -> None:
        super().__init__(address, handler)
        self.max_connections = max_connections
        self.max_per_client = max_per_client
        self.deadline_s = deadline_s
        self._slots = threading.BoundedSemaphore(max_connections)
        # socket → (deadline, client address); per address, how many slots it holds.
        self._open: dict[socket.socket, tuple[float, str]] = {}
        self._per_client: dict[str, int] = {}
        self._open_lock = threading.Lock()
        self.refused = 0

    def _refuse(self, request: Any) -> None:
        # Over a cap: answer 503 if the socket takes it at once, and close.
        self.refused += 1
        with contextlib.suppress(OSError):  # a full or reset socket gets no answer
            request.setblocking(False)
            request.send(_BUSY)
        self.shutdown_request(request)

    def process_request(self, request: Any, client_address: Any) -> None:
        client = _host(client_address)
        with self._open_lock:
            crowded = self._per_client.get(client, 0) >= self.max_per_client
        if crowded or not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        with self._open_lock:
            self._open[request] = (time.monotonic() + self.deadline_s, client)
            self._per_client[client] = self._per_client.get(client, 0) + 1
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._forget(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._forget(request)

    def _forget(self, request: Any) -> None:
        with self._open_lock:
            entry = self._open.pop(request, None)
            if entry is not None:
                left = self._per_client[entry[1]] - 1
                if left:
                    self._per_client[entry[1]] = left
                else:
                    del self._per_client[entry[1]]
        if entry is not None:
            self._slots.release()

    def reap(self) -> None:
        """Cut connections past their deadline (their handler threads then exit)."""
        now = time.monotonic()
        with self._open_lock:
            late = [sock for sock, (deadline, _) in self._open.items() if deadline <= now]
        for sock in late:
            with contextlib.suppress(OSError):  # already closed by its client
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that resets or vanishes mid-request is routine for a probe port:
        # one JSON line in the entrypoint's log stream, never a traceback.
        exc = sys.exc_info()[1]
        log_event(
            "status_client_error",
            client=_peer(client_address),
            error=type(exc).__name__,
            detail=str(exc)[:200],
        )


def _host(address: Any) -> str:
    """The client's address without its port (what a per-client cap counts)."""
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


def _peer(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


class StatusServer:
    """Runs in a daemon thread; ``close()`` stops it."""

    def __init__(
        self,
        state: LifecycleState,
        host: str,
        port: int,
        *,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        deadline_s: float = CONNECTION_DEADLINE_S,
        max_connections: int = MAX_CONNECTIONS,
        max_per_client: int = MAX_PER_CLIENT,
    ) -> None:
        handler = _make_handler(state)
        handler.timeout = idle_timeout_s  # socket timeout for every read and write
        self._server = _BoundedServer(
            (host, port),
            handler,
            max_connections=max_connections,
            deadline_s=deadline_s,
            max_per_client=max_per_client,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="llmpod-status", daemon=True
        )
        self._reaper = threading.Thread(target=self._reap, name="llmpod-status-reaper", daemon=True)
        self._reap_every = min(1.0, deadline_s / 4)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def refused(self) -> int:
        """Connections closed at once because every handler slot was taken."""
        return self._server.refused

    def _reap(self) -> None:
        while not self._stop.wait(self._reap_every):
            self._server.reap()

    def start(self) -> None:
        self._thread.start()
        self._reaper.start()

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
