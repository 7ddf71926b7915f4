"""The Dockerfile: an image with every package of the project, running as an ordinary user.

No Docker engine runs here; the Dockerfile and .dockerignore are read as the builder reads
them. The image installs the wheel built from the build context, so a package is in the image
when it reaches the context (tests/integration/test_wheel.py shows the wheel then holds it,
with its compiled translations).
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage (FROM starts one)."""
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def _matches(pattern: str, path: str) -> bool:
    """A .dockerignore pattern matches the path or a directory above it; **/ at any depth."""
    parts = path.split("/")
    for end in range(1, len(parts) + 1):
        if fnmatch.fnmatchcase("/".join(parts[:end]), pattern):
            return True
        if pattern.startswith("**/") and any(
            fnmatch.fnmatchcase("/".join(parts[start:end]), pattern[3:]) for start in range(end)
        ):
            return True
    return False


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the context) out of the build context."""
    result = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        rule = line.strip()
        if rule and not rule.startswith("#"):
            negated = rule.startswith("!")
            if _matches(rule.lstrip("!").strip("/"), path):
                result = not negated  # the last matching rule decides
    return result


def test_the_image_installs_the_wheel_built_from_the_context():
    build, final = stages()[0], stages()[-1]
    assert ("COPY", ". .") in build
    assert any(op == "RUN" and re.search(r"pip wheel\b.*\s\.$", args) for op, args in build), (
        "the first stage builds the project's wheel from the context"
    )
    copies = [args for op, args in final if op == "COPY"]
    assert copies and all(args.startswith("--from=") for args in copies), (
        "the image takes only the built wheel, no sources from the context"
    )
    assert any(op == "RUN" and re.search(r"pip install\b.*\.whl", args) for op, args in final)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_reaches_the_build_context(package: str):
    sources = sorted((ROOT / package).rglob("*.py")) + sorted((ROOT / package).rglob("*.po"))
    assert sources
    for source in sources:
        path = source.relative_to(ROOT).as_posix()
        if "__pycache__" not in path:
            assert not ignored(path), f"{path} is left out of the image by .dockerignore"


def test_the_wheel_build_gets_what_it_needs_and_no_secret_or_local_state():
    for needed in ("pyproject.toml", "setup.py", "README.md"):
        assert not ignored(needed), needed
    for kept_out in (
        ".env",
        ".venv/bin/python",
        "var/listings.db",
        ".git/config",
        "tests/conftest.py",
    ):
        assert ignored(kept_out), kept_out
    # Catalogues are compiled by the build, never copied from a working tree.
    assert ignored("listings/translations/fr/LC_MESSAGES/messages.mo")


def test_the_processes_run_as_an_ordinary_user():
    users = [args.split()[0] for op, args in stages()[-1] if op == "USER"]
    assert users, "the image would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
