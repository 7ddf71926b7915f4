"""Compile every package's .po catalogues into .mo files (run by make before run and test)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)


def compile_catalogues(root: Path = ROOT) -> int:
    """Write messages.mo beside each messages.po that is newer; returns how many were written."""
    written = 0
    for po_path in sorted(root.glob("*/translations/*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue)
        written += 1
        log.info("compiled %s", po_path.relative_to(root))
    return written


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    compile_catalogues()
    sys.exit(0)
