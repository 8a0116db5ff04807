#!/usr/bin/env python3
"""Merge microgpt-alloc results into results/REPORT.md, PNG charts and the README's
generated blocks; `--help` says how. The work is done by the mga_report package next
to this file; this entry point only makes sure it runs under a Python with matplotlib:
Debian's python3-matplotlib is installed for /usr/bin/python3, which a pyenv or venv
python3 earlier on PATH lacks, so compare.py then runs itself again under that one."""

import importlib.util
import os
import subprocess
import sys

PROGRAM = "compare.py"
FALLBACK_PYTHON = os.environ.get("MGA_FALLBACK_PYTHON", "/usr/bin/python3")
NO_CHARTS = ("-h", "--help", "--check-readme", "--baseline")  # options that draw nothing


def has_matplotlib() -> bool:
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        return False


def fallback_has_matplotlib() -> bool:
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('matplotlib') is None)"
    try:
        return subprocess.run([FALLBACK_PYTHON, "-c", probe], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def ensure_matplotlib(argv) -> None:
    """Returns when this Python can draw (or nothing is drawn); else runs compare.py
    again under FALLBACK_PYTHON, or exits with one line when that cannot draw either."""
    if any(arg in NO_CHARTS for arg in argv) or has_matplotlib():
        return
    if os.environ.get("MGA_COMPARE_REEXEC") or not fallback_has_matplotlib():
        print(f"{PROGRAM}: error: matplotlib is installed neither for {sys.executable or 'this python3'} nor "
              f"for {FALLBACK_PYTHON} (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        sys.exit(2)
    print(f"{PROGRAM}: {sys.executable or 'this python3'} has no matplotlib; running under {FALLBACK_PYTHON}",
          file=sys.stderr, flush=True)
    environment = dict(os.environ, MGA_COMPARE_REEXEC="1")
    os.execve(FALLBACK_PYTHON, [FALLBACK_PYTHON, os.path.abspath(__file__), *argv], environment)


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # no __pycache__ inside scripts/
    ensure_matplotlib(sys.argv[1:])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from mga_report.cli import main

    sys.exit(main())
