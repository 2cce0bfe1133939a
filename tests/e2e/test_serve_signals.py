"""``serve`` stops on SIGTERM even when the reader of its output has gone (issue 24, low): with stdout a
closed pipe (``csp-hotspots serve | head``, a log shipper that died), Streamlit's stop printed "Stopping..."
first, raised BrokenPipeError in the signal's callback, and the server ran on."""

from __future__ import annotations

import signal
import sys
import time

import pytest

from tests.conftest import REPO, free_port, start_server, write_config

pytestmark = pytest.mark.slow


def test_serve_stops_on_sigterm_after_its_stdout_pipe_closed(tmp_path):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "dashboard.cli",
        "serve",
        "--config",
        str(write_config(tmp_path)),
        "--port",
        str(port),
    ]
    proc = start_server(command, port, REPO, timeout=90)
    try:
        assert proc.stdout is not None  # stdout and stderr: one pipe (tests.conftest.start_server)
        proc.stdout.close()  # the reader went away
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
