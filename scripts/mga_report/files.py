"""Reading JSON defensively and writing files atomically."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from .model import Summary

PROGRAM = "compare.py"


def warn(message: str) -> None:
    print(f"{PROGRAM}: warning: {message}", file=sys.stderr)


class UsageError(Exception):
    """A problem the user must fix; reported as one line, exit status 2."""


class BadFile(Exception):
    """The file cannot be used; the message says why, in a few words."""


def read_json(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadFile(f"cannot read it ({error.__class__.__name__}: {error})") from None
    if not text.strip():
        raise BadFile("empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadFile(f"malformed JSON at line {error.lineno} column {error.colno} ({error.msg})") from None
    except RecursionError:
        raise BadFile("malformed JSON (nested too deeply)") from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise BadFile(f"unreadable JSON ({error})") from None


def is_number(value) -> bool:
    """A JSON number that is finite: any int (also beyond 2^64, or too large for a
    float), a finite float; not a bool."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def as_float(value) -> float | None:
    """A number as a float, None when it is none or does not fit in one."""
    if not is_number(value):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def number(mapping, key: str, *, positive: bool = False) -> float:
    value = as_float(mapping.get(key)) if isinstance(mapping, dict) else None
    if value is None or (positive and value <= 0):
        raise BadFile(f"'{key}' is missing or not a {'positive ' if positive else ''}number")
    return value


def optional_number(mapping, key: str) -> float | None:
    return as_float(mapping.get(key)) if isinstance(mapping, dict) else None


def text(mapping, key: str, default: str = "") -> str:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) else default


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    return value if isinstance(value, list) else []


def parse_summary(data, what: str) -> Summary:
    """A {"median","min","max","mean","stddev","cv","repetitions"} object."""
    if not isinstance(data, dict):
        raise BadFile(f"'{what}' is not an object")
    median = number(data, "median", positive=True)
    count = optional_number(data, "repetitions")
    return Summary(median=median, min=optional_number(data, "min") or median,
                   max=optional_number(data, "max") or median, mean=optional_number(data, "mean"),
                   stddev=optional_number(data, "stddev"), cv=optional_number(data, "cv"),
                   count=int(count) if count and count >= 1 else 1)


def write_atomically(path: Path, write) -> None:
    """Calls write(binary file) on a temporary file next to `path`, then renames it
    over `path`: readers see the old file or the complete new one, never a part."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            write(temp)
            temp.flush()
            os.fsync(temp.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
