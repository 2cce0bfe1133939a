"""Renderers: the interactive map spec and its component, the static SVG maps and charts, the slides, the
meeting pack and the patrol sheet. Pages (:mod:`dashboard.views`) compose these; renderers compute nothing."""
