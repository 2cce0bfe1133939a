"""A real install: the wheel built from this clone, installed into a fresh virtual environment (its
dependencies from the package index, nothing from this clone or this test's environment), serves the
dashboard offline from an empty folder, and manages partner accounts."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import venv
import zipfile

import pytest

from tests.conftest import REPO, free_port, start_server
from tests.e2e.conftest import map_frame, wait_for_meeting

# the wheel build and the install of every dependency into a fresh environment: minutes, more under load
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(1200)]


def _run(*cmd, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert done.returncode == 0, f"{cmd}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv's bin folder, the wheel, an environment without this clone on the path)."""
    tmp = tmp_path_factory.mktemp("install")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(REPO))
    (wheel,) = (tmp / "dist").glob("csp_hotspots-*.whl")
    venv.create(tmp / "venv", with_pip=True, system_site_packages=False)
    bin_ = tmp / "venv" / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["CSP_HOTSPOTS_HOME"] = str(tmp / "home")
    _run(str(bin_ / "python"), "-m", "pip", "install", "-q", str(wheel), env=env)
    (tmp / "cwd").mkdir()
    return bin_, wheel, env, tmp


def test_wheel_holds_the_package_data(installed):
    _, wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    shipped = [
        p.relative_to(REPO).as_posix()
        for folder in ("geodata/bundled/st_albans", "dashboard/static", "dashboard/mapview")
        for p in (REPO / folder).rglob("*")
        if p.is_file() and "store" not in p.relative_to(REPO).parts
    ]
    assert len(shipped) > 20
    missing = [n for n in ["dashboard/app.py", "geodata/analysis/__init__.py", *shipped] if n not in names]
    assert missing == []
    assert not [n for n in names if n.startswith("tests/") or n.endswith(".duckdb")]
    size = sum(i.file_size for i in zipfile.ZipFile(wheel).infolist())
    print(f"wheel {wheel.name}: {len(names)} files, {size:,} bytes unpacked, {wheel.stat().st_size:,} packed")


def test_installed_package_runs_from_site_packages(installed):
    bin_, _, env, tmp = installed
    where = _run(
        str(bin_ / "python"),
        "-c",
        "import dashboard, geodata.bundled as b; print(dashboard.__file__); print(b.ST_ALBANS)",
        cwd=tmp / "cwd",
        env=env,
    ).stdout.split()
    assert all(str(tmp / "venv") in w for w in where), where


def test_installed_serve_paints_meeting_and_explorer_offline(installed, page):  # noqa: F811
    bin_, _, env, tmp = installed
    port = free_port()
    proc = start_server([str(bin_ / "csp-hotspots"), "serve", "--port", str(port)], port, tmp / "cwd", env)
    try:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
        wait_for_meeting(page, timeout=90)
        page.goto(f"http://127.0.0.1:{port}/explorer", wait_until="domcontentloaded")
        assert map_frame(page, timeout=90) is not None
        offsite = [u for u in page.requests_seen if not u.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))]
        assert offsite == []
        store = next((tmp / "home" / "store").glob("*.duckdb"))
        assert stat.S_IMODE(store.stat().st_mode) == 0o600
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_installed_init_users_add_serve(installed, page):
    """The deployment guide's first steps from the wheel, nothing copied by hand: `init DIR`, `users add`,
    `serve --config DIR/csp.toml`; the partner signs in and the store is built beside the config (0600)."""
    bin_, _, env, tmp = installed
    partner = tmp / "partner"
    cli = str(bin_ / "csp-hotspots")
    said = _run(cli, "init", str(partner), cwd=tmp / "cwd", env=env).stdout
    cfg = partner / "csp.toml"
    assert f"csp-hotspots serve --config {cfg}" in said
    assert "package:st_albans/police/" in cfg.read_text() and str(tmp / "venv") not in cfg.read_text()
    out = _run(
        cli,
        "users",
        "add",
        "ana",
        "--role",
        "analyst",
        "--password-stdin",
        "--config",
        str(cfg),
        input="a long partner passphrase\n",
        cwd=tmp / "cwd",
        env=env,
    ).stdout
    assert "ana: analyst" in out
    accounts = partner / "accounts.json"
    user = json.loads(accounts.read_text())["users"]["ana"]
    assert user["role"] == "analyst" and user["hash"].startswith("$argon2id$")
    for private in (cfg, accounts):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    listed = _run(cli, "users", "list", "--config", str(cfg), cwd=tmp / "cwd", env=env).stdout
    assert listed.split() == ["ana", "analyst", "password"]

    port = free_port()
    command = [cli, "serve", "--config", str(cfg), "--address", "127.0.0.1", "--port", str(port)]
    proc = start_server(command, port, tmp / "cwd", env, timeout=300)
    try:
        page.goto(f"http://127.0.0.1:{port}/explorer", wait_until="domcontentloaded")
        assert map_frame(page, timeout=90) is not None
        page.get_by_role("textbox", name="User name").fill("ana")
        page.get_by_role("textbox", name="Password").fill("a long partner passphrase")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as ana (analyst).").wait_for(timeout=30_000)
        store = partner / "store" / "st-albans.duckdb"
        assert stat.S_IMODE(store.stat().st_mode) == 0o600
    finally:
        proc.terminate()
        proc.wait(timeout=30)
