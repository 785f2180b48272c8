"""dsg: a simulator of the Welsh local government revenue settlement.

The few calls a notebook needs::

    import dsg
    allocation = dsg.run_settlement(scenario="floor-3.5.toml")
    allocation.table("cy")                 # the SPEC §4 table as a polars DataFrame
    dsg.write_allocation(allocation, "allocation.xlsx")

    result = dsg.run(scenario="grants.toml")   # every year of a path: result.allocations
    comparison = dsg.compare(["deprivation.toml"])

Names are loaded on first use, so ``import dsg`` (and ``dsg --help``) stays quick.
"""

from __future__ import annotations

from importlib import import_module

# Not ``from typing import TYPE_CHECKING``: importing typing is the slowest part of starting
# the dsg program before its Ctrl-C handler is in place (see dsg.start); type checkers treat
# this name the same way.
TYPE_CHECKING = False

# name -> module that defines it
_EXPORTS = {
    "Allocation": "dsg.formula.settle",
    "Dataset": "dsg.formula.dataset",
    "InputError": "dsg.errors",
    "Problem": "dsg.errors",
    "Scenario": "dsg.formula.scenario",
    "Run": "dsg.pipeline",
    "apply_scenario": "dsg.formula.apply",
    "check_dataset": "dsg.pipeline",
    "compare": "dsg.pipeline",
    "explain_change": "dsg.pipeline",
    "export_dataset": "dsg.pipeline",
    "grant_report": "dsg.pipeline",
    "import_ibas": "dsg.pipeline",
    "new_scenario": "dsg.pipeline",
    "load_dataset": "dsg.formula.dataset",
    "load_scenario": "dsg.formula.scenario",
    "run": "dsg.pipeline",
    "run_settlement": "dsg.pipeline",
    "settle": "dsg.formula.settle",
    "write_allocation": "dsg.output.export",
    "write_comparison": "dsg.output.export",
}

__all__ = [
    "Allocation",
    "Dataset",
    "InputError",
    "Problem",
    "Run",
    "Scenario",
    "apply_scenario",
    "check_dataset",
    "compare",
    "explain_change",
    "export_dataset",
    "grant_report",
    "import_ibas",
    "load_dataset",
    "load_scenario",
    "new_scenario",
    "run",
    "run_settlement",
    "settle",
    "write_allocation",
    "write_comparison",
]

if TYPE_CHECKING:
    from typing import Any

    from dsg.errors import InputError, Problem
    from dsg.formula.apply import apply_scenario
    from dsg.formula.dataset import Dataset, load_dataset
    from dsg.formula.scenario import Scenario, load_scenario
    from dsg.formula.settle import Allocation, settle
    from dsg.output.export import write_allocation, write_comparison
    from dsg.pipeline import (
        Run,
        check_dataset,
        compare,
        explain_change,
        export_dataset,
        grant_report,
        import_ibas,
        new_scenario,
        run,
        run_settlement,
    )


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dsg' has no attribute {name!r}")
