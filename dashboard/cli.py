"""The ``csp-hotspots`` command.

Every command takes ``--config FILE`` (default: the bundled St Albans config,
wards since May 2022). The store named in the config is built from the config's
bundled data on first use. Errors that are the user's input (a
:class:`loaders.errors.InputError`, or a bad option value) print one line naming
the file, line and reason, and exit with status 2; there is no traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from geodata import config as config_mod
from loaders.errors import InputError

if TYPE_CHECKING:
    from loaders.report import LoadReport

# The command modules import their libraries when run: `serve` starts the server sooner that way.


def open_store(cfg):
    """The config's store, used by this process alone (``exclusive``: larger ingests commit sooner);
    built from the config's bundled data on first use, with a progress line on stderr."""
    from geodata.pipeline.build import open_store as _open

    if cfg.store_path.exists():
        return _open(cfg, exclusive=True)
    store = _open(cfg, exclusive=True, progress=_progress_bar(None))
    _end_line()
    return store


def _redraw(text: str) -> None:
    """A progress line on stderr: redrawn in place on a terminal, one line per step in a log."""
    sys.stderr.write(f"\r{text}" if sys.stderr.isatty() else f"{text}\n")
    sys.stderr.flush()


def _end_line() -> None:
    """End a progress line redrawn in place (a log has its own lines already)."""
    if sys.stderr.isatty():
        sys.stderr.write("\n")


def _progress_bar(total_files: int | None):
    """A one-line progress bar on stderr, redrawn after each file."""

    def show(report: LoadReport) -> None:
        done = len(report.files)
        if total_files:
            filled = int(30 * done / total_files)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{total_files} files"
        else:
            bar = f"{done} files"
        _redraw(f"{bar}, {report.rows_read:,} rows")

    return show


def _cmd_ingest(args, cfg) -> int:
    from geodata.pipeline.ingest import ingest_download
    from loaders.police import STREET, download_files

    store = open_store(cfg)
    total = len(download_files(args.paths)[0][STREET])
    report = ingest_download(store, args.paths, progress=_progress_bar(total), replace_smaller=args.replace_smaller)
    _end_line()
    print(report.summary())
    return 0


def _cmd_ingest_fixmystreet(args, cfg) -> int:
    from geodata.pipeline.ingest import ingest_fixmystreet, summary

    report = ingest_fixmystreet(open_store(cfg), args.file, replace_smaller=args.replace_smaller)
    print(summary(report))
    return 0


def _cmd_ingest_defra(args, cfg) -> int:
    from geodata.pipeline.ingest import ingest_defra, summary

    report = ingest_defra(open_store(cfg), args.file, replace_smaller=args.replace_smaller)
    print(summary(report))
    return 0


def _cmd_ingest_council(args, cfg) -> int:
    from geodata.pipeline.ingest import ingest_council, summary
    from loaders.council import SOURCES, read_mapping

    mapping = read_mapping(args.mapping)
    if mapping.kind != args.source:
        raise ValueError(
            f"{args.mapping}: kind = {mapping.kind!r} maps {SOURCES[mapping.kind]} records; "
            f"use `csp-hotspots ingest {mapping.kind}`"
        )
    report = ingest_council(open_store(cfg), args.file, mapping, replace_smaller=args.replace_smaller)
    print(summary(report))
    return 0


def _cmd_synth(args, cfg) -> int:
    from geodata.pipeline.synthetic import generate

    _check_months(args)
    for path in generate(open_store(cfg), _out_folder("--out", args.out), args.start, args.end):
        print(path)
    return 0


#: Characters a line typed on standard input may have (a confirmation or a password): a line from
#: /dev/zero never ends, and was read until memory ran out.
MAX_LINE = 4_096


def _stdin_line(what: str, prompt: str = "") -> str:
    """One line of standard input, without its line break, for ``what`` (named in the error), after
    ``prompt`` on stderr: a closed standard input, or a line over :data:`MAX_LINE` characters, is a
    one-line error (on a line of its own)."""
    print(prompt, end="", file=sys.stderr, flush=True)
    if sys.stdin is None or sys.stdin.closed:
        problem = "standard input is closed; nothing to read"
    else:
        line = sys.stdin.readline(MAX_LINE + 1)
        if len(line) <= MAX_LINE:
            return line.rstrip("\n")
        problem = f"standard input gave a line over {MAX_LINE:,} characters"
    if prompt:
        print(file=sys.stderr)  # the error goes below the prompt
    raise ValueError(f"{what}: {problem}")


def _typed_password() -> str:
    """A password typed at the terminal (``getpass``); without a terminal and with standard input
    closed or at its end, a one-line error pointing to ``--password-stdin``."""
    import getpass

    if sys.stdin is None or sys.stdin.closed:
        raise ValueError("no terminal and standard input is closed: give the password with --password-stdin")
    try:
        return getpass.getpass("Password: ")
    except EOFError:
        print(file=sys.stderr)  # the error goes below the prompt
        raise ValueError("no password typed (standard input ended): give it with --password-stdin") from None


