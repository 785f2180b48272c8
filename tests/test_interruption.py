"""Interrupted and failed writes, and formula injection in CSV (issue 10, items 4 and 5).

A run killed at any moment leaves at most its own hidden temporary files, which the next write
of the same target removes; Ctrl-C prints one line and exits 130 without a traceback or a
temporary file; a full disk is one "cannot write" problem with the old file intact; a text cell
that a spreadsheet would read as a formula is written as text.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from dsg import load_dataset, settle, write_allocation
from dsg.cli import main
from dsg.output.files import TEMPORARY_MARK, remove_temporaries, temporary_prefix, this_host
from tests.conftest import TOY_FILES

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and process ids")

# The installed console script when there is one (what a user runs), else the module.
SCRIPT = Path(sys.executable).with_name("dsg")
DSG = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "dsg.cli"]
ENV = {**os.environ, "DSG_LANG": "en", "COLUMNS": "200"}
COUNCILS = 22  # rows of the embedded dataset's allocation


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def assert_complete(target: Path) -> None:
    """``target`` is a whole, valid allocation file (never a partial one)."""
    if target.suffix == ".csv":
        table = pl.read_csv(target)
        assert table.height == COUNCILS and table.columns[0] == "ons_code"
        package = json.loads(target.with_name(f"{target.stem}.datapackage.json").read_text())
        assert package["dsg_provenance"]["dataset"]
    else:
        sheet = openpyxl.load_workbook(target, read_only=True).worksheets[0]
        assert sum(1 for _ in sheet.iter_rows()) >= COUNCILS + 1


def start(folder: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*DSG, *args], cwd=folder, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def invoke(*args, cwd: Path):
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, [str(a) for a in args], env={"DSG_LANG": "en"})
    finally:
        os.chdir(previous)


# --------------------------------------------------------------------------- killed runs


def run_time(folder: Path, out: str) -> float:
    began = time.monotonic()
    process = start(folder, "run", "--out", out)
    _, errors = process.communicate()
    assert process.returncode == 0, errors
    return time.monotonic() - began


def killed_runs(folder: Path, out: str, trials: int, rng: random.Random) -> dict[str, int]:
    """Runs killed with SIGKILL: every other one at a random moment of the run, the others a
    random 0-4 ms after their first temporary file appears (the write has begun). A run
    killed mid-write leaves a temporary file; the target is only ever a complete file."""
    total = run_time(folder, out)  # also warms the caches
    counts = {"trials": 0, "mid_write": 0, "swept": 0}
    for trial in range(trials):
        before = set(temporaries(folder))
        process = start(folder, "run", "--out", out)
        if trial % 2 == 0:
            time.sleep(rng.uniform(0, total))
        else:
            while process.poll() is None and not set(temporaries(folder)) - before:
                time.sleep(0.0005)
            time.sleep(rng.uniform(0, 0.004))
        process.kill()
        process.communicate()
        counts["trials"] += 1
        after = set(temporaries(folder))
        counts["mid_write"] += bool(after - before)
        counts["swept"] += len(before - after)  # a dead run's, removed by a later run
        if (folder / out).exists():
            assert_complete(folder / out)
    counts["left"] = len(temporaries(folder))
    assert all(f".{TEMPORARY_MARK}-" in name for name in temporaries(folder))
    process = start(folder, "run", "--out", out)  # one normal run cleans up
    _, errors = process.communicate()
    assert process.returncode == 0, errors
    counts["after"] = len(temporaries(folder))
    assert counts["after"] == 0
    assert_complete(folder / out)
    return counts


def test_killed_runs_leave_nothing_that_the_next_run_does_not_remove(tmp_path):
    seed = random.randrange(1_000_000)
    outs = ("x.csv", "x.xlsx")  # each in its own folder, side by side
    for out in outs:
        (tmp_path / out.replace(".", "_")).mkdir()
    with ThreadPoolExecutor(len(outs)) as pool:
        jobs = [
            pool.submit(killed_runs, tmp_path / out.replace(".", "_"), out, 20, random.Random(seed + i))
            for i, out in enumerate(outs)
        ]
        counts = [job.result() for job in jobs]
    total = {key: sum(c[key] for c in counts) for key in counts[0]}
    print(
        f"\n{total['trials']} runs killed (seed {seed}), {total['mid_write']} mid-write, whose temporary files "
        f"later killed runs removed {total['swept']} of; {total['left']} left before a normal run, {total['after']} after"
    )
    assert total["mid_write"] > 0, "no kill landed while writing: the test did not test the write"


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_stale_temporaries_of_dead_runs_are_removed(tmp_path, toy):
    target = tmp_path / "a.csv"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = this_host()
        stale = tmp_path / f".a.csv.{TEMPORARY_MARK}-{host}-{dead_pid()}-k2j4x_9q.part"
        kept = [
            tmp_path / f".a.csv.{TEMPORARY_MARK}-{host}-{live.pid}-ab12cd34.part",  # a run still going
            tmp_path / f".a.csv.{TEMPORARY_MARK}-{host}-{os.getpid()}-ab12cd34.part",  # this process
            tmp_path / f".a.csv.{TEMPORARY_MARK}-0badc0de-{dead_pid()}-ab12cd34.part",  # another machine
            tmp_path / f".a.csv.{TEMPORARY_MARK}-{host}-{dead_pid()}-ab12cd34.part.bak",
            tmp_path / ".a.csv.x7ab_2cd.part",  # an older dsg's name: whose it is cannot be told
            tmp_path / f".a.csv.{TEMPORARY_MARK}-{host}-{10**30}-ab12cd34.part",  # no process id
            tmp_path / "notes.part",
        ]
        # A killed run's temporary for another target in the folder goes too (issue 10: the next
        # run in the same folder removes the stale ones dsg left).
        other = tmp_path / f".b.csv.{TEMPORARY_MARK}-{host}-{dead_pid()}-ab12cd34.part"
        for path in [stale, other, *kept]:
            path.write_text("x")
        link = tmp_path / f".a.csv.{TEMPORARY_MARK}-{host}-{dead_pid()}-linked00.part"
        link.symlink_to(tmp_path / "notes.part")
        write_allocation(settle(load_dataset(toy)), target)
        assert not stale.exists() and not other.exists()
        assert all(path.exists() for path in kept) and link.is_symlink()
        assert temporary_prefix(target).startswith(f".a.csv.{TEMPORARY_MARK}-{host}-{os.getpid()}-")
        remove_temporaries(target, own=True)  # after an interrupt: this process's own only
        assert not kept[1].exists() and kept[0].exists()
    finally:
        live.kill()
        live.wait()


# --------------------------------------------------------------------------- Ctrl-C

INTERRUPTED = {"en": "dsg: interrupted\n", "cy": "dsg: torrwyd ar draws\n"}

# Runs dsg as its console script does, sending itself SIGINT at a chosen point.
HOOKED = """
import os, signal, sys, time
where, args = sys.argv[1], sys.argv[2:]

