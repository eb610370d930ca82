"""How REFI-QDA producers count ``startPosition``/``endPosition``, and a check on the data.

QDA-XML 1.0 says positions count characters of the plain text, end exclusive. Producers
differ in two ways (see ``data/README.md`` for the sources of each entry):

* the unit: Unicode code points (Python, Java ``codePointCount``) or UTF-16 code units
  (.NET, Qt, JavaScript strings: a character outside the Basic Multilingual Plane, such as
  an emoji, counts as two);
* the line end: a Windows ``\\r\\n`` counted as two characters (as stored) or as one (the
  tool shows ``\\n`` and counts that).

The reader keeps every text with ``\\n`` line ends. A :class:`Convention` maps its positions
onto that text; :func:`choose_convention` tries the producer's usual convention first and
checks it on the data: every position must fall on a character of the text (not inside a
``\\r\\n`` or a surrogate pair), a passage text the project stores (``PlainTextSelection/@name``)
must match its slice, and selections must start and end at word edges far more often than
positions drawn at random would. A convention that fails is never used silently: another
that fits is used with a warning, and when none fits the project is refused.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: Share of selection ends that must fall on a word edge (human selections: nearly all;
#: positions at random in prose: about a third). Only used when conventions disagree.
MIN_EDGE_RATE = 0.9


@dataclass(frozen=True)
class Layout:
    """Which characters of a \\n-text count twice in some convention (one flag each)."""

    crlf: np.ndarray  # bool: the character stands for a stored "\r\n"
    astral: np.ndarray  # bool: outside the Basic Multilingual Plane (two UTF-16 units)


def layout(raw: str) -> Layout:
    """The :class:`Layout` of a stored text (its ``\\n``-text replaces each ``\\r\\n`` and each
    lone ``\\r`` by one ``\\n``), computed over the whole text at once."""
    cp = np.frombuffer(raw.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    crlf = np.zeros(len(cp), dtype=bool)  # a "\r" whose next character is "\n"
    crlf[:-1] = (cp[:-1] == 0x0D) & (cp[1:] == 0x0A)
    keep = np.ones(len(cp), dtype=bool)
    keep[1:] = ~crlf[:-1]  # the "\n" of a pair has no character of its own
    return Layout(crlf[keep], (cp > 0xFFFF)[keep])


@dataclass(frozen=True)
class Convention:
    """One way of counting positions: the unit and how a ``\\r\\n`` line end counts."""

    name: str
    utf16: bool  # count UTF-16 code units (an emoji is 2) instead of code points
    crlf_two: bool  # a stored "\r\n" counts as two characters

    def offsets(self, lay: Layout) -> np.ndarray:
        """Position in this convention of every index ``0..n`` of the ``\\n``-text (``n + 1``
        strictly increasing whole numbers): one per character, plus one more for a character
        outside the BMP (UTF-16) or a ``\\r\\n`` (when it counts as two)."""
        widths = np.ones(len(lay.astral), dtype=np.int64)
        if self.utf16:
            widths += lay.astral
        if self.crlf_two:
            widths += lay.crlf
        out = np.zeros(len(widths) + 1, dtype=np.int64)
        np.cumsum(widths, out=out[1:])
        return out

    def boundaries(self, raw: str) -> dict[int, int]:
        """``{position in this convention: index in the \\n-text}`` for every index.

        ``raw`` is the source text as stored (BOM removed, line ends untouched).
        Positions inside a ``\\r\\n`` (when it counts as two) or a surrogate pair are absent.
        """
        return dict(zip(self.offsets(layout(raw)).tolist(), itertools.count()))

    def length(self, raw: str) -> int:
        """The whole text's length in this convention (its last position)."""
        return int(self.offsets(layout(raw))[-1])


CODEPOINTS_LF = Convention("code points, CRLF as one", utf16=False, crlf_two=False)
CODEPOINTS_CRLF = Convention("code points, CRLF as two", utf16=False, crlf_two=True)
UTF16_LF = Convention("UTF-16 code units, CRLF as one", utf16=True, crlf_two=False)
UTF16_CRLF = Convention("UTF-16 code units, CRLF as two", utf16=True, crlf_two=True)
CONVENTIONS = (CODEPOINTS_LF, CODEPOINTS_CRLF, UTF16_LF, UTF16_CRLF)