def _out_file(option: str, text: str) -> Path:
    """The file ``option`` names to write, checked before any work: an empty path, or a path that is
    there and is not a regular file (a folder; a FIFO, whose opening waits for ever for a reader; a
    device), is a one-line error naming the option."""
    from loaders.report import not_regular

    if not text.strip():
        raise ValueError(f"{option} is empty: name the file to write")
    if reason := not_regular(text):
        raise ValueError(f"{option} {text}: {reason}; name a file to write")
    return Path(text)


def _out_folder(option: str, text: str) -> Path:
    """The folder ``option`` names to write into (made when missing): an empty path (it was taken as
    the current folder) or a path that is there and is not a folder is a one-line error naming it."""
    if not text.strip():
        raise ValueError(f"{option} is empty: name the folder to write into")
    if Path(text).exists() and not Path(text).is_dir():
        raise ValueError(f"{option} {text}: not a folder")
    return Path(text)


def _check_categories(categories: list[str] | None) -> None:
    from loaders.police import CRIME_TYPES

    unknown = sorted(set(categories or []) - CRIME_TYPES)
    if unknown:
        raise ValueError(
            f"unknown category {unknown[0]!r}; police.uk categories are: " + ", ".join(sorted(CRIME_TYPES))
        )


def _check_months(args) -> None:
    """--from and --to, each a month 'YYYY-MM' (one line naming the option), in order."""
    from loaders import months

    for name, option in (("start", "--from"), ("end", "--to")):
        if getattr(args, name) is not None:
            months.check(getattr(args, name), option)
    if args.start and args.end and args.start > args.end:
        raise ValueError(f"--from {args.start} is after --to {args.end}")


def _counted_period(store, source: str, args):
    """The period the command counts over (:func:`geodata.analysis.rules.counted_period`): --from and
    --to, defaulting to the source's first and latest loaded month; the months of it not loaded are
    named on stderr, and a period with none loaded is an error (no zero for a month never loaded)."""
    from geodata.analysis import rules

    period, note = rules.counted_period(store, source, args.start, args.end)
    if note:
        print(f"note: {note}", file=sys.stderr)
    return period, note


def _cmd_summary(args, cfg) -> int:
    if args.source == "defra":
        raise ValueError(
            "DEFRA statistics are district totals by financial year, with no ward breakdown "
            "(the Fly-tipping page of the dashboard shows them)"
        )
    _check_months(args)
    store = open_store(cfg)
    if args.source == "police.uk":
        _check_categories(args.category)
    else:
        known = set(store.counts(by=("category",), source=args.source, inside=False)["category"])
        unknown = sorted(set(args.category or []) - known)
        if unknown:
            raise ValueError(
                f"unknown category {unknown[0]!r}; {args.source} categories in the store are: "
                + (", ".join(sorted(known)) or "none (nothing loaded)")
            )
    period, note = _counted_period(store, args.source, args)
    table = store.ward_summary(start=period.start, end=period.end, categories=args.category or None, source=args.source)
    if args.format == "csv":
        from geodata import export

        sys.stdout.write(export.to_csv(table[["ward_code", "ward_name", "incidents"]]))
    else:
        cats = ", ".join(args.category) if args.category else "all categories"
        print(f"{cfg.area_name}: {args.source} incidents by ward, {period.text}, {cats}")
        if note:
            print(f"Note: {note}.")
        print(
            table.rename(columns={"ward_code": "Ward code", "ward_name": "Ward", "incidents": "Incidents"}).to_string(
                index=False
            )
        )
        print(f"Total: {int(table['incidents'].sum()):,}")
    return 0


def _cmd_hotspots(args, cfg) -> int:
    from geodata import export
    from geodata.analysis import Selection, rules
    from geodata.methods.hotspots import COLUMNS, SparseDataWarning, hotspot_cells
    from geodata.methods.pvalue import format_p

    _check_months(args)
    _check_categories(args.category)
    if args.cell is not None and not 0 < args.cell < float("inf"):
        raise ValueError(f"--cell must be a positive number of metres, got {args.cell:g}")
    out = None if args.out is None else _out_file("--out", args.out)
    store = open_store(cfg)
    period, _ = _counted_period(store, "police.uk", args)
    selection = Selection.of(period.start, period.end, args.category or ())
    outline, located = rules.study_area(store, selection)  # the district's incidents only
    with warnings.catch_warnings():  # the frame's note says the same; it is printed below
        warnings.simplefilter("ignore", SparseDataWarning)
        frame, grid = hotspot_cells(located, outline, cell_size=args.cell, shape=args.grid)
    if frame.attrs["inference"] == "none":
        raise ValueError(f"no hot spot test: {frame.attrs['note']}")
    if out is not None:
        if out.suffix.lower() != ".gpkg":
            raise ValueError(f"--out must name a .gpkg file, got {out.name!r}")
        frame.to_file(out, layer="hotspots", driver="GPKG")
        print(f"wrote {len(frame):,} cells ({grid.shape}, {grid.cell_size:g} m) to {out}", file=sys.stderr)
    if args.format == "csv":
        sys.stdout.write(export.to_csv(frame[list(COLUMNS)]))
    elif args.format == "geojson":
        sys.stdout.write(frame.to_crs(4326).to_json(drop_id=True))
        sys.stdout.write("\n")
    elif out is None:
        significant = frame[frame["gi_class"] != 0].sort_values("gi_z", ascending=False)
        cell_rule = "given" if args.cell else "from the data"
        print(
            f"{cfg.area_name}, {period.text}: Gi* on {len(frame):,} {grid.shape} cells of {grid.cell_size:g} m "
            f"({cell_rule}), "
            f"{frame.attrs['incidents']:,} incidents; {len(significant):,} significant cells "
            "(Benjamini-Hochberg adjusted, 90% or more)"
        )
        print(f"{frame.attrs['note']}")
        shown = significant[["cell_id", "x", "y", "count", "gi_z", "gi_p_adj", "label"]].head(25).copy()
        shown["gi_p_adj"] = shown["gi_p_adj"].map(format_p)
        print(shown.to_string(index=False) if len(shown) else "(no significant cell)")
    return 0


