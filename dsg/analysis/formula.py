"""The formula as it stands: services, their totals, and each one's indicators and weights
(``dsg formula``), and the same as a scenario file that reproduces it (``dsg scenario new``)."""

from __future__ import annotations

import polars as pl

from dsg.formula.dataset import Dataset
from dsg.i18n import indicator_label, status_label


def column_or_blank(frame: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column).fill_null("") if column in frame.columns else pl.lit("")


def services_view(dataset: Dataset, lang: str) -> pl.DataFrame:
    """One row per service: its names, Wales total, status and how many indicators it uses."""
    counts = dataset.weights.group_by("service").agg(pl.len().alias("indicators"))
    frame = dataset.services.join(counts, on="service", how="left", maintain_order="left")
    return frame.select(
        "service",
        pl.col("name_cy").fill_null(pl.col("service")).alias("service_cy"),
        "total",
        column_or_blank(dataset.services, "status")
        .map_elements(lambda s: status_label(s, lang), return_dtype=pl.String)
        .alias("status"),
        pl.col("indicators").fill_null(0).cast(pl.Int64),
    )


def indicator_status(dataset: Dataset) -> dict[str, str]:
    """Each indicator's status in indicators.csv (the first council's row says it)."""
    if "status" not in dataset.indicators.columns:
        return {}
    first = dataset.indicators.group_by("indicator", maintain_order=True).agg(pl.first("status"))
    return {name: status or "" for name, status in first.iter_rows()}


def formula_view(dataset: Dataset, lang: str, service: str | None = None) -> pl.DataFrame:
    """One row per service and indicator: the weight, the £ it shares (weight x service
    total), the indicator's labels in English and Welsh, and the status of the weight and of
    the indicator's data. ``service`` keeps one service (its name as the dataset has it)."""
    weights = dataset.weights if service is None else dataset.weights.filter(pl.col("service") == service)
    totals = dict(dataset.services.select("service", "total").iter_rows())
    data_status = indicator_status(dataset)
    weight_status = column_or_blank(dataset.weights, "status")
    frame = weights.with_columns(weight_status.alias("weight_status")).select(
        "service", "indicator", "weight", "weight_status"
    )
    return frame.with_columns(
        pl.col("service").replace_strict(totals, return_dtype=pl.Float64).mul(pl.col("weight")).alias("pounds"),
        pl.col("indicator").map_elements(lambda i: indicator_label(i, "en"), return_dtype=pl.String).alias("label_en"),
        pl.col("indicator").map_elements(lambda i: indicator_label(i, "cy"), return_dtype=pl.String).alias("label_cy"),
        pl.col("weight_status").map_elements(lambda s: status_label(s, lang), return_dtype=pl.String),
        pl.col("indicator")
        .map_elements(lambda i: status_label(data_status.get(i, ""), lang), return_dtype=pl.String)
        .alias("data_status"),
    )
