"""Hostile input files (issue 10, "Special files"): folders, FIFOs, devices and broken links
where a file belongs, files too large, TOML nested too deep, odd line endings, bytes that are
not UTF-8. Each is refused cleanly (exit 2, the file named, no traceback, nothing written) or
read right; none hangs, reads without end or is taken for an absent file.

Cases that could block (a FIFO) run dsg in a subprocess with a timeout; every test in this
file also has an alarm, so a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import dsg.formula.dataset as dataset_module
from dsg.cli import main
from dsg.errors import InputError, Problem
from dsg.formula import inputs
from dsg.formula.dataset import load_dataset
from dsg.formula.inputs import CSV_LIMIT, MAX_DEPTH, TOML_LIMIT, depth_of, parse_toml, read_input
from tests.conftest import TOY_FILES

HAS_FIFO = hasattr(os, "mkfifo")
needs_fifo = pytest.mark.skipif(not HAS_FIFO, reason="no named pipes on this system")
TIMEOUT = 20  # seconds for one dsg run in a subprocess
GUARD = 300  # seconds for one test in this file (a cold numba cache compiles for a while)


@pytest.fixture(autouse=True)
def hang_guard():
    """Fail a test that runs longer than GUARD seconds instead of hanging the suite."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum, frame):
        raise TimeoutError(f"a hostile-file test ran for more than {GUARD} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(GUARD)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def invoke(*args: str, lang: str = "en"):
    return CliRunner().invoke(main, list(args), env={"DSG_LANG": lang}, terminal_width=200)


def run_dsg(*args: str) -> subprocess.CompletedProcess:
    """dsg in its own process, killed after TIMEOUT seconds (TimeoutExpired fails the test)."""
    return subprocess.run(
        [sys.executable, "-m", "dsg.cli", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "DSG_LANG": "en"},
    )


def assert_refused(result, *fragments: str, out: Path | None = None) -> None:
    """Exit 2, every fragment in the output, no traceback, nothing written next to ``out``."""
    if isinstance(result, subprocess.CompletedProcess):
        status, text = result.returncode, result.stdout + result.stderr
    else:
        assert isinstance(result.exception, SystemExit), result.exception
        status, text = result.exit_code, result.output
    assert status == 2, text
    assert "Traceback" not in text
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    if out is not None:
        assert not out.exists()
        assert not list(out.parent.iterdir()), list(out.parent.iterdir())


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    return folder / "allocation.csv"


# --------------------------------------------------------------------------- what stands in place of a file

FOLDER = "not a regular file (a folder); expected a CSV file"
PIPE = "not a regular file (a named pipe, FIFO); expected a CSV file"
BROKEN = "a symbolic link to 'gone.csv', which does not exist; expected a CSV file"


def put_in_place(data: Path, name: str, what: str) -> None:
    entry = data / name
    entry.unlink()
    if what == "folder":
        entry.mkdir()
        (entry / "amount.csv").write_text("ons_code,amount\nA,1\n", encoding="utf-8")
    elif what == "fifo":
        os.mkfifo(entry)
    elif what == "broken link":
        entry.symlink_to("gone.csv")
    elif what == "link to a folder":
        (data / "elsewhere").mkdir()
        entry.symlink_to("elsewhere")
    elif what == "link loop":
        entry.symlink_to(name)
    else:
        raise AssertionError(what)


@pytest.mark.parametrize("name", ["fixed.csv", "base.csv", "grants.csv"])
@pytest.mark.parametrize(
    "what, message",
    [
        ("folder", FOLDER),
        ("broken link", BROKEN),
        ("link to a folder", FOLDER),
        ("link loop", "cannot be read: Too many levels of symbolic links"),
    ],
)
def test_no_file_in_place_of_a_dataset_file(make_toy, out, name, what, message):
    # fixed.csv and grants.csv are optional: something that is not a file there is still a
    # problem, not "no fixed element" (that gave wrong figures with status 0).
    data = make_toy(grants_csv="grant,ons_code,amount\nG1,A,5\nG1,B,5\nG1,C,5\n")
    put_in_place(data, name, what)
    result = invoke("run", "--data", str(data), "--out", str(out))
    if what == "link loop" and sys.platform != "linux":
        message = "cannot be read"
    assert_refused(result, f"{data}/{name}: {message}", out=out)


@needs_fifo
@pytest.mark.parametrize("name", ["fixed.csv", "base.csv", "dataset.toml"])
def test_fifo_in_place_of_a_dataset_file_is_never_opened(make_toy, out, name):
    data = make_toy()
    put_in_place(data, name, "fifo")
    expected = PIPE.replace("CSV", "TOML") if name.endswith(".toml") else PIPE
    assert_refused(run_dsg("run", "--data", str(data), "--out", str(out)), f"{data}/{name}: {expected}", out=out)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets on this system")
def test_socket_in_place_of_a_dataset_file(make_toy, out):
    data = make_toy()
    (data / "fixed.csv").unlink()
    with socket.socket(socket.AF_UNIX) as listening:
        try:
            listening.bind(str(data / "fixed.csv"))
        except OSError:
            pytest.skip("the socket's path is too long here")
        result = invoke("run", "--data", str(data), "--out", str(out))
    expected = "not a regular file (a socket or other special file); expected a CSV file"
    assert_refused(result, f"{data}/fixed.csv: {expected}", out=out)


def test_only_a_name_that_does_not_exist_is_an_absent_optional_file(make_toy):
    plain = invoke("run", "--data", str(make_toy(fixed_csv=None)))
    assert plain.exit_code == 0, plain.output
    # A link to a real file is read as the file.
    linked = make_toy()
    target = linked.parent / "fixed-elsewhere.csv"
    target.write_text(TOY_FILES["fixed.csv"], encoding="utf-8")
    (linked / "fixed.csv").unlink()
    (linked / "fixed.csv").symlink_to(target)
    assert invoke("run", "--data", str(linked)).output == invoke("run", "--data", str(make_toy())).output


def test_a_missing_required_file_is_still_missing(make_toy):
    data = make_toy(base_csv=None)
    assert_refused(invoke("run", "--data", str(data)), f"{data}/base.csv: required file is missing")


# --------------------------------------------------------------------------- the scenario file


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_scenario_dev_zero_is_refused_without_reading(toy, out):
    result = run_dsg("run", "--data", str(toy), "--scenario", "/dev/zero", "--out", str(out))
    assert_refused(result, "/dev/zero: not a regular file (a device); expected a TOML file", out=out)


@needs_fifo
def test_scenario_fifo_is_refused_without_waiting(tmp_path, out):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    # With the embedded dataset, refused before the engine loads.
    result = run_dsg("run", "--scenario", str(fifo), "--out", str(out))
    assert_refused(result, f"{fifo}: not a regular file (a named pipe, FIFO); expected a TOML file", out=out)


def test_scenario_folder_is_refused(toy, tmp_path, out):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    result = invoke("run", "--data", str(toy), "--scenario", str(folder), "--out", str(out))
    assert_refused(result, f"{folder}: not a regular file (a folder); expected a TOML file", out=out)


def test_scenario_too_large_is_refused(toy, tmp_path, out):
    big = tmp_path / "big.toml"
    comment = "# " + "x" * 1000 + "\n"
    big.write_text("[settlement]\nfloor_percent = 3\n" + comment * (TOML_LIMIT // len(comment) + 1), encoding="utf-8")
    assert big.stat().st_size > TOML_LIMIT
    result = invoke("run", "--data", str(toy), "--scenario", str(big), "--out", str(out))
    assert_refused(result, f"{big}: larger than 1 MiB; expected a TOML file of 1 MiB or less", out=out)
    # Just under the limit is read.
    big.write_text("[settlement]\nfloor_percent = 3\n" + comment * 100, encoding="utf-8")
    assert invoke("run", "--data", str(toy), "--scenario", str(big)).exit_code == 0


def test_dataset_csv_too_large_is_refused_without_reading(make_toy, out):
    data = make_toy()
    with open(data / "grants.csv", "wb") as sparse:  # 64 MiB + 1 byte, taking no disk space
        sparse.truncate(CSV_LIMIT + 1)
    result = invoke("run", "--data", str(data), "--out", str(out))
    assert_refused(result, f"{data}/grants.csv: larger than 64 MiB; expected a CSV file of 64 MiB or less", out=out)


def test_dataset_csv_limit_applies_to_every_file(make_toy, monkeypatch):
    monkeypatch.setattr(dataset_module, "CSV_LIMIT", 100)
    data = make_toy()
    result = invoke("run", "--data", str(data))
    # indicators.csv is the toy's only CSV over 100 bytes.
    assert_refused(result, f"{data}/indicators.csv: larger than 100 bytes; expected a CSV file of 100 bytes or less")
    assert "councils.csv:" not in result.output


# --------------------------------------------------------------------------- TOML nested too deep

DEEP_TOML = {
    "arrays": "x = " + "[" * 5000 + "]" * 5000 + "\n",  # tomllib's own recursion
    "inline tables": "x = " + "{ a = " * 40 + "1" + " }" * 40 + "\n",
    "table header": "[" + ".".join(["a"] * 40) + "]\nv = 1\n",
    "dotted keys": ".".join(["a"] * 50_000) + " = 1\n",
}
TOO_DEEP = f"tables or lists are nested more than {MAX_DEPTH} levels deep; expected {MAX_DEPTH} levels or fewer"


@pytest.mark.parametrize("shape", DEEP_TOML)
def test_deeply_nested_scenario(toy, tmp_path, out, shape):
    scenario = tmp_path / "deep.toml"
    scenario.write_text(DEEP_TOML[shape], encoding="utf-8")
    result = invoke("run", "--data", str(toy), "--scenario", str(scenario), "--out", str(out))
    assert_refused(result, f"{scenario}: {TOO_DEEP}", out=out)


@pytest.mark.parametrize("shape", DEEP_TOML)
def test_deeply_nested_dataset_toml(make_toy, out, shape):
    data = make_toy(dataset_toml=DEEP_TOML[shape] + TOY_FILES["dataset.toml"])
    result = invoke("run", "--data", str(data), "--out", str(out))
    assert_refused(result, f"{data}/dataset.toml: {TOO_DEEP}", out=out)


def test_nesting_up_to_the_bound_is_accepted():
    problems: list[Problem] = []
    # k dotted parts nest k tables, the top one included.
    assert parse_toml((".".join(["a"] * MAX_DEPTH) + " = 1").encode(), "ok.toml", problems) is not None
    assert not problems
    assert parse_toml((".".join(["a"] * (MAX_DEPTH + 1)) + " = 1").encode(), "deep.toml", problems) is None
    assert [p.code for p in problems] == ["too_deep"]


def test_depth_is_measured_without_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert depth_of(value, MAX_DEPTH) == MAX_DEPTH + 1
    assert depth_of({"a": [1, {"b": 2}]}, MAX_DEPTH) == 3
    assert depth_of(1, MAX_DEPTH) == 0


# --------------------------------------------------------------------------- line endings and encodings


def line_endings(text: str, style: str) -> str:
    if style == "CR":
        return text.replace("\n", "\r")
    if style == "CRLF":
        return text.replace("\n", "\r\n")
    # mixed: CRLF, LF and CR in turn
    ends = ["\r\n", "\n", "\r"]
    return "".join(line + ends[i % 3] for i, line in enumerate(text.split("\n")[:-1]))


@pytest.mark.parametrize("style", ["CR", "CRLF", "mixed"])
def test_csv_line_endings_give_the_same_allocation(make_toy, tmp_path, style):
    expected = tmp_path / "lf.csv"
    assert invoke("run", "--data", str(make_toy()), "--out", str(expected)).exit_code == 0
    files = {name.replace(".", "_"): line_endings(text, style) for name, text in TOY_FILES.items() if ".csv" in name}
    data = make_toy(**files)
    for name in files:
        written = (data / name.replace("_", ".")).read_bytes()
        assert written.count(b"\r") > 0 and (style != "CR" or b"\n" not in written)
    got = tmp_path / f"{style}.csv"
    result = invoke("run", "--data", str(data), "--out", str(got))
    assert result.exit_code == 0, result.output
    assert got.read_bytes() == expected.read_bytes()


def test_cr_only_dataset_toml_is_a_clear_problem(make_toy, out):
    # TOML does not allow a CR alone as a line ending: a problem, named, not a traceback.
    data = make_toy(dataset_toml=TOY_FILES["dataset.toml"].replace("\n", "\r"))
    assert_refused(
        invoke("run", "--data", str(data), "--out", str(out)), f"{data}/dataset.toml: not valid TOML", out=out
    )


def test_non_utf8_csv(make_toy, out):
    data = make_toy()
    (data / "councils.csv").write_bytes("ons_code,name_en,name_cy\nA,Aber,Aber Cy\nB,Bryn,Caerffïli\n".encode("cp1252"))
    result = invoke("run", "--data", str(data), "--out", str(out))
    assert_refused(result, f"{data}/councils.csv: the file is not UTF-8 text", out=out)


# --------------------------------------------------------------------------- unreadable files


def test_unreadable_file_gives_the_reason(make_toy, out, monkeypatch):
    data = make_toy()
    real_open = os.open

    def failing_open(path, *args, **kwargs):
        if Path(path).name == "base.csv":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(inputs.os, "open", failing_open)
    result = invoke("run", "--data", str(data), "--out", str(out))
    assert_refused(result, f"{data}/base.csv: cannot be read: {os.strerror(errno.EIO)}", out=out)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_file_without_read_permission(make_toy, out):
    data = make_toy()
    (data / "fixed.csv").chmod(0)
    try:
        result = invoke("run", "--data", str(data), "--out", str(out))
    finally:
        (data / "fixed.csv").chmod(0o644)
    assert_refused(result, f"{data}/fixed.csv: cannot be read: Permission denied", out=out)


def test_a_file_that_grows_after_the_check_is_read_no_further_than_the_limit(tmp_path, monkeypatch):
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_bytes(b"a\n")
    big.write_bytes(b"a\n" * 1000)
    real_stat = os.stat
    monkeypatch.setattr(inputs.os, "stat", lambda path, *a, **k: real_stat(small if path == big else path, *a, **k))
    problems: list[Problem] = []
    assert read_input(big, "big.csv", problems, limit=100, kind="CSV") is None
    assert [p.code for p in problems] == ["file_too_large"]


def test_files_read_through_importlib_resources(tmp_path):
    # The embedded dataset may be a Traversable that is not a Path (a zip): still read, and
    # still bounded.
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("set/councils.csv", TOY_FILES["councils.csv"])
    entry = zipfile.Path(archive, "set/councils.csv")
    problems: list[Problem] = []
    assert (
        read_input(entry, "councils.csv", problems, limit=CSV_LIMIT, kind="CSV") == TOY_FILES["councils.csv"].encode()
    )
    assert read_input(entry, "councils.csv", problems, limit=10, kind="CSV") is None
    assert (
        read_input(zipfile.Path(archive, "set/fixed.csv"), "fixed.csv", problems, limit=9, kind="CSV", required=False)
        is None
    )
    assert [p.code for p in problems] == ["file_too_large"]
    assert invoke("run").exit_code == 0  # the embedded dataset itself


# --------------------------------------------------------------------------- all at once, in both languages


@needs_fifo
def test_several_hostile_files_are_listed_at_once(make_toy, tmp_path, out):
    data = make_toy(dataset_toml=DEEP_TOML["arrays"] + TOY_FILES["dataset.toml"])
    put_in_place(data, "fixed.csv", "folder")
    put_in_place(data, "base.csv", "fifo")
    (data / "grants.csv").symlink_to("gone.csv")
    (data / "indicators.csv").write_bytes(TOY_FILES["indicators.csv"].replace("pop", "pöp").encode("latin-1"))
    scenario = tmp_path / "scenario.toml"
    os.mkfifo(scenario)
    result = run_dsg("run", "--data", str(data), "--scenario", str(scenario), "--out", str(out))
    assert_refused(
        result,
        f"{scenario}: not a regular file (a named pipe, FIFO); expected a TOML file",
        f"{data}/dataset.toml: {TOO_DEEP}",
        f"{data}/fixed.csv: {FOLDER}",
        f"{data}/base.csv: {PIPE}",
        f"{data}/grants.csv: {BROKEN}",
        f"{data}/indicators.csv: the file is not UTF-8 text",
        out=out,
    )


def test_hostile_files_in_welsh(make_toy, tmp_path, out):
    data = make_toy()
    put_in_place(data, "fixed.csv", "folder")
    put_in_place(data, "base.csv", "broken link")
    scenario = tmp_path / "deep.toml"
    scenario.write_text(DEEP_TOML["inline tables"], encoding="utf-8")
    result = invoke("run", "--data", str(data), "--scenario", str(scenario), "--out", str(out), lang="cy")
    assert_refused(
        result,
        "Ni allai dsg ddefnyddio",
        f"{data}/fixed.csv: nid yw'n ffeil reolaidd (ffolder ydyw); disgwylid ffeil CSV",
        f"{data}/base.csv: cyswllt symbolaidd at 'gone.csv', nad yw'n bodoli; disgwylid ffeil CSV",
        f"{scenario}: mae tablau neu restrau wedi'u nythu'n ddyfnach na {MAX_DEPTH} lefel",
        out=out,
    )


@pytest.mark.parametrize("code", ["input_is_folder", "input_is_pipe", "input_is_device", "input_is_special"])
def test_every_kind_of_special_file_has_words(code):
    for lang in ("en", "cy"):
        assert "TOML" in Problem("x.toml", code, params={"format": "TOML"}).render(lang)


def test_a_million_bad_rows_list_twenty_and_count_the_rest(make_toy):
    """Every problem at once, but not a flood: the first 20 of a kind, then how many more."""
    rows = "".join("A,pop,100\n" for _ in range(200_000))
    data = make_toy(indicators_csv=TOY_FILES["indicators.csv"] + rows)
    with pytest.raises(InputError) as caught:
        load_dataset(data)
    problems = caught.value.problems
    duplicates = [p for p in problems if p.code == "duplicate_row"]
    assert len(duplicates) == 20 and duplicates[0].row == 11
    more = [p.render("en") for p in problems if p.code == "more_of_this_kind"]
    assert more == [f"{data}/indicators.csv: and 199,980 more problems like the last 20 in this file, not listed"]
