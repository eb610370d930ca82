"""Stage 3 — publish: protected results in, the published compendium out.

In: protected tables, numbers and figures from ``compendium.analysis``, the notebooks in
``notebooks/`` and their parameters in ``params/``.

Out: everything under ``outputs/`` — executed notebooks, CSV tables, PNG/SVG figures,
``results/*.json``, the HTML site, and the manifest of checksums.

Modules: ``params`` (declared parameter schemas), ``notebook`` (helpers the notebooks call
to show and save results), ``plots`` (the figures' theme), ``provenance`` (the colophon),
``runner`` (one page: papermill + nbconvert), ``client``/``forkserver``/``engine`` (what Make
calls: the build server that imports the stack once and runs each page in a forked child with
an in-process kernel), ``site`` (the index),
``manifest`` (checksums, ``make verify``), ``privacy`` (the personal-data scan).

Contract: every file is written atomically and only after its notebook ran to the end; the
same inputs and parameters give byte-identical files (no clocks, no absolute paths).
"""
