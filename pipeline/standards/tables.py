"""Loader for the versioned standard tables shipped as package data in ``tables/<name>.yaml``."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@cache
def load_table(name: str) -> dict[str, Any]:
    """Parse ``pipeline/standards/tables/<name>.yaml`` once; callers must treat it as read-only."""
    resource = files("pipeline.standards").joinpath("tables", f"{name}.yaml")
    if not resource.is_file():
        raise ValueError(f"unknown standard table {name!r}")
    return yaml.safe_load(resource.read_text(encoding="utf-8"))
