"""dsg: a simulator of the Welsh local government revenue settlement.

The few calls a notebook needs::

    import dsg
    allocation = dsg.run_settlement(scenario="floor-3.5.toml")
    allocation.table("cy")                 # the SPEC §4 table as a polars DataFrame
    dsg.write_allocation(allocation, "allocation.xlsx")
"""

from dsg.errors import InputError, Problem
from dsg.export import write_allocation
from dsg.formula.dataset import Dataset, load_dataset
from dsg.formula.scenario import Scenario, apply_scenario, load_scenario
from dsg.formula.settlement import Allocation, run_settlement, settle

__all__ = [
    "Allocation",
    "Dataset",
    "InputError",
    "Problem",
    "Scenario",
    "apply_scenario",
    "load_dataset",
    "load_scenario",
    "run_settlement",
    "settle",
    "write_allocation",
]
