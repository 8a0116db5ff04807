"""Reading a results directory: every *.json, classified by content, and callgrind
summaries, put together per machine.

Machines: a file anywhere below results/<machine>/ (also .../gbench/ or .../sweep/)
belongs to <machine>; a file directly under results/ or under a folder that groups by
kind (gbench, charts, callgrind, crosslang, sweep) belongs to the host in its context.
"""

from __future__ import annotations

from pathlib import Path

from .cachesim import parse_cachesim
from .crosslang import parse_crosslang
from .files import BadFile, as_dict, read_json, text, warn
from .gbench import parse_callgrind_summary, parse_gbench
from .model import DEFAULT_MALLOC, DEFAULT_SHAPE, GRAPH_ENGINE, Machine, Results, TrainRun
from .peers import TOOL as PEERS_TOOL, parse_peers
from .threads import is_thread_axis, parse_thread_run
from .training import check_schema, config_engine, config_shape, config_topo, parse_train_file, parse_train_run

NON_MACHINE_DIRS = {"gbench", "charts", "callgrind", "crosslang", "sweep", "cachesim"}
SIZE_AXIS_DIR = "sweep"  # training files below a folder of this name form the size axis
OLD_CROSSLANG_PRODUCER = "crosslang.sh"
ALL_MALLOCS = "all"  # bench_train --malloc=all records this as the config's malloc


def directory_machine(path: Path, results_dir: Path) -> str | None:
    parts = path.relative_to(results_dir).parts[:-1]
    return parts[0] if parts and parts[0] not in NON_MACHINE_DIRS else None


def context_host(data: dict) -> str | None:
    context = as_dict(data.get("context"))
    host = context.get("host") or context.get("host_name") or context.get("machine")
    return host if isinstance(host, str) and host else None


def is_size_axis_file(path: Path, results_dir: Path, config: dict) -> bool:
    """Under a sweep/ folder, or trained on a shape other than the default."""
    in_sweep_dir = SIZE_AXIS_DIR in path.relative_to(results_dir).parts[:-1]
    return in_sweep_dir or config_shape(config) != DEFAULT_SHAPE


def shape_label(shape: tuple) -> str:
    n_embd, n_head, n_layer, block_size = shape
    return f"embd {n_embd} · head {n_head} · layer {n_layer} · block {block_size}"


def series_label(run: TrainRun, size_axis: bool) -> str:
    return f"{shape_label(run.shape)}, topo {run.topo}" if size_axis else f"topo {run.topo}"


def put_run(table: dict, run: TrainRun, machine: Machine, label: str) -> None:
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


def add_thread_runs(machine: Machine, data: dict, source: str, order: list) -> None:
    """A file of the thread axis: its runs go to machine.thread_runs only (and to the exactness check:
    a run's hash is its first replica's, the --seed run's), never into a series or the matrix."""
    context, config = as_dict(data.get("context")), as_dict(data.get("config"))
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        raise BadFile("no 'runs' list")
    added = 0
    for run in runs:
        try:
            train = parse_train_run(run, config, source, text(context, "date"))
            thread_run = parse_thread_run(run, train)
        except BadFile as error:
            warn(f"{source}: skipping {error}")
            continue
        machine.thread_runs.append(thread_run)
        machine.all_runs.append(train)
        if train.engine == GRAPH_ENGINE and train.name not in order:
            order.append(train.name)
        added += 1
    if not added:
        raise BadFile("no usable run")
    if context:
        machine.contexts.append((source, context))


def is_malloc_axis_file(config: dict, runs: list) -> bool:
    """bench_train --malloc=all, or a file any of whose runs had another process allocator."""
    return config.get("malloc") == ALL_MALLOCS or any(run.malloc != DEFAULT_MALLOC for run in runs)


