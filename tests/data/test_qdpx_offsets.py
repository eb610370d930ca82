"""Offset conventions computed over whole texts (numpy) against independent counts.

Oracles: offsets worked out by hand for small texts with an emoji, a combining mark, CRLF and
a lone CR; Python's own UTF-16 encoder (``len(s.encode("utf-16-le")) // 2``) and ``str.replace``
line-end normalisation on every prefix of generated texts (Hypothesis); and, for the evidence a
convention collects (which decides the convention and words the refusal), the previous
per-character implementation, kept below only as a reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium.data.qdpx_offsets import (
    CODEPOINTS_CRLF,
    CODEPOINTS_LF,
    CONVENTIONS,
    UTF16_CRLF,
    UTF16_LF,
    Convention,
    Fit,
    NoConventionFits,
    Selection,
    choose_convention,
    evaluate,
    layout,
    name_matches,
    on_word_edge,
    to_indices,
)


def _units(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _norm(s: str) -> str:
    return s.replace("\r\n", "\n").replace("\r", "\n")


def _expected(conv: Convention, raw: str) -> dict[int, int]:
    """``{position: index in the \\n-text}`` from the encoder and ``str.replace`` alone: cut
    the stored text wherever a cut does not split a CRLF, count the prefix in the convention
    (on the stored prefix when CRLF counts two, on the normalised prefix when one)."""
    out = {}
    for r in range(len(raw) + 1):
        if 0 < r < len(raw) and raw[r - 1] == "\r" and raw[r] == "\n":
            continue  # inside a CRLF: no character of the \n-text starts here
        prefix = raw[:r] if conv.crlf_two else _norm(raw[:r])
        out[_units(prefix) if conv.utf16 else len(prefix)] = len(_norm(raw[:r]))
    return out


# --- the previous implementation (one character at a time), kept only as a reference ------

def _previous_boundaries(conv: Convention, raw: str) -> dict[int, int]:
    """The previous ``Convention.boundaries``: a Python loop over every character."""
    out: dict[int, int] = {0: 0}
    pos = idx = 0
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\r":
            two = i + 1 < len(raw) and raw[i + 1] == "\n"
            pos += 2 if (two and conv.crlf_two) else 1
            i += 2 if two else 1
        else:
            pos += 2 if (conv.utf16 and ord(ch) > 0xFFFF) else 1
            i += 1
        idx += 1
        out[pos] = idx
    return out


def _previous_evaluate(conv: Convention, selections, raws, texts) -> Fit:
    """The previous ``evaluate``: a dictionary of every position of every text."""
    fit = Fit(conv)
    maps = {doc: _previous_boundaries(conv, raw) for doc, raw in raws.items()}
    for sel in selections:
        bounds, text = maps[sel.doc], texts[sel.doc]
        a, b = bounds.get(sel.start), bounds.get(sel.end)
        if a is None or b is None or a > b:
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


# --- hand-worked offsets ---------------------------------------------------------------------

# "Cafe" + COMBINING ACUTE ACCENT (its own code point, one UTF-16 unit) + " " + an emoji
# (one code point, two UTF-16 units) + CRLF + "ok". The \n-text has 10 characters:
# C a f e ◌́ ␠ 😀 ⏎ o k. Positions of the indices 0..10 in each convention:
CAFE = "Cafe\u0301 \U0001F600\r\nok"
CAFE_OFFSETS = {
    CODEPOINTS_LF: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    UTF16_LF: [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11],  # the emoji (index 6) counts two
    CODEPOINTS_CRLF: [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11],  # the CRLF (index 7) counts two
    UTF16_CRLF: [0, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12],  # both
}
# A lone CR, then a CR right before a CRLF: only the last pair is a CRLF. \n-text: a ⏎ ⏎ b ⏎.
LONE_CR = "a\r\rb\r\n"
LONE_CR_OFFSETS = {
    CODEPOINTS_LF: [0, 1, 2, 3, 4, 5],
    UTF16_LF: [0, 1, 2, 3, 4, 5],
    CODEPOINTS_CRLF: [0, 1, 2, 3, 4, 6],
    UTF16_CRLF: [0, 1, 2, 3, 4, 6],
}


@pytest.mark.parametrize("conv", CONVENTIONS, ids=lambda c: c.name)
@pytest.mark.parametrize(("raw", "table"), [(CAFE, CAFE_OFFSETS), (LONE_CR, LONE_CR_OFFSETS)],
                         ids=["emoji-combining-crlf", "lone-cr"])
def test_hand_worked_offsets(conv, raw, table):
    assert conv.offsets(layout(raw)).tolist() == table[conv]
    assert conv.boundaries(raw) == {p: i for i, p in enumerate(table[conv])}
    assert conv.length(raw) == table[conv][-1]


def test_hand_worked_offsets_agree_with_the_encoder():
    # the hand tables above, recounted by the encoder and str.replace on every prefix
    for conv in CONVENTIONS:
        assert _expected(conv, CAFE) == {p: i for i, p in enumerate(CAFE_OFFSETS[conv])}
        assert _expected(conv, LONE_CR) == {p: i for i, p in enumerate(LONE_CR_OFFSETS[conv])}
    assert _units(CAFE) == 12 and len(CAFE) == 11


def test_positions_inside_a_pair_or_off_the_text_map_to_nothing():
    off = UTF16_CRLF.offsets(layout(CAFE))
    # 7 is inside the emoji, 9 inside the CRLF, 13 past the end, -1 before the start
    got = to_indices(off, np.array([0, 6, 7, 8, 9, 10, 12, 13, -1]))
    assert got.tolist() == [0, 6, -1, 7, -1, 8, 10, -1, -1]


def test_nvivo_style_span_found_where_the_encoder_puts_it():
    raw = "Hi 😀 there.\r\nWe trust NGOs 👍 a lot.\r\nEnd."
    start = _units(raw[:raw.index("NGOs")])
    assert start == 23  # "Hi " 3 + emoji 2 + " there." 7 + CRLF 2 + "We trust " 9
    text = _norm(raw)
    a, b = to_indices(UTF16_CRLF.offsets(layout(raw)), np.array([start, start + 4])).tolist()
    assert text[a:b] == "NGOs"


# --- generated texts: the encoder's count --------------------------------------------------

CHARS = st.one_of(
    st.sampled_from(["a", "b", " ", ".", "\r", "\n", "\r\n", "é", "\u0301", "\U0001F600",
                     "\U0001F44D", "\U0001F1F5\U0001F1F1", "\uFFFF", "\U00010000"]),
    st.characters(blacklist_categories=("Cs",)),
)
TEXTS = st.lists(CHARS, max_size=40).map("".join)
#: Reproducible; ``make test-fast`` (the ``fast`` profile, tests/conftest.py) caps the count.
SETTINGS = settings(max_examples=min(100, settings.default.max_examples), deadline=None,
                    derandomize=True, database=None)


@SETTINGS
@given(raw=TEXTS, extra=st.lists(st.integers(-3, 100), max_size=20))
def test_offsets_equal_the_encoder_count_on_generated_texts(raw, extra):
    lay = layout(raw)
    assert len(lay.crlf) == len(lay.astral) == len(_norm(raw))
    for conv in CONVENTIONS:
        expected = _expected(conv, raw)
        offsets = conv.offsets(lay)
        assert dict(zip(offsets.tolist(), range(len(offsets)), strict=True)) == expected
        assert conv.length(raw) == max(expected)
        positions = sorted(expected) + extra
        got = to_indices(offsets, np.array(positions, dtype=np.int64)).tolist()
        assert got == [expected.get(p, -1) for p in positions]


@st.composite
def projects(draw):
    """Two generated texts and selections on them: some at real cuts, some anywhere."""
    raws = {d: draw(TEXTS) for d in ("d1", "d2")}
    sels = []
    for _ in range(draw(st.integers(0, 12))):
        doc = draw(st.sampled_from(sorted(raws)))
        top = _units(raws[doc]) + 2
        a, b = sorted(draw(st.lists(st.integers(0, top), min_size=2, max_size=2)))
        name = draw(st.one_of(st.none(), st.just(""), st.text(max_size=4),
                              st.just(_norm(raws[doc])[a:b])))
        sels.append(Selection(doc, a, b, name))
    return sels, raws, {d: _norm(r) for d, r in raws.items()}


@SETTINGS
@given(projects())
def test_evidence_and_choice_equal_the_previous_implementation(project):
    sels, raws, texts = project
    for conv in CONVENTIONS:
        new, old = evaluate(conv, sels, raws, texts), _previous_evaluate(conv, sels, raws, texts)
        assert (new.spans, new.unmapped, new.named, new.name_agrees, new.edges,
                new.edge_hits) == (old.spans, old.unmapped, old.named, old.name_agrees,
                                   old.edges, old.edge_hits)
        assert new.summary() == old.summary()
        # every mapped span is also where the encoder puts its positions
        expected = {d: _expected(conv, r) for d, r in raws.items()}
        for sel, span in zip(sels, new.spans, strict=True):
            a, b = expected[sel.doc].get(sel.start), expected[sel.doc].get(sel.end)
            assert span == (None if a is None or b is None or a > b else (a, b))
    try:
        choice = choose_convention("NVivo 14", sels, raws, texts)
    except NoConventionFits as exc:
        assert str(exc).startswith("no offset convention fits the coded selections")
        assert [f.summary() for f in exc.fits] == [
            _previous_evaluate(c, sels, raws, texts).summary() for c in
            (UTF16_CRLF, CODEPOINTS_LF, CODEPOINTS_CRLF, UTF16_LF)]
    else:
        assert choice.spans == _previous_evaluate(choice.convention, sels, raws, texts).spans
