"""The README's council-server deployment: two server processes reading one store keep serving while
`csp-hotspots ingest` writes to it (their reads wait for the ingest's one transaction: before or after,
never half of it; the ingest is not blocked by them)."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest

from geodata import config as config_mod
from geodata.pipeline.build import open_store
from tests.conftest import write_config
from tests.e2e.conftest import serve, wait_for_meeting
from tests.store.test_faults import _ingest

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]  # two servers, a county ingest


def _meeting_paints(page, url: str) -> None:  # noqa: F811
    page.goto(url, wait_until="domcontentloaded")
    wait_for_meeting(page, timeout=120)


def test_two_servers_keep_serving_while_an_ingest_runs(tmp_path, county_police, page):  # noqa: F811
    cfg = write_config(tmp_path)
    store = open_store(config_mod.load(cfg))
    before = int(store.counts(by=("source",), inside=False)["incidents"].sum())
    servers = [serve(cfg), serve(cfg)]
    answers, stop = [], threading.Event()

    def poll():  # both servers' pages, every 50 ms, for the whole ingest
        while not stop.is_set():
            for _, url in servers:
                try:
                    answers.append(urllib.request.urlopen(url, timeout=30).status)
                except OSError as exc:
                    answers.append(repr(exc))
            time.sleep(0.05)

    try:
        for _, url in servers:
            _meeting_paints(page, url)
        poller = threading.Thread(target=poll)
        poller.start()
        ingest = _ingest(cfg, [county_police])
        while ingest.poll() is None:  # page views (each a script run reading the store) during the ingest
            for _, url in servers:
                _meeting_paints(page, f"{url}/?ingest={time.monotonic()}")
        stop.set()
        poller.join()
        assert ingest.returncode == 0, ingest.stderr.read()
        for _, url in servers:
            _meeting_paints(page, url)
        assert answers and set(answers) == {200}, [a for a in answers if a != 200][:3]
        after = int(store.counts(by=("source",), inside=False)["incidents"].sum())  # the whole force's rows
        assert after > before
    finally:
        stop.set()
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=20)
