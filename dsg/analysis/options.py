"""The choices analysis commands offer, importable without the engine (for ``--help``)."""

SORTS = ("order", "difference", "pct")
METHODS = ("shapley", "sequential")
MEASURES = ("aef", "rsg")
TARGETS = ("floor-cost", "min-pct", "council-aef", "on-floor")
