"""Reading callgrind profiles (callgrind.out files): the events recorded, the totals,
each function's calls with their inclusive costs, and from those the cost inside the
allocator. Shared by scripts/cachesim.py and scripts/callgrind_share.sh, so that both
count the same work as the allocator's.

The allocator's cost is the inclusive cost of every call from a function that is not
the allocator's into one that is: everything malloc, operator delete or a pool resource
does, the helpers and locks they call included, counted once."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

# Functions that are the allocator's entry points or internals: glibc's malloc family
# (and anything else in glibc's malloc/*.c), operator new/delete, mimalloc (mi_),
# jemalloc (je_, and the private copy's mga_je_ and arena_/tcache_ internals), tcmalloc
# (tc_, tcmalloc::) and std::pmr's resources. A policy's own inlined code (a bump, a
# free list) is not a function and counts as graph work.
ALLOCATOR = re.compile(r"(^|[^a-z])(malloc|free|realloc|_int_malloc|_int_free|_int_realloc|malloc_consolidate|"
                       r"tcache|unlink_chunk|operator new|operator delete|mi_|_mi_|je_|mga_je_|arena_|tcache_|"
                       r"tc_|tcmalloc::|std::pmr::)")
GLIBC_MALLOC_FILE = re.compile(r"(^|/)malloc/[A-Za-z_]+\.c$")


class ProfileError(Exception):
    pass


def is_allocator(file: str, function: str) -> bool:
    return bool(ALLOCATOR.search(function.split("(")[0]) or GLIBC_MALLOC_FILE.search(file))


@dataclass
class Profile:
    events: list
    totals: dict  # event -> count
    files: dict = field(default_factory=dict)  # function -> the file it is in
    self_costs: dict = field(default_factory=lambda: defaultdict(lambda: None))  # function -> costs
    calls: dict = field(default_factory=dict)  # (caller, callee) -> inclusive costs of those calls

    def zero(self) -> list:
        return [0] * len(self.events)

    def as_dict(self, costs) -> dict:
        return dict(zip(self.events, costs))

    def inclusive(self, matches) -> dict:
        """The summed inclusive cost of the calls into functions for which matches(name)
        holds, from functions for which it does not (so nested calls count once)."""
        total = self.zero()
        for (caller, callee), costs in self.calls.items():
            if matches(callee) and not matches(caller):
                total = [a + b for a, b in zip(total, costs)]
        return self.as_dict(total)

    def allocator(self) -> dict:
        return self.inclusive(lambda name: is_allocator(self.files.get(name, ""), name))


def resolve(table: dict, text: str) -> str:
    """callgrind's name compression: '(7) name' defines 7, '(7)' refers to it."""
    match = re.match(r"\((\d+)\)(?: (.*))?$", text.strip())
    if match is None:
        return text.strip()
    if match.group(2) is not None:
        table[match.group(1)] = match.group(2)
    if match.group(1) not in table:
        raise ProfileError(f"name ({match.group(1)}) used before it is defined")
    return table[match.group(1)]


def parse(lines) -> Profile:
    events, totals, positions = None, None, 1
    names, file_names = {}, {}
    profile = None
    function = file = callee = callee_file = None
    call_pending = False
    for raw in lines:
        line = raw.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if line.startswith("positions:"):
            positions = len(line.split()[1:])
        elif line.startswith("events:"):
            events = line.split()[1:]
            profile = Profile(events, {})
        elif line.startswith(("summary:", "totals:")):
            totals = [int(v) for v in line.split()[1:]]
        elif key == "fl":
            file = resolve(file_names, value)
        elif key in ("fi", "fe"):  # an inlined function's file: only its name is kept
            resolve(file_names, value)
        elif key == "fn":
            function = resolve(names, value)
            profile.files[function] = file or ""
            callee_file = None
        elif key in ("cfi", "cfl"):
            callee_file = resolve(file_names, value)
        elif key == "cfn":  # without cfi= the callee is in the caller's file
            callee = resolve(names, value)
            profile.files.setdefault(callee, callee_file or file or "")
        elif key == "calls":
            call_pending = True
        elif line[0] in "0123456789+-*":
            if profile is None or function is None:
                raise ProfileError("a cost line before 'events:' or 'fn='")
            fields = line.split()[positions:]
            costs = [int(v) for v in fields] + [0] * (len(events) - len(fields))
            if call_pending:
                edge = (function, callee)
                previous = profile.calls.get(edge)
                profile.calls[edge] = costs if previous is None else [a + b for a, b in zip(previous, costs)]
                call_pending = False
                callee_file = None
            else:
                previous = profile.self_costs[function]
                profile.self_costs[function] = costs if previous is None else [a + b for a, b in zip(previous, costs)]
    if profile is None or totals is None:
        raise ProfileError("no 'events:' or no 'summary:' line: not a callgrind profile")
    profile.totals = profile.as_dict(totals + [0] * (len(events) - len(totals)))
    return profile


def read(path: str) -> Profile:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return parse(file)
    except OSError as error:
        raise ProfileError(f"cannot read {path}: {error}") from None
    except (ValueError, TypeError) as error:
        raise ProfileError(f"{path} is malformed: {error}") from None
