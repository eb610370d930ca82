"""Importing what the notebooks import pulls in none of the heavy optional stacks: each is
imported by the function that uses it, when it is called (the oracle: ``sys.modules`` of a
fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys

NOTEBOOK_IMPORTS = [
    "compendium.analysis.survey_analysis", "compendium.analysis.survey_models",
    "compendium.analysis.interview_analysis", "compendium.analysis.interview_findings",
    "compendium.analysis.qual", "compendium.data.codebook", "compendium.data.dedoose",
    "compendium.data.labels", "compendium.data.survey", "compendium.publish.notebook",
    "compendium.publish.plots",
]
HEAVY = ["matplotlib.pyplot", "seaborn", "pingouin", "pandera", "hypothesis", "sklearn",
         "xarray", "scipy.stats", "statsmodels.api", "patsy"]


def test_notebook_imports_load_no_heavy_stack():
    code = (f"import sys, json\nfor m in {NOTEBOOK_IMPORTS!r}: __import__(m)\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == []


def test_the_heavy_stack_arrives_when_a_test_runs():
    code = ("import sys\nfrom compendium.analysis import stats\n"
            "stats.mwu_test([1, 2, 3], [4, 5, 6])\nprint('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "True"
