"""The one TOML checker: the area config (``csp.toml``), the priorities file and council mapping files are
read and checked through :class:`TomlFile`, so every problem reads the same way, one line naming the file,
the line the key is set on, the key and the problem::

    priorities.toml, line 12: priority.measure.source: must be one of ...

A file that cannot be read, is not UTF-8 or is not valid TOML (the parser names the line) is the same
one-line error, of the class the file's reader gives (each a :class:`loaders.errors.InputError`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import NoReturn

from loaders.errors import InputError
from loaders.report import not_regular

#: Bytes a TOML file may have (10 MB; the bundled ones are under 10 kB): a larger one is refused unread.
MAX_BYTES = 10_000_000


class TomlFile:
    """A TOML file, read and parsed (``raw``), whose checks fail through :meth:`fail` as ``error``.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.toml")
    >>> _ = open(path, "w").write('[area]\\nname = ""\\n')
    >>> TomlFile(path, InputError).text(TomlFile(path, InputError).raw["area"], "area.name")
    Traceback (most recent call last):
    ...
    loaders.errors.InputError: .../x.toml, line 2: area.name: must be a non-empty text, got ''
    """

    def __init__(self, path: str | Path, error: type[InputError], what: str = "file"):
        if not str(path).strip():
            raise error(f"no {what} given (an empty path)")
        self.file, self.error = Path(path), error
        if reason := not_regular(self.file):  # a FIFO would wait for ever, /dev/zero never end
            raise error(f"{self.file}: {what} is {reason}")
        try:
            with self.file.open("rb") as fh:
                data = fh.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise error(f"{self.file}: over {MAX_BYTES // 1_000_000} MB, too large for a {what}")
            text = data.decode("utf-8")
        except FileNotFoundError:
            raise error(f"{self.file}: {what} not found") from None
        except OSError as exc:
            raise error(f"{self.file}: cannot read {what} ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise error(f"{self.file}: not UTF-8 text") from None
        try:
            self.raw: dict = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise error(f"{self.file}: not valid TOML ({exc})") from None
        except RecursionError:  # tomllib parses nested arrays and tables recursively
            raise error(f"{self.file}: not a {what} (arrays or tables nested too deep)") from None
        self.lines = text.splitlines()

    def line_of(self, key: str, start: int = 0, end: int | None = None) -> int | None:
        """The 1-based line where dotted ``key`` ('table.name' or 'name') is set, looked for in lines
        ``start``..``end`` (0-based; default the whole file) and within its table when it names one; the
        table's header line when the key itself is not written; None when neither is found."""
        end = len(self.lines) if end is None else end
        *tables, name = key.split(".")
        if tables:
            header = re.compile(rf"^\s*\[+\s*{re.escape('.'.join(tables))}\s*\]+")
            found = next((i for i in range(start, end) if header.match(self.lines[i])), None)
            if found is not None:
                start = found + 1
                end = next((i for i in range(start, end) if self.lines[i].lstrip().startswith("[")), end)
        pattern = re.compile(rf'^\s*["\']?{re.escape(name)}["\']?\s*=')
        hit = next((i for i in range(start, end) if pattern.match(self.lines[i])), None)
        if hit is not None:
            return hit + 1
        return start if tables and start else None

    def fail(self, key: str, problem: str, line: int | None = None) -> NoReturn:
        """Raise the file's error: '<file>, line <n>: <key>: <problem>' (the line when it is known)."""
        line = line or self.line_of(key)
        raise self.error(f"{self.file}{f', line {line}' if line else ''}: {key}: {problem}")

    def text(self, table: dict, key: str, default: str | None = None) -> str:
        """``table``'s value of the last part of dotted ``key``: a non-empty text, stripped; ``default`` when
        it is not set (required when there is no default)."""
        value = self.optional(table, key)
        if value is None:
            if default is None:
                self.fail(key, "is required")
            return default
        return value

    def optional(self, table: dict, key: str) -> str | None:
        """As :meth:`text`, but None when it is not set."""
        value = table.get(key.split(".")[-1])
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty text, got {value!r}")
        return value.strip()

    def strings(self, table: dict, key: str, what: str = "texts") -> list[str]:
        """``table``'s list of non-empty texts at the last part of ``key`` (empty when not set)."""
        values = table.get(key.split(".")[-1], [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            self.fail(key, f"must be a list of {what}")
        return [v.strip() for v in values]

    def unknown(self, table: dict, known, prefix: str = "") -> None:
        """Fail on the first key of ``table`` not in ``known`` (named with ``prefix``)."""
        for k in sorted(set(table) - set(known)):
            self.fail(f"{prefix}{k}", f"unknown key (known: {', '.join(sorted(known))})")
