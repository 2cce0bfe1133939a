"""What an admin starts from a page and the pipeline does: the refresh from data.police.uk (the same path as
``csp-hotspots refresh``). Pages call this module, never the pipeline or the loaders themselves."""

from __future__ import annotations

import os
from collections.abc import Callable


def refresh(
    store, force: str, republished: bool, stops: bool, progress: Callable[[str, int, int], None]
) -> tuple[bool, str]:
    """Fetch the months of ``force`` the store lacks (:func:`geodata.pipeline.refresh.refresh_police`, the
    API at ``$CSP_HOTSPOTS_POLICE_API`` or data.police.uk, its answers cached beside the store): (True, the
    load's summary), or (False, the one-line reason it stopped)."""
    from geodata.pipeline.refresh import refresh_police
    from geodata.store import StoreError
    from loaders.policeapi import BASE_URL, Client
    from loaders.report import LoadError

    client = Client(os.environ.get("CSP_HOTSPOTS_POLICE_API", BASE_URL), cache_dir=store.path.parent / "api-cache")
    try:
        report = refresh_police(store, client, force, republished=republished, stops=stops, progress=progress)
    except (LoadError, StoreError) as exc:
        return False, str(exc)
    return True, report.summary()
