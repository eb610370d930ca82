"""Hostile raw data: script payloads in every free-text channel reach no reader's browser.

A copy of the project gets raw exports carrying payloads (written by transforming the
synthetic files with openpyxl and the csv module, as the exporting tools would have stored
them), is built with ``make all`` (English and Polish pages), and every page is opened in
Debian's Chromium (and searched with the site search, whose results quote the payloads);
then the four-city page is built once more, by the runner alone, from a hostile REFI-QDA
project.

Channels (``{source}-{channel}``): Dedoose excerpt text, code title and description,
descriptor name and value, excerpt memo, interview title (``Media Title``) and coder name
(``Excerpt Creator``), for both studies; REFI-QDA source text (inside every coded passage,
so every quote carries it: the project is rewritten by ``write_qdpx`` with all positions
shifted, as a tool would save it), source name, code name and description, case variable
name and value, user name, selection memo and project note; LimeSurvey
"other" answers; PAPI remarks; the data set's marker. Channels that reach no page are listed
in ``UNPUBLISHED`` with the reason, and checked to reach no file at all.
Oracles: the browser itself (no dialog opens, no script runs, no CSP violation is even
needed), the text the browser shows (each published payload appears literally), the CSV
module reading the tables back (no cell starts with a formula character unless a number).
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
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
def _qdpx_texts(path: Path) -> tuple[dict[str, str], list[str]]:
    """The transcripts of a REFI-QDA project (``\\n`` line ends) by source name, and its users
    in order, read straight from the zip (not through the reader under test)."""
    q = f"{{{NS}}}"
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        texts = {}
        for src in root.iter(q + "TextSource"):
            member = "sources/" + src.get("plainTextPath").removeprefix("internal://")
            raw = zf.read(member).decode("utf-8-sig")
            texts[src.get("name")] = raw.replace("\r\n", "\n")
    return texts, [u.get("name") for u in root.iter(q + "User")]


def _rebuild_qdpx(path: Path, corpus, text: str, rename: tuple[str, str]) -> None:
    """Rewrite the project (read as ``corpus``) with ``text`` inserted into every coded
    passage (after its ``[synthetic] `` tag) and one source renamed, every position shifted
    so the project stays consistent; written by ``write_qdpx`` (the convention the reader
    checks on the data: code points, CRLF as one)."""
    from compendium.data.corpus import tidy_corpus
    from compendium.data.qdpx_writer import write_qdpx

    texts, users = _qdpx_texts(path)
    ins = text + " "
    seg = corpus.segments
    points: dict[str, list[int]] = {}
    for doc, start, passage in zip(seg["doc_id"], seg["start"], seg["text"], strict=True):
        assert passage.startswith("[synthetic] "), passage  # the generator's tag
        points.setdefault(doc, []).append(int(start) + len("[synthetic] "))
    points = {doc: sorted(set(p)) for doc, p in points.items()}
    new_texts = {}
    for doc, full in texts.items():
        cuts = points.get(doc, [])
        parts, last = [], 0
        for p in cuts:
            parts += [full[last:p], ins]
            last = p
        new_texts[doc] = "".join(parts) + full[last:]

    def moved(doc: str, x: int) -> int:  # positions after k insertion points move k times
        return x + len(ins) * sum(p < x for p in points.get(doc, []))

    old, new = rename
    name = {d: (new if d == old else d) for d in texts}
    cod = corpus.codings.merge(seg, on="segment_id", validate="many_to_one")
    start = [moved(d, int(s)) for d, s in zip(cod["doc_id"], cod["start"], strict=True)]
    end = [moved(d, int(e)) for d, e in zip(cod["doc_id"], cod["end"], strict=True)]
    codings = pd.DataFrame({
        "doc_id": cod["doc_id"].map(name), "start": start, "end": end,
        "text": [new_texts[d][s:e] for d, s, e in zip(cod["doc_id"], start, end, strict=True)],
        "code_id": cod["code_id"], "coder": cod["coder"]})
    attrs = corpus.doc_attributes.assign(doc_id=corpus.doc_attributes["doc_id"].map(name))
    rebuilt = tidy_corpus([name[d] for d in corpus.documents["doc_id"]], attrs, corpus.codes,
                          codings, path)
    write_qdpx(rebuilt, {name[d]: t for d, t in new_texts.items()}, path, users=users,
               project_name="four_cities", line_ending="\r\n")


def _hostile_qdpx(path: Path, channels: dict[str, str]) -> None:
    """Code name and description, a case variable's value, a new variable's name, the second
    user's name, a selection memo and a project note of the REFI-QDA project, edited in
    place as another tool would store them."""
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
    for user in root.iter(q + "User"):  # the second coder (coder_A is the default primary)
        if user.get("name") != "coder_A":
            user.set("name", channels["qdpx-coder"])
    # one more case variable, with a hostile name, given to the first case
    guid = "6b8e1b3e-0000-4000-8000-000000000002"
    ET.SubElement(root.find(q + "Variables"), q + "Variable",
                  {"guid": guid, "name": channels["qdpx-descriptor-name"],
                   "typeOfVariable": "Text"})
    value = ET.Element(q + "VariableValue")
    ET.SubElement(value, q + "VariableRef", {"targetGUID": guid})
    ET.SubElement(value, q + "TextValue").text = "yes"
    next(root.iter(q + "Case")).insert(0, value)
    # a memo on a coded passage (QDA-XML: Description first in a PlainTextSelection) and a
    # project note (Notes come after Sources)
    memo = ET.Element(q + "Description")
    memo.text = channels["qdpx-memo"]
    next(root.iter(q + "PlainTextSelection")).insert(0, memo)
    note = ET.SubElement(ET.SubElement(root, q + "Notes"), q + "Note",
                         {"guid": "6b8e1b3e-0000-4000-8000-000000000001", "name": "memo"})
    ET.SubElement(note, q + "PlainTextContent").text = channels["qdpx-memo"]
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


def _excerpt_extras(raw: Path, study: str, ch: dict[str, str], prefix: str) -> None:
    """In the excerpt export: a double-coded interview renamed on every row (its ``Media
    Title``), the second coder renamed (``Excerpt Creator``), a descriptor field with a
    hostile name, and an excerpt memo in a headerless column (where Dedoose writes them)."""
    def edit(ws):
        head = [c.value for c in ws[1]]
        media, creator = head.index("Media Title"), head.index("Excerpt Creator")
        coders: dict[str, set] = {}
        for row in ws.iter_rows(min_row=2):
            coders.setdefault(row[media].value, set()).add(row[creator].value)
        old = next(doc for doc, who in coders.items() if len(who) > 1)
        second = sorted(set().union(*coders.values()) - {"coder_A"})  # coder_A: the default
        assert len(second) == 1, second
        for row in ws.iter_rows(min_row=2):
            if row[media].value == old:
                row[media].value = ch[f"{prefix}-media-title"]
            if row[creator].value == second[0]:
                row[creator].value = ch[f"{prefix}-coder"]
            ws.cell(row=row[0].row, column=len(head) + 1, value="yes")
        ws.cell(row=1, column=len(head) + 1, value=ch[f"{prefix}-descriptor-name"])
        ws.cell(row=2, column=len(head) + 2, value=f"Memo: {ch[f'{prefix}-memo']}")

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
    """Put payloads into every free-text channel of the Dedoose exports, the survey files and
    the data set's marker; ``{channel: text}`` (the REFI-QDA channels: :func:`hostile_qdpx`)."""
    raw = project / "data" / "raw"
    ch = {name: payload(name) for name in (
        "dedoose-idi-excerpt", "dedoose-idi-code-title", "dedoose-idi-code-description",
        "dedoose-idi-descriptor", "dedoose-idi-descriptor-name", "dedoose-idi-memo",
        "dedoose-idi-media-title", "dedoose-idi-coder",
        "dedoose-fc-excerpt", "dedoose-fc-code-title", "dedoose-fc-descriptor",
        "dedoose-fc-descriptor-name", "dedoose-fc-memo", "dedoose-fc-media-title",
        "dedoose-fc-coder",
        "limesurvey-other", "papi-remark", "dataset-generator")}
    # a description and an interview title (a whole cell of the segmentation table) that a
    # spreadsheet would also take for formulas
    ch["dedoose-fc-code-description"] = "=HYPERLINK(1) " + payload("dedoose-fc-code-description")
    ch["dedoose-idi-media-title"] = "-2+3 " + payload("dedoose-idi-media-title")
    _rename_code(raw, "idi_wielkopolska", "Cooperation", "NGO cooperation",
                 ch["dedoose-idi-code-title"], ch["dedoose-idi-code-description"])
    _rename_code(raw, "four_cities", "Qualities", "Speed", ch["dedoose-fc-code-title"],
                 ch["dedoose-fc-code-description"])
    _append_to_excerpts(raw, "idi_wielkopolska", ch["dedoose-idi-excerpt"],
                        "institution_type", "municipal office", ch["dedoose-idi-descriptor"])
    _append_to_excerpts(raw, "four_cities", ch["dedoose-fc-excerpt"],
                        "respondent_type", "other stakeholder", ch["dedoose-fc-descriptor"])
    _excerpt_extras(raw, "idi_wielkopolska", ch, "dedoose-idi")
    _excerpt_extras(raw, "four_cities", ch, "dedoose-fc")
    survey = raw / "ops_survey"
    typed = []
    _edit_csv(survey / "cawi_limesurvey.csv", "utf-8-sig", "Q9[other]",
              lambda v: (typed.append(v), ch["limesurvey-other"])[1] if v else v, csv.QUOTE_ALL)
    _edit_csv(survey / "papi_excel.csv", "cp1250", "Uwagi", lambda v: ch["papi-remark"],
              csv.QUOTE_MINIMAL)
    assert typed, "the synthetic survey holds no 'other' answer to replace"
    marker = raw / "dataset.yaml"
    info = yaml.safe_load(marker.read_text(encoding="utf-8"))
    info["generator"] = ch["dataset-generator"]
    marker.write_text(yaml.safe_dump(info, allow_unicode=True), encoding="utf-8")
    return ch


