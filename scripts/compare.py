#!/usr/bin/python3
# (Debian's /usr/bin/python3, not `env python3`: matplotlib comes from the
# python3-matplotlib package, which a pyenv or venv python3 earlier on PATH lacks.)
"""Merge microgpt-alloc results into results/REPORT.md and PNG charts.

Reads every *.json below the results directory (recursively) and classifies it
by content:
  * bench_train --json output ("tool": "bench_train"): training runs per
    allocation policy, and cross-language runs (allocator "cpython", "node",
    "deno", "bun") written by scripts/crosslang.sh;
  * Google Benchmark JSON (a "benchmarks" list), e.g. results/gbench/bench_alloc.json;
  * a hand-made cross-language file: {"tool": "crosslang", "runs": [{"runtime":
    "cpython", "train_seconds": 60.0, "steps": 1000, "peak_rss_kib": 9000}]}.
It also reads callgrind summaries, callgrind_<policy>.txt (see CALLGRIND_HELP).

Machines: a file anywhere below results/<machine>/ (e.g. results/<machine>/gbench/
or results/<machine>/sweep/) belongs to <machine>; files directly under results/
or under a folder that groups by kind (gbench, charts, callgrind, crosslang,
sweep) belong to the host named in their context.

Series: C++ training runs are keyed by their config, not only by policy name.
The default shape (n_embd 16, n_head 4, n_layer 1, block_size 16) forms one
series per backward order (config "topo": dfs, creation, hashset); the headline
series, which the main charts and tables show, is topo dfs when present. Files
of any other shape, and every file under a sweep/ folder, form the size axis.

Engines: bench_train --engine (config "engine"; a config without it ran "graph",
a heap node per scalar op, which is what the policies measure). A "tape" run
(fused ops on flat buffers, allocator name "tape") is no allocation policy: it is
kept apart from the series and shown only in *Modes*, beside arena in each
backward order. Files of an unknown engine, and tape runs on the size axis, are
skipped with a warning.
Missing, empty or malformed files are skipped with a one-line warning.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PROGRAM = "compare.py"
REPO_DIR = Path(__file__).resolve().parent.parent

# Policies in the order bench_train lists them; unknown names sort after these.
KNOWN_POLICIES = ["new", "shared_ptr", "arena", "pool", "mimalloc", "mimalloc-heap", "jemalloc"]
# C++ class names, in case benchmark names use them instead of the policy names.
POLICY_CLASS_NAMES = {
    "NewDeletePolicy": "new",
    "SharedPtrPolicy": "shared_ptr",
    "ArenaPolicy": "arena",
    "PoolPolicy": "pool",
    "MimallocHeapPolicy": "mimalloc-heap",
    "MimallocPolicy": "mimalloc",
    "JemallocPolicy": "jemalloc",
}
CROSSLANG_RUNTIMES = ["cpython", "node", "deno", "bun"]
PHASES = ["forward", "backward", "adam", "release"]
BASELINE = "new"
ZERO_ALLOC_REFERENCE = "arena"  # the policy whose forward/release is (nearly) free of allocator work
# Google Benchmark counters that hold an allocation rate. Not items_per_second:
# bench_step counts nodes or steps with it, which are not allocations.
RATE_COUNTERS = ["allocs/s", "allocs_per_second", "allocations/s"]
PREFERRED_RATE_FAMILY = "chain"
# Folders under results/ that group files by kind, not by machine.
NON_MACHINE_DIRS = {"gbench", "charts", "callgrind", "crosslang", "sweep"}
# Training files below a folder of this name form the size axis, whatever their shape.
SIZE_AXIS_DIR = "sweep"
# The model shape of microgpt.py; training runs of another shape form the size axis.
SHAPE_KEYS = ("n_embd", "n_head", "n_layer", "block_size")
DEFAULT_SHAPE = (16, 4, 1, 16)
# Backward orders (bench_train --topo). A config without "topo" ran the default, dfs.
DEFAULT_TOPO = "dfs"
HEADLINE_TOPO = "dfs"
TOPO_ORDER = ["dfs", "creation", "hashset"]
TOPO_PHRASES = {
    "dfs": "microgpt.py's faithful DFS order (`--topo dfs`)",
    "creation": "the sort-free reverse-creation order (`--topo creation`)",
    "hashset": "the hash-set DFS (`--topo hashset`)",
}
# bench_train --engine. A config without "engine" ran the node graph, the engine the
# policies measure; every other engine is kept out of the policy series.
GRAPH_ENGINE = "graph"
ENGINE_ORDER = ["graph", "tape"]
# The policy each backward order is shown with in *Modes*: the one with (almost) no
# allocator work, so the rows differ by order and engine, not by allocator.
MODES_POLICY = "arena"
# What each mode's output has in common with microgpt.py (from the tests and
# README, not from the result files, which record only a hash of the output).
TOPO_EXACTNESS = {
    "dfs": "microgpt.py's order, bit-identical",
    "creation": "identical doubles to dfs, no sort",
    "hashset": "identical doubles to dfs",
}
ENGINE_EXACTNESS = {
    "tape": "fused ops, not bit-exact (gradients differ in the last bits)",
}
# The size-axis sentence calls a ratio unchanged when it moves by less than this factor.
SAME_RATIO = 1.1
# Verdict thresholds on the allocation share of `new`'s step time.
BOTTLENECK_SHARE = 0.5
MAJOR_COST_SHARE = 0.2
# "Throughput explains speed" needs both: ranks agree (Pearson r on logs) and the
# log-log slope is at least half of proportional.
RANKING_AGREES_R = 0.7
PROPORTIONAL_SLOPE = 0.5

CHART_FILES = {
    "train_time": "train_time.png",
    "phases": "phases.png",
    "alloc_vs_train": "alloc_vs_train.png",
    "memory": "memory.png",
    "crosslang": "crosslang.png",
    "size_ns_per_node": "size_ns_per_node.png",
    "size_rss": "size_rss.png",
}

CALLGRIND_HELP = """\
callgrind summaries: results/**/callgrind_<policy>.txt, e.g. callgrind_new.txt,
one "key value" pair per line, '#' starts a comment. Keys:
  malloc_share  fraction (0.23) or percentage (23%) of the instructions (Ir,
                inclusive) spent in malloc/free/operator new/operator delete
  free_share    optional, the same for the freeing functions alone
  total_ir      optional, total instructions of the run
Other keys are shown as they are."""


def warn(message: str) -> None:
    print(f"{PROGRAM}: warning: {message}", file=sys.stderr)


class UsageError(Exception):
    """A problem the user must fix; reported as one line, exit status 2."""


# ---------------------------------------------------------------------------
# Data model
# ---------------------------------------------------------------------------


@dataclass
class TrainRun:
    """One policy (or runtime) of one machine: the median repetition's numbers."""

    name: str
    description: str
    median_s: float
    min_s: float
    max_s: float
    repetitions: int
    steps: int
    phases: dict[str, float] | None  # seconds per phase, None when not measured
    allocations_per_step: float | None
    bytes_per_step: float | None
    peak_rss_kib: float | None
    source: str
    date: str
    reference_match: str | None = None  # crosslang.sh: "identical", "differs", "no reference"
    topo: str = DEFAULT_TOPO
    shape: tuple[int, ...] = DEFAULT_SHAPE  # values of SHAPE_KEYS
    nodes_per_step: float | None = None  # tape ops per step for the tape engine
    engine: str = GRAPH_ENGINE

    @property
    def ms_per_step(self) -> float:
        return 1000 * self.median_s / self.steps

    @property
    def ns_per_node(self) -> float | None:
        if not self.nodes_per_step:
            return None
        return 1e9 * self.median_s / self.steps / self.nodes_per_step

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.median_s


@dataclass
class RatePoint:
    """One Google Benchmark instance (median of its repetitions)."""

    source: str  # file stem, e.g. bench_alloc
    family: str  # chain, step_graph, churn, ...
    policy: str
    instance: str
    real_time_ns: float
    rate: float | None  # allocations per second
    rate_counter: str | None


SizeKey = tuple  # (shape, topo)


@dataclass
class Machine:
    name: str
    contexts: list[tuple[str, dict]] = field(default_factory=list)  # (source, context)
    configs: list[tuple[str, dict]] = field(default_factory=list)
    series: dict[str, dict[str, TrainRun]] = field(default_factory=dict)  # default shape: topo -> policy -> run
    size_runs: dict[SizeKey, dict[str, TrainRun]] = field(default_factory=dict)  # (shape, topo) -> policy -> run
    size_sources: list[tuple[str, dict]] = field(default_factory=list)  # (source, context) of size-axis files
    runtimes: dict[str, TrainRun] = field(default_factory=dict)
    engines: dict[str, TrainRun] = field(default_factory=dict)  # default shape, non-graph engine -> run
    rate_points: list[RatePoint] = field(default_factory=list)
    callgrind: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    @property
    def headline_topo(self) -> str | None:
        """topo dfs when present, else the series with the most policies."""
        if HEADLINE_TOPO in self.series:
            return HEADLINE_TOPO
        ordered = topo_order(self.series)
        return max(ordered, key=lambda t: (len(self.series[t]), -ordered.index(t)), default=None)

    @property
    def policies(self) -> dict[str, TrainRun]:
        """The headline series: default shape, headline topo."""
        topo = self.headline_topo
        return self.series[topo] if topo is not None else {}


@dataclass
class Results:
    machines: dict[str, Machine]
    files_used: list[str]
    skipped: list[str]  # the warnings, repeated in the report


