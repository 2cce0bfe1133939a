"""Who is looking, and what they may see: checked on the server when a page runs, not by hiding buttons.

Audiences, each seeing what the ones before it see (:data:`LEVELS`):

* ``public``: not signed in, and always the meeting-room kiosk (``?mode=meeting``): the Meeting,
  Map explorer, Trends, Wards, Fly-tipping and Data pages; police.uk, FixMyStreet and DEFRA as
  published, council sources only as ward counts under disclosure control (:mod:`geodata.methods.disclosure`);
  no downloads;
* ``viewer``: signed in, the same pages and figures, and the partnership's action plan (the
  Actions page, every action on the Meeting slides; the public sees only actions marked public);
* ``analyst``: adds exact counts of council sources, downloads, the meeting pack, the patrol
  planner (record-level streets and sheets) and changing actions;
* ``admin``: adds refresh and ingest from the Data page.

Sign-in: Streamlit's OIDC (``st.login``, extra ``signin``) when ``.streamlit/secrets.toml`` has an
``[auth]`` section, the account's role from the accounts file by e-mail (an unverified or unknown
e-mail sees the public view); else a user name and password form
against the accounts file (:mod:`dashboard.accounts`). A config with no ``[access]`` section runs
in **local mode**: whoever reaches the server is an admin (the analyst's own machine), and every
page says so; the kiosk stays public.
"""

from __future__ import annotations

import streamlit as st

from dashboard import accounts
from dashboard.markdown import inert

LEVELS = ("public", *accounts.ROLES)


@st.cache_resource
def _sign_in(path: str) -> accounts.SignIn:
    """One failure counter per server and accounts file (shared by every session)."""
    return accounts.SignIn(path)


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all  # noqa: BLE001
        return False


def role_before_sign_in(config, kiosk: bool = False) -> str:
    """The audience of a session nobody has signed in to: ``admin`` in local mode (no accounts file), else
    ``public``; the meeting-room kiosk is always ``public``."""
    return "admin" if config.accounts_file is None and not kiosk else "public"


def role(config) -> str:
    """The audience of this session (see the module docstring)."""
    kiosk = st.query_params.get("mode") == "meeting"
    if kiosk or config.accounts_file is None:
        return role_before_sign_in(config, kiosk)
    if _oidc_configured() and getattr(st.user, "is_logged_in", False):
        return oidc_role(st.user, accounts.read(config.accounts_file))
    return st.session_state.get("csp_role", "public")


def oidc_role(user, users: dict[str, dict]) -> str:
    """The audience of an identity-provider session (``user``: ``st.user`` or any mapping of its
    claims): the role of the identity-provider account (one without a password: ``users add ... --oidc``)
    whose name is the e-mail, compared without regard to case (``Chair@Council.gov.uk`` is
    ``chair@council.gov.uk``); ``public`` when the provider has not verified the e-mail
    (``email_verified`` not true, as JSON ``true`` or the string ``"true"`` some providers send: some let
    anyone put someone else's address on an account), or no such account has that e-mail. A password
    account is never matched: a provider's claim ``root`` is not the password account ``root``."""
    verified = user.get("email_verified")
    if not (verified is True or (isinstance(verified, str) and verified.strip().lower() == "true")):
        return "public"
    email = str(user.get("email") or "").strip().casefold()
    roles = {name.casefold(): a["role"] for name, a in users.items() if not a.get("hash")}
    return roles.get(email, "public") if email else "public"


def can(config, needed: str, role_: str | None = None) -> bool:
    """Whether this session's audience (or ``role_``, e.g. :func:`role_before_sign_in`'s) includes ``needed``."""
    return LEVELS.index(role_ or role(config)) >= LEVELS.index(needed)


def sign_in_box(config) -> None:
    """The sidebar's sign-in (or sign-out) for a config with accounts; a notice in local mode."""
    if st.query_params.get("mode") == "meeting":
        return
    with st.sidebar:
        if config.accounts_file is None:
            st.caption(
                "Local mode: no sign-in is configured, so everyone who reaches this server is an admin. "
                "Add an [access] section to the config before partner data goes on a shared server."
            )
            return
        who = st.session_state.get("csp_user")
        if who or (_oidc_configured() and getattr(st.user, "is_logged_in", False)):
            st.caption(f"Signed in as {inert(who or st.user.get('email'))} ({role(config)}).")
            if not who and role(config) == "public":
                st.caption(
                    "The identity provider has not verified this e-mail, or no partner account has it: "
                    "you see what the public sees."
                )
            if st.button("Sign out", key="sign_out"):
                st.session_state.pop("csp_user", None)
                st.session_state.pop("csp_role", None)
                if not who:  # signed in at the identity provider: st.logout leaves for its sign-out page
                    st.logout()  # (a rerun straight after it raced the redirect and sometimes won)
                    st.stop()
                st.rerun()
            return
        if _oidc_configured():
            st.button("Partner sign-in", on_click=st.login, key="sign_in_oidc")
            return
        with st.form("sign_in", clear_on_submit=True):
            st.caption("Partner sign-in")
            name = st.text_input("User name", key="sign_in_name", max_chars=accounts.MAX_NAME)
            password = st.text_input(
                "Password", type="password", key="sign_in_password", max_chars=accounts.MAX_PASSWORD
            )
            if st.form_submit_button("Sign in"):
                try:
                    st.session_state["csp_role"] = _sign_in(str(config.accounts_file)).check(
                        name, password, st.context.ip_address
                    )
                except accounts.AccountsError as exc:
                    st.error(str(exc))
                    return
                st.session_state["csp_user"] = name
                st.rerun()