def add_train_runs(machine: Machine, data: dict, source: str, size_axis: bool, order: list) -> None:
    check_schema(data)
    context, config = as_dict(data.get("context")), as_dict(data.get("config"))
    if is_thread_axis(config):
        check_engine_file(config, size_axis)
        return add_thread_runs(machine, data, source, order)
    engine = check_engine_file(config, size_axis)  # before parsing: an unknown engine skips the whole file
    parsed = parse_train_file(data, source)
    # The policy x malloc matrix: its glibc cells stay with the other cells of their file,
    # so that no matrix ratio divides by a run of another file (taken at another time).
    matrix = engine == GRAPH_ENGINE and not size_axis and is_malloc_axis_file(config, parsed)
    if size_axis:
        machine.size_sources.append((source, context))
    else:
        if context:
            machine.contexts.append((source, context))
        if config:
            machine.configs.append((source, config))
    for run in parsed:
        machine.all_runs.append(run)
        if engine == GRAPH_ENGINE and run.name not in order:
            order.append(run.name)
        if matrix:
            cells = machine.matrix.setdefault(run.topo, {}).setdefault(run.malloc, {})
            put_run(cells, run, machine, f"{series_label(run, False)}, malloc {run.malloc}")
        elif run.malloc != DEFAULT_MALLOC:
            machine.other_malloc.append(run)
        elif engine != GRAPH_ENGINE:
            if run.name != engine:  # bench_train names the one run after the engine
                warn(f"{source}: skipping run '{run.name}': an engine '{engine}' file holds only a run "
                     f"named '{engine}'")
                continue
            put_run(machine.engines, run, machine, f"engine {engine}")
        elif size_axis:
            put_run(machine.size_runs.setdefault((run.shape, run.topo), {}), run, machine, series_label(run, True))
        else:
            put_run(machine.series.setdefault(run.topo, {}), run, machine, series_label(run, False))


def classify(data) -> str:
    if not isinstance(data, dict):
        raise BadFile("not a results file (top level is not an object)")
    tool = data.get("tool")
    producer = data.get("producer")
    if tool == "bench_train" and isinstance(producer, str) and producer.endswith(OLD_CROSSLANG_PRODUCER):
        raise BadFile("a schema-1 cross-language file of scripts/crosslang.sh, no longer read "
                      "(scripts/crosslang.py writes crosslang.json schema 2)")
    if tool in ("bench_train", "crosslang", "cachesim"):
        return tool
    if tool == PEERS_TOOL:
        return "peers"
    if isinstance(data.get("benchmarks"), list):
        return "gbench"
    raise BadFile(f'not a results file (no "tool": "bench_train", "crosslang", "cachesim" or "{PEERS_TOOL}", '
                  'no "benchmarks" list)')


def load_results(results_dir: Path) -> Results:
    machines: dict[str, Machine] = {}
    files_used, skipped, order = [], [], []

    def machine_for(path: Path, data: dict | None) -> Machine:
        name = directory_machine(path, results_dir) or (data and context_host(data)) or "local"
        return machines.setdefault(name, Machine(name))

    def skip(source: str, reason: str) -> None:
        message = f"skipping {source}: {reason}"
        warn(message)
        skipped.append(message)

    kinds: dict[str, list] = {"bench_train": [], "crosslang": [], "gbench": [], "peers": [], "cachesim": []}
    for path in sorted(p for p in results_dir.rglob("*.json") if not p.name.startswith(".")):
        try:
            data = read_json(path)
            kinds[classify(data)].append((path, data))
        except BadFile as error:
            skip(str(path), str(error))

    def use(kind: str, add) -> None:
        for path, data in kinds[kind]:
            try:
                add(path, data)
            except BadFile as error:
                skip(str(path), str(error))
                continue
            files_used.append(str(path))

    # Training files first: they name the policies the benchmark names are matched against.
    use("bench_train", lambda path, data: add_train_runs(
        machine_for(path, data), data, str(path),
        is_size_axis_file(path, results_dir, as_dict(data.get("config"))), order))
    for machine in machines.values():
        headline_from_matrix(machine)
    use("crosslang", lambda path, data: add_crosslang(machine_for(path, data), data, str(path)))
    use("peers", lambda path, data: add_peers(machine_for(path, data), data, str(path)))
    use("gbench", lambda path, data: add_gbench(machine_for(path, data), data, path, order))
    use("cachesim", lambda path, data: add_cachesim(machine_for(path, data), data, str(path)))

    for path in sorted(results_dir.rglob("callgrind_*.txt")):
        try:
            values = parse_callgrind_summary(path)
        except BadFile as error:
            skip(str(path), str(error))
            continue
        if not values:
            skip(str(path), "empty file")
            continue
        machine_for(path, None).callgrind[path.stem[len("callgrind_"):]] = (str(path), values)
        files_used.append(str(path))

    attach_orphans(machines)
    for machine in machines.values():
        headline_from_matrix(machine)  # again: an orphan may have brought a matrix
        warn_on_config_mismatch(machine)
    machines = {name: m for name, m in machines.items()  # a machine whose every file was refused
                if m.all_runs or m.rate_points or m.callgrind or m.cachesim or m.crosslang or m.peers}
    return Results(machines, files_used, skipped, order)