# ---------------------------------------------------------------------------
# Reading and validating files
# ---------------------------------------------------------------------------


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


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number(mapping: dict, key: str, *, positive: bool = False) -> float:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if not is_number(value) or (positive and value <= 0):
        raise BadFile(f"'{key}' is missing or not a {'positive ' if positive else ''}number")
    return float(value)


def optional_number(mapping: dict, key: str) -> float | None:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return float(value) if is_number(value) else None


def median_repetition(repetitions: list[dict]) -> dict | None:
    """The repetition bench_train's table shows: sorted by time, index (n-1)/2."""
    timed = [r for r in repetitions if isinstance(r, dict) and is_number(r.get("train_seconds"))]
    if not timed:
        return None
    timed.sort(key=lambda r: r["train_seconds"])
    return timed[(len(timed) - 1) // 2]


def parse_phases(repetition: dict) -> dict[str, float] | None:
    phases = repetition.get("phases_seconds")
    if not isinstance(phases, dict):
        return None
    values = {name: phases.get(name) for name in PHASES}
    if not all(is_number(v) and v >= 0 for v in values.values()):
        return None
    if sum(values.values()) <= 0:  # all zeros: a run without a phase split
        return None
    return {name: float(v) for name, v in values.items()}


def config_topo(config: dict) -> str:
    topo = config.get("topo")
    return topo if isinstance(topo, str) and topo else DEFAULT_TOPO


def config_engine(config: dict) -> str:
    """The engine a file ran; files from before --engine existed ran the graph."""
    engine = config.get("engine", GRAPH_ENGINE)
    if not isinstance(engine, str) or engine not in ENGINE_ORDER:
        raise BadFile(f"unknown engine {json.dumps(engine)} (known: {', '.join(ENGINE_ORDER)})")
    return engine


def config_shape(config: dict) -> tuple[int, ...]:
    """The SHAPE_KEYS values; a key the config lacks has its default value."""
    return tuple(int(config[key]) if is_number(config.get(key)) else default
                 for key, default in zip(SHAPE_KEYS, DEFAULT_SHAPE))


def parse_train_run(run: dict, config: dict, source: str, date: str) -> TrainRun:
    if not isinstance(run, dict):
        raise BadFile("a run is not an object")
    name = run.get("allocator", run.get("runtime"))
    if not isinstance(name, str) or not name:
        raise BadFile("a run has no 'allocator' name")
    repetitions = run.get("repetitions") if isinstance(run.get("repetitions"), list) else []
    median_rep = median_repetition(repetitions)
    summary = run.get("train_seconds")
    try:
        if isinstance(summary, dict):
            median_s = number(summary, "median", positive=True)
            min_s = optional_number(summary, "min") or median_s
            max_s = optional_number(summary, "max") or median_s
            count = int(optional_number(summary, "repetitions") or len(repetitions) or 1)
        elif is_number(summary) and summary > 0:
            median_s = min_s = max_s = float(summary)
            count = 1
        else:
            raise BadFile("'train_seconds' is missing or not a positive number")
        detail = median_rep or run
        steps = detail.get("steps", run.get("steps", config.get("steps")))
        if not is_number(steps) or steps <= 0:
            raise BadFile("'steps' is missing or not a positive number")
    except BadFile as error:
        raise BadFile(f"run '{name}': {error}") from None
    return TrainRun(
        name=name,
        description=str(run.get("description", "")),
        median_s=median_s,
        min_s=min(min_s, median_s),
        max_s=max(max_s, median_s),
        repetitions=count,
        steps=int(steps),
        phases=parse_phases(detail),
        allocations_per_step=optional_number(detail, "allocations_per_step"),
        bytes_per_step=optional_number(detail, "bytes_per_step"),
        peak_rss_kib=optional_number(detail, "peak_rss_kib"),
        source=source,
        date=date,
        reference_match=detail.get("reference") if isinstance(detail.get("reference"), str) else None,
        topo=config_topo(config),
        shape=config_shape(config),
        nodes_per_step=optional_number(detail, "nodes_per_step"),
        engine=config_engine(config),
    )


# ---- Google Benchmark ------------------------------------------------------

_TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def _policy_pattern(name: str) -> str:
    # '-' and '_' are interchangeable (mimalloc_heap == mimalloc-heap).
    return "[-_]".join(re.escape(part) for part in re.split("[-_]", name))


# Longest first, so "mimalloc-heap" wins over "mimalloc" inside "chain<mimalloc-heap>".
_POLICY_MATCHERS = [
    (re.compile(r"(?<![A-Za-z0-9])" + _policy_pattern(policy) + r"(?![A-Za-z0-9])", re.I), policy)
    for policy in sorted(KNOWN_POLICIES, key=len, reverse=True)
] + [(re.compile(re.escape(cls)), policy) for cls, policy in POLICY_CLASS_NAMES.items()]


def find_policy(benchmark_name: str) -> str | None:
    """The allocation policy named inside a benchmark name, or None."""
    for pattern, policy in _POLICY_MATCHERS:
        if pattern.search(benchmark_name):
            return policy
    return None


def benchmark_family(benchmark_name: str, policy: str | None) -> str:
    """The first word of the name ("chain" in "BM_chain<arena>/1000"), policy removed."""
    name = re.sub(r"^BM_", "", benchmark_name)
    first = re.match(r"[A-Za-z0-9_]*", name).group(0)
    if policy:  # "chain_arena" style names carry the policy inside the first word
        first = re.sub(r"[-_]?" + _policy_pattern(policy) + "$", "", first, flags=re.I)
    return first or name.split("/")[0]


def _instance_name(row: dict) -> str:
    if isinstance(row.get("run_name"), str):
        return row["run_name"]
    name = str(row.get("name", ""))
    aggregate = row.get("aggregate_name")
    return name[: -len(aggregate) - 1] if aggregate and name.endswith("_" + aggregate) else name


def _time_ns(row: dict) -> float | None:
    value = row.get("real_time")
    scale = _TIME_UNIT_NS.get(row.get("time_unit", "ns"))
    return float(value) * scale if is_number(value) and scale else None


def _rate(row: dict) -> tuple[float | None, str | None]:
    for counter in RATE_COUNTERS:
        if is_number(row.get(counter)):
            return float(row[counter]), counter
    return None, None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def parse_gbench(data: dict, source: str) -> tuple[list[RatePoint], list[str]]:
    """Rate points per instance (median aggregate, else mean of iterations) and unmatched names."""
    rows = [r for r in data["benchmarks"] if isinstance(r, dict) and not r.get("error_occurred")]
    instances: dict[str, list[dict]] = {}
    for row in rows:
        instances.setdefault(_instance_name(row), []).append(row)
    points, unmatched = [], []
    for instance, group in instances.items():
        policy = find_policy(instance)
        if policy is None:
            unmatched.append(instance)
            continue
        medians = [r for r in group if r.get("run_type") == "aggregate" and r.get("aggregate_name") == "median"]
        if medians:
            time_ns, (rate, counter) = _time_ns(medians[0]), _rate(medians[0])
        else:
            iterations = [r for r in group if r.get("run_type", "iteration") == "iteration"]
            times = [t for t in map(_time_ns, iterations) if t is not None]
            rates = [(v, c) for v, c in map(_rate, iterations) if v is not None]
            time_ns = _mean(times)
            rate, counter = (_mean([v for v, _ in rates]), rates[0][1]) if rates else (None, None)
        if time_ns is None:
            continue
        family = benchmark_family(instance, policy)
        points.append(RatePoint(source, family, policy, instance, time_ns, rate, counter))
    return points, unmatched


# ---- callgrind summaries ---------------------------------------------------


def parse_callgrind_summary(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.replace("=", " ").replace(":", " ").partition(" ")
        values[key.strip()] = value.strip()
    return values


def share_value(text: str | None) -> float | None:
    """'0.23' or '23%' -> 0.23."""
    if text is None:
        return None
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return None


# ---- putting files together ------------------------------------------------


def directory_machine(path: Path, results_dir: Path) -> str | None:
    parts = path.relative_to(results_dir).parts[:-1]
    return parts[0] if parts and parts[0] not in NON_MACHINE_DIRS else None


def context_host(data: dict) -> str | None:
    context = data.get("context")
    if isinstance(context, dict):
        host = context.get("host") or context.get("host_name")
        if isinstance(host, str) and host:
            return host
    return None


def is_size_axis_file(path: Path, results_dir: Path, config: dict) -> bool:
    """Under a sweep/ folder, or trained on a shape other than the default."""
    in_sweep_dir = SIZE_AXIS_DIR in path.relative_to(results_dir).parts[:-1]
    return in_sweep_dir or config_shape(config) != DEFAULT_SHAPE


def parse_train_file(data: dict, source: str) -> list[TrainRun]:
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        raise BadFile("no 'runs' list")
    parsed = []
    for run in runs:
        try:
            parsed.append(parse_train_run(run, config, source, str(context.get("date", ""))))
        except BadFile as error:
            warn(f"{source}: skipping {error}")
    if not parsed:
        raise BadFile("no usable run")
    return parsed


def series_label(run: TrainRun, size_axis: bool) -> str:
    return f"{shape_label(run.shape)}, topo {run.topo}" if size_axis else f"topo {run.topo}"


def put_run(table: dict[str, TrainRun], run: TrainRun, machine: Machine, label: str) -> None:
    """Adds run to its series; the same policy twice in one series keeps the newer file's."""
    previous = table.get(run.name)
    if previous is not None:
        keep = run if run.date >= previous.date else previous
        warn(f"'{run.name}' ({label}) on {machine.name} appears in {previous.source} and {run.source}; "
             f"using {keep.source} (newer date)")
        run = keep
    table[run.name] = run


def check_engine_file(config: dict, size_axis: bool) -> str:
    """The file's engine; raises BadFile for an engine this script cannot place."""
    engine = config_engine(config)
    if engine != GRAPH_ENGINE and size_axis:
        # The size axis compares policies per graph node; a tape op is not a node.
        raise BadFile(f"engine '{engine}' on the size axis (sweep/ folder or another shape); "
                      "only default-shape runs of it are compared")
    return engine


def add_train_runs(machine: Machine, data: dict, source: str, is_crosslang_file: bool, size_axis: bool) -> None:
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    engine = check_engine_file(config, size_axis)  # before parsing: an unknown engine skips the whole file
    parsed = parse_train_file(data, source)
    if size_axis:
        machine.size_sources.append((source, context))
    else:
        if context:
            machine.contexts.append((source, context))
        if config:
            machine.configs.append((source, config))
    for run in parsed:
        if is_crosslang_file or run.name in CROSSLANG_RUNTIMES:
            table = machine.runtimes
        elif engine != GRAPH_ENGINE:
            if run.name != engine:  # bench_train names the one run after the engine
                warn(f"{source}: skipping run '{run.name}': an engine '{engine}' file holds only a run "
                     f"named '{engine}'")
                continue
            put_run(machine.engines, run, machine, f"engine {engine}")
            continue
        elif size_axis:
            table = machine.size_runs.setdefault((run.shape, run.topo), {})
        else:
            table = machine.series.setdefault(run.topo, {})
        put_run(table, run, machine, series_label(run, size_axis))


def load_results(results_dir: Path) -> Results:
    machines: dict[str, Machine] = {}
    files_used, skipped = [], []

    def machine_for(path: Path, data: dict | None) -> Machine:
        name = directory_machine(path, results_dir) or (data and context_host(data)) or "local"
        return machines.setdefault(name, Machine(name))

    def skip(source: str, reason: str) -> None:
        message = f"skipping {source}: {reason}"
        warn(message)
        skipped.append(message)

    json_files = sorted(p for p in results_dir.rglob("*.json") if not p.name.startswith("."))
    for path in json_files:
        source = str(path)
        try:
            data = read_json(path)
            if not isinstance(data, dict):
                raise BadFile("not a results file (top level is not an object)")
            if data.get("tool") in ("bench_train", "crosslang"):
                config = data.get("config") if isinstance(data.get("config"), dict) else {}
                add_train_runs(machine_for(path, data), data, source, data.get("tool") == "crosslang",
                               is_size_axis_file(path, results_dir, config))
            elif isinstance(data.get("benchmarks"), list):
                add_gbench(machine_for(path, data), data, path)
            else:
                raise BadFile("not a results file (neither \"tool\": \"bench_train\" nor a \"benchmarks\" list)")
        except BadFile as error:
            skip(source, str(error))
            continue
        files_used.append(source)

    for path in sorted(results_dir.rglob("callgrind_*.txt")):
        policy = path.stem[len("callgrind_"):]
        try:
            values = parse_callgrind_summary(path)
        except OSError as error:
            skip(str(path), f"cannot read it ({error})")
            continue
        if not values:
            skip(str(path), "empty file")
            continue
        machine_for(path, None).callgrind[policy] = (str(path), values)
        files_used.append(str(path))

    attach_orphans(machines)
    for machine in machines.values():
        warn_on_config_mismatch(machine)
    return Results(machines, files_used, skipped)


def add_gbench(machine: Machine, data: dict, path: Path) -> None:
    points, unmatched = parse_gbench(data, path.stem)
    if unmatched:
        warn(f"{path}: no policy name in {len(unmatched)} benchmark(s), e.g. '{unmatched[0]}'")
    if not points:
        raise BadFile("no benchmark names a known policy")
    machine.rate_points.extend(points)
    context = data.get("context")
    if isinstance(context, dict):
        machine.contexts.append((str(path), context))


def attach_orphans(machines: dict[str, Machine]) -> None:
    """Machines without default-shape C++ training runs (e.g. results/gbench/*.json or
    results/sweep/*.json of another host name, a callgrind file directly under results/)
    join the only machine that has them."""
    with_training = [m for m in machines.values() if m.series or m.engines]
    if len(with_training) != 1:
        return
    home = with_training[0]
    for name in [n for n, m in machines.items() if not (m.series or m.engines)]:
        orphan = machines.pop(name)
        home.contexts.extend(orphan.contexts)
        home.configs.extend(orphan.configs)
        home.rate_points.extend(orphan.rate_points)
        home.size_sources.extend(orphan.size_sources)
        home.callgrind = {**orphan.callgrind, **home.callgrind}
        for runtime, run in orphan.runtimes.items():
            home.runtimes.setdefault(runtime, run)
        for key, runs in orphan.size_runs.items():
            for run in runs.values():
                put_run(home.size_runs.setdefault(key, {}), run, home, series_label(run, True))


def warn_on_config_mismatch(machine: Machine) -> None:
    """Files of one series (same topo, default shape) should agree on how they ran."""
    keys = ["steps", "rng", "seed"]
    with_policies = {run.source for runs in machine.series.values() for run in runs.values()}
    seen = {}
    for source, config in machine.configs:
        if source not in with_policies:  # e.g. crosslang.sh's runtimes
            continue
        topo = config_topo(config)
        for key in keys:
            previous = seen.get((topo, key))
            if key in config and previous is not None and previous[1] != config[key]:
                warn(f"{machine.name}: '{key}' differs between {previous[0]} ({previous[1]}) "
                     f"and {source} ({config[key]}) (topo {topo}); times are compared per step where possible")
            if key in config:
                seen.setdefault((topo, key), (source, config[key]))


# ---------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------


def policy_order(names) -> list[str]:
    known = [p for p in KNOWN_POLICIES if p in names]
    return known + sorted(n for n in names if n not in KNOWN_POLICIES)


def topo_order(names) -> list[str]:
    known = [t for t in TOPO_ORDER if t in names]
    return known + sorted(n for n in names if n not in TOPO_ORDER)


def engine_order(names) -> list[str]:
    return [e for e in ENGINE_ORDER if e in names]


def shape_label(shape: tuple[int, ...]) -> str:
    n_embd, n_head, n_layer, block_size = shape
    return f"embd {n_embd} · head {n_head} · layer {n_layer} · block {block_size}"


def runtime_order(names) -> list[str]:
    known = [r for r in CROSSLANG_RUNTIMES if r in names]
    return known + sorted(n for n in names if n not in CROSSLANG_RUNTIMES)


def baseline_of(machine: Machine) -> TrainRun | None:
    if BASELINE in machine.policies:
        return machine.policies[BASELINE]
    ordered = policy_order(machine.policies)
    return machine.policies[ordered[0]] if ordered else None


def alloc_share(run: TrainRun, reference: TrainRun) -> float | None:
    """Share of `run`'s step time spent allocating and releasing, measured against
    `reference` (arena): the extra forward and release time over the arena's,
    divided by run's total phase time, clamped to [0, 1]. Per step, so runs of
    different lengths compare."""
    if run.phases is None or reference.phases is None:
        return None
    total = sum(run.phases.values())
    if total <= 0:
        return None
    run_per_step = {k: v / run.steps for k, v in run.phases.items()}
    ref_per_step = {k: v / reference.steps for k, v in reference.phases.items()}
    extra = (run_per_step["forward"] - ref_per_step["forward"]) + (run_per_step["release"] - ref_per_step["release"])
    return min(1.0, max(0.0, extra / (total / run.steps)))


def pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    if var_x <= 0 or var_y <= 0:
        return None
    return cov / math.sqrt(var_x * var_y)


def log_slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) on log(x): 1 means y grows in proportion to x."""
    if len(xs) < 2:
        return None
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mean_x, mean_y = sum(lx) / len(lx), sum(ly) / len(ly)
    var_x = sum((x - mean_x) ** 2 for x in lx)
    if var_x <= 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(lx, ly)) / var_x


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


@dataclass
class ThroughputComparison:
    family: str
    source: str
    counter: str
    points: list[tuple[str, float, float]]  # (policy, allocs/s, training steps/s)
    correlation: float | None  # Pearson r on log values
    slope: float | None


def rate_family(machine: Machine) -> tuple[str, str] | None:
    """(source, family) to compare with training: bench_alloc's chain if present."""
    candidates: dict[tuple[str, str], set[str]] = {}
    for point in machine.rate_points:
        if point.rate is not None and point.rate > 0:
            candidates.setdefault((point.source, point.family), set()).add(point.policy)
    if not candidates:
        return None

    def preference(key):
        source, family = key
        return (family != PREFERRED_RATE_FAMILY, source != "bench_alloc", -len(candidates[key]), key)

    return min(candidates, key=preference)


def throughput_comparison(machine: Machine) -> ThroughputComparison | None:
    chosen = rate_family(machine)
    if chosen is None:
        return None
    source, family = chosen
    rates: dict[str, list[float]] = {}
    counter = ""
    for point in machine.rate_points:
        if (point.source, point.family) == chosen and point.rate and point.rate > 0:
            rates.setdefault(point.policy, []).append(point.rate)
            counter = point.rate_counter or counter
    points = [
        (policy, median(rates[policy]), machine.policies[policy].steps_per_second)
        for policy in policy_order(rates)
        if policy in machine.policies
    ]
    if not points:
        return None
    xs, ys = [p[1] for p in points], [p[2] for p in points]
    correlation = pearson([math.log(x) for x in xs], [math.log(y) for y in ys])
    return ThroughputComparison(family, source, counter, points, correlation, log_slope(xs, ys))


# ---------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------


def fmt_seconds(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds >= 0.1 else f"{seconds * 1000:.2f} ms"


def fmt_percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.1f}%"


def fmt_ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}×"


