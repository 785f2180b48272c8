"""dsg report: one self-contained bilingual page, valid HTML, rendered in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import html5lib
import numpy as np
import pytest
from click.testing import CliRunner

from dsg import load_dataset
from dsg.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"
# CI installs Debian's chromium and sets this, so that a missing browser fails there instead
# of skipping.
REQUIRED = os.environ.get("DSG_REQUIRE_CHROMIUM", "") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags a browser needs to start cleanly here: no sandbox as root, no network.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module", params=["en", "cy"])
def page(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"report-{request.param}") / "report.html"
    result = CliRunner().invoke(
        main,
        ["report", str(EXAMPLES / "floor-3.5.toml"), str(EXAMPLES / "deprivation.toml"), "--decompose",
         "--out", str(out), "--lang", request.param],
        env={"DSG_LANG": ""},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return request.param, out


def test_the_page_holds_every_council_the_figures_and_the_caveats(page):
    lang, path = page
    text = path.read_text(encoding="utf-8")
    for name in load_dataset().council_names(lang):
        assert name in text
    # The 3.5 % floor: £3,083,815 paid by Welsh Government, five councils on the floor
    # (tests/cases/README.md); the deprivation option's floor costs £101,687,965.
    assert "£3,083,815" in text and "£101,687,965" in text
    assert {"en": "paid by Welsh Government", "cy": "yn cael ei dalu gan Lywodraeth Cymru"}[lang] in text
    assert "†" in text and {"en": "illustrative formulas", "cy": "fformiwlâu enghreifftiol"}[lang] in text
    assert f'<html lang="{lang}">' in text
    assert text.count("<svg") == 4  # a difference chart and a decomposition chart per scenario
    # Self-contained (the SVGs' namespaces are names, not links), and nothing to run.
    assert "<script" not in text and "<link" not in text and "src=" not in text and "url(http" not in text
    assert not re.findall(r'href="https?://', text)


def test_the_page_is_valid_html(page):
    _, path = page
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(path.read_bytes())  # raises on any parse error


def test_what_a_user_types_is_escaped(tmp_path):
    (tmp_path / "s.toml").write_text('name = "<b>bold</b> & <script>x</script>"\n', encoding="utf-8")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(tmp_path / "s.toml"), "--out", str(out)], env={"DSG_LANG": ""})
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in text and "<script>" not in text


def test_bad_report_paths_are_refused_before_any_work(tmp_path):
    result = CliRunner().invoke(main, ["report", str(EXAMPLES / "floor-3.5.toml"), "--out", str(tmp_path / "r.txt")])
    assert result.exit_code == 2 and "expected a file ending in .html" in result.output
    assert not (tmp_path / "r.txt").exists()


def chromium(*args, cwd: Path) -> subprocess.CompletedProcess:
    profile = cwd / "profile"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="Debian's chromium is not installed (CI installs it)")
def test_chromium_renders_the_page(page, tmp_path):
    assert CHROMIUM is not None, "DSG_REQUIRE_CHROMIUM=1 but no chromium on PATH"
    lang, path = page
    url = path.resolve().as_uri()
    dom = chromium("--dump-dom", url, cwd=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for name in load_dataset().council_names(lang):
        assert name in dom.stdout
    # No errors from the page itself (Chromium logs what the console says as CONSOLE lines).
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    shot = chromium("--window-size=1200,1600", "--screenshot=page.png", url, cwd=tmp_path)
    assert shot.returncode == 0 and (tmp_path / "page.png").exists(), shot.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(tmp_path / "page.png")
    assert pixels.std() > 0.05 and (pixels[..., :3] < 0.5).mean() > 0.005  # not blank: text and bars
    pdf = chromium("--no-pdf-header-footer", "--print-to-pdf=page.pdf", url, cwd=tmp_path)
    assert pdf.returncode == 0 and (tmp_path / "page.pdf").read_bytes()[:4] == b"%PDF"
    assert np.isfinite(pixels).all()


def test_a_grant_scenario_is_reported_on_the_net_change(tmp_path):
    out = tmp_path / "g.html"
    result = CliRunner().invoke(
        main, ["report", str(EXAMPLES / "grants.toml"), "--out", str(out)], env={"DSG_LANG": ""}
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    # The Housing Support Grant (£166,763,000) moves into AEF; the bus grants are cut: AEF
    # rises by the grant, and the net difference is the bus grants' cut, -£1,706,667 in the
    # first year (tests/cases/README.md: 64,000,000 to 62,293,333).
    assert "+£166,763,000" in text and "-£1,706,667" in text
    assert "counted on the net difference" in text
    html5lib.HTMLParser(strict=True).parse(out.read_bytes())
