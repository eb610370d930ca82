"""The coded-interview notebooks' compositions: subsets, labelled tables, tests, findings.

Generic analyses live in :mod:`compendium.analysis.qual` (re-exporting ``coding``,
``cooccurrence``, ``saturation``, ``agreement`` and ``quotes``); this module puts them together
the way the Wielkopolska IDI, four-city and synthesis notebooks present them, with labels in
the run's language and disclosure control applied to every published count. Methods:
``docs/methods.md`` sections 2 and 3.

Length: over ~600 lines with the corpus-specific disclosure compositions (``declare``,
``crosstab_docs``, ``publish_code_table``, ``publishable_long``, ``heatmap_frames``, ...) and
the declared-coder and agreement compositions; the generic wrappers (frames, matrices, single
counts) live in :mod:`compendium.analysis.protect`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compendium.analysis import disclosure, qual, redaction, stats
from compendium.analysis.disclosure_audit import MARKER, Ledger, key
from compendium.analysis.protect import (  # the notebooks call these as ia.<name>
    as_text as as_text,
)
from compendium.analysis.protect import (
    check_total,
    protect_frame,
    protect_matrix,
)
from compendium.analysis.protect import (
    gated_count as gated_count,
)
from compendium.analysis.protect import (
    numeric as numeric,
)
from compendium.analysis.protect import (
    published_counts as published_counts,
)
from compendium.analysis.protect import (
    rounded_text as rounded_text,
)
from compendium.data.corpus import CodedCorpus, attributes_wide
from compendium.data.labels import Labels
from compendium.errors import ParameterError

UNIT_COLUMN = {"interview": "n_documents", "segment": "n_segments"}
UNIT_LABEL = {
    ("interview", "en"): "interviews", ("interview", "pl"): "wywiady",
    ("segment", "en"): "coded passages", ("segment", "pl"): "zakodowane fragmenty",
}


# ----------------------------------------------------------------------------- reading
def read_four_cities(data_dir: str | Path, source: str) -> CodedCorpus:
    """The four-city interviews from the Dedoose export or the REFI-QDA project."""
    raw = Path(data_dir) / "raw" / "four_cities"
    if source == "dedoose":
        from compendium.data.dedoose import read_dedoose

        return read_dedoose(raw / "dedoose_excerpts.xlsx", raw / "dedoose_codes.xlsx")
    if source == "qdpx":
        from compendium.data.qdpx import read_qdpx

        return read_qdpx(raw / "project.qdpx")
    raise ParameterError("source", f"unknown source {source!r}", allowed=["dedoose", "qdpx"])


def subset(corpus: CodedCorpus, keep: Mapping[str, Sequence[str]]) -> CodedCorpus:
    """Only the documents whose descriptors take one of the given values (all tables follow)."""
    wide = attributes_wide(corpus)
    mask = pd.Series(True, index=wide.index)
    for attribute, values in keep.items():
        if attribute not in wide.columns:
            raise ParameterError(attribute, "no such descriptor", allowed=sorted(wide.columns))
        mask &= wide[attribute].isin(list(values))
    docs = set(wide.index[mask])
    segments = corpus.segments[corpus.segments["doc_id"].isin(docs)].reset_index(drop=True)
    return replace(
        corpus,
        documents=corpus.documents[corpus.documents["doc_id"].isin(docs)].reset_index(drop=True),
        doc_attributes=corpus.doc_attributes[corpus.doc_attributes["doc_id"].isin(docs)]
        .reset_index(drop=True),
        segments=segments,
        codings=corpus.codings[corpus.codings["segment_id"].isin(set(segments["segment_id"]))]
        .reset_index(drop=True),
    )


def top_level(codes: pd.DataFrame) -> pd.Series:
    """``code_id -> top-level ancestor code_id``."""
    parent = dict(zip(codes["code_id"], codes["parent_id"], strict=True))
    out = {}
    for code in codes["code_id"]:
        top = code
        while isinstance(parent.get(top), str):
            top = parent[top]
        out[code] = top
    return pd.Series(out, name="top")


def at_level(corpus: CodedCorpus, level: str) -> CodedCorpus:
    """``leaf``: the corpus as coded. ``top``: every coding moved up to its top-level code."""
    if level == "leaf":
        return corpus
    if level != "top":
        raise ParameterError("code_level", f"unknown level {level!r}", allowed=["top", "leaf"])
    top = top_level(corpus.codes)
    codings = corpus.codings.assign(code_id=corpus.codings["code_id"].map(top))
    codings = codings.drop_duplicates().reset_index(drop=True)
    codes = corpus.codes[corpus.codes["level"] == 1].reset_index(drop=True)
    return replace(corpus, codes=codes, codings=codings)


def theme_codes(corpus: CodedCorpus, parents: str | Iterable[str]) -> list[str]:
    """Children of ``parents`` in the codebook, or the parents themselves at top level."""
    parents = [parents] if isinstance(parents, str) else list(parents)
    codes = corpus.codes
    kids = codes.loc[codes["parent_id"].isin(parents), "code_id"].tolist()
    return kids or [c for c in parents if c in set(codes["code_id"])]


# ----------------------------------------------------------------------------- labels
def code_labels(codes: Iterable[str], labels: Labels, lang: str) -> list[str]:
    """Labels of code ids in ``lang``."""
    return [labels.code(c, lang) for c in codes]


def unit_column(unit: str) -> str:
    """The count column a unit ranks by."""
    try:
        return UNIT_COLUMN[unit]
    except KeyError:
        raise ParameterError("unit", f"unknown unit {unit!r}", allowed=list(UNIT_COLUMN)) from None


def unit_label(unit: str, lang: str) -> str:
    """Axis label of a unit."""
    return UNIT_LABEL[(unit, lang)]


# ----------------------------------------------------------------------------- tables
def declare(ledger: Ledger, corpus: CodedCorpus) -> None:
    """Tell the notebook's disclosure ledger how this corpus partitions its units.

    Units: ``interview`` (documents) and ``coded segment``; conditions: every descriptor
    (documents without a value form a ``(missing)`` group), ``doc`` (coded segments by
    interview) and ``has:<code>`` (True/False, implicit).
    """
    wide = attributes_wide(corpus)
    for attribute in wide.columns:
        values = wide[attribute].astype(object).where(wide[attribute].notna(), "(missing)")
        values = list(dict.fromkeys(values.tolist()))
        for unit in ("interview", "coded segment"):
            ledger.domain(unit, attribute, values)
    ledger.domain("coded segment", "doc", corpus.documents["doc_id"].tolist())
    ledger.domain("interview", "double_coded", (True, False))
    ledger.publish({key("interview"): len(corpus.documents)}, "corpus size")


def crosstab_docs(
    corpus: CodedCorpus, rows: str, cols: str, labels: Labels, lang: str, ledger: Ledger,
    artefact: str, row_order: Sequence[str] | None = None,
    col_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Interviews by two descriptors, with totals, labelled and protected by ``ledger``.

    ``row_order``/``col_order`` order the rows/columns (values not listed follow). The grand
    total must equal the number of interviews (a wrong reindex once published zeros).
    """
    wide = attributes_wide(corpus)
    for name in (rows, cols):
        if name not in wide.columns:
            raise ParameterError(name, "no such descriptor", allowed=sorted(wide.columns))
    tab = pd.crosstab(wide[rows], wide[cols])
    if row_order is not None:
        tab = tab.reindex(index=_ordered(tab.index, row_order))
    if col_order is not None:
        tab = tab.reindex(columns=_ordered(tab.columns, col_order))
    check_total(int(tab.to_numpy().sum()), len(corpus.documents), artefact)
    tab.loc["Total"] = tab.sum()
    tab["Total"] = tab.sum(axis=1)
    tab = tab.astype(int)
    keys = pd.DataFrame(
        [[key("interview", {d: v for d, v in ((rows, r), (cols, c)) if v != "Total"})
          for c in tab.columns] for r in tab.index],
        index=tab.index, columns=tab.columns, dtype=object)
    shown = protect_matrix(ledger, tab, keys, artefact)
    total = "Total" if lang == "en" else "Razem"
    shown.index = [total if v == "Total" else labels.value(rows, v, lang) for v in shown.index]
    shown.columns = [total if v == "Total" else labels.value(cols, v, lang) for v in shown.columns]
    shown.index.name = labels.attribute(rows, lang)
    out = shown.reset_index()
    out.attrs = dict(shown.attrs)
    return out


