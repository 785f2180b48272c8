"""Build the embedded default dataset ``wales-2025-26`` from the curated reference data.

Run from the repository root, pointing at the reference-data folder::

    python -m tools.build_dataset --source PATH/TO/reference/data

It rewrites ``dsg/data/wales-2025-26/`` completely; the result is committed, and the
package never reads the reference folder at run time. Running it twice gives the same
bytes. Every choice that is not a published figure is marked ``illustrative`` beside the
value, with the reason.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
from pathlib import Path

import polars as pl

NAME = "wales-2025-26"

# Indicators that add up over councils, so that a council's share of the Wales total
# means something. Percentages and densities in the reference data are left out: sharing
# money by them would be an error a user could make without noticing.
ADDITIVE_INDICATORS = (
    "population",
    "land_area_km2",
    "lsoa_count",
    "lsoas_most_deprived_10pct",
    "lsoas_most_deprived_20pct",
    "lsoas_most_deprived_30pct",
    "lsoas_most_deprived_50pct",
    "ct_band_d_equivalents",
    "ct_dwellings_total",
    "ct_chargeable_dwellings_band_A",
    "ndr_gross_rates_payable",
    "ndr_contribution_to_pool",
)

# The 2024-25 Wales totals (S07, £ thousand) the services are built from.
SSA_YEAR = "2024-25"

# (service, Welsh name, where its total comes from)
SERVICES = (
    ("School Services", "Gwasanaethau Ysgolion", "Education > School Services"),
    ("Other Education", "Addysg Arall", "Education > Other Education"),
    ("Personal Social Services", "Gwasanaethau Cymdeithasol Personol", "Personal Social Services"),
    ("Other services", "Gwasanaethau eraill", None),
)

# (service, indicator, weight, status, reason)
WEIGHTS = (
    (
        "School Services",
        "population",
        0.80,
        "illustrative",
        "pupil numbers per council are not in the reference data; population stands in for them",
    ),
    (
        "School Services",
        "lsoas_most_deprived_20pct",
        0.15,
        "illustrative",
        "stands in for the free-school-meal indicators, which are not in the reference data",
    ),
    (
        "School Services",
        "land_area_km2",
        0.05,
        "illustrative",
        "stands in for the sparsity indicators, which are not in the reference data",
    ),
    (
        "Other Education",
        "population",
        0.80,
        "illustrative",
        "the published formula is not in the reference data; population as the main driver",
    ),
    (
        "Other Education",
        "lsoas_most_deprived_20pct",
        0.20,
        "illustrative",
        "deprivation term standing in for the unpublished needs indicators",
    ),
    (
        "Personal Social Services",
        "population",
        0.60,
        "illustrative",
        "older-people and adult counts are not in the reference data; population stands in",
    ),
    (
        "Personal Social Services",
        "lsoas_most_deprived_20pct",
        0.25,
        "illustrative",
        "the published children's formula is mostly deprivation (0.699 children in out-of-work families, S08/S09)",
    ),
    (
        "Personal Social Services",
        "lsoas_most_deprived_50pct",
        0.15,
        "illustrative",
        "broader deprivation, standing in for social-rented and overcrowded housing terms",
    ),
    (
        "Other services",
        "population",
        1.00,
        "published",
        "published Other services IBA: 1.000 x population, all ages (S09)",
    ),
)

# Specific grants with a published Wales total (specific_grants.csv), in the latest year the
# reference data has; (grant, Welsh name, purpose, purpose in Welsh, key, key reason).
# No per-council allocation is in the reference data, so every split is illustrative.
GRANTS = (
    (
        "Housing Support Grant",
        "Grant Cymorth Tai",
        "Preventing homelessness and helping people keep their homes and live independently",
        "Atal digartrefedd a helpu pobl i gadw eu cartrefi a byw'n annibynnol",
        {"population": 0.5, "lsoas_most_deprived_20pct": 0.5},
        "the allocation formula is not in the reference data; population and deprivation stand in",
    ),
    (
        "Social Care Workforce Grant",
        "Grant y Gweithlu Gofal Cymdeithasol",
        "Pay and sustainability of the social care workforce",
        "Cyflog a chynaliadwyedd y gweithlu gofal cymdeithasol",
        {"population": 0.6, "lsoas_most_deprived_20pct": 0.25, "lsoas_most_deprived_50pct": 0.15},
        "shared like the default Personal Social Services formula; the grant's own key is not in the reference data",
    ),
    (
        "LAEG School Standards",
        "Grant Addysg yr Awdurdodau Lleol: Safonau Ysgolion",
        "Local Authority Education Grant strand for school standards and nursery provision",
        "Llinyn o'r Grant Addysg i Awdurdodau Lleol ar gyfer safonau ysgolion a darpariaeth feithrin",
        {"population": 0.80, "lsoas_most_deprived_20pct": 0.15, "land_area_km2": 0.05},
        "set school by school by a national formula (S097); shared like the default School Services formula",
    ),
    (
        "LAEG Equity",
        "Grant Addysg yr Awdurdodau Lleol: Tegwch",
        "Local Authority Education Grant strand for equity, including the Pupil Development Grant",
        "Llinyn o'r Grant Addysg i Awdurdodau Lleol ar gyfer tegwch, gan gynnwys y Grant Datblygu Disgyblion",
        {"lsoas_most_deprived_20pct": 0.7, "population": 0.3},
        "mostly per pupil eligible for free school meals (S096), which the reference data lacks; deprivation stands in",
    ),
    (
        "LAEG Reform",
        "Grant Addysg yr Awdurdodau Lleol: Diwygio",
        "Local Authority Education Grant strand for curriculum, professional learning and additional learning needs",
        "Llinyn o'r Grant Addysg i Awdurdodau Lleol ar gyfer y cwricwlwm, dysgu proffesiynol ac anghenion dysgu ychwanegol",
        {"population": 1.0},
        "the allocation formula is not in the reference data; population stands in",
    ),
    (
        "LAEG Cymraeg 2050",
        "Grant Addysg yr Awdurdodau Lleol: Cymraeg 2050",
        "Local Authority Education Grant strand for Welsh-medium education",
        "Llinyn o'r Grant Addysg i Awdurdodau Lleol ar gyfer addysg cyfrwng Cymraeg",
        {"population": 1.0},
        "Welsh-medium pupil numbers are not in the reference data; population stands in",
    ),
    (
        "Bus Network Grant",
        "Grant Rhwydwaith Bysiau",
        "Keeping local bus networks running on the way to franchising",
        "Cynnal rhwydweithiau bysiau lleol ar y ffordd i fasnachfreinio",
        {"population": 0.7, "land_area_km2": 0.3},
        "the allocation formula is not in the reference data; population and area stand in",
    ),
    (
        "Bus Services Support Grant",
        "Grant Cymorth Gwasanaethau Bysiau",
        "Supporting local bus and community transport services",
        "Cefnogi gwasanaethau bysiau lleol a thrafnidiaeth gymunedol",
        {"population": 0.75, "land_area_km2": 0.25},
        "known to be shared by population and rural or urban characteristics (S112); these weights are illustrative",
    ),
)

SETTLEMENT = {
    "aef_total": 6130842000,
    "ndr_pool": 1100000000,
    "ndr_indicator": "population",
    "taxbase_indicator": "ct_band_d_equivalents",
    "floor_percent": 2.8,
    "floor_funding": "external",
}

SOURCES = {
    "S07": "https://statswales.gov.wales/Catalogue/Local-Government/Finance/Settlement/SSA-Breakdown/analysisofindicatorbasedassessmentsibas-wales",
    "S08": "https://statswales.test.gov.wales/Catalogue/Local-Government/Finance/Settlement/SSA-Breakdown/analysisofindicatorbasedassessmentsibas-wales",
    "S09": "https://statswales.gov.wales/Catalogue/Local-Government/Finance/Settlement/SSA-Breakdown/analysisofindicatorbasedassessmentsibas-by-authority",
    "S049": "https://deeside.com/flintshire-faces-third-lowest-funding-settlement-as-councils-brace-for-financial-challenges",
    "S084": "https://gov.wales/written-statement-provisional-local-government-settlement-2025-26",
    "S085": "https://media.service.gov.wales/news/gbp-6-1bn-to-deliver-key-services-across-wales",
    "S091": "https://matthew.theyworkforyou.dev.mysociety.org/senedd/?id=2023-03-14.3.491952&s=speaker%3A26247",
    "S096": "https://record.senedd.wales/WrittenQuestion/77125",
    "S097": "https://record.senedd.wales/WrittenQuestion/90369",
    "S102": "https://www.gov.wales/written-statement-additional-funding-local-government-2024-25",
    "S105": "https://matthew.theyworkforyou.dev.mysociety.org/senedd/?id=2020-01-08.1.253024",
    "S106": "https://www.busandcoachbuyer.com/new-welsh-grant-to-give-greater-public-control-of-buses/",
    "S112": "http://government-world.com/bus-grants-to-keep-wales-moving/?print=print",
}

DATASET_TOML = '''\
# The default dataset of dsg: the Welsh local government settlement 2025-26 (provisional),
# rebuilt from public figures. Built by `python -m tools.build_dataset`; do not edit by hand.
name = "{name}"
year = "2025-26"
title_en = "Welsh local government revenue settlement 2025-26 (provisional), reconstructed"
title_cy = "Setliad refeniw llywodraeth leol Cymru 2025-26 (dros dro), wedi'i ail-greu"
description = """\\
Services are the published 2024-25 Wales IBA totals (S07); weights are published where the
formula is public (Other services) and illustrative elsewhere (see weights.csv, column reason);
base is the published 2024-25 AEF adjusted and aef_total the published 2025-26 provisional
total (S049, S084). fixed.csv holds a calibration residual per council, standing for the
parts of the official formula that are not public, so that the default reproduces the
published 2025-26 provisional AEF of every council (published_2025-26_provisional.csv)."""
licence = "Contains public sector information licensed under the Open Government Licence v3.0."

[settlement]
aef_total = {aef_total}            # published 2025-26 provisional AEF, sum of the 22 councils (S049)
ndr_pool = {ndr_pool}             # illustrative: the 2025-26 distributable pool is not in the reference data
ndr_indicator = "{ndr_indicator}"       # illustrative: the published method shares NDR by residents aged 18+, which the reference data lacks
taxbase_indicator = "{taxbase_indicator}"   # derived Band D equivalents, 2026-27 estimate (see indicators.csv)
floor_percent = {floor_percent}             # published provisional floor (S085)
floor_funding = "{floor_funding}"      # Welsh Government has paid for the floor on top since 2016-17
population_indicator = "population"     # the denominator of every per-head figure

[provenance]
built_by = "python -m tools.build_dataset"
reference_sha256 = "{reference_sha256}"
services_year = "{ssa_year}"
notional_band_d = "{band_d:.6f}"   # (Total SSA - aef_total) / Wales Band D equivalents: the residual's calibration
residual_total = "{residual_total:.2f}"   # sum of fixed.csv = Total SSA - Current SSA (S07)
excluded_indicators = "{excluded}"
# Settlement parameters that are illustrative (dsg marks every figure resting on them).
illustrative = ["ndr_pool", "ndr_indicator"]

[provenance.sources]
{sources}
'''


def money(value: float) -> str:
    """Pounds with pennies, without a trailing .00 for whole pounds."""
    text = f"{value:.2f}"
    return text[:-3] if text.endswith(".00") else text


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path, line_terminator="\n")


def reference_hash(source: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(source.glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build(source: Path, target: Path) -> None:
    # Imported here so that `--help` works before the package data exists.
    from dsg.formula.dataset import load_dataset
    from dsg.formula.settle import settle

    councils = pl.read_csv(source / "councils.csv", infer_schema=False).sort(pl.col("order").cast(pl.Int64))
    indicators = pl.read_csv(source / "indicators.csv", infer_schema=False)
    ssa = pl.read_csv(source / "wales_ssa_by_service.csv", infer_schema=False).filter(pl.col("year") == SSA_YEAR)
    published = pl.read_csv(source / "settlement_2025-26_provisional.csv", infer_schema=False)
    ssa_thousand = {service: float(value) for service, value in ssa.select("service", "value").iter_rows()}

    def pounds(service: str) -> float:
        return round(ssa_thousand[service] * 1000, 2)

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / NAME
        work.mkdir()
        write_csv(councils.select("ons_code", "name_en", "name_cy"), work / "councils.csv")
        kept = indicators.filter(pl.col("indicator").is_in(ADDITIVE_INDICATORS)).with_columns(
            # The tax base is an estimate derived from dwelling counts, standing in for the
            # official Band D equivalents: every figure that rests on it says so.
            pl.when(pl.col("indicator") == SETTLEMENT["taxbase_indicator"])
            .then(pl.lit("illustrative"))
            .otherwise(pl.col("status"))
            .alias("status")
        )
        write_csv(
            kept.select("ons_code", "indicator", "value", "unit", "year", "status", "source"), work / "indicators.csv"
        )

        named = [pounds(name) for _, _, name in SERVICES if name]
        rest = pounds("Current SSA") - sum(named)
        totals = [*named, rest]
        write_csv(
            pl.DataFrame(
                {
                    "service": [s for s, _, _ in SERVICES],
                    "total": [money(t) for t in totals],
                    "name_cy": [c for _, c, _ in SERVICES],
                    "status": ["published", "published", "published", "illustrative"],
                    "source": [
                        *(f"S07, {SSA_YEAR}: {name}" for _, _, name in SERVICES if name),
                        f"S07, {SSA_YEAR}: Current SSA minus Education and Personal Social Services (the named blocks are not published)",
                    ],
                }
            ),
            work / "services.csv",
        )
        write_csv(
            pl.DataFrame(
                [(s, k, f"{w:.2f}", st, r) for s, k, w, st, r in WEIGHTS],
                schema=["service", "indicator", "weight", "status", "reason"],
                orient="row",
            ),
            work / "weights.csv",
        )
        by_code = {row["ons_code"]: row for row in published.iter_rows(named=True)}
        codes = councils["ons_code"].to_list()
        write_csv(
            pl.DataFrame(
                {
                    "ons_code": codes,
                    "base_aef": [str(int(by_code[c]["base_aef_prev_year_adjusted"]) * 1000) for c in codes],
                    "source": ["S049: 2024-25 AEF adjusted for transfers, £ thousand x 1000"] * len(codes),
                }
            ),
            work / "base.csv",
        )
        write_csv(
            published.rename({"base_aef_prev_year_adjusted": "base_aef"}).with_columns(
                pl.col(c).cast(pl.Int64) * 1000 for c in ("base_aef", "aef", "change")
            ),
            work / "published_2025-26_provisional.csv",
        )

        # Calibration: with no fixed element, settle once to get each council's SSA from
        # the indicators. The residual is what each council's SSA must gain so that its
        # formula AEF equals its published AEF at the notional Band D that makes SSA add
        # up to the published Total SSA.
        band_d_equivalents = kept.filter(pl.col("indicator") == SETTLEMENT["taxbase_indicator"])
        taxbase = dict(zip(band_d_equivalents["ons_code"].to_list(), map(float, band_d_equivalents["value"].to_list())))
        band_d = (pounds("Total SSA") - SETTLEMENT["aef_total"]) / sum(taxbase.values())
        write_toml(work, band_d, 0.0, source)
        uncalibrated = settle(load_dataset(work)).councils
        residual = [
            round(int(by_code[code]["aef"]) * 1000 + band_d * taxbase[code] - ssa_without, 2)
            for code, ssa_without in uncalibrated.select("ons_code", "ssa").iter_rows()
        ]
        write_csv(
            pl.DataFrame(
                {
                    "ons_code": codes,
                    "amount": [money(r) for r in residual],
                    # The status tells `dsg data import-ibas` not to carry the residual into a
                    # dataset whose IBA lines are the official ones.
                    "status": ["calibration residual"] * len(codes),
                    "note": ["the part of the official SSA that public data cannot rebuild"] * len(codes),
                }
            ),
            work / "fixed.csv",
        )
        write_grants(work, source, kept, codes)
        write_toml(work, band_d, sum(residual), source)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(work, target)


def latest_grant_totals(source: Path) -> dict[str, tuple[str, float, str]]:
    """Each grant's latest published Wales total in £: grant -> (year, total, source id)."""
    table = pl.read_csv(source / "specific_grants.csv", infer_schema=False).filter(
        (pl.col("scope") == "Wales") & (pl.col("unit") == "GBP") & ~pl.col("year").str.contains("draft")
    )
    latest: dict[str, tuple[str, float, str]] = {}
    for grant, year, value, source_id in table.select("grant", "year", "value", "source_id").iter_rows():
        try:
            amount = float(value)
        except ValueError:
            continue
        if grant not in latest or year > latest[grant][0]:
            latest[grant] = (year, amount, source_id)
    return latest


