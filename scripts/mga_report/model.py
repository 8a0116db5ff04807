"""The data the report is made from: training runs, benchmark points, runtimes, machines.

Nothing here names an allocation policy. A policy's role (the baseline every ratio
divides by, the reference with no allocator work, ...) comes from the `traits`
object bench_train records for each run; see `Roles`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PHASES = ("forward", "backward", "adam", "release")
# The model shape of microgpt.py; training runs of another shape form the size axis.
SHAPE_KEYS = ("n_embd", "n_head", "n_layer", "block_size")
DEFAULT_SHAPE = (16, 4, 1, 16)
# Backward orders (bench_train --topo). A config without "topo" ran the default, dfs.
DEFAULT_TOPO = "dfs"
TOPO_ORDER = ("dfs", "creation", "hashset")
# bench_train --engine. A config without "engine" ran the node graph, the engine the
# policies measure; every other engine is kept out of the policy series.
GRAPH_ENGINE = "graph"
# tape: fused ops on flat buffers, forward bit-exact, backward in its own order;
# tape-exact: the same without nodes and with the node graph's bits (the ceiling).
EXACT_TAPE_ENGINE = "tape-exact"
ENGINE_ORDER = ("graph", "tape", EXACT_TAPE_ENGINE)
# The process-wide allocator (bench_train --malloc). Absent means glibc. The headline
# series hold glibc runs only; runs of files that ran another one form the matrix.
DEFAULT_MALLOC = "glibc"
# Cells whose coefficient of variation is above this are flagged, with advice to re-run.
NOISY_CV = 0.05


@dataclass(frozen=True)
class Traits:
    """What bench_train says about a policy (the run's "traits" object)."""

    baseline: bool = False  # the plain program every 'vs' ratio divides by; exactly one
    no_alloc_reference: bool = False  # forward/release carry (almost) no allocator work; exactly one
    frees_per_node: bool = False
    reference_counted: bool = False  # its cost is reference counting; left out of the robust figures
    thread_safe: bool = False
    cross_thread_release: bool = False  # its nodes can be freed on another thread (--release=background)
    control: bool = False  # a layout control, not a strategy a user picks
    scattered: bool = False  # the control that scatters the reference's nodes (the price of layout)
    compact: bool = False  # the control with smaller nodes and 32-bit handles
    # Which policies are the standard library's (std::pmr) and which are this project's own
    # allocators, so the practical answer can pair them (with the same frees_per_node)
    # without names.
    standard_library: bool = False
    hand_written: bool = False
    recorded: frozenset = field(default=frozenset(), compare=False)  # the names the run recorded

    NAMES = ("baseline", "no_alloc_reference", "frees_per_node", "reference_counted", "thread_safe",
             "cross_thread_release", "control", "scattered", "compact", "standard_library", "hand_written")
    KINDS = ("standard_library", "hand_written")


@dataclass(frozen=True)
class Repetition:
    seconds: float
    steps: int
    phases: dict | None  # seconds per phase, None when not measured
    output_hash: str | None  # FNV-1a 64 of what the run printed, as recorded


@dataclass
class TrainRun:
    """One run entry of a bench_train file: a policy (or the tape engine) under one config."""

    name: str
    description: str
    reps: tuple[Repetition, ...]
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
    source: str
    date: str
    topo: str = DEFAULT_TOPO
    shape: tuple = DEFAULT_SHAPE
    nodes_per_step: float | None = None  # tape ops per step for the tape engine
    engine: str = GRAPH_ENGINE
    traits: Traits | None = None  # None: the file predates traits
    malloc: str = DEFAULT_MALLOC
    output_config: tuple = ()  # what determines the printed output; see exactness.output_config

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

    @property
    def seconds_per_step(self) -> list[float]:
        """Every timed repetition's time per step; the median's alone when none was recorded."""
        values = [r.seconds / r.steps for r in self.reps]
        return values or [self.median_s / self.steps]

    @property
    def noisy(self) -> bool:
        return self.cv is not None and self.cv > NOISY_CV

    @property
    def hashes(self) -> list[str]:
        return [r.output_hash for r in self.reps if r.output_hash is not None]


@dataclass
class ThreadRun:
    """A run of bench_train's thread axis (--threads, --release): `threads` replicas trained at once in
    one process, their nodes freed inline or on a release thread each. `train.median_s` is the wall time
    from the first replica's training loop starting to the last one's ending."""

    train: TrainRun
    threads: int
    release: str  # "inline" or "background"
    oversubscribed: bool  # more threads (replicas, and release threads) than cores
    replica_seconds: tuple[float, ...]  # the median repetition's replicas, each its own loop

    @property
    def name(self) -> str:
        return self.train.name

    @property
    def steps_per_second(self) -> float:
        """All replicas' steps per second of wall time (the median repetition)."""
        return self.threads * self.train.steps / self.train.median_s


@dataclass
class RatePoint:
    """One Google Benchmark instance: its median and, where recorded, its spread."""

    source: str  # file stem, e.g. bench_alloc
    family: str  # chain, step_graph, churn, ...
    policy: str
    instance: str
    real_time_ns: float
    rate: float | None  # allocations per second (median)
    rate_counter: str | None
    rate_samples: tuple[float, ...] = ()  # per repetition, when the file has iteration rows
    rate_mean: float | None = None
    rate_stddev: float | None = None
    repetitions: int = 1
    cv: float | None = None  # of the rate (or of the time when no rate)

    @property
    def noisy(self) -> bool:
        return self.cv is not None and self.cv > NOISY_CV


@dataclass
class Summary:
    """A crosslang.json {"median","min","max","mean","stddev","cv","repetitions"} object."""

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
    description: str
    program: str
    timing: str
    output: str  # "identical" or "differs", over all repetitions
    seconds: tuple[float, ...]  # train_seconds of the repetitions whose output was identical
    steps: int
    summary: Summary | None  # over identical repetitions only; None when there is none
    peak_rss_kib: float | None
    repetitions: int  # all repetitions, identical or not
    differing: int  # repetitions whose output differed from the reference

    @property
    def timed(self) -> bool:
        return self.output == "identical" and self.summary is not None


@dataclass
class ChainRun:
    """One runtime's chain microbenchmark (bench-alloc.ts, chain.py)."""

    runtime: str
    version: str
    program: str
    objects_per_alloc: str
    rates: tuple[float, ...]
    summary: Summary


@dataclass
class Crosslang:
    source: str
    context: dict
    config: dict
    programs: list[dict]
    runs: dict[str, RuntimeRun]  # runtime -> run, in the file's order
    chain: dict[str, ChainRun]


SizeKey = tuple  # (shape, topo)


@dataclass
class Machine:
    name: str
    contexts: list = field(default_factory=list)  # (source, context)
    configs: list = field(default_factory=list)  # (source, config) of default-shape training files
    series: dict = field(default_factory=dict)  # topo -> policy -> TrainRun (default shape, glibc)
    size_runs: dict = field(default_factory=dict)  # (shape, topo) -> policy -> TrainRun
    size_sources: list = field(default_factory=list)  # (source, context) of size-axis files
    engines: dict = field(default_factory=dict)  # non-graph engine -> TrainRun (default shape)
    # Default-shape graph runs of files that ran another process allocator (the malloc axis):
    # topo -> malloc -> policy -> TrainRun. Their glibc runs are here, not in `series`.
    matrix: dict = field(default_factory=dict)
    series_from_matrix: set = field(default_factory=set)  # topos whose series are the matrix's glibc runs
    other_malloc: list = field(default_factory=list)  # runs under another malloc that no table shows
    thread_runs: list = field(default_factory=list)  # ThreadRun: the thread axis (any malloc)
    all_runs: list = field(default_factory=list)  # every run read, for the exactness check
    rate_points: list = field(default_factory=list)
    callgrind: dict = field(default_factory=dict)  # policy -> (source, {key: value})
    cachesim: dict = field(default_factory=dict)  # (shape, topo) -> cachesim.CacheSeries
    crosslang: Crosslang | None = None
    peers: object = None  # peers.TapePeers of tape_vs_peers.json, if any

    @property
    def headline_topo(self) -> str | None:
        """topo dfs when present, else the series with the most policies."""
        if DEFAULT_TOPO in self.series:
            return DEFAULT_TOPO
        ordered = topo_order(self.series)
        return max(ordered, key=lambda t: (len(self.series[t]), -ordered.index(t)), default=None)

    @property
    def policies(self) -> dict:
        """The headline series: default shape, headline topo, glibc."""
        topo = self.headline_topo
        return self.series[topo] if topo is not None else {}


@dataclass
class Results:
    machines: dict  # name -> Machine
    files_used: list
    skipped: list  # the warnings, repeated in the report
    policy_order: list  # policies in the order bench_train's files list them

    def order(self, names) -> list:
        """names in the order of the runs in bench_train's files; unknown names after, sorted."""
        names = set(names)
        known = [p for p in self.policy_order if p in names]
        return known + sorted(names - set(known))


def topo_order(names) -> list:
    known = [t for t in TOPO_ORDER if t in names]
    return known + sorted(n for n in names if n not in TOPO_ORDER)


def engine_order(names) -> list:
    known = [e for e in ENGINE_ORDER if e in names]
    return known + sorted(n for n in names if n not in ENGINE_ORDER)


@dataclass
class Roles:
    """Which policy plays which part, from the runs' traits. A role is None when no run
    claims it, when more than one does (`problems` says which), or when the results
    predate traits (`known` is False)."""

    known: bool = False
    baseline: str | None = None
    no_alloc_reference: str | None = None
    reference_counted: tuple = ()
    controls: tuple = ()
    problems: tuple = ()
    traits: dict = field(default_factory=dict)  # policy -> Traits

    @property
    def kinds_known(self) -> bool:
        """Whether the runs record which policies are the standard library's and which hand-written."""
        return any(set(Traits.KINDS) <= t.recorded for t in self.traits.values())


def machine_roles(machine: Machine, order) -> Roles:
    """Roles from the traits of every graph run of the machine (any topo, shape or malloc)."""
    traits: dict[str, Traits] = {}
    without: set[str] = set()
    runs = [r for series in machine.series.values() for r in series.values()]
    runs += [r for series in machine.size_runs.values() for r in series.values()]
    runs += [r for by_malloc in machine.matrix.values() for cells in by_malloc.values() for r in cells.values()]
    for run in runs:
        if run.traits is None:
            without.add(run.name)
        else:
            traits.setdefault(run.name, run.traits)
    if not traits:
        return Roles()
    problems = []
    if without - set(traits):
        problems.append("no traits recorded for " + ", ".join(f"`{n}`" for n in order(without - set(traits))))

    def single(role: str) -> str | None:
        names = [n for n in order(traits) if getattr(traits[n], role)]
        if len(names) == 1:
            return names[0]
        label = role.replace("_", " ")
        problems.append(f"no run is marked {label}" if not names else
                        f"{len(names)} runs are marked {label} ({', '.join(names)}), so none is used")
        return None

    baseline, reference = single("baseline"), single("no_alloc_reference")
    return Roles(known=True, baseline=baseline, no_alloc_reference=reference,
                 reference_counted=tuple(n for n in order(traits) if traits[n].reference_counted),
                 controls=tuple(n for n in order(traits) if traits[n].control),
                 problems=tuple(problems), traits={n: traits[n] for n in order(traits)})