def _ordered(present: Iterable[object], order: Sequence[str]) -> list[object]:
    present = list(present)
    return [v for v in order if v in present] + [v for v in present if v not in order]


def publish_code_table(ledger: Ledger, df: pd.DataFrame, artefact: str) -> pd.DataFrame:
    """A per-code table (``code_id``, ``n_documents``, ``n_segments``, ``pct_documents``)
    protected by ``ledger``: interviews and coded segments carrying each code."""
    keys = {}
    if "n_documents" in df.columns:
        keys["n_documents"] = [key("interview", {f"has:{c}": True}) for c in df["code_id"]]
    if "n_segments" in df.columns:
        keys["n_segments"] = [key("coded segment", {f"has:{c}": True}) for c in df["code_id"]]
    derived = {c: ["n_documents"] for c in df.columns if c.startswith("pct")}
    return protect_frame(ledger, df, keys, artefact, derived=derived)


def saturation(corpus: CodedCorpus, by: str) -> pd.DataFrame:
    """:func:`qual.saturation`, declared exempt from count rules (it counts distinct codes by
    interview order, not interviewees)."""
    out = qual.saturation(corpus, by=by)
    out.attrs["sdc"] = "exempt: distinct codes by interview order, not a count of people"
    return out


def area_table(
    corpus: CodedCorpus, parent: str, areas: Sequence[str] | None, labels: Labels, lang: str,
    unit: str,
) -> pd.DataFrame:
    """Frequency and prevalence of the children of ``parent`` (optionally a subset, by title).

    Ranked by the unit's count, largest first (ties in code-tree order); codes never applied
    stay, as zeros.
    """
    freq = qual.code_frequency(corpus)
    kids = freq[freq["parent_id"] == parent]
    if areas is not None:
        known = set(kids["title"])
        missing = [a for a in areas if a not in known]
        if missing:
            raise ParameterError("areas", f"not in the codebook under {parent!r}: {missing}",
                                 allowed=sorted(known))
        kids = kids.set_index("title").loc[list(areas)].reset_index()
    col = unit_column(unit)
    out = kids.assign(label=code_labels(kids["code_id"], labels, lang))
    out = out.assign(pct_documents=100 * out["share_documents"])
    # ties keep the code tree's order (a stable sort), not the labels' alphabet: the ranking,
    # hence the "most coded" finding, is the same in every language
    out = out.sort_values(col, ascending=False, kind="mergesort")
    return out[["code_id", "label", "n_documents", "pct_documents", "n_segments"]].reset_index(
        drop=True
    )