@dataclass(frozen=True)
class Producer:
    """A tool recognised by ``Project/@origin`` and the convention it is known to use."""

    name: str
    pattern: str  # regular expression searched in ``origin`` (case-insensitive)
    convention: Convention
    note: str


PRODUCERS = (
    Producer("NVivo", r"nvivo", UTF16_CRLF,
             "UTF-16 code units on the stored text, each CRLF counted as two"),
    Producer("ATLAS.ti", r"atlas", CODEPOINTS_LF,
             "source files keep CRLF, positions count it as one character"),
    Producer("MAXQDA", r"maxqda", CODEPOINTS_LF,
             "CRLF counted as one (QualCoder writes CRLF with LF positions for MAXQDA)"),
    Producer("QualCoder", r"qualcoder", CODEPOINTS_LF,
             "Python string indices of its LF text; passage text in @name"),
    Producer("Taguette", r"taguette", CODEPOINTS_LF, "Python string indices of its text"),
    Producer("compendium", r"^compendium", CODEPOINTS_LF,
             "this package's writer: code points of the LF text"),
)
#: Used when ``origin`` names no known producer: the standard's reading.
STANDARD = Producer("unknown producer", r"", CODEPOINTS_LF, "the standard: characters")


def producer_of(origin: str | None) -> Producer:
    """The known producer whose pattern ``origin`` matches (else :data:`STANDARD`)."""
    for prod in PRODUCERS:
        if origin and re.search(prod.pattern, origin, flags=re.IGNORECASE):
            return prod
    return STANDARD


@dataclass(frozen=True)
class Selection:
    """One coded selection as stored: its source, raw positions and stored passage text."""

    doc: str
    start: int
    end: int
    name: str | None = None


@dataclass
class Fit:
    """How well one convention fits the selections of a project."""

    convention: Convention
    spans: list[tuple[int, int] | None] = field(default_factory=list)  # \n-text indices
    unmapped: int = 0  # positions outside the text or inside a CRLF / surrogate pair
    named: int = 0  # selections whose stored passage text could be compared
    name_agrees: int = 0
    edges: int = 0  # selection ends checked for a word edge
    edge_hits: int = 0

    @property
    def edge_rate(self) -> float:
        return self.edge_hits / self.edges if self.edges else 1.0

    def fits(self, use_names: bool) -> bool:
        """All positions map, stored texts agree (when any does), ends fall on word edges."""
        if self.unmapped:
            return False
        if use_names and self.named and self.name_agrees < self.named:
            return False
        return self.edge_rate >= MIN_EDGE_RATE

    def summary(self) -> str:
        return (f"{self.convention.name}: {self.unmapped} positions off the text, "
                f"{self.name_agrees}/{self.named} stored passage texts agree, "
                f"{self.edge_hits}/{self.edges} ends on a word edge")


@dataclass(frozen=True)
class Choice:
    """The convention used, the evidence, and a warning when it is not the producer's."""

    producer: Producer
    convention: Convention
    spans: list[tuple[int, int]]
    ambiguous: bool  # conventions gave different passages, so the check decided
    fits: tuple[Fit, ...]
    warning: str | None = None


class NoConventionFits(ValueError):
    """No offset convention maps the selections onto their texts plausibly."""

    def __init__(self, producer: Producer, fits: Sequence[Fit]) -> None:
        self.producer, self.fits = producer, list(fits)
        lines = "; ".join(f.summary() for f in fits)
        super().__init__(f"no offset convention fits the coded selections ({lines})")


def _word(ch: str) -> bool:
    return ch.isalnum()


def on_word_edge(text: str, pos: int) -> bool:
    """True when ``pos`` does not split a word (a letter or digit on both sides)."""
    if pos <= 0 or pos >= len(text):
        return True
    return not (_word(text[pos - 1]) and _word(text[pos]))


def chance_edge_rate(texts: Sequence[str]) -> float:
    """Share of all positions of ``texts`` that fall on a word edge (the chance level)."""
    hits = total = 0
    for text in texts:
        total += len(text) + 1
        hits += sum(on_word_edge(text, p) for p in range(len(text) + 1))
    return hits / total if total else 1.0


