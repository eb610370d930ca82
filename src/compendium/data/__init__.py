"""Stage 1 — data: raw exports in, validated tidy tables out.

In: the files declared in ``sources.RAW_FILES`` (LimeSurvey CSV / SPSS ``.sav``, the PAPI
Excel CSV, Dedoose ``.xlsx`` exports, REFI-QDA ``.qdpx`` projects and ``.qdc`` codebooks) and
the codebooks in ``data/codebooks/``. ``data/README.md`` lists the producers whose habits the
readers handle (offset conventions in ``qdpx_offsets``, the ``.sav`` in ``limesurvey_sav``);
``compare`` checks two copies of one study against each other.

Out: a survey ``DataFrame`` with one row per respondent and coded columns (``survey``,
``codebook``), and a ``CodedCorpus`` of documents, codes, segments and codings (``corpus``),
each validated against a declared schema; ``Labels`` for display (``labels``).

Contract: a reader either returns tables that satisfy the schema or raises ``DataError``
naming the file, row, column and what was expected; it never guesses a value silently and
never treats text such as ``NA`` as missing. ``datacheck`` reads every source once before
any notebook runs. Next stage: ``compendium.analysis``.
"""