def _cmd_report(args, cfg) -> int:
    from dashboard.render import pack
    from geodata import priorities
    from loaders import months

    _check_months(args)
    out = _out_file("--out", args.out)
    if args.priorities is not None and not args.priorities.strip():
        raise ValueError("--priorities is empty: name a priorities file, or leave it out for the config's")
    window = None
    if args.start and args.end:
        window = months.length(args.start, args.end)
    elif args.start:
        raise ValueError("--from needs --to (the period's last month)")
    plist = priorities.load(cfg.priorities_file if args.priorities is None else args.priorities)
    built = pack.build(
        open_store(cfg), plist, end=args.end, window=window, compare="year-earlier" if args.start else None
    )
    out.write_bytes(pack.render(built, args.format))
    print(
        f"{out}: {args.format.upper()} meeting pack, {len(built.results)} priorities, period {built.period}, "
        f"data to {built.data_to}"
    )
    return 0


def _cmd_refresh(args, cfg) -> int:
    from geodata.pipeline.refresh import refresh_police
    from loaders import months
    from loaders.policeapi import Client

    if args.start is not None:
        months.check(args.start, "--from")
    force = args.force or cfg.police_force
    if not force:
        raise ValueError(f"{cfg.path}: no [police] force; give --force (a data.police.uk force id)")
    cache = Path(args.cache) if args.cache else cfg.store_path.parent / "api-cache"
    client = Client(args.api, cache_dir=cache)
    store = open_store(cfg)

    def show(month: str, done: int, total: int) -> None:
        filled = int(30 * done / total)
        _redraw(f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} months, last {month}")

    report = refresh_police(
        store,
        client,
        force,
        start=args.start,
        republished=args.republished,
        progress=show,
        stops=args.stops,
        replace_smaller=args.replace_smaller,
    )
    if report.fetched:
        _end_line()
    print(report.summary())
    for r in (report.load.rejected if report.load else [])[:20]:
        print(f"  rejected {r.file}, line {r.line}, {r.field}: {r.reason}")
    if args.outcomes:
        from geodata.pipeline.refresh import update_outcomes

        loaded = store.loaded_months("police.uk", force)
        months = [m for m in client.street_dates() if m in loaded]
        read, changed = update_outcomes(store, client, force, months)
        print(
            f"outcomes-at-location for {len(months)} month(s): {read:,} crimes with an outcome, "
            f"{changed:,} stored crimes given a later outcome"
        )
    return 0


def _cmd_init(args) -> int:
    """Write ``DIR/csp.toml`` (:func:`geodata.config.init_text`) and an empty accounts file beside it,
    both for their owner only, and say the next two commands."""
    from dashboard import accounts
    from geodata import boundaries
    from geodata.config import BoundarySpec, init_text, write_init

    folder = _out_folder("DIR", args.dir)
    wards = lsoas = None
    if args.wards or args.lsoas:
        if not (args.wards and args.lsoas and args.ward_code and args.ward_name and args.name):
            raise ValueError("another district needs --name, --wards with --ward-code and --ward-name, and --lsoas")
        wards = BoundarySpec(Path(args.wards).resolve(), args.ward_code, args.ward_name, "Wards")
        lsoas = BoundarySpec(Path(args.lsoas).resolve(), args.lsoa_code, args.lsoa_name, "LSOAs")
        for spec in (wards, lsoas):
            boundaries.read(spec)  # the file, its fields, codes and polygons, before anything is written
    cfg = write_init(folder, init_text(args.area, wards, lsoas, args.name, tuple(args.host), args.force))
    assert cfg.accounts_file is not None
    accounts.create(cfg.accounts_file)
    print(f"wrote {cfg.path} ({cfg.area_name}; store {cfg.store_path}, accounts {cfg.accounts_file})")
    print("next:")
    print(f"  csp-hotspots users add NAME --role admin --config {cfg.path}")
    print(f"  csp-hotspots serve --config {cfg.path}")
    return 0


