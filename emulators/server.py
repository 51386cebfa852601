"""Shared plumbing for the API emulators.

An emulator is a threaded HTTP/1.1 server on loopback with:
- routing: handler methods decorated with ``@route(method, path_regex)``;
- JSON and streamed JSON-lines answers (chunked, so keep-alive clients work);
- a token store for OAuth-style bearer tokens that expire and can be revoked;
- fault injection: queued faults that fire on matching requests;
- a request log, so tests can count the calls a tap made;
- latency: ``latency_ms`` (plus uniform jitter up to ``latency_jitter_ms``) added to every API request, token
  endpoints included, as real report APIs take hundreds of milliseconds; each connection has its own thread,
  so a waiting request holds up no other.

Control endpoints under ``/_emulator/`` let a test drive an emulator that runs in
another process (the demo, ``meltano run``): add faults, read the request log, reset.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import secrets
import socket
import struct
import sys
import threading
import time
import typing as t
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

JSON = t.Any
CONTROL_PREFIX = "/_emulator/"


# --------------------------------------------------------------------------- requests


@dataclasses.dataclass
class Request:
    """One HTTP request, as a handler sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: t.Mapping[str, str]
    body: bytes

    def json(self) -> JSON:
        """The body parsed as JSON; a 400 when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise HTTPError(400, {"message": f"Body is not valid JSON: {exc}"}) from exc

    def form(self) -> dict[str, str]:
        """The body parsed as ``application/x-www-form-urlencoded``."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    def param(self, name: str, default: str | None = None) -> str | None:
        """A single query parameter (the last one when repeated)."""
        values = self.query.get(name)
        return values[-1] if values else default

    def param_list(self, name: str) -> list[str]:
        """A list parameter given repeated (``a=1&a=2``) or comma-separated (``a=1,2``)."""
        return [item for value in self.query.get(name, []) for item in value.split(",") if item]

    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer`` header, if any."""
        return self.auth_credentials("Bearer")

    def auth_credentials(self, scheme: str) -> str | None:
        """The credentials of an ``Authorization: <scheme> <credentials>`` header."""
        header = self.headers.get("Authorization", "")
        prefix = f"{scheme} "
        return header[len(prefix) :].strip() if header.startswith(prefix) else None


# --------------------------------------------------------------------------- responses


@dataclasses.dataclass
class Response:
    """A handler's answer: a whole body, or an iterable of byte chunks to stream."""

    status: int = 200
    body: bytes | t.Iterable[bytes] = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class HTTPError(Exception):
    """Raised by a handler to answer with an error status and a JSON body."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def json_response(obj: JSON, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status,
        json.dumps(obj, separators=(",", ":")).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )


def jsonl_response(objects: t.Iterable[JSON], status: int = 200, chunk_bytes: int = 65536) -> Response:
    """A streamed JSON-lines answer, produced while it is sent, in chunks of about ``chunk_bytes``."""

    def chunks() -> t.Iterator[bytes]:
        buffer: list[bytes] = []
        size = 0
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        for obj in objects:
            line = dumps(obj).encode() + b"\n"
            buffer.append(line)
            size += len(line)
            if size >= chunk_bytes:
                yield b"".join(buffer)
                buffer, size = [], 0
        if buffer:
            yield b"".join(buffer)

    return Response(status, chunks(), {"Content-Type": "application/x-ndjson"})


# --------------------------------------------------------------------------- routing


def route(method: str, pattern: str) -> t.Callable[[t.Callable], t.Callable]:
    """Mark an emulator method as the handler of ``method`` on paths matching ``pattern``.

    Named groups of the pattern are passed to the handler as keyword arguments. A handler
    returns a :class:`Response`, or any JSON-able object for a 200 JSON answer.
    """

    def mark(func: t.Callable) -> t.Callable:
        func.__dict__.setdefault("_routes", []).append((method.upper(), re.compile(pattern + r"\Z")))
        return func

    return mark


# --------------------------------------------------------------------------- tokens


class TokenStore:
    """Opaque bearer tokens with an expiry, as an OAuth token endpoint issues them."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()
        self.issued: list[str] = []

    def issue(self, prefix: str = "tok") -> str:
        token = f"{prefix}_{secrets.token_urlsafe(24)}"
        with self._lock:
            self._expiry[token] = time.monotonic() + self.ttl_seconds
            self.issued.append(token)
        return token

    def state(self, token: str | None) -> str:
        """``valid``, ``expired`` or ``unknown`` (missing, revoked or never issued)."""
        with self._lock:
            expiry = self._expiry.get(token or "")
        if expiry is None:
            return "unknown"
        return "valid" if time.monotonic() < expiry else "expired"

    def expire_all(self) -> None:
        with self._lock:
            self._expiry = dict.fromkeys(self._expiry, 0.0)

    def revoke_all(self) -> None:
        with self._lock:
            self._expiry.clear()


