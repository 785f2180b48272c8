"""A scenario file that holds a dataset's formula as it stands (``dsg scenario new``): every
settlement parameter, service total and weight, commented, so that a user edits what they want
to change and the rest reproduces the dataset exactly."""

from __future__ import annotations

from pathlib import Path

import tomlkit

from dsg.errors import Problem, raise_if
from dsg.formula.dataset import Dataset
from dsg.i18n import indicator_label, name_of, status_label
from dsg.output.files import output_path_problems, writing

SCENARIO_FORMATS = (".toml",)


def scenario_path_problems(path: str | Path, inputs=()) -> list[Problem]:
    from dsg.output.files import overwrite_problems

    return output_path_problems(path, SCENARIO_FORMATS) + overwrite_problems([path], inputs)


def scenario_text(dataset: Dataset, lang: str) -> str:
    """The TOML text: comments in ``lang``, numbers written so that they read back the same."""
    doc = tomlkit.document()
    for line in name_of("words", "scenario_new_header", lang, dataset=dataset.name).splitlines():
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    doc["name"] = name_of("words", "scenario_new_name", lang, dataset=dataset.name)
    doc["description"] = name_of("words", "scenario_new_description", lang, title=dataset.title(lang))

    settlement = tomlkit.table()
    for key, value in dataset.settlement.as_dict().items():
        settlement[key] = value
        if key.endswith("_indicator"):
            settlement[key].comment(indicator_label(value, lang))
    doc["settlement"] = settlement

    services = tomlkit.table()
    services.add(tomlkit.comment(name_of("words", "scenario_new_services", lang)))
    names = {service: dataset.service_name(service, lang) for service in dataset.services["service"].to_list()}
    statuses = (
        dict(dataset.services.select("service", "status").iter_rows()) if "status" in dataset.services.columns else {}
    )
    for service, total in dataset.services.select("service", "total").iter_rows():
        services[service] = total
        note = ", ".join(
            part
            for part in (names[service] if names[service] != service else "", status_label(statuses.get(service), lang))
            if part
        )
        if note:
            services[service].comment(note)
    doc["services"] = services

    weights = tomlkit.table(is_super_table=True)
    has_status = "status" in dataset.weights.columns
    for (service,), group in dataset.weights.group_by("service", maintain_order=True):
        formula = tomlkit.table()
        for row in group.iter_rows(named=True):
            formula[row["indicator"]] = row["weight"]
            status = status_label(row.get("status"), lang) if has_status else ""
            label = indicator_label(row["indicator"], lang)
            note = ", ".join(part for part in (label if label != row["indicator"] else "", status) if part)
            if note:
                formula[row["indicator"]].comment(note)
        weights[service] = formula
    doc.add(tomlkit.nl())
    doc.add(tomlkit.comment(name_of("words", "scenario_new_weights", lang)))
    doc["weights"] = weights
    return tomlkit.dumps(doc)


def write_scenario(dataset: Dataset, path: str | Path, lang: str = "en", inputs=()) -> Path:
    """Write :func:`scenario_text` to ``path`` (a .toml file), atomically."""
    raise_if(scenario_path_problems(path, inputs))
    target = Path(path)
    text = scenario_text(dataset, lang)
    with writing(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return target