def _squash(text: str) -> str:
    return " ".join(text.split())


def name_matches(name: str, passage: str) -> bool:
    """A stored passage text (maybe shortened, ``...``/``…`` at its end) fits the slice."""
    stored = _squash(re.sub(r"(\.\.\.|…)\s*$", "", name))
    return _squash(passage).startswith(stored)


def to_indices(offsets: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Index in the ``\\n``-text of each position (``offsets`` from
    :meth:`Convention.offsets`); -1 where a position is off the text or inside a
    ``\\r\\n`` or a surrogate pair."""
    idx = np.searchsorted(offsets, positions)
    hit = np.zeros(len(idx), dtype=bool)
    inside = idx < len(offsets)
    hit[inside] = offsets[idx[inside]] == positions[inside]
    return np.where(hit, idx, -1)


def evaluate(conv: Convention, selections: Sequence[Selection], raws: dict[str, str],
             texts: dict[str, str], layouts: dict[str, Layout] | None = None) -> Fit:
    """Map every selection with ``conv`` and collect the evidence for :class:`Fit`.

    Only the selections' own positions are looked up (``layouts``, when given, saves
    computing each text's :class:`Layout` again for every convention)."""
    fit = Fit(conv)
    if layouts is None:
        layouts = {doc: layout(raw) for doc, raw in raws.items()}
    rows: dict[str, list[int]] = {}
    for i, sel in enumerate(selections):
        rows.setdefault(sel.doc, []).append(i)
    starts = np.array([s.start for s in selections], dtype=np.int64)
    ends = np.array([s.end for s in selections], dtype=np.int64)
    first = np.full(len(selections), -1, dtype=np.int64)
    last = np.full(len(selections), -1, dtype=np.int64)
    for doc, at in rows.items():
        offsets = conv.offsets(layouts[doc])
        first[at] = to_indices(offsets, starts[at])
        last[at] = to_indices(offsets, ends[at])
    for sel, a, b in zip(selections, first.tolist(), last.tolist(), strict=True):
        text = texts[sel.doc]
        if a < 0 or b < 0 or a > b:
            fit.unmapped += 1
            fit.spans.append(None)
            continue
        fit.spans.append((a, b))
        if a < b:
            fit.edges += 2
            fit.edge_hits += on_word_edge(text, a) + on_word_edge(text, b)
        if sel.name and sel.name.strip():
            fit.named += 1
            fit.name_agrees += name_matches(sel.name, text[a:b])
    return fit


def choose_convention(origin: str | None, selections: Sequence[Selection],
                      raws: dict[str, str], texts: dict[str, str]) -> Choice:
    """Pick the offset convention of a project and check it on the data.

    ``raws`` are the stored texts (line ends as stored), ``texts`` the same with ``\\n``
    line ends, both keyed by the selections' ``doc``. Raises :class:`NoConventionFits`.
    """
    producer = producer_of(origin)
    order = [producer.convention] + [c for c in CONVENTIONS if c != producer.convention]
    layouts = {doc: layout(raw) for doc, raw in raws.items()}
    fits = [evaluate(c, selections, raws, texts, layouts) for c in order]
    mapped = [f for f in fits if not f.unmapped]
    distinct = {tuple(f.spans) for f in mapped}
    first = fits[0]
    if len(distinct) == 1 and not first.unmapped and (not first.named
                                                      or first.name_agrees == first.named):
        # every convention that maps at all gives the same passages: nothing to decide
        return Choice(producer, first.convention, list(first.spans), False, tuple(fits))
    use_names = any(f.name_agrees for f in fits)
    good = [f for f in fits if f.fits(use_names)]
    if not good:
        raise NoConventionFits(producer, fits)
    best = good[0] if good[0] is first else max(
        good, key=lambda f: (f.name_agrees, f.edge_rate))
    warning = None
    if best is not first:
        warning = (f"positions follow '{best.convention.name}', not the usual "
                   f"'{first.convention.name}' of {producer.name}; checked on the data: "
                   f"{best.summary()} (usual: {first.summary()})")
    return Choice(producer, best.convention, list(best.spans), True, tuple(fits), warning)
