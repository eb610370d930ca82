"""Hostile raw data: script payloads in every free-text channel reach no reader's browser.

A copy of the project gets raw exports carrying payloads (written by transforming the
synthetic files with openpyxl and the csv module, as the exporting tools would have stored
them), is built with ``make all`` (English and Polish pages), and every page is opened in
Debian's Chromium; then the four-city page is built once more, by the runner alone, from a
REFI-QDA project with payloads in a code's name and description and a case variable. (Its
coded source texts are left alone: overwriting them in place breaks the producer offset check,
and the data check stops a build on two disagreeing copies of one study.)
Oracles: the browser itself (no dialog opens, no script runs, no CSP violation is even
needed) and the text the browser shows (each payload that is published appears literally).
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import IGNORE, ROOT, make

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NS = "urn:QDA-XML:project:1.0"
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def payload(channel: str) -> str:
    """Script, handler, SVG, ``javascript:`` link and Markdown injection, tagged by channel
    (no backslash, which Dedoose and REFI-QDA use as the code-path separator)."""
    return (f'{channel} <script>alert("{channel}")</script> <img src=x onerror=alert("{channel}")>'
            f' "><svg onload=alert("{channel}")> <a href="javascript:alert(1)">{channel}-a</a>'
            f" [{channel}-md](javascript:alert(2)) **{channel}-bold**")


# ------------------------------------------------------------------ hostile raw files
def _hostile_qdpx(path: Path, channels: dict[str, str]) -> None:
    """Code name and description and a case variable of the REFI-QDA project, edited in
    place (its source texts and coded positions are left as they are)."""
    ET.register_namespace("", NS)
    q = f"{{{NS}}}"
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    root = ET.fromstring(members["project.qde"])
    for code in root.iter(q + "Code"):
        if code.get("name") == "Flexibility":
            code.set("name", channels["qdpx-code-title"])
            code.find(q + "Description").text = channels["qdpx-code-description"]
    values = list(root.iter(q + "TextValue"))
    values[-1].text = channels["qdpx-descriptor"]
    members["project.qde"] = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (2022, 12, 31, 0, 0, 0)), data)


def _xlsx(path: Path, edit) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    edit(wb.worksheets[0])
    wb.save(path)


def _rename_code(raw: Path, study: str, parent: str, title: str, new: str, desc: str | None):
    """Rename one leaf code in the codes export and in the excerpt export's column headers."""
    def codes(ws):
        head = [c.value for c in ws[1]]
        t, d = head.index("Title"), head.index("Description")
        for row in ws.iter_rows(min_row=2):
            if row[t].value == title:
                row[t].value = new
                if desc is not None:
                    row[d].value = desc
                    row[d].data_type = "s"  # text as exported, not a formula to openpyxl

    def excerpts(ws):
        for cell in ws[1]:
            for kind in ("Applied", "Range", "Weight"):
                if cell.value == f"Code: {parent}\\{title} {kind}":
                    cell.value = f"Code: {parent}\\{new} {kind}"

    _xlsx(raw / study / "dedoose_codes.xlsx", codes)
    _xlsx(raw / study / "dedoose_excerpts.xlsx", excerpts)


def _append_to_excerpts(raw: Path, study: str, text: str, descriptor: str | None = None,
                        value: str | None = None, new_value: str | None = None) -> None:
    def edit(ws):
        head = [c.value for c in ws[1]]
        copy = head.index("Excerpt Copy")
        col = head.index(descriptor) if descriptor else None
        for row in ws.iter_rows(min_row=2):
            if row[copy].value:
                row[copy].value = f"{row[copy].value} {text}"
            if col is not None and row[col].value == value:
                row[col].value = new_value

    _xlsx(raw / study / "dedoose_excerpts.xlsx", edit)


def _edit_csv(path: Path, encoding: str, column: str, new, quoting: int) -> None:
    with open(path, encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    i = rows[0].index(column)
    for row in rows[1:]:
        if len(row) > i:
            row[i] = new(row[i])
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=";", quoting=quoting, lineterminator="\r\n").writerows(rows)


