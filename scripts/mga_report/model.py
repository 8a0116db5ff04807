"""The data the report is made from. Nothing here names an allocation policy: what part a
policy plays comes from the "traits" object bench_train records with each run (`Roles`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

PHASES = ("forward", "backward", "adam", "release")
SHAPE_KEYS = ("n_embd", "n_head", "n_layer", "block_size")
DEFAULT_SHAPE = (16, 4, 1, 16)  # microgpt.py's; runs of other shapes form the size axis
DEFAULT_TOPO = "dfs"  # bench_train --topo: microgpt.py's order
TOPO_ORDER = ("dfs", "creation", "hashset")
GRAPH_ENGINE, FAST_TAPE, EXACT_TAPE = "graph", "tape", "tape-exact"  # bench_train --engine
ENGINE_ORDER = (GRAPH_ENGINE, FAST_TAPE, EXACT_TAPE)
RELEASES = ("inline", "background")  # bench_train --release: who frees a step's nodes
DEFAULT_MALLOC = "glibc"  # bench_train --malloc; the headline series hold glibc runs only
NOISY_CV = 0.05  # cells whose coefficient of variation is above this are flagged


@dataclass(frozen=True)
class Repetition:
    seconds: float
    steps: int
    phases: dict | None  # seconds per phase
    output_hash: str | None  # FNV-1a 64 of what the run printed
    flags: tuple | None = None  # bench_train's noise flags, one sentence each; None: not recorded


@dataclass
class TrainRun:
    """One run of a bench_train file: a policy (or a tape engine) under one config."""

    name: str
    reps: tuple
    median_s: float
    min_s: float
    max_s: float
    cv: float | None
    repetitions: int
    steps: int
    phases: dict | None  # the median repetition's
    allocations_per_step: float | None
    bytes_per_step: float | None
    peak_rss_kib: float | None
    nodes_per_step: float | None
    source: str
    date: str
    traits: dict  # the run's own "traits" object: name -> bool
    topo: str = DEFAULT_TOPO
    shape: tuple = DEFAULT_SHAPE
    engine: str = GRAPH_ENGINE
    malloc: str = DEFAULT_MALLOC
    output_config: tuple = ()
    threads: int = 1  # the thread axis (bench_train --threads, --release)
    release: str = "inline"
    oversubscribed: bool = False
    malloc_library: str = ""  # the file malloc resolved into
    malloc_sha256: str | None = ""  # of that file; None: recorded as null (not preloaded); "": not recorded
    malloc_source: str = ""  # "builtin" or "user" (--malloc NAME=PATH, --malloc-file); "" when not recorded
    repeat_outcome: str = ""  # with --repeat auto, the sentence saying how the rounds ended

    @property
    def cell(self) -> str:
        """What tells the run from the policy's other runs: 'glibc, topo dfs', and where they are not the
        default, threads and release, and the shape."""
        parts = [self.malloc, f"engine {self.engine}" if self.engine != GRAPH_ENGINE else f"topo {self.topo}"]
        if self.threads > 1 or self.release != "inline":
            parts.append(f"{self.threads} thread{'s' * (self.threads > 1)}, release {self.release}")
        if self.shape != DEFAULT_SHAPE:
            parts.append(" ".join(f"{k} {v}" for k, v in zip(SHAPE_KEYS, self.shape)))
        return ", ".join(parts)

    @property
    def flagged(self) -> list:
        """(round, flags) of every repetition that carries noise flags, rounds counted from 1."""
        return [(index, r.flags) for index, r in enumerate(self.reps, start=1) if r.flags]

    @property
    def noise_recorded(self) -> bool:
        return any(r.flags is not None for r in self.reps)

    @property
    def ms_per_step(self) -> float:
        return 1000 * self.median_s / self.steps

    @property
    def ns_per_node(self) -> float | None:
        return 1e9 * self.median_s / self.steps / self.nodes_per_step if self.nodes_per_step else None

    @property
    def seconds_per_step(self) -> list:
        """Every repetition's time per step; the median's alone when none was recorded."""
        return [r.seconds / r.steps for r in self.reps] or [self.median_s / self.steps]

    @property
    def noisy(self) -> bool:
        return self.cv is not None and self.cv > NOISY_CV

    @property
    def hashes(self) -> list:
        return [r.output_hash for r in self.reps if r.output_hash is not None]


@dataclass
class RatePoint:
    """One Google Benchmark instance: its median and, where recorded, its spread."""

    source: str  # file stem, e.g. bench_alloc
    family: str  # chain, train_step, ...
    policy: str
    instance: str
    real_time_ns: float
    rate: float | None  # allocations per second
    samples: tuple = ()  # per repetition, when the file has iteration rows
    mean: float | None = None
    stddev: float | None = None
    repetitions: int = 1
    cv: float | None = None

    @property
    def noisy(self) -> bool:
        return self.cv is not None and self.cv > NOISY_CV


@dataclass
class Summary:
    """{"median","min","max","mean","stddev","cv","repetitions"} of crosslang.json."""

    median: float
    min: float
    max: float
    mean: float | None
    stddev: float | None
    cv: float | None
    count: int

    @property
    def noisy(self) -> bool:
        return self.cv is not None and self.cv > NOISY_CV


@dataclass
class RuntimeRun:
    """One runtime's training runs of scripts/crosslang.py (microgpt.py or microgpt.ts)."""

    runtime: str
    version: str
    program: str
    timing: str
    seconds: tuple  # of the repetitions whose output was identical
    steps: int
    summary: Summary | None  # None when no repetition printed the reference's bytes
    peak_rss_kib: float | None
    repetitions: int
    differing: int