def publishable_counts(
    table: pd.DataFrame, ledger: Ledger, artefact: str, row_parent: str | None = None,
    ids: tuple[Sequence[str], Sequence[str]] | None = None, unit: str = "coded segment",
) -> pd.DataFrame:
    """A code x code table of co-occurrence counts protected by ``ledger`` (row labels a
    column). ``ids`` gives the row and column code ids behind the labels."""
    rows, cols = ids if ids is not None else table.attrs["code_ids"]
    keys = pd.DataFrame([[key(unit, {f"has:{r}": True, f"has:{c}": True}) for c in cols]
                         for r in rows], index=table.index, columns=table.columns, dtype=object)
    shown = protect_matrix(ledger, table.astype(int), keys, artefact)
    out = shown.reset_index()
    out.attrs = dict(shown.attrs)
    return out


def extremes(freq: pd.DataFrame, column: str) -> tuple[str, list[str]]:
    """The code with the largest count, and the codes with none."""
    top = str(freq.sort_values(column, ascending=False, kind="mergesort")["code_id"].iloc[0])
    zeros = freq.loc[freq[column] == 0, "code_id"].astype(str).tolist()
    return top, zeros


def group_area_matrix(
    corpus: CodedCorpus, parent: str, areas: Sequence[str], attribute: str, labels: Labels,
    lang: str, ledger: Ledger, artefact: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Interviews of each ``attribute`` group (rows) with each area (columns), protected by
    ``ledger``: (values, suppressed cells NaN; annotations, the marker where suppressed).

    Replaces the per-interview matrix: a cell about one interview is a count about one
    interviewee, which the ``min_cell`` rule forbids by construction.
    """
    ids = _ids_by_title(corpus, parent, areas)
    long = qual.by_descriptor(corpus, attribute, unit="interview", codes=ids)
    mat = long.pivot(index="group", columns="code_id", values="n")
    mat = mat.reindex(index=list(dict.fromkeys(long["group"])), columns=ids).astype(int)
    keys = pd.DataFrame([[key("interview", {attribute: g, f"has:{c}": True}) for c in ids]
                         for g in mat.index], index=mat.index, columns=mat.columns, dtype=object)
    shown = protect_matrix(ledger, mat, keys, artefact)
    shown.columns = code_labels(ids, labels, lang)
    shown.index = [labels.value(attribute, g, lang) for g in shown.index]
    values = shown.apply(pd.to_numeric, errors="coerce").astype(float)
    values.attrs = {"sdc": "ledger"}
    return values, as_text(shown)


def _ids_by_title(corpus: CodedCorpus, parent: str, titles: Sequence[str] | None) -> list[str]:
    kids = corpus.codes[corpus.codes["parent_id"] == parent]
    if titles is None:
        return kids["code_id"].tolist()
    by_title = dict(zip(kids["title"], kids["code_id"], strict=True))
    return [by_title[t] for t in titles if t in by_title]


def cross_codes(
    corpus: CodedCorpus, row_parent: str, col_parents: str | Sequence[str],
    areas: Sequence[str] | None, labels: Labels, lang: str,
) -> pd.DataFrame:
    """Segments carrying both a child of ``row_parent`` and a child of ``col_parents``."""
    rows = _ids_by_title(corpus, row_parent, areas)
    cols = theme_codes(corpus, col_parents)
    co = qual.cooccurrence(corpus, codes=rows + cols, level="segment", measure="count")
    out = co.loc[rows, cols].astype(int)
    out.index = pd.Index(code_labels(rows, labels, lang), name=labels.code(row_parent, lang))
    out.columns = code_labels(cols, labels, lang)
    out.attrs["code_ids"] = (rows, cols)
    return out


def framework(
    corpus: CodedCorpus, parent: str | None, codes: Sequence[str], attribute: str,
    labels: Labels, lang: str, quotes_per_cell: int, seed: int, ledger: Ledger, artefact: str,
    order: Sequence[str] | None = None, names: Sequence[str] = (), on_hit: str = "redact",
) -> pd.DataFrame:
    """Framework matrix (codes x groups): interviews with the code, plus exemplar quotes.

    With ``parent`` the ``codes`` are child titles under it; without, they are parent codes
    whose children (or themselves, at top level) form the rows. Counts go through ``ledger``
    (suppressed: ``n = x``). Quotes are screened for personal data
    (:mod:`compendium.analysis.redaction`; ``names`` from the pseudonymisation list) and are
    withheld in a group of fewer than ``min_cell`` interviews (attribution to a descriptor
    value needs at least ``min_cell`` interviewees sharing it). Both are counted in the audit.
    """
    m = ledger.min_cell
    ids = _ids_by_title(corpus, parent, codes) if parent else theme_codes(corpus, codes)
    long = qual.framework_long(corpus, ids, attribute, quotes_per_cell=quotes_per_cell,
                               seed=seed, order=order)
    wide = attributes_wide(corpus)
    sizes = wide[attribute].value_counts() if attribute in wide.columns else pd.Series(dtype=int)
    keys = [key("interview", {attribute: g, f"has:{c}": True})
            for c, g in zip(long["code_id"], long["group"], strict=True)]
    shown = protect_frame(ledger, long, {"n_documents": keys}, artefact)
    hits: dict[str, int] = {}
    withheld = 0
    cells = []
    for n, quotes, group in zip(shown["n_documents"], long["quotes"], long["group"],
                                strict=True):
        if int(sizes.get(group, 0)) < m:
            withheld += len(quotes)
            quotes = []
        quotes, found = redaction.screen_quotes(quotes, names, on_hit, where=artefact)
        for kind, k in found.items():
            hits[kind] = hits.get(kind, 0) + k
        head = f"n = {MARKER}" if isinstance(n, str) else f"n = {int(n)}"
        cells.append(" | ".join([head, *quotes]))
    ledger.note(artefact, "quote screen",
                f"personal data redacted: {dict(sorted(hits.items())) or 'none'}; quotes "
                f"withheld from groups under {m} interviews: {withheld}")
    long = long.assign(cell=cells)
    mat = long.pivot(index="code_id", columns="group", values="cell")
    mat = mat.reindex(index=ids, columns=list(dict.fromkeys(long["group"])))
    mat.index = pd.Index(code_labels(ids, labels, lang), name=labels.attribute(attribute, lang))
    mat.columns = [labels.value(attribute, g, lang) for g in mat.columns]
    mat.attrs = {"sdc": "ledger", "redactions": hits, "quotes_withheld": withheld}
    return mat


def corpus_summary(corpus: CodedCorpus) -> dict[str, Any]:
    """Interviews, segments, coders and the double-coded subset."""
    per = corpus.codings.merge(corpus.segments[["segment_id", "doc_id"]], on="segment_id")
    coders_per_doc = per.groupby("doc_id")["coder"].nunique()
    seg_per_doc = corpus.segments.groupby("doc_id").size()
    return {
        "n_interviews": len(corpus.documents),
        "n_segments": len(corpus.segments),
        "segments_per_interview_median": float(seg_per_doc.median()) if len(seg_per_doc) else 0,
        "coders": sorted(corpus.codings["coder"].unique().tolist()),
        "n_double_coded": int((coders_per_doc >= 2).sum()),
    }


def codebook_table(
    corpus: CodedCorpus, labels: Labels, lang: str, min_code_frequency: int = 0
) -> pd.DataFrame:
    """Every code with description, segment frequency and interview prevalence (rolled up)."""
    freq = qual.code_frequency(corpus).merge(corpus.codes[["code_id", "description"]])
    freq = freq[freq["n_segments"] >= min_code_frequency]
    return pd.DataFrame({
        "code_id": freq["code_id"],
        "level": freq["level"],
        "label": code_labels(freq["code_id"], labels, lang),
        "description": freq["description"],
        "n_segments": freq["n_segments"],
        "n_documents": freq["n_documents"],
        "pct_documents": 100 * freq["share_documents"],
    }).reset_index(drop=True)


def prevalence_by(
    corpus: CodedCorpus, parents: str | Sequence[str], attribute: str, labels: Labels,
    lang: str, unit: str, order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Theme codes x descriptor groups (long): n, group size and % (of interviews or segments)."""
    ids = theme_codes(corpus, parents)
    long = qual.by_descriptor(corpus, attribute, unit=unit, codes=ids, order=order)
    return long.assign(
        label=code_labels(long["code_id"], labels, lang),
        group_label=[labels.value(attribute, g, lang) for g in long["group"]],
    )[["code_id", "label", "group", "group_label", "n", "group_size", "pct"]]


def publishable_long(
    long: pd.DataFrame, attribute: str, unit: str, ledger: Ledger, artefact: str
) -> pd.DataFrame:
    """A long prevalence table (:func:`prevalence_by`) protected by ``ledger``: ``n`` are units
    of a group with the code, ``group_size`` the group; ``pct`` blanked where either is hidden."""
    u = "interview" if unit == "interview" else "coded segment"
    n_keys = [key(u, {attribute: g, f"has:{c}": True})
              for c, g in zip(long["code_id"], long["group"], strict=True)]
    size_keys = [key(u, {attribute: g}) for g in long["group"]]
    return protect_frame(ledger, long, {"n": n_keys, "group_size": size_keys}, artefact,
                         derived={"pct": ["n", "group_size"]})


def heatmap_frames(published: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From a protected long table: (% matrix, suppressed cells blank; annotations
    "pct% (n)" or the marker). Only published values are drawn."""
    if published.attrs.get("sdc") != "ledger":
        raise disclosure.DisclosureError("heatmap data did not pass the disclosure gate")
    rows = list(dict.fromkeys(published["label"]))
    cols = list(dict.fromkeys(published["group_label"]))
    pct = published.pivot(index="label", columns="group_label", values="pct")
    n = published.pivot(index="label", columns="group_label", values="n")
    pct, n = pct.reindex(index=rows, columns=cols), n.reindex(index=rows, columns=cols)
    pct.index.name = pct.columns.name = None
    pct = pct.astype(float)
    annot = pd.DataFrame(
        [[(v if isinstance(v, str) else
           (f"{p:.0f}% ({int(v)})" if pd.notna(p) else f"({int(v)})"))
          for v, p in zip(n.loc[r], pct.loc[r], strict=True)] for r in rows],
        index=pct.index, columns=pct.columns)
    pct.attrs = annot.attrs = {"sdc": "ledger"}
    return pct, annot


def overall_prevalence(
    corpus: CodedCorpus, parents: Sequence[str], ledger: Ledger, artefact: str
) -> dict[str, dict[str, Any]]:
    """``code_id -> {n, pct}``: interviews with each theme code over the whole corpus, through
    ``ledger`` (``None`` where suppressed)."""
    freq = qual.code_frequency(corpus).set_index("code_id")
    codes = theme_codes(corpus, parents)
    sup = ledger.publish({key("interview", {f"has:{c}": True}): int(freq.loc[c, "n_documents"])
                          for c in codes}, artefact)
    out = {}
    for code in codes:
        hidden = sup[key("interview", {f"has:{code}": True})]
        out[code] = {"n": None if hidden else int(freq.loc[code, "n_documents"]),
                     "pct": None if hidden
                     else round(100 * float(freq.loc[code, "share_documents"]), 1)}
    return out


NEAR_MARK = " †"


def actor_theme_cooccurrence(
    corpus: CodedCorpus, parents: Sequence[str], labels: Labels, lang: str, level: str,
    measure: str, ledger: Ledger, artefact: str, flagged: Sequence[str] = (),
) -> pd.DataFrame:
    """Actors (rows) x theme codes (columns) co-occurrence, labelled and protected; codes in
    ``flagged`` (near-universal) carry :data:`NEAR_MARK` after their label.

    Any measure of two codes' overlap, with the codes' own frequencies published, gives their
    joint count back; so each cell's joint count goes through ``ledger`` and a cell whose
    count is suppressed is blank (NaN).
    """
    rows, cols = theme_codes(corpus, "Actors"), theme_codes(corpus, parents)
    co = qual.cooccurrence(corpus, codes=rows + cols, level=level, measure=measure)
    joint = qual.cooccurrence(corpus, codes=rows + cols, level=level, measure="count")
    unit = "interview" if level == "document" else "coded segment"
    keys = pd.DataFrame([[key(unit, {f"has:{r}": True, f"has:{c}": True}) for c in cols]
                         for r in rows], index=rows, columns=cols, dtype=object)
    shown = protect_matrix(ledger, joint.loc[rows, cols].astype(int), keys, artefact)
    out = co.loc[rows, cols].astype(float).where(shown.map(lambda v: not isinstance(v, str)))
    flagged = set(flagged)

    def lab(ids: list[str]) -> list[str]:
        return [labels.code(c, lang) + (NEAR_MARK if c in flagged else "") for c in ids]

    out.index = lab(rows)
    out.columns = lab(cols)
    out.attrs = {"sdc": "ledger"}
    return out


def city_tests(
    corpus: CodedCorpus, parents: Sequence[str], labels: Labels, lang: str,
    method: str = "holm", alpha: float = 0.05, ledger: Ledger | None = None,
    artefact: str = "city_tests",
) -> pd.DataFrame:
    """Presence of each theme code by city: χ² or Fisher's exact test, Holm-adjusted.

    A code present in every interview, or in none, cannot differ and is reported untested.
    """
    presence = qual.presence_matrix(corpus)
    city = attributes_wide(corpus)["city"].reindex(presence.index)
    rows = []
    for code in theme_codes(corpus, parents):
        frame = pd.DataFrame({"present": presence[code].astype(int), "city": city.values})
        base = {"code_id": code, "label": labels.code(code, lang),
                "n_documents": int(frame["present"].sum())}
        if frame["present"].nunique() < 2 or frame["city"].nunique() < 2:
            rows.append({**base, "test": "not tested (no variation)", "p": np.nan,
                         "cramers_v": np.nan})
            continue
        res = stats.chi2_test(frame, "present", "city")
        rows.append({**base, "test": res["test"], "p": res["p"], "cramers_v": res["cramers_v"]})
    out = pd.DataFrame(rows)
    tested = out["p"].notna()
    out["p_adj"] = np.nan
    if tested.any():
        out.loc[tested, "p_adj"] = stats.adjust_pvalues(out.loc[tested, "p"].to_numpy(), method)
    out["significant"] = out["p_adj"] < alpha
    if ledger is None:
        return out
    keys = [key("interview", {f"has:{c}": True}) for c in out["code_id"]]
    return protect_frame(ledger, out, {"n_documents": keys}, artefact)


def agreement_table(
    corpus: CodedCorpus, labels: Labels, lang: str, threshold: float = 0.6, n_boot: int = 0,
    seed: int = 0, ci_level: float = 0.95,
) -> pd.DataFrame:
    """Per-code κ and α with bootstrap intervals on the double-coded subset (leaf codes).

    Per-coder application counts are not published (small counts); n_units is the base.
    """
    ag = qual.agreement(corpus, threshold=threshold, n_boot=n_boot, seed=seed, ci_level=ci_level)
    leaf = ~ag["code_id"].isin(corpus.codes["parent_id"].dropna())
    ag = ag[leaf].reset_index(drop=True)
    ag.insert(1, "label", code_labels(ag["code_id"], labels, lang))
    drop = ("title", "level", "parent_id", "n_a", "n_b", "n_both")
    ag = ag.drop(columns=[c for c in drop if c in ag.columns])
    ag["flag"] = ag["flag"].fillna("")
    ag.attrs["sdc"] = ("exempt: agreement statistics on coded units of the double-coded "
                       "subset; no count of interviewees is published")
    return ag


def below_threshold(agree: pd.DataFrame) -> dict[str, float]:
    """``code_id -> kappa`` of the codes an agreement table flags as below its threshold."""
    low = agree[agree["flag"].astype(str).str.startswith("below")]
    return dict(zip(low["code_id"], low["kappa"].astype(float), strict=True))


def segmentation_table(corpus: CodedCorpus) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per double-coded interview: character Jaccard and exact-boundary match of the two
    coders' excerpts (ratios only), and the pooled summary."""
    seg = qual.segmentation_agreement(corpus)
    shown = seg[["doc_id", "jaccard", "boundary_match"]].reset_index(drop=True)
    shown.attrs["sdc"] = ("exempt: ratios of character ranges per double-coded interview; "
                          "no count of interviewees")
    return shown, qual.segmentation_summary(seg)


#: Why the size of the double-coded subset (and the agreement figures computed on it) may be
#: published at any ``min_cell``: it describes the coding procedure, not the interviewees.
DOUBLE_CODED_DESIGN = (
    "design count: the interviews a second coder coded were chosen by the coding procedure, "
    "not by any attribute of the interviewees; with the published number of interviews it "
    "and its share give back only that number, no hidden cell")
AGREEMENT_NOT_COUNTS = (
    "agreement statistics, numbers of codes and of coded units, and the size of the "
    "double-coded subset (a design count, see n_double_coded), not counts of people")
SEGMENTATION_NOT_COUNTS = (
    "ratios of character ranges and the size of the double-coded subset (a design count), "
    "not counts of people")


def with_primary(corpus: CodedCorpus, primary: str) -> CodedCorpus:
    """The corpus with one coding per segment x code by the declared primary-coder rule
    (:func:`compendium.analysis.coding.declared_codings`); every count then follows it."""
    return replace(corpus, codings=qual.declared_codings(corpus, primary))


def coding_rules(corpus: CodedCorpus) -> list[str]:
    """The coders of the double-coded interviews, then ``"consensus"`` (the choices a
    reader could declare as primary)."""
    per = corpus.codings.merge(corpus.segments[["segment_id", "doc_id"]], on="segment_id")
    n = per.groupby("doc_id")["coder"].nunique()
    multi = per[per["doc_id"].isin(n[n > 1].index)]
    return sorted(multi["coder"].unique().tolist()) + ["consensus"]


def primary_coder_sensitivity(
    corpus: CodedCorpus, codes: Sequence[str], primary: str, labels: Labels, lang: str
) -> pd.DataFrame:
    """Interviews with each code under every primary-coder rule (the declared one first).

    Columns: code_id, label, then one ``n_<rule>`` column per rule (interviews with the code),
    and ``max_change`` = largest absolute difference from the declared rule.
    """
    rules = coding_rules(corpus)
    rules = [primary] + [r for r in rules if r != primary]
    out = pd.DataFrame({"code_id": list(codes), "label": code_labels(codes, labels, lang)})
    for rule in rules:  # loop over the alternative rules
        freq = qual.code_frequency(corpus, codings=qual.declared_codings(corpus, rule))
        out[f"n_{rule}"] = freq.set_index("code_id").loc[list(codes), "n_documents"].to_numpy()
    cols = [f"n_{r}" for r in rules]
    out["max_change"] = out[cols].sub(out[cols[0]], axis=0).abs().max(axis=1).astype(np.int64)
    return out


def publish_sensitivity(
    ledger: Ledger, sens: pd.DataFrame, primary: str, artefact: str
) -> pd.DataFrame:
    """The primary-coder sensitivity table protected by ``ledger``: the declared rule's column
    is the same count as the code's prevalence elsewhere (one ledger key), each other rule's
    count is a count of its own (interviews with the code as that rule reads the codings, a
    ``has:`` condition of its own); ``max_change`` (derived from them) is not published."""
    counts = [c for c in sens.columns if c.startswith("n_")]
    keys = {}
    for col in counts:
        rule = col[2:]
        tag = "" if rule == primary else f" [rule: {rule}]"
        keys[col] = [key("interview", {f"has:{c}{tag}": True}) for c in sens["code_id"]]
    return protect_frame(ledger, sens.drop(columns="max_change"), keys, artefact)


def sensitivity_sentence(sens: pd.DataFrame, primary: str, lang: str) -> str:
    """How many code prevalences change when another rule replaces the declared one.

    Read from the published table (:func:`publish_sensitivity`): a code with a suppressed
    count under some rule is not compared (its change would bound the hidden count) and is
    counted apart; the raw table (with ``max_change``) gives the same sentence when nothing
    is hidden."""
    cols = [c for c in sens.columns if c.startswith("n_")]
    values = sens[cols].apply(pd.to_numeric, errors="coerce")
    full = values.notna().all(axis=1)
    change = values[full].sub(values.loc[full, cols[0]], axis=0).abs().max(axis=1)
    changed = int((change > 0).sum())
    most = int(change.max()) if len(change) else 0
    hidden = int((~full).sum())
    others = [c[2:] for c in cols][1:]
    if lang == "pl":
        text = (f"Przy innej regule ({', '.join(others)}) zamiast `{primary}` zmienia się "
                f"liczba wywiadów dla {changed} z {int(full.sum())} kodów, najwyżej o {most}.")
        return text + (f" Kodów z ukrytą liczbą ({MARKER}) nie porównujemy: {hidden}."
                       if hidden else "")
    text = (f"Under another rule ({', '.join(others)}) instead of `{primary}`, the number of "
            f"interviews changes for {changed} of {int(full.sum())} codes, by at most {most}.")
    return text + (f" Codes with a hidden count ({MARKER}) are not compared: {hidden}."
                   if hidden else "")


def topic_asked(
    corpus: CodedCorpus, code: str, attribute: str
) -> dict[str, int]:
    """Interviews in which a topic was asked (``attribute`` = "asked") or not, and in how many
    of each the ``code`` was applied: asked, not_asked, unknown, with_code_asked,
    with_code_not_asked (methods.md "Absence of evidence")."""
    wide = attributes_wide(corpus)
    if attribute not in wide.columns:
        raise ParameterError(attribute, "no such descriptor", allowed=sorted(wide.columns))
    present = qual.presence_matrix(corpus)[code].reindex(wide.index).fillna(0).astype(bool)
    asked = wide[attribute] == "asked"
    not_asked = wide[attribute] == "not asked"
    return {
        "asked": int(asked.sum()),
        "not_asked": int(not_asked.sum()),
        "unknown": int((~asked & ~not_asked).sum()),
        "with_code_asked": int((present & asked).sum()),
        "with_code_not_asked": int((present & not_asked).sum()),
    }


def shown(value: int | None) -> str:
    """A gated count as prose shows it: the number, or the marker where it is suppressed."""
    return MARKER if value is None else str(int(value))


def group_size_range(ledger: Ledger, corpus: CodedCorpus, attribute: str) -> tuple[str, str]:
    """The smallest and largest group of ``attribute`` for prose ("12 to 13 per city"), each
    through ``ledger`` (the same counts as the groups' totals elsewhere): the marker where
    the group it names is suppressed."""
    sizes = attributes_wide(corpus)[attribute].value_counts()
    if sizes.empty:
        return MARKER, MARKER
    sup = ledger.publish({key("interview", {attribute: g}): int(n) for g, n in sizes.items()},
                         "prose")
    lo, hi = sizes.idxmin(), sizes.idxmax()
    return tuple(MARKER if sup[key("interview", {attribute: g})] else str(int(sizes[g]))
                 for g in (lo, hi))


def publish_topic_asked(
    ledger: Ledger, corpus: CodedCorpus, code: str, attribute: str, artefact: str
) -> dict[str, int | None]:
    """:func:`topic_asked` through ``ledger`` (``None`` where suppressed): the interviews in
    which the topic was asked or not are descriptor groups, those of them with the ``code``
    the same groups with ``has:<code>``, so they are linked to the code's prevalence and the
    descriptor's other tables. ``unknown`` (every other value of ``attribute``) is the sum of
    its groups, shown only when each of them is."""
    counts = topic_asked(corpus, code, attribute)
    wide = attributes_wide(corpus)
    values = wide[attribute].astype(object).where(wide[attribute].notna(), "(missing)")
    others = [v for v in dict.fromkeys(values.tolist()) if v not in ("asked", "not asked")]
    has = f"has:{code}"
    keys = {
        "asked": key("interview", {attribute: "asked"}),
        "not_asked": key("interview", {attribute: "not asked"}),
        "with_code_asked": key("interview", {attribute: "asked", has: True}),
        "with_code_not_asked": key("interview", {attribute: "not asked", has: True}),
    }
    parts = {key("interview", {attribute: v}): int((values == v).sum()) for v in others}
    sup = ledger.publish({**{keys[k]: counts[k] for k in keys}, **parts}, artefact)
    out: dict[str, int | None] = {k: None if sup[keys[k]] else counts[k] for k in keys}
    out["unknown"] = None if any(sup[k] for k in parts) else counts["unknown"]
    return {k: out[k] for k in counts}


def near_universal_codes(
    corpus: CodedCorpus, codes: Sequence[str], threshold: float
) -> list[str]:
    """The given codes present in at least ``threshold`` of all interviews."""
    flagged = qual.near_universal(corpus, threshold=threshold, codes=codes)
    return flagged["code_id"].tolist()
