"""Load benchmark: 10 concurrent browser sessions working the Hertfordshire store.

Starts ``csp-hotspots serve`` on a store holding the 13 county months (108,465 rows,
``--county``: benchmarks/county.py), then opens N Chromium sessions at once (separate browser contexts,
driven concurrently), each opening the Map explorer and changing the crime-type filter
three times. Prints p50/p95 of the time from a filter change (the crime type chosen, after the
typing) to the repainted map (ward colours changed, watched from inside the page), for one session
alone and for N at once, and the server's peak resident memory (VmHWM). Targets (issue 8): p95 <= 3 s
with 10 sessions, memory <= 2 GB.

Also prints the server's time alone (the same filter changes made at once by N AppTest sessions, no
browser), the CPU time per page run of the server and of the browsers (Chromium with its
Playwright driver), and what that means for 10 page runs at once on this machine: on 2 cores the
browsers share the server's CPU, so their own work sets a floor under the wait (``--pin`` puts the
server on one core and the browsers on the others).

Usage: ``python benchmarks/bench_load.py [--sessions 10] [--pin] [--county PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import county
from bench_dashboard import ARGS, CHROMIUM, free_port, start_server, stop, write_config

CATEGORIES = ["Burglary", "Vehicle crime", "Shoplifting"]
FILLS = "els => els.map(e => e.getAttribute('fill')).join()"
#: True in the map's frame once its 20 ward polygons are drawn with colours other than ``before``
#: (checked inside the page every 50 ms: polling from here would add its own load to the browsers).
CHANGED = (
    "before => { const els = document.querySelectorAll('path.ward-area');"
    " return els.length >= 20 && Array.from(els, e => e.getAttribute('fill')).join() !== before; }"
)


async def _map_frame(page, timeout: float = 180):
    """The frame of the map once its 20 ward polygons are drawn."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for frame in page.frames:
            try:
                if await frame.locator("path.ward-area").count() >= 20:
                    return frame
            except Exception:  # noqa: BLE001 - a frame detached while we looked
                continue
        await asyncio.sleep(0.1)
    raise RuntimeError("the map was not drawn")


async def _repainted(page, before: str, timeout: float = 120) -> None:
    """Wait until the map shows ward colours other than ``before`` (following the map's frame if
    Streamlit replaces it)."""
    deadline = time.perf_counter() + timeout
    while True:
        frame = await _map_frame(page, deadline - time.perf_counter())
        try:
            await frame.wait_for_function(
                CHANGED, arg=before, polling=50, timeout=max(1, deadline - time.perf_counter()) * 1000
            )
            return
        except Exception:  # noqa: BLE001 - the frame was replaced: look again
            if time.perf_counter() >= deadline:
                raise


async def open_explorer(browser, url: str):
    """One analyst's browser context with the Map explorer drawn; seconds to the drawn map."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    t = time.perf_counter()
    await page.goto(f"{url}/explorer")
    await _map_frame(page)
    return context, page, time.perf_counter() - t


async def change_filters(page) -> list[float]:
    """Add three crime types one by one; seconds from choosing each (Enter in the crime-type box:
    the filter changes) to the repainted map."""
    times = []
    for cat in CATEGORIES:
        await page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)
        before = await (await _map_frame(page)).eval_on_selector_all("path.ward-area", FILLS)
        box = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
        await box.locator("input").click()
        await page.keyboard.type(cat)  # the analyst typing: not the app's time
        t = time.perf_counter()
        await page.keyboard.press("Enter")
        await page.keyboard.press("Escape")
        await _repainted(page, before)
        times.append(time.perf_counter() - t)
    return times


async def run(url: str, sessions: int, server_pid: int) -> dict:
    """``sessions`` analysts open the explorer at once, then (all drawn) change their filters at once.
    Returns the seconds of each first view and each change, and the CPU used while they changed."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        opened = await asyncio.gather(*(open_explorer(browser, url) for _ in range(sessions)))
        await asyncio.sleep(1)  # let the last first views settle
        before = (cpu_seconds(server_pid), _own_cpu(), _machine_busy(), time.perf_counter())
        changes = await asyncio.gather(*(change_filters(page) for _, page, _ in opened))
        after = (cpu_seconds(server_pid), _own_cpu(), _machine_busy(), time.perf_counter())
        await browser.close()
    server, me, busy, wall = (b - a for a, b in zip(before, after))
    return {
        "first": [t for _, _, t in opened],
        "changes": [t for c in changes for t in c],
        "wall": wall,
        "server": server,
        "browsers": busy - server - me,
        "busy": busy,
        "me": me,
    }