def headline_from_matrix(machine: Machine) -> None:
    """An order without a glibc-only file takes its headline series from the matrix's glibc cells."""
    for topo, by_malloc in machine.matrix.items():
        if topo not in machine.series and by_malloc.get(DEFAULT_MALLOC):
            machine.series[topo] = dict(by_malloc[DEFAULT_MALLOC])
            machine.series_from_matrix.add(topo)


def add_peers(machine: Machine, data: dict, source: str) -> None:
    parsed = parse_peers(data, source)
    if machine.peers is not None:
        raise BadFile(f"{machine.name} already has a {PEERS_TOOL} file ({machine.peers.source})")
    machine.peers = parsed  # its context is shown in its own section: other programs, other builds


def add_crosslang(machine: Machine, data: dict, source: str) -> None:
    parsed = parse_crosslang(data, source)
    if machine.crosslang is not None:
        raise BadFile(f"{machine.name} already has a crosslang file ({machine.crosslang.source})")
    machine.crosslang = parsed
    if parsed.context:
        machine.contexts.append((source, parsed.context))


def add_cachesim(machine: Machine, data: dict, source: str) -> None:
    series = parse_cachesim(data, source)
    key = (series.shape, series.topo)
    previous = machine.cachesim.get(key)
    if previous is not None:
        keep = series if series.date >= previous.date else previous
        warn(f"{machine.name}: two cache-simulation files for {shape_label(series.shape)}, topo {series.topo} "
             f"({previous.source}, {source}); using {keep.source} (newer date)")
        series = keep
    machine.cachesim[key] = series


def add_gbench(machine: Machine, data: dict, path: Path, order: list) -> None:
    points, unmatched = parse_gbench(data, path.stem, order)
    if unmatched:
        warn(f"{path}: no policy of the bench_train files in {len(unmatched)} benchmark name(s), "
             f"e.g. '{unmatched[0]}'")
    if not points:
        raise BadFile("no benchmark names a policy of the bench_train files")
    machine.rate_points.extend(points)
    context = data.get("context")
    if isinstance(context, dict):
        machine.contexts.append((str(path), context))


def attach_orphans(machines: dict) -> None:
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
        home.all_runs.extend(orphan.all_runs)
        home.other_malloc.extend(orphan.other_malloc)
        home.thread_runs.extend(orphan.thread_runs)
        home.callgrind = {**orphan.callgrind, **home.callgrind}
        home.cachesim = {**orphan.cachesim, **home.cachesim}
        if home.crosslang is None:
            home.crosslang = orphan.crosslang
        if home.peers is None:
            home.peers = orphan.peers
        for topo, by_malloc in orphan.matrix.items():
            for malloc, cells in by_malloc.items():
                for run in cells.values():
                    put_run(home.matrix.setdefault(topo, {}).setdefault(malloc, {}), run, home,
                            f"{series_label(run, False)}, malloc {malloc}")
        for key, runs in orphan.size_runs.items():
            for run in runs.values():
                put_run(home.size_runs.setdefault(key, {}), run, home, series_label(run, True))


def warn_on_config_mismatch(machine: Machine) -> None:
    """Files of one series (same topo, default shape) should agree on how they ran."""
    with_policies = {run.source for runs in machine.series.values() for run in runs.values()}
    seen = {}
    for source, config in machine.configs:
        if source not in with_policies:
            continue
        topo = config_topo(config)
        for key in ("steps", "rng", "seed"):
            if key not in config:
                continue
            previous = seen.get((topo, key))
            if previous is not None and previous[1] != config[key]:
                warn(f"{machine.name}: '{key}' differs between {previous[0]} ({previous[1]}) "
                     f"and {source} ({config[key]}) (topo {topo}); times are compared per step where possible")
            seen.setdefault((topo, key), (source, config[key]))

