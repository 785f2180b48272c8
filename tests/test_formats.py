"""How figures read in lines of text: goal-seek settings and compact pounds."""

from __future__ import annotations

import pytest

from dsg.output.formats import compact_pounds, pounds, setting, signed_figure


@pytest.mark.parametrize(
    "parameter, value, text",
    [
        ("floor", 5.116049, "5.1160 %"),
        ("cap", 8.0, "8.0000 %"),
        ("service:School Services", 2948430000.4, "£2,948,430,000"),
        ("weight:School Services:population", 0.123456789, "0.123457"),
    ],
)
def test_a_setting_reads_in_its_own_unit(parameter, value, text):
    assert setting(parameter, value) == text


@pytest.mark.parametrize(
    "value, text",
    [(2_948_430_000, "£2.95bn"), (-2_466_365, "-£2.5m"), (48_200_000, "£48.2m"), (950_400, "£950k"), (612, "£612")],
)
def test_compact_pounds(value, text):
    assert compact_pounds(value) == text


def test_a_loss_puts_the_sign_before_the_pound():
    assert pounds(-2_466_365) == "-£2,466,365"


def test_a_signed_figure_keeps_its_sign_and_says_nothing_for_no_figure():
    assert [signed_figure(v) for v in (2.7163, -25.7449, 0.0, None, float("nan"))] == [
        "+2.72",
        "-25.74",
        "+0.00",
        "",
        "",
    ]
    assert signed_figure(1234.5, 0) == "+1,234"
