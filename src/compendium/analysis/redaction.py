"""Personal-data screen for quotes, applied in the build before a quote is published.

A hit is replaced by a bracketed tag (``[name]``, ``[e-mail]``, ``[phone]``, ``[PESEL]``,
``[address]``) and counted, or stops the build (``on_hit="stop"``). Patterns for e-mails,
phone numbers, PESEL-like numbers and street addresses are those of
:mod:`compendium.publish.privacy` (the scan of ``data/`` and ``outputs/``); names come from the
authors' pseudonymisation list.

Convention for the list: ``<data_dir>/private/names.txt`` — one real name (or surname) per
line, ``#`` starts a comment. The folder ``private/`` is never published (it is outside
``outputs/`` and ignored by git); when the file is absent only the patterns are screened.
A listed name matches as a whole word or as the stem of an inflected form (``Kowalski`` also
matches ``Kowalskiego``), case-sensitively.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from compendium.analysis.disclosure_audit import DisclosureError

#: Personal data a published text must not hold (also used by the scan in publish.privacy).
PATTERNS: dict[str, re.Pattern[str]] = {
    "e-mail": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I),
    "phone": re.compile(
        r"(?<![\w/=+])(?:\+\d{2}[ -]?)?(?:\d{3}[ -]\d{3}[ -]\d{3}|\(\d{2,3}\) ?\d{3}[ -]?\d{2,4})"
        r"(?![\w/=+])"
    ),
    "PESEL-like number": re.compile(r"(?<![\w/=+.])\d{11}(?![\w/=+.])"),
    "street address": re.compile(
        r"\b(?:ul|al|os|pl)\. ?[A-ZŁŚŻŹĆ][\wąćęłńóśźż]+ \d+[a-z]?\b"
        r"|\b\d{1,5} [A-Z][a-z]+ (?:Street|St\.|Avenue|Ave\.|Road|Rd\.|Lane|Boulevard|Strasse|"
        r"Straße|gatan|vägen)\b"
    ),
}

TAGS = {"e-mail": "[e-mail]", "phone": "[phone]", "PESEL-like number": "[PESEL]",
        "street address": "[address]"}
NAMES_FILE = Path("private") / "names.txt"

__all__ = ["NAMES_FILE", "load_names", "redact", "screen_quotes"]


def load_names(data_dir: str | Path) -> list[str]:
    """Names from ``<data_dir>/private/names.txt`` (empty list if the file is absent)."""
    path = Path(data_dir) / NAMES_FILE
    if not path.is_file():
        return []
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return None
    alts = "|".join(re.escape(n) + (r"\w*" if len(n) >= 3 else "") for n in names)
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)")


def redact(text: str, names: Sequence[str] = ()) -> tuple[str, Counter[str]]:
    """``text`` with personal data replaced by tags, and the number of hits of each kind."""
    hits: Counter[str] = Counter()
    for kind, pat in PATTERNS.items():
        text, k = pat.subn(TAGS[kind], text)
        hits[kind] += k
    pat = _name_pattern(names)
    if pat is not None:
        text, k = pat.subn("[name]", text)
        hits["name"] += k
    return text, +hits


def screen_quotes(
    quotes: Sequence[str], names: Sequence[str] = (), on_hit: str = "redact", where: str = "",
) -> tuple[list[str], Counter[str]]:
    """Redact every quote (``on_hit="redact"``) or refuse the first hit (``"stop"``)."""
    if on_hit not in ("redact", "stop"):
        raise ValueError(f"on_hit must be 'redact' or 'stop', got {on_hit!r}")
    total: Counter[str] = Counter()
    out = []
    for q in quotes:
        clean, hits = redact(q, names)
        if hits and on_hit == "stop":
            raise DisclosureError(
                f"{where}: a quote holds personal data ({', '.join(sorted(hits))}); "
                "redact the transcript or build with redaction on")
        total += hits
        out.append(clean)
    return out, total