def _cmd_wards(args, cfg) -> int:
    store = open_store(cfg)
    print(f"{cfg.area_name}: {cfg.wards.label} ({cfg.wards.file.name})")
    print(store.wards().to_string(index=False))
    return 0


def _cmd_months(args, cfg) -> int:
    """``months list``: every loaded month per source and dataset, with its rows and whether it is
    plausible (:mod:`loaders.plausible`); ``months remove``: one month of a source, after confirmation
    (``--yes`` for scripts), recorded in the store's load history and logged on stderr."""
    import logging

    from loaders import months, plausible

    store = open_store(cfg)
    parts = store.partitions()
    if args.action == "list":
        if args.source:
            parts = parts[parts["source"] == args.source]
        for row in parts.sort_values(["source", "dataset", "month"]).itertuples():
            month = row.month.strftime("%Y-%m")
            family = "police.uk" if row.source == "police.uk outcomes" else row.source
            problem = plausible.month_problem(family, month)
            print(f"{row.source}\t{row.dataset}\t{month}\t{int(row.rows):,} rows" + (f"\t{problem}" if problem else ""))
        return 0
    if not args.source or not args.month:
        raise ValueError("months remove needs --source and --month")
    months.check(args.month, "--month")
    held = parts[(parts["source"] == args.source) & (parts["month"].dt.strftime("%Y-%m") == args.month)]
    if args.dataset:
        held = held[held["dataset"] == args.dataset]
    if held.empty:
        raise ValueError(f"{args.source} has no month {args.month} loaded: nothing to remove (see `months list`)")
    what = f"{args.month} of {args.source} ({', '.join(held['dataset'])}: {int(held['rows'].sum()):,} rows)"
    if not args.yes:
        if _stdin_line("months remove", f"Remove {what}? Type yes to remove: ").strip().lower() != "yes":
            print("nothing was removed", file=sys.stderr)
            return 1
    report = store.remove_month(args.source, args.month, args.dataset)
    message = f"removed {args.month} of {args.source} ({', '.join(held['dataset'])}): {report.rows_read:,} rows"
    logging.getLogger("csp_hotspots").warning(message)
    print(message, file=sys.stderr)
    return 0


def _cmd_new_disclosure_key(args, cfg) -> int:
    """Make a new disclosure key for a store whose key is lost (never replaces one that is there)."""
    from geodata.methods import disclosure

    path = disclosure.key_path(cfg.store_path)
    if path.exists():
        raise ValueError(
            f"{path}: the store has its disclosure key; it is never replaced (docs/security-and-disclosure.md)"
        )
    if not args.yes:
        prompt = (
            "Every public council count will be drawn again and differ from what was published. Type yes to make "
            "a new key: "
        )
        if _stdin_line("new-disclosure-key", prompt).strip().lower() != "yes":
            print("no key was made", file=sys.stderr)
            return 1
    disclosure.store_key(cfg.store_path)
    print(f"made a new disclosure key: {path} (back it up with the store: docs/deployment.md)", file=sys.stderr)
    return 0


#: Streamlit settings of `serve`: XSRF protection and CORS protection on (no cross-origin access), the
#: smallest upload limit (the upload endpoint is closed anyway: dashboard/server.py), no tracebacks or
#: developer menu for viewers, no usage statistics, no file watcher, no banner (serve prints its own).
HARDENING = (
    "--server.enableStaticServing",
    "true",
    "--browser.gatherUsageStats",
    "false",
    "--client.showErrorDetails",
    "none",  # "false" still shows the stack trace (Streamlit: legacy false = "stacktrace")
    "--client.toolbarMode",
    "viewer",
    "--server.enableXsrfProtection",
    "true",
    "--server.enableCORS",
    "true",
    "--server.maxUploadSize",
    "1",
    "--server.fileWatcherType",
    "none",
    "--server.runOnSave",
    "false",
    "--logger.hideWelcomeMessage",
    "true",
)


#: The theme of `serve`: body text #111111, so Streamlit's faded text (captions, the sidebar's notes: 60% of
#: the text colour) is #6d6d6d, 4.8:1 on the sidebar's #f8f8f7 (WCAG AA 4.5:1; Streamlit's default #31333f
#: gave #7f7e7d, 3.81:1); links #051434, shown at a caption's 60% as #69728a, 4.8:1 on white (a caption's link,
#: the OpenStreetMap licence, was Streamlit's blue at 60%, #7c95d2: 2.96:1).
#: Headings h1 to h6: the page's title at Streamlit's size, its sections (h2, under the title as axe-core's
#: heading-order asks) at the size Streamlit gives h3 (2.25rem made them nearly as large as the title).
THEME = (
    "--theme.textColor",
    "#111111",
    "--theme.linkColor",
    "#051434",
    "--theme.headingFontSizes",
    '["2.75rem", "1.75rem", "1.5rem", "1.25rem", "1rem", "0.875rem"]',
)

