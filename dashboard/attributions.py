"""Licence attributions of every bundled source, shown in the app and printed in the pack."""

#: The short line under a map or in a file handed out that is drawn from police.uk crime and the ONS wards (their
#: attributions in full: :data:`ATTRIBUTIONS`); a drawn base map adds OpenStreetMap's own.
SOURCES_CREDIT = (
    "Crime: data.police.uk. Wards: ONS; contains OS data © Crown copyright and database right 2024. "
    "Open Government Licence v3.0."
)

#: (what, attribution text), in the order shown.
ATTRIBUTIONS = (
    (
        "police.uk street-level crime",
        "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk).",
    ),
    (
        "Ward and LSOA boundaries",
        "Contains National Statistics data © Crown copyright and database right. "
        "Contains OS data © Crown copyright and database right. UK-GeoJSON by "
        "Martin Chorley, CC-BY 4.0. Wards since 2022 (20 m, and the district outline "
        "made as their union): Source: Office for National Statistics licensed under the "
        "Open Government Licence v.3.0. Contains OS data © Crown copyright and database "
        "right 2024.",
    ),
    (
        "FixMyStreet reports by LSOA and month",
        "FixMyStreet data by mySociety, ODC-By (Open Data Commons Attribution License 1.0).",
    ),
    (
        "DEFRA fly-tipping statistics (ENV24)",
        "Source: Department for Environment, Food & Rural Affairs, "
        "fly-tipping incidents and actions reported by local authorities "
        "(WasteDataFlow). Contains public sector information licensed under "
        "the Open Government Licence v3.0 (the copy obtained states no "
        "licence; DEFRA releases statistics under OGL).",
    ),
    (
        "Population (ONS mid-year estimates by LSOA)",
        "Contains public sector information licensed under the Open Government Licence v3.0.",
    ),
    (
        "Base map: roads, railways, water, built-up areas, places (OpenStreetMap, 2021)",
        "© OpenStreetMap contributors, under the Open Database License 1.0 "
        "(https://www.openstreetmap.org/copyright); the bundled extract stays under the ODbL. "
        "Schema: © OpenMapTiles.",
    ),
    ("Map software", "Leaflet (BSD-2-Clause), Leaflet.markercluster (MIT), served by this app."),
)