def make_hostile(project: Path) -> dict[str, str]:
    """Put payloads into every free-text channel of every raw source; ``{channel: text}``."""
    raw = project / "data" / "raw"
    ch = {name: payload(name) for name in (
        "dedoose-idi-excerpt", "dedoose-idi-code-title", "dedoose-idi-descriptor",
        "dedoose-fc-excerpt", "dedoose-fc-code-title", "dedoose-fc-descriptor",
        "qdpx-code-title", "qdpx-code-description", "qdpx-descriptor",
        "limesurvey-other", "papi-remark", "dataset-generator")}
    # a description that a spreadsheet would also take for a formula
    ch["dedoose-fc-code-description"] = "=HYPERLINK(1) " + payload("dedoose-fc-code-description")
    _rename_code(raw, "idi_wielkopolska", "Cooperation", "NGO cooperation",
                 ch["dedoose-idi-code-title"], None)
    _rename_code(raw, "four_cities", "Qualities", "Speed", ch["dedoose-fc-code-title"],
                 ch["dedoose-fc-code-description"])
    _append_to_excerpts(raw, "idi_wielkopolska", ch["dedoose-idi-excerpt"],
                        "institution_type", "municipal office", ch["dedoose-idi-descriptor"])
    _append_to_excerpts(raw, "four_cities", ch["dedoose-fc-excerpt"],
                        "respondent_type", "other stakeholder", ch["dedoose-fc-descriptor"])
    survey = raw / "ops_survey"
    _edit_csv(survey / "cawi_limesurvey.csv", "utf-8-sig", "Q9[other]",
              lambda v: ch["limesurvey-other"] if v else v, csv.QUOTE_ALL)
    _edit_csv(survey / "papi_excel.csv", "cp1250", "Uwagi", lambda v: ch["papi-remark"],
              csv.QUOTE_MINIMAL)
    marker = raw / "dataset.yaml"
    info = yaml.safe_load(marker.read_text(encoding="utf-8"))
    info["generator"] = ch["dataset-generator"]
    marker.write_text(yaml.safe_dump(info, allow_unicode=True), encoding="utf-8")
    return ch


