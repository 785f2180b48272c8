"""Every command accepts and refuses exactly the same inputs (issue 10, item 3).

The same bad dataset or scenario goes through every command that reads one; each must exit 2
and list the same problems, since they all load, apply and settle through dsg.pipeline.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dsg.cli import main

ROOT = Path(__file__).resolve().parents[1]

# Each command with the options it needs besides --data and --scenario.
COMMANDS = {
    "run": ["run"],
    "compare": ["compare"],  # the scenario is its positional argument
    "explain": ["explain", "Cardiff"],
    "sweep": ["sweep", "--service", "School Services", "--indicator", "population", "--from", "0.5", "--to", "0.9"],
    "montecarlo": ["montecarlo", "--samples", "2000"],
    "goalseek": ["goalseek", "--vary", "floor", "--range", "0", "5", "--target", "on-floor", "--value", "5"],
    "grants report": ["grants", "report"],
}

BAD_SCENARIOS = {
    "repeated year": '[[years]]\nyear = "2026-27"\n[[years]]\nyear = "2026-27"\n',
    "year equal to the dataset's": '[[years]]\nyear = "2025-26"\n',
    "unknown service under a year": '[[years]]\nyear = "2026-27"\nservices = { "Nope" = 5 }\n',
    "floor through the cap in a year": '[settlement]\ncap_percent = 5\n[[years]]\nyear = "2026-27"\nfloor_percent = 9\n',
    "unknown key": "flor_percent = 3\n",
    "text where a number belongs": '[settlement]\nfloor_percent = "high"\n',
    "unknown grant": '[[dehypothecate]]\ngrant = "Nope"\ninto_service = "Other services"\n',
    "weights not summing to 1": '[weights."School Services"]\npopulation = 0.5\n',
    "not TOML": "[settlement\n",
    # Found by fuzzing: checking the years on a settlement that names an unknown indicator.
    "unknown indicator with later years": '[settlement]\nndr_indicator = "0"\n[[years]]\nyear = "2026-27"\n',
}


def invoke(command: str, scenario: Path | None, data: Path | None = None):
    args = list(COMMANDS[command])
    if scenario is not None:
        args += [str(scenario)] if command == "compare" else ["--scenario", str(scenario)]
    elif command == "compare":
        args += ["default"]
    if data is not None:
        args += ["--data", str(data)]
    result = CliRunner().invoke(main, args, env={"DSG_LANG": "en"})
    assert result.exception is None or isinstance(result.exception, SystemExit), (command, result.exception)
    return result


def problems(output: str) -> set[str]:
    """The problem lines of a refusal, as a set (the commands may list them in any order)."""
    return {line.strip() for line in output.splitlines()[1:] if line.strip()}


@pytest.mark.parametrize("name", sorted(BAD_SCENARIOS))
def test_a_bad_scenario_is_refused_alike_by_every_command(tmp_path, name):
    path = tmp_path / "bad.toml"
    path.write_text(BAD_SCENARIOS[name], encoding="utf-8")
    seen = {}
    for command in COMMANDS:
        result = invoke(command, path)
        assert result.exit_code == 2, (name, command, result.output)
        assert "Traceback" not in result.output
        seen[command] = problems(result.output)
    first = seen["run"]
    assert first and all("bad.toml" in line for line in first), first
    for command, found in seen.items():
        assert found == first, (name, command, found ^ first)


def test_a_bad_dataset_is_refused_alike_by_every_command(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for item in (ROOT / "dsg" / "data" / "wales-2025-26").iterdir():
        (data / item.name).write_bytes(item.read_bytes())
    base = (data / "base.csv").read_text(encoding="utf-8").splitlines()
    base[3] = base[3].split(",")[0] + ",lots"  # a council's base is not a number
    (data / "base.csv").write_text("\n".join(base) + "\n", encoding="utf-8")
    # Commands that read a dataset but no scenario take their turn too.
    without_scenario = {"grants list": ["grants", "list"], "bench": ["bench", "--scenarios", "1000"]}
    seen = {command: invoke(command, None, data) for command in COMMANDS if command != "grants report"}
    for command, args in without_scenario.items():
        seen[command] = CliRunner().invoke(main, [*args, "--data", str(data)], env={"DSG_LANG": "en"})
    lines = {command: problems(result.output) for command, result in seen.items()}
    for command, result in seen.items():
        assert result.exit_code == 2, (command, result.output)
        assert lines[command] == lines["run"], (command, lines[command] ^ lines["run"])
    assert any("base.csv, row 4, base_aef" in line for line in lines["run"]), lines["run"]


def test_a_good_scenario_is_accepted_by_every_command():
    for command in COMMANDS:
        result = invoke(command, ROOT / "examples" / "grants.toml")
        assert result.exit_code == 0, (command, result.output)


def test_a_path_of_too_many_years_is_refused_at_once(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text("".join(f'[[years]]\nyear = "y{n}"\n' for n in range(51)), encoding="utf-8")
    result = invoke("run", path)
    assert result.exit_code == 2
    assert "51 later years; expected at most 50" in result.output
