"""The OPS survey notebook's compositions: labelled, suppressed tables, tests and findings.

Generic statistics live in :mod:`compendium.analysis.stats`; this module applies them to the survey
the way the notebook presents it, with labels from the codebook in the run's language, and
every published count of respondents goes through the notebook's disclosure ledger
(:mod:`compendium.analysis.disclosure_audit`, :mod:`compendium.analysis.protect`): each count
is named by the conditions that select its respondents, so the same count in two tables is
one entry, and the sums between them (a question's categories add up to its base) are
declared (``docs/methods.md`` section 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from compendium.analysis import contingency, factors, stats
from compendium.analysis.disclosure_audit import (
    MARKER,
    DisclosureError,
    Key,
    Ledger,
    class_disclosed,
    key,
    key_text,
)
from compendium.analysis.protect import check_total, gated_count, protect_frame, protect_matrix
from compendium.data.codebook import Codebook
from compendium.errors import CompendiumError

MIN_RESIDUAL_DF = 10  # a model with fewer residual df is not published (ACRO's rule)
READY_THRESHOLD = 4.0  # readiness score at or above which a respondent counts as "ready"
NO_CONTACT = {"en": "no foreign clients", "pl": "brak klientów-cudzoziemców"}
UNIT = "respondent"  # what every published count of this notebook counts
NO_ANSWER = "(no answer)"  # the value of a question a respondent left empty or was not asked
MIN_BASE = 10  # a percentage is shown only with a base of at least this many respondents


# ----------------------------------------------------------------------------- ledger
def declare(ledger: Ledger, df: pd.DataFrame, ready_group: str = "ready") -> None:
    """Tell the notebook's ledger how the survey partitions its respondents.

    Every categorical or yes/no column of ``df`` (labelled answers, ``mode``) is a condition
    whose values are its categories and :data:`NO_ANSWER`; the readiness battery adds
    ``dk:<group>`` (a don't-know on some item) and ``blank:<group>`` (some item left empty),
    whose no/no cell is the respondents who enter the score. Publishes the number of
    respondents (the total every count table adds up to).
    """
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            values = list(s.cat.categories)
        elif pd.api.types.is_bool_dtype(s.dtype):
            values = [True, False]
        elif col == "mode":
            values = sorted(s.dropna().unique().tolist())
        else:
            continue
        ledger.domain(UNIT, col, [*values, NO_ANSWER])
    for dim in (f"dk:{ready_group}", f"blank:{ready_group}"):
        ledger.domain(UNIT, dim, (True, False))
    ledger.publish({key(UNIT): len(df)}, "respondents")


def scored_key(group: str = "ready") -> Key:
    """The respondents who answered every item of ``group`` without a don't-know."""
    return key(UNIT, {f"dk:{group}": False, f"blank:{group}": False})


def _answered_key(ledger: Ledger, var: str, categories: Sequence[Any]) -> Key:
    """The respondents who answered ``var`` with one of ``categories``, declared as their sum."""
    dim = f"answered:{var}"
    ledger.domain(UNIT, dim, (True, False))
    total = key(UNIT, {dim: True})
    ledger.equation(total, [key(UNIT, {var: c}) for c in categories])
    return total


def _publish(
    ledger: Ledger, table: pd.DataFrame, n_keys: Sequence[Key], base_keys: Sequence[Key],
    artefact: str, *, class_rule: bool,
) -> pd.DataFrame:
    """A long table of counts ``n`` of bases ``n_base`` with percentages, through the ledger.

    Percentage columns are blanked where ``n`` or the base is suppressed (a percentage of a
    known base gives the count back) or the base is below :data:`MIN_BASE`. ``class_rule``:
    a row whose count is 0 or the whole base (all members gave one answer) is suppressed
    (class disclosure), and recorded in the audit."""
    preset = []
    if class_rule:
        for k, n, b in zip(n_keys, table["n"], table["n_base"], strict=True):
            if class_disclosed([n], b):
                preset.append(k)
                ledger.note(artefact, "class disclosure",
                            f"{key_text(k)}: {int(n)} of {int(b)}; suppressed")
    pcts = [c for c in table.columns if c in ("pct", "ci_low", "ci_high")]
    out = protect_frame(ledger, table, {"n": n_keys, "n_base": base_keys}, artefact,
                        derived={c: ["n", "n_base"] for c in pcts}, preset=preset)
    small = ~(pd.to_numeric(table["n_base"], errors="coerce") >= MIN_BASE)
    for c in pcts:
        out[c] = out[c].where(~small)
    return out


# ----------------------------------------------------------------------------- tables
def sample_table(
    df: pd.DataFrame, codebook: Codebook, variables: Sequence[str], lang: str, level: float,
    ledger: Ledger, artefact: str = "sample",
) -> pd.DataFrame:
    """Counts and % (Wilson CI) of each category of each variable, through the ledger.

    A variable's categories add up to its base (the respondents who answered it); each
    count is the same number wherever else the notebook publishes it."""
    parts, n_keys, base_keys = [], [], []
    for var in variables:
        tab = stats.proportion_table(df[var], level=level)
        base = tab.attrs.get("base", int(tab["n"].sum()))
        check_total(int(tab["n"].sum()), int(base), f"{artefact}: {var}")
        label = codebook.label(var, lang) if var != "mode" else ("tryb" if lang == "pl" else "mode")
        parts.append(tab.assign(variable=label, n_base=base))
        total = _answered_key(ledger, var, list(tab["category"]))
        n_keys += [key(UNIT, {var: c}) for c in tab["category"]]
        base_keys += [total] * len(tab)
    out = pd.concat(parts, ignore_index=True)
    out = out[["variable", "category", "n", "pct", "ci_low", "ci_high", "n_base"]]
    return _publish(ledger, out, n_keys, base_keys, artefact, class_rule=False)


def multi_table(
    df: pd.DataFrame, codebook: Codebook, group: str, lang: str, level: float, ledger: Ledger,
    artefact: str,
) -> pd.DataFrame:
    """A multiple-response question as % of respondents answering it, ranked, with Wilson CI.

    The base is the respondents with at least one non-missing answer in the group (those
    routed past the question are excluded). An exclusive option ("no problems") is listed
    last. Column ``option_code`` keeps the variable name for later steps. An option ticked
    by none or by all of the base is suppressed (class disclosure).
    """
    items = codebook.items(group)
    labels = {i: codebook.label(i, lang) for i in items}
    tab = stats.multi_response_table(df[items], level=level, labels=labels)
    base = tab.attrs.get("base")
    code_of = {v: k for k, v in labels.items()}
    tab = tab.assign(option_code=tab["option"].map(code_of))
    exclusive = tab["option_code"].map(lambda c: codebook.variable(c).exclusive)
    tab = pd.concat([tab[~exclusive], tab[exclusive]], ignore_index=True)
    if base is None:
        base = int(df[items].notna().any(axis=1).sum())
    tab = tab.assign(n_base=base)
    dim = f"answered:{group}"
    ledger.domain(UNIT, dim, (True, False))
    n_keys = [key(UNIT, {dim: True, c: True}) for c in tab["option_code"]]
    base_keys = [key(UNIT, {dim: True})] * len(tab)
    return _publish(ledger, tab[["option", "n", "pct", "ci_low", "ci_high", "n_base",
                                 "option_code"]], n_keys, base_keys, artefact, class_rule=True)


def plottable(table: pd.DataFrame) -> pd.DataFrame:
    """Numeric copy of a published table (suppressed cells as NaN) for plotting."""
    out = table.copy()
    for col in ("n", "pct", "ci_low", "ci_high"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def likert_counts(df: pd.DataFrame, codebook: Codebook, group: str, lang: str) -> pd.DataFrame:
    """Answers per item (rows, item labels) and category (columns, scale order).

    A "don't know" column is kept only when it holds answers (i.e. when the run keeps
    don't-know as a category). ``attrs["items"]`` holds the items' variable names.
    """
    items = codebook.likert_items(group)
    rows = {}
    for item in items:
        rows[codebook.label(item, lang)] = df[item].value_counts(sort=False)
    counts = pd.DataFrame(rows).T.fillna(0).astype(int)
    cats = list(df[items[0]].cat.categories)
    counts = counts.reindex(columns=cats, fill_value=0)
    missing_labels = [codebook.labels(items[0], lang)[c] for c in codebook.missing_codes(items[0])]
    drop = [c for c in missing_labels if c in counts.columns and counts[c].sum() == 0]
    counts = counts.drop(columns=drop)
    counts.index.name = codebook.variable(items[0]).group or group
    counts.attrs["items"] = list(items)
    return counts


def _likert_protected(counts: pd.DataFrame, ledger: Ledger, artefact: str) -> pd.DataFrame:
    """The Likert counts through the ledger; an item whose answers all fall in one category
    (class disclosure) has its whole row suppressed."""
    items = counts.attrs["items"]
    keys = pd.DataFrame([[key(UNIT, {item: c}) for c in counts.columns] for item in items],
                        index=counts.index, columns=counts.columns, dtype=object)
    preset = []
    for item, (label, row) in zip(items, counts.iterrows(), strict=True):
        if class_disclosed(row.tolist()):
            preset += list(keys.loc[label])
            ledger.note(artefact, "class disclosure",
                        f"every respondent answering {item} gave one answer; row suppressed")
    shown = protect_matrix(ledger, counts, keys, artefact, preset=preset)
    shown.index.name = counts.index.name
    return shown


def likert_table(counts: pd.DataFrame, ledger: Ledger, artefact: str) -> pd.DataFrame:
    """A Likert count table through the ledger (shared with the figure), item labels as a
    column."""
    shown = _likert_protected(counts, ledger, artefact)
    out = shown.reset_index()
    out.attrs = dict(shown.attrs)
    return out


def likert_plot_counts(counts: pd.DataFrame, ledger: Ledger, artefact: str) -> pd.DataFrame:
    """The counts a Likert figure may draw: the ledger's, a suppressed cell as 0.

    Drawing a suppressed cell at its true size would print what the table hides; drawn as
    0 it is absent from the bar, and the item's base ``(n = …)`` counts published cells only.
    """
    shown = _likert_protected(counts, ledger, artefact)
    out = shown.apply(lambda s: pd.to_numeric(s, errors="coerce")).fillna(0).astype(int)
    out.index.name = counts.index.name
    out.attrs["sdc"] = "ledger"
    return out


def neutral_label(codebook: Codebook, group: str, lang: str) -> str | None:
    """Label of the middle answer of a group's odd-length scale (None for an even scale)."""
    item = codebook.likert_items(group)[0]
    var = codebook.variable(item)
    scale = list(var.codes)
    if len(scale) % 2 == 0:
        return None
    return var.codes[scale[len(scale) // 2]][lang]


def _likert_values(codes: pd.DataFrame, codebook: Codebook, group: str) -> pd.DataFrame:
    """Likert items of a group as floats 1..k; don't-know (missing codes) always NaN here."""
    items = codebook.likert_items(group)
    out = pd.DataFrame(index=codes.index)
    for item in items:
        miss = codebook.missing_codes(item)
        out[item] = codes[item].astype("Float64").mask(codes[item].isin(miss)).astype(float)
    return out


def reliability(codes: pd.DataFrame, codebook: Codebook, group: str, level: float) -> dict:
    """Cronbach's alpha (Feldt CI) of a Likert battery; don't-know never enters the scale."""
    return stats.cronbach(_likert_values(codes, codebook, group), ci=level)


def add_readiness(codes: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Add ``readiness_score`` (mean of the ready_* items, complete answers only) and ``ready``."""
    values = _likert_values(codes, codebook, "ready")
    score = values.mean(axis=1).where(values.notna().all(axis=1))
    ready = (score >= READY_THRESHOLD).astype("boolean").mask(score.isna())
    return codes.assign(readiness_score=score, ready=ready)


def top_box(
    df: pd.DataFrame, codebook: Codebook, group: str, lang: str, level: float, ledger: Ledger,
    artefact: str,
) -> pd.DataFrame:
    """Per item: respondents in the top two answers of the scale, % of those answering, ranked.

    Through the ledger: the top-two count is the sum of the item's two highest scale points,
    the base the sum of its scale points (both the same counts the Likert figure draws); an
    item where none or all of the base are in the top two is suppressed (class disclosure)."""
    rows, n_keys, base_keys = [], [], []
    for item in codebook.likert_items(group):
        var = codebook.variable(item)
        scale = [var.codes[c][lang] for c in var.codes]
        top = scale[-2:]
        answered = df[item].notna() & ~df[item].isin(
            [var.missing[c][lang] for c in var.missing])
        k = int(df.loc[answered, item].isin(top).sum())
        n = int(answered.sum())
        lo, hi = stats.wilson_ci(k, n, level)
        rows.append({"item": codebook.label(item, lang), "n": k, "n_base": n,
                     "pct": 100 * k / n if n else np.nan, "ci_low": 100 * lo,
                     "ci_high": 100 * hi, "item_code": item})
        dim = f"top2:{item}"
        ledger.domain(UNIT, dim, (True, False))
        ledger.equation(key(UNIT, {dim: True}), [key(UNIT, {item: c}) for c in top])
        n_keys.append(key(UNIT, {dim: True}))
        base_keys.append(_answered_key(ledger, item, scale))
    out = pd.DataFrame(rows)
    order = out.sort_values("pct", ascending=False, kind="mergesort").index
    out = out.loc[order].reset_index(drop=True)
    n_keys = [n_keys[i] for i in order]
    base_keys = [base_keys[i] for i in order]
    return _publish(ledger, out, n_keys, base_keys, artefact, class_rule=True)


def dk_counts_by_mode(
    ledger: Ledger, table: pd.DataFrame, group: str, artefact: str
) -> pd.DataFrame:
    """The don't-know-by-mode table (``mode, n, n_base, pct, ...``) through the ledger:
    ``n`` respondents of a mode with a don't-know on some item of ``group``, ``n_base`` the
    mode's respondents; a mode where none or all said don't-know is suppressed."""
    n_keys = [key(UNIT, {"mode": m, f"dk:{group}": True}) for m in table["mode"]]
    base_keys = [key(UNIT, {"mode": m}) for m in table["mode"]]
    return _publish(ledger, table, n_keys, base_keys, artefact, class_rule=True)


def dk_sensitivity_counts(
    ledger: Ledger, table: pd.DataFrame, group: str, artefact: str
) -> pd.DataFrame:
    """The don't-know sensitivity table with its ``n`` (respondents analysed) through the
    ledger: listwise = answered every item without a don't-know, midpoint = left no item
    empty, imputation = every respondent. Rows in that order (``dk_sensitivity``).

    Where a row's ``n`` is suppressed, the statistics that give it back are blanked too: the
    % ready (a share of that n) and its interval (whose width is z·√(p(1−p)/n)), and the
    mean score with its interval (the mean times the items times n is a whole number, so a
    six-digit mean pins n). Cronbach's α and the CAWI − PAPI difference stay."""
    keys = [scored_key(group), key(UNIT, {f"blank:{group}": False}), key(UNIT)]
    if len(table) != len(keys):
        raise DisclosureError(f"{artefact}: expected {len(keys)} strategies, got {len(table)}")
    sized = [c for c in table.columns if c.startswith(("pct", "mean"))]
    return protect_frame(ledger, table, {"n": keys}, artefact,
                         derived={c: ["n"] for c in sized})


def mode_bases(
    ledger: Ledger, table: pd.DataFrame, codes_scored: pd.DataFrame, outcomes: Sequence[str],
    group: str, artefact: str,
) -> pd.DataFrame:
    """The mode-power table with its ``n_cawi``/``n_papi`` (respondents analysed per mode)
    through the ledger. The readiness score's bases are the scored respondents of each mode;
    another outcome's are the respondents of the mode who answered it, a count of its own
    unless it equals the mode's total (then it is that count). Where a base is suppressed,
    the row's ``difference`` and ``mdd`` are blanked with it."""
    keys: dict[str, list[Key]] = {"n_cawi": [], "n_papi": []}
    for outcome, (_, row) in zip(outcomes, table.iterrows(), strict=True):
        for col, mode in (("n_cawi", "CAWI"), ("n_papi", "PAPI")):
            total = int((codes_scored["mode"] == mode).sum())
            if outcome == "readiness_score":
                k = key(UNIT, {"mode": mode, f"dk:{group}": False, f"blank:{group}": False})
            elif int(row[col]) == total:
                k = key(UNIT, {"mode": mode})
            else:
                dim = f"analysed:{outcome}"
                ledger.domain(UNIT, dim, (True, False))
                k = key(UNIT, {"mode": mode, dim: True})
            keys[col].append(k)
    # the difference (a difference of shares: integers over each base) and the minimum
    # detectable difference (a function of both bases) would give a hidden base back
    sized = {c: ["n_cawi", "n_papi"] for c in ("difference", "mdd") if c in table.columns}
    return protect_frame(ledger, table, keys, artefact, derived=sized)


# ----------------------------------------------------------------------------- tests
def _group_labels(codes: pd.DataFrame, codebook: Codebook, var: str, lang: str) -> pd.Series:
    if var == "mode":
        return codes["mode"]
    labels = codebook.labels(var, lang)
    return codes[var].map(lambda x: labels.get(x) if pd.notna(x) else None)


def _name(codebook: Codebook, var: str, lang: str) -> str:
    if var == "readiness_score":
        return "readiness score" if lang == "en" else "wskaźnik gotowości"
    if var == "ready":
        return "ready (score ≥ 4)" if lang == "en" else "gotowi (wskaźnik ≥ 4)"
    if var == "mode":
        return "mode" if lang == "en" else "tryb"
    return codebook.label(var, lang)


def _compare(frame: pd.DataFrame, outcome: str, group: str, *, seed: int,
             n_boot: int, level: float) -> dict[str, Any]:
    """χ² or Fisher with Bergsma's V (bootstrap CI) for a categorical outcome; Kruskal–Wallis
    or Mann–Whitney for the score. A Fisher row shows no χ² statistic (``statistic`` NaN)."""
    data = frame[[outcome, group]].dropna()
    if data[group].nunique() < 2 or data[outcome].nunique() < 2:
        raise CompendiumError("no variation")
    if outcome == "readiness_score":
        groups = [g[outcome].to_numpy(float) for _, g in data.groupby(group, sort=True)]
        if len(groups) == 2:
            r = stats.mwu_test(groups[0], groups[1])
            return {"test": "Mann-Whitney U", "statistic": r["U"], "dof": np.nan, "p": r["p"],
                    "p_method": "asymptotic", "p_se": 0.0, "effect": "rank-biserial r",
                    "effect_size": r["rbc"], "effect_ci_low": np.nan,
                    "effect_ci_high": np.nan, "n": r["n1"] + r["n2"]}
        r = stats.kruskal_test(data.assign(**{group: data[group].astype(str)}), outcome, group)
        return {"test": "Kruskal-Wallis H", "statistic": r["H"], "dof": r["dof"], "p": r["p"],
                "p_method": "asymptotic", "p_se": 0.0, "effect": "epsilon squared",
                "effect_size": r["epsilon2"], "effect_ci_low": np.nan, "effect_ci_high": np.nan,
                "n": r["n"]}
    data = data.assign(**{outcome: data[outcome].astype(str), group: data[group].astype(str)})
    r = stats.chi2_test(data, outcome, group, seed=seed)
    v = contingency.cramers_v_bootstrap(data[outcome], data[group], level=level,
                                        n_boot=n_boot, seed=seed)
    test = "chi-squared" if r["test"] == "chi2" else "Fisher-Freeman-Halton"
    return {"test": test, "statistic": r["chi2"], "dof": r["dof"], "p": r["p"],
            "p_method": r["p_method"], "p_se": r["p_se"],
            "effect": "Cramer's V (bias-corrected)", "effect_size": v["v"],
            "effect_ci_low": v["ci_low"], "effect_ci_high": v["ci_high"], "n": r["n"]}


def planned_family(
    codes: pd.DataFrame, codebook: Codebook, outcomes: Sequence[str], groups: Sequence[str],
    alpha: float, method: str, lang: str, *, seed: int, n_boot: int, level: float,
) -> pd.DataFrame:
    """One declared family of tests (analysis plan): every outcome by every group, corrected
    together by ``method``. Only the named tests run; a pair without variation (e.g. a
    problem asked only of those with contact, by contact) is left out and listed in
    ``attrs["skipped"]``."""
    rows, skipped = [], []
    for g in groups:
        # groups as codebook codes in codebook order (labels only name the row): the tests'
        # numbers, e.g. the sign of a rank-biserial r, are the same in every language
        frame = codes.assign(**{f"__{g}": factors.coded(codes, codebook, g)})
        for outcome in outcomes:
            try:
                res = _compare(frame, outcome, f"__{g}", seed=seed, n_boot=n_boot, level=level)
            except CompendiumError:
                skipped.append((outcome, g))
                continue
            rows.append({"outcome": _name(codebook, outcome, lang),
                         "group": _name(codebook, g, lang), **res})
    out = stats.test_family(rows, method=method, alpha=alpha).reset_index(drop=True)
    out.attrs["skipped"] = skipped
    out.attrs["sdc"] = ("exempt: test statistics; n is the number of respondents in each test "
                        "(all who answered both questions), not a table cell")
    return out


# ----------------------------------------------------------------------------- findings
def key_findings(
    df: pd.DataFrame, problems: pd.DataFrame, wanted: pd.DataFrame, rel: Mapping[str, Any],
    tests: pd.DataFrame, modes: pd.DataFrame, power: pd.DataFrame, alpha: float, lang: str,
) -> list[str]:
    """Three to five sentences built from the computed tables.

    The mode sentence says what the data can show: how many mode tests are significant and
    the smallest score difference the PAPI group size can detect (``power``: the table of
    :func:`compendium.analysis.survey_models.mode_power`, readiness score first).
    """
    n = len(df)
    cawi = int((df["mode"] == "CAWI").sum())
    probs = plottable(problems)
    top = probs.iloc[0]
    want = plottable(wanted).iloc[0]
    sig = tests[tests["significant"]]
    msig = modes[modes["significant"]]
    score_name = "readiness score" if lang == "en" else "wskaźnik gotowości"
    score_rows = power[power["outcome"] == score_name]
    score = score_rows.iloc[0] if len(score_rows) else None
    if score is not None and pd.isna(pd.to_numeric(score["mdd"], errors="coerce")):
        score = None  # its bases are suppressed, and the mdd with them
    if lang == "pl":
        return [
            f"Ankietę wypełniło {n} osób ({cawi} przez internet, {n - cawi} na papierze).",
            f"Najczęstszy problem w kontaktach z cudzoziemcami to: {top['option']} "
            f"({top['pct']:.0f} % osób mających kontakt; 95 % CI {top['ci_low']:.0f}–"
            f"{top['ci_high']:.0f} %).",
            f"Najbardziej pożądana kompetencja: {want['item']} ({want['pct']:.0f} % gotowych).",
            f"Skala gotowości ma alfę Cronbacha {rel['alpha']:.2f} "
            f"(95 % CI {rel['ci_low']:.2f}–{rel['ci_high']:.2f}).",
            f"Po korekcie {len(sig)} z {len(tests)} zaplanowanych porównań grup jest istotnych "
            f"na poziomie {alpha}; tryby różnią się istotnie w {len(msig)} z {len(modes)} "
            f"wskaźników" + ("." if score is None else
                            f", ale przy {score['n_papi']} ankietach PAPI wykrywalna jest "
                            f"dopiero różnica wskaźnika gotowości rzędu {score['mdd']:.2f} "
                            "punktu, więc mniejszych różnic trybu dane nie wykluczają."),
        ]
    return [
        f"{n} workers answered ({cawi} online, {n - cawi} on paper).",
        f"The most common problem with foreign clients is {top['option'].lower()} "
        f"({top['pct']:.0f} % of those with contact; 95 % CI {top['ci_low']:.0f}–"
        f"{top['ci_high']:.0f} %).",
        f"The competence most wanted is {want['item'].lower()} ({want['pct']:.0f} % ready).",
        f"The readiness scale has Cronbach's alpha {rel['alpha']:.2f} "
        f"(95 % CI {rel['ci_low']:.2f}–{rel['ci_high']:.2f}).",
        f"After correction {len(sig)} of {len(tests)} planned group comparisons are "
        f"significant at {alpha}; the modes differ significantly on {len(msig)} of "
        f"{len(modes)} indicators" + ("." if score is None else
                                      f", but with {score['n_papi']} paper respondents "
                                      "only a readiness-score difference of about "
                                      f"{score['mdd']:.2f} points could be detected, so smaller "
                                      "mode effects are not ruled out."),
    ]


# ----------------------------------------------------------------------------- counts
def respondents(ledger: Ledger, value: int, artefact: str, **conditions: Any) -> int | None:
    """A count of respondents through the ledger: the value, or ``None`` where suppressed.

    A condition named ``<what>:<question>`` with a yes/no value that no table declared is
    declared here as a yes/no split of the respondents."""
    for dim, v in conditions.items():
        if isinstance(v, bool) and (UNIT, dim) not in ledger.domains:
            ledger.domain(UNIT, dim, (True, False))
    return gated_count(ledger, UNIT, conditions, int(value), artefact)


def scored(ledger: Ledger, value: int, artefact: str, group: str = "ready") -> int | None:
    """The respondents who enter the ``group`` score (every item, no don't-know), gated."""
    return respondents(ledger, value, artefact, **dict(scored_key(group)[1]))


def shown(value: int | None) -> str:
    """A gated count as prose shows it: the number, or the marker where it is suppressed."""
    return MARKER if value is None else str(int(value))


def records(table: pd.DataFrame, index: str, columns: str | Sequence[str]) -> dict[str, Any]:
    """``index -> {column: value}`` (or ``index -> value`` for one column named as a string)
    of a protected table for the results JSON; a suppressed count, or a statistic blanked
    with it, is ``None`` there."""
    cols = [columns] if isinstance(columns, str) else list(columns)
    sub = table.set_index(index)[cols].astype(object)
    hidden = sub.map(lambda v: (isinstance(v, str) and v == MARKER)
                     or (isinstance(v, float) and np.isnan(v)))
    sub = sub.where(~hidden, None)
    if isinstance(columns, str):
        return sub[columns].to_dict()
    return sub.to_dict("index")
