"""No names or contact details in data/ (the scan of outputs/ is in test_pipeline)."""

import zipfile

import pytest

from compendium.publish.privacy import find_personal_data, scan_tree


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to jan.kowalski@example.pl today", "e-mail"),
        ("tel. +48 601 234 567", "phone"),
        ("call 601-234-567", "phone"),
        ("PESEL 85010112345 given", "PESEL-like number"),
        ("mieszka przy ul. Kwiatowa 12 w Poznaniu", "street address"),
        ("lives at 221 Baker Street", "street address"),
    ],
)
def test_scanner_finds_planted_personal_data(text, kind):
    assert kind in [k for k, _ in find_personal_data(text)]


def test_scanner_ignores_ordinary_numbers_dates_and_embedded_images():
    text = ("n = 217; 2020-09-01; 12.5 %; IDI_07; 0.8123456789; "
            "<img src=\"data:image/png;base64,AAAA12345678901BBBB\">")
    assert find_personal_data(text) == []


def test_scanner_ignores_svg_geometry_but_not_svg_text():
    svg = '<path d="M 434 634 434 L 12 13"/><text x="601 234 567">call 601 234 567</text>'
    assert find_personal_data(svg) == [("phone", "601 234 567")]


def test_scan_reads_inside_xlsx_like_zip_files(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.xlsx", "w") as zf:
        zf.writestr("xl/sharedStrings.xml", "<t>contact: anna@example.org</t>")
    assert scan_tree(tmp_path) == [(f"{tmp_path / 'x.xlsx'}!xl/sharedStrings.xml", "e-mail",
                                    "anna@example.org")]


def test_shipped_data_hold_no_personal_data(project_root):
    assert scan_tree(project_root / "data") == []
