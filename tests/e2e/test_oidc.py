"""Partner sign-in through a real OpenID Connect provider running on this machine (the
``oidc-provider-mock`` package: discovery, authorization code flow, signed ID tokens), end to end in
Chromium: sign in, the role comes from the accounts file by e-mail, sign out; an e-mail the provider has
not verified, or one no account has, gets the public view."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from dashboard import accounts
from tests.conftest import REPO, free_port, write_config
from tests.e2e.conftest import wait_for_meeting

pytestmark = pytest.mark.browser


def _wait_for_port(port: int, proc: subprocess.Popen, what: str) -> None:
    import socket

    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"{what} did not start: {proc.stdout.read()[-3000:]}")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(app URL, provider URL): the provider with three users, the app with their accounts."""
    tmp = tmp_path_factory.mktemp("oidc")
    idp_port, app_port = free_port(), free_port()
    idp = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(idp_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for_port(idp_port, idp, "the OpenID provider")
    idp_url = f"http://127.0.0.1:{idp_port}"
    for sub, claims in (
        ("ana", {"email": "ana@council.example", "email_verified": True}),
        ("eve", {"email": "eve@elsewhere.example", "email_verified": True}),
        ("mal", {"email": "root@council.example", "email_verified": False}),
    ):
        req = urllib.request.Request(
            f"{idp_url}/users/{sub}",
            data=json.dumps(claims).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        assert urllib.request.urlopen(req, timeout=10).status == 204

    cfg = write_config(tmp)
    cfg.write_text(cfg.read_text() + f'\n[access]\naccounts = "{tmp / "accounts.json"}"\n')
    accounts.add(tmp / "accounts.json", "ana@council.example", "analyst", None)
    accounts.add(tmp / "accounts.json", "root@council.example", "admin", None)
    site_dir = tmp / "site"
    (site_dir / ".streamlit").mkdir(parents=True)
    (site_dir / ".streamlit" / "secrets.toml").write_text(f'''[auth]
redirect_uri = "http://localhost:{app_port}/oauth2callback"
cookie_secret = "a test secret that is long enough for the cookie signer"
client_id = "csp-hotspots"
client_secret = "not-a-secret"
server_metadata_url = "{idp_url}/.well-known/openid-configuration"
''')
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard.cli",
            "serve",
            "--config",
            str(cfg),
            "--port",
            str(app_port),
            "--address",
            "127.0.0.1",
        ],
        cwd=site_dir,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for_port(app_port, app, "the app")
    yield f"http://localhost:{app_port}", idp_url
    for proc in (app, idp):
        proc.terminate()
        proc.wait(timeout=20)


def _sign_in(page, url: str, sub: str) -> None:  # noqa: F811
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Partner sign-in").click(timeout=90_000)
    page.locator("input[name=sub]").fill(sub, timeout=30_000)  # the provider's own sign-in form
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**", timeout=30_000)


def _nav(page) -> list[str]:  # noqa: F811
    wait_for_meeting(page, timeout=90)
    return page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()


def _signed_in(email: str, role: str) -> re.Pattern:
    """The sidebar's "Signed in as <e-mail> (<role>)." as shown: text from the identity provider goes through
    dashboard.markdown.inert, which puts an invisible word joiner before the @ (no mailto link is made)."""
    return re.compile("Signed in as " + re.escape(email).replace("@", "\u2060?@") + re.escape(f" ({role})."))


def test_verified_partner_signs_in_with_the_accounts_role_and_signs_out(site, page):  # noqa: F811
    url, idp_url = site
    _sign_in(page, url, "ana")
    page.get_by_text(_signed_in("ana@council.example", "analyst")).wait_for(timeout=60_000)
    assert "Patrol planner" in _nav(page)  # an analyst's page
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{idp_url}/**", timeout=30_000)  # signing out at the provider too
    page.get_by_role("button", name="End session").click(timeout=30_000)  # the provider's own sign-out
    page.get_by_role("button", name="Partner sign-in").wait_for(timeout=60_000)
    assert "Patrol planner" not in _nav(page)
    assert page.get_by_text("Signed in as").count() == 0


@pytest.mark.parametrize("sub, email", [("eve", "eve@elsewhere.example"), ("mal", "root@council.example")])
def test_unknown_or_unverified_email_gets_the_public_view(site, page, sub, email):  # noqa: F811
    url, _ = site
    _sign_in(page, url, sub)
    page.get_by_text(_signed_in(email, "public")).wait_for(timeout=60_000)
    assert page.get_by_text("you see what the public sees").count() == 1
    assert "Patrol planner" not in _nav(page)