def fmt_rate(rate: float | None) -> str:
    if rate is None:
        return "–"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rate >= scale:
            return f"{rate / scale:.1f} {suffix}/s"
    return f"{rate:.0f} /s"


def fmt_kib(kib: float | None) -> str:
    return "–" if kib is None else f"{kib / 1024:.1f} MiB"


def fmt_bytes(count: float | None) -> str:
    if count is None:
        return "–"
    for scale, unit in ((1 << 20, "MiB"), (1 << 10, "KiB")):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count:.0f} B"


def fmt_number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def fmt_time_ns(ns: float) -> str:
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            return f"{ns / scale:.3f} {unit}"
    return f"{ns:.1f} ns"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines + [""]


def code(name: str) -> str:
    return f"`{name}`"


def image(charts: set[str], key: str, alt: str) -> list[str]:
    """The Markdown image line for a chart, or nothing when the chart was not drawn."""
    return [f"![{alt}](charts/{CHART_FILES[key]})", ""] if key in charts else []


# ---------------------------------------------------------------------------
# Charts (matplotlib, Agg)
# ---------------------------------------------------------------------------


def machine_colors(machines: list[Machine]) -> dict[str, str]:
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    return {m.name: palette[i % len(palette)] for i, m in enumerate(machines)}


def grouped_positions(count: int, group_count: int, index: int, width_total: float = 0.8):
    width = width_total / max(1, group_count)
    return [i - width_total / 2 + width * (index + 0.5) for i in range(count)], width


