"""Text from data is shown as text (issue 24, medium 3): ``st.table`` and the pages' notes render Markdown,
so a ward named ``![x](http://host/...)`` made every visitor's browser fetch that address and links became
live. Every text cell, heading and note from data goes through :func:`dashboard.markdown.inert`."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import accounts
from dashboard.markdown import inert
from geodata.bundled import ST_ALBANS
from tests.conftest import REPO, open_page, write_config

PAYLOADS = [
    "![x](http://127.0.0.1:9/fetch.png)",
    "[click](https://evil.example/)",
    "www.evil.example",
    "a@evil.example",
]
#: Markdown that would fetch or link: an image or link, or a bare address GitHub-flavoured Markdown links.
LIVE = re.compile(r"\]\(|https?://|www\.|[\w.]+@[\w.]+", re.IGNORECASE)


def test_inert_leaves_no_markdown_link_image_or_bare_address():
    for text in PAYLOADS + ["<img src=x>", "A & B", "*em* _em_ `code` $x$ # h | c"]:
        shown = inert(text)
        bare = re.sub(r"&#?\w+;", "", shown)  # the character references Markdown shows as text
        assert not LIVE.search(shown) and not re.search(r"[<>\[\]`$*_#|]", bare), (text, shown)
    assert inert("St Peter's & St Paul") == "St Peter&#x27;s &amp; St Paul"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """A public site (an [access] section) whose wards are named with Markdown links and images."""
    folder = tmp_path_factory.mktemp("hostile")
    source = ST_ALBANS / "boundaries_2022/st_albans_wards_2022_bgc_wgs84.geojson"
    wards = json.loads(source.read_text())
    for feature, payload in zip(wards["features"], PAYLOADS):
        feature["properties"]["ward_name"] = f"Ward {payload}"
    (folder / "wards.geojson").write_text(json.dumps(wards))
    cfg = write_config(folder)
    text = cfg.read_text().replace(str(source), str(folder / "wards.geojson"))
    cfg.write_text(text.replace("[store]", f'[access]\naccounts = "{folder / "accounts.json"}"\n\n[store]'))
    accounts.add(folder / "accounts.json", "ana", "analyst", "correct horse battery")
    return cfg


def _texts(at) -> list[str]:
    """Every piece of text the page hands Streamlit's Markdown: titles, markdown, captions, alerts and
    the cells and headings of static tables."""
    out = [e.value for kind in ("title", "markdown", "caption", "info", "warning", "error") for e in getattr(at, kind)]
    for t in at.table:
        frame = t.value
        out += [str(c) for c in frame.columns] + [str(i) for i in frame.index]
        out += [v for v in frame.to_numpy().ravel() if isinstance(v, str)]
    return out


@pytest.mark.parametrize("page", ["wards", "explorer"])
def test_public_pages_show_ward_names_from_data_as_text(hostile_site, monkeypatch, page):
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(hostile_site))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180)
    open_page(at, page).run()
    assert not at.exception, at.exception
    assert at.table, "the public gets static tables"
    texts = _texts(at)
    shown = " ".join(texts)
    assert inert("Ward ![x](http://127.0.0.1:9/fetch.png)") in shown  # the name is there, as text
    # the app's own text is left out: the licences line (the ODbL asks for its address) and the static ward
    # map, one HTML block (Markdown reads nothing inside it; the renderer escapes every name it draws), its
    # drawing for a wide screen and for a phone
    from dashboard.attributions import ATTRIBUTIONS

    own = " ".join(f"{name}: {text}" for name, text in ATTRIBUTIONS)
    live = [t for t in texts if LIVE.search(t) and t != own and not t.startswith('<div class="csp-ward-map"><style>')]
    assert not live, live
