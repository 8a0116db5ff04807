"""Reading a results directory: every *.json, classified by its "tool" and "schema" (or a
Google Benchmark "benchmarks" list), and callgrind_<policy>.txt summaries, per machine.

A file below results/<machine>/ belongs to <machine>. When --results itself holds
bench_train files, it is one machine's directory, named after it."""

from __future__ import annotations

from pathlib import Path

from . import stats
from .exactness import output_config
from .files import BadFile, as_dict, as_float, as_list, positive, read_capped, read_json, text, warn
from .model import (DEFAULT_MALLOC, DEFAULT_SHAPE, DEFAULT_TOPO, ENGINE_ORDER, GRAPH_ENGINE, PHASES, RELEASES,
                    SHAPE_KEYS, CacheRun, CacheSeries, ChainRun, Counts, Crosslang, Machine, PeerProgram, RatePoint,
                    Repetition, Results, RuntimeRun, Summary, TapePeers, TrainRun)

SCHEMAS = {"bench_train": 1, "crosslang": 2, "cachesim": 1, "bench_tape_peers.sh": 1}  # what each tool writes
SIZE_AXIS_DIR = "sweep"  # training files below a folder of this name form the size axis
RATE_COUNTER = "allocs/s"
TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def classify(data) -> str:
    if not isinstance(data, dict):
        raise BadFile("not a results file (top level is not an object)")
    tool = data.get("tool")
    if tool in SCHEMAS:
        schema = data.get("schema")
        if schema != SCHEMAS[tool] or isinstance(schema, bool):
            raise BadFile(f"{tool} schema {schema!r} is not read (this compare.py reads schema {SCHEMAS[tool]})")
        return tool
    if isinstance(data.get("benchmarks"), list):
        return "gbench"
    raise BadFile(f"not a results file (no \"tool\" of {', '.join(SCHEMAS)}, no \"benchmarks\" list)")


# ---- bench_train --------------------------------------------------------------------------


def config_shape(config: dict) -> tuple:
    return tuple(int(config[k]) if as_float(config.get(k)) else d for k, d in zip(SHAPE_KEYS, DEFAULT_SHAPE))


def config_topo(config: dict) -> str:
    return text(config, "topo") or DEFAULT_TOPO


def parse_phases(repetition: dict) -> dict | None:
    phases = as_dict(repetition.get("phases_seconds"))
    values = {name: as_float(phases.get(name)) for name in PHASES}
    if any(v is None or v < 0 for v in values.values()) or sum(values.values()) <= 0:
        return None
    return values


def parse_traits(run: dict, name: str) -> dict:
    traits = run.get("traits")
    if not isinstance(traits, dict) or not traits or not all(isinstance(v, bool) for v in traits.values()):
        raise BadFile(f"run '{name}' has no \"traits\" object of true/false values")
    return traits


def parse_repetition(data, steps) -> Repetition | None:
    seconds, steps = positive(data, "train_seconds"), as_dict(data).get("steps", steps)
    if seconds is None or not as_float(steps) or steps <= 0:
        return None
    output, noise, flags = data.get("output_fnv1a64"), data.get("noise"), None
    if isinstance(noise, dict):  # files before issue 23 have none: not recorded, not noise-free
        flags = tuple(f for f in as_list(noise.get("flags")) if isinstance(f, str) and f)
    return Repetition(seconds, int(steps), parse_phases(data), output if isinstance(output, str) else None, flags)


