"""Local partner accounts: a JSON file of user names, roles and salted password hashes (argon2id).

For partnerships without an identity provider (with one, Streamlit's OIDC
sign-in, ``st.login``, is used, and this file gives each e-mail address its
role; such an account has no password). Passwords are never stored: only
argon2id hashes (argon2-cffi's defaults: RFC 9106 low-memory profile, 16-byte
random salt). The file is written whole to a temporary file and renamed
(never half-written), readable by its owner only (mode 0600).

Roles, each including the ones before it (:data:`ROLES`): ``viewer`` (meeting
and maps), ``analyst`` (adds downloads and record-level views such as the
patrol planner), ``admin`` (adds ingest, refresh and settings). Managed with
``csp-hotspots users add|remove|list``.

Failed sign-ins are limited per user name and source address: after
:data:`MAX_FAILURES` within :data:`WINDOW_S` seconds from one address the name is
refused from that address until the window has passed (so five guesses from one
place no longer lock the partner out everywhere), and after :data:`MAX_NAME_FAILURES`
from all addresses together it is refused from every address (guesses spread over
many addresses stay bounded). The address is the connection's (Streamlit's
``st.context.ip_address``: behind a reverse proxy on this machine, the client's
address it forwards; None on this machine). Every failure is logged (logger
``csp_hotspots.access``) with the name (at most :data:`LOG_NAME` characters of it)
and the address, never the password. The limit is checked
and the attempt counted in one step under a lock, before the password is
verified, so parallel attempts cannot all pass the check (one ``SignIn`` per
server process: Streamlit serves every session from one process).

Password hashing is bounded (:data:`MAX_HASHING`): each argon2id verification takes 64 MiB, and 30
sign-ins at once took a server from 357 MB to 2.16 GB. At most :data:`MAX_HASHING` verifications run at
once in a server process; another attempt waits up to :data:`HASH_WAIT_S` seconds for a turn, then is
refused ("busy", not counted as a failure). The failure limit is unchanged: the lock step comes first
once the attempt has its turn.

A name with no account (or an OIDC account, which has no password) is checked
against a dummy argon2id hash made with the same parameters, so a wrong name
takes as long as a wrong password and the timing does not tell which names
exist. Names longer than :data:`MAX_NAME` or with other characters than an
account name may have, and passwords longer than :data:`MAX_PASSWORD`, are
refused like a wrong password (after the same verification).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from loaders.errors import InputError

ROLES = ("viewer", "analyst", "admin")
MAX_FAILURES, WINDOW_S = 5, 900
#: Failures of one name from all addresses together before it is refused from every address.
MAX_NAME_FAILURES = 30
#: Longest user name and password accepted; at most LOG_NAME characters of a name reach the log.
MAX_NAME, MAX_PASSWORD, LOG_NAME = 120, 1024, 64
_NAME = re.compile(rf"^[A-Za-z0-9._@+-]{{1,{MAX_NAME}}}$")
log = logging.getLogger("csp_hotspots.access")
#: At most this many argon2 verifications at once per server process (64 MiB each); others wait up to
#: HASH_WAIT_S seconds, then are refused.
MAX_HASHING, HASH_WAIT_S = 2, 10.0
_hashing = threading.BoundedSemaphore(MAX_HASHING)


class AccountsError(InputError):
    """A bad accounts file or request; ``str()`` is one line for the user."""


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _logged(name: str) -> str:
    """``name`` as it may appear in the log: repr, cut to :data:`LOG_NAME` characters."""
    return repr(name[:LOG_NAME]) + (f" (+{len(name) - LOG_NAME} characters)" if len(name) > LOG_NAME else "")


def read(path: str | Path) -> dict[str, dict]:
    """The accounts: name -> {"role", "hash" (None for an OIDC account)}; {} when the file is absent."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        users = data["users"]
        assert isinstance(users, dict) and all(u.get("role") in ROLES for u in users.values())
    except (OSError, ValueError, KeyError, TypeError, AssertionError, AttributeError):
        raise AccountsError(f"{path}: not a CSP Hotspots accounts file") from None
    return users


