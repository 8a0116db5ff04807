"""REPORT.md's sections, one per question, each a table built from the figures."""

from __future__ import annotations

from pathlib import Path

from . import figures as f
from . import quality
from .fmt import (DASH, code, cv_cell, footnotes, marks, mib, noisy, percent, rate, ratio_ci, repetitions, seconds,
                  share_ci, size_bytes, table, value_ci, with_files)
from .model import DEFAULT_MALLOC, DEFAULT_TOPO, ENGINE_ORDER, PHASES, RELEASES, SHAPE_KEYS, topo_order


def image(charts: set, name: str, alt: str) -> list:
    return [f"![{alt}](charts/{name})", ""] if name in charts else []


def legend(runs) -> list:
    return [line for sentence in footnotes(runs) for line in (sentence, "")]


def time_cell(run) -> str:
    return DASH if run is None else f"{run.median_s:.3f}{marks(run)}"


def training(machine, fig, order) -> list:
    topos = topo_order(machine.series)
    others = [t for t in topos if t != DEFAULT_TOPO and DEFAULT_TOPO in topos]
    header = ["policy", "role"]
    for topo in topos:
        header += [f"s, `--topo {topo}`", f"vs `{fig.roles.baseline}`"]
    header += [f"{t} vs dfs" for t in others]
    rows = []
    for policy in order({p for t in topos for p in machine.series[t]}):
        row = [code(policy), fig.roles.describe(policy)]
        for topo in topos:
            row += [time_cell(machine.series[topo].get(policy)), ratio_ci(fig.speed.get(topo, {}).get(policy))]
        dfs = machine.series.get(DEFAULT_TOPO, {}).get(policy)
        row += [ratio_ci(f.speed_ratio(f"{machine.name}|topo|{t}|{policy}", machine.series[t].get(policy), dfs))
                for t in others]
        rows.append(row)
    runs = [r for t in topos for r in machine.series[t].values()]
    steps = ", ".join(sorted({str(r.steps) for r in runs}))
    note = (f"Seconds for {steps} steps, median of {repetitions(machine, topos)} repetitions, each a fresh process; *vs* is the speed per "
            "step against the baseline (above 1 = faster).")
    return table(header, rows) + [note, ""] + legend(runs)


def shares(machine, fig, order) -> list:
    lines = []
    for topo in topo_order(fig.shares):
        runs, found = machine.series[topo], fig.shares[topo]
        callgrind = topo == machine.headline_topo and machine.callgrind
        header = ["policy", *PHASES, "total", "alloc+release share", "bound if free"]
        rows = []
        for policy in order(found):
            run = runs[policy]
            total = f"{1000 * sum(run.phases.values()) / run.steps:.3f}{marks(run)}"
            rows.append([code(policy)] + [f"{1000 * run.phases[p] / run.steps:.3f}" for p in PHASES] +
                        [total, share_ci(found[policy]),
                         ratio_ci(f.amdahl(found[policy])) if policy != fig.roles.reference else DASH] +
                        ([callgrind_share(machine, policy)] if callgrind else []))
        lines += [f"`--topo {topo}`, ms per step (median repetition):", ""]
        lines += table(header + (["callgrind: allocator's share of instructions"] if callgrind else []), rows)
        lines += legend(runs[p] for p in found)
    return lines


def callgrind_share(machine, policy: str) -> str:
    values = machine.callgrind.get(policy, ("", {}))[1]
    try:
        return percent(float(values["malloc_share"].rstrip("%")) / (100 if "%" in values["malloc_share"] else 1))
    except (KeyError, ValueError):
        return DASH


def elasticity(machine, fig, order) -> list:
    found, base = fig.throughput, fig.roles.baseline
    if found is None:
        return ["No Google Benchmark allocation rates of policies that also trained (`scripts/bench_gbench.sh`).", ""]
    rows = [[code(p.policy), rate(p.rate.point) + noisy(p.noisy),
             ratio_ci(f.rate_ratio(machine, found, p.policy, base)), f"{p.speed.point:.1f}",
             ratio_ci(fig.speed.get(machine.headline_topo, {}).get(p.policy))]
            for p in found.points]
    lines = table(["policy", f"allocs/s ({found.family})", f"vs `{base}`", "steps/s",
                   f"training vs `{base}`"], rows)
    fits = [("every policy but the reference-counted and the controls" if found.left_out else
             "every policy but the controls", found.elasticity)]
    if found.elasticity_all is not None:
        fits.append(("with the reference-counted " + ", ".join(map(code, found.left_out)), found.elasticity_all))
    lines += table(["policies", "log–log slope", "10× allocs/s went with"],
                   [[who, value_ci(s), ratio_ci(f.tenfold(s))] for who, s in fits if s is not None])
    return lines + ([f"Controls left out: {', '.join(map(code, found.controls))}.", ""] if found.controls else [])


