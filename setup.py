"""Build hook: a wheel or sdist build compiles every package's .po catalogues into .mo files.

The .mo files are build products (not in git), and gettext only reads compiled catalogues, so a
wheel without them would serve every page in English. build_py copies the .po files as package
data; this writes the matching .mo beside each one in the build directory, with the same
routine `make translations` uses, so the source tree is left as it is. All metadata lives in
pyproject.toml.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# The build backend runs this file with the project directory as cwd, not on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from services.devtools.i18n import compile_catalogues


class BuildPyWithCatalogues(build_py):
    """build_py, then compile the copied catalogues where the wheel is assembled from."""

    def run(self) -> None:
        super().run()
        # An editable install serves the source tree, where `make translations` compiles.
        if not self.editable_mode:
            compile_catalogues(Path(self.build_lib))


setup(cmdclass={"build_py": BuildPyWithCatalogues})