# ------------------------------------------------------------------ build and browse
@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict[str, str], list[Path]]:
    """The hostile copy built; its pages, plus the four-city page built from REFI-QDA."""
    project = tmp_path_factory.mktemp("hostile") / "project"
    shutil.copytree(ROOT, project, ignore=IGNORE, copy_function=shutil.copy2)
    channels = make_hostile(project)
    # The four-city Dedoose export now carries payloads its REFI-QDA twin does not, and the
    # data check stops a build on two disagreeing copies of one study (tested in tests/data):
    # mark the check done so this build tests the pages, not that rule.
    stamp = project / "outputs" / ".stamps" / "data-check"
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    make(project, "-j2", "all")
    html = project / "outputs" / "html"
    pages = sorted(html.glob("*.html")) + sorted((project / "outputs" / "pl" / "html").glob(
        "*.html"))
    # The four-city page once more from a hostile REFI-QDA project, by the runner alone
    side = project.parent / "qdpx-pages"
    side.mkdir()
    _hostile_qdpx(project / "data" / "raw" / "four_cities" / "project.qdpx", channels)
    res = subprocess.run([sys.executable, "-m", "compendium.publish.runner", "03_four_cities",
                          "-p", "source", "qdpx", "--outputs", str(side)], cwd=project,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    pages.append(side / "html" / "03_four_cities.html")
    return project, channels, pages




def flat(text: str) -> str:
    return " ".join(text.split())


INSPECT = """() => {
  const handlers = [], urls = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.toLowerCase().startsWith('on')) handlers.push(el.tagName + '[' + a.name + ']');
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name.toLowerCase())
          && /^\\s*(javascript|vbscript):/i.test(a.value)) urls.push(el.tagName + ' ' + a.value);
    }
  }
  const csp = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
  return {handlers, urls,
          scripts: [...document.scripts].map(s => s.getAttribute('src') + (s.text ? '+' : '')),
          svg: document.querySelectorAll('svg').length,
          csp: csp ? csp.content : null, text: document.body.innerText};
}"""


def test_no_payload_runs_and_every_published_payload_shows_literally(hostile, browser):
    from compendium.publish.render import CSP
    from compendium.publish.sitepages import SCRIPTS, SITE_CSP  # the site's search only

    project, channels, pages = hostile
    assert len(pages) >= 6
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    for path in pages:
        page = browser.new_page()
        found: list[str] = []
        page.on("dialog", lambda d, f=found: (f.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("pageerror", lambda exc, f=found: f.append(f"page error: {exc}"))
        page.on("console", lambda m, f=found: f.append(f"console: {m.text}")
                if m.type == "error" or "Content Security Policy" in m.text else None)
        page.goto(path.as_uri(), wait_until="load")
        for link in page.locator("a[href]").all():  # a click on any link runs nothing either
            if (link.get_attribute("href") or "").startswith("#") and link.is_visible():
                link.click()
        page.wait_for_timeout(200)
        got = page.evaluate(INSPECT)
        found += [f"inline handler: {h}" for h in got["handlers"]]
        found += [f"script URL: {u}" for u in got["urls"]]
        # the site step adds its search scripts (and their policy) to the site's pages; the
        # page built by the runner alone keeps the page policy and runs no script at all
        decorated = path.parent.name == "html" and path.parent.parent.name != "qdpx-pages"
        scripts, policy = (list(SCRIPTS), SITE_CSP) if decorated else ([], CSP)
        if got["scripts"] != scripts or got["svg"]:
            found.append(f"scripts {got['scripts']} and {got['svg']} svg elements")
        if got["csp"] != policy:
            found.append(f"Content-Security-Policy: {got['csp']!r}")
        text = flat(got["text"])
        for name, value in channels.items():
            if name in text:
                seen.add(name)
                # quotes may show part of a coded text: then its tail, tag end included
                shown = flat(value)
                if shown not in text:
                    found.append(f"{name}: payload not shown literally")
        page.close()
        if found:
            problems[path.name] = found
    assert problems == {}
    # the channels that the analyses publish did reach a page (so the test tested them)
    assert {"dedoose-idi-excerpt", "dedoose-idi-code-title", "dedoose-idi-descriptor",
            "dedoose-fc-excerpt", "dedoose-fc-code-title", "dedoose-fc-code-description",
            "qdpx-code-title", "qdpx-code-description", "dataset-generator"} <= seen, sorted(seen)


def test_respondents_free_text_is_published_nowhere(hostile):
    """The survey's "other" answers and the PAPI remarks are read as ticks or dropped: the
    words respondents typed reach no file under outputs/ (they may be personal data)."""
    project, channels, pages = hostile
    hits = sorted(p.relative_to(project).as_posix()
                  for p in (project / "outputs").rglob("*") if p.is_file()
                  for name in ("limesurvey-other", "papi-remark")
                  if name.encode() in p.read_bytes())
    assert hits == []


def test_hostile_tables_start_no_cell_with_a_formula(hostile):
    project, channels, pages = hostile
    tables = sorted((project / "outputs" / "tables").rglob("*.csv"))
    tables += sorted((pages[-1].parent / "tables").rglob("*.csv"))
    cells = []
    for t in tables:
        with open(t, newline="", encoding="utf-8") as fh:
            cells += [c for row in csv.reader(fh) for c in row]
    bad = [c[:40] for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")
           and not NUMBER.fullmatch(c)]
    assert bad == []
    assert "'" + channels["dedoose-fc-code-description"] in cells


def test_code_toggle_works_without_script(hostile, browser):
    """The show / hide code control is a label for a checkbox (the CSP allows no script)."""
    project, channels, pages = hostile
    page = browser.new_page()
    page.goto((project / "outputs" / "html" / "01_ops_survey.html").as_uri(), wait_until="load")
    code = page.locator(".jp-CodeCell .jp-Cell-inputWrapper").first
    assert code.is_visible()
    page.locator("label.compendium-toggle").click()
    assert not code.is_visible()
    page.locator("label.compendium-toggle").click()
    assert code.is_visible()
    page.close()