def matrix(machine, fig, order) -> list:
    lines = []
    for topo, view in fig.matrix.items():
        rows = [[code(p), fig.roles.describe(p)] +
                [ratio_ci(view.speed.get((m, p))) + marks(view.cell(m, p))
                 for m in view.mallocs] for p in view.policies]
        lines += [f"`--topo {topo}`: speed against `{fig.roles.baseline}` under {DEFAULT_MALLOC} "
                  f"({', '.join(sorted({Path(r.source).name for r in view.cells.values()}))}):", ""]
        lines += table(["policy", "role", *(code(m) + view.user(m) for m in view.mallocs)], rows)
        lines += legend(view.cells.values())
    return lines


def practical(machine, fig, order) -> list:
    columns = {topo: f.practical(machine, view, fig.roles) for topo, view in fig.matrix.items()}
    labels = list(dict.fromkeys(what for rows in columns.values() for what, _, _ in rows))
    cells = {(topo, what): ratio_ci(found) + (f" vs {note}" if note else "")
             for topo, rows in columns.items() for what, found, note in rows}
    return table(["comparison", *(f"`--topo {t}`" for t in columns)],
                 [[what] + [cells.get((t, what), DASH) for t in columns] for what in labels])


def nodes(machine, fig, order) -> list:
    reference, ceiling = fig.roles.reference, fig.ceiling
    modes = [(f"`{reference}` `--topo {t}`", machine.series[t][reference]) for t in topo_order(machine.series)
             if reference in machine.series[t]]
    modes += [(f"`--engine {e}`", machine.engines[e]) for e in ENGINE_ORDER if e in machine.engines]
    if not machine.engines:
        return ["No `--engine tape` or `tape-exact` run.", ""]
    base = machine.series.get(DEFAULT_TOPO, {}).get(reference)
    rows = [[label, seconds(run.median_s) + marks(run), f"{run.ms_per_step:.3f}",
             DASH if run.nodes_per_step is None else f"{run.nodes_per_step:,.0f}",
             ratio_ci(f.speed_ratio(f"{machine.name}|mode|{label}", run, base)), fig.exactness.status(run)]
            for label, run in modes]
    lines = table(["mode", "median", "ms/step", "nodes or tape ops/step", f"vs `{reference}` dfs", "output"], rows)
    if ceiling.exact_vs_graph is not None:
        share = ceiling.exact_vs_graph.map(lambda r: 1 - 1 / r)
        lines += [f"`--engine tape-exact` is {ratio_ci(ceiling.exact_vs_graph)} as fast as `{reference}` with "
                  f"`--topo {f.GRAPH_TOPO}`: making, linking and walking the nodes is {share_ci(share)} of that "
                  f"graph's time. `--engine tape` (backward in its own order) is {ratio_ci(ceiling.fast_vs_exact)} "
                  "as fast as `tape-exact`.", ""]
    return lines + legend([r for _, r in modes])


def peers(machine, fig, order) -> list:
    found = machine.peers
    theirs = [p for p in found.programs if not p.ours]

    def per_pair(ours, other) -> str:  # repetition i of one over repetition i of the other: the same round
        if not ours.values or len(ours.values) != len(other.values):
            return DASH
        pairs = sorted(a / b for a, b in zip(ours.values, other.values))
        return f"{f.stats.median(pairs):.2f}× ({pairs[0]:.2f}–{pairs[-1]:.2f})"

    rows = [[p.name, f"`{p.flags}`" if p.flags else DASH, seconds(p.median) + noisy(bool(p.cv and p.cv > 0.05)),
             cv_cell(p.cv), str(len(p.values))] + [per_pair(p, t) if p.ours else DASH for t in theirs]
            for p in found.programs]
    peer = found.peer
    return table(["program", "flags", "median", "cv", "reps", *(f"÷ {t.name}" for t in theirs)], rows) + [
        f"÷ cells: our time over the peer's in the same round, median (min–max) of the rounds. The peer: "
        f"{peer.get('repository', '?')} at `{peer.get('commit', '?')}`"
        + (" (**modified checkout**)" if peer.get("modified_checkout") else "")
        + (f"; its arithmetic: {peer['arithmetic']}" if peer.get("arithmetic") else "") + f"; {found.steps} steps.", ""]


