"""Text from a config, a priorities file, an identity provider or data, made inert for Streamlit's Markdown."""

from __future__ import annotations

import html
import re

#: Markdown characters that could start a link, an image, maths, an escape, emphasis, a heading or a table
#: cell, as HTML character references (Markdown shows a character reference as the character, as text).
_INERT = {
    "[": "&#91;",
    "]": "&#93;",
    "\\": "&#92;",
    "$": "&#36;",
    "`": "&#96;",
    "*": "&#42;",
    "_": "&#95;",
    "~": "&#126;",
    "#": "&#35;",
    "|": "&#124;",
    "@": "\u2060&#64;",
}
#: GitHub-flavoured Markdown (and ``st.table``'s cells, which link after references are read) turns a bare
#: ``https://...``, ``www.example.org`` or ``name@example.org`` into a live link: an invisible WORD JOINER
#: (U+2060) is put inside ``://``, after ``www`` and before ``@``, so no such address is recognised.
_BARE_LINK = re.compile(r"(www)\.|:(?=//)", re.IGNORECASE)


def inert(text: str) -> str:
    """Text from a config, priorities file or data, safe to put in Markdown (``st.markdown``, captions,
    titles, metric labels, alerts, the cells of ``st.table``) or in HTML given to ``st.markdown``: HTML
    escaped, and the characters of Markdown links and images (``![x](https://...)`` would make every
    visitor's browser fetch the address), maths, escapes, emphasis and headings written as character
    references, which Markdown shows as text; bare links (``http://...``, ``www.``, e-mail addresses)
    broken by an invisible word joiner (:data:`_BARE_LINK`)."""
    escaped = "".join(_INERT.get(ch) or html.escape(ch) for ch in str(text))
    return _BARE_LINK.sub(lambda m: f"{m.group(1)}\u2060&#46;" if m.group(1) else "&#58;\u2060", escaped)
