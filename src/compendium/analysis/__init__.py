"""Stage 2 — analysis: tidy tables in, statistics and protected result tables out.

In: the validated tables of ``compendium.data`` (never raw files).

Out: pandas tables and plain numbers — survey statistics (``stats``), coded-interview
measures (``qual``), and the notebooks' compositions of them (``survey_analysis``,
``interview_analysis``). Every count meant for publication passes the notebook's
disclosure ledger (``disclosure_audit``, through ``protect``: linked primary, secondary and
class suppression with feasible ranges) before it leaves this stage.

Contract: functions are pure (no files written, no global state, deterministic for given
inputs and seeds); each method is described, with its formula and reference, in
``docs/methods.md``. Next stage: ``compendium.publish``.
"""