def chart_train_time(plt, machines: list[Machine]):
    policies = policy_order({p for m in machines for p in m.policies})
    colors = machine_colors(machines)
    figure, axes = plt.subplots(figsize=(max(6, 1.1 * len(policies) + 2), 4.5))
    for index, machine in enumerate(machines):
        base = baseline_of(machine)
        xs, width = grouped_positions(len(policies), len(machines), index)
        heights, low, high, used_x = [], [], [], []
        for x, policy in zip(xs, policies):
            run = machine.policies.get(policy)
            if run is None:
                continue
            per_step = run.median_s / run.steps
            base_per_step = base.median_s / base.steps
            heights.append(per_step / base_per_step)
            low.append((run.median_s - run.min_s) / run.steps / base_per_step)
            high.append((run.max_s - run.median_s) / run.steps / base_per_step)
            used_x.append(x)
        label = f"{machine.name}, topo {machine.headline_topo} (1.0 = {base.name}, {base.ms_per_step:.3f} ms/step)"
        bars = axes.bar(used_x, heights, width, yerr=[low, high], capsize=3, color=colors[machine.name], label=label)
        axes.bar_label(bars, fmt="%.2f", padding=2, fontsize=8)
    axes.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    axes.set_xticks(range(len(policies)), policies, rotation=20)
    axes.set_ylabel(f"training time relative to {BASELINE}\n(median, bars = min–max; lower is faster)")
    axes.set_title(f"Training time per allocation policy (default shape, topo {headline_topos(machines)})")
    axes.legend(fontsize=8)
    return figure


def chart_phases(plt, machines: list[Machine]):
    shown = [m for m in machines if any(r.phases for r in m.policies.values())]  # the headline series
    figure, axes_list = plt.subplots(1, len(shown), figsize=(max(6, 5.5 * len(shown)), 4.5), squeeze=False)
    phase_colors = {"forward": "#4c72b0", "backward": "#dd8452", "adam": "#55a868", "release": "#c44e52"}
    for axes, machine in zip(axes_list[0], shown):
        policies = [p for p in policy_order(machine.policies) if machine.policies[p].phases]
        bottoms = [0.0] * len(policies)
        for phase in PHASES:
            values = [1000 * machine.policies[p].phases[phase] / machine.policies[p].steps for p in policies]
            axes.bar(range(len(policies)), values, 0.7, bottom=bottoms, label=phase, color=phase_colors[phase])
            bottoms = [b + v for b, v in zip(bottoms, values)]
        axes.set_xticks(range(len(policies)), policies, rotation=20)
        axes.set_ylabel("ms per training step")
        axes.set_title(f"Phases per step — {machine.name}, topo {machine.headline_topo}")
        axes.legend(fontsize=8)
    return figure


def chart_alloc_vs_train(plt, comparisons: dict[str, ThroughputComparison], machines: list[Machine]):
    colors = machine_colors(machines)
    figure, axes = plt.subplots(figsize=(7, 5))
    for machine in machines:
        comparison = comparisons.get(machine.name)
        if comparison is None:
            continue
        xs = [p[1] for p in comparison.points]
        ys = [p[2] for p in comparison.points]
        r = "n/a" if comparison.correlation is None else f"{comparison.correlation:.2f}"
        axes.scatter(xs, ys, color=colors[machine.name], label=f"{machine.name} ({comparison.family}; r = {r})")
        for policy, x, y in comparison.points:
            axes.annotate(policy, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        baseline = next((p for p in comparison.points if p[0] == BASELINE), None)
        if baseline is not None:  # where the points would lie if speed grew in proportion to allocs/s
            _, x0, y0 = baseline
            line_x = [min(xs), max(xs)]
            axes.plot(line_x, [y0 * x / x0 for x in line_x], linestyle="--", linewidth=0.8,
                      color=colors[machine.name], label=f"{machine.name}: proportional to allocs/s from {BASELINE}")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("allocation throughput, microbenchmark (allocs/s, log)")
    axes.set_ylabel("training speed (steps/s, log)")
    axes.set_title("Does allocation throughput explain training speed?\n"
                   f"(training: default shape, topo {headline_topos(machines)})", fontsize=10)
    axes.legend(fontsize=8)
    return figure


def chart_memory(plt, machines: list[Machine]):
    policies = policy_order({p for m in machines for p in m.policies})
    colors = machine_colors(machines)
    figure, (rss_axes, bytes_axes) = plt.subplots(1, 2, figsize=(max(9, 1.6 * len(policies) + 3), 4.5))
    for index, machine in enumerate(machines):
        xs, width = grouped_positions(len(policies), len(machines), index)
        for axes, value_of in (
            (rss_axes, lambda run: None if run.peak_rss_kib is None else run.peak_rss_kib / 1024),
            (bytes_axes, lambda run: None if run.bytes_per_step is None else run.bytes_per_step / 1024),
        ):
            pairs = [(x, value_of(machine.policies[p])) for x, p in zip(xs, policies) if p in machine.policies]
            pairs = [(x, v) for x, v in pairs if v is not None]
            if pairs:
                axes.bar([x for x, _ in pairs], [v for _, v in pairs], width, color=colors[machine.name], label=machine.name)
    for axes, label, title in (
        (rss_axes, "peak RSS (MiB)", f"Peak resident memory (topo {headline_topos(machines)})"),
        (bytes_axes, "KiB requested per training step", "Bytes allocated per step"),
    ):
        axes.set_xticks(range(len(policies)), policies, rotation=30)
        axes.set_ylabel(label)
        axes.set_title(title)
        axes.legend(fontsize=8)
    return figure


def chart_crosslang(plt, machines: list[Machine]):
    shown = [m for m in machines if m.runtimes]
    names = policy_order({p for m in shown for p in m.policies}) + runtime_order({r for m in shown for r in m.runtimes})
    colors = machine_colors(machines)
    figure, axes = plt.subplots(figsize=(max(7, 0.9 * len(names) + 2), 4.5))
    for index, machine in enumerate(shown):
        xs, width = grouped_positions(len(names), len(shown), index)
        for x, name in zip(xs, names):
            run = machine.policies.get(name) or machine.runtimes.get(name)
            if run is None:
                continue
            is_runtime = name in machine.runtimes and name not in machine.policies
            bars = axes.bar(x, run.ms_per_step, width, color=colors[machine.name], hatch="//" if is_runtime else None,
                            edgecolor="black" if is_runtime else colors[machine.name])
            axes.bar_label(bars, fmt="%.3g", padding=2, fontsize=7)
    from matplotlib.patches import Patch

    handles = [Patch(color=colors[m.name], label=m.name) for m in shown]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="runtime: whole-program wall time"))
    axes.set_yscale("log")
    axes.set_xticks(range(len(names)), names, rotation=30)
    axes.set_ylabel("ms per training step (log)")
    axes.set_title("C++ policies beside Python and TypeScript runtimes")
    axes.legend(handles=handles, fontsize=8)
    return figure


def policy_colors() -> dict[str, str]:
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf"]
    return {p: palette[i % len(palette)] for i, p in enumerate(KNOWN_POLICIES)}


def chart_size(plt, machines: list[Machine], value_of, ylabel: str, title: str, log_y: bool):
    """One panel per machine: value_of(run) against nodes per step, one line per policy."""
    colors = policy_colors()
    figure, axes_list = plt.subplots(1, len(machines), figsize=(max(6.5, 6 * len(machines)), 4.5), squeeze=False)
    for axes, machine in zip(axes_list[0], machines):
        points = [(nodes, runs) for nodes, _, runs in size_points(machine) if nodes is not None]
        for policy in policy_order({p for _, runs in points for p in runs}):
            pairs = [(nodes, value_of(runs[policy])) for nodes, runs in points if policy in runs]
            pairs = [(x, y) for x, y in pairs if y is not None]
            if pairs:
                axes.plot([x for x, _ in pairs], [y for _, y in pairs], marker="o", label=policy,
                          color=colors.get(policy, "black"))
        axes.set_xscale("log")
        if log_y:
            axes.set_yscale("log")
        axes.set_xlabel("graph nodes per training step (log)")
        axes.set_ylabel(ylabel)
        axes.set_title(f"{title} — {machine.name}")
        axes.legend(fontsize=8)
    return figure


