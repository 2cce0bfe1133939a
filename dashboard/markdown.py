"""Text from a config, a priorities file, an identity provider or data, made inert for Streamlit's Markdown."""

from __future__ import annotations

import html

#: Markdown characters that could start a link, an image, maths or an escape, as HTML character references.
_INERT = {"[": "&#91;", "]": "&#93;", "\\": "&#92;", "$": "&#36;", "`": "&#96;"}


def inert(text: str) -> str:
    """Text from a config, priorities file or data, safe to put in Markdown (``st.markdown``, captions,
    titles, metric labels) or in HTML given to ``st.markdown``: HTML escaped, and the characters of
    Markdown links and images (``![x](https://...)`` would make every visitor's browser fetch the
    address), maths and escapes written as character references, which Markdown shows as text."""
    return "".join(_INERT.get(ch, ch) for ch in html.escape(str(text)))
