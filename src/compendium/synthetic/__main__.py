"""Command line: ``python -m compendium.synthetic --out data/raw [--scale N]``."""

from __future__ import annotations

import argparse
import sys

from compendium.synthetic import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.synthetic", description=__doc__)
    ap.add_argument("--out", default="data/raw", help="folder for the raw files")
    ap.add_argument("--calibration", default="data/calibration", help="calibration YAML folder")
    ap.add_argument("--codebooks", default="data/codebooks", help="codebook folder")
    ap.add_argument("--scale", type=int, default=1, help="multiply every sample size by N")
    args = ap.parse_args(argv)
    if args.scale < 1:
        ap.error("--scale must be a whole number >= 1")
    for path in generate(args.out, args.calibration, args.codebooks, scale=args.scale):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
