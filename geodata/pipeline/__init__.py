"""Getting data into the store: ingest a source, build the bundled store, refresh from the police.uk API,
and the synthetic council exports (always marked) used where no real point-level records are public."""
