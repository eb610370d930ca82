"""How a published table reads on a page (the CSV keeps the technical form).

:func:`display_frame` turns a result table into strings for reading: p-values as ``0.003``
or ``< 0.001``, effect sizes, coefficients and intervals to two decimals, percentages to one,
counts as integers, booleans as words, and column headers in the page's language. Columns
that only carry identifiers (``code_id``, ``option_code``, ...) are left off the page; the
CSV written next to it keeps them. The rules are chosen from the column names the analyses
use (listed below), so a new column gets a sensible default: a float with two decimals and
its name with spaces for underscores.

Strings (labels, suppressed cells such as ``<5``) are passed through unchanged, except the
values that name a method (``test``, ``p_method``, ``p_test``, ``effect``: the ``values``
section of the message catalogues) and the agreement ``flag`` (the catalogue's
``codebook.flags``), which the page shows in its language while the CSV keeps them as
computed, the same in every language. Escaping is left to :mod:`compendium.publish.render`,
which renders the result.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

#: Columns holding identifiers only: in the CSV, not on the page.
ID_COLUMNS = frozenset({"code_id", "option_code", "item_code", "variable_code"})
#: p-value columns; ``p_method``/``p_test`` are text and ``p_se`` a standard error.
_P_COLUMN = re.compile(r"^(p|pval|p_value|p_adj|p_[a-z_]+)$")
_NOT_P = frozenset({"p_se", "p_method", "p_test"})
#: Count columns: shown as integers.
_COUNT_COLUMN = re.compile(r"^(n|n_.+|dof|df|group_size|level)$")
#: Percentage columns: one decimal.
_PCT_COLUMN = re.compile(r"^(pct|pct_.+|percent|share_pct)$")
#: Interval bounds that are percentages when the table's estimate is a percentage.
_CI_COLUMNS = frozenset({"ci_low", "ci_high"})

BOOLEAN_WORDS = {"en": ("yes", "no"), "pl": ("tak", "nie")}

#: Column headers for readers; ``{level}`` is the confidence level in per cent.
HEADERS: dict[str, dict[str, str]] = {
    "en": {
        "option": "answer", "answer": "answer", "item": "item", "variable": "characteristic",
        "category": "category", "n": "n", "n_base": "base n", "pct": "%",
        "ci_low": "{level} % CI low", "ci_high": "{level} % CI high",
        "outcome": "outcome", "group": "group", "test": "test", "statistic": "statistic",
        "dof": "df", "p": "p", "p_adj": "p (adjusted)", "p_method": "p computed by",
        "p_se": "SE of p", "p_test": "test of p", "effect": "effect size",
        "effect_size": "value", "effect_ci_low": "{level} % CI low",
        "effect_ci_high": "{level} % CI high", "significant": "significant",
        "n_cawi": "n CAWI", "n_papi": "n PAPI", "difference": "difference",
        "mdd": "min. detectable difference", "detectable": "detectable",
        "adjusted": "adjusted estimate", "estimate": "estimate",
        "r_item_rest": "item–rest r", "loading": "loading", "mode": "mode",
        "strategy": "treatment of don't-know", "alpha": "α", "mean": "mean",
        "mean_ci_low": "mean, CI low", "mean_ci_high": "mean, CI high",
        "pct_ready": "% ready", "pct_ci_low": "%, CI low", "pct_ci_high": "%, CI high",
        "diff_cawi_papi": "difference CAWI − PAPI", "diff_ci_low": "difference, CI low",
        "diff_ci_high": "difference, CI high", "term": "term", "odds_ratio": "odds ratio",
        "or_ci_low": "OR, {level} % CI low", "or_ci_high": "OR, {level} % CI high",
        "separated": "separation", "sparse": "sparse cells", "rrr": "relative risk ratio",
        "rrr_ci_low": "RRR, {level} % CI low", "rrr_ci_high": "RRR, {level} % CI high",
        "label": "code", "n_documents": "interviews", "pct_documents": "% of interviews",
        "n_segments": "segments", "n_units": "units", "pct_agreement": "% agreement",
        "kappa": "κ", "kappa_lo": "κ, CI low", "kappa_hi": "κ, CI high",
        "alpha_lo": "α, CI low", "alpha_hi": "α, CI high", "flag": "flag",
        "doc_id": "interview", "jaccard": "Jaccard", "boundary_match": "identical ranges",
        "n_coder_A": "interviews, coder A", "n_coder_B": "interviews, coder B",
        "n_consensus": "interviews, consensus", "cramers_v": "Cramér's V",
        "description": "description", "group_label": "group", "group_size": "group size",
        "study": "study", "theme": "theme", "parameter": "parameter", "value": "value",
        "default": "default", "n_interviews": "interviews",
        "n_double_coded": "double-coded interviews", "n_respondents": "respondents",
        "n_variables": "variables",
    },
    "pl": {
        "option": "odpowiedź", "answer": "odpowiedź", "item": "pozycja", "variable": "cecha",
        "category": "kategoria", "n": "n", "n_base": "n bazy", "pct": "%",
        "ci_low": "{level} % PU dolna", "ci_high": "{level} % PU górna",
        "outcome": "zmienna wynikowa", "group": "grupa", "test": "test",
        "statistic": "statystyka", "dof": "df", "p": "p", "p_adj": "p (skorygowane)",
        "p_method": "sposób obliczenia p", "p_se": "błąd std. p", "p_test": "test dla p",
        "effect": "miara efektu", "effect_size": "wartość",
        "effect_ci_low": "{level} % PU dolna", "effect_ci_high": "{level} % PU górna",
        "significant": "istotne", "n_cawi": "n CAWI", "n_papi": "n PAPI",
        "difference": "różnica", "mdd": "min. wykrywalna różnica", "detectable": "wykrywalna",
        "adjusted": "oszacowanie skorygowane", "estimate": "oszacowanie",
        "r_item_rest": "r pozycja–reszta", "loading": "ładunek", "mode": "tryb",
        "strategy": "traktowanie „nie wiem”", "alpha": "α", "mean": "średnia",
        "mean_ci_low": "średnia, PU dolna", "mean_ci_high": "średnia, PU górna",
        "pct_ready": "% gotowych", "pct_ci_low": "%, PU dolna", "pct_ci_high": "%, PU górna",
        "diff_cawi_papi": "różnica CAWI − PAPI", "diff_ci_low": "różnica, PU dolna",
        "diff_ci_high": "różnica, PU górna", "term": "zmienna", "odds_ratio": "iloraz szans",
        "or_ci_low": "OR, {level} % PU dolna", "or_ci_high": "OR, {level} % PU górna",
        "separated": "separacja", "sparse": "rzadkie komórki",
        "rrr": "względny iloraz ryzyka", "rrr_ci_low": "RRR, {level} % PU dolna",
        "rrr_ci_high": "RRR, {level} % PU górna", "label": "kod",
        "n_documents": "wywiady", "pct_documents": "% wywiadów", "n_segments": "fragmenty",
        "n_units": "jednostki", "pct_agreement": "% zgodności", "kappa": "κ",
        "kappa_lo": "κ, PU dolna", "kappa_hi": "κ, PU górna", "alpha_lo": "α, PU dolna",
        "alpha_hi": "α, PU górna", "flag": "oznaczenie", "doc_id": "wywiad",
        "jaccard": "Jaccard", "boundary_match": "identyczne zakresy",
        "n_coder_A": "wywiady, koder A", "n_coder_B": "wywiady, koder B",
        "n_consensus": "wywiady, konsensus", "cramers_v": "V Craméra",
        "description": "opis", "group_label": "grupa", "group_size": "liczebność grupy",
        "study": "badanie", "theme": "temat", "parameter": "parametr", "value": "wartość",
        "default": "domyślnie", "n_interviews": "wywiady",
        "n_double_coded": "wywiady kodowane podwójnie", "n_respondents": "respondenci",
        "n_variables": "zmienne",
    },
}


#: The agreement table's flags (``compendium.analysis.agreement``) and their catalogue keys.
_FLAGS = ((re.compile(r"^below (?P<threshold>\S+)$"), "below"),
          (re.compile(r"^not applied in subset$"), "not_applied"),
          (re.compile(r"^applied to every unit$"), "applied_everywhere"),
          (re.compile(r"^no double-coded units$"), "no_double_coded"))


def flag_words(flag: str, words: dict[str, str]) -> str:
    """A published agreement flag in the page's words (``words``: the catalogue's
    ``codebook.flags``); a flag it does not know is shown as published."""
    for pattern, key in _FLAGS:
        m = pattern.match(flag.strip())
        if m:
            return str(words[key]).format(**m.groupdict())
    return flag


def value_words(name: Any, lang: str) -> Any:
    """How the text values of column ``name`` read in ``lang``: a function of one value, or
    None for a column whose values are shown as they are."""
    from compendium.publish.language import messages

    table = messages(lang)
    if name == "flag":
        flags = table["codebook"]["flags"]
        return lambda v: flag_words(v, flags) if isinstance(v, str) else v
    words = table["values"].get(name) if isinstance(name, str) else None
    if not words:
        return None
    return lambda v: words.get(v, v) if isinstance(v, str) else v


def is_id_column(name: Any, frame: pd.DataFrame) -> bool:
    """True for a column that only identifies rows another column already labels."""
    if name in ID_COLUMNS or (isinstance(name, str) and name.endswith("_code")):
        return True
    # ``group`` repeats ``group_label`` in the long prevalence tables.
    return name == "group" and "group_label" in frame.columns


def header(name: Any, lang: str, ci_level: float = 0.95) -> str:
    """The reader's header of column ``name`` (a name without a label: ``_`` as spaces)."""
    labels = HEADERS.get(lang, HEADERS["en"])
    if not isinstance(name, str):
        return str(name)
    if name in labels:
        return labels[name].format(level=_level(ci_level))
    return name.replace("_", " ") if re.fullmatch(r"[a-z0-9_]+", name) else name


