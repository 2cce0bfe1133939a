"""The 13 Hertfordshire police.uk months (2021-01..2022-01, 108,465 street rows) the county benchmarks read:
``--county`` names a folder of data.police.uk month folders or a tar.xz of them; the default is the archive
the tests ship (``tests/data/county``), so a clone runs every benchmark with nothing beside it."""

from __future__ import annotations

import argparse
import atexit
import shutil
import tarfile
import tempfile
from pathlib import Path

ARCHIVE = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "county" / "hertfordshire-street-2021-01-2022-01.tar.xz"
)


def add_argument(parser: argparse.ArgumentParser) -> None:
    """``--county PATH`` (default :data:`ARCHIVE`)."""
    parser.add_argument(
        "--county",
        default=str(ARCHIVE),
        metavar="PATH",
        help="county police.uk months: a folder of month folders, or a tar.xz of them (default: the tests' archive)",
    )


def folder(source: str | Path) -> Path:
    """The month folders of ``source``: the folder itself, or an archive unpacked into a temporary folder
    (removed when the benchmark exits)."""
    source = Path(source)
    if source.is_dir():
        return source
    tmp = tempfile.mkdtemp(prefix="csp-county-")
    atexit.register(shutil.rmtree, tmp, True)
    with tarfile.open(source) as tar:
        tar.extractall(tmp, filter="data")
    return Path(tmp)