def size_machines(machines: list[Machine]) -> list[Machine]:
    return [m for m in machines if any(nodes is not None for nodes, _, _ in size_points(m))]


def render_charts(results: Results, comparisons: dict[str, ThroughputComparison]) -> dict[str, bytes]:
    """PNG bytes per chart key; a chart whose data is absent is left out."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(f"matplotlib is not installed for {sys.executable}; "
                         "run compare.py with /usr/bin/python3 (Debian: apt-get install python3-matplotlib)") from None
    machines = [m for m in results.machines.values()]
    with_policies = [m for m in machines if m.policies]
    makers = {}
    if with_policies:
        makers["train_time"] = lambda: chart_train_time(plt, with_policies)
        makers["memory"] = lambda: chart_memory(plt, with_policies)
    if any(r.phases for m in machines for r in m.policies.values()):
        makers["phases"] = lambda: chart_phases(plt, machines)
    if comparisons:
        makers["alloc_vs_train"] = lambda: chart_alloc_vs_train(plt, comparisons, machines)
    if any(m.runtimes for m in machines):
        makers["crosslang"] = lambda: chart_crosslang(plt, machines)
    sized = size_machines(machines)
    if sized:
        makers["size_ns_per_node"] = lambda: chart_size(
            plt, sized, lambda run: run.ns_per_node, "ns per node (median)", "Time per graph node", log_y=False)
        makers["size_rss"] = lambda: chart_size(
            plt, sized, lambda run: None if run.peak_rss_kib is None else run.peak_rss_kib / 1024,
            "peak RSS (MiB, log)", "Peak resident memory", log_y=True)
    images = {}
    for key, make in makers.items():
        figure = make()
        buffer = io.BytesIO()
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=110)
        plt.close(figure)
        images[key] = buffer.getvalue()
    return images


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------

CONTEXT_FIELDS = [
    ("date", "date"),
    ("host", "host"),
    ("cpu", "cpu"),
    ("cores", "cores"),
    ("kernel", "kernel"),
    ("compiler", "compiler"),
    ("flags", "flags"),
    ("glibc", "glibc"),
    ("mimalloc", "mimalloc"),
    ("jemalloc", "jemalloc"),
    ("git_commit", "git commit"),
]


def context_rows(contexts: list[tuple[str, dict]]) -> list[list[str]]:
    """One row per field and value; files that agree on a value share its row."""
    files_of: dict[tuple[str, str], list[str]] = {}
    for source, context in contexts:
        if "host_name" in context:  # Google Benchmark's context
            summary = ", ".join(f"{k} {context[k]}" for k in ("date", "host_name", "num_cpus", "mhz_per_cpu",
                                                               "library_build_type", "library_version")
                                if k in context)
            files_of.setdefault(("Google Benchmark", summary), []).append(Path(source).name)
            continue
        for key, label in CONTEXT_FIELDS:
            if context.get(key) not in (None, ""):
                files_of.setdefault((label, str(context[key])), []).append(Path(source).name)
    return [[f"{label} ({', '.join(names)})", value] for (label, value), names in files_of.items()]


def section_context(machines: list[Machine]) -> list[str]:
    lines = ["## Machines and builds", ""]
    for machine in machines:
        lines += [f"### {machine.name}", ""]
        rows = context_rows(machine.contexts)
        for source, config in machine.configs:
            summary = ", ".join(f"{k} {config[k]}" for k in ("engine", "steps", "seed", "rng", "topo", "n_embd",
                                                            "n_head", "n_layer", "block_size") if k in config)
            rows.append([f"config ({Path(source).name})", summary])
        for topo in topo_order(machine.series):
            repetitions = sorted({r.repetitions for r in machine.series[topo].values()})
            rows.append([f"repetitions per policy (topo {topo})", ", ".join(map(str, repetitions))])
        for engine in engine_order(machine.engines):
            rows.append([f"repetitions (engine {engine})", str(machine.engines[engine].repetitions)])
        if machine.size_sources:
            dates = sorted(str(c.get("date")) for _, c in machine.size_sources if c.get("date"))
            span = f", dated {dates[0]} – {dates[-1]}" if dates else ""
            rows.append(["size axis", f"{len(machine.size_sources)} file(s), {len(machine.size_runs)} shape(s){span}"])
        lines += table(["field", "value"], rows) if rows else ["No context recorded.", ""]
    return lines


def headline_topos(machines: list[Machine]) -> str:
    """'dfs', or 'dfs / creation' when machines differ."""
    return " / ".join(topo_order({m.headline_topo for m in machines if m.headline_topo}))


def headline_note(machines: list[Machine]) -> str:
    topos = topo_order({m.headline_topo for m in machines if m.headline_topo})
    phrases = " / ".join(topo_phrase(t) for t in topos)
    n_embd, n_head, n_layer, block_size = DEFAULT_SHAPE
    return (f"Headline series: the default shape (n_embd {n_embd}, n_head {n_head}, n_layer {n_layer}, "
            f"block_size {block_size}) with {phrases}. The other backward orders are compared in "
            "*Backward order*, other shapes in *Size axis*.")


def section_training(machines: list[Machine], charts: set[str]) -> list[str]:
    lines = ["## Training time per policy", ""] + image(charts, "train_time", "training time") + [
             headline_note(machines), "",
             f"Median of the repetitions; min–max in brackets. *Speed vs {BASELINE}* is "
             f"{BASELINE}'s time per step divided by the policy's (above 1 = faster).", ""]
    for machine in machines:
        base = baseline_of(machine)
        lines += [f"### {machine.name} — topo {machine.headline_topo}", ""]
        if base.name != BASELINE:
            lines += [f"No `{BASELINE}` run on this machine; ratios are against `{base.name}`.", ""]
        rows = []
        for policy in policy_order(machine.policies):
            run = machine.policies[policy]
            rows.append([code(policy), fmt_seconds(run.median_s), f"{fmt_seconds(run.min_s)} – {fmt_seconds(run.max_s)}",
                         str(run.repetitions), str(run.steps), f"{run.ms_per_step:.3f}",
                         fmt_ratio(base.ms_per_step / run.ms_per_step)])
        lines += table(["policy", "median", "min – max", "reps", "steps", "ms/step", f"speed vs {base.name}"], rows)
    return lines


def section_phases(machines: list[Machine], charts: set[str]) -> list[str]:
    lines = ["## Phases of a training step", ""] + image(charts, "phases", "phases per step") + [
             "Milliseconds per step in the median repetition: *forward* builds the graph (every node is "
             "allocated here), *backward* sorts and propagates, *adam* updates the parameters, *release* "
             "frees the graph (or resets the arena).", ""]
    lines += [f"The chart shows the headline series (topo {headline_topos(machines)}); the tables every "
              "backward order.", ""]
    for machine in machines:
        for topo in topo_order(machine.series):
            runs = [machine.series[topo][p] for p in policy_order(machine.series[topo])
                    if machine.series[topo][p].phases]
            if not runs:
                continue
            rows = []
            for run in runs:
                per_step = [1000 * run.phases[phase] / run.steps for phase in PHASES]
                rows.append([code(run.name)] + [f"{v:.3f}" for v in per_step] + [f"{sum(per_step):.3f}"])
            lines += [f"### {machine.name} — topo {topo}", ""] + table(["policy"] + PHASES + ["total"], rows)
    return lines


def section_backward_order(machines: list[Machine]) -> list[str]:
    lines = ["## Backward order", "",
             "The same default-shape training with each backward order (`--topo`) that ran: " +
             "; ".join(f"*{t}* is {topo_phrase(t)}" for t in TOPO_ORDER) + ". Cells are the median training "
             "time and its time per step; *speed-up* is dfs's time per step divided by the other order's "
             "(above 1 = faster than dfs).", ""]
    shown = [m for m in machines if len(m.series) > 1]
    if not shown:
        return lines + ["Only one backward order ran on each machine.", ""]
    for machine in shown:
        topos = topo_order(machine.series)
        others = [t for t in topos if t != DEFAULT_TOPO] if DEFAULT_TOPO in topos else []
        rows = []
        for policy in policy_order({p for t in topos for p in machine.series[t]}):
            runs = [machine.series[t].get(policy) for t in topos]
            cells = ["–" if run is None else f"{fmt_seconds(run.median_s)} ({run.ms_per_step:.3f} ms/step)"
                     for run in runs]
            dfs = machine.series.get(DEFAULT_TOPO, {}).get(policy)
            for topo in others:
                other = machine.series[topo].get(policy)
                cells.append(fmt_ratio(dfs.ms_per_step / other.ms_per_step) if dfs and other else "–")
            rows.append([code(policy)] + cells)
        header = ["policy"] + topos + [f"speed-up {t} vs {DEFAULT_TOPO}" for t in others]
        lines += [f"### {machine.name}", ""] + table(header, rows)
    return lines


def mode_rows(machine: Machine) -> list[tuple[str, str, TrainRun]]:
    """(mode label, exactness note, run): arena in each backward order, then each other engine."""
    rows = []
    for topo in topo_order(machine.series):
        run = machine.series[topo].get(MODES_POLICY)
        if run is not None:
            rows.append((f"{code(MODES_POLICY)} · `--topo {topo}`", TOPO_EXACTNESS.get(topo, "–"), run))
    for engine in engine_order(machine.engines):
        rows.append((f"`--engine {engine}`", ENGINE_EXACTNESS.get(engine, "–"), machine.engines[engine]))
    return rows


def work_per_step(run: TrainRun) -> str:
    # The tape's count is fused ops, not nodes: the two differ by orders of magnitude.
    unit = "nodes" if run.engine == GRAPH_ENGINE else "tape ops"
    return "–" if run.nodes_per_step is None else f"{run.nodes_per_step:,.0f} {unit}"


def mixed_builds_note(machine: Machine, rows: list[tuple[str, str, TrainRun]]) -> list[str]:
    """A sentence when the modes' files name different git commits: their ratios then
    mix code changes with the mode's effect."""
    commit_of = {source: str(context["git_commit"]) for source, context in machine.contexts
                 if context.get("git_commit")}
    modes_of: dict[str, list[str]] = {}
    for label, _, run in rows:
        if run.source in commit_of:
            modes_of.setdefault(commit_of[run.source], []).append(label)
    if len(modes_of) < 2:
        return []
    parts = "; ".join(f"{commit}: {', '.join(labels)}" for commit, labels in modes_of.items())
    return [f"The rows come from different builds (git commit {parts}), so the ratios between them include "
            "code changes, not only the mode.", ""]


