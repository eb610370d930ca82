"""Research compendium: local responses to migrants (Wielkopolska 2020, four cities 2022).

The package follows the study's stages, one subpackage each:

``compendium.data``
    raw exports (LimeSurvey, Polish Excel, SPSS, Dedoose, REFI-QDA) → validated tidy tables.
``compendium.analysis``
    tidy tables → statistics, qualitative measures and disclosure-protected result tables.
``compendium.publish``
    protected results → executed notebooks, tables, figures, JSON, the HTML site, manifest.
``compendium.synthetic``
    calibration targets → the synthetic raw exports shipped in ``data/raw/``.

Shared base modules stay at the top: ``errors`` (the exceptions every stage raises),
``artifacts`` (atomic writes of published files) and ``envfile`` (environment.yml from the
lock). The methods are documented in ``docs/methods.md``.
"""

__version__ = "0.1.0"