def interrupt():
    os.kill(os.getpid(), signal.SIGINT)
    if not hasattr(signal.getsignal(signal.SIGINT), "pending"):  # deferred while dsg starts
        time.sleep(5)  # the handler runs here

class Finaliser:
    def __del__(self):
        interrupt()  # raised where Python cannot pass it on: "Exception ignored in ..."

if where.split(":")[0] in ("import", "finaliser", "silenced"):
    # SIGINT when the module is imported: directly, in a finaliser, or in a finaliser while
    # unraisable exceptions are silenced (as the workbook writer does while closing)
    kind, module = where.split(":")
    class Hook:
        def find_spec(self, name, path=None, target=None):
            if name == module:
                sys.meta_path.remove(self)
                if kind == "import":
                    interrupt()
                hook = sys.unraisablehook
                if kind == "silenced":
                    sys.unraisablehook = lambda unraisable: None
                Finaliser()  # dropped at once
                sys.unraisablehook = hook
    sys.meta_path.insert(0, Hook())
else:  # write:MODULE:CLASS.METHOD, the writer interrupted half-way through its file
    import importlib
    _, module, attribute = where.split(":")
    owner, method = attribute.split(".")
    cls = getattr(importlib.import_module(module), owner)
    original = getattr(cls, method)

    def half_written(self, *a, **k):
        for value in (self, *a, *k.values(), getattr(self, "filename", None)):
            if isinstance(value, (str, os.PathLike)) and str(value).endswith(".part"):
                with open(value, "w") as handle:
                    handle.write("half a file")
                interrupt()
        return original(self, *a, **k)

    setattr(cls, method, half_written)
