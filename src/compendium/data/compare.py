"""Compare two copies of one coded study (e.g. a Dedoose export and a REFI-QDA project).

When one study comes in two formats, both must describe the same interviews, codebook,
coded passages and codings; :func:`first_difference` names the first place where they
do not, in the order documents, descriptors, codes, segments (range and text), codings.
"""

from __future__ import annotations

import pandas as pd

from compendium.data.corpus import CodedCorpus


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return list(frame[columns].itertuples(index=False, name=None))


def _diff_sets(kind: str, a: list[tuple], b: list[tuple], name_a: str,
               name_b: str) -> str | None:
    set_a, set_b = set(a), set(b)
    only_a = [r for r in a if r not in set_b]
    only_b = [r for r in b if r not in set_a]
    if only_a:
        return f"{kind} {_fmt(only_a[0])} is in the {name_a} but not in the {name_b}"
    if only_b:
        return f"{kind} {_fmt(only_b[0])} is in the {name_b} but not in the {name_a}"
    return None


def _fmt(row: tuple) -> str:
    return repr(row[0]) if len(row) == 1 else repr(row)


def first_difference(a: CodedCorpus, b: CodedCorpus, name_a: str = "first copy",
                     name_b: str = "second copy") -> str | None:
    """The first disagreement between two corpora of one study, in words; None if they agree.

    Documents are compared as sets of ``doc_id`` (their order in the export may differ),
    descriptors as ``(doc_id, attribute, value)``, codes as ``code_id`` paths, segments as
    ``(doc_id, start, end)`` and then their text, codings as
    ``(doc_id, start, end, code_id, coder)``.
    """
    checks = [
        ("document", _rows(a.documents, ["doc_id"]), _rows(b.documents, ["doc_id"])),
        ("descriptor value", _rows(a.doc_attributes, ["doc_id", "attribute", "value"]),
         _rows(b.doc_attributes, ["doc_id", "attribute", "value"])),
        ("code", _rows(a.codes, ["code_id"]), _rows(b.codes, ["code_id"])),
        ("segment", _rows(a.segments, ["doc_id", "start", "end"]),
         _rows(b.segments, ["doc_id", "start", "end"])),
    ]
    for kind, rows_a, rows_b in checks:
        found = _diff_sets(kind, rows_a, rows_b, name_a, name_b)
        if found:
            return found
    text_b = {(d, s, e): t for d, s, e, t in _rows(b.segments, ["doc_id", "start", "end",
                                                                   "text"])}
    for d, s, e, t in _rows(a.segments, ["doc_id", "start", "end", "text"]):
        if text_b[(d, s, e)] != t:
            return (f"segment {(d, s, e)!r} has the text {t[:60]!r} in the {name_a} but "
                    f"{text_b[(d, s, e)][:60]!r} in the {name_b}")
    return _diff_sets("coding", _codings(a), _codings(b), name_a, name_b)


def _codings(corpus: CodedCorpus) -> list[tuple]:
    merged = corpus.codings.merge(corpus.segments, on="segment_id", how="left")
    return _rows(merged, ["doc_id", "start", "end", "code_id", "coder"])