def section_modes(machines: list[Machine]) -> list[str]:
    reference = f"{code(MODES_POLICY)} · `--topo {DEFAULT_TOPO}`"
    lines = ["## Modes", "",
             f"The ways bench_train trains the default shape: `{MODES_POLICY}` (almost no allocator work) "
             "with each backward order that ran, and each engine other than the node graph (`--engine tape` "
             "records fused ops on flat buffers instead of a node per op; its allocations are not counted). "
             f"Median of the repetitions, min–max beside it; *speed vs {MODES_POLICY} {DEFAULT_TOPO}* is "
             f"{reference}'s time per step divided by the mode's (above 1 = faster). *Output* says how the "
             "mode's numbers relate to microgpt.py's.", ""]
    shown = [(m, rows) for m in machines if (rows := mode_rows(m))]
    if not shown:
        return lines + [f"No default-shape `{MODES_POLICY}` or tape-engine runs.", ""]
    for machine, rows in shown:
        base = machine.series.get(DEFAULT_TOPO, {}).get(MODES_POLICY)
        lines += [f"### {machine.name}", ""]
        if base is None:
            lines += [f"No {reference} run on this machine, so no speed ratios.", ""]
        cells = [[label, fmt_seconds(run.median_s), f"{fmt_seconds(run.min_s)} – {fmt_seconds(run.max_s)}",
                  str(run.repetitions), str(run.steps), f"{run.ms_per_step:.3f}", work_per_step(run),
                  fmt_ratio(base.ms_per_step / run.ms_per_step) if base else "–", note]
                 for label, note, run in rows]
        lines += table(["mode", "median", "min – max", "reps", "steps", "ms/step", "work/step",
                        f"speed vs {MODES_POLICY} {DEFAULT_TOPO}", "output"], cells)
        lines += mixed_builds_note(machine, rows)
    return lines


def section_alloc_share(machines: list[Machine], shares: Shares) -> list[str]:
    lines = [
        "## Share of step time spent allocating and releasing", "",
        f"Method: `{ZERO_ALLOC_REFERENCE}` builds the same graph with a pointer bump and frees it with one "
        "reset, so its forward and release phases are the graph work with (almost) no allocator work. "
        "For a policy *p*, with every phase per step:", "",
        f"    alloc_share(p) = max(0, (forward_p − forward_{ZERO_ALLOC_REFERENCE}) + "
        f"(release_p − release_{ZERO_ALLOC_REFERENCE})) / total_p", "",
        "where total_p is the sum of p's four phases. This counts allocator time *above the arena's*, "
        "and includes cache effects of scattered nodes (which also slow backward, not counted here), "
        f"so it is an estimate; `{ZERO_ALLOC_REFERENCE}` is 0 by construction. The answer at the end calls "
        f"allocation *the bottleneck* when `{BASELINE}`'s share is at least {fmt_percent(BOTTLENECK_SHARE)}, "
        f"*a large cost* from {fmt_percent(MAJOR_COST_SHARE)}.", "",
        "The share is computed separately for each backward order (`--topo`): the total differs a lot "
        "between them (with dfs the topological sort dominates backward and hides allocation), and each "
        f"order is measured against its own `{ZERO_ALLOC_REFERENCE}` run.", "",
    ]
    for machine in machines:
        by_topo = shares.get(machine.name, {})
        for topo in topo_order(machine.series):
            lines += [f"### {machine.name} — topo {topo}", ""]
            lines += alloc_share_table(machine, topo, by_topo.get(topo))
        if not machine.series:
            lines += [f"### {machine.name}", "", "Not computed: no default-shape training runs.", ""]
    return lines


def alloc_share_table(machine: Machine, topo: str, topo_shares: dict[str, float] | None) -> list[str]:
    runs = machine.series[topo]
    if topo_shares is None:
        reason = f"no `{ZERO_ALLOC_REFERENCE}` run with phases" if ZERO_ALLOC_REFERENCE not in runs \
            else "no phase split recorded"
        return [f"Not computed: {reason}.", ""]
    if set(topo_shares) == {ZERO_ALLOC_REFERENCE}:
        return [f"Only `{ZERO_ALLOC_REFERENCE}` ran in this order (0 by construction); its phases are in the "
                "backward-order table.", ""]
    reference = runs[ZERO_ALLOC_REFERENCE]
    rows = []
    for policy, share in topo_shares.items():
        run = runs[policy]
        extra_ms = 1000 * ((run.phases["forward"] / run.steps - reference.phases["forward"] / reference.steps)
                           + (run.phases["release"] / run.steps - reference.phases["release"] / reference.steps))
        total_ms = 1000 * sum(run.phases.values()) / run.steps
        rows.append([code(policy), f"{extra_ms:.3f}", f"{total_ms:.3f}", fmt_percent(share)])
    lines = table(["policy", f"extra forward+release vs {ZERO_ALLOC_REFERENCE} (ms/step)", "total (ms/step)",
                   "alloc share"], rows)
    if topo == callgrind_topo(machine):
        lines += section_callgrind(machine, topo_shares)
    return lines


def callgrind_topo(machine: Machine) -> str | None:
    """scripts/callgrind_share.sh runs bench_train's default order, dfs; else the headline's."""
    return DEFAULT_TOPO if DEFAULT_TOPO in machine.series else machine.headline_topo


def section_callgrind(machine: Machine, machine_shares: dict[str, float]) -> list[str]:
    if not machine.callgrind:
        return []
    lines = ["Callgrind confirmation (instruction counts, not time):", ""]
    rows = []
    for policy in policy_order(machine.callgrind):
        source, values = machine.callgrind[policy]
        measured = share_value(values.get("malloc_share"))
        others = ", ".join(f"{k} {v}" for k, v in values.items() if k != "malloc_share")
        rows.append([code(policy), fmt_percent(measured), fmt_percent(machine_shares.get(policy)),
                     others or "–", Path(source).name])
    lines += table(["policy", "callgrind malloc_share", "phase-derived alloc share", "other values", "file"], rows)
    return lines


def section_throughput(machines: list[Machine], comparisons: dict[str, ThroughputComparison],
                       charts: set[str]) -> list[str]:
    lines = ["## Allocation throughput vs training speed", ""]
    if not comparisons:
        return lines + ["No Google Benchmark results with an allocation rate (`allocs/s`) for policies that also "
                        "have training runs; run bench/bench_alloc with `--benchmark_out=results/gbench/"
                        "bench_alloc.json --benchmark_out_format=json`.", ""]
    lines += image(charts, "alloc_vs_train", "allocs/s vs steps/s") + [
              "The claim under test: *allocation throughput explains training speed*. If it did, a policy "
              "that allocates k× faster would train close to k× faster (log–log slope near 1) and the "
              "ranking would agree (Pearson r on log values near 1). The answer says "
              f"throughput explains speed only when r ≥ {RANKING_AGREES_R} and the slope ≥ {PROPORTIONAL_SLOPE}. "
              f"Training speed is the headline series (default shape, topo {headline_topos(machines)}).", ""]
    for machine in machines:
        comparison = comparisons.get(machine.name)
        if comparison is None:
            continue
        lines += [f"### {machine.name}", "",
                  f"Rates: `{comparison.family}` benchmarks of {comparison.source}, counter `{comparison.counter}` "
                  "(median aggregate; median over instances when a policy has several).", ""]
        rate_of = {p: x for p, x, _ in comparison.points}
        speed_of = {p: y for p, _, y in comparison.points}
        rows = []
        for policy, rate, speed in comparison.points:
            rate_ratio = rate / rate_of[BASELINE] if BASELINE in rate_of else None
            speed_ratio = speed / speed_of[BASELINE] if BASELINE in speed_of else None
            rows.append([code(policy), fmt_rate(rate), f"{speed:.1f}", fmt_ratio(rate_ratio), fmt_ratio(speed_ratio)])
        lines += table(["policy", "allocs/s", "training steps/s", f"allocs/s vs {BASELINE}",
                        f"training speed vs {BASELINE}"], rows)
        r = "n/a (fewer than 3 points)" if comparison.correlation is None else f"{comparison.correlation:.3f}"
        slope = "n/a" if comparison.slope is None else f"{comparison.slope:.3f}"
        lines += [f"Pearson r (log allocs/s, log steps/s) over {len(comparison.points)} policies: {r}; "
                  f"log–log slope: {slope}.", ""]
    return lines


def rate_point_order(point: RatePoint):
    return (point.source, point.family, KNOWN_POLICIES.index(point.policy), point.instance)


