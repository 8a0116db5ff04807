"""Reading input defensively (regular files only, size-capped) and writing outputs all or nothing."""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import sys
import tempfile
from pathlib import Path

PROGRAM = "compare.py"
MAX_INPUT_BYTES = 64 << 20  # the largest results file is well under 1 MiB


def warn(message: str) -> None:
    print(f"{PROGRAM}: warning: {message}", file=sys.stderr)


class UsageError(Exception):
    """A problem the user must fix; reported as one line, exit status 2."""


class BadFile(Exception):
    """The file cannot be used; the message says why, in a few words."""


def read_capped(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """A regular file's bytes (a symbolic link is followed), at most `limit`: a FIFO or a
    device (/dev/zero) would block or never end, so they are refused before reading."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise BadFile(f"cannot read it ({error.strerror})") from None
    with os.fdopen(handle, "rb") as file:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise BadFile("not a regular file")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise BadFile(f"larger than {limit >> 20} MiB")
    return data


def read_json(path: Path):
    try:
        text = read_capped(path).decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadFile(f"not UTF-8 ({error.reason} at byte {error.start})") from None
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


def as_float(value) -> float | None:
    """A finite JSON number (not a bool) as a float; None otherwise or when it does not fit."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def positive(mapping, key: str) -> float | None:
    value = as_float(mapping.get(key)) if isinstance(mapping, dict) else None
    return value if value is not None and value > 0 else None


def text(mapping, key: str) -> str:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) else ""


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    return value if isinstance(value, list) else []


def write_all(outputs: dict) -> None:
    """Writes every path of `outputs` (-> bytes, or a function that writes to a binary file)
    or none of them: each goes to a temporary file next to its path first, and only when all
    are complete are they renamed over their paths, so readers see old or new files, never a part."""
    temps = {}
    try:
        for path, data in outputs.items():
            if path.is_dir():
                raise IsADirectoryError(f"{path} is a directory")
            handle, temps[path] = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(handle, "wb") as temp:
                data(temp) if callable(data) else temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temps[path], 0o666 & ~umask)  # mkstemp creates 0600
        for path in list(temps):
            os.replace(temps[path], path)
            del temps[path]
    finally:
        for temp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)


def write_atomically(path: Path, write) -> None:
    """write(binary file) into `path`, atomically (see write_all)."""
    write_all({path: write})