def hostile_qdpx(path: Path) -> dict[str, str]:
    """Payloads in every free-text channel of the REFI-QDA project: the coded source texts
    and a source name (the project rewritten consistently), then a code's name and
    description, a case variable, a selection memo and a project note (edited in place)."""
    ch = {name: payload(name) for name in (
        "qdpx-source-text", "qdpx-source-name", "qdpx-code-title", "qdpx-descriptor",
        "qdpx-descriptor-name", "qdpx-coder", "qdpx-memo")}
    # a description and a source name a spreadsheet would take for formulas (whole cells of
    # the codebook and the segmentation tables)
    ch["qdpx-code-description"] = "@SUM(1) " + payload("qdpx-code-description")
    ch["qdpx-source-name"] = "+SUM(2) " + payload("qdpx-source-name")
    from compendium.data.qdpx import read_qdpx

    corpus = read_qdpx(path)
    _rebuild_qdpx(path, corpus, ch["qdpx-source-text"],
                  (_double_coded(path), ch["qdpx-source-name"]))
    # read back without a warning: every passage is its old text with the payload inserted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = read_qdpx(path).segments["text"]
    assert all(ch["qdpx-source-text"] in t for t in after)
    assert sorted(t.replace(ch["qdpx-source-text"] + " ", "") for t in after) == sorted(
        corpus.segments["text"])
    _hostile_qdpx(path, ch)
    return ch


