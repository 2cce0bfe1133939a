"""Run the Streamlit server for ``csp-hotspots serve``, importing the pages' libraries meanwhile.

Streamlit imports a page's modules only when the first browser connects; here a
background thread imports the default (Meeting) page's once the server listens, while the browser loads
Streamlit's front end (importing while the server starts slowed both), and fills that page's cache of
figures for the default period, so the first page runs sooner (measured by
``benchmarks/bench_dashboard.py``). Components (the map's) are left to the pages:
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
        from dashboard import common
        from geodata.analysis.status import latest_month

        # the default page's figures, into the page's own cache (same function, same key as the page):
        # a first visitor is an admin in local mode (exact counts), else the public (disclosure control)
        store = common.store()
        common.statuses(common.config_path(), common.priorities_key(), latest_month(store), None, None,
                        store.config.accounts_file is None)
    except BaseException:  # noqa: BLE001  the page itself reports any problem (st.stop is a BaseException)
        pass


def main(argv: list[str]) -> None:
    port = int(argv[argv.index("--server.port") + 1]) if "--server.port" in argv else 8501
    threading.Thread(target=_import_pages, args=(port,), name="import-pages", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
