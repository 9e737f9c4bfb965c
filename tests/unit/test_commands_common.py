"""Pieces shared by commands: ``--speed``."""

from __future__ import annotations

import pytest
import typer

from pipeline.commands.common import parse_speed


@pytest.mark.parametrize(
    ("text", "factor"), [("max", None), ("1", 1.0), ("60", 60.0), ("0.5", 0.5)]
)
def test_speeds(text: str, factor: float | None) -> None:
    assert parse_speed(text) == factor


@pytest.mark.parametrize(
    ("text", "message"),
    [("fast", "--speed: 'fast' is not a number or 'max'"), ("0", "--speed must be positive")],
)
def test_bad_speeds_name_the_option(
    text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exit_:
        parse_speed(text)
    assert exit_.value.exit_code == 2
    assert capsys.readouterr().err == f"error: {message}\n"
