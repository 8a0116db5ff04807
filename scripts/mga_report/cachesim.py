"""scripts/cachesim.py's files (results/<machine>/cachesim/*.json, "tool": "cachesim",
schema 1): per policy, instructions and simulated data-cache misses per graph node, for
the training steps, each phase, and the allocator's own functions."""

from __future__ import annotations

from dataclasses import dataclass

from .files import BadFile, as_dict, as_list, is_number, text, warn
from .model import PHASES, Traits
from .training import config_shape, config_topo, parse_traits

SCHEMA = 1
CACHE_LEVELS = ("I1", "D1", "LL")


@dataclass(frozen=True)
class Counts:
    """Per graph node: instructions, L1 data misses (reads + writes), last-level data misses."""

    instructions: float
    d1_misses: float
    ll_misses: float

    def minus(self, other: "Counts") -> "Counts":
        return Counts(self.instructions - other.instructions, self.d1_misses - other.d1_misses,
                      self.ll_misses - other.ll_misses)

    def plus(self, other: "Counts") -> "Counts":
        return Counts(self.instructions + other.instructions, self.d1_misses + other.d1_misses,
                      self.ll_misses + other.ll_misses)


ZERO = Counts(0.0, 0.0, 0.0)


@dataclass
class CacheRun:
    name: str
    traits: Traits | None
    steps: int
    nodes_per_step: float
    total: Counts  # the training steps
    phases: dict  # phase -> Counts
    allocator: Counts  # inside the allocator's functions (calls into them, inclusive)
    output_hash: str | None


@dataclass
class CacheSeries:
    """One file: one shape and backward order, every policy it ran."""

    source: str
    shape: tuple
    topo: str
    steps: int
    caches: dict  # level -> (bytes, ways, line bytes)
    runs: dict  # policy -> CacheRun, in the file's order
    date: str

    def cache_words(self) -> str:
        parts = []
        for level in CACHE_LEVELS:
            if level in self.caches:
                size, ways, line = self.caches[level]
                amount = f"{size >> 20} MiB" if size % (1 << 20) == 0 else f"{size >> 10} KiB"
                parts.append(f"{level} {amount}, {ways}-way, {line} B lines")
        return "; ".join(parts)


def counts(events, nodes: float, where: str) -> Counts:
    events = as_dict(events)
    missing = [k for k in ("Ir", "D1mr", "D1mw", "DLmr", "DLmw") if not is_number(events.get(k))]
    if missing:
        raise BadFile(f"{where}: no {', '.join(missing)}")
    return Counts(events["Ir"] / nodes, (events["D1mr"] + events["D1mw"]) / nodes,
                  (events["DLmr"] + events["DLmw"]) / nodes)


def parse_run(run, source: str) -> CacheRun:
    if not isinstance(run, dict) or not isinstance(run.get("allocator"), str) or not run["allocator"]:
        raise BadFile("a run without an 'allocator' name")
    name = run["allocator"]
    nodes, steps = run.get("nodes"), run.get("steps")
    if not is_number(nodes) or nodes <= 0 or not is_number(steps) or steps <= 0:
        raise BadFile(f"run '{name}': 'nodes' or 'steps' is missing or not positive")
    phases = as_dict(run.get("phases"))
    output = run.get("output_fnv1a64")
    return CacheRun(name=name, traits=parse_traits(run.get("traits"), f"{source}: run '{name}'"),
                    steps=int(steps), nodes_per_step=nodes / steps,
                    total=counts(run.get("events"), nodes, f"run '{name}' events"),
                    phases={p: counts(phases.get(p), nodes, f"run '{name}' phase {p}") for p in PHASES},
                    allocator=counts(run.get("allocator_costs"), nodes, f"run '{name}' allocator_costs"),
                    output_hash=output if isinstance(output, str) else None)


def parse_cachesim(data: dict, source: str) -> CacheSeries:
    if data.get("schema") != SCHEMA:
        raise BadFile(f"cachesim schema {data.get('schema')!r}, this script reads schema {SCHEMA}")
    config = as_dict(data.get("config"))
    caches = {}
    for level in CACHE_LEVELS:
        cache = as_dict(as_dict(data.get("caches")).get(level))
        values = [cache.get(k) for k in ("bytes", "ways", "line_bytes")]
        if all(is_number(v) and v > 0 for v in values):
            caches[level] = tuple(int(v) for v in values)
    if "D1" not in caches or "LL" not in caches:
        raise BadFile("no simulated D1 and LL cache sizes ('caches')")
    runs = {}
    for entry in as_list(data.get("runs")):
        try:
            run = parse_run(entry, source)
        except BadFile as error:
            warn(f"{source}: skipping {error}")
            continue
        runs[run.name] = run
    if not runs:
        raise BadFile("no usable run")
    steps = config.get("steps")
    return CacheSeries(source=source, shape=config_shape(config), topo=config_topo(config),
                       steps=int(steps) if is_number(steps) else next(iter(runs.values())).steps,
                       caches=caches, runs=runs, date=text(as_dict(data.get("context")), "date"))