def _write(path: Path, users: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".accounts-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"users": users}, f, indent=1, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create(path: str | Path) -> None:
    """An accounts file with no user, for its owner only (0600); one already there is kept."""
    if not Path(path).exists():
        _write(Path(path), {})


def add(path: str | Path, name: str, role: str, password: str | None) -> None:
    """Add or update ``name`` with ``role``; ``password`` None makes an OIDC (e-mail) account."""
    if not _NAME.match(name or ""):
        raise AccountsError(f"user name {name!r}: use letters, digits and . _ @ + - (at most 120)")
    if role not in ROLES:
        raise AccountsError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if password is not None and len(password) < 10:
        raise AccountsError("a password needs at least 10 characters")
    users = read(path)
    users[name] = {"role": role, "hash": _hasher().hash(password) if password is not None else None}
    _write(Path(path), users)


def remove(path: str | Path, name: str) -> None:
    users = read(path)
    if name not in users:
        raise AccountsError(f"no user {name!r}")
    del users[name]
    _write(Path(path), users)


class _Failures:
    """Recent failed sign-ins per name, shared by every server process on this accounts file: kept
    in ``<accounts>.failures`` (JSON, 0600) and read and written under an exclusive ``flock`` of
    ``<accounts>.lock``, so the check and the count are one step across processes too (two servers
    on one store, README "Deployment"), not only across one server's threads."""

    def __init__(self, accounts: Path):
        self.file = accounts.with_name(accounts.name + ".failures")
        self.lock_file = accounts.with_name(accounts.name + ".lock")
        self._thread_lock = threading.Lock()

    @contextmanager
    def held(self):
        """The failure table, locked for this step; written back when the step ends."""
        import fcntl

        with self._thread_lock:
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    table = json.loads(self.file.read_text(encoding="utf-8"))
                except (OSError, ValueError):  # none yet, or unreadable: start again (never lets anyone in)
                    table = {}
                yield table
                tmp = self.file.with_name(self.file.name + f".{os.getpid()}.tmp")
                with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
                    json.dump(table, f)
                os.replace(tmp, self.file)
            finally:
                os.close(fd)


class SignIn:
    """Checks passwords against the accounts file, with the failure limit (shared by every server
    process using the file: :class:`_Failures`)."""

    def __init__(self, path: str | Path, clock=time.time):
        self.path, self.clock = Path(path), clock
        self._failures = _Failures(self.path)
        self._dummy: str | None = None

    def _dummy_hash(self) -> str:
        """A hash of a random password with the hasher's parameters, for names without one."""
        if self._dummy is None:
            self._dummy = _hasher().hash(secrets.token_urlsafe(16))
        return self._dummy

    def _reserve(self, name: str, address: str | None, now: float) -> str:
        """Refuse a locked name (from this address, or from everywhere), else count this attempt as a
        failure now (taken back on success): the check and the count are one step under the lock.
        Returns the key of the (name, address) count."""
        pair = f"{name} from {address or 'this machine'}"
        with self._failures.held() as table:
            if len(table) > 10_000:  # forget names with no recent failure
                for k in [k for k, v in table.items() if not v or now - v[-1] >= WINDOW_S]:
                    del table[k]
            per_name = [t for t in table.get(name, []) if now - t < WINDOW_S]
            per_pair = [t for t in table.get(pair, []) if now - t < WINDOW_S]
            if len(per_pair) >= MAX_FAILURES or len(per_name) >= MAX_NAME_FAILURES:
                table[name], table[pair] = per_name, per_pair
                log.warning(
                    "sign-in refused for %s from %s: %d failures from there, %d in all in %d s",
                    _logged(name),
                    address or "this machine",
                    len(per_pair),
                    len(per_name),
                    WINDOW_S,
                )
                raise AccountsError("too many failed sign-ins for this name: try again later")
            table[name], table[pair] = per_name + [now], per_pair + [now]
        return pair

    def check(self, name: str, password: str, address: str | None = None) -> str:
        """The user's role; raises :class:`AccountsError` (one message for any wrong name or password,
        another while the name is locked for ``address``, the connection's source address)."""
        from argon2.exceptions import VerificationError

        name, password = str(name or ""), str(password or "")
        if not _hashing.acquire(timeout=HASH_WAIT_S):  # bounded memory: module docstring
            log.warning("sign-in for %s refused: %d sign-ins already being checked", _logged(name), MAX_HASHING)
            raise AccountsError("the server is busy checking other sign-ins: try again in a moment")
        try:
            now = self.clock()
            valid = bool(_NAME.match(name)) and len(password) <= MAX_PASSWORD
            pair = self._reserve(name, address, now) if valid else None
            user = read(self.path).get(name) if valid else None
            stored = user.get("hash") if user else None
            try:  # always one argon2 verification: a name without an account takes as long
                ok = _hasher().verify(stored or self._dummy_hash(), password[:MAX_PASSWORD]) and bool(stored)
            except VerificationError:
                ok = False
        finally:
            _hashing.release()
        if not ok:
            with self._failures.held() as table:
                n = len(table.get(pair, [])) if pair else 0
            log.warning(
                "failed sign-in for %s from %s (%d in %d s)", _logged(name), address or "this machine", n, WINDOW_S
            )
            raise AccountsError("wrong user name or password")
        with self._failures.held() as table:
            table.pop(pair, None)
            if now in table.get(name, []):
                table[name].remove(now)
        return user["role"]
