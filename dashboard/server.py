"""Run the Streamlit server for ``csp-hotspots serve``, importing the pages' libraries meanwhile.

Streamlit imports a page's modules only when the first browser connects; here a
background thread imports the default (Meeting) page's once the server listens, while the browser loads
Streamlit's front end (importing while the server starts slowed both), and fills that page's cache of
figures for the default period, so the first page runs sooner (measured by
``benchmarks/bench_dashboard.py``), unless a visitor's page run has started by then: that page computes
what it shows without the warm-up competing for the cores (issue 23: the Map explorer's cold start).
Components (the map's) are left to the pages: they register with the running server when imported.
Usage: ``python -m dashboard.server <streamlit run arguments>``.

It also makes the server safe to put in front of people (:func:`guard`, :func:`no_address_lookups`):
requests whose Host header is not a configured name are refused (DNS rebinding), every page says it
may not be framed by another site, the upload and metrics endpoints answer 404, and Streamlit never
looks up this machine's addresses (it would ask checkip.amazonaws.com and open a socket toward 8.8.8.8).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import sys
import threading
import time

from dashboard import basemap


class _NotTheWarmUp(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warnings of the warm-up thread: it fills the
    pages' caches outside any session on purpose (three such lines greeted every new server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != WARM_UP


#: The thread that fills the default page's cache while the first visitor connects.
WARM_UP = "import-pages"


def _import_pages(port: int, streets_file=None) -> None:
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NotTheWarmUp())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # first let the server start: it needs the CPU more
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    if streets_file is not None:  # the interactive map draws its wards once it has the streets
        try:
            streets_json(str(streets_file))
        except Exception:  # noqa: BLE001  a map's own request for them reports the problem (HTTP 500, logged)
            pass
    try:
        from dashboard import common
        from geodata.analysis.status import latest_month

        if common.page_run_started.is_set():  # a visitor's page runs already: it computes what it shows, and
            return  # the default page's figures would compete with it for the cores (issue 23)
        # the default page's figures, into the page's own cache (same function, same key as the page):
        # a first visitor is an admin in local mode (exact counts), else the public (disclosure control)
        store = common.store()
        common.statuses(
            common.config_path(),
            common.priorities_key(),
            latest_month(store),
            None,
            None,
            store.config.accounts_file is None,
        )
    except BaseException:  # noqa: BLE001  the page itself reports any problem (st.stop is a BaseException)
        pass


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


def guard(app, hosts: frozenset[str] | None, basemap_file=None, streets_file=None):
    """An ASGI wrapper around Streamlit's app: Host check (``hosts`` plus :data:`LOOPBACK_HOSTS`;
    ``None`` accepts any name), :data:`CLOSED_PATHS` and :data:`SECURITY_HEADERS`; with
    ``basemap_file`` (the config's ``[map] basemap``) it answers :data:`dashboard.basemap.URL`
    itself, with byte ranges (:func:`dashboard.basemap.respond`); with ``streets_file`` (``[map] streets``)
    it answers :data:`dashboard.basemap.STREETS_URL` with its roads in WGS84 (:func:`streets_json`)."""
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


def _install_guard(hosts: frozenset[str] | None, basemap_file=None, streets_file=None) -> None:
    from streamlit.web.server.starlette import starlette_server

    create = starlette_server.create_starlette_app
    starlette_server.create_starlette_app = lambda runtime: guard(create(runtime), hosts, basemap_file, streets_file)


def main(argv: list[str], hosts: frozenset[str] | None = frozenset(), basemap_file=None, streets_file=None) -> None:
    """Run ``streamlit`` with ``argv``; ``hosts``: the names (besides loopback) the Host header may
    carry, ``None`` for any; ``basemap_file``: the local PMTiles basemap to serve, if any;
    ``streets_file``: the offline streets (``[map] streets``) to serve, if any."""
    port = int(argv[argv.index("--server.port") + 1]) if "--server.port" in argv else 8501
    no_address_lookups()
    no_repl_check()
    no_remote_cache_clearing()
    sys.stdout, sys.stderr = DropWhenGone(sys.stdout), DropWhenGone(sys.stderr)
    _install_guard(hosts, basemap_file, streets_file)
    threading.Thread(target=_import_pages, args=(port, streets_file), name=WARM_UP, daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
