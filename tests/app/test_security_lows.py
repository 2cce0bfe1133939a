"""Security round 3, the low findings (issue 24): each test reproduces the mechanism the review named."""

from __future__ import annotations

import pytest

from dashboard import cli
from tests.conftest import write_config


# ------------------------------------------------------------------ the command line
@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--unsafe"],  # was taken as --unsafe-listen-all
        ["serve", "--unsafe-listen"],
        ["summary", "--cat", "Burglary"],
        ["--conf", "x.toml", "wards"],
        ["months", "remove", "--source", "police.uk", "--month", "9999-12", "--ye"],
    ],
)
def test_options_are_never_abbreviated(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and ("unrecognized arguments" in err or "invalid choice: 'x.toml'" in err), err
    assert cli.build_parser().parse_args(["serve", "--unsafe-listen-all"]).unsafe_listen_all


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return str(write_config(tmp_path_factory.mktemp("lows")))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["report", "--out", "/nonexistent-dir/pack.pdf"], "No such file or directory"),
        (["report", "--out", "."], "Is a directory"),
        (["hotspots", "--from", "2025-01", "--to", "2025-06", "--out", "/nonexistent-dir/h.gpkg"], "nonexistent-dir"),
        (["synth", "--out", "TMP", "--from", "2021-05", "--to", "2021-01"], "--from 2021-05 is after --to 2021-01"),
    ],
)
def test_bad_arguments_give_one_line_not_a_traceback(cfg, args, needle, capsys, tmp_path):
    args = [str(tmp_path / "out") if a == "TMP" else a for a in args]
    assert cli.main([args[0], "--config", cfg, *args[1:]]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the first run's build progress lines
    assert last.startswith("csp-hotspots: error: ") and needle in last


@pytest.mark.parametrize("port", ["99999", "-1", "0", "http"])
def test_serve_refuses_a_port_out_of_range(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(["serve", "--port", port])
    assert exit_.value.code == 2 and "must be a TCP port from 1 to 65535" in capsys.readouterr().err
