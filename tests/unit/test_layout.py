"""The package under test is this repository's, not an unrelated `pipeline` from PyPI."""

from pathlib import Path

import pipeline
import streams

ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_is_this_repository() -> None:
    assert Path(pipeline.__file__).resolve().is_relative_to(ROOT)
    assert Path(streams.__file__).resolve().is_relative_to(ROOT)


def test_pipeline_imports_neither_streams_nor_dashboards() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "pipeline").rglob("*.py")
        if any(
            line.startswith(
                ("import streams", "from streams", "import dashboards", "from dashboards")
            )
            for line in path.read_text("utf-8").splitlines()
        )
    ]
    assert offenders == []
