"""The one base class of the errors that are the user's input, at the bottom of the house.

A bad file, row, field, config key, mapping, boundary layer, priorities file, account or store raises a
subclass of :class:`InputError` whose ``str()`` is one line naming the file (and the row, key or field)
and the reason. The command line prints that line and exits with status 2 (no traceback); any other
exception is a fault and keeps its traceback.
"""

from __future__ import annotations


class InputError(Exception):
    """An input the user can correct; ``str()`` is one line naming where and why."""