#: Streamlit's runtime settings of `serve`: no forced full garbage collection after every page run. Streamlit's
#: default (``runner.postScriptGC``) runs ``gc.collect(2)`` when each run ends, holding the interpreter lock for
#: 30-90 ms over the pandas and Arrow objects the caches hold, while every other session's run waits
#: (issue 23: 86 ms a run profiled with ten sessions at once). Python's own generational collection still runs.
RUNTIME = ("--runner.postScriptGC", "false")


def _cmd_users(args, cfg) -> int:
    from dashboard import accounts

    if cfg.accounts_file is None:
        raise ValueError(f"{cfg.path}: no [access] section names an accounts file")
    if args.action == "list":
        for name, user in sorted(accounts.read(cfg.accounts_file).items()):
            print(f"{name}\t{user['role']}\t{'password' if user.get('hash') else 'identity provider'}")
        return 0
    if args.action == "remove":
        accounts.remove(cfg.accounts_file, args.name)
        print(f"removed {args.name}")
        return 0
    password = None
    if not args.oidc:
        password = _stdin_line("--password-stdin") if args.password_stdin else _typed_password()
    accounts.add(cfg.accounts_file, args.name, args.role, password)
    print(f"{args.name}: {args.role}")
    return 0


def _cmd_actions(args, cfg) -> int:
    import getpass

    from geodata import priorities as priorities_mod
    from geodata.analysis import actions

    if args.action in ("annual", "grant") and args.out is None:
        raise ValueError(f"actions {args.action}: name the file to write with --out")
    out = None if args.out is None else _out_file("--out", args.out)  # before the store is opened
    store = open_store(cfg)
    if args.action == "import":
        if not args.file:
            raise ValueError("actions import: name the action plan CSV")
        known = actions.known(store, priorities_mod.load(cfg.priorities_file or priorities_mod.DEFAULT_PRIORITIES))
        report, changed = actions.import_plan(store, args.file, args.by or getpass.getuser(), known)
        print(
            f"{args.file}: {report.rows_read} rows read, {report.rows_loaded} loaded ({changed} actions new or "
            f"changed), {len(report.rejected)} rejected"
        )
        for r in report.rejected:
            print(f"  rejected {r.file}, line {r.line}, field {r.field!r}: {r.reason}")
        return 0
    if args.action in ("annual", "grant"):
        assert out is not None
        return _actions_report(args, cfg, store, out)
    now = actions.current(store, partner=True)
    if args.action == "export":
        text = actions.export_plan(now)
        if args.file is not None:
            _out_file("FILE", args.file).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    today = date.today()
    for c in now:
        a = c.action
        flag = "  REVIEW OVERDUE" if c.overdue(today) else ""
        print(f"{a.id}\t{a.priority}\t{a.status}\treview {a.review}\t{a.owner}\t{a.what}{flag}")
    return 0


def _actions_report(args, cfg, store, out: Path) -> int:
    import calendar

    from dashboard.render import reports
    from geodata import priorities as priorities_mod
    from loaders.months import Period

    plist = priorities_mod.load(cfg.priorities_file or priorities_mod.DEFAULT_PRIORITIES)
    if args.action == "annual":
        report = reports.annual(store, plist, args.end, partner=not args.public_only)
    else:
        if not (args.start and args.end):
            raise ValueError("actions grant: give the half year with --from YYYY-MM --to YYYY-MM")
        half = Period(args.start, args.end)
        year, month = map(int, half.end.split("-"))
        last = date(year, month, calendar.monthrange(year, month)[1])
        report = reports.grant(store, plist, date.fromisoformat(f"{half.start}-01"), last, not args.public_only)
    out.write_bytes(reports.render(report, args.format))
    print(f"wrote {out} ({report.title})")
    return 0


