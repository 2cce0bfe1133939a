"""Zip archives read safely: police.uk downloads (``.zip``) and council workbooks (``.xlsx`` is a zip).

Before anything is unpacked, every member's sizes are checked in the zip's
central directory (:func:`check_members`): a member over a size limit, or one
that unpacks more than :data:`MAX_RATIO` times its packed size (a decompression
bomb: 200 KB of workbook unpacked to 563 MB), refuses the whole file with one
line. Reading a member (:func:`read_member`) stops at the limit even when the
directory lies, and a damaged member (bad CRC-32 checksum, broken deflate
stream) is a :class:`~loaders.report.LoadError`, never a traceback.
"""

from __future__ import annotations

import zipfile
import zlib

from loaders.report import LoadError

#: Members that unpack to more than this many times their packed size are refused as zip bombs
#: (police.uk CSVs pack about 5-10 to 1, workbook sheets 5-20 to 1; a bomb of zeros about 1000 to 1).
MAX_RATIO = 100
#: Members smaller than this (unpacked) are never refused for their ratio: a tiny file may pack well.
RATIO_FROM_BYTES = 1_000_000
#: Errors of a damaged archive or member.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError)


def check_members(name: str, members: list[zipfile.ZipInfo], max_bytes: int) -> None:
    """Refuse (:class:`LoadError`) an archive holding a member of more than ``max_bytes`` unpacked,
    members of more than ``max_bytes`` together, or a member unpacking more than :data:`MAX_RATIO`
    times its packed size (once over :data:`RATIO_FROM_BYTES`), from the central directory's sizes."""
    for m in members:
        if m.file_size > max_bytes:
            raise LoadError(
                name, f"zip member {m.filename!r} unpacks to {m.file_size:,} bytes, over the {max_bytes:,} limit"
            )
        if m.file_size > RATIO_FROM_BYTES and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise LoadError(
                name,
                f"zip member {m.filename!r} unpacks {m.file_size // max(m.compress_size, 1):,} "
                f"times larger than packed (limit {MAX_RATIO}): refused as a zip bomb",
            )
    total = sum(m.file_size for m in members)
    if total > max_bytes:
        raise LoadError(name, f"zip members unpack to {total:,} bytes together, over the {max_bytes:,} limit")


def read_member(name: str, archive: zipfile.ZipFile, member: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """The unpacked bytes of ``member``; a :class:`LoadError` past ``max_bytes`` (the directory
    lied) or for a damaged member."""
    try:
        with archive.open(member) as fh:
            data = fh.read(max_bytes + 1)
    except DAMAGED as exc:
        raise LoadError(name, f"damaged zip member {member.filename!r} ({exc}); download it again") from None
    if len(data) > max_bytes:
        raise LoadError(name, f"zip member {member.filename!r} unpacks past the {max_bytes:,}-byte limit")
    return data
