"""Reviewers' reproduction check: SHA-256 of every published table, figure and result.

``python -m compendium.publish.manifest write outputs`` refreshes ``outputs/MANIFEST.sha256``;
``python -m compendium.publish.manifest check outputs`` prints OK/DIFFERS/MISSING/NEW per file and
exits non-zero on any difference. Pages and executed notebooks are not listed: they carry
the git commit in their colophon, so they change with every commit by design.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from compendium.artifacts import atomic_write_text

MANIFEST = "MANIFEST.sha256"
PATTERNS = ("tables/**/*.csv", "figures/**/*.png", "figures/**/*.svg", "results/*.json")


def published_files(outputs: Path) -> list[Path]:
    """The files the manifest covers, as paths relative to ``outputs``, sorted."""
    found = {p for pat in PATTERNS for p in outputs.glob(pat) if p.is_file()}
    return sorted(p.relative_to(outputs) for p in found if not p.name.startswith("."))


def checksums(outputs: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every published file."""
    return {
        rel.as_posix(): hashlib.sha256((outputs / rel).read_bytes()).hexdigest()
        for rel in published_files(outputs)
    }


def write(outputs: Path) -> Path:
    """Write the manifest in ``sha256sum`` format (two spaces, relative path)."""
    lines = [f"{digest}  {path}" for path, digest in checksums(outputs).items()]
    return atomic_write_text(outputs / MANIFEST, "\n".join(lines) + "\n")


def read(manifest: Path) -> dict[str, str]:
    """The recorded checksums."""
    out = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, path = line.split(maxsplit=1)
            out[path.strip()] = digest
    return out


def compare(outputs: Path) -> list[tuple[str, str]]:
    """``(status, path)`` for every file in the manifest or on disk, sorted by path."""
    recorded = read(outputs / MANIFEST)
    current = checksums(outputs)
    report = []
    for path in sorted(set(recorded) | set(current)):
        if path not in current:
            status = "MISSING"
        elif path not in recorded:
            status = "NEW"
        else:
            status = "OK" if recorded[path] == current[path] else "DIFFERS"
        report.append((status, path))
    return report


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2 or args[0] not in ("write", "check"):
        print("usage: python -m compendium.publish.manifest write|check OUTPUTS", file=sys.stderr)
        return 2
    outputs = Path(args[1])
    if args[0] == "write":
        path = write(outputs)
        print(f"wrote {path} ({len(read(path))} files)")
        return 0
    if not (outputs / MANIFEST).exists():
        print(f"no manifest at {outputs / MANIFEST}: run `make manifest` first", file=sys.stderr)
        return 2
    report = compare(outputs)
    for status, path in report:
        print(f"{status:8} {path}")
    bad = [r for r in report if r[0] != "OK"]
    print(f"\n{len(report) - len(bad)} of {len(report)} files reproduce the manifest exactly.")
    if bad:
        print(f"{len(bad)} differ: the outputs above do NOT match the published ones.")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