def _listen(args, cfg) -> tuple[str, frozenset[str] | None]:
    """The address ``serve`` listens on and the Host names it accepts (``None``: any), said on stdout.

    Local mode (no ``[access]``: whoever reaches the server is an admin) listens on 127.0.0.1 only,
    unless ``--unsafe-listen-all``; with ``[access]`` the default is every interface. Host names: the
    config's ``[access] hosts`` and ``--host``, loopback names always (:mod:`dashboard.server`).
    """
    import ipaddress

    for option, given in (("--address", [args.address] if args.address is not None else []), ("--host", args.host)):
        if any(not text.strip() for text in given):
            raise ValueError(f"{option} is empty: name {'an IP address' if option == '--address' else 'a host'}")
    names = frozenset(cfg.access_hosts) | {h.strip().lower() for h in args.host}
    if args.unsafe_listen_all:
        print(
            "csp-hotspots: UNSAFE: listening on every network interface"
            + (
                ""
                if cfg.accounts_file
                else " in local mode (no [access] section): anyone who can reach this "
                "machine is an admin and can download records, refresh and see the patrol planner"
            )
            + (
                ""
                if names
                else "; any Host header is accepted, so a web page can reach the server through DNS rebinding"
            )
            + "."
        )
        return "0.0.0.0", names or None
    address = args.address or ("127.0.0.1" if cfg.accounts_file is None else "0.0.0.0")
    try:
        loopback = address == "localhost" or ipaddress.ip_address(address).is_loopback
    except ValueError:
        raise ValueError(f"--address {address!r} is not an IP address") from None
    if cfg.accounts_file is None and not loopback:
        raise ValueError(
            f"{cfg.path}: local mode (no [access] section) serves on loopback only; add an [access] "
            "section (partner sign-in) to listen on the network, or --unsafe-listen-all"
        )
    if cfg.accounts_file is None:
        print(
            f"csp-hotspots: local mode (no [access] section in {cfg.path}): listening on {address} only, "
            f"http://{'localhost' if loopback else address}:{args.port}; this machine's users are admins."
        )
    else:
        print(
            f"csp-hotspots: listening on {address}:{args.port}; accepted host names: "
            + ", ".join(sorted(names | {"localhost", "127.0.0.1", "::1"}))
            + ("" if names else ' (add `hosts = ["name"]` to [access] for the name partners use)')
        )
    return address, names


def _cmd_serve(args, cfg) -> int:
    app = Path(__file__).resolve().parent / "app.py"
    address, hosts = _listen(args, cfg)
    if not cfg.store_path.exists():  # an existing store is checked once the server listens (dashboard.server)
        open_store(cfg)  # built on first run, before the browser waits
    from dashboard import server

    server.main(
        [
            "run",
            str(app),
            "--server.port",
            str(args.port),
            "--server.address",
            address,
            "--server.headless",
            "true",
            *HARDENING,
            *THEME,
            *RUNTIME,
            "--",
            "--config",
            str(cfg.path),
        ],
        hosts=hosts,
        basemap_file=cfg.map_basemap,
        streets_file=cfg.map_streets,
    )
    return 0  # the server runs in this process until stopped (signals reach it; no child is left)


