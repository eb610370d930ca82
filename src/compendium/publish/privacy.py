"""A scan for personal data that must never enter ``data/`` or ``outputs/``.

Looks for e-mail addresses, phone numbers, PESEL-like numbers (11 digits) and street
addresses (Polish ``ul./al./os.`` and English ``12 Baker Street`` forms). Text inside zip
containers (``.xlsx``, ``.qdpx``) is scanned too. A hit is a place for a person to look.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from compendium.analysis.redaction import PATTERNS  # one list of personal-data patterns

TEXT_SUFFIXES = {".csv", ".txt", ".yaml", ".yml", ".json", ".md", ".html", ".ipynb", ".svg",
                 ".xml", ".qde"}
ZIP_SUFFIXES = {".xlsx", ".qdpx", ".zip"}


GEOMETRY = re.compile(r'\s(?:d|points|transform|viewBox|x|y|width|height)="[^"]*"')


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """``(kind, matched text)`` for every suspicious string in ``text``.

    Embedded images (base64) and SVG geometry (path data, coordinates) are not text a
    person wrote, and are left out before matching.
    """
    text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\\n]+", "", text)
    text = GEOMETRY.sub(" ", text)
    return [(kind, m.group(0)) for kind, pat in PATTERNS.items() for m in pat.finditer(text)]


def _texts(path: Path):
    if path.suffix.lower() in ZIP_SUFFIXES:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if not name.endswith("/"):
                    yield f"{path}!{name}", zf.read(name).decode("utf-8", errors="replace")
    elif path.suffix.lower() in TEXT_SUFFIXES:
        raw = path.read_bytes()
        try:
            yield str(path), raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            yield str(path), raw.decode("cp1250", errors="replace")


def scan_tree(folder: str | Path) -> list[tuple[str, str, str]]:
    """``(file, kind, match)`` for every hit under ``folder``."""
    hits = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            for name, text in _texts(path):
                hits += [(name, kind, match) for kind, match in find_personal_data(text)]
    return hits