sys.argv = ["dsg", *args]
from dsg.start import main
sys.exit(main())
"""


def interrupted_run(folder: Path, where: str, *args: str, lang: str = "en") -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", HOOKED, where, *args],
        cwd=folder,
        env={**ENV, "DSG_LANG": lang},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result


@pytest.mark.parametrize(
    "where, lang",
    [
        ("import:dsg.i18n", "cy"),  # the first moments: importing dsg.cli's own first lines
        ("import:dsg.interrupts", "en"),
        ("import:click", "en"),  # start-up: importing dsg.cli itself
        ("import:click", "cy"),
        ("import:dsg.pipeline", "en"),  # the command starting
        ("import:polars", "cy"),  # loading
        ("import:dsg.formula.kernels", "en"),  # the settlement
        ("import:xlsxwriter", "en"),  # writing
        ("finaliser:polars", "en"),  # swallowed where it landed: raised again
        ("finaliser:xlsxwriter", "cy"),
        ("silenced:dsg.formula.kernels", "en"),  # swallowed and lost: the run ends, then exits 130
    ],
)
def test_ctrl_c_at_each_stage_prints_one_line_and_exits_130(tmp_path, where, lang):
    result = interrupted_run(tmp_path, where, "run", "--out", "x.xlsx", lang=lang)
    assert result.returncode == 130, result.stderr
    assert result.stderr == INTERRUPTED[lang]
    if where.startswith("silenced"):
        assert_complete(tmp_path / "x.xlsx")
        assert [p.name for p in tmp_path.iterdir()] == ["x.xlsx"]
    else:
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "out, writer",
    [
        ("x.csv", "polars:DataFrame.write_csv"),
        ("x.csv", "pathlib:Path.write_text"),  # the provenance sidecar
        ("x.parquet", "pathlib:Path.write_bytes"),  # Parquet is made in memory, then written
        ("x.xlsx", "xlsxwriter.workbook:Workbook.close"),
    ],
)
def test_ctrl_c_while_writing_leaves_the_old_file(tmp_path, out, writer):
    old = {tmp_path / out: "old table", tmp_path / "x.datapackage.json": "old provenance"}
    for path, text in old.items():
        path.write_text(text)
    result = interrupted_run(tmp_path, f"write:{writer}", "run", "--out", out, "--lang", "cy")
    assert result.returncode == 130, result.stderr
    assert result.stderr == INTERRUPTED["cy"]
    assert {path: path.read_text() for path in old} == old
    assert temporaries(tmp_path) == []


def test_ctrl_c_at_moments_during_a_real_run(tmp_path):
    """SIGINT from outside, from just after start to the end of the run: 130 and one line,
    or (once the work is done) the finished run's 0; never a traceback or a temporary file."""
    outcomes = []
    for index, delay in enumerate((0.15, 0.3, 0.45, 0.6, 0.75, 0.9)):
        folder = tmp_path / str(index)
        folder.mkdir()
        process = start(folder, "run", "--out", "x.csv" if index % 2 else "x.xlsx")
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
        outcomes.append(process.returncode)
        assert "Traceback" not in errors
        assert temporaries(folder) == []
        target = folder / ("x.csv" if index % 2 else "x.xlsx")
        if process.returncode == 130:
            assert errors == INTERRUPTED["en"]
        else:
            assert process.returncode == 0, errors
        if target.exists() or process.returncode == 0:
            assert_complete(target)
    assert outcomes[0] == 130, outcomes


def test_ctrl_c_in_a_library_call_restores_the_callers_handler(tmp_path):
    before, hook = signal.getsignal(signal.SIGINT), sys.unraisablehook
    result = invoke("run", "--out", "x.txt", cwd=tmp_path)  # refused, exit 2
    assert result.exit_code == 2
    assert signal.getsignal(signal.SIGINT) is before and sys.unraisablehook is hook


# --------------------------------------------------------------------------- full disk


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def half_then_full(self, path, *args, **kwargs):
    Path(path).write_bytes(b"half a file")
    full_disk()