# --------------------------------------------------------------------------- faults


@dataclasses.dataclass
class Fault:
    """A fault that fires on the next ``times`` requests matching ``path`` (a regex) and ``method``.

    Generic kinds, applied by the server before the handler runs:
    - ``status``: answer ``status`` (with ``Retry-After: retry_after`` when set) and a JSON body;
    - ``reset``: drop the connection without an answer;
    - ``slow``: wait ``delay`` seconds, then answer normally (a client timeout shorter than that fails);
    - ``html``: answer 200 with an HTML error page; ``malformed``: 200 with broken JSON; ``empty``: 200, no body;
    - ``expire_tokens``: expire every issued token, then answer normally (so with a 401);
    - ``revoke_tokens``: forget every issued token (renewals of refresh tokens fail too);
    - ``cut``: answer normally but drop the connection after ``after_bytes`` bytes of the body.
    Other kinds are provider-specific: the provider's handlers take them with :meth:`FaultQueue.take`.
    ``skip`` lets that many matching requests pass before the fault fires.
    """

    kind: str
    path: str = ".*"
    method: str | None = None
    times: int = 1
    skip: int = 0
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    after_bytes: int = 0
    params: dict[str, JSON] = dataclasses.field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and re.search(self.path, path) is not None


GENERIC_FAULTS = {"status", "reset", "slow", "html", "malformed", "empty", "expire_tokens", "revoke_tokens", "cut"}


class FaultQueue:
    """Faults waiting to fire; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: str, **fields: t.Any) -> Fault:
        fault = Fault(kind=kind, **fields)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, kinds: t.Collection[str], method: str, path: str) -> Fault | None:
        """The first fault of one of ``kinds`` that fires on this request, counting it down."""
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or not fault.matches(method, path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None


# --------------------------------------------------------------------------- the emulator


@dataclasses.dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    at: float  # when it was answered (time.time())
    received: float = 0.0  # when it arrived, before any latency (time.time())
    body: str = ""  # the request body as text: report windows of POST queries live there

    def json(self) -> JSON:
        """The body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