def _port(text: str) -> int:
    """A TCP port for ``serve --port`` (1 to 65535), else argparse's one-line usage error."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port from 1 to 65535, got {text!r}")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the tests and for --help)."""
    # --config is accepted before or after the command; the sub-parsers' copy must not
    # overwrite a value given before the command with its default, hence SUPPRESS there.
    parser = argparse.ArgumentParser(
        prog="csp-hotspots", description="Community Safety Partnership hotspot dashboard and tools."
    )
    parser.add_argument(
        "--config",
        default=str(config_mod.DEFAULT_CONFIG),
        help="area config TOML (default: bundled St Albans, wards since May 2022)",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="area config TOML")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", parents=[common], help="load data into the store")
    loading = argparse.ArgumentParser(add_help=False)
    loading.add_argument(
        "--replace-smaller",
        action="store_true",
        help="replace a stored month (DEFRA: year) even when the new load has fewer than half "
        "its rows (refused by default: a truncated download)",
    )
    ingest_sub = ingest.add_subparsers(dest="source", required=True)
    police = ingest_sub.add_parser(
        "police",
        parents=[common, loading],
        help="a data.police.uk download (zip, folder or CSVs): street and outcomes "
        "files are loaded, other files listed as skipped with the reason",
    )
    police.add_argument("paths", nargs="+", metavar="PATH")
    police.set_defaults(func=_cmd_ingest)
    fms = ingest_sub.add_parser(
        "fixmystreet", parents=[common, loading], help="FixMyStreet reports per LSOA and month (CSV)"
    )
    fms.add_argument("file", metavar="FILE")
    fms.set_defaults(func=_cmd_ingest_fixmystreet)
    defra = ingest_sub.add_parser(
        "defra", parents=[common, loading], help="DEFRA fly-tipping LA table (incidents or actions, CSV)"
    )
    defra.add_argument("file", metavar="FILE")
    defra.set_defaults(func=_cmd_ingest_defra)
    for kind, what in (("flytipping", "council fly-tipping records"), ("incidents", "council incident log")):
        council = ingest_sub.add_parser(
            kind, parents=[common, loading], help=f"{what} (CSV or XLSX) with a mapping file"
        )
        council.add_argument("file", metavar="FILE")
        council.add_argument(
            "--mapping", required=True, metavar="MAP.toml", help="the export's mapping file (see loaders/council.py)"
        )
        council.set_defaults(func=_cmd_ingest_council)

    synth = sub.add_parser(
        "synth", parents=[common], help="write SYNTHETIC council exports (two fly-tipping shapes, an incident log)"
    )
    synth.add_argument("--out", required=True, metavar="DIR")
    synth.add_argument("--from", dest="start", default="2021-01", metavar="YYYY-MM")
    synth.add_argument("--to", dest="end", default="2022-01", metavar="YYYY-MM")
    synth.set_defaults(func=_cmd_synth)

    summary = sub.add_parser("summary", parents=[common], help="incident counts per ward")
    summary.add_argument("--by", choices=["ward"], default="ward")
    summary.add_argument(
        "--source",
        choices=["police.uk", "police.uk-stops", "fixmystreet", "council-flytipping", "council-incidents", "defra"],
        default="police.uk",
        help="data source (default police.uk)",
    )
    summary.add_argument("--from", dest="start", metavar="YYYY-MM")
    summary.add_argument("--to", dest="end", metavar="YYYY-MM")
    summary.add_argument(
        "--category", action="append", metavar="NAME", help="category (police.uk crime type, ...); repeat for several"
    )
    summary.add_argument("--format", choices=["table", "csv"], default="table")
    summary.set_defaults(func=_cmd_summary)

    hot = sub.add_parser("hotspots", parents=[common], help="Getis-Ord Gi* hot and cold spots on a grid")
    hot.add_argument("--from", dest="start", metavar="YYYY-MM")
    hot.add_argument("--to", dest="end", metavar="YYYY-MM")
    hot.add_argument("--category", action="append", metavar="NAME")
    hot.add_argument("--cell", type=float, metavar="METRES", help="cell size (default: automatic)")
    hot.add_argument("--grid", choices=["square", "hex"], default="square")
    hot.add_argument("--format", choices=["table", "csv", "geojson"], default="table")
    hot.add_argument("--out", metavar="FILE.gpkg", help="also write a GeoPackage for GIS")
    hot.set_defaults(func=_cmd_hotspots)

    report = sub.add_parser(
        "report",
        parents=[common],
        help="the meeting pack (PDF or printable HTML)",
        description="Without --from/--to: each priority's target window ending at the latest "
        "loaded month, against the months before. With them: that period "
        "against the same months a year earlier.",
    )
    report.add_argument("--from", dest="start", metavar="YYYY-MM")
    report.add_argument("--to", dest="end", metavar="YYYY-MM")
    report.add_argument("--out", required=True, metavar="FILE")
    report.add_argument("--format", choices=["pdf", "html"], default="pdf")
    report.add_argument("--priorities", metavar="FILE", help="priorities TOML (default: the config's)")
    report.set_defaults(func=_cmd_report)

    refresh = sub.add_parser(
        "refresh", parents=[common, loading], help="load the months data.police.uk has published that the store lacks"
    )
    refresh.add_argument("--force", help="data.police.uk force id (default: the config's [police] force)")
    refresh.add_argument("--from", dest="start", metavar="YYYY-MM", help="no month before this one")
    refresh.add_argument(
        "--republished", action="store_true", help="also reload months loaded before the API's last update"
    )
    refresh.add_argument(
        "--stops",
        action="store_true",
        help="also load stop and search records (kept as their own source, police.uk-stops)",
    )
    refresh.add_argument(
        "--outcomes", action="store_true", help="also give stored crimes the later outcomes outcomes-at-location lists"
    )
    refresh.add_argument("--api", default="https://data.police.uk/api", metavar="URL", help=argparse.SUPPRESS)
    refresh.add_argument("--cache", metavar="DIR", help="answer cache (default: api-cache beside the store)")
    refresh.set_defaults(func=_cmd_refresh)

    init = sub.add_parser(
        "init",
        help="write a partner config in DIR: the bundled area's files used in place, a store and partner accounts",
        description="Writes DIR/csp.toml (never replacing one) and an empty accounts file: the bundled "
        "St Albans area (--area), or another district's boundaries (--wards, --lsoas and their fields).",
    )
    init.add_argument("dir", metavar="DIR")
    init.add_argument("--area", choices=list(config_mod.AREAS), help="a bundled area (default st-albans)")
    init.add_argument("--name", metavar="NAME", help="another district's name, shown in the app")
    init.add_argument("--wards", metavar="FILE", help="another district's ward boundaries (GeoJSON, GPKG, SHP)")
    init.add_argument("--ward-code", metavar="FIELD", help="the wards' code field (e.g. WD22CD)")
    init.add_argument("--ward-name", metavar="FIELD", help="the wards' name field (e.g. WD22NM)")
    init.add_argument("--lsoas", metavar="FILE", help="another district's LSOA boundaries")
    init.add_argument("--lsoa-code", default="LSOA11CD", metavar="FIELD", help="default LSOA11CD")
    init.add_argument("--lsoa-name", default="LSOA11NM", metavar="FIELD", help="default LSOA11NM")
    init.add_argument("--force", metavar="ID", help="another district's data.police.uk force id (e.g. hertfordshire)")
    init.add_argument("--host", action="append", default=[], metavar="NAME", help="a host name partners use; repeat")
    init.set_defaults(func=_cmd_init, needs_config=False)

    months = sub.add_parser(
        "months",
        parents=[common],
        help="list the loaded months of each source, or remove one (e.g. a bad month an older version loaded)",
    )
    months.add_argument("action", choices=["list", "remove"])
    months.add_argument("--source", metavar="SOURCE", help="source as `months list` names it (police.uk, ...)")
    months.add_argument("--month", metavar="YYYY-MM", help="the month to remove")
    months.add_argument("--dataset", metavar="NAME", help="only this dataset (force), default every one")
    months.add_argument("--yes", action="store_true", help="remove without asking (for scripts)")
    months.set_defaults(func=_cmd_months)

    newkey = sub.add_parser(
        "new-disclosure-key",
        parents=[common],
        help="make a new disclosure key when the store's is lost and no backup has it (every public council "
        "count changes)",
    )
    newkey.add_argument("--yes", action="store_true", help="without asking (for scripts)")
    newkey.set_defaults(func=_cmd_new_disclosure_key)

    wards = sub.add_parser("wards", parents=[common], help="list the configured wards")
    wards.set_defaults(func=_cmd_wards)

    users = sub.add_parser("users", parents=[common], help="partner accounts (the config's [access] accounts file)")
    users.add_argument("action", choices=["add", "remove", "list"])
    users.add_argument("name", nargs="?", metavar="NAME", help="user name (or e-mail for --oidc)")
    users.add_argument("--role", choices=["viewer", "analyst", "admin"], default="viewer")
    users.add_argument("--oidc", action="store_true", help="an identity-provider account (no password)")
    users.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    users.set_defaults(func=_cmd_users)

    acts = sub.add_parser(
        "actions",
        parents=[common],
        help="the partnership's action plan: import or export its CSV, list the actions, the annual report to "
        "councillors and the grant spend report (docs/actions.md)",
    )
    acts.add_argument("action", choices=["import", "export", "list", "annual", "grant"])
    acts.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="import: the CSV to read; export: the CSV to write (default: standard output)",
    )
    acts.add_argument("--by", metavar="NAME", help="import: who the changes are recorded as (default: your user name)")
    acts.add_argument("--from", dest="start", metavar="YYYY-MM", help="grant: the first month of the half year")
    acts.add_argument(
        "--to",
        dest="end",
        metavar="YYYY-MM",
        help="annual: the year's last month (default: the latest loaded); grant: the half year's last month",
    )
    acts.add_argument("--out", metavar="FILE", help="annual, grant: the report to write")
    acts.add_argument("--format", choices=["pdf", "html"], default="pdf", help="annual, grant: PDF or printable HTML")
    acts.add_argument("--public-only", action="store_true", help="annual, grant: only the actions marked public")
    acts.set_defaults(func=_cmd_actions)

    serve = sub.add_parser("serve", parents=[common], help="start the dashboard")
    serve.add_argument("--port", type=_port, default=8501, help="TCP port, 1 to 65535 (default 8501)")
    serve.add_argument(
        "--address",
        metavar="IP",
        help="address to listen on (default: 127.0.0.1 without [access], else every interface)",
    )
    serve.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the server is reached by, besides the config's [access] hosts; repeat",
    )
    serve.add_argument(
        "--unsafe-listen-all",
        action="store_true",
        help="listen on every interface even in local mode (everyone who reaches it is an admin)",
    )
    serve.set_defaults(func=_cmd_serve)
    _no_abbreviations(parser)
    return parser