def _double_coded(path: Path) -> str:
    """The first source of the project that two users coded."""
    q = f"{{{NS}}}"
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("project.qde"))
    for src in root.iter(q + "TextSource"):
        if len({s.get("creatingUser") for s in src.iter(q + "PlainTextSelection")}) > 1:
            return src.get("name")
    raise AssertionError("no double-coded source in the project")


#: Channels that reach no page, and why (each is checked to reach no file under outputs/,
#: and the readers' reports show that the memos were found and set aside).
UNPUBLISHED = {
    "limesurvey-other": "the survey reads an 'other' box as ticked or not, never its words",
    "papi-remark": "the PAPI reader drops the remarks column (they may be personal data)",
    "dedoose-idi-memo": "excerpt memos are set aside by the Dedoose reader",
    "dedoose-fc-memo": "excerpt memos are set aside by the Dedoose reader",
    "qdpx-memo": "selection memos and notes are set aside by the REFI-QDA reader",
    "dedoose-fc-descriptor": "the four-city descriptors select interviews by declared values "
    "(parameters `cities`, `respondent_types`): another value drops the interview",
    "qdpx-descriptor": "as dedoose-fc-descriptor",
    "dedoose-idi-descriptor-name": "the notebooks read the descriptors they name; another "
    "field is read (checked below) and shown nowhere",
    "dedoose-fc-descriptor-name": "as dedoose-idi-descriptor-name",
    "qdpx-descriptor-name": "as dedoose-idi-descriptor-name",
}


# ------------------------------------------------------------------ build and browse
# session scope: made once per test process, whatever order the process runs its tests in
@pytest.fixture(scope="session")
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
    channels |= hostile_qdpx(project / "data" / "raw" / "four_cities" / "project.qdpx")
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
    searched = 0  # search results that show a payload
    for path in pages:
        # the site step adds its search scripts (and their policy) to the site's pages; the
        # page built by the runner alone keeps the page policy and runs no script at all
        decorated = path.parent.name == "html" and path.parent.parent.name != "qdpx-pages"
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
        if decorated and page.locator("#compendium-q").is_visible():
            # the site search for "alert": its results quote the payloads, as text
            page.fill("#compendium-q", "alert")
            page.wait_for_timeout(100)
            got = page.evaluate(INSPECT)
            found += [f"inline handler after a search: {h}" for h in got["handlers"]]
            found += [f"script URL after a search: {u}" for u in got["urls"]]
            searched += sum("<script>alert(" in t for t in
                            page.locator("#compendium-search-results li").all_inner_texts())
        page.close()
        if found:
            problems[path.name] = found
    assert problems == {}
    assert searched > 0
    # every channel not set aside on purpose did reach a page (so the test tested it)
    assert seen == set(channels) - set(UNPUBLISHED), sorted(seen)