def cachesim(machine, fig, order) -> list:
    lines = []
    for (shape, topo), series in sorted(machine.cachesim.items(), key=lambda kv: (kv[0][0][0] * kv[0][0][2], kv[0][1])):
        rows = [[code(p), fig.roles.describe(p), f"{r.total.instructions:.1f}", f"{r.total.d1_misses:.2f}",
                 f"{r.total.ll_misses:.2f}", f"{r.allocator.instructions:.1f}"] +
                [" · ".join((f"{r.phases[ph].instructions:.0f}", f"{r.phases[ph].d1_misses:.2f}",
                             f"{r.phases[ph].ll_misses:.2f}")) for ph in PHASES]
                for p, r in ((p, series.runs[p]) for p in order(series.runs))]
        where = ", ".join(f"{k} {v}" for k, v in zip(SHAPE_KEYS, shape))
        lines += [f"{where}, `--topo {topo}` ({Path(series.source).name}, {series.steps} steps, "
                  f"{next(iter(series.runs.values())).nodes_per_step:,.0f} nodes per step):", ""]
        lines += table(["policy", "role", "instr.", "L1 misses", "LL misses", "in the allocator: instr."] +
                       [f"{p}: instr. · L1 · LL" for p in PHASES], rows)
    return lines


def memory(machine, fig, order) -> list:
    return table(["policy", "peak RSS", "bytes/step", "allocations/step"],
                 [[code(p), mib(r.peak_rss_kib), size_bytes(r.bytes_per_step),
                   DASH if r.allocations_per_step is None else f"{r.allocations_per_step:,.1f}"]
                  for p, r in ((p, machine.policies[p]) for p in order(machine.policies))])


def size_points(machine, order) -> list:
    """(nodes per step, (shape, topo), runs), smallest graph first."""
    points = [(next((r.nodes_per_step for r in runs.values() if r.nodes_per_step), None), key, runs)
              for key, runs in machine.size_runs.items()]
    return sorted((p for p in points if p[0]), key=lambda p: p[0])


def size(machine, fig, order) -> list:
    points = size_points(machine, order)
    policies = order({p for _, _, runs in points for p in runs})
    def rows(cell) -> list:
        return [[", ".join(f"{k} {v}" for k, v in zip(SHAPE_KEYS[::2], shape[::2])) + f", `{topo}`", f"{nodes:,.0f}",
                 ", ".join(sorted({str(r.steps) for r in runs.values()}))] +
                [DASH if p not in runs else cell(runs[p]) for p in policies] for nodes, (shape, topo), runs in points]

    header = ["shape", "nodes/step", "steps", *map(code, policies)]
    return (table(header, rows(lambda run: f"{run.ns_per_node:.1f}{marks(run)}")) +
            ["Nanoseconds per graph node (median time / steps / nodes per step); one repetition per cell, so no "
             "intervals. Peak RSS (MiB):", ""] +
            table(header, rows(lambda run: mib(run.peak_rss_kib).replace(" MiB", ""))) +
            legend(r for _, _, runs in points for r in runs.values()))


