"""The wheel a release ships, built from a clean checkout and installed on its own.

Every process named in [project.scripts] must import from the installed wheel alone (not from
this checkout), and every package's French and German pages must be translated, which needs
the compiled .mo catalogues that git does not hold. The third-party dependencies come from
this project's environment, so no index is needed to install.
"""

from __future__ import annotations

import gettext
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SCRIPTS: dict[str, str] = PYPROJECT["project"]["scripts"]
PACKAGES = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
LANGUAGES = ("fr", "de")
TRANSLATED = sorted(p for p in PACKAGES if (ROOT / p / "translations").is_dir())

# Loads each console script's target in the installed environment and reports where it came
# from; run with -I so neither this checkout nor PYTHONPATH can supply the project.
PROBE = """
import importlib.metadata, json, sys
dist = importlib.metadata.distribution("boucle")
found = {}
for entry in dist.entry_points.select(group="console_scripts"):
    try:
        target = entry.load()
    except Exception as exc:
        found[entry.name] = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        module = sys.modules[entry.module]
        found[entry.name] = {"callable": callable(target), "file": module.__file__}
print(json.dumps({"metadata": str(dist.locate_file("")), "scripts": found}))
"""


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _clean_checkout(target: Path) -> Path:
    """The files a clone of this working tree would have: tracked and new, nothing ignored."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            copy = target / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(source.read_bytes())
    assert not list(target.rglob("*.mo")), "git must not hold compiled catalogues"
    return target


def _dependencies_only(target: Path) -> Path:
    """This environment's site-packages without the project's own (editable) installation."""
    site = Path(sysconfig.get_paths()["purelib"])
    target.mkdir()
    for entry in site.iterdir():
        if entry.name.startswith(("__editable__", "boucle-", "__pycache__")):
            continue
        (target / entry.name).symlink_to(entry)
    return target


class Installed:
    """A virtual environment with the wheel installed, and what its console scripts loaded."""

    def __init__(self, base: Path) -> None:
        checkout = _clean_checkout(base / "checkout")
        dist = base / "dist"
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), "."], checkout)
        (self.wheel,) = dist.glob("boucle-*.whl")
        self.env = base / "env"
        _run([sys.executable, "-m", "venv", "--without-pip", str(self.env)], base)
        self.python = self.env / "bin" / "python"
        self.site = Path(
            _run(
                [
                    str(self.python),
                    "-c",
                    "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                ],
                base,
            ).stdout.strip()
        )
        deps = _dependencies_only(base / "deps")
        (self.site / "boucle-test-dependencies.pth").write_text(f"{deps}\n")
        pip = [sys.executable, "-m", "pip", "--python", str(self.python)]
        _run([*pip, "install", "--no-deps", "--no-index", str(self.wheel)], base)
        # A working directory of its own: nothing of the checkout is importable from there.
        self.cwd = base / "elsewhere"
        self.cwd.mkdir()
        probe = _run([str(self.python), "-I", "-c", PROBE], self.cwd)
        report: dict[str, Any] = json.loads(probe.stdout)
        self.metadata = Path(report["metadata"])
        self.scripts: dict[str, dict[str, Any]] = report["scripts"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return Installed(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_every_package_and_declares_every_process(installed: Installed):
    with zipfile.ZipFile(installed.wheel) as wheel:
        top_level = {name.split("/")[0] for name in wheel.namelist()}
    assert set(PACKAGES) <= top_level
    assert installed.metadata.resolve() == installed.site.resolve()
    assert set(installed.scripts) == set(SCRIPTS)
    for name in SCRIPTS:
        assert (installed.env / "bin" / name).exists(), f"no {name} command in the environment"


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_process_entry_point_loads_from_the_installed_wheel(installed: Installed, name: str):
    loaded = installed.scripts[name]
    assert "error" not in loaded, f"{name} = {SCRIPTS[name]}: {loaded.get('error')}"
    assert loaded["callable"], f"{SCRIPTS[name]} is not callable"
    # From the wheel's installation, not from this checkout.
    assert Path(loaded["file"]).resolve().is_relative_to(installed.site.resolve())


def test_a_server_command_serves_http_from_the_installed_wheel(installed: Installed):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # Nothing listens on port 1: the router must say listings is down, not hang or crash.
    env.update(BIND=f"127.0.0.1:{port}", LISTINGS_URL="http://127.0.0.1:1")
    router = subprocess.Popen(
        [str(installed.env / "bin" / "boucle-router")],
        cwd=installed.cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        answer = _first_answer(f"http://127.0.0.1:{port}/health/listings", router, deadline=30)
        assert answer.code == 503
        assert json.load(answer)["services"]["listings"]["status"] == "down"
    finally:
        os.killpg(router.pid, signal.SIGTERM)
        router.wait(timeout=15)
    assert router.returncode == 0, router.stderr.read().decode() if router.stderr else ""


def _first_answer(url: str, server: subprocess.Popen[bytes], deadline: float) -> Any:
    """The server's first HTTP answer to `url` (an error status is an answer too)."""
    give_up = time.monotonic() + deadline
    while True:
        assert server.poll() is None, "the server exited before answering"
        try:
            return urllib.request.urlopen(url, timeout=5)
        except urllib.error.HTTPError as answer:
            return answer
        except OSError:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.1)


def test_a_one_shot_command_runs_from_the_installed_wheel(installed: Installed):
    done = _run([str(installed.env / "bin" / "boucle-admin"), "--help"], installed.cwd)
    assert "--email" in done.stdout


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("package", TRANSLATED)
def test_the_wheel_translates_every_package_page_text(
    installed: Installed, package: str, language: str
):
    messages = installed.site / package / "translations" / language / "LC_MESSAGES"
    compiled = messages / "messages.mo"
    assert compiled.is_file(), f"{compiled.relative_to(installed.site)} is not in the wheel"
    with compiled.open("rb") as mo_file:
        translations = gettext.GNUTranslations(mo_file)
    with (messages / "messages.po").open("rb") as po_file:
        catalogue = read_po(po_file)
    singular = [m for m in catalogue if m.id and isinstance(m.id, str) and m.string]
    assert singular, f"no translated text in {package}'s {language} catalogue"
    for message in singular:
        assert translations.gettext(message.id) == message.string, message.id
