"""Validate every raw file against the data contract before any notebook runs.

``python -m compendium.data.datacheck data`` reads the survey (CAWI + PAPI), the Wielkopolska
IDIs and the four-city interviews (Dedoose export and REFI-QDA project), prints summary
lines per source (what was read, what was left out: incomplete responses, memos, sets),
``warning:`` lines for a source with 0 respondents, documents or codings, and exits 2 with
the reader's message on the first broken file or when two copies of one study disagree.

Make runs it in one process for all sources with ``--changed $?``: only the sources whose
files changed are read again (one set of imports, no repeated work). With
``COMPENDIUM_PARSE_CACHE`` set (by the Makefile), what the readers returned is stored for the
notebooks' pages when every checked source passed (:mod:`compendium.data.parsecache`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from compendium.data import parsecache
from compendium.data.corpus import CodedCorpus
from compendium.data.sources import source_map
from compendium.errors import CompendiumError, DataError, ParameterError


def sources(data_dir: Path) -> dict[str, dict[str, Path]]:
    """The raw files of each source, by role (from the declared map in ``sources``)."""
    return source_map(data_dir)


def check_source(data_dir: Path, source: str, *, include_incomplete: bool = False,
                 qdpx_read: Any = None) -> list[str]:
    """Read one source; return summary lines (raises the readers' DataError).

    Lines beginning ``warning:`` flag a source with 0 respondents, 0 documents or 0 codings
    (the run goes on). A study shipped in two formats (Dedoose and REFI-QDA) must agree:
    the first difference stops the run (DataError naming the REFI-QDA file).
    ``qdpx_read``: a :class:`ReadAhead` of the source's REFI-QDA project (see :func:`main`).
    """
    src = sources(data_dir)
    if source not in src:
        raise ParameterError("source", f"unknown source {source!r}", allowed=sorted(src))
    files = src[source]
    if source == "ops_survey":
        from compendium.data.codebook import load_codebook
        from compendium.data.survey import read_survey

        survey = read_survey(files["cawi"], files["papi"], load_codebook(files["codebook"]),
                             include_incomplete=include_incomplete)
        modes = survey["mode"].value_counts().sort_index().to_dict()
        excluded = survey.attrs.get("incomplete_excluded", 0)
        lines = [f"{source}: {len(survey)} respondents {modes}"]
        lines.append(f"{source}: {excluded} incomplete CAWI responses left out"
                     if excluded else f"{source}: no incomplete CAWI responses left out"
                     if not include_incomplete else f"{source}: incomplete responses included")
        if len(survey) == 0:
            lines.append(f"warning: {source}: 0 respondents")
        return lines
    from compendium.data.dedoose import read_dedoose_report

    corpus, report = read_dedoose_report(files["excerpts"], files["codes"])
    label = f"{source} (Dedoose)"
    lines = [f"{label}: {len(corpus.documents)} interviews, "
             f"{len(corpus.segments)} segments, {len(corpus.codes)} codes",
             f"{label}: {report.line()}", *_empty_warnings(label, corpus)]
    if "qdpx" in files and files["qdpx"].exists():
        from compendium.data.compare import first_difference
        from compendium.data.qdpx import read_qdpx_report

        done = qdpx_read.result() if qdpx_read is not None else None
        q, qreport = done if done is not None else read_qdpx_report(files["qdpx"])
        qlabel = f"{source} (REFI-QDA)"
        lines.append(f"{qlabel}: {len(q.documents)} interviews, {len(q.segments)} segments")
        lines.append(f"{qlabel}: {qreport.line()}")
        if qreport.warning:
            lines.append(f"warning: {qlabel}: {qreport.warning}")
        lines.extend(_empty_warnings(qlabel, q))
        diff = first_difference(corpus, q, f"Dedoose export {files['excerpts'].name}",
                                f"REFI-QDA project {files['qdpx'].name}")
        if diff is not None:
            raise DataError(files["qdpx"], f"the two copies of {source} disagree: {diff}",
                            expected="the same documents, descriptors, codes, passages "
                            "and codings in both formats")
        lines.append(f"{source}: the Dedoose export and the REFI-QDA project agree")
    return lines


def _empty_warnings(label: str, corpus: CodedCorpus) -> list[str]:
    """Warning lines for a corpus without documents or without codings."""
    out = []
    if corpus.documents.empty:
        out.append(f"warning: {label}: 0 documents")
    if corpus.codings.empty:
        out.append(f"warning: {label}: 0 codings")
    return out


def check(data_dir: Path, *, include_incomplete: bool = False) -> list[str]:
    """Read every source; return the summary lines (raises the readers' DataError)."""
    return [line for source in sources(data_dir)
            for line in check_source(data_dir, source, include_incomplete=include_incomplete)]


def sources_to_check(data_dir: Path, changed: list[str] | None) -> list[str]:
    """The sources owning the ``changed`` files; every source when ``changed`` is None or
    names a file that belongs to no single source (e.g. the data-set marker)."""
    src = sources(data_dir)
    if changed is None:
        return list(src)
    owner = {Path(f).resolve(): name for name, files in src.items() for f in files.values()}
    picked = {owner.get(Path(path).resolve()) for path in changed}
    if None in picked:
        return list(src)
    return [name for name in src if name in picked]


class ReadAhead:
    """``read_qdpx_report(path)`` of one source in a forked helper process while this one
    checks the other sources (at 100x data the project takes ~8 s of the check's ~20 s, and
    every page waits for the check). :meth:`result` is the corpus and report, or None when
    the helper failed for any reason: the caller then reads the project itself, so a broken
    project stops the check with the reader's own message, in the serial order. Parse-cache
    entries the helper wrote join this process's :func:`parsecache.writing` block."""

    def __init__(self, source: str, path: Path) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from compendium.data import qdpx  # noqa: F401  imported before the fork, not in it

        self.source = source
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        self._future: Any = self._pool.submit(_read_qdpx_aside, path)

    def _done(self) -> tuple[Any, list] | None:
        try:
            return self._future.result()
        except Exception:  # a helper that died or could not send its result
            return None
        finally:
            self._pool.shutdown(wait=True)

    def result(self) -> tuple[Any, Any] | None:
        done, self._future = self._done(), None
        if done is None:
            return None
        read, entries = done
        parsecache.adopt(entries)
        return read

    def close(self) -> None:
        """Wait for a helper whose result was not used; drop the entries it wrote."""
        if self._future is not None:
            done, self._future = self._done(), None
            for tmp, _ in (done[1] if done else []):
                tmp.unlink(missing_ok=True)


def _read_qdpx_aside(path: Path) -> tuple[tuple[Any, Any], list] | None:
    """In the helper: the project read, and the parse-cache entries it wrote (not put in
    place here: the data check does, when every source passed)."""
    from compendium.data.qdpx import read_qdpx_report

    try:
        with parsecache.writing():
            read = read_qdpx_report(path)
            entries = parsecache.release()
    except Exception:
        return None
    return read, entries


def _read_ahead(data_dir: Path, names: list[str]) -> ReadAhead | None:
    """A :class:`ReadAhead` of the first REFI-QDA project among the sources, if any (its
    Dedoose export and the other sources are read meanwhile)."""
    src = sources(data_dir)
    with_qdpx = [n for n in names if "qdpx" in src[n] and src[n]["qdpx"].is_file()]
    if not with_qdpx:
        return None
    return ReadAhead(with_qdpx[0], src[with_qdpx[0]]["qdpx"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.data.datacheck", description=__doc__)
    ap.add_argument("data_dir", nargs="?", default="data")
    ap.add_argument("--source", default=None, help="check one source only")
    ap.add_argument("--changed", nargs="+", default=None,
                    help="check only the sources these files belong to (Make passes $?)")
    ap.add_argument("--include-incomplete", action="store_true",
                    help="count incomplete LimeSurvey responses as respondents")
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    names = [args.source] if args.source else sources_to_check(data_dir, args.changed)
    ahead = _read_ahead(data_dir, names)
    try:
        with parsecache.writing():  # what the readers parsed, kept for the pages if all passed
            lines = [line for name in names for line in check_source(
                data_dir, name, include_incomplete=args.include_incomplete,
                qdpx_read=ahead if ahead is not None and ahead.source == name else None)]
        for line in lines:
            print(f"[data] {line}")
    except (CompendiumError, FileNotFoundError) as exc:
        print(f"\n*** data check failed: {exc}\n", file=sys.stderr)
        return 2
    finally:
        if ahead is not None:
            ahead.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