def section_gbench(machines: list[Machine]) -> list[str]:
    lines = []
    for machine in machines:
        if not machine.rate_points:
            continue
        rows = [[p.source, p.family, code(p.policy), p.instance, fmt_time_ns(p.real_time_ns), fmt_rate(p.rate)]
                for p in sorted(machine.rate_points, key=rate_point_order)]
        lines += [f"### {machine.name}", ""] + table(["file", "family", "policy", "benchmark", "real time", "allocs/s"], rows)
    if lines:
        lines = ["## Google Benchmark results", "", "Median aggregate per benchmark (mean of iterations when "
                 "no median was recorded).", ""] + lines
    return lines


def section_memory(machines: list[Machine], charts: set[str]) -> list[str]:
    lines = ["## Memory", ""] + image(charts, "memory", "memory") + [
             "Peak RSS of the worker process; bytes and allocation calls requested per training step "
             f"(as counted by the policy). Headline series (topo {headline_topos(machines)}); other shapes "
             "are in *Size axis*.", ""]
    for machine in machines:
        rows = [[code(p), fmt_kib(r.peak_rss_kib), fmt_bytes(r.bytes_per_step), fmt_number(r.allocations_per_step)]
                for p, r in ((p, machine.policies[p]) for p in policy_order(machine.policies))]
        lines += [f"### {machine.name}", ""] + table(["policy", "peak RSS", "bytes/step", "allocations/step"], rows)
    return lines


def size_points(machine: Machine) -> list[tuple[float | None, SizeKey, dict[str, TrainRun]]]:
    """(nodes per step, key, runs) per size-axis shape, smallest graph first (unknown sizes last)."""
    points = [(size_nodes(runs), key, runs) for key, runs in machine.size_runs.items()]
    return sorted(points, key=lambda p: (p[0] is None, p[0] or 0, p[1]))


def size_nodes(runs: dict[str, TrainRun]) -> float | None:
    """Nodes per step of a shape: the same graph for every policy, so the first one recorded."""
    return next((runs[p].nodes_per_step for p in policy_order(runs) if runs[p].nodes_per_step), None)


def size_key_label(key: SizeKey, machine: Machine) -> str:
    shape, topo = key
    several_topos = len({t for _, t in machine.size_runs}) > 1
    return shape_label(shape) + (f" · topo {topo}" if several_topos else "")


def section_size(machines: list[Machine], charts: set[str]) -> list[str]:
    shown = [m for m in machines if m.size_runs]
    lines = ["## Size axis", ""]
    if not shown:
        return lines + ["No size-axis results (other model shapes); scripts/sweep.sh writes them to "
                        "results/sweep/ or results/<machine>/sweep/.", ""]
    lines += image(charts, "size_ns_per_node", "ns per node vs graph size")
    lines += image(charts, "size_rss", "peak RSS vs graph size")
    lines += ["Training runs of other model shapes, and every file under a `sweep/` folder. Cells are "
              "nanoseconds per graph node (median training time / steps / nodes per step) · peak RSS.", ""]
    for machine in shown:
        points = size_points(machine)
        policies = policy_order({p for _, _, runs in points for p in runs})
        rows = []
        for nodes, key, runs in points:
            steps = ", ".join(str(n) for n in sorted({r.steps for r in runs.values()}))
            cells = [size_cell(runs.get(p)) for p in policies]
            rows.append([size_key_label(key, machine), steps, fmt_number(nodes, 0)] + cells)
        lines += [f"### {machine.name}", ""]
        lines += table(["shape", "steps", "nodes/step"] + [code(p) for p in policies], rows)
        lines += [size_divergence(machine, points), ""]
    return lines


def size_cell(run: TrainRun | None) -> str:
    if run is None:
        return "–"
    ns = "–" if run.ns_per_node is None else f"{run.ns_per_node:.1f} ns"
    return f"{ns} · {fmt_kib(run.peak_rss_kib)}"


def ns_ratio(runs: dict[str, TrainRun], slow: str, fast: str) -> float | None:
    a, b = runs.get(slow), runs.get(fast)
    if a is None or b is None or a.ns_per_node is None or b.ns_per_node is None:
        return None
    return a.ns_per_node / b.ns_per_node


def ns_spread(runs: dict[str, TrainRun]) -> float | None:
    """Slowest policy's ns per node over the fastest's."""
    values = [r.ns_per_node for r in runs.values() if r.ns_per_node]
    return max(values) / min(values) if len(values) > 1 else None


def trend(small: float, large: float) -> str:
    if large > small * SAME_RATIO:
        return "diverge"
    if large < small / SAME_RATIO:
        return "converge"
    return "stay about as far apart"


def size_divergence(machine: Machine, points) -> str:
    """One sentence: how far apart the policies are at the smallest and the largest graph."""
    sized = [p for p in points if p[0] is not None]
    if len(sized) < 2:
        return "Fewer than two shapes with a node count, so there is no size trend to describe."
    (small_nodes, small_key, small_runs), (large_nodes, large_key, large_runs) = sized[0], sized[-1]
    where_small = f"({size_key_label(small_key, machine)}, {small_nodes:,.0f} nodes/step)"
    where_large = f"({size_key_label(large_key, machine)}, {large_nodes:,.0f} nodes/step)"
    spread_small, spread_large = ns_spread(small_runs), ns_spread(large_runs)
    spread = ("" if spread_small is None or spread_large is None else
              f"; across all policies the slowest takes {spread_small:.2f}× the fastest's time per node at the "
              f"smallest shape and {spread_large:.2f}× at the largest")
    ratio_small = ns_ratio(small_runs, BASELINE, ZERO_ALLOC_REFERENCE)
    ratio_large = ns_ratio(large_runs, BASELINE, ZERO_ALLOC_REFERENCE)
    if ratio_small is not None and ratio_large is not None:
        return (f"`{BASELINE}` takes {ratio_small:.2f}× `{ZERO_ALLOC_REFERENCE}`'s time per node at the smallest "
                f"shape {where_small} and {ratio_large:.2f}× at the largest {where_large}, so these two "
                f"{trend(ratio_small, ratio_large)} as the graph grows{spread}.")
    if spread:
        return (f"From the smallest shape {where_small} to the largest {where_large} the policies "
                f"{trend(spread_small, spread_large)}{spread}.")
    return "No policy ran at both the smallest and the largest shape, so there is no size trend to describe."


def section_crosslang(machines: list[Machine], charts: set[str]) -> list[str]:
    shown = [m for m in machines if m.runtimes]
    if not shown:
        return ["## Other languages", "", "No cross-language results (cpython, node, deno, bun); "
                "scripts/crosslang.sh writes them to results/crosslang.json.", ""]
    lines = ["## Other languages", ""] + image(charts, "crosslang", "cross-language") + [
             "Runtimes are timed as whole programs (start-up, data loading, training, sampling) by "
             "scripts/crosslang.sh; C++ policies by training time only. Both are divided by the steps run.", ""]
    for machine in shown:
        fastest = min(machine.policies.values(), key=lambda r: r.ms_per_step, default=None)
        rows = []
        for name in runtime_order(machine.runtimes):
            run = machine.runtimes[name]
            slower = f"{run.ms_per_step / fastest.ms_per_step:,.0f}× `{fastest.name}`" if fastest else "–"
            rows.append([code(name), run.description or "–", fmt_seconds(run.median_s), str(run.steps),
                         f"{run.ms_per_step:.3f}", fmt_kib(run.peak_rss_kib), slower, run.reference_match or "–"])
        lines += [f"### {machine.name}", ""]
        lines += table(["runtime", "version", "wall time", "steps", "ms/step", "peak RSS",
                        "time per step vs fastest C++", "output vs reference"], rows)
    return lines


def verdict(share: float) -> str:
    if share >= BOTTLENECK_SHARE:
        return "is the bottleneck"
    if share >= MAJOR_COST_SHARE:
        return "is a large cost but not the bottleneck"
    return "is not the bottleneck"


def topo_phrase(topo: str) -> str:
    return TOPO_PHRASES.get(topo, f"`--topo {topo}`")


def answer_for(machine: Machine, shares: dict[str, dict[str, float]],
               comparison: ThroughputComparison | None) -> str:
    """One paragraph in plain words, built only from this machine's numbers.
    shares: topo -> policy -> alloc share."""
    base = machine.policies.get(BASELINE)
    if base is None:
        return f"On {machine.name} there is no `{BASELINE}` run, so the question cannot be answered here."
    headline = machine.headline_topo
    sentences = []
    share = shares.get(headline, {}).get(BASELINE)
    if share is not None:
        sentences.append(f"Allocation {verdict(share)}: with {topo_phrase(headline)}, allocating and releasing "
                         f"take about {fmt_percent(share)} of a `{BASELINE}` training step "
                         f"(phase split against `{ZERO_ALLOC_REFERENCE}`).")
        largest = max(PHASES, key=lambda phase: base.phases[phase])
        sentences.append(f"The largest phase under `{BASELINE}` is {largest} "
                         f"({fmt_percent(base.phases[largest] / sum(base.phases.values()))} of the step).")
    else:
        missing = (f"an `{ZERO_ALLOC_REFERENCE}` run" if ZERO_ALLOC_REFERENCE not in machine.policies
                   else "a phase split")
        sentences.append(f"Without {missing} the allocation share cannot be measured, so only "
                         "end-to-end times speak here.")
    sentences += policy_saving_sentences(machine, base)
    sentences += other_topo_sentences(machine, shares)
    if comparison is not None:
        sentences += throughput_sentences(comparison)
    return " ".join(sentences)