def server_alone(cfg: Path, sessions: int) -> list[float]:
    """The server's share with no browser: ``sessions`` AppTest sessions of the explorer (the same
    script and shared caches as the server, no websocket) make each filter change at once, on
    threads as the server runs them; seconds until all of each round's reruns have finished."""
    import threading

    from streamlit.testing.v1 import AppTest

    os.environ["CSP_HOTSPOTS_CONFIG"] = str(cfg)
    app = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
    apps = []
    for _ in range(sessions):
        at = AppTest.from_file(app, default_timeout=300)
        at.run()
        at.switch_page("views/explorer.py").run()
        apps.append(at)
    rounds, chosen = [], []
    for cat in CATEGORIES:
        chosen.append(cat)
        for at in apps:
            at.sidebar.multiselect[0].set_value(list(chosen))
        threads = [threading.Thread(target=at.run) for at in apps]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        rounds.append(time.perf_counter() - t)
        failed = [at.exception for at in apps if at.exception]
        if failed or any(list(at.sidebar.multiselect[0].value) != chosen for at in apps):
            raise RuntimeError(f"a session did not run the change: {failed}")
    return rounds


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (from /proc/<pid>/stat)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument(
        "--pin", action="store_true", help="server on CPU 0, the browsers on the other CPUs (separates their costs)"
    )
    county.add_argument(parser)
    args = parser.parse_args()
    from geodata import config
    from geodata.pipeline.build import open_store

    with tempfile.TemporaryDirectory() as tmp:
        cfg = write_config(Path(tmp), [str(county.folder(args.county))])
        open_store(config.load(cfg))
        port = free_port()
        proc = start_server(cfg, port)
        if args.pin:
            cpus = sorted(os.sched_getaffinity(0))
            os.sched_setaffinity(proc.pid, {cpus[0]})
            for task in Path(f"/proc/{proc.pid}/task").iterdir():  # threads already started
                os.sched_setaffinity(int(task.name), {cpus[0]})
            os.sched_setaffinity(0, set(cpus[1:]) or {cpus[0]})  # this process and the browsers it starts
        try:
            url = f"http://127.0.0.1:{port}"
            alone = asyncio.run(run(url, 1, proc.pid))
            together = asyncio.run(run(url, args.sessions, proc.pid))
            peak = peak_rss_mb(proc.pid)
        finally:
            stop(proc)
        alone_server = server_alone(cfg, args.sessions)  # after the server has let go of the store
    changes, n, cores = together["changes"], args.sessions, os.cpu_count()
    print(
        f"Hertfordshire store (108,465 rows): filter change to repainted map, 1 session: median "
        f"{statistics.median(alone['changes']):.2f} s (max {max(alone['changes']):.2f} s); {n} sessions changing "
        f"at once: p50 {pct(changes, 50):.2f} s, p95 {pct(changes, 95):.2f} s, max {max(changes):.2f} s over "
        f"{len(changes)} changes (target p95 <= 3 s); server peak memory {peak:,.0f} MB (target <= 2,048 MB)"
    )
    print(
        f"server alone (no browsers; {n} AppTest sessions changing the filter at once, 3 rounds): all {n} "
        f"reruns finished in {', '.join(f'{r:.2f}' for r in alone_server)} s"
    )
    print(
        f"first view of the explorer (map drawn): 1 session {alone['first'][0]:.2f} s; {n} opened at once: "
        f"p50 {pct(together['first'], 50):.2f} s, max {max(together['first']):.2f} s"
    )
    runs = len(changes)
    server, browsers = together["server"], together["browsers"]
    print(
        f"CPU while the {n} sessions changed filters ({together['wall']:.1f} s, {together['wall'] * cores:.1f} "
        f"CPU-s on {cores} cores, busy {together['busy']:.1f}): server {server:.1f} s ({server / runs:.2f} s per "
        f"change), Chromium and its Playwright driver {browsers:.1f} s ({browsers / runs:.2f} s per change, typing "
        f"included), "
        f"this script {together['me']:.1f} s"
        + (" (server pinned to one core, browsers to the others)" if args.pin else "")
    )
    print(
        f"the browsers did {browsers / together['busy']:.0%} of the machine's work while the sessions changed "
        f"filters (typing, Streamlit's re-render, the map's redraw), the server {server / together['busy']:.0%}"
    )


def _machine_busy() -> float:
    """CPU seconds all processes have used since boot (every core; from /proc/stat, idle and iowait
    left out)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """CPU seconds this benchmark process has used (driving the sessions)."""
    t = os.times()
    return t.user + t.system


if __name__ == "__main__":
    main()
