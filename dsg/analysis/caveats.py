"""What rests on illustrative inputs: the one place that reads a dataset's status columns and
says so, for every output (screen, workbook, report, chart).

The dataset decides: a service total, a weight or an indicator is illustrative when its row's
``status`` says "illustrative"; a settlement parameter when ``[provenance] illustrative`` names
it; the fixed element is a calibration residual when ``fixed.csv``'s status says so; a grant's
allocation when its catalogue ``key_status`` says "illustrative". Nothing here is hard-coded
to the default dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dsg.formula.dataset import CALIBRATION_RESIDUAL, ILLUSTRATIVE, Dataset, has_status
from dsg.i18n import indicator_label, name_of

# The mark set beside a figure that rests on an illustrative input.
MARK = "†"


@dataclass(frozen=True)
class Caveats:
    totals: tuple[str, ...] = ()  # services whose Wales total is illustrative
    formulas: tuple[str, ...] = ()  # services with an illustrative weight
    indicators: tuple[str, ...] = ()  # indicators in use whose data are illustrative
    settlement: tuple[str, ...] = ()  # [settlement] keys
    residual: bool = False  # SSA includes a calibration residual
    grant_keys: tuple[str, ...] = ()  # grants shared by an illustrative key

    def __bool__(self) -> bool:
        return any((self.totals, self.formulas, self.indicators, self.settlement, self.residual, self.grant_keys))


def flagged(frame: pl.DataFrame | None, column: str, status: str = "status") -> list[str]:
    """The distinct values of ``column`` on the illustrative rows of ``frame``, in order."""
    rows = has_status(frame, ILLUSTRATIVE, status)
    if frame is None or rows is None:
        return []
    return frame.filter(rows)[column].unique(maintain_order=True).to_list()


def caveats(dataset: Dataset, grants: bool = False) -> Caveats:
    """What in ``dataset`` is illustrative; ``grants`` adds the grants' keys (for grant outputs)."""
    used = set(dataset.weights["indicator"].to_list()) | set(dataset.settlement.indicators().values())
    settlement = dataset.provenance.get("illustrative", [])
    set_keys = dataset.settlement.as_dict()
    residual_rows = has_status(dataset.fixed, CALIBRATION_RESIDUAL)
    residual = residual_rows is not None and bool(residual_rows.any())
    return Caveats(
        totals=tuple(flagged(dataset.services, "service")),
        formulas=tuple(flagged(dataset.weights, "service")),
        indicators=tuple(k for k in flagged(dataset.indicators, "indicator") if k in used),
        settlement=tuple(k for k in settlement if k in set_keys) if isinstance(settlement, list) else (),
        residual=residual,
        grant_keys=tuple(flagged(dataset.grant_catalogue, "grant", "key_status")) if grants else (),
    )


def caveat_lines(dataset: Dataset, lang: str, grants: bool = False) -> list[str]:
    """One line per kind of illustrative input, each starting with the mark."""
    found = caveats(dataset, grants)
    lines = []
    if found.formulas:
        names = ", ".join(dataset.service_name(s, lang) for s in found.formulas)
        lines.append(name_of("words", "caveat_formulas", lang, services=names))
    if found.totals:
        names = ", ".join(dataset.service_name(s, lang) for s in found.totals)
        lines.append(name_of("words", "caveat_totals", lang, services=names))
    if found.indicators:
        names = ", ".join(indicator_label(k, lang) for k in found.indicators)
        lines.append(name_of("words", "caveat_indicators", lang, indicators=names))
    if found.settlement:
        names = ", ".join(name_of("words", f"setting_{k}", lang) for k in found.settlement)
        lines.append(name_of("words", "caveat_settlement", lang, settings=names))
    if found.residual:
        lines.append(name_of("words", "caveat_residual", lang))
    if found.grant_keys:
        names = ", ".join(dataset.grant_name(g, lang) for g in found.grant_keys)
        lines.append(name_of("words", "caveat_grant_keys", lang, grants=names))
    return [f"{MARK} {line}" for line in lines]


def caveat_summary(dataset: Dataset, lang: str, grants: bool = False) -> str:
    """The caveats in one line (for a chart's caption or a sheet's context line); empty when
    nothing is illustrative."""
    lines = [line.removeprefix(f"{MARK} ") for line in caveat_lines(dataset, lang, grants)]
    return f"{MARK} " + "; ".join(lines) if lines else ""
