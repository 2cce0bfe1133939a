"""Load benchmark: 10 concurrent browser sessions working the Hertfordshire store.

Starts ``csp-hotspots serve`` on a store holding the 13 county months (108,465 rows,
../shared/data/police), then opens N Chromium sessions at once (separate browser contexts,
driven concurrently), each opening the Map explorer and changing the crime-type filter
three times. Prints p50/p95 of the time from a filter change (the crime type chosen, after the
typing) to the repainted map (ward colours changed, watched from inside the page), for one session alone and for N at once, and the server's peak resident
memory (VmHWM). Targets (issue 8): p95 <= 3 s with 10 sessions, memory <= 2 GB.

Also prints the server's CPU time per page run, to tell the server's share of the wait from the
browsers' (on a 2-core machine the 10 Chromium renderers take most of it; ``--pin`` puts the server
on one core and the browsers on the others).

Usage: ``python benchmarks/bench_load.py [--sessions 10] [--pin] [--shared ../shared/data]``.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_dashboard import ARGS, CHROMIUM, free_port, start_server, stop, write_config

CATEGORIES = ["Burglary", "Vehicle crime", "Shoplifting"]
FILLS = "els => els.map(e => e.getAttribute('fill')).join()"
#: True in the map's frame once its 20 ward polygons are drawn with colours other than ``before``
#: (checked inside the page every 50 ms: polling from here would add its own load to the browsers).
CHANGED = ("before => { const els = document.querySelectorAll('path.ward-area');"
           " return els.length >= 20 && Array.from(els, e => e.getAttribute('fill')).join() !== before; }")


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
            await frame.wait_for_function(CHANGED, arg=before, polling=50,
                                          timeout=max(1, deadline - time.perf_counter()) * 1000)
            return
        except Exception:  # noqa: BLE001 - the frame was replaced: look again
            if time.perf_counter() >= deadline:
                raise


async def session(browser, url: str) -> list[float]:
    """One analyst: open the explorer, then add three crime types one by one; seconds from choosing
    each (Enter in the crime-type box: the filter changes) to the repainted map."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{url}/explorer")
    await _map_frame(page)
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
    await context.close()
    return times


async def run(url: str, sessions: int) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        results = await asyncio.gather(*(session(browser, url) for _ in range(sessions)))
        await browser.close()
    return [t for r in results for t in r]


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
    parser.add_argument("--pin", action="store_true",
                        help="server on CPU 0, the browsers on the other CPUs (separates their costs)")
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
    args = parser.parse_args()
    from geodata import config
    from geodata.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        cfg = write_config(Path(tmp), [str(Path(args.shared) / "police")])
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
            alone = asyncio.run(run(url, 1))
            cpu0, wall0 = cpu_seconds(proc.pid), time.perf_counter()
            together = asyncio.run(run(url, args.sessions))
            cpu, wall = cpu_seconds(proc.pid) - cpu0, time.perf_counter() - wall0
            peak = peak_rss_mb(proc.pid)
        finally:
            stop(proc)
    print(f"Hertfordshire store (108,465 rows): filter change to repainted map, 1 session: median "
          f"{statistics.median(alone):.2f} s (max {max(alone):.2f} s); {args.sessions} sessions at once: "
          f"p50 {pct(together, 50):.2f} s, p95 {pct(together, 95):.2f} s, max {max(together):.2f} s "
          f"over {len(together)} changes (target p95 <= 3 s); server peak memory {peak:,.0f} MB (target <= 2,048 MB)")
    print(f"the server used {cpu:.1f} CPU-seconds of the {wall:.1f} s the {args.sessions} sessions took "
          f"({cpu / (args.sessions * (len(CATEGORIES) + 1)):.2f} s per page run: first view or filter change); "
          f"the {args.sessions} Chromium sessions used the rest of the machine's {os.cpu_count()} cores"
          + (" (server pinned to one core, browsers to the others)" if args.pin else ""))


if __name__ == "__main__":
    main()
