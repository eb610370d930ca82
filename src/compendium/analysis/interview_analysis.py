"""The coded-interview notebooks' compositions: subsets, labelled tables, tests, findings.

Generic analyses live in :mod:`compendium.analysis.qual` (re-exporting ``coding``,
``cooccurrence``, ``saturation``, ``agreement`` and ``quotes``); this module puts them together
the way the Wielkopolska IDI, four-city and synthesis notebooks present them, with labels in
the run's language and disclosure control applied to every published count. Methods:
``docs/methods.md`` sections 2 and 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compendium.analysis import disclosure, qual, stats
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
def crosstab_docs(
    corpus: CodedCorpus, rows: str, cols: str, labels: Labels, lang: str, min_cell: int,
    order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Interviews by two descriptors, with totals, labelled and suppressed below ``min_cell``."""
    wide = attributes_wide(corpus)
    for name in (rows, cols):
        if name not in wide.columns:
            raise ParameterError(name, "no such descriptor", allowed=sorted(wide.columns))
    tab = pd.crosstab(wide[rows], wide[cols])
    if order is not None:
        tab = tab.reindex(columns=[c for c in order if c in tab.columns])
    tab.loc["Total"] = tab.sum()
    tab["Total"] = tab.sum(axis=1)
    shown = disclosure.suppress(tab.astype(int), min_cell=min_cell)
    total = "Total" if lang == "en" else "Razem"
    shown.index = [total if v == "Total" else labels.value(rows, v, lang) for v in shown.index]
    shown.columns = [total if v == "Total" else labels.value(cols, v, lang) for v in shown.columns]
    shown.index.name = labels.attribute(rows, lang)
    return shown.reset_index()


def area_table(
    corpus: CodedCorpus, parent: str, areas: Sequence[str] | None, labels: Labels, lang: str,
    unit: str,
) -> pd.DataFrame:
    """Frequency and prevalence of the children of ``parent`` (optionally a subset, by title).

    Ranked by the unit's count, largest first; codes never applied stay, as zeros.
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
    out = out.sort_values([col, "label"], ascending=[False, True], kind="mergesort")
    return out[["code_id", "label", "n_documents", "pct_documents", "n_segments"]].reset_index(
        drop=True
    )


def publishable(df: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Count columns (``n``, ``n_*``) suppressed below ``min_cell``, percentages of them hidden."""
    counts = [c for c in df.columns if c == "n" or c.startswith("n_")]
    pcts = [c for c in df.columns if c.startswith("pct")]
    return disclosure.suppress_counts_column(df, counts, min_cell, pct_cols=pcts, min_base=1)


