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
        ("01_ops_survey", {"min_cell": 2}, "min_cell", "below the floor of 3"),
        ("02_idi_wielkopolska", {"min_cell": 1}, "min_cell", "not_for_publication true"),
        ("03_four_cities", {"min_cell": True}, "min_cell", "valid integer"),
        ("03_four_cities", {"min_cell": 3.0}, "min_cell", "valid integer"),
        ("03_four_cities", {"min_cell": "5"}, "min_cell", "valid integer"),
        ("03_four_cities", {"not_for_publication": "yes"}, "not_for_publication", "boolean"),
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


def test_params_files_validate_and_hold_only_what_differs_from_the_schema(project_root):
    import yaml

    for notebook in params.SCHEMAS:
        values = yaml.safe_load((project_root / "params" / f"{notebook}.yaml").read_text())
        params.validate(notebook, values or {})
        assert params.redundant_entries(notebook, values or {}) == [], notebook


def test_min_cell_read_from_yaml_true_is_refused_not_read_as_one():
    import yaml

    values = yaml.safe_load("min_cell: true\n")
    assert values == {"min_cell": True} and True == 1  # the trap: a bool is an int in Python
    with pytest.raises(ParameterError, match="valid integer"):
        params.validate("02_idi_wielkopolska", values)


def test_below_the_floor_only_with_the_not_for_publication_switch():
    p = params.validate("02_idi_wielkopolska", {"min_cell": 1, "not_for_publication": True})
    assert (p.min_cell, p.not_for_publication) == (1, True)
    # the switch must come from the run, in either order of the mapping
    p = params.validate("03_four_cities", {"not_for_publication": True, "min_cell": 2})
    assert p.min_cell == 2
    assert params.validate("01_ops_survey", {"min_cell": 3}).min_cell == params.MIN_CELL_FLOOR


def test_every_schema_with_min_cell_defaults_to_at_least_the_floor():
    for notebook in params.SCHEMAS:
        default = params.defaults(notebook).get("min_cell", params.MIN_CELL_FLOOR)
        assert type(default) is int and default >= 3, notebook


def test_every_parameter_has_a_description():
    for notebook, schema in params.SCHEMAS.items():
        missing = [n for n, f in schema.model_fields.items() if not f.description]
        assert missing == [], notebook


def _parameters_cell(path):
    import nbformat

    book = nbformat.read(path, as_version=4)
    return next(c.source for c in book.cells if "parameters" in c.metadata.get("tags", []))


def test_notebooks_parameters_cells_agree_with_the_schema(project_root):
    for notebook in params.SCHEMAS:
        source = _parameters_cell(project_root / "notebooks" / f"{notebook}.ipynb")
        assert params.parameters_cell_problems(notebook, source) == [], notebook


def test_parameters_cell_problems_names_each_disagreement():
    # A hand-made cell for 04_synthesis: one wrong value, one type change (True is not 1),
    # one unknown name, one computed value, one missing name (output_dir).
    source = ('lang = "pl"\nresults_dir = "outputs/results"\ndata_dir = "data"\n'
              "seed = 1\nnot_for_publication = 1 if True else 0\n")
    problems = params.parameters_cell_problems("04_synthesis", source)
    assert problems == [
        "line 1: lang = 'pl', but the schema's default is 'en'",
        "line 4: seed is not a parameter of the schema",
        "line 5: not_for_publication is computed, not a literal",
        "output_dir missing (schema default 'outputs')",
    ]
    assert params.parameters_cell_problems("01_ops_survey", "min_cell = 5.0\n")[0] == (
        "line 1: min_cell = 5.0, but the schema's default is 5")


def test_written_parameters_cell_executes_to_the_schema_defaults():
    for notebook in params.SCHEMAS:
        namespace: dict = {}
        exec(params.parameters_cell(notebook), namespace)  # Python itself reads the cell
        namespace.pop("__builtins__")
        expected = {k: v for k, v in params.defaults(notebook).items()
                    if k not in params.RUN_SWITCHES}
        assert namespace == expected
        assert params.parameters_cell_problems(notebook, params.parameters_cell(notebook)) == []


def test_redundant_entries_compare_type_and_value():
    values = {"alpha": 0.05, "min_cell": 5.0, "lang": "pl", "group_by": ["gmina_type",
              "contact", "position"], "dont_know_as_missing": 1}
    assert params.redundant_entries("01_ops_survey", values) == ["alpha", "group_by"]


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("", []),
        ("-p lang en", [("lang", "en")]),
        ("-p cities '[Berlin, New York]' --param lang pl", [("cities", "[Berlin, New York]"),
                                                           ("lang", "pl")]),
        ('-p title "$(touch x)"', [("title", "$(touch x)")]),
    ],
)
def test_split_overrides_splits_words_without_evaluating_them(text, pairs):
    assert params.split_overrides(text) == pairs


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-p lang en; touch x", "unexpected word 'touch'"),
        ("-p lang en && touch x", "unexpected word '&&'"),
        ("-p lang", "lacks a NAME or a VALUE"),
        ("lang en", "unexpected word 'lang'"),
        ("-p lang 'en", "cannot be split"),
    ],
)
def test_split_overrides_refuses_anything_but_p_triples(text, fragment):
    with pytest.raises(ParameterError, match="PARAMS") as err:
        params.split_overrides(text)
    assert fragment in str(err.value)


def test_route_overrides_gives_each_notebook_only_its_own_parameters():
    run = list(params.SCHEMAS)
    routed = params.route_overrides(run, [("alpha", "0.01"), ("unit", "segment"),
                                          ("lang", "pl")])
    assert routed == {
        "01_ops_survey": [("alpha", "0.01"), ("lang", "pl")],
        "02_idi_wielkopolska": [("unit", "segment"), ("lang", "pl")],
        "03_four_cities": [("unit", "segment"), ("lang", "pl")],
        "04_synthesis": [("lang", "pl")],
    }


def test_route_overrides_refuses_a_name_no_notebook_of_the_run_has():
    with pytest.raises(ParameterError, match="no notebook of this run") as err:
        params.route_overrides(["01_ops_survey"], [("cities", "[Berlin]")])
    assert "belongs to 03_four_cities" in str(err.value)
    with pytest.raises(ParameterError, match="citys"):
        params.route_overrides(list(params.SCHEMAS), [("citys", "[Berlin]")])


@pytest.mark.parametrize(("switch", "shown"), [(True, True), (False, False)])
def test_not_for_publication_puts_a_red_banner_on_the_page(
    project_root, monkeypatch, switch, shown
):
    from compendium.publish import notebook

    shown_objects: list = []
    monkeypatch.setattr(notebook, "display", shown_objects.append)
    namespace = {"min_cell": 1 if switch else 3, "not_for_publication": switch,
                 "data_dir": str(project_root / "data")}
    notebook.start("02_idi_wielkopolska", namespace)
    html = "".join(o._repr_html_() for o in shown_objects if hasattr(o, "_repr_html_"))
    assert ("NOT FOR PUBLICATION" in html) is shown
    assert ('role="alert"' in html and "background:#b00020" in html) is shown
