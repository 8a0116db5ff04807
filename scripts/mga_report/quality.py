"""What the training files record about their own measurement: bench_train's noise flags per
repetition, the machine's state when it started (ASLR, CPU governor and boost, load average),
and which library each process allocator was (path and sha256)."""

from __future__ import annotations

import re
from pathlib import Path

from .fmt import FLAGGED_MARK, code, table, with_files
from .model import DEFAULT_MALLOC

MACHINE_STATE = (("aslr", "ASLR (randomize_va_space)"), ("cpu_governor", "CPU governor"),
                 ("cpu_boost", "CPU boost"), ("load_average_start", "load average at the start"))
NOT_RECORDED = "not recorded"
SOURCES = {"builtin": "built-in name", "user": "user (`NAME=PATH` or `--malloc-file`)"}
LIBRARY_KEY = re.compile(r"malloc_(.+)_(path|sha256)")  # context fields of each preloaded library

INTRO = ("bench_train flags a repetition when the process held the CPU for less of the wall time than it should "
         "have, the hypervisor stole CPU time, or the machine was busy; the thresholds are in "
         "[docs/method.md](../docs/method.md#noise-flags). Flagged repetitions stay in every statistic; the "
         f"tables mark their cells {FLAGGED_MARK}k/N (k of the cell's N repetitions flagged).")


def shown_apart(key: str) -> bool:
    """A context field this module shows, which the machine's table of fields leaves out."""
    return bool(LIBRARY_KEY.fullmatch(key)) or key in dict(MACHINE_STATE)


def train_contexts(machine) -> list:
    """(file name, context) of the machine's bench_train files."""
    sources = {run.source for run in machine.all_runs}
    return [(Path(source).name, context) for source, context in machine.contexts if source in sources]


def section(machine) -> list:
    contexts = train_contexts(machine)
    recorded = {Path(r.source).name for r in machine.all_runs if r.noise_recorded}
    state = {key: {} for key, _ in MACHINE_STATE}
    for name, context in contexts:
        for key, _ in MACHINE_STATE:
            value = context.get(key)
            state[key].setdefault(str(value) if value not in (None, "") else NOT_RECORDED, []).append(name)
    if not recorded and all(list(values) == [NOT_RECORDED] for values in state.values()):
        return [f"Noise flags and the machine's state (ASLR, CPU governor and boost, load average): {NOT_RECORDED} "
                f"(the {len(contexts)} bench_train files predate them).", ""]
    reps = [r for r in machine.all_runs if Path(r.source).name in recorded]
    flagged = [(run, index, flags) for run in machine.all_runs for index, flags in run.flagged]
    count = f"{len(flagged)} of {sum(len(r.reps) for r in reps)} repetitions in {len(recorded)} file(s)"
    unrecorded = {name for name, _ in contexts} - recorded
    rows = [[label, with_files(state[key])] for key, label in MACHINE_STATE]
    rows.append(["repetitions with noise flags", count + (f"; {NOT_RECORDED} in {len(unrecorded)} file(s)"
                                                          if unrecorded else "")])
    lines = table(["field", "value"], rows)
    if flagged:
        lines += table(["policy", "cell", "file", "round", "flags"],
                       [[code(run.name), run.cell, Path(run.source).name, f"{index} of {len(run.reps)}",
                         "; ".join(flags)] for run, index, flags in flagged])
    return lines


def library_hashes(machine) -> dict:
    """(malloc, path) -> sha256, from the context fields malloc_<name>_path and malloc_<name>_sha256."""
    hashes = {}
    for _, context in train_contexts(machine):
        found = {}
        for key, value in context.items():
            match = LIBRARY_KEY.fullmatch(key)
            if match and isinstance(value, str):
                found.setdefault(match.group(1), {})[match.group(2)] = value
        for malloc, fields in found.items():
            hashes.setdefault((malloc, fields.get("path", "")), fields.get("sha256", ""))
    return hashes


def libraries(machine) -> list:
    """Each process allocator the machine's runs used: how it was given, the file malloc resolved
    into and its sha256, as the runs (or their files' context) recorded them."""
    hashes, found = library_hashes(machine), {}
    for run in machine.all_runs:
        sha = run.malloc_sha256 if run.malloc_sha256 is not None else "– (not preloaded)"
        sha = sha or hashes.get((run.malloc, run.malloc_library), "")
        key = (run.malloc, SOURCES.get(run.malloc_source, NOT_RECORDED),
               code(run.malloc_library) if run.malloc_library else NOT_RECORDED,
               sha if not sha or sha.startswith("–") else code(sha))
        found.setdefault(key, set()).add(Path(run.source).name)
    if len({malloc for malloc, *_ in found}) < 2:
        return []
    rows = []
    for key in sorted(found, key=lambda k: k[0] != DEFAULT_MALLOC):
        files = sorted(found[key])
        rows.append([code(key[0]), key[1], key[2], key[3] or NOT_RECORDED,
                     ", ".join(files) if len(files) < 5 else f"{len(files)} files"])
    return ["Process allocators (`--malloc`): how each was given, the file malloc resolved into and its sha256:", ""
            ] + table(["process allocator", "given as", "library", "sha256", "files"], rows)
