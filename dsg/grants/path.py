"""The multi-year path: a scenario's grant moves and later years, settled year by year.

It sits above the formula and calls it. One year at a time: the year's dehypothecations (those continuing from earlier years first,
then new ones in file order), then its consolidations, then the settlement. Between years,
each council's AEF becomes its next base; ``aef_total`` and the service totals grow; the
floor applies every year. Every figure of the report comes from :func:`run_path`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from dsg.errors import InputError, Problem, raise_if
from dsg.formula.dataset import Dataset, indicator_problems
from dsg.formula.names import find, suggestions
from dsg.formula.params import RANGES, changed_settlement, on_floor
from dsg.formula.scenario import Consolidation, Dehypothecation, Scenario, Year
from dsg.formula.settle import Allocation, Settler
from dsg.formula.spellings import council_code, indicator_spellings, service_spellings, unknown, unknown_council
from dsg.grants.moves import grant_amounts, key_shares, protected_allocation, transfer, with_grant_amounts

# --------------------------------------------------------------------------- the path


@dataclass
class PendingMove:
    """A dehypothecation still being phased in."""

    move: Dehypothecation
    per_year: np.ndarray
    token: int  # the grant it moves, as it was when the move started
    years_done: int = 0


@dataclass
class PendingMerge:
    """A consolidation still moving from the old allocation to the keyed one."""

    merge: Consolidation
    old: np.ndarray
    target: np.ndarray
    token: int  # the merged grant it created
    steps_done: int = 0


@dataclass
class GrantPath:
    """Everything a grant scenario did, year by year (long tables, in £)."""

    years: list[str] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    dehypothecation: list[dict] = field(default_factory=list)
    consolidation: list[dict] = field(default_factory=list)
    start: Allocation | None = None  # the dataset before the scenario, for hypothecation levels
    start_grants: dict[str, np.ndarray] = field(default_factory=dict)
    end_grants: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def final(self) -> Allocation:
        return self.allocations[-1]


# A later year's base is last year's AEF, which must stay in the base's plausible range.
BASE_FLOOR_POUNDS = RANGES["base"].low


class PathRunner:
    """Runs the years of a scenario, collecting every problem instead of stopping at one."""

    def __init__(self, dataset: Dataset, label: str, settler: Settler | None = None):
        self.settler = settler or Settler()
        self.dataset = dataset
        self.label = label
        self.amounts = grant_amounts(dataset)
        # A grant's identity: a name merged away and used again is another grant, which
        # transitions started on the old one must not touch.
        self.tokens = {grant: number for number, grant in enumerate(self.amounts)}
        self.next_token = len(self.tokens)
        self.where = ""  # "years[2]" while a later year runs, for messages
        self.moves: list[PendingMove] = []
        self.merges: list[PendingMerge] = []
        self.problems: list[Problem] = []
        self.path = GrantPath()

    # -- checks

    # -- names as the user typed them, spelt as the path knows them (dsg.formula.names)

    def grant_spellings(self) -> dict[str, tuple[str, ...]]:
        """The grants the path holds now (a merged grant too), by English and Welsh name."""
        return {grant: (grant, self.dataset.grant_name(grant, "cy")) for grant in self.amounts}

    def grant_named(self, grant: str) -> str:
        """``grant`` as the path spells it, or as written when it names none (then reported)."""
        return find(grant, self.grant_spellings()) or grant

    def service_named(self, service: str) -> str:
        return find(service, service_spellings(self.dataset)) or service

    def indicators_named(self, weights):
        """A table of indicator = weight with the dataset's spelling of each indicator."""
        if not isinstance(weights, dict):
            return weights
        return {find(k, indicator_spellings(self.dataset)) or k: w for k, w in weights.items()}

    # -- checks

    def known_grant(self, grant: str, key: str) -> bool:
        if grant in self.amounts:
            return True
        if not self.amounts:
            self.problems.append(Problem(self.label, "no_grants", key=key, params={"value": grant}))
            return False
        near = suggestions(grant, self.grant_spellings())
        if near:
            params = {"value": grant, "suggestions": " / ".join(near)}
            self.problems.append(Problem(self.label, "unknown_grant_suggest", key=key, params=params))
            return False
        self.problems.append(
            Problem(self.label, "unknown_grant", key=key, params={"value": grant, "allowed": ", ".join(self.amounts)})
        )
        return False

    def known_indicators(self, weights: dict[str, float], key: str) -> bool:
        known = set(self.dataset.indicators["indicator"].to_list())
        problems = [
            unknown(self.label, "indicator", k, indicator_spellings(self.dataset), f"{key}.{k}")
            for k in weights
            if k not in known
        ]
        problems += indicator_problems(
            self.dataset.indicators, self.dataset.councils, {k: (self.label, key) for k in weights if k in known}
        )
        self.problems += problems
        return not problems

    def settle(self, dataset: Dataset) -> Allocation | None:
        try:
            return self.settler.settle(dataset)
        except InputError as error:
            for problem in error.problems:
                key = problem.key
                if self.where:  # a later year's settlement: name the year's own key
                    inner = (key or "").removeprefix("settlement.")
                    key = f"{self.where}.{inner}" if inner and inner != key else f"{self.where}: {key}"
                self.report(replace(problem, key=key))
            return None

    def report(self, problem: Problem) -> None:
        """Record a problem once (a settlement that fails before and after a move fails once)."""
        seen = {(p.file, p.code, p.key) for p in self.problems}
        if (problem.file, problem.code, problem.key) not in seen:
            self.problems.append(problem)

    def alive(self, grant: str, token: int) -> bool:
        return self.tokens.get(grant) == token and grant in self.amounts

    def remove(self, grant: str) -> np.ndarray:
        self.tokens.pop(grant, None)
        return self.amounts.pop(grant)

    # -- one year

    def dehypothecate(self, pending: PendingMove, year: str) -> None:
        move = pending.move
        if not self.alive(move.grant, pending.token):  # merged away or already moved
            return
        remaining = self.amounts[move.grant]
        last = pending.years_done + 1 == move.transition_years
        amounts = remaining.copy() if last else np.minimum(pending.per_year, remaining)
        before = self.settle(self.dataset)
        moved = transfer(self.dataset, move, amounts)
        left = remaining - amounts
        if last or not left.any():
            self.remove(move.grant)
        else:
            self.amounts[move.grant] = left
        after = self.settle(moved)
        pending.years_done += 1
        self.dataset = moved
        if before is None or after is None:
            return
        gain = after.councils["aef"].to_numpy() - before.councils["aef"].to_numpy()
        for i, code in enumerate(self.dataset.council_codes):
            self.path.dehypothecation.append(
                {
                    "year": year,
                    "grant": move.grant,
                    "ons_code": code,
                    "grant_before": float(amounts[i]),
                    "aef_gain": float(gain[i]),
                    "net": float(gain[i] - amounts[i]),
                    "floor_protected": bool(on_floor(after.councils["floor_topup"][i])),
                }
            )

    def start_move(self, move: Dehypothecation, year: str) -> None:
        move = replace(
            move,
            grant=self.grant_named(move.grant),
            into_service=self.service_named(move.into_service),
            weights=self.indicators_named(move.weights),
        )
        ok = self.known_grant(move.grant, f"{move.key}.grant")
        if move.into_service in self.dataset.services["service"].to_list():
            if move.weights is not None and not move.weights_from_scenario:
                self.problems.append(
                    Problem(
                        self.label,
                        "weights_for_existing_service",
                        key=f"{move.key}.weights",
                        params={"value": move.into_service},
                    )
                )
                ok = False
        elif move.weights is None:
            self.problems.append(
                Problem(
                    self.label,
                    "new_service_needs_weights",
                    key=f"{move.key}.into_service",
                    params={"value": move.into_service},
                )
            )
            ok = False
        else:
            # Weights from the scenario's [weights] table are named as there, so that a problem
            # found by both checks is listed once.
            where = f'weights."{move.into_service}"' if move.weights_from_scenario else f"{move.key}.weights"
            ok = self.known_indicators(move.weights, where) and ok
        if not ok:
            return
        pending = PendingMove(move, self.amounts[move.grant] / move.transition_years, self.tokens[move.grant])
        self.dehypothecate(pending, year)
        if pending.years_done < move.transition_years and self.alive(move.grant, pending.token):
            self.moves.append(pending)

    def consolidate(self, pending: PendingMerge, year: str) -> None:
        merge = pending.merge
        pending.steps_done += 1
        if pending.steps_done > 1 and not self.alive(merge.into, pending.token):
            return  # the merged grant has left (moved into the settlement, or merged again)
        previous = pending.old if pending.steps_done == 1 else self.amounts[merge.into]
        fraction = pending.steps_done / merge.transition_years
        proposed = pending.old + fraction * (pending.target - pending.old)
        new, rate = protected_allocation(previous, proposed, merge.protection_percent)
        if rate > 1.0:
            self.report(
                Problem(
                    self.label,
                    "protection_not_fundable",
                    key=f"{merge.where}.protection_percent",
                    params={"rate": rate, "year": year},
                )
            )
            # The merged grant still exists (unprotected), so later moves of it do not add a
            # knock-on "unknown grant" to the one real problem.
            self.amounts[merge.into] = proposed
            return
        self.amounts[merge.into] = new
        for i, code in enumerate(self.dataset.council_codes):
            change = float(new[i] - previous[i])
            self.path.consolidation.append(
                {
                    "year": year,
                    "grant": merge.into,
                    "ons_code": code,
                    "old": float(previous[i]),
                    "new": float(new[i]),
                    "change": change,
                    "pct_change": 100.0 * change / previous[i] if previous[i] else None,
                }
            )

    def start_merge(self, merge: Consolidation, year: str) -> None:
        merge = replace(
            merge, grants=tuple(self.grant_named(g) for g in merge.grants), key=self.indicators_named(merge.key)
        )
        # Every grant is checked (no short-circuit), so that every unknown one is listed.
        known = [self.known_grant(grant, f"{merge.where}.grants") for grant in merge.grants]
        ok = all(known)
        if merge.into in self.amounts and merge.into not in merge.grants:
            self.problems.append(
                Problem(self.label, "grant_exists", key=f"{merge.where}.into", params={"value": merge.into})
            )
            ok = False
        if isinstance(merge.key, dict) and not self.known_indicators(merge.key, f"{merge.where}.key"):
            ok = False
        if not ok:
            return
        old = sum((self.remove(grant) for grant in merge.grants), np.zeros(len(self.dataset.council_codes)))
        total = (1 - merge.cut_percent / 100) * old.sum()
        if isinstance(merge.key, dict):  # otherwise "current", the only text key parsing allows
            shares = key_shares(self.dataset, merge.key)
        else:
            # Grants with nothing allocated merge into nothing.
            shares = old / old.sum() if old.sum() > 0 else np.zeros_like(old)
        self.tokens[merge.into] = self.next_token
        self.next_token += 1
        pending = PendingMerge(merge, old, total * shares, self.tokens[merge.into])
        self.consolidate(pending, year)
        if pending.steps_done < merge.transition_years:
            self.merges.append(pending)

    def run_year(self, year: str, moves, merges) -> None:
        for pending in list(self.moves):
            self.dehypothecate(pending, year)
            if pending.years_done >= pending.move.transition_years or not self.alive(pending.move.grant, pending.token):
                self.moves.remove(pending)
        for move in moves:
            self.start_move(move, year)
        for merging in list(self.merges):
            self.consolidate(merging, year)
            if merging.steps_done >= merging.merge.transition_years:
                self.merges.remove(merging)
        for merge in merges:
            self.start_merge(merge, year)
        self.dataset = with_grant_amounts(self.dataset, self.amounts)
        allocation = self.settle(self.dataset)
        if allocation is not None:
            self.path.years.append(year)
            self.path.allocations.append(allocation)

    # -- between years

    def roll_forward(self, year: Year) -> bool:
        """The next year's dataset: base = this year's AEF, totals grown, updates applied."""
        if not self.path.allocations:
            return False
        dataset = self.dataset
        growth = 1 + year.aef_growth_percent / 100
        changes = dict(year.settlement)
        if dataset.settlement.aef_total is not None:
            # Growth on last year's whole AEF, floor funding included: that is the base the
            # new year is compared with, so a Wales rise of g % is the like-for-like headline.
            changes["aef_total"] = float(self.path.final.councils["aef"].sum()) * growth
        else:
            band_d = dataset.settlement.notional_band_d
            assert band_d is not None  # a settlement has aef_total or notional_band_d
            changes["notional_band_d"] = band_d * growth
        for key, kind in (("aef_total", "money"), ("notional_band_d", "band_d")):
            # Said as what the growth did, not as if the percentage itself were too large.
            allowed = RANGES[kind]
            if key in changes and not allowed.low <= changes[key] <= allowed.high:
                grown = f"{changes.pop(key):.4g}"
                params = {
                    "percent": f"{year.aef_growth_percent:g}",
                    "what": key,
                    "value": grown,
                    "high": f"{allowed.high:g}",
                }
                self.problems.append(
                    Problem(self.label, "grown_out_of_range", key=f"{year.where}.aef_growth_percent", params=params)
                )
        # The year's parameters obey every rule of [settlement], named where they were written.
        where = {key: f"{year.where}.{key}" for key in (*year.settlement, "aef_total", "notional_band_d")}
        where["aef_total"] = where["notional_band_d"] = f"{year.where}.aef_growth_percent"
        settlement, found = changed_settlement(dataset.settlement, self.label, where, **changes)
        self.problems += found
        ssa_growth = 1 + (year.aef_growth_percent if year.ssa_growth_percent is None else year.ssa_growth_percent) / 100
        known_services = dataset.services["service"].to_list()
        for service in (*year.services, *year.refused_services):
            if self.service_named(service) not in known_services:
                at = f'{year.where}.services."{service}"'
                self.problems.append(unknown(self.label, "service", service, service_spellings(dataset), at))
        totals = {self.service_named(service): total for service, total in year.services.items()}
        services = dataset.services.with_columns((pl.col("total") * ssa_growth).alias("total")).with_columns(
            pl.col("service").replace_strict(totals, default=pl.col("total"), return_dtype=pl.Float64).alias("total")
        )
        indicators = dataset.indicators
        codes = set(dataset.council_codes)
        known_indicators = set(indicators["indicator"].to_list())
        updates: dict[str, dict] = {}
        for written, values in year.indicators.items():
            indicator = find(written, indicator_spellings(dataset)) or written
            if indicator not in known_indicators:
                at = f"{year.where}.indicators.{written}"
                self.problems.append(unknown(self.label, "indicator", written, indicator_spellings(dataset), at))
                continue
            updates[indicator] = values
            for named, value in values.items():
                # A council by ONS code, English or Welsh name or short form.
                code = council_code(dataset, named) or named
                if code not in codes:
                    at = f"{year.where}.indicators.{written}.{named}"
                    self.problems.append(unknown_council(dataset, named, self.label, key=at))
                elif value is not None:
                    indicators = indicators.with_columns(
                        pl.when((pl.col("indicator") == indicator) & (pl.col("ons_code") == code))
                        .then(pl.lit(float(value)))
                        .otherwise(pl.col("value"))
                        .alias("value")
                    )
        if year.indicators:
            # Updated values must still give every used indicator a positive Wales total.
            used = [
                *dataset.weights["indicator"].to_list(),
                dataset.settlement.ndr_indicator,
                dataset.settlement.taxbase_indicator,
            ]
            updated = {k: (self.label, f"{year.where}.indicators.{k}") for k in dict.fromkeys(used) if k in updates}
            found = indicator_problems(indicators, dataset.councils, updated)
            self.problems += found
            if found:
                return False
        if settlement is None:
            return False
        aef = self.path.final.councils["aef"].to_numpy()
        if (aef < BASE_FLOOR_POUNDS).any():
            # Last year's AEF is this year's base: below £1 no % change means anything.
            shrunk = ", ".join(code for code, value in zip(dataset.council_codes, aef) if value < BASE_FLOOR_POUNDS)
            self.report(
                Problem(self.label, "base_vanishes", key=f"{year.where}.year", params={"councils": shrunk[:200]})
            )
            return False
        base = dataset.base.with_columns(pl.Series("base_aef", aef))
        self.dataset = dataset.with_changes(
            year=year.year,
            settlement=settlement,
            services=services,
            indicators=indicators,
            base=base,
        )
        return True


def run_path(changed: Dataset, scenario: Scenario, settler: Settler | None = None) -> GrantPath:
    """Run a scenario's grant moves and years on ``changed`` (the dataset with the scenario's
    settlement, services and weights applied). ``settler`` settles each distinct year and
    counterfactual once.

    Raises :class:`InputError` listing every problem of every year.
    """
    runner = PathRunner(changed, scenario.source, settler)
    seen = {changed.year}
    for year in scenario.years:
        if year.year in seen:
            runner.report(
                Problem(scenario.source, "year_repeated", key=f"{year.where}.year", params={"value": year.year})
            )
        seen.add(year.year)
    runner.path.start_grants = grant_amounts(changed)  # the scenario's formula parts move no grant
    runner.run_year(changed.year, scenario.dehypothecate, scenario.consolidate)
    for year in scenario.years:
        runner.where = year.where
        if runner.roll_forward(year):
            runner.run_year(year.year, year.dehypothecate, year.consolidate)
    raise_if(runner.problems)
    runner.path.end_grants = dict(runner.amounts)
    return runner.path
