"""Dashboard benchmark in headless Chromium: cold start, repaint after a filter change, map payload.

For the bundled St Albans store and for a store of the whole Hertfordshire data
(the 13 county months, ``--county``: benchmarks/county.py; loaded into the St Albans area config: the county's rows
outside St Albans are kept with no ward, as a real county-wide load would be), prints:

* cold start: from starting ``csp-hotspots serve`` (a new server process) to the first
  painted map: the Meeting page's first ward map (the default page), and, with another new
  server, the Map explorer's 20 Leaflet ward polygons (targets <= 3 s bundled, <= 5 s county);
* filter change to repaint: choosing a crime type until the ward colours change,
  median of 5 (target <= 1 s);
* the largest map payload: the HTML/JS the map component receives, for the default
  view and for the heaviest view tried (targets <= 1 MB default, <= 2 MB any view).

Usage: ``python benchmarks/bench_dashboard.py [--county PATH]``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
import county  # noqa: E402  (benchmarks/county.py, beside this script)

from geodata.bundled import ST_ALBANS as BUNDLE  # noqa: E402
from geodata.bundled import copy_config  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CATEGORIES = ["Burglary", "Vehicle crime", "Shoplifting", "Robbery", "Drugs"]


def write_config(folder: Path, police: list[str]) -> Path:
    return copy_config(folder, folder / "store.duckdb", [Path(p) for p in police])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def map_frame(page, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for frame in page.frames:
            try:
                if (
                    frame.locator("body[data-map-state='complete']").count()
                    and frame.locator("path.ward-area").count() >= 20
                ):
                    return frame
            except PlaywrightError:  # a frame detached while we looked
                pass
        time.sleep(0.05)
    raise RuntimeError("map not painted")


def fills(frame):
    """The map's legend and ward colours (they change with the data), or None while the
    map frame is being replaced."""
    try:
        return frame.evaluate("document.body.innerText") + frame.eval_on_selector_all(
            "path.ward-area", "els => els.map(e => e.getAttribute('fill')).join()"
        )
    except PlaywrightError:  # the component re-creates its iframe on a rerun
        return None


def start_server(cfg: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--config", str(cfg), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)


def stop(proc: subprocess.Popen) -> None:
    """Stop a server; say so when it needs SIGKILL (it should stop on SIGTERM within seconds)."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        print("warning: the server did not stop within 20 s of SIGTERM; killed", file=sys.stderr)
        proc.kill()
        proc.wait()


def meeting_cold_start(cfg: Path, browser) -> float:
    """Seconds from a new server process to the Meeting page's first ward map drawn (its 20 SVG wards)."""
    port = free_port()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    proc = start_server(cfg, port)
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_function(
            "document.querySelectorAll('svg.static-map path.ward-area').length >= 20", timeout=120_000, polling=50
        )
        return time.perf_counter() - t0
    finally:
        page.close()
        stop(proc)


def run(label: str, cfg: Path) -> None:
    from playwright.sync_api import sync_playwright

    from geodata import config
    from geodata.pipeline.build import open_store

    open_store(config.load(cfg))  # build the store first: cold start here is the server's, not the ingest's
    port = free_port()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        payloads = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda data: payloads.append(len(data))))
        meeting = meeting_cold_start(cfg, browser)
        t0 = time.perf_counter()
        proc = start_server(cfg, port)
        try:
            page.goto(f"http://127.0.0.1:{port}/explorer")
            frame = map_frame(page)
            cold = time.perf_counter() - t0
            default_payload = max(payloads)
            times = []
            for cat in CATEGORIES:
                page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=60_000)
                frame = map_frame(page)
                before = fills(frame)
                payloads.clear()
                t = time.perf_counter()
                box = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
                box.locator("input").click()
                page.keyboard.type(cat)
                page.keyboard.press("Enter")
                page.keyboard.press("Escape")
                while time.perf_counter() - t < 60:
                    frame = map_frame(page)
                    now = fills(frame)
                    if now is not None and now != before:
                        break
                    time.sleep(0.02)
                times.append(time.perf_counter() - t)  # each round adds one more crime type
            heaviest = max(payloads) if payloads else 0
        finally:
            browser.close()
            stop(proc)
    print(
        f"{label}: cold start to painted map: Meeting (default page) {meeting:.2f} s, Map explorer {cold:.2f} s; "
        f"filter change to repaint median "
        f"{statistics.median(times):.2f} s (max {max(times):.2f} s over {len(times)}); largest message "
        f"default view {default_payload / 1e6:.2f} MB, after filters {heaviest / 1e6:.2f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    county.add_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bundled").mkdir()
        (tmp / "county").mkdir()
        bundled = str(BUNDLE / "police/hertfordshire-st-albans-street.zip")
        run("bundled St Albans store", write_config(tmp / "bundled", [bundled]))
        run("Hertfordshire store (108,465 rows)", write_config(tmp / "county", [str(county.folder(args.county))]))


if __name__ == "__main__":
    main()