def threads(machine, fig, order) -> list:
    found = f.thread_figures(machine)
    counts = sorted({n for (_, _, n) in found})
    cells = f.thread_cells(machine)
    lines = []
    for malloc in sorted(dict.fromkeys(m for m, _, _ in found), key=lambda m: m != DEFAULT_MALLOC):
        over = {(rel, n) for (m, _, rel, n), r in cells.items() if m == malloc and r.oversubscribed}
        header = ["policy"] + [f"scaling, {n}{' ‡' * (('inline', n) in over)}" for n in counts if n > 1]
        header += [f"background gain, {n}{' ‡' * (('background', n) in over)}" for n in counts]
        rows = []
        for policy in order({p for m, p, _ in found if m == malloc}):
            scaling = [found.get((malloc, policy, n), (None, None)) for n in counts]
            run_of = {(release, n): cells.get((malloc, policy, release, n)) for release in RELEASES for n in counts}
            rows.append([code(policy)] + [ratio_ci(s) + marks(run_of["inline", n])
                                          for (s, _), n in zip(scaling, counts) if n > 1] +
                        [ratio_ci(g) + marks(run_of["background", n]) for (_, g), n in zip(scaling, counts)])
        lines += [f"Process allocator {malloc}:", ""] + table(header, rows)
    refused = order({r.name for r in machine.thread_runs if not r.traits.get("cross_thread_release")})
    return lines + [
        "Scaling: the 1-thread median time over the N-thread one (1.00× is linear: N replicas in the time of one); "
        "background gain: the inline time over the time with a release thread per replica (above 1: it helps). "
        "‡ oversubscribed: more threads than cores, so the replicas take turns." +
        (f" No background runs for {', '.join(map(code, refused))}: their traits say their nodes cannot be freed "
         "on another thread." if refused else ""), ""] + legend(machine.thread_runs)


def claim(machine, fig, order) -> list:
    crosslang = machine.crosslang
    names = list(dict.fromkeys([*crosslang.runs, *crosslang.chain]))
    rows = []
    for name in names:
        run, chain = crosslang.runs.get(name), crosslang.chain.get(name)
        summary = run.summary if run else None
        rows.append([code(name), (run.version if run else "") or (chain.version if chain else "") or DASH,
                     DASH if run is None else ("output differs: not timed" if summary is None else
                                               seconds(summary.median) + noisy(summary.noisy)),
                     DASH if run is None else f"{run.repetitions - run.differing} of {run.repetitions} identical",
                     DASH if chain is None else rate(chain.summary.median) + noisy(chain.summary.noisy),
                     chain.objects_per_alloc if chain and chain.objects_per_alloc else DASH])
    lines = table(["runtime", "version", "training (whole program)", "output", "chain allocs/s",
                   "one allocation is"], rows)
    pairs = []
    for fast in names:
        for slow in names[names.index(fast) + 1:]:
            rate_ratio, speed = f.runtime_pair(machine, fast, slow)
            if rate_ratio is not None and speed is not None:
                same = ("yes" if rate_ratio.side() == speed.side() else "**no**") \
                    if rate_ratio.side() and speed.side() else "not measurable (see the intervals)"
                pairs.append([f"`{fast}` / `{slow}`", ratio_ci(rate_ratio), ratio_ci(speed), same])
    return lines + table(["pair", "chain allocs/s ratio", "training speed ratio",
                          "the faster allocator trains faster?"], pairs)


def gbench(machine, fig, order) -> list:
    position = {p: i for i, p in enumerate(order({q.policy for q in machine.rate_points}))}
    points = sorted(machine.rate_points, key=lambda q: (q.source, q.family, position[q.policy], q.instance))
    return table(["file", "benchmark", "real time", "allocs/s", "reps", "cv"],
                 [[p.source, p.instance, f"{p.real_time_ns / 1e6:.3f} ms", rate(p.rate) + noisy(p.noisy),
                   str(p.repetitions), cv_cell(p.cv)] for p in points]) + legend(points)


def context(machine, fig, order) -> list:
    """Each field once; where the files disagree, each value with the files that recorded it."""
    fields = {}
    for prefix, entries in (("", machine.contexts), ("config ", machine.configs)):
        for source, mapping in entries:
            for key, value in mapping.items():
                if not isinstance(value, (dict, list)) and value not in (None, "") and not (
                        prefix == "" and quality.shown_apart(key)):
                    fields.setdefault(prefix + key.replace("_", " "), {}).setdefault(str(value), []).append(
                        Path(source).name)
    rows = [[label, f"{min(values)} – {max(values)} ({sum(map(len, values.values()))} files)"
             if label.endswith("date") and len(values) > 1 else with_files(values)] for label, values in fields.items()]
    traits = list(dict.fromkeys(t for found in fig.roles.traits.values() for t in found))
    lines = table(["field", "value"], rows) + quality.libraries(machine)
    lines += ["Traits each policy's runs recorded (✓ true):", ""]
    lines += table(["policy", *traits], [[code(p)] + ["✓" if found.get(t) else "" for t in traits]
                                         for p, found in fig.roles.traits.items()])
    return lines + ([f"Roles that cannot be told: {'; '.join(fig.roles.problems)}.", ""] if fig.roles.problems else [])

