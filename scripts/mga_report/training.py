"""bench_train --json files: one TrainRun per run entry."""

from __future__ import annotations

import json

from . import stats
from .exactness import output_config
from .files import BadFile, as_dict, as_list, is_number, number, optional_number, text, warn
from .model import (DEFAULT_MALLOC, DEFAULT_SHAPE, DEFAULT_TOPO, ENGINE_ORDER, GRAPH_ENGINE, PHASES, SHAPE_KEYS,
                    Repetition, Traits, TrainRun)


def config_topo(config: dict) -> str:
    topo = config.get("topo")
    return topo if isinstance(topo, str) and topo else DEFAULT_TOPO


def config_engine(config: dict) -> str:
    """The engine a file ran; files from before --engine existed ran the graph."""
    engine = config.get("engine", GRAPH_ENGINE)
    if not isinstance(engine, str) or engine not in ENGINE_ORDER:
        raise BadFile(f"unknown engine {json.dumps(engine)} (known: {', '.join(ENGINE_ORDER)})")
    return engine


def config_shape(config: dict) -> tuple:
    """The SHAPE_KEYS values; a key the config lacks has its default value."""
    return tuple(int(config[key]) if is_number(config.get(key)) else default
                 for key, default in zip(SHAPE_KEYS, DEFAULT_SHAPE))


def parse_phases(repetition: dict) -> dict | None:
    phases = repetition.get("phases_seconds")
    if not isinstance(phases, dict):
        return None
    values = {name: optional_number(phases, name) for name in PHASES}
    if not all(v is not None and v >= 0 for v in values.values()):
        return None
    if sum(values.values()) <= 0:  # all zeros: a run without a phase split
        return None
    return values


def parse_traits(data, where: str) -> Traits | None:
    """The run's "traits" object; None (no role known) when it is absent or unusable."""
    if data is None:
        return None
    if not isinstance(data, dict):
        warn(f"{where}: 'traits' is not an object; no role is taken from it")
        return None
    values = {}
    for name in Traits.NAMES:
        value = data.get(name, False)
        if not isinstance(value, bool):
            warn(f"{where}: trait '{name}' is not true or false; no role is taken from this run")
            return None
        values[name] = value
    return Traits(**values, recorded=frozenset(n for n in Traits.NAMES if n in data))


def parse_repetition(data, default_steps) -> Repetition | None:
    if not isinstance(data, dict) or not is_number(data.get("train_seconds")) or data["train_seconds"] <= 0:
        return None
    steps = data.get("steps", default_steps)
    if not is_number(steps) or steps <= 0:
        return None
    output_hash = data.get("output_fnv1a64")
    if is_number(output_hash):
        output_hash = str(output_hash)
    return Repetition(float(data["train_seconds"]), int(steps), parse_phases(data),
                      output_hash if isinstance(output_hash, str) else None)


def median_repetition(run: dict) -> dict | None:
    """The repetition bench_train's table shows: sorted by time, index (n-1)/2."""
    timed = [r for r in as_list(run.get("repetitions"))
             if isinstance(r, dict) and is_number(r.get("train_seconds"))]
    if not timed:
        return None
    timed.sort(key=lambda r: r["train_seconds"])
    return timed[(len(timed) - 1) // 2]


def parse_train_run(run, config: dict, source: str, date: str) -> TrainRun:
    if not isinstance(run, dict):
        raise BadFile("a run is not an object")
    name = run.get("allocator")
    if not isinstance(name, str) or not name:
        raise BadFile("a run has no 'allocator' name")
    try:
        detail = median_repetition(run) or run
        steps = detail.get("steps", run.get("steps", config.get("steps")))
        if not is_number(steps) or steps <= 0:
            raise BadFile("'steps' is missing or not a positive number")
        reps = tuple(r for r in (parse_repetition(d, steps) for d in as_list(run.get("repetitions"))) if r)
        summary = run.get("train_seconds")
        if isinstance(summary, dict):
            median_s = number(summary, "median", positive=True)
            min_s = optional_number(summary, "min") or median_s
            max_s = optional_number(summary, "max") or median_s
            count = int(optional_number(summary, "repetitions") or len(reps) or 1)
            spread = optional_number(summary, "cv")
        elif is_number(summary) and summary > 0:
            median_s = min_s = max_s = float(summary)
            count, spread = 1, None
        else:
            raise BadFile("'train_seconds' is missing or not a positive number")
        malloc = run.get("malloc", config.get("malloc", DEFAULT_MALLOC))
        if not isinstance(malloc, str) or not malloc:
            raise BadFile("'malloc' is not a name")
    except BadFile as error:
        raise BadFile(f"run '{name}': {error}") from None
    if spread is None:
        spread = stats.cv([r.seconds for r in reps])
    return TrainRun(
        name=name, description=text(run, "description"), reps=reps,
        median_s=median_s, min_s=min(min_s, median_s), max_s=max(max_s, median_s), cv=spread,
        repetitions=count, steps=int(steps), phases=parse_phases(detail),
        allocations_per_step=optional_number(detail, "allocations_per_step"),
        bytes_per_step=optional_number(detail, "bytes_per_step"),
        peak_rss_kib=optional_number(detail, "peak_rss_kib"),
        source=source, date=date, topo=config_topo(config), shape=config_shape(config),
        nodes_per_step=optional_number(detail, "nodes_per_step"), engine=config_engine(config),
        traits=parse_traits(run.get("traits"), f"{source}: run '{name}'"), malloc=malloc,
        output_config=output_config(config, int(steps)),
    )


SCHEMA = 1  # of bench_train --json


def check_schema(data: dict) -> None:
    if data.get("schema") != SCHEMA or isinstance(data.get("schema"), bool):
        raise BadFile(f"bench_train schema {data.get('schema')!r} is not read (this compare.py reads schema {SCHEMA})")


def parse_train_file(data: dict, source: str) -> list[TrainRun]:
    config, context = as_dict(data.get("config")), as_dict(data.get("context"))
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        raise BadFile("no 'runs' list")
    parsed = []
    for run in runs:
        try:
            parsed.append(parse_train_run(run, config, source, text(context, "date")))
        except BadFile as error:
            warn(f"{source}: skipping {error}")
    if not parsed:
        raise BadFile("no usable run")
    return parsed
