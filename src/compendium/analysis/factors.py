"""Categorical predictors as codebook codes, and model terms as readers' labels.

A statistic must not depend on the language its page is written in. Models and tests therefore
see a categorical variable as its codebook codes, in the codebook's order (:func:`coded`), so
the reference level of a dummy coding (the first observed category) and the order of groups
are the same on the English and the Polish page. Labels are applied only to what is shown:
:func:`term_label` turns a design term such as ``contact_freq[T.2]`` into
``"Frequency of contact with foreigners: a few times a year"`` in the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from compendium.data.codebook import Codebook

#: The term of the model's constant, in each language.
INTERCEPT = {"en": "intercept", "pl": "wyraz wolny"}
_TERM = re.compile(r"^(?P<var>[^\[]+)\[T\.(?P<level>.*)\]$")


def coded(codes: pd.DataFrame, codebook: Codebook, var: str,
          extra: Mapping[Any, Any] | None = None) -> pd.Series:
    """Column ``var`` of the coded table as a Categorical of its codes in codebook order
    (missing codes excluded; ``extra`` categories, e.g. a "no contact" level, first)."""
    scale = [c for c in codebook.codes(var) if c not in set(codebook.missing_codes(var))]
    first = list(extra or {})
    values = codes[var].astype(object).where(codes[var].notna(), None)
    return pd.Series(pd.Categorical(values, categories=[*first, *scale]), index=codes.index,
                     name=var)


def level_label(codebook: Codebook, var: str, level: Any, lang: str,
                extra: Mapping[Any, Mapping[str, str]] | None = None) -> str:
    """The label in ``lang`` of one code of ``var`` (``level`` may be the code as text, as
    a design term carries it); ``extra`` maps codes outside the codebook to labels."""
    if extra and level in extra:
        return extra[level][lang]
    labels = codebook.labels(var, lang)
    for code, label in labels.items():
        if code == level or str(code) == str(level):
            return label
    return str(level)


def term_label(term: str, codebook: Codebook, lang: str,
               extra: Mapping[str, Mapping[Any, Mapping[str, str]]] | None = None) -> str:
    """A design term as the reader's ``"variable: level"`` (the intercept as a word); a term
    the codebook does not know is returned as it is."""
    if term == "Intercept":
        return INTERCEPT[lang]
    m = _TERM.match(term)
    if not m or m["var"] not in codebook.variables:
        return term
    var = m["var"]
    return (f"{codebook.label(var, lang)}: "
            f"{level_label(codebook, var, m['level'], lang, (extra or {}).get(var))}")
