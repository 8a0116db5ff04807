"""The README's `crosslang` block: the runtimes of crosslang.json (scripts/crosslang.py)
beside the C++ policies, in one table (version, training time, the chain
microbenchmark's allocation rate, and both against the baseline with their 95%
intervals), then whether the fastest allocator trains fastest, across the runtimes and
across the C++ policies. The C++ rates are the throughput comparison's (bench_alloc's
chain), the C++ times the headline series'; high-cv cells carry the answer table's mark."""

from __future__ import annotations

from . import analysis, claim, fmt, stats
from .crosslang import runtime_order
from .model import topo_order

MISSING = ("No cross-runtime results in results/ yet (`scripts/crosslang.py --machine <machine>` writes "
           "`results/<machine>/crosslang.json`), so the runtimes are not compared.")


def topos(machine) -> list:
    return [t for t in topo_order(machine.series) if len(machine.series[t]) > 1]


def runtime_row(fig, name: str, base: str | None) -> list[str]:
    machine = fig.machine
    run, chain = machine.crosslang.runs.get(name), machine.crosslang.chain.get(name)
    version = (run.version if run else "") or (chain.version if chain else "")
    row = [fmt.code(name), version or fmt.DASH]
    if run is None:
        row.append(fmt.DASH)
    elif not run.timed:
        row.append("output differs: not timed")
    else:
        row.append(f"{run.summary.median:.3f}{fmt.noisy(run.summary.noisy)}")
    row.append(fmt.DASH if chain is None else fmt.rate(chain.summary.median) + fmt.noisy(chain.summary.noisy))
    point = fig.throughput.point(base) if fig.throughput is not None and base else None
    rate = None
    if chain is not None and point is not None:
        rate = stats.ratio_interval(f"{machine.name}|readme-crosslang|rate|{name}", claim.chain_sample(chain),
                                    point.rate)
    row.append(fmt.ratio_ci(rate))
    for topo in topos(machine):
        baseline = machine.series[topo].get(base) if base else None
        speed = None
        if baseline is not None and run is not None and run.timed:
            speed = stats.ratio_interval(f"{machine.name}|readme-crosslang|speed|{topo}|{name}",
                                         analysis.time_sample(baseline), claim.training_sample(run))
        row.append(fmt.ratio_ci(speed))
    return row


def policy_rows(fig, order) -> list[list[str]]:
    machine = fig.machine
    compiler = next((str(c["compiler"]) for _, c in machine.contexts if c.get("compiler")), "")
    headline = machine.headline_topo
    rows = []
    for policy in order(machine.policies):
        if policy in fig.roles.controls:
            continue
        run = machine.policies[policy]
        point = fig.throughput.point(policy) if fig.throughput is not None else None
        row = [fmt.code(policy), compiler if not rows else "", f"{run.median_s:.3f}{fmt.noisy(run.noisy)}"
               + ("" if headline == "dfs" else f" ({headline})"),
               fmt.DASH if point is None else fmt.rate(point.rate.point) + fmt.noisy(point.rate_noisy),
               fmt.ratio_ci(fig.rate_ratios.get(policy))]
        row += [fmt.ratio_ci(fig.speed.get(topo, {}).get(policy)) for topo in topos(machine)]
        rows.append(row)
    return rows


def fastest_runtimes(machine) -> str:
    crosslang = machine.crosslang
    names = [n for n in runtime_order(crosslang.runs) if crosslang.runs[n].timed and n in crosslang.chain]
    if len(names) < 2:
        return "Fewer than two runtimes have both a training time and a chain rate, so they cannot be ranked."
    allocates = max(names, key=lambda n: crosslang.chain[n].summary.median)
    trains = min(names, key=lambda n: crosslang.runs[n].summary.median / crosslang.runs[n].steps)
    if allocates == trains:
        text = f"Of the {len(names)} runtimes, {fmt.code(allocates)} allocates fastest and also trains fastest"
    else:
        rate, speed = claim.pair_figures(machine, allocates, trains)
        text = (f"Of the {len(names)} runtimes, {fmt.code(allocates)} allocates fastest but {fmt.code(trains)} "
                f"trains fastest (chain rate {fmt.ratio_ci(rate)} of {fmt.code(trains)}'s, training speed "
                f"{fmt.ratio_ci(speed)} of its)")
    return text + "."


def fastest_policies(fig) -> str:
    found = fig.throughput
    if found is None or not found.points:
        return ("No C++ chain rates (`scripts/bench_gbench.sh` writes `results/<machine>/gbench/bench_alloc.json`), "
                "so the C++ policies cannot be ranked.")
    machine = fig.machine
    allocates = max(found.points, key=lambda p: p.rate.point).policy
    parts = []
    for topo in topos(machine):
        runs = {p.policy: machine.series[topo][p.policy] for p in found.points if p.policy in machine.series[topo]}
        if runs:
            trains = min(runs, key=lambda p: runs[p].median_s / runs[p].steps)
            parts.append(f"with `--topo {topo}` " + ("it also trains fastest" if trains == allocates else
                                                       f"{fmt.code(trains)} trains fastest"))
    text = f"Of the {len(found.points)} C++ policies, {fmt.code(allocates)} allocates fastest"
    return text + (": " + "; ".join(parts) if parts else "") + "."


def block(fig, order) -> list[str]:
    machine = fig.machine
    if machine.crosslang is None:
        return [MISSING]
    base = fig.roles.baseline
    versus = fmt.code(base) if base else "the baseline"
    header = ["", "version", "training s", "chain allocs/s", f"allocs/s vs {versus}"]
    header += [f"training (`--topo={topo}`) vs {versus}" for topo in topos(machine)]
    crosslang = machine.crosslang
    rows = [runtime_row(fig, name, base) for name in runtime_order(set(crosslang.runs) | set(crosslang.chain))]
    rows += policy_rows(fig, order)
    steps = sorted({r.steps for r in crosslang.runs.values()})
    note = (f"Machine `{machine.name}`. The runtimes' training times are whole programs of "
            f"{', '.join(map(str, steps))} steps (start-up, data loading and sampling included), medians of their "
            f"repetitions; the C++ ones are the training loop, `--topo={machine.headline_topo}`. Ratios are "
            "speeds against the baseline per step, with their 95% bootstrap intervals.")
    if not base:
        note += " No ratios: no run is marked baseline (the results predate per-run traits)."
    if any(fmt.NOISY_MARK in cell for row in rows for cell in row):
        note += f" {fmt.NOISY_LEGEND}"
    across = claim.across_lines(machine, fig)
    answer = " ".join([fastest_runtimes(machine), fastest_policies(fig)] + [a for a in across[:1] if a])
    return fmt.table(header, rows) + [note, "", answer]
