"""Load benchmark, server side: N concurrent sessions over Streamlit's own websocket protocol.

Starts ``csp-hotspots serve`` on a store holding the 13 Hertfordshire months (108,465 rows, the files
of tests/data/county), then opens N websocket sessions at once, each speaking the browser's protocol
(``BackMsg``/``ForwardMsg`` protobufs from ``streamlit.proto``): it opens the Map explorer, then changes
the crime-type filter (the sidebar's "Crime types" multiselect, found in the page's own deltas) to each of
three categories in turn. The time of a filter change is from sending its ``rerun_script`` to the
``script_finished`` message that ends that rerun (the rerun's last message: every delta of the page,
the map's data included, has been sent by then). No browser runs, so the two cores serve the server
only; ``bench_load.py`` measures the browsers' repaint beside it.

Prints the first view (the first session opening the page on a new server: nothing cached but the
store), p50/p95/max of the filter-change times for 1 session alone and N at once, and the server's peak
resident memory. Target (issue 15): p95 <= 1 s with 10 sessions. ``--page patrol`` does the same on the
Patrol planner (issue 23: first view <= 2 s); ``--warm`` opens the default page once first, so the first
view is the page's own (a running server that has shown another page), not the server's start.
Peer: the same rerun driven in-process by
Streamlit's AppTest (``bench_load.py``'s "server alone" figure), which skips the websocket.

Usage: ``python benchmarks/bench_sessions.py [--sessions 10] [--rounds 3] [--page explorer|patrol]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench_dashboard import free_port, start_server, stop, write_config

REPO = Path(__file__).resolve().parent.parent
COUNTY = REPO / "tests" / "data" / "county" / "hertfordshire-street-2021-01-2022-01.tar.xz"
CATEGORIES = ["Burglary", "Vehicle crime", "Shoplifting"]
LABEL = "Crime types"


class Session:
    """One browser's worth of websocket protocol: rerun requests out, forward messages in."""

    def __init__(self, ws):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.ws, self.ForwardMsg = ws, ForwardMsg
        self.page_hash, self.widget, self.query = "", None, ""
        self.first_map = None  # the explorer's quick first map (its component's id), which a browser reports drawn

    async def rerun(self, widget_states=None, page_name: str = "") -> float:
        """Send one ``rerun_script``; return the seconds until its ``script_finished``."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_script_hash, cs.page_name = self.query, self.page_hash, page_name
        if widget_states is not None:
            cs.widget_states.CopyFrom(widget_states)
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            fwd = self.ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "navigation":  # the page this session is on (st.navigation's choice)
                self.page_hash = fwd.navigation.page_script_hash
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                if el.WhichOneof("type") == "multiselect" and el.multiselect.label.startswith(LABEL):
                    self.widget = el.multiselect
                elif el.WhichOneof("type") == "component_instance":
                    if '"partial": true' in el.component_instance.json_args:
                        self.first_map = el.component_instance.id
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "script_finished" and fwd.script_finished != fwd.FINISHED_EARLY_FOR_RERUN:
                return time.perf_counter() - t0  # a run that asked for another (st.rerun) ends with that one

    def drawn(self):
        """The widget states a browser sends once it has drawn the explorer's first map (dashboard/render/mapview):
        the page's next run computes the rest of the first view."""
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        states = WidgetStates()
        state = states.widgets.add()
        state.id, state.json_value = self.first_map, json.dumps({"drawn": 1})
        return states

    def choose(self, category: str):
        """The widget states after choosing ``category`` in the crime-type filter."""
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        states = WidgetStates()
        state = states.widgets.add()
        state.id = self.widget.id
        state.string_array_value.data.append(category)
        return states


async def one_session(
    url: str, rounds: int, ready: asyncio.Queue, start: asyncio.Event, page: str, opened: list
) -> list[float]:
    import websockets

    origin = url.replace("ws://", "http://").split("/_stcore")[0]
    async with websockets.connect(
        url, subprotocols=["streamlit"], max_size=None, additional_headers={"Origin": origin}
    ) as ws:
        s = Session(ws)
        first = await s.rerun(page_name=page)  # open the page
        if s.first_map is not None:  # the explorer: its first map drawn, the rest of the view (as a browser does)
            first += await s.rerun(s.drawn())
        opened.append(first)
        if s.widget is None and rounds:
            raise RuntimeError(f"no '{LABEL}' multiselect on the {page} page")
        await ready.put(1)
        await start.wait()  # every session has opened the page before any changes a filter
        times = []
        for _ in range(rounds):
            for cat in CATEGORIES:
                times.append(await s.rerun(s.choose(cat)))
        return times


async def run(url: str, n: int, rounds: int, page: str, opened: list) -> list[float]:
    ready, start = asyncio.Queue(), asyncio.Event()
    tasks = [asyncio.create_task(one_session(url, rounds, ready, start, page, opened)) for _ in range(n)]
    for _ in range(n):
        await ready.get()
    start.set()
    return [x for t in await asyncio.gather(*tasks) for x in t]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="times each session goes through the 3 categories")
    parser.add_argument("--page", default="explorer", choices=["explorer", "patrol"])
    parser.add_argument("--warm", action="store_true", help="open the default page once before timing")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from geodata import config
    from geodata.pipeline.build import open_store

    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(COUNTY, "r:xz") as tar:
            tar.extractall(Path(tmp) / "county", filter="data")
        cfg = write_config(Path(tmp), [str(Path(tmp) / "county")])
        open_store(config.load(cfg))
        port = free_port()
        proc = start_server(cfg, port)
        try:
            url = f"ws://127.0.0.1:{port}/_stcore/stream"
            opened: list[float] = []
            if args.warm:
                asyncio.run(run(url, 1, 0, "", []))
            alone = asyncio.run(run(url, 1, args.rounds, args.page, opened))
            together = asyncio.run(run(url, args.sessions, args.rounds, args.page, opened))
            peak = peak_rss_mb(proc.pid)
        finally:
            stop(proc)
    n = args.sessions
    when = "after the default page" if args.warm else "new server"
    print(
        f"Hertfordshire store (108,465 rows), {args.page} page: first view ({when}) {opened[0]:.2f} s; "
        f"crime-type filter change to the rerun's last "
        f"message (script_finished), over the websocket: 1 session: median {statistics.median(alone):.2f} s, "
        f"p95 {pct(alone, 95):.2f} s ({len(alone)} changes); {n} sessions at once: p50 {pct(together, 50):.2f} s, "
        f"p95 {pct(together, 95):.2f} s, max {max(together):.2f} s over {len(together)} changes "
        f"(target p95 <= 1 s); server peak memory {peak:,.0f} MB; load average before the run "
        f"{load[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