def other_topo_sentences(machine: Machine, shares: dict[str, dict[str, float]]) -> list[str]:
    """The allocation share of `new` in the backward orders other than the headline's."""
    headline = machine.headline_topo
    base = machine.policies[BASELINE]
    sentences = []
    for topo in topo_order(machine.series):
        share = shares.get(topo, {}).get(BASELINE)
        run = machine.series[topo].get(BASELINE)
        if topo == headline or share is None or run is None:
            continue
        sentence = (f"With {topo_phrase(topo)} the same share is {fmt_percent(share)}, so there allocation "
                    f"{verdict(share)}; `{BASELINE}` trains {fmt_ratio(base.ms_per_step / run.ms_per_step)} "
                    f"as fast as with {headline}")
        arena = machine.series[topo].get(ZERO_ALLOC_REFERENCE)
        if arena is not None:
            saving = 1 - arena.ms_per_step / run.ms_per_step
            sentence += (f", and switching to `{ZERO_ALLOC_REFERENCE}` {'saves' if saving >= 0 else 'costs'} "
                         f"{fmt_percent(abs(saving))}")
        sentences.append(sentence + ".")
    return sentences


def policy_saving_sentences(machine: Machine, base: TrainRun) -> list[str]:
    sentences = []
    others = [machine.policies[p] for p in policy_order(machine.policies) if p != BASELINE]
    if ZERO_ALLOC_REFERENCE in machine.policies:
        arena = machine.policies[ZERO_ALLOC_REFERENCE]
        saving = 1 - arena.ms_per_step / base.ms_per_step
        sentences.append(f"Switching from `{BASELINE}` to `{ZERO_ALLOC_REFERENCE}` "
                         f"{'saves' if saving >= 0 else 'costs'} {fmt_percent(abs(saving))} of the training time "
                         f"with {machine.headline_topo} "
                         f"({base.ms_per_step:.3f} → {arena.ms_per_step:.3f} ms per step, medians).")
    if others:
        best = min(others, key=lambda r: r.ms_per_step)
        if best.name != ZERO_ALLOC_REFERENCE:
            sentences.append(f"The fastest policy, `{best.name}`, saves "
                             f"{fmt_percent(1 - best.ms_per_step / base.ms_per_step)}.")
    return sentences


def throughput_sentences(comparison: ThroughputComparison) -> list[str]:
    sentences = []
    rate_of = {p: x for p, x, _ in comparison.points}
    speed_of = {p: y for p, _, y in comparison.points}
    if BASELINE in rate_of and len(rate_of) > 1:
        fastest = max((p for p in rate_of if p != BASELINE), key=lambda p: rate_of[p])
        rate_ratio = rate_of[fastest] / rate_of[BASELINE]
        speed_ratio = speed_of[fastest] / speed_of[BASELINE]
        conjunction = "yet" if math.log(rate_ratio) > 2 * math.log(max(speed_ratio, 1e-9)) else "and"
        sentences.append(f"In the `{comparison.family}` microbenchmark `{fastest}` allocates "
                         f"{fmt_ratio(rate_ratio)} as fast as `{BASELINE}`, "
                         f"{conjunction} trains {fmt_ratio(speed_ratio)} as fast.")
    if comparison.slope is not None:
        sentences.append(f"Across policies, a 10× faster allocator goes with {10 ** comparison.slope:.2f}× the "
                         f"training speed (log–log slope {comparison.slope:.2f}"
                         + (f", r = {comparison.correlation:.2f}" if comparison.correlation is not None else "")
                         + f"); {throughput_verdict(comparison)}.")
    return sentences


def throughput_verdict(comparison: ThroughputComparison) -> str:
    ranks_agree = comparison.correlation is not None and comparison.correlation >= RANKING_AGREES_R
    proportional = comparison.slope >= PROPORTIONAL_SLOPE
    if ranks_agree and proportional:
        return "allocation throughput largely explains training speed"
    if ranks_agree:
        return ("faster allocators do train faster, but far less than in proportion, so allocation "
                "throughput does not explain training speed")
    return "allocation throughput does not explain training speed"


Shares = dict[str, dict[str, dict[str, float]]]  # machine -> topo -> policy -> share


def series_shares(runs: dict[str, TrainRun]) -> dict[str, float] | None:
    """alloc_share per policy of one series, or None without an arena run with phases."""
    reference = runs.get(ZERO_ALLOC_REFERENCE)
    if reference is None or reference.phases is None:
        return None
    shares = {}
    for policy in policy_order(runs):
        share = alloc_share(runs[policy], reference)
        if share is not None:
            shares[policy] = share
    return shares


def compute_shares(machines: list[Machine]) -> Shares:
    shares = {}
    for machine in machines:
        by_topo = {topo: found for topo in topo_order(machine.series)
                   if (found := series_shares(machine.series[topo])) is not None}
        if by_topo:
            shares[machine.name] = by_topo
    return shares


def render_report(results: Results, comparisons: dict[str, ThroughputComparison], charts: set[str]) -> str:
    machines = [m for m in results.machines.values()]
    with_policies = [m for m in machines if m.policies]
    shares = compute_shares(with_policies)
    lines = ["# microgpt-alloc: is allocation the bottleneck?", "",
             f"Generated by `scripts/compare.py` from {len(results.files_used)} file(s); "
             f"machines: {', '.join(m.name for m in machines)}.", ""]
    lines += section_context(machines)
    if with_policies:
        lines += section_training(with_policies, charts)
        lines += section_backward_order(with_policies)
    if any(m.series or m.engines for m in machines):
        lines += section_modes(machines)
    if with_policies:
        lines += section_phases(with_policies, charts)
        lines += section_alloc_share(with_policies, shares)
    lines += section_throughput(with_policies, comparisons, charts)
    lines += section_gbench(machines)
    if with_policies:
        lines += section_memory(with_policies, charts)
    lines += section_size(machines, charts)
    lines += section_crosslang(machines, charts)
    if results.skipped:
        lines += ["## Skipped files", ""] + [f"- {message}" for message in results.skipped] + [""]
    lines += ["## Answer", ""]
    if not with_policies:
        lines += ["No bench_train results, so there is no training time to answer the question with.", ""]
    for machine in with_policies:
        prefix = f"**{machine.name}.** " if len(with_policies) > 1 else ""
        lines += [prefix + answer_for(machine, shares.get(machine.name, {}), comparisons.get(machine.name)), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------
# Writing without half-written files
# ---------------------------------------------------------------------------


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


def write_outputs(out_dir: Path, report: str, images: dict[str, bytes]) -> None:
    charts_dir = out_dir / "charts"
    charts_dir.mkdir(parents=True, exist_ok=True)
    for key, png in images.items():
        write_atomically(charts_dir / CHART_FILES[key], lambda f, png=png: f.write(png))
    # The report last: it only ever points at charts that are already in place.
    write_atomically(out_dir / "REPORT.md", lambda f: f.write(report.encode("utf-8")))
    for key, name in CHART_FILES.items():  # a chart this run did not draw would describe old data
        if key not in images:
            with contextlib.suppress(FileNotFoundError):
                (charts_dir / name).unlink()


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Merge microgpt-alloc results (bench_train --json, Google Benchmark JSON, "
                    "scripts/crosslang.sh output, callgrind summaries) into REPORT.md and PNG charts "
                    "that answer: is allocation the bottleneck of microgpt's training?",
        epilog=(
            "Every *.json under --results is read (recursively) and classified by content.\n"
            "A file anywhere below results/<machine>/ (also results/<machine>/gbench/ or .../sweep/)\n"
            "belongs to <machine>; files directly under results/ or under results/{gbench,charts,\n"
            "callgrind,crosslang,sweep}/ belong to the host in their context.\n"
            "Training runs of the default shape (n_embd 16, n_head 4, n_layer 1, block_size 16) form one\n"
            "series per --topo (headline: dfs); other shapes and files under sweep/ form the size axis.\n"
            "Runs of config \"engine\": \"tape\" are no policy: they appear only in the Modes table\n"
            "(a config without \"engine\" ran the graph); unknown engines are skipped with a warning.\n"
            "Unusable files are skipped with a one-line warning naming them.\n\n"
            "Writes OUT/REPORT.md and OUT/charts/{" + ",".join(CHART_FILES.values()) + "},\n"
            "each through a temporary file and a rename, so a failed run leaves the old files intact.\n\n"
            + CALLGRIND_HELP + "\n\n"
            "Exit status: 0 report written; 2 bad arguments, nothing usable, or the report could not be written."
        ),
    )
    parser.add_argument("--results", type=Path, default=REPO_DIR / "results", metavar="DIR",
                        help="directory to read results from (default: the repository's results/)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="directory for REPORT.md and charts/ (default: the --results directory)")
    return parser.parse_args(argv)


def run(argv) -> int:
    args = parse_arguments(argv)
    results_dir = args.results
    out_dir = args.out or results_dir
    if not results_dir.is_dir():
        raise UsageError(f"results directory {results_dir} does not exist")
    results = load_results(results_dir)
    if not results.machines:
        raise UsageError(f"no usable results under {results_dir} (see the warnings above); nothing written")
    machines = list(results.machines.values())
    comparisons = {m.name: c for m in machines if m.policies and (c := throughput_comparison(m)) is not None}
    images = render_charts(results, comparisons)
    report = render_report(results, comparisons, set(images))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_outputs(out_dir, report, images)
    except OSError as error:
        raise UsageError(f"cannot write the report to {out_dir}: {error}") from None
    print(f"{PROGRAM}: wrote {out_dir / 'REPORT.md'} and {len(images)} chart(s) in {out_dir / 'charts'}")
    return 0


def main(argv=None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
