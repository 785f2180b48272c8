"""What produced a file: the one provenance builder every export uses.

A table that leaves dsg carries the dataset (name, source, content hashes, licence), the
scenario (file, name, hash), the settlement parameters and the dsg version, so that a
figure in a circulated workbook can be traced and reproduced.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

SCENARIO_KEYS = ("scenario_file", "scenario_name", "scenario_sha256")


def dsg_version() -> str:
    try:
        return version("dsg")
    except PackageNotFoundError:
        return "unknown"


def provenance(dataset, *, scenario: bool = True, **extra) -> dict:
    """The dataset's provenance (and its scenario's, unless ``scenario=False``), the dsg
    version and any ``extra`` facts of the result (options, years, ...)."""
    source = dict(dataset.provenance)
    if not scenario:
        for key in SCENARIO_KEYS:
            source.pop(key, None)
    return {"dsg_version": dsg_version(), **source, **extra}


def settlement_facts(allocation) -> dict:
    """The parameters a settlement ran with and its Wales scalars."""
    return {
        "settlement": allocation.dataset.settlement.as_dict(),
        "notional_band_d": allocation.notional_band_d,
        "aef_total": allocation.aef_total,
        "floor_cost": allocation.floor_cost,
    }


def allocation_provenance(allocation, **extra) -> dict:
    return provenance(allocation.dataset, **settlement_facts(allocation), **extra)


def scenario_summary(allocation) -> dict:
    """One side of a comparison: its scenario file and hash, parameters and floor cost."""
    source = allocation.dataset.provenance
    return {
        "file": source.get("scenario_file", ""),
        "sha256": source.get("scenario_sha256", ""),
        "settlement": allocation.dataset.settlement.as_dict(),
        "floor_cost": allocation.floor_cost,
    }


def comparison_provenance(comparison) -> dict:
    baseline = {"label": comparison.baseline_label, **scenario_summary(comparison.baseline)}
    scenarios = {
        str(number): {"label": label, **scenario_summary(allocation)}
        for number, (label, allocation) in enumerate(zip(comparison.labels, comparison.scenarios), start=1)
    }
    return provenance(comparison.baseline.dataset, scenario=False, baseline=baseline, scenarios=scenarios)


def sweep_provenance(result) -> dict:
    """A sweep: the dataset (and scenario) and the weight that moved, from where to where."""
    return provenance(
        result.dataset,
        sweep={
            "service": result.service,
            "indicator": result.indicator,
            "from": float(result.values[0]),
            "to": float(result.values[-1]),
            "steps": len(result.values),
        },
    )


def montecarlo_provenance(result) -> dict:
    """A Monte Carlo run: the dataset (and scenario) and every option that shaped the draws."""
    return provenance(
        result.dataset,
        samples=result.samples,
        seed=result.seed,
        concentration=result.concentration,
        indicator_noise=result.indicator_noise,
    )


def path_provenance(allocations, years) -> dict:
    """Several years of a path: each year's parameters, as a later year may change them."""
    return provenance(allocations[0].dataset, years={y: settlement_facts(a) for y, a in zip(years, allocations)})


def fingerprint(record: dict) -> str:
    """A short hash of a provenance record (before its date is stamped): printed in the footer
    of every page of a workbook, so that a printed table can be matched with its inputs."""
    text = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def stamped(record: dict) -> dict:
    """Provenance with the time of writing (UTC), for the places that may carry a date."""
    return {**record, "written": datetime.now(UTC).isoformat(timespec="seconds")}


def flatten(record: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested provenance as (dotted key, text) rows, for a two-column sheet."""
    rows = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flatten(value, f"{name}.")
        else:
            rows.append((name, str(value)))
    return rows
