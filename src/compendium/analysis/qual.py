"""Coded-interview analyses, re-exported from the modules split by concern.

:mod:`~compendium.analysis.coding` (frequency, prevalence, matrices, descriptor tables),
:mod:`~compendium.analysis.cooccurrence`, :mod:`~compendium.analysis.saturation`,
:mod:`~compendium.analysis.agreement` and :mod:`~compendium.analysis.quotes` (exemplar quotes
and framework matrices). Methods: ``docs/methods.md`` section 2. Conventions shared by every
function (full codebook, parent roll-up over distinct segments, documents in position order):
``docs/methods.md#coded-interview-conventions``.
"""

from __future__ import annotations

from compendium.analysis.agreement import (
    KAPPA_BANDS,
    agreement,
    agreement_summary,
    binary_kappa_alpha,
    cohen_kappa,
    kappa_band,
    pooled_kappa,
    segmentation_agreement,
    segmentation_summary,
)
from compendium.analysis.coding import (
    UNITS,
    by_descriptor,
    code_frequency,
    count_matrix,
    declared_codings,
    doc_summary,
    presence_matrix,
)
from compendium.analysis.cooccurrence import LEVELS, MEASURES, cooccurrence, near_universal
from compendium.analysis.quotes import (
    QUOTE_HOW,
    exemplar_quotes,
    framework_long,
    framework_matrix,
)
from compendium.analysis.saturation import saturation

__all__ = [
    "KAPPA_BANDS",
    "LEVELS",
    "MEASURES",
    "QUOTE_HOW",
    "UNITS",
    "agreement",
    "agreement_summary",
    "binary_kappa_alpha",
    "by_descriptor",
    "code_frequency",
    "cohen_kappa",
    "cooccurrence",
    "count_matrix",
    "declared_codings",
    "doc_summary",
    "exemplar_quotes",
    "framework_long",
    "framework_matrix",
    "kappa_band",
    "near_universal",
    "pooled_kappa",
    "presence_matrix",
    "saturation",
    "segmentation_agreement",
    "segmentation_summary",
]
