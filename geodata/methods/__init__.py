"""The statistics: one method a module (Gi*, grids, change tests, run charts, Knox, kernel density, ...).

Each module takes plain arrays or GeoDataFrames and returns results; none reads the store or a config.
Arguments are checked through :mod:`geodata.methods.validate` (one style of message)."""