@dataclass
class ChainRun:
    runtime: str
    version: str
    objects_per_alloc: str
    rates: tuple
    summary: Summary


@dataclass
class Crosslang:
    source: str
    runs: dict  # runtime -> RuntimeRun, in the file's order
    chain: dict  # runtime -> ChainRun


@dataclass
class PeerProgram:
    name: str
    ours: bool
    flags: str
    values: tuple  # seconds per repetition, in round-robin order
    median: float
    cv: float | None


@dataclass
class TapePeers:
    source: str
    context: dict
    peer: dict
    programs: list
    steps: object


class Counts(NamedTuple):
    """Per graph node: instructions, L1 data misses (reads + writes), last-level data misses."""

    instructions: float
    d1_misses: float
    ll_misses: float


@dataclass
class CacheRun:
    name: str
    nodes_per_step: float
    total: Counts
    phases: dict  # phase -> Counts
    allocator: Counts  # inside the allocator's functions


@dataclass
class CacheSeries:
    """One cache-simulation file: one shape and backward order."""

    source: str
    shape: tuple
    topo: str
    steps: int
    runs: dict  # policy -> CacheRun
    date: str


@dataclass
class Machine:
    name: str
    contexts: list = field(default_factory=list)  # (source, context)
    configs: list = field(default_factory=list)  # (source, config) of default-shape training files
    series: dict = field(default_factory=dict)  # topo -> policy -> TrainRun (default shape, glibc)
    size_runs: dict = field(default_factory=dict)  # (shape, topo) -> policy -> TrainRun
    engines: dict = field(default_factory=dict)  # tape engine -> TrainRun
    matrix: dict = field(default_factory=dict)  # topo -> malloc -> policy -> TrainRun (--malloc=all files)
    thread_runs: list = field(default_factory=list)  # TrainRun of the thread axis
    all_runs: list = field(default_factory=list)  # every run read, for the exactness check
    rate_points: list = field(default_factory=list)
    callgrind: dict = field(default_factory=dict)  # policy -> (source, {key: value})
    cachesim: dict = field(default_factory=dict)  # (shape, topo) -> CacheSeries
    crosslang: Crosslang | None = None
    peers: TapePeers | None = None

    @property
    def headline_topo(self) -> str | None:
        """dfs when it ran, else the order with the most policies."""
        if DEFAULT_TOPO in self.series:
            return DEFAULT_TOPO
        return max(topo_order(self.series), key=lambda t: len(self.series[t]), default=None)

    @property
    def policies(self) -> dict:
        return self.series.get(self.headline_topo, {})


@dataclass
class Results:
    machines: dict  # name -> Machine
    files_used: list
    skipped: list
    policy_order: list  # in the order of the runs in bench_train's files

    def order(self, names) -> list:
        names = set(names)
        known = [p for p in self.policy_order if p in names]
        return known + sorted(names - set(known))


def topo_order(names) -> list:
    return [t for t in TOPO_ORDER if t in names] + sorted(n for n in names if n not in TOPO_ORDER)


@dataclass
class Roles:
    """Which policy plays which part, from the traits the runs recorded."""

    traits: dict  # policy -> {trait: bool}, in run order
    baseline: str | None  # every 'vs' ratio divides by it
    reference: str | None  # the no-alloc reference: (almost) no allocator work
    problems: list

    def having(self, trait: str) -> list:
        return [p for p, t in self.traits.items() if t.get(trait)]

    def has(self, policy: str, trait: str) -> bool:
        return bool(self.traits.get(policy, {}).get(trait))

    def describe(self, policy: str) -> str:
        words = {"baseline": "baseline", "no_alloc_reference": "no-alloc reference",
                 "reference_counted": "reference-counted", "control": "control",
                 "standard_library": "standard library", "hand_written": "hand-written"}
        return ", ".join(w for t, w in words.items() if self.has(policy, t)) or "–"


def machine_roles(machine: Machine, order) -> Roles:
    """Roles from the traits of every graph run of the machine (any order, shape or malloc)."""
    traits = {}
    runs = [r for s in (*machine.series.values(), *machine.size_runs.values()) for r in s.values()]
    runs += [r for by_malloc in machine.matrix.values() for cells in by_malloc.values() for r in cells.values()]
    for run in runs:
        traits.setdefault(run.name, run.traits)
    traits = {p: traits[p] for p in order(traits)}
    problems = []

    def single(trait: str) -> str | None:
        names = [p for p, t in traits.items() if t.get(trait)]
        if len(names) != 1:
            problems.append(f"{len(names)} runs are marked {trait}" + (f" ({', '.join(names)})" if names else ""))
        return names[0] if len(names) == 1 else None

    return Roles(traits, single("baseline"), single("no_alloc_reference"), problems)
