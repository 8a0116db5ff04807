"""crosslang.json (schema 2, written by scripts/crosslang.py): the reference programs
under CPython, Node, Bun and Deno, and the chain microbenchmark in each.

A run whose output differs from the reference is kept (the report says so) but has no
timing: its train_seconds summary covers identical repetitions only.
"""

from __future__ import annotations

from .files import BadFile, as_dict, as_list, as_float, is_number, optional_number, parse_summary, text, warn
from .model import ChainRun, Crosslang, RuntimeRun

SCHEMA = 2
RUNTIME_ORDER = ("cpython", "node", "bun", "deno")
OUTPUTS = ("identical", "differs")


def runtime_order(names) -> list:
    known = [r for r in RUNTIME_ORDER if r in names]
    return known + sorted(n for n in names if n not in RUNTIME_ORDER)


def parse_run(run, source: str, config: dict) -> RuntimeRun:
    if not isinstance(run, dict):
        raise BadFile("a run is not an object")
    runtime = run.get("runtime")
    if not isinstance(runtime, str) or not runtime:
        raise BadFile("a run has no 'runtime' name")
    output = run.get("output")
    if output not in OUTPUTS:
        raise BadFile(f"run '{runtime}': 'output' is neither \"identical\" nor \"differs\"")
    reps = [r for r in as_list(run.get("repetitions")) if isinstance(r, dict)]
    identical = [r for r in reps if r.get("reference") == "identical"]
    seconds = tuple(v for v in (as_float(r.get("train_seconds")) for r in identical) if v and v > 0)
    steps_values = [r.get("steps") for r in reps if is_number(r.get("steps")) and r.get("steps") > 0]
    steps = steps_values[0] if steps_values else config.get("steps")
    if not is_number(steps) or steps <= 0:
        raise BadFile(f"run '{runtime}': no positive 'steps'")
    summary = None
    if output == "identical" and run.get("train_seconds") is not None:
        try:
            summary = parse_summary(run.get("train_seconds"), "train_seconds")
        except BadFile as error:
            raise BadFile(f"run '{runtime}': {error}") from None
    rss = sorted(v for v in (optional_number(r, "peak_rss_kib") for r in identical or reps) if v is not None)
    return RuntimeRun(
        runtime=runtime, version=text(run, "version"), description=text(run, "description"),
        program=text(run, "program"), timing=text(run, "timing"), output=output, seconds=seconds,
        steps=int(steps), summary=summary, peak_rss_kib=rss[(len(rss) - 1) // 2] if rss else None,
        repetitions=len(reps), differing=len(reps) - len(identical))


def parse_chain(entry) -> ChainRun:
    if not isinstance(entry, dict):
        raise BadFile("a chain entry is not an object")
    runtime = entry.get("runtime")
    if not isinstance(runtime, str) or not runtime:
        raise BadFile("a chain entry has no 'runtime' name")
    try:
        summary = parse_summary(entry.get("allocs_per_second"), "allocs_per_second")
    except BadFile as error:
        raise BadFile(f"chain '{runtime}': {error}") from None
    rates = tuple(v for v in (optional_number(r, "allocs_per_second") for r in as_list(entry.get("repetitions")))
                  if v is not None and v > 0)
    return ChainRun(runtime=runtime, version=text(entry, "version"), program=text(entry, "program"),
                    objects_per_alloc=text(entry, "objects_per_alloc"), rates=rates, summary=summary)


def parse_crosslang(data: dict, source: str) -> Crosslang:
    if data.get("schema") != SCHEMA:
        raise BadFile(f"crosslang schema {data.get('schema')!r} is not read (this compare.py reads schema "
                      f"{SCHEMA}, written by scripts/crosslang.py)")
    config = as_dict(data.get("config"))
    runs, chain = {}, {}
    for entry in as_list(data.get("runs")):
        try:
            run = parse_run(entry, source, config)
        except BadFile as error:
            warn(f"{source}: skipping {error}")
            continue
        if run.runtime in runs:
            warn(f"{source}: runtime '{run.runtime}' appears twice; keeping the first")
            continue
        runs[run.runtime] = run
    for entry in as_list(data.get("chain")):
        try:
            found = parse_chain(entry)
        except BadFile as error:
            warn(f"{source}: skipping {error}")
            continue
        chain.setdefault(found.runtime, found)
    if not runs and not chain:
        raise BadFile("no usable run or chain entry")
    programs = [p for p in as_list(data.get("programs")) if isinstance(p, dict)]
    return Crosslang(source, as_dict(data.get("context")), config, programs, runs, chain)
