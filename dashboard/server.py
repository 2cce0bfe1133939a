"""Run the Streamlit server for ``csp-hotspots serve``, preparing the first visitor's page meanwhile.

Streamlit imports a page's modules only when the first browser connects. Here a background thread
(:func:`_import_pages`), once the server listens and while the browser loads Streamlit's front end, checks the
store (a store that cannot be used stops the server with a one-line error), then fills the caches of the page
the first browser asked for (its ``warm``, :mod:`dashboard.views`; the HTML request comes about a second before
that page's first run), or of the default (Meeting) page when nobody has asked within :data:`VISIT_WAIT_S`
(issue 23: the Map explorer's cold start, ``benchmarks/bench_explorer_peer.py``; importing while the server
started slowed both, and another page's figures competed with the visitor's on the same cores).
Components (the map's) are left to the pages: they register with the running server only from a page run.
Usage: ``python -m dashboard.server <streamlit run arguments>``.

It also makes the server safe to put in front of people (:func:`guard`, :func:`no_address_lookups`):
requests whose Host header is not a configured name are refused (DNS rebinding), every page says it
may not be framed by another site, the upload and metrics endpoints answer 404, and Streamlit never
looks up this machine's addresses (it would ask checkip.amazonaws.com and open a socket toward 8.8.8.8).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
import socket
import sys
import threading
import time
import urllib.parse

from dashboard import basemap, views
from loaders.errors import InputError


class _NotTheWarmUp(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warnings of the warm-up thread: it fills the
    pages' caches outside any session on purpose (three such lines greeted every new server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != WARM_UP


#: The thread that checks the store and fills the first visitor's page's caches while the browser loads.
WARM_UP = "import-pages"
#: Seconds the warm-up waits for a first visitor before it prepares the default page anyway (a server
#: started ahead of a meeting).
VISIT_WAIT_S = 1.0


class FirstVisit:
    """The page the first browser asked for (its HTML request, about a second before that page's first run):
    noted by :func:`guard`, awaited by the warm-up."""

    def __init__(self):
        self._asked = threading.Event()
        self.page: views.PageInfo | None = None
        self.params: dict[str, list[str]] = {}

    def note(self, path: str, query: str) -> None:
        """A browser asked for ``path`` (with query string ``query``): kept when it is the first page asked for."""
        page = views.at(path)
        if page is not None and not self._asked.is_set():
            self.page, self.params = page, urllib.parse.parse_qs(query)
            self._asked.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Whether a page was asked for (waiting up to ``timeout`` seconds; None: until one is)."""
        return self._asked.wait(timeout)


def _warm(page: views.PageInfo | None, params: dict[str, list[str]]) -> None:
    """``warm(params)`` of ``page``'s module, where it has one, on one store connection as a page run is (a new
    connection for each query cost 10-15 ms each: 0.21 s -> 0.12 s for the explorer's)."""
    if page is None:
        return
    from dashboard import common

    warm = getattr(importlib.import_module(f"dashboard.views.{page.module}"), "warm", None)
    try:
        if warm is not None:
            with common.store().session():
                warm(params)
    except BaseException:  # noqa: BLE001  the page itself reports any problem (st.stop is a BaseException)
        pass


def _import_pages(port: int, streets_file=None, visit: FirstVisit | None = None) -> None:
    """The warm-up (:data:`WARM_UP`), once the server listens: check (and migrate) the store, stopping the server
    with a one-line error when it cannot be used; then fill the caches of the page the first visitor asked for
    (``visit``), or, when nobody asked within :data:`VISIT_WAIT_S` (or ``visit`` is None), of the default page if
    no page runs yet (its figures would compete with a visitor's page for the cores), make the interactive map's
    streets, and fill the first visitor's page's when they come."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NotTheWarmUp())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # first let the server start: it needs the CPU more
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    from dashboard import common

    try:
        common.store()  # checked (and migrated) once the server listens, while the browser loads the front end
    except (InputError, OSError) as exc:  # a store that cannot be used: said in one line, and the server stops
        _stop(f"csp-hotspots: error: {exc}")
    except BaseException:  # noqa: BLE001  anything else: the page reports it
        pass
    if visit is not None and visit.wait(VISIT_WAIT_S):  # a visitor is waiting: only what their page shows first
        _warm(visit.page, visit.params)
        return
    if not common.page_run_started.is_set():  # a server started ahead of its visitors: the default page, ...
        _warm(views.PAGES[0], {})
    if streets_file is not None:  # ... the interactive map's streets (else made when first asked for) ...
        try:
            streets_json(str(streets_file))
        except Exception:  # noqa: BLE001  a map's own request for them reports the problem (HTTP 500, logged)
            pass
    if visit is not None and visit.wait() and visit.page != views.PAGES[0]:  # ... and the first visitor's page
        _warm(visit.page, visit.params)


def _stop(message: str) -> None:
    """Say ``message`` on stderr and end the server process (exit status 2, as the command line's other
    errors): the store it was started on cannot be used, so no page could be shown."""
    print(message, file=sys.stderr, flush=True)
    os._exit(2)


#: Names a browser on this machine reaches the server by; always allowed.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
#: Endpoints no page of this app uses (it has no file uploader; metrics are not for the public): 404.
CLOSED_PATHS = ("/_stcore/upload_file", "/_stcore/metrics")
#: Headers added to every HTTP response: no framing by other sites (the map component's own frame is
#: same-origin), no MIME sniffing, no referrer beyond this site.
SECURITY_HEADERS = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def host_name(header: str) -> str:
    """The name in a Host header, lower case, without the port (``[::1]:8501`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


_streets_lock = threading.Lock()


@functools.cache
def _streets_json(path: str) -> bytes:
    from geodata.basemap import wgs84_json

    return wgs84_json(path)


def streets_json(path: str) -> bytes:
    """The offline streets of ``path`` for the interactive map (:func:`geodata.basemap.wgs84_json`), made once
    per process: by the warm-up thread as soon as the server listens (the map draws its wards once it has them),
    or by the first request for them if that comes first (off the event loop). They were made before the server
    listened: 0.35 s of CPU at every start with the browser waiting for the port (issue 23)."""
    with _streets_lock:
        return _streets_json(path)


def base_script(path: str) -> bytes:
    """The script a page's HTML at URL path ``path`` starts with: it tells Streamlit's front end where the server
    is (``window.__streamlit.BACKEND_BASE_URL``: the folder above the page, relative, so a proxy's prefix holds).

    Not told, a front end opened at ``/explorer`` first asks ``/explorer/_stcore/health``, is refused, waits
    100 ms and asks ``/_stcore/health``: 0.1-0.15 s of every page's load but the default page's (issue 23)."""
    up = "../" * path[1:].count("/") or "./"
    return f'<script>window.__streamlit = {{BACKEND_BASE_URL: new URL("{up}", location.href).href}}</script>'.encode()


def _telling_base(send, path: str):
    """``send`` for a page's HTML response (asked for without compression): the body gets :func:`base_script` as
    the first element of its head, and its length is set again. Any other response passes unchanged."""
    start: dict = {}
    parts: list[bytes] = []

    async def sending(message):
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body" or not start:
            return await send(message)
        parts.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(parts)
        headers = list(start.get("headers", ()))
        html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
        if start.get("status") == 200 and html and b"<head>" in body:
            body = body.replace(b"<head>", b"<head>" + base_script(path), 1)
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return sending


def guard(app, hosts: frozenset[str] | None, basemap_file=None, streets_file=None, visit: FirstVisit | None = None):
    """An ASGI wrapper around Streamlit's app: Host check (``hosts`` plus :data:`LOOPBACK_HOSTS`;
    ``None`` accepts any name), :data:`CLOSED_PATHS` and :data:`SECURITY_HEADERS`; with
    ``basemap_file`` (the config's ``[map] basemap``) it answers :data:`dashboard.basemap.URL`
    itself, with byte ranges (:func:`dashboard.basemap.respond`); with ``streets_file`` (``[map] streets``)
    it answers :data:`dashboard.basemap.STREETS_URL` with its roads in WGS84 (:func:`streets_json`); ``visit``
    is told of every page asked for (:class:`FirstVisit`); a page's HTML starts with :func:`base_script`."""
    allowed = None if hosts is None else LOOPBACK_HOSTS | hosts

    async def guarded(scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await app(scope, receive, send)  # lifespan
        host = host_name(dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1"))
        path = scope["path"]
        closed = any(path == p or path.startswith(p + "/") for p in CLOSED_PATHS)
        refused = (allowed is not None and host not in allowed) or closed
        if scope["type"] == "websocket":
            if refused:
                return await send({"type": "websocket.close", "code": 1008})  # answered as HTTP 403
            return await app(scope, receive, send)
        if refused:
            status, body = (404, b"Not found") if allowed is None or host in allowed else (400, b"Unknown host")
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"text/plain"), *SECURITY_HEADERS],
                }
            )
            return await send({"type": "http.response.body", "body": body})

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", ())}
                extra = [h for h in SECURITY_HEADERS if h[0] not in names]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        if visit is not None:
            visit.note(path, scope.get("query_string", b"").decode("latin-1"))
        if scope.get("method") == "GET" and views.at(path) is not None:  # a page: its HTML tells the base
            headers = [(k, v) for k, v in scope.get("headers", ()) if k.lower() != b"accept-encoding"]
            return await app({**scope, "headers": headers}, receive, _telling_base(send_with_headers, path))
        if basemap_file is not None and path == basemap.URL:
            return await basemap.respond(scope, send_with_headers, basemap_file)
        if streets_file is not None and path == basemap.STREETS_URL:
            body = await asyncio.to_thread(streets_json, str(streets_file))  # made once, off the event loop
            return await basemap.respond_json_gz(scope, send_with_headers, body)
        return await app(scope, receive, send_with_headers)

    return guarded


def no_address_lookups() -> None:
    """Streamlit finds "this machine's addresses" for its banner and its CORS/WebSocket origin list by an
    HTTP request to checkip.amazonaws.com and a UDP socket connected toward 8.8.8.8
    (``streamlit.net_util``); here neither is known, so it never looks (the banner then shows the
    configured address, and origins are checked against the configured names only)."""
    from streamlit import net_util

    net_util.get_external_ip = lambda: None
    net_util.get_internal_ip = lambda: None


class DropWhenGone:
    """A text stream that writes to ``stream`` until its reader has gone (a closed pipe: ``serve | head``),
    then drops what is written: no print raises in the server. Streamlit's stop prints "Stopping..."
    first, so with the pipe closed a SIGTERM raised BrokenPipeError there and the server never stopped."""

    def __init__(self, stream):
        self._stream, self._gone = stream, False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return self._stream.write(text)
            except (OSError, ValueError):  # BrokenPipeError, or a stream closed under us
                self._gone = True
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._gone = True

    def __getattr__(self, name):
        return getattr(self._stream, name)


def no_repl_check() -> None:
    """Streamlit checks once per process, at the first element a page draws, whether it runs in a Python REPL
    (to print a "use streamlit run" warning) by ``inspect.stack()``, which reads the source of every frame of
    the script thread: 0.1-0.4 s of the first visitor's first view (issue 23). A server is never a REPL."""
    from streamlit import delta_generator

    delta_generator._use_warning_has_been_displayed = True


def no_remote_cache_clearing() -> None:
    """Streamlit's browser client may send a ``clear_cache`` message (its developer menu's "Clear
    cache"), and the server then clears every cache of the process, for every visitor; anyone who
    reaches the page could send it. Here it clears the sending session's own state only: caches are
    cleared by the app itself when the store changes (an admin's refresh)."""
    from streamlit.runtime import app_session

    def clear_own_state(self) -> None:
        self._session_state.clear()

    app_session.AppSession._handle_clear_cache_request = clear_own_state


def _install_guard(hosts: frozenset[str] | None, basemap_file=None, streets_file=None, visit=None) -> None:
    from streamlit.web.server.starlette import starlette_server

    create = starlette_server.create_starlette_app
    starlette_server.create_starlette_app = lambda runtime: guard(
        create(runtime), hosts, basemap_file, streets_file, visit
    )


def main(argv: list[str], hosts: frozenset[str] | None = frozenset(), basemap_file=None, streets_file=None) -> None:
    """Run ``streamlit`` with ``argv``; ``hosts``: the names (besides loopback) the Host header may
    carry, ``None`` for any; ``basemap_file``: the local PMTiles basemap to serve, if any;
    ``streets_file``: the offline streets (``[map] streets``) to serve, if any."""
    port = int(argv[argv.index("--server.port") + 1]) if "--server.port" in argv else 8501
    no_address_lookups()
    no_repl_check()
    no_remote_cache_clearing()
    sys.stdout, sys.stderr = DropWhenGone(sys.stdout), DropWhenGone(sys.stderr)
    visit = FirstVisit()
    _install_guard(hosts, basemap_file, streets_file, visit)
    threading.Thread(target=_import_pages, args=(port, streets_file, visit), name=WARM_UP, daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