def test_unpublished_channels_are_read_and_reach_no_file(hostile):
    """The channels of ``UNPUBLISHED`` reach no file under either outputs folder; the memos
    and the extra descriptor fields were where the readers look (the readers return them),
    so the test did put them there."""
    from compendium.data.dedoose import read_dedoose_report
    from compendium.data.qdpx import read_qdpx_report

    project, channels, pages = hostile
    raw = project / "data" / "raw"
    for study, name in (("idi_wielkopolska", "dedoose-idi-memo"),
                        ("four_cities", "dedoose-fc-memo")):
        corpus, report = read_dedoose_report(raw / study / "dedoose_excerpts.xlsx",
                                             raw / study / "dedoose_codes.xlsx")
        assert report.memos["memo"].str.strip().tolist() == [channels[name]]
        field = channels[name.replace("memo", "descriptor-name")]
        assert field in set(corpus.doc_attributes["attribute"])
    corpus, report = read_qdpx_report(raw / "four_cities" / "project.qdpx")
    assert (report.selection_memos, report.ignored["notes"]) == (1, 1)
    assert channels["qdpx-descriptor-name"] in set(corpus.doc_attributes["attribute"])
    hits = sorted(f"{name}: {p.relative_to(project.parent).as_posix()}"
                  for folder in (project / "outputs", pages[-1].parent.parent)
                  for p in folder.rglob("*") if p.is_file()
                  for name in UNPUBLISHED if name.encode() in p.read_bytes())
    assert hits == []


def test_hostile_tables_start_no_cell_with_a_formula(hostile):
    """OWASP: a published CSV cell starting with = + - @ tab or CR that is not a number is
    written with a leading ' (a spreadsheet shows it as text); data text is kept verbatim."""
    project, channels, pages = hostile
    side = pages[-1].parent.parent
    tables = sorted((project / "outputs").rglob("*.csv"))  # English, Polish, the manifest
    qdpx_tables = sorted(side.rglob("*.csv"))
    assert len(qdpx_tables) >= 8, qdpx_tables
    assert {t.relative_to(project).parts[1] for t in tables} >= {"tables", "pl", "manifest"}
    cells, side_cells = [], []
    for t in tables + qdpx_tables:
        with open(t, newline="", encoding="utf-8") as fh:
            got = [c for row in csv.reader(fh) for c in row]
        cells += got
        side_cells += got if t in qdpx_tables else []
    bad = [c[:40] for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")
           and not NUMBER.fullmatch(c)]
    assert bad == []
    assert "'" + channels["dedoose-fc-code-description"] in cells
    assert "'" + channels["dedoose-idi-media-title"] in cells
    assert "'" + channels["qdpx-code-description"] in side_cells
    assert "'" + channels["qdpx-source-name"] in side_cells
    # the payload inside the quoted passages is in the framework matrix, verbatim
    with open(side / "tables" / "03_four_cities" / "framework_matrix.csv", newline="",
              encoding="utf-8") as fh:
        quotes = [c for row in list(csv.reader(fh))[1:] for c in row[1:] if " | " in c]
    assert quotes and all(channels["qdpx-source-text"] in c for c in quotes)


def test_hostile_figures_hold_no_script(hostile):
    """A reader who opens a figure's SVG (each figure links to it) runs nothing: parsed as
    XML, no SVG of either build holds a script or foreignObject element, an event-handler
    attribute or a script URL (a raster image embedded as ``data:image/png`` is fine;
    matplotlib draws the labels, payloads included, as paths)."""
    project, channels, pages = hostile
    svgs = sorted((project / "outputs").rglob("*.svg")) + sorted(
        pages[-1].parent.parent.rglob("*.svg"))
    assert len(svgs) >= 10
    bad = []
    for svg in svgs:
        for el in ET.parse(svg).iter():
            if el.tag.rsplit("}", 1)[-1] in ("script", "foreignObject"):
                bad.append(f"{svg.name}: {el.tag}")
            for key, value in el.attrib.items():
                name = key.rsplit("}", 1)[-1].lower()
                if name.startswith("on") or (name == "href" and re.match(
                        r"\s*(javascript:|vbscript:|data:(?!image/(png|jpeg);))", value, re.I)):
                    bad.append(f"{svg.name}: {name}={value[:40]}")
    assert bad == []


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