def parse_train_run(run, config: dict, source: str, date: str) -> TrainRun:
    name = text(run, "allocator")
    if not name:
        raise BadFile("a run has no 'allocator' name")
    traits = parse_traits(run, name)
    timed = [r for r in as_list(run.get("repetitions")) if positive(r, "train_seconds")]
    ordered = sorted(timed, key=lambda r: r["train_seconds"])
    detail = ordered[(len(ordered) - 1) // 2] if timed else {}  # the repetition bench_train's table shows
    steps = detail.get("steps", config.get("steps"))
    summary = as_dict(run.get("train_seconds"))
    median = positive(summary, "median")
    if median is None or not as_float(steps) or steps <= 0:
        raise BadFile(f"run '{name}': no 'train_seconds' median or no positive 'steps'")
    reps = tuple(r for r in (parse_repetition(d, steps) for d in timed) if r)
    malloc = run.get("malloc", config.get("malloc", DEFAULT_MALLOC))
    threads, release = run.get("threads", 1), run.get("release", "inline")
    if not isinstance(malloc, str) or not malloc or release not in RELEASES or not (
            isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1):
        raise BadFile(f"run '{name}': 'malloc', 'threads' or 'release' is not what bench_train writes")
    cv = as_float(summary.get("cv"))
    return TrainRun(
        name=name, reps=reps, median_s=median, min_s=min(positive(summary, "min") or median, median),
        max_s=max(positive(summary, "max") or median, median),
        cv=cv if cv is not None else stats.cv([r.seconds for r in reps]),
        repetitions=int(positive(summary, "repetitions") or len(reps) or 1), steps=int(steps),
        phases=parse_phases(detail), allocations_per_step=as_float(detail.get("allocations_per_step")),
        bytes_per_step=as_float(detail.get("bytes_per_step")), peak_rss_kib=as_float(detail.get("peak_rss_kib")),
        nodes_per_step=positive(detail, "nodes_per_step"), source=source, date=date, traits=traits,
        topo=config_topo(config), shape=config_shape(config), engine=config.get("engine", GRAPH_ENGINE),
        malloc=malloc, output_config=output_config(config, int(steps)), threads=threads, release=release,
        oversubscribed=run.get("oversubscribed") is True, malloc_library=text(run, "malloc_library"),
        malloc_sha256=None if run.get("malloc_sha256", "") is None else text(run, "malloc_sha256"),
        malloc_source=text(run, "malloc_source"),
        repeat_outcome=repeat_outcome(config))


def repeat_outcome(config: dict) -> str:
    """With --repeat auto, bench_train's sentence on how the rounds ended."""
    if config.get("repeat_mode") != "auto":
        return ""
    return text(config, "repeat_outcome_text") or f"--repeat auto ended: {text(config, 'repeat_outcome') or '?'}"


def put_run(table: dict, run: TrainRun, machine: Machine, where: str) -> None:
    """The same policy twice in one table keeps the newer file's run."""
    previous = table.get(run.name)
    if previous is not None:
        keep = run if run.date >= previous.date else previous
        warn(f"'{run.name}' ({where}) on {machine.name} appears in {previous.source} and {run.source}; "
             f"using {keep.source} (newer date)")
        run = keep
    table[run.name] = run


def add_train_file(machine: Machine, data: dict, source: str, size_axis: bool, order: list) -> None:
    context, config = as_dict(data.get("context")), as_dict(data.get("config"))
    engine = config.get("engine", GRAPH_ENGINE)
    if engine not in ENGINE_ORDER:
        raise BadFile(f"unknown engine {engine!r} (known: {', '.join(ENGINE_ORDER)})")
    size_axis = size_axis or config_shape(config) != DEFAULT_SHAPE
    if engine != GRAPH_ENGINE and size_axis:
        raise BadFile(f"engine '{engine}' on the size axis: only default-shape runs of it are compared")
    runs = []
    for entry in as_list(data.get("runs")):
        try:
            runs.append(parse_train_run(entry, config, source, text(context, "date")))
        except BadFile as error:
            warn(f"{source}: skipping {error}")
    if not runs:
        raise BadFile("no usable run" if data.get("runs") else "no 'runs' list")
    thread_axis = config.get("thread_axis") is True
    matrix = (engine == GRAPH_ENGINE and not size_axis and not thread_axis
              and (config.get("malloc") == "all" or any(r.malloc != DEFAULT_MALLOC for r in runs)))
    machine.contexts.append((source, context))
    if not size_axis and not thread_axis:
        machine.configs.append((source, config))
    for run in runs:
        machine.all_runs.append(run)
        if engine == GRAPH_ENGINE and run.name not in order:
            order.append(run.name)
        if thread_axis:
            machine.thread_runs.append(run)
        elif matrix:
            put_run(machine.matrix.setdefault(run.topo, {}).setdefault(run.malloc, {}), run, machine,
                    f"topo {run.topo}, malloc {run.malloc}")
        elif run.malloc != DEFAULT_MALLOC:
            warn(f"{source}: run '{run.name}' under malloc {run.malloc} outside a --malloc=all file is not shown")
        elif engine != GRAPH_ENGINE:
            put_run(machine.engines, run, machine, f"engine {engine}")
        elif size_axis:
            put_run(machine.size_runs.setdefault((run.shape, run.topo), {}), run, machine, "size axis")
        else:
            put_run(machine.series.setdefault(run.topo, {}), run, machine, f"topo {run.topo}")


# ---- the other tools ------------------------------------------------------------------------


def parse_summary(data, what: str) -> Summary:
    median = positive(data, "median")
    if median is None:
        raise BadFile(f"'{what}' has no positive median")
    return Summary(median, positive(data, "min") or median, positive(data, "max") or median,
                   as_float(data.get("mean")), as_float(data.get("stddev")), as_float(data.get("cv")),
                   int(positive(data, "repetitions") or 1))


def parse_crosslang(data: dict, source: str) -> Crosslang:
    runs, chain = {}, {}
    for run in as_list(data.get("runs")):
        runtime = text(run, "runtime")
        reps = [r for r in as_list(as_dict(run).get("repetitions")) if isinstance(r, dict)]
        identical = [r for r in reps if r.get("reference") == "identical"]
        steps = next((r["steps"] for r in reps if positive(r, "steps")), data.get("config", {}).get("steps"))
        if not runtime or runtime in runs or not as_float(steps) or steps <= 0:
            warn(f"{source}: skipping a run without a runtime name or steps, or named twice")
            continue
        timed = run.get("output") == "identical" and isinstance(run.get("train_seconds"), dict)
        rss = sorted(v for v in (as_float(r.get("peak_rss_kib")) for r in identical or reps) if v)
        seconds = tuple(v for v in (positive(r, "train_seconds") for r in identical) if v)
        runs[runtime] = RuntimeRun(runtime, text(run, "version"), text(run, "program"), text(run, "timing"), seconds,
                                   int(steps), parse_summary(run["train_seconds"], "train_seconds") if timed else None,
                                   rss[(len(rss) - 1) // 2] if rss else None, len(reps), len(reps) - len(identical))
    for entry in as_list(data.get("chain")):
        runtime = text(entry, "runtime")
        try:
            summary = parse_summary(as_dict(entry).get("allocs_per_second"), "allocs_per_second")
        except BadFile as error:
            warn(f"{source}: skipping chain '{runtime}': {error}")
            continue
        rates = tuple(v for v in (positive(r, "allocs_per_second") for r in as_list(entry.get("repetitions"))) if v)
        chain.setdefault(runtime, ChainRun(runtime, text(entry, "version"), text(entry, "objects_per_alloc"),
                                           rates, summary))
    if not runs and not chain:
        raise BadFile("no usable run or chain entry")
    return Crosslang(source, runs, chain)


def parse_peers(data: dict, source: str) -> TapePeers:
    programs = []
    for entry in as_list(data.get("programs")):
        seconds = as_dict(as_dict(entry).get("train_seconds"))
        values = tuple(v for v in map(as_float, as_list(seconds.get("values"))) if v and v > 0)
        median = positive(seconds, "median") or (stats.median(values) if values else None)
        if not text(entry, "name") or median is None:
            warn(f"{source}: skipping a program without a name or a time")
            continue
        cv = as_float(seconds.get("cv"))
        programs.append(PeerProgram(entry["name"], entry.get("program") == "bench_train", text(entry, "flags"),
                                    values, median, cv if cv is not None else stats.cv(values)))
    if not programs:
        raise BadFile("no usable program")
    return TapePeers(source, as_dict(data.get("context")), as_dict(data.get("peer")), programs,
                     as_dict(data.get("config")).get("steps"))


def counts(events, nodes: float, where: str) -> Counts:
    events = as_dict(events)
    if not all(as_float(events.get(k)) is not None for k in ("Ir", "D1mr", "D1mw", "DLmr", "DLmw")):
        raise BadFile(f"{where}: no Ir, D1mr, D1mw, DLmr or DLmw")
    return Counts(events["Ir"] / nodes, (events["D1mr"] + events["D1mw"]) / nodes,
                  (events["DLmr"] + events["DLmw"]) / nodes)


def parse_cachesim(data: dict, source: str) -> CacheSeries:
    runs = {}
    for run in as_list(data.get("runs")):
        name, nodes, steps = text(run, "allocator"), positive(run, "nodes"), positive(run, "steps")
        try:
            if not name or nodes is None or steps is None:
                raise BadFile("a run without an 'allocator' name, 'nodes' or 'steps'")
            phases = as_dict(run.get("phases"))
            runs[name] = CacheRun(name, nodes / steps, counts(run.get("events"), nodes, name),
                                  {p: counts(phases.get(p), nodes, f"{name} {p}") for p in PHASES},
                                  counts(run.get("allocator_costs"), nodes, f"{name} allocator_costs"))
        except BadFile as error:
            warn(f"{source}: skipping {error}")
    if not runs:
        raise BadFile("no usable run")
    config = as_dict(data.get("config"))
    return CacheSeries(source, config_shape(config), config_topo(config), int(positive(config, "steps") or 0), runs,
                       text(as_dict(data.get("context")), "date"))


def parse_gbench(data: dict, source: str, known: list) -> list:
    """A RatePoint per benchmark instance named family/<policy>[/...] of a known policy."""
    instances, unmatched = {}, []
    for row in data["benchmarks"]:
        if isinstance(row, dict) and not row.get("error_occurred"):
            instances.setdefault(text(row, "run_name") or text(row, "name"), []).append(row)
    points = []
    for instance, rows in instances.items():
        parts = instance.split("/")
        if len(parts) < 2 or parts[1] not in known:
            unmatched.append(instance)
            continue
        aggregate = {r.get("aggregate_name"): r for r in rows if r.get("run_type") == "aggregate"}
        samples = tuple(v for v in (as_float(r.get(RATE_COUNTER)) for r in rows
                                    if r.get("run_type", "iteration") == "iteration") if v)
        main = aggregate.get("median") or aggregate.get("mean") or rows[0]
        time_ns = (as_float(main.get("real_time")) or 0) * TIME_UNIT_NS.get(main.get("time_unit", "ns"), 0)
        if not time_ns:
            continue
        rate = as_float(main.get(RATE_COUNTER)) if "median" in aggregate else (
            stats.median(samples) if samples else None)
        mean = as_float(aggregate.get("mean", {}).get(RATE_COUNTER))
        stddev = as_float(aggregate.get("stddev", {}).get(RATE_COUNTER))
        cv = as_float(aggregate.get("cv", {}).get(RATE_COUNTER if rate else "real_time"))
        points.append(RatePoint(source, parts[0], parts[1], instance, time_ns, rate, samples, mean, stddev,
                                int(as_float(main.get("repetitions")) or len(samples) or 1),
                                cv if cv is not None else stats.cv(samples)))
    if unmatched:
        warn(f"{source}: no policy of the bench_train files in {len(unmatched)} benchmark name(s), "
             f"e.g. '{unmatched[0]}'")
    if not points:
        raise BadFile("no benchmark names a policy of the bench_train files")
    return points


def parse_callgrind(path: Path) -> dict:
    """'key value' lines, '#' comments; malloc_share the allocator's share of the instructions."""
    values = {}
    for line in read_capped(path).decode("utf-8", errors="replace").splitlines():
        key, _, value = line.split("#", 1)[0].strip().partition(" ")
        if key:
            values[key] = value.strip()
    if not values:
        raise BadFile("empty file")
    return values


# ---- the directory --------------------------------------------------------------------------


def add_cachesim(machine: Machine, path: Path, data: dict) -> None:
    series = parse_cachesim(data, str(path))
    previous = machine.cachesim.setdefault((series.shape, series.topo), series)
    if previous is not series:
        raise BadFile(f"a second cache simulation of this shape and order (the first: {previous.source})")


def add_once(machine: Machine, attribute: str, found, context) -> None:
    """A machine's single crosslang.json or tape_vs_peers.json."""
    if getattr(machine, attribute) is not None:
        raise BadFile(f"{machine.name} already has one ({getattr(machine, attribute).source})")
    setattr(machine, attribute, found)
    machine.contexts.append((found.source, as_dict(context)))


def add_gbench(machine: Machine, path: Path, data: dict, order: list) -> None:
    machine.rate_points.extend(parse_gbench(data, path.stem, order))
    machine.contexts.append((str(path), {f"Google Benchmark {k}": v for k, v in as_dict(data.get("context")).items()}))


def load_results(results_dir: Path) -> Results:
    machines: dict = {}
    files_used, skipped, order = [], [], []
    kinds: dict = {kind: [] for kind in (*SCHEMAS, "gbench")}
    for path in sorted(p for p in results_dir.rglob("*.json") if not p.name.startswith(".")):
        try:
            data = read_json(path)
            kinds[classify(data)].append((path, data))
        except BadFile as error:
            skipped.append(f"skipping {path}: {error}")
            warn(skipped[-1])
    depths = [path.relative_to(results_dir).parts for path, _ in kinds["bench_train"]]
    flat = any(len(d) == 1 for d in depths) and all(len(d) == 1 or d[0] == SIZE_AXIS_DIR for d in depths)
    used = set()

    def use(paths: list, add) -> None:
        for path, data in paths:
            parts = path.relative_to(results_dir).parts
            name = results_dir.resolve().name if flat else parts[0]
            try:
                if len(parts) == 1 and not flat:
                    raise BadFile("not inside a machine directory (results/<machine>/)")
                add(machines.setdefault(name, Machine(name)), path, data)
            except BadFile as error:
                skipped.append(f"skipping {path}: {error}")
                warn(skipped[-1])
                continue
            files_used.append(str(path))
            used.add(name)

    # Training files first: they name the policies the benchmark names are matched against.
    use(kinds["bench_train"], lambda m, path, data: add_train_file(
        m, data, str(path), SIZE_AXIS_DIR in path.relative_to(results_dir).parts[:-1], order))
    use(kinds["gbench"], lambda m, path, data: add_gbench(m, path, data, order))
    use(kinds["crosslang"], lambda m, path, data: add_once(m, "crosslang", parse_crosslang(data, str(path)),
                                                          data.get("context")))
    use(kinds["bench_tape_peers.sh"], lambda m, path, data: add_once(m, "peers", parse_peers(data, str(path)),
                                                                    data.get("context")))
    use(kinds["cachesim"], add_cachesim)
    use([(p, None) for p in sorted(results_dir.rglob("callgrind_*.txt"))],
        lambda m, path, _: m.callgrind.__setitem__(path.stem[len("callgrind_"):], (str(path), parse_callgrind(path))))
    for machine in machines.values():
        for topo, by_malloc in machine.matrix.items():
            if topo not in machine.series and by_malloc.get(DEFAULT_MALLOC):  # the matrix's glibc cells
                machine.series[topo] = dict(by_malloc[DEFAULT_MALLOC])  # stand for a glibc-only file
            elif DEFAULT_MALLOC not in by_malloc and topo in machine.series:
                # A matrix without glibc cells (measure.sh leaves them to the train stage): the glibc
                # file's runs of the matrix's policies, with the same order.
                policies = {policy for cells in by_malloc.values() for policy in cells}
                glibc = {p: run for p, run in machine.series[topo].items() if p in policies}
                if glibc:
                    by_malloc[DEFAULT_MALLOC] = glibc
    return Results({n: machines[n] for n in sorted(used)}, files_used, skipped, order)
