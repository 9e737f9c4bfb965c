"""Shared test setup: a clean ENVMON_* environment per test."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _clean_envmon_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ENVMON_"):
            monkeypatch.delenv(key)
