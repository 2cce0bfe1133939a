"""The dashboard's pages, one module each: its ``page()`` is registered by ``dashboard/app.py`` (``st.Page``);
a module may also have ``warm(params)``, which fills the caches of its first view outside any session (the
server's warm-up, :mod:`dashboard.server`, when the first visitor's browser asks for that page)."""

from __future__ import annotations

from typing import NamedTuple


class PageInfo(NamedTuple):
    """A page: its module in this package, its title, its URL path (``""``: the default page, at ``/``)
    and the audience that may see it (:data:`dashboard.access.LEVELS`)."""

    module: str
    title: str
    url_path: str
    level: str


#: The pages, in the navigation's order.
PAGES = (
    PageInfo("meeting", "Meeting", "", "public"),
    PageInfo("explorer", "Map explorer", "explorer", "public"),
    PageInfo("trends", "Trends", "trends", "public"),
    PageInfo("patrol", "Patrol planner", "patrol", "analyst"),
    PageInfo("actions", "Actions", "actions", "viewer"),
    PageInfo("wards", "Wards", "wards", "public"),
    PageInfo("flytipping", "Fly-tipping", "flytipping", "public"),
    PageInfo("data", "Data & sources", "data", "public"),
)


def at(path: str) -> PageInfo | None:
    """The page at URL path ``path`` (``/``, ``/explorer``, ``/explorer/``), or None for any other path (the
    front end's files, the server's endpoints)."""
    name = path.strip("/")
    return next((p for p in PAGES if p.url_path == name), None)