def _level(ci_level: float) -> str:
    pct = 100 * ci_level
    return f"{pct:.0f}" if abs(pct - round(pct)) < 1e-9 else f"{pct:g}"


def column_kind(name: Any, frame: pd.DataFrame) -> str:
    """``p``, ``count``, ``pct``, ``bool`` or ``number`` (two decimals) for column ``name``."""
    col = frame[name]
    if pd.api.types.is_bool_dtype(col):
        return "bool"
    if not isinstance(name, str):
        return "count" if pd.api.types.is_integer_dtype(col) else "number"
    if _P_COLUMN.match(name) and name not in _NOT_P:
        return "p"
    if _COUNT_COLUMN.match(name) or pd.api.types.is_integer_dtype(col):
        return "count"
    if _PCT_COLUMN.match(name):
        return "pct"
    if name in _CI_COLUMNS and "pct" in frame.columns:
        return "pct"
    return "number"


def format_value(value: Any, kind: str, lang: str = "en") -> str:
    """One cell as text: numbers by ``kind``; text, including ``<5``, unchanged; missing as ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (bool, np.bool_)):
        yes, no = BOOLEAN_WORDS.get(lang, BOOLEAN_WORDS["en"])
        return yes if value else no
    if not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral) and kind != "p":
        return str(int(value))
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if kind == "p":
        return "< 0.001" if x < 0.001 else f"{x:.3f}"
    if kind == "count" and x == round(x):
        return f"{x:.0f}"
    text = f"{x:.1f}" if kind == "pct" else f"{x:.2f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def display_frame(
    df: pd.DataFrame, lang: str = "en", *, ci_level: float = 0.95, index: bool = False,
) -> pd.DataFrame:
    """``df`` as strings for reading, without id columns, with the page's headers.

    The index (shown when ``index``) keeps its labels; its name is translated like a header.
    """
    shown = [c for c in df.columns if not is_id_column(c, df)]
    out = pd.DataFrame(index=df.index)
    for pos, name in enumerate(df.columns):
        if name not in shown:
            continue
        kind = column_kind(name, df)
        words = value_words(name, lang)
        values = df.iloc[:, pos] if words is None else df.iloc[:, pos].map(words)
        out[pos] = [format_value(v, kind, lang) for v in values]
    out.columns = pd.Index([header(n, lang, ci_level) for n in shown])
    if index:
        out.index = df.index.set_names([None if n is None else header(n, lang, ci_level)
                                         for n in df.index.names])
    return out