def _no_abbreviations(parser: argparse.ArgumentParser) -> None:
    """Turn off argparse's prefix matching in ``parser`` and every sub-command: ``--unsafe`` was taken as
    ``--unsafe-listen-all``; an option is now given whole or refused."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _no_abbreviations(sub)


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's input, printed as one line: :class:`loaders.errors.InputError` (every
    loader's, the store's, the config's), a bad option value, and a file that cannot be read or written
    (``--out`` in a missing folder, a folder given as a file; pyogrio's, once loaded, for a GeoPackage)."""
    errors: list[type[Exception]] = [InputError, ValueError, OSError]
    if "pyogrio.errors" in sys.modules:
        errors.append(sys.modules["pyogrio.errors"].DataSourceError)
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csp-hotspots`` console command."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = lambda message, *rest: print(f"csp-hotspots: warning: {message}", file=sys.stderr)
    try:
        if not getattr(args, "needs_config", True):
            return args.func(args)
        if not args.config.strip():
            raise ValueError("--config is empty: name the area config TOML, or leave it out for the bundled area")
        cfg = config_mod.load(args.config)
        return args.func(args, cfg)
    except BrokenPipeError:  # output piped into e.g. head, which stopped reading
        sys.stderr.close()
        return 0
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        if getattr(args, "paths", None):
            _end_line()  # a progress line was being redrawn
        print(f"csp-hotspots: error: {exc}", file=sys.stderr)
        return 2


def console() -> None:
    """The ``csp-hotspots`` console command: :func:`main` with files created for their owner only."""
    import os

    os.umask(0o077)  # the store, its WAL, staging files, caches and outputs: readable by their owner only
    sys.exit(main())


if __name__ == "__main__":
    console()
