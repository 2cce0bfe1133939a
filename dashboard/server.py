"""Run the Streamlit server for ``csp-hotspots serve``, importing the pages' libraries meanwhile.

Streamlit imports a page's modules only when the first browser connects; here a
background thread imports the default (Meeting) page's once the server listens, while the browser loads
Streamlit's front end (importing while the server starts slowed both), so the first page runs sooner (measured by
``benchmarks/bench_dashboard.py``). Nothing is computed: figures still come from
the pages' caches. Component libraries (streamlit-folium) are left to the pages:
they register with the running server when imported. Usage: ``python -m dashboard.server <streamlit run arguments>``.
"""
from __future__ import annotations

import socket
import sys
import threading
import time


def _import_pages(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # first let the server start: it needs the CPU more
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        import altair  # noqa: F401

        import dashboard.common  # noqa: F401
        import geodata.status  # noqa: F401
    except Exception:  # noqa: BLE001  the page itself reports any import problem
        pass


def main(argv: list[str]) -> None:
    port = int(argv[argv.index("--server.port") + 1]) if "--server.port" in argv else 8501
    threading.Thread(target=_import_pages, args=(port,), name="import-pages", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