def bytes_full(self, data):
    ORIGINAL_WRITE_BYTES(self, data[: len(data) // 2])
    full_disk()


ORIGINAL_WRITE_BYTES = pathlib.Path.write_bytes


def sidecar_full(self, *args, **kwargs):
    if ".datapackage.json." in self.name:
        full_disk()
    return ORIGINAL_WRITE_TEXT(self, *args, **kwargs)


ORIGINAL_WRITE_TEXT = pathlib.Path.write_text


def store_full(self):
    Path(self.filename).write_bytes(b"half a file")
    full_disk()


def savefig_full(self, path, *args, **kwargs):
    Path(path).write_bytes(b"half a file")
    full_disk()


@pytest.mark.parametrize(
    "name, patch, failing",
    [
        ("a.csv", ("polars", "DataFrame", "write_csv", half_then_full), "a.csv"),
        ("a.csv", ("pathlib", "Path", "write_text", sidecar_full), "a.datapackage.json"),
        ("a.parquet", ("pathlib", "Path", "write_bytes", bytes_full), "a.parquet"),
        ("a.xlsx", ("xlsxwriter.workbook", "Workbook", "_store_workbook", store_full), "a.xlsx"),
        ("c.png", ("matplotlib.figure", "Figure", "savefig", savefig_full), "c.png"),
    ],
    ids=["csv", "sidecar", "parquet", "xlsx", "png"],
)
def test_a_full_disk_is_one_cannot_write_problem(tmp_path, toy, monkeypatch, name, patch, failing):
    import importlib

    module, owner, method, replacement = patch
    old = {tmp_path / name: b"old file"}
    if name.endswith(".csv"):
        old[tmp_path / "a.datapackage.json"] = b"old provenance"
    for path, content in old.items():
        path.write_bytes(content)
    monkeypatch.setattr(getattr(importlib.import_module(module), owner), method, replacement)
    if name.endswith(".png"):
        (tmp_path / "s.toml").write_text("[settlement]\nfloor_percent = 1.0\n")
        result = invoke("compare", "s.toml", "--data", toy, "--chart", name, cwd=tmp_path)
    else:
        result = invoke("run", "--data", toy, "--out", name, cwd=tmp_path)
    assert result.exit_code == 2, result.output
    problems = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(problems) == 1, result.stderr
    assert "cannot write the file" in problems[0] and failing in problems[0]
    assert "No space left on device" in problems[0]
    assert "Traceback" not in result.output
    assert {path: path.read_bytes() for path in old} == old
    assert temporaries(tmp_path) == []


@pytest.fixture
def full_folder(tmp_path):
    """A folder on a 4 KiB file system: a really full disk, where this machine lets us make one."""
    folder = tmp_path / "full"
    folder.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(folder)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("cannot mount a small file system here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize(
    "args, failing",
    [
        (["run", "--out", "a.csv"], "a.datapackage.json"),  # the small sidecar fails before the table
        (["run", "--out", "a.parquet"], "a.parquet"),
        (["run", "--out", "a.xlsx"], "a.xlsx"),
        (["compare", "{scenario}", "--decompose", "--out", "c.parquet"], "c.parquet"),
        (["compare", "{scenario}", "--chart", "c.png"], "c.png"),
        # A folder made for the report is taken away again.
        (["grants", "report", "--scenario", "{grants}", "--out", "r/new"], "r/new/dehypothecation.datapackage.json"),
    ],
)
def test_a_really_full_disk_is_one_cannot_write_problem(tmp_path, full_folder, args, failing):
    """Each format on a file system that is truly full: the libraries' own words (polars says
    "Invalid thrift: transport error" for Parquet) are replaced by the system's."""
    scenario = tmp_path / "s.toml"
    scenario.write_text("[settlement]\nfloor_percent = 1.0\n")
    grants = Path(__file__).parent.parent / "examples" / "grants.toml"
    args = [arg.format(scenario=scenario, grants=grants) for arg in args]
    result = subprocess.run([*DSG, *args], cwd=full_folder, env=ENV, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[1:] == [f"  {failing}: cannot write the file: No space left on device"]
    assert list(full_folder.iterdir()) == []


def test_a_name_near_the_limit_is_written_and_one_past_it_refused(tmp_path):
    """A temporary file's name is longer than its target's: it is cut short, so a name of
    250 bytes (the limit is 255) is written; a CSV whose data package's name would pass
    the limit is refused before any work, naming both lengths."""
    near = "é" * 122 + ".xlsx"  # 249 bytes in UTF-8
    result = invoke("run", "--out", near, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == [near]
    assert_complete(tmp_path / near)
    (tmp_path / near).unlink()
    past = "a" * 245 + ".csv"  # a.datapackage.json would be 262 bytes
    result = invoke("run", "--out", past, cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        f"  {past}: cannot write a file whose name, or a folder's on its path, is 262 bytes long "
        "(with its data package's, if any); at most 255"
    ]
    assert list(tmp_path.iterdir()) == []


def test_output_that_cannot_be_shown_is_one_problem():
    """``dsg run > /dev/full``: one problem and status 2, nothing said as Python exits."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    for args in (["run"], ["--help"], ["run", "--lang", "cy"]):
        with open("/dev/full", "w") as full:
            result = subprocess.run([*DSG, *args], stdout=full, env=ENV, stderr=subprocess.PIPE, text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        where = (
            "allbwn safonol: ni ellir ysgrifennu'r ffeil" if "cy" in args else "standard output: cannot write the file"
        )
        assert result.stderr.splitlines()[1:] == [f"  {where}: No space left on device"]


# --------------------------------------------------------------------------- formula injection

HOSTILE_COUNCILS = 'ons_code,name_en,name_cy\nA,"=HYPERLINK(""x"")",-2\nB,+1,"=1+2"\nC,@SUM(A1),Caer Cy\n'
# A floor below zero and a base above A's AEF: A's change is a negative number.
LOSING = {
    "dataset_toml": TOY_FILES["dataset.toml"].replace("floor_percent = 2.0", "floor_percent = -50.0"),
    "base_csv": "ons_code,base_aef\nA,200\nB,200\nC,700\n",
}


def test_text_that_a_spreadsheet_would_run_is_written_as_text(tmp_path, make_toy):
    toy = make_toy(councils_csv=HOSTILE_COUNCILS, **LOSING)
    rows = {}
    for lang in ("en", "cy"):
        result = invoke("run", "--data", toy, "--out", f"{lang}.csv", "--lang", lang, cwd=tmp_path)
        assert result.exit_code == 0, result.output
        with open(tmp_path / f"{lang}.csv", newline="", encoding="utf-8") as handle:
            rows[lang] = list(csv.DictReader(handle))
    assert [r["council"] for r in rows["en"]] == ['\'=HYPERLINK("x")', "'+1", "'@SUM(A1)"]
    assert [r["council"] for r in rows["cy"]] == ["'-2", "'=1+2", "Caer Cy"]
    # Numbers are never touched: a loss stays a negative number.
    assert rows["en"][0]["change"].startswith("-") and int(rows["en"][0]["change"]) < 0
    assert all(not value.startswith("'") for row in rows["en"] for key, value in row.items() if key != "council")

    result = invoke("run", "--data", toy, "--out", "en.xlsx", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(tmp_path / "en.xlsx").worksheets[0]
    cells = [sheet.cell(row=row, column=2) for row in (4, 5, 6)]  # under the title, context and header rows
    assert [c.value for c in cells] == ['=HYPERLINK("x")', "+1", "@SUM(A1)"]
    assert {c.data_type for c in cells} == {"s"}  # strings, not formulas

    parquet = tmp_path / "en.parquet"
    assert invoke("run", "--data", toy, "--out", parquet, cwd=tmp_path).exit_code == 0
    assert pl.read_parquet(parquet)["council"].to_list() == ['=HYPERLINK("x")', "+1", "@SUM(A1)"]


def test_every_formula_start_is_escaped_in_text_columns_only():
    from dsg.output.export import spreadsheet_safe

    table = pl.DataFrame(
        {
            "name": ["=a", "+b", "-c", "@d", "\te", "\rf", "plain", "a=b", None],
            "figure": [-1, 2, -3, 4, 5, 6, 7, 8, 9],
            "share": [-0.5, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
        }
    )
    safe = spreadsheet_safe(table)
    assert safe["name"].to_list() == ["'=a", "'+b", "'-c", "'@d", "'\te", "'\rf", "plain", "a=b", None]
    assert safe["figure"].to_list() == table["figure"].to_list()
    assert safe["share"].to_list() == table["share"].to_list()
    assert safe.schema == table.schema


def test_a_folder_name_or_path_too_long_is_named_not_standard_output(tmp_path):
    folder = "a" * 256
    for args in (["run", "--out", f"{folder}/x.csv"], ["explain", "Cardiff", "--chart", f"{folder}/c.png"]):
        result = invoke(*args, cwd=tmp_path)
        assert result.exit_code == 2
        assert f"{folder}/" in result.stderr and "standard output" not in result.stderr
        assert "is 256 bytes long" in result.stderr
    deep = "/".join(["c" * 200] * 21) + "/x.csv"
    result = invoke("run", "--out", deep, cwd=tmp_path)
    assert result.exit_code == 2 and "cannot write a file whose path is 4096 bytes long or more" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_huge_cell_is_quoted_by_its_start_and_length(make_toy, tmp_path):
    name = "x" * 5_000_000
    data = make_toy(councils_csv=TOY_FILES["councils.csv"] + f"Z,{name},{name}\n")
    result = invoke("run", "--data", data, cwd=tmp_path)
    assert result.exit_code == 2
    assert len(result.stderr) < 5_000
    assert f"{'x' * 100}… (5,000,004 characters)" in result.stderr  # the label "Z (xxx...)"