def write_grants(directory: Path, source: Path, indicators: pl.DataFrame, codes: list[str]) -> None:
    """grants.csv (SPEC §2) and grant_catalogue.csv: each grant split by its key, in pence
    that add up to the published total."""
    from dsg.output.rounding import largest_remainder

    totals = latest_grant_totals(source)
    values = {
        (code, indicator): float(value)
        for code, indicator, value in indicators.select("ons_code", "indicator", "value").iter_rows()
    }
    rows, catalogue = [], []
    for grant, name_cy, purpose_en, purpose_cy, key, reason in GRANTS:
        year, total, source_id = totals[grant]
        shares = [0.0] * len(codes)
        for indicator, weight in key.items():
            column = [values[(code, indicator)] for code in codes]
            shares = [s + weight * v / sum(column) for s, v in zip(shares, column)]
        pence = largest_remainder([total * 100 * share for share in shares])
        rows += [
            (grant, code, money(p / 100), "illustrative", f"{source_id} Wales total {year}, split by key")
            for code, p in zip(codes, pence)
        ]
        catalogue.append(
            (
                grant,
                name_cy,
                purpose_en,
                purpose_cy,
                year,
                money(total),
                source_id,
                "; ".join(f"{k}={w:g}" for k, w in key.items()),
                "illustrative",
                reason,
            )
        )
    write_csv(
        pl.DataFrame(rows, schema=["grant", "ons_code", "amount", "status", "source"], orient="row"),
        directory / "grants.csv",
    )
    write_csv(
        pl.DataFrame(
            catalogue,
            schema=[
                "grant",
                "name_cy",
                "purpose_en",
                "purpose_cy",
                "year",
                "total",
                "source",
                "key",
                "key_status",
                "key_reason",
            ],
            orient="row",
        ),
        directory / "grant_catalogue.csv",
    )


def write_toml(directory: Path, band_d: float, residual_total: float, source: Path) -> None:
    text = DATASET_TOML.format(
        name=NAME,
        **SETTLEMENT,
        reference_sha256=reference_hash(source),
        ssa_year=SSA_YEAR,
        band_d=band_d,
        residual_total=residual_total,
        excluded="percentages and densities: ct_dwellings_share_band_*, lsoa_share_most_deprived_*, population_density",
        sources="\n".join(f'{key} = "{url}"' for key, url in SOURCES.items()),
    )
    (directory / "dataset.toml").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder holding the curated reference CSV files")
    parser.add_argument(
        "--target",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "dsg" / "data" / NAME,
        help="dataset directory to (re)write",
    )
    arguments = parser.parse_args(argv)
    build(arguments.source, arguments.target)
    print(f"wrote {arguments.target}")


if __name__ == "__main__":
    main()
