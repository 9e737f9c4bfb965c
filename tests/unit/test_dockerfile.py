"""The Dockerfile and .dockerignore, checked without Docker: stages, base, user, dependencies
from pyproject.toml, what is copied, entrypoint, command and healthcheck."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipeline.settings import Settings, env_name
from tests.fixtures.deploy import ROOT, resolve_envmon

DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """JSON-array arguments (``["envmon"]``) as a list."""
        value = json.loads(self.args)
        assert isinstance(value, list), self
        return value


@cache
def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text("utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
        else:
            lines.append(pending)
            pending = ""
    assert not pending, "Dockerfile ends inside a continuation"
    return [Instruction(*[*line.split(None, 1), ""][:2]) for line in lines]


def stages() -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for ins in instructions():
        if ins.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def base_image(stage: list[Instruction]) -> str:
    args = dict(
        i.args.split("=", 1) for i in instructions() if i.keyword == "ARG" and "=" in i.args
    )
    image = stage[0].args.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], image)


def only(stage: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in stage if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def test_multi_stage_on_a_slim_python_of_the_supported_version() -> None:
    assert len(stages()) >= 2
    build, runtime = stages()[0], stages()[-1]
    assert build[0].args.endswith("AS build")
    assert re.fullmatch(r"python:3\.(\d+)-slim(-\w+)?", base_image(runtime))
    minor = int(re.match(r"python:3\.(\d+)", base_image(runtime))[1])  # type: ignore[index]
    assert f">=3.{minor}" == PYPROJECT["project"]["requires-python"]
    copied = [i.args for i in runtime if i.keyword == "COPY"]
    assert copied == ["--from=build /opt/envmon /opt/envmon"]  # no compiler, no sources


def test_runs_as_an_unprivileged_user() -> None:
    runtime = stages()[-1]
    user = only(runtime, "USER").args.split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(i.args for i in runtime if i.keyword == "RUN")
    assert "useradd --system --uid 10001 --gid envmon --home-dir /var/lib/envmon" in created
    # USER comes after every RUN, so nothing later runs as root
    keywords = [i.keyword for i in runtime]
    assert keywords.index("USER") > max(n for n, k in enumerate(keywords) if k == "RUN")


def test_dependencies_are_installed_from_pyproject(tmp_path: Path) -> None:
    """Run the Dockerfile's own extraction on pyproject.toml: it yields the dependencies."""
    build = stages()[0]
    run = next(i.args for i in build if "tomllib" in i.args)
    python_c = shlex.split(run.split(">", 1)[0])
    assert python_c[:2] == ["python", "-c"]
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    out = subprocess.run(
        [sys.executable, "-c", python_c[2]], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:-1] == PYPROJECT["project"]["dependencies"]
    assert "pip install -r requirements.txt" in run
    copies = [i.args for i in build if i.keyword == "COPY"]
    assert copies[0] == "pyproject.toml ./"  # before the sources: a layer cached until deps change


def test_copies_every_package_and_dockerignore_keeps_them() -> None:
    build = stages()[0]
    sources = [i.args.split()[0] for i in build if i.keyword == "COPY"]
    packages = {
        p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages <= set(sources)
    assert "pip install --no-deps ." in " ".join(i.args for i in build if i.keyword == "RUN")
    ignored = [
        line
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
    for private in (".git", ".venv", ".env", ".envmon", "tests"):
        assert private in ignored, private


def test_entrypoint_command_and_healthcheck() -> None:
    runtime = stages()[-1]
    assert only(runtime, "ENTRYPOINT").exec_form() == ["envmon"]
    assert resolve_envmon(only(runtime, "CMD").exec_form()) == "envmon worker"
    health = only(runtime, "HEALTHCHECK").args
    options, cmd = health.split(" CMD ")
    assert {"--interval", "--timeout", "--start-period", "--retries"} <= {
        o.split("=")[0] for o in options.split()
    }
    probe = json.loads(cmd)
    assert probe[:2] == ["python", "-m"]
    assert importlib.util.find_spec(probe[2]) is not None


def test_environment_sets_only_known_settings() -> None:
    known = {env_name(f) for f in Settings.model_fields}
    for ins in stages()[-1]:
        if ins.keyword == "ENV":
            for pair in shlex.split(ins.args):
                key = pair.split("=", 1)[0]
                assert not key.startswith("ENVMON_") or key in known, key
                assert not re.search("TOKEN|PASSWORD|SECRET", key), f"{key}: no secret in an image"
