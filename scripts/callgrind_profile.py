"""Reading callgrind profiles through callgrind_annotate: the events recorded, the
program's totals, and per function its self or inclusive cost. Shared by
scripts/cachesim.py and scripts/callgrind_share.sh, so that both count the same
functions as the allocator's."""

from __future__ import annotations

import re
import subprocess

# Functions whose own (self) cost is the allocator's: glibc's malloc family
# (and anything else in glibc's malloc/*.c), operator new/delete, mimalloc
# (mi_), jemalloc (je_, and the private copy's mga_je_ and arena_/tcache_
# internals), tcmalloc (tc_, tcmalloc::) and std::pmr's resources. A policy's
# own inlined code (a bump, a free list) is not a function and counts as graph
# work.
ALLOCATOR = re.compile(r"(^|[^a-z])(malloc|free|realloc|_int_malloc|_int_free|_int_realloc|malloc_consolidate|"
                       r"tcache|unlink_chunk|operator new|operator delete|mi_|_mi_|je_|mga_je_|arena_|tcache_|"
                       r"tc_|tcmalloc::|std::pmr::)")
GLIBC_MALLOC_FILE = re.compile(r"(^|/)malloc/[A-Za-z_]+\.c$")

# One event's column: "1,234 (12.34%)", a bare "0", or "." for none.
COST = re.compile(r"([\d,]+)(?: \(\s*[\d.]+%\))?(?=\s)|(\.)(?=\s)")


class ProfileError(Exception):
    pass


def split_symbol(symbol: str) -> tuple[str, str]:
    """callgrind_annotate's 'file:function [object]' -> (file, function)."""
    symbol = re.sub(r"\s+\[[^\]]*\]$", "", symbol.strip())
    file, colon, function = symbol.partition(":")
    return (file, function) if colon else ("", symbol)


def is_allocator(symbol: str) -> bool:
    file, function = split_symbol(symbol)
    return bool(ALLOCATOR.search(function.split("(")[0]) or GLIBC_MALLOC_FILE.search(file))


def parse_annotated(text: str) -> tuple[list[str], dict, dict]:
    """(events, totals, function -> costs) from callgrind_annotate's output; costs
    are {event: count}. A function listed twice (several files) is summed."""
    events = None
    totals = None
    functions: dict = {}
    for line in text.splitlines():
        if line.startswith("Events shown:"):
            events = line.split(":", 1)[1].split()
            continue
        if events is None:
            continue
        values, position = [], len(line) - len(line.lstrip(" "))
        for _ in events:
            match = COST.match(line, position)
            if match is None:
                break
            values.append(int(match.group(1).replace(",", "")) if match.group(1) else 0)
            position = match.end()
            while position < len(line) and line[position] == " ":
                position += 1
        if len(values) != len(events):
            continue
        rest = line[position:].strip()
        costs = dict(zip(events, values))
        if rest == "PROGRAM TOTALS":
            totals = costs
        elif rest:
            previous = functions.get(rest)
            functions[rest] = costs if previous is None else {e: previous[e] + costs[e] for e in events}
    if events is None or totals is None:
        raise ProfileError("callgrind_annotate printed no events or no program totals")
    return events, totals, functions


def annotate(profile: str, inclusive: bool) -> tuple[list[str], dict, dict]:
    """Runs callgrind_annotate on a callgrind.out file, every function shown."""
    command = ["callgrind_annotate", "--threshold=100", f"--inclusive={'yes' if inclusive else 'no'}", profile]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as error:
        raise ProfileError(f"callgrind_annotate failed: {error}") from None
    if done.returncode != 0:
        raise ProfileError(f"callgrind_annotate failed: {done.stderr.strip()[:200]}")
    return parse_annotated(done.stdout)


def sum_costs(events: list[str], costs: list[dict]) -> dict:
    return {e: sum(c.get(e, 0) for c in costs) for e in events}