def publishable_counts(table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """A crosstab of counts with primary and secondary suppression, its row labels a column."""
    shown = disclosure.suppress(table.astype(int), min_cell=min_cell)
    return shown.reset_index()


def extremes(freq: pd.DataFrame, column: str) -> tuple[str, list[str]]:
    """The code with the largest count, and the codes with none."""
    top = str(freq.sort_values(column, ascending=False, kind="mergesort")["code_id"].iloc[0])
    zeros = freq.loc[freq[column] == 0, "code_id"].astype(str).tolist()
    return top, zeros


def doc_area_matrix(
    corpus: CodedCorpus, parent: str, areas: Sequence[str], labels: Labels, lang: str
) -> pd.DataFrame:
    """Segments per interview (rows) and area (columns, labelled), zeros kept."""
    ids = _ids_by_title(corpus, parent, areas)
    mat = qual.count_matrix(corpus)[ids]
    mat.columns = code_labels(ids, labels, lang)
    return mat


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
    return out


def framework(
    corpus: CodedCorpus, parent: str | None, codes: Sequence[str], attribute: str,
    labels: Labels, lang: str, quotes_per_cell: int, seed: int, min_cell: int,
    order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Framework matrix (codes x groups): interviews with the code, plus exemplar quotes.

    With ``parent`` the ``codes`` are child titles under it; without, they are parent codes
    whose children (or themselves, at top level) form the rows. Counts below ``min_cell``
    read ``n < min_cell``.
    """
    ids = _ids_by_title(corpus, parent, codes) if parent else theme_codes(corpus, codes)
    long = qual.framework_long(corpus, ids, attribute, quotes_per_cell=quotes_per_cell,
                               seed=seed, order=order)
    def cell(row: pd.Series) -> str:
        n = int(row["n_documents"])
        head = f"n < {min_cell}" if 0 < n < min_cell else f"n = {n}"
        return " | ".join([head, *row["quotes"]])

    long = long.assign(cell=long.apply(cell, axis=1))
    mat = long.pivot(index="code_id", columns="group", values="cell")
    mat = mat.reindex(index=ids, columns=list(dict.fromkeys(long["group"])))
    mat.index = pd.Index(code_labels(ids, labels, lang), name=labels.attribute(attribute, lang))
    mat.columns = [labels.value(attribute, g, lang) for g in mat.columns]
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


def publishable_long(long: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """A long prevalence table with suppressed counts and percentages hidden where needed."""
    return disclosure.suppress_counts_column(long, ["n"], min_cell, pct_cols=["pct"], min_base=10,
                                      base_col="group_size")


def heatmap_frames(long: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(% matrix with suppressed cells blank, annotation matrix "pct% (n)" or "<min_cell")."""
    pct = long.pivot(index="label", columns="group_label", values="pct")
    n = long.pivot(index="label", columns="group_label", values="n")
    rows = list(dict.fromkeys(long["label"]))
    cols = list(dict.fromkeys(long["group_label"]))
    pct, n = pct.reindex(index=rows, columns=cols), n.reindex(index=rows, columns=cols)
    pct.index.name = pct.columns.name = None
    small = (n > 0) & (n < min_cell)
    annot = pct.round(0).astype(int).astype(str) + "% (" + n.astype(int).astype(str) + ")"
    annot = annot.mask(small, f"<{min_cell}")
    return pct.mask(small), annot


def overall_prevalence(corpus: CodedCorpus, parents: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``code_id -> {n, pct}``: interviews with each theme code, over the whole corpus."""
    freq = qual.code_frequency(corpus).set_index("code_id")
    out = {}
    for code in theme_codes(corpus, parents):
        out[code] = {"n": int(freq.loc[code, "n_documents"]),
                     "pct": round(100 * float(freq.loc[code, "share_documents"]), 1)}
    return out


NEAR_MARK = " †"


def actor_theme_cooccurrence(
    corpus: CodedCorpus, parents: Sequence[str], labels: Labels, lang: str, level: str,
    measure: str, flagged: Sequence[str] = (),
) -> pd.DataFrame:
    """Actors (rows) x theme codes (columns) co-occurrence, labelled; codes in ``flagged``
    (near-universal) carry :data:`NEAR_MARK` after their label."""
    rows, cols = theme_codes(corpus, "Actors"), theme_codes(corpus, parents)
    co = qual.cooccurrence(corpus, codes=rows + cols, level=level, measure=measure)
    out = co.loc[rows, cols].astype(float)
    flagged = set(flagged)

    def lab(ids: list[str]) -> list[str]:
        return [labels.code(c, lang) + (NEAR_MARK if c in flagged else "") for c in ids]

    out.index = lab(rows)
    out.columns = lab(cols)
    return out


def city_tests(
    corpus: CodedCorpus, parents: Sequence[str], labels: Labels, lang: str,
    method: str = "holm", alpha: float = 0.05,
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
    return out


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
    return shown, qual.segmentation_summary(seg)


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


def sensitivity_sentence(sens: pd.DataFrame, primary: str, lang: str) -> str:
    """How many code prevalences change when another rule replaces the declared one."""
    changed = int((sens["max_change"] > 0).sum())
    most = int(sens["max_change"].max()) if len(sens) else 0
    others = [c[2:] for c in sens.columns if c.startswith("n_")][1:]
    if lang == "pl":
        return (f"Przy innej regule ({', '.join(others)}) zamiast `{primary}` zmienia się "
                f"liczba wywiadów dla {changed} z {len(sens)} kodów, najwyżej o {most}.")
    return (f"Under another rule ({', '.join(others)}) instead of `{primary}`, the number of "
            f"interviews changes for {changed} of {len(sens)} codes, by at most {most}.")


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


def near_universal_codes(
    corpus: CodedCorpus, codes: Sequence[str], threshold: float
) -> list[str]:
    """The given codes present in at least ``threshold`` of all interviews."""
    flagged = qual.near_universal(corpus, threshold=threshold, codes=codes)
    return flagged["code_id"].tolist()
