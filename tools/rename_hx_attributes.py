"""Rename htmx's `hx-*` attributes to the valid `data-hx-*` form throughout the project.

The W3C Nu checker rejects `hx-get` and friends; htmx reads `data-hx-get` exactly the same way.
Run it again after merging a branch that brings new `hx-*` attributes (it is idempotent):

    python tools/rename_hx_attributes.py          # rewrite the files
    python tools/rename_hx_attributes.py --check  # list what would change; exit 1 if anything

It rewrites templates, our own scripts and stylesheets, and the Python of the app and the tests
(where tests look for the attributes in HTML). Only lowercase `hx-<name>` not already preceded by
a word character or a hyphen is touched, so `data-hx-get`, `htmx-indicator` and the HTTP headers
(`HX-Request`, `HX-Trigger`) stay as they are. Vendored files (`*.min.js`) are never touched.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATTERN = re.compile(r"(?<![\w-])hx-(?=[a-z])")
GLOBS = ["templates/**/*.html", "static/*.js", "static/*.css", "oncord/**/*.py", "tests/**/*.py"]
NEVER = ("*.min.js",)


def files() -> list[Path]:
    """The files the rename applies to, in a stable order."""
    found = {path for pattern in GLOBS for path in ROOT.glob(pattern) if path.is_file()}
    return sorted(path for path in found if not any(path.match(skip) for skip in NEVER)
                  and path.resolve() != Path(__file__).resolve())


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with --check, report) every file that still has an `hx-*` attribute."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    args = parser.parse_args(argv)
    changed = 0
    for path in files():
        text = path.read_text(encoding="utf-8")
        new, count = PATTERN.subn("data-hx-", text)
        if count:
            changed += 1
            print(f"{path.relative_to(ROOT)}: {count}")
            if not args.check:
                path.write_text(new, encoding="utf-8")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
