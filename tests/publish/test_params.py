"""Parameter schemas: bad values stop a run with the parameter's name and what is allowed."""

import pytest

from compendium.errors import ParameterError
from compendium.publish import params


def test_defaults_of_every_notebook_validate():
    for notebook in params.SCHEMAS:
        assert params.validate(notebook, {}).lang == "en"


@pytest.mark.parametrize(
    ("notebook", "values", "name", "fragment"),
    [
        ("01_ops_survey", {"alpha": 2}, "alpha", "less than 1"),
        ("01_ops_survey", {"lang": "de"}, "lang", "'pl' or 'en'"),
        ("01_ops_survey", {"group_by": ["nope"]}, "group_by.0", "gmina_type"),
        ("01_ops_survey", {"min_cell": 0}, "min_cell", "greater than or equal to 1"),
        ("03_four_cities", {"cities": ["Paris"]}, "cities.0", "New York"),
        ("03_four_cities", {"cooccurrence_measure": "cosine"}, "cooccurrence_measure", "jaccard"),
        ("02_idi_wielkopolska", {"unit": "page"}, "unit", "interview"),
    ],
)
def test_bad_value_names_parameter_and_allowed_values(notebook, values, name, fragment):
    with pytest.raises(ParameterError) as err:
        params.validate(notebook, values)
    assert err.value.name == name
    assert fragment in str(err.value)


def test_unknown_parameter_is_an_error_listing_known_names():
    with pytest.raises(ParameterError, match="unknown parameter") as err:
        params.validate("03_four_cities", {"citys": ["Berlin"]})
    assert "cities" in str(err.value)


def test_from_namespace_reads_only_declared_names():
    ns = {"lang": "pl", "alpha": 0.01, "pd": object(), "__name__": "x"}
    p = params.from_namespace("01_ops_survey", ns)
    assert (p.lang, p.alpha) == ("pl", 0.01)


def test_unknown_notebook_lists_schemas():
    with pytest.raises(ParameterError, match="01_ops_survey"):
        params.schema_for("99_nothing")


def test_params_files_validate_against_schemas(project_root):
    import yaml

    for notebook in params.SCHEMAS:
        values = yaml.safe_load((project_root / "params" / f"{notebook}.yaml").read_text())
        params.validate(notebook, values or {})