class Emulator:
    """Base class of a provider's emulator: subclasses add ``@route`` handlers."""

    name = "emulator"

    def __init__(self, *, token_ttl: float = 3600.0, latency_ms: float = 0, latency_jitter_ms: float = 0) -> None:
        if latency_ms < 0 or latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must be >= 0")
        self.latency_ms = latency_ms
        self.latency_jitter_ms = latency_jitter_ms
        self._jitter = random.Random(0)  # seeded: the same run of delays in every process
        self._jitter_lock = threading.Lock()
        self.tokens = TokenStore(token_ttl)
        self.faults = FaultQueue()
        self.requests: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._routes = [
            (method, regex, getattr(self, attr))
            for attr in dir(type(self))
            for method, regex in getattr(getattr(type(self), attr), "_routes", [])
        ]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None, "emulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        self._server = _Server((host, port), _Handler)
        self._server.emulator = self
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"{self.name}-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- request log

    def calls(self, path_regex: str = ".*", method: str | None = None) -> list[LoggedRequest]:
        """The logged requests (control requests excluded) whose path matches ``path_regex``."""
        with self._log_lock:
            logged = list(self.requests)
        return [r for r in logged if re.search(path_regex, r.path) and (method is None or r.method == method)]

    def reset(self) -> None:
        """Forget faults, the request log and tokens; subclasses reset their own counters too."""
        self.faults.clear()
        with self._log_lock:
            self.requests.clear()
        self.tokens.revoke_all()

    def _log(self, request: Request, status: int, received: float = 0.0) -> None:
        body = request.body.decode("utf-8", "replace")
        entry = LoggedRequest(request.method, request.path, request.query, status, time.time(), received, body)
        with self._log_lock:
            self.requests.append(entry)

    # ---- latency

    def delay_seconds(self) -> float:
        """The wait before answering one API request: the latency plus a uniform draw of the jitter."""
        if not self.latency_jitter_ms:
            return self.latency_ms / 1000
        with self._jitter_lock:
            jitter = self._jitter.uniform(0, self.latency_jitter_ms)
        return (self.latency_ms + jitter) / 1000

    # ---- dispatch

    def dispatch(self, request: Request) -> Response:
        """Answer one request: control endpoints, then generic faults, then the routed handler."""
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        fault = self.faults.take(GENERIC_FAULTS - {"cut"}, request.method, request.path)
        if fault is not None:
            answer = self._apply_fault(fault)
            if answer is not None:
                return answer
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match and method == request.method:
                try:
                    answer = handler(request, **match.groupdict())
                except HTTPError as exc:
                    return exc.response()
                return answer if isinstance(answer, Response) else json_response(answer)
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        """The answer for an unknown path; providers override it with their documented shape."""
        return json_response({"message": f"No route for {request.method} {request.path}"}, 404)

    def _apply_fault(self, fault: Fault) -> Response | None:
        if fault.kind == "status":
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            reason = HTTPStatus(fault.status).phrase if fault.status in HTTPStatus._value2member_map_ else "Error"
            return json_response({"message": f"Injected {fault.status} {reason}"}, fault.status, headers)
        if fault.kind == "reset":
            raise _DropConnectionError
        if fault.kind == "slow":
            time.sleep(fault.delay)
        elif fault.kind == "html":
            page = b"<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>"
            return Response(200, page, {"Content-Type": "text/html"})
        elif fault.kind == "malformed":
            return Response(200, b'{"data": [{"broken": ', {"Content-Type": "application/json"})
        elif fault.kind == "empty":
            return Response(200, b"", {"Content-Type": "application/json"})
        elif fault.kind == "expire_tokens":
            self.tokens.expire_all()
        elif fault.kind == "revoke_tokens":
            self.tokens.revoke_all()
        return None

    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :]
        if action == "faults" and request.method == "POST":
            body = request.json()
            for spec in body if isinstance(body, list) else [body]:
                self.faults.add(**spec)
            return json_response({"pending": len(self.faults.pending())})
        if action == "faults" and request.method == "GET":
            return json_response([dataclasses.asdict(f) for f in self.faults.pending()])
        if action == "requests":
            return json_response([dataclasses.asdict(r) for r in self.calls()])
        if action == "reset" and request.method == "POST":
            self.reset()
            return json_response({"reset": True})
        return json_response({"message": f"unknown control action {action!r}"}, 404)


# --------------------------------------------------------------------------- HTTP server


class _DropConnectionError(Exception):
    """Raised to close the client's connection abruptly (TCP reset), answering nothing."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    emulator: Emulator

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        """A client that hangs up mid-answer (a tap killed or failing on purpose) is no server error."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY a keep-alive client stalls ~40 ms per request (Nagle meets delayed ACK).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        """Quiet: the emulator keeps its own request log."""

    def _handle(self) -> None:
        received = time.time()
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, split.path, parse_qs(split.query), self.headers, body)
        emulator = self.server.emulator
        if not request.path.startswith(CONTROL_PREFIX) and (emulator.latency_ms or emulator.latency_jitter_ms):
            time.sleep(emulator.delay_seconds())  # this connection's thread only: others are answered meanwhile
        try:
            response = emulator.dispatch(request)
        except _DropConnectionError:
            if not request.path.startswith(CONTROL_PREFIX):
                emulator._log(request, 0, received)
            self._reset_connection()
            return
        if not request.path.startswith(CONTROL_PREFIX):
            emulator._log(request, response.status, received)
        cut = emulator.faults.take({"cut"}, request.method, request.path)
        self._send(response, cut.after_bytes if cut else None)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def _send(self, response: Response, cut_after: int | None) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        try:
            if isinstance(response.body, bytes):
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                body = response.body if cut_after is None else response.body[:cut_after]
                self.wfile.write(body)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent = 0
                for chunk in response.body:
                    if cut_after is not None and sent + len(chunk) > cut_after:
                        part = chunk[: cut_after - sent]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if part else b"")
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                else:
                    self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if cut_after is not None:
            self._reset_connection()

    def _reset_connection(self) -> None:
        # SO_LINGER with a zero timeout makes close() send a TCP RST: the client sees a reset.
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
