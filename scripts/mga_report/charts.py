"""PNG charts (matplotlib, Agg). Bars and points whose cv is above 5% are hatched or
hollow, with the advice to re-run in the legend."""

from __future__ import annotations

import io
import math

from . import matrix, threads
from .crosslang import runtime_order
from .model import NOISY_CV, PHASES, Results
from .files import UsageError

CHART_FILES = {
    "train_time": "train_time.png",
    "phases": "phases.png",
    "alloc_vs_train": "alloc_vs_train.png",
    "memory": "memory.png",
    "size_ns_per_node": "size_ns_per_node.png",
    "size_rss": "size_rss.png",
    "threads": "threads.png",
    matrix.CHART_KEY: matrix.CHART_FILE,
    "decomposition": "decomposition.png",
}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
NOISY_HATCH = "//"
NOISY_LABEL = f"hatched / hollow: cv > {100 * NOISY_CV:.0f}%, re-run"


def machine_colors(machines) -> dict:
    return {m.name: PALETTE[i % len(PALETTE)] for i, m in enumerate(machines)}


def grouped_positions(count: int, group_count: int, index: int, width_total: float = 0.8):
    width = width_total / max(1, group_count)
    return [i - width_total / 2 + width * (index + 0.5) for i in range(count)], width


def headline_topos(machines) -> str:
    return " / ".join(dict.fromkeys(m.headline_topo for m in machines if m.headline_topo))


def timed_runtimes(machine) -> dict:
    crosslang = machine.crosslang
    return {} if crosslang is None else {n: r for n, r in crosslang.runs.items() if r.timed}


def chart_train_time(plt, results: Results, machines):
    """Median training time of every policy and runtime, log scale, min-max whiskers."""
    from matplotlib.patches import Patch

    policies = results.order({p for m in machines for p in m.policies})
    runtimes = runtime_order({r for m in machines for r in timed_runtimes(m)})
    names = policies + runtimes
    steps = {r.steps for m in machines for r in m.policies.values()}
    steps |= {r.steps for m in machines for r in timed_runtimes(m).values()}
    per_step = len(steps) != 1
    scale = (lambda s, n: 1000 * s / n) if per_step else (lambda s, n: s)
    colors = machine_colors(machines)
    figure, axes = plt.subplots(figsize=(max(7, 0.9 * len(names) + 2.5), 4.8))
    for index, machine in enumerate(machines):
        xs, width = grouped_positions(len(names), len(machines), index)
        for x, name in zip(xs, names):
            run, runtime = machine.policies.get(name), timed_runtimes(machine).get(name)
            if run is not None:
                values, noisy, alpha = (run.median_s, run.min_s, run.max_s), run.noisy, 1.0
                count = run.steps
            elif runtime is not None:
                summary = runtime.summary
                values, noisy, alpha = (summary.median, summary.min, summary.max), summary.noisy, 0.45
                count = runtime.steps
            else:
                continue
            middle, low, high = (scale(v, count) for v in values)
            bars = axes.bar(x, middle, width, yerr=[[middle - low], [high - middle]], capsize=3, alpha=alpha,
                            color=colors[machine.name], edgecolor="black" if noisy else colors[machine.name],
                            hatch=NOISY_HATCH if noisy else None)
            axes.bar_label(bars, labels=[f"{middle:.3g}"], padding=2, fontsize=7)
    axes.set_yscale("log")
    axes.set_xticks(range(len(names)), names, rotation=30)
    unit = "ms per step" if per_step else f"seconds for {next(iter(steps))} steps"
    axes.set_ylabel(f"training time, {unit} (log)\nmedian, whiskers min–max")
    axes.set_title(f"Training time: C++ policies (topo {headline_topos(machines)}) and runtimes")
    handles = [Patch(color=colors[m.name], label=m.name) for m in machines]
    if runtimes:
        handles.append(Patch(facecolor="grey", alpha=0.45, label="runtime: whole-program wall time"))
    handles.append(Patch(facecolor="white", edgecolor="black", hatch=NOISY_HATCH, label=NOISY_LABEL))
    axes.legend(handles=handles, fontsize=8)
    return figure


def chart_phases(plt, results: Results, machines):
    shown = [m for m in machines if any(r.phases for r in m.policies.values())]
    figure, axes_list = plt.subplots(1, len(shown), figsize=(max(6, 5.5 * len(shown)), 4.5), squeeze=False)
    phase_colors = {"forward": "#4c72b0", "backward": "#dd8452", "adam": "#55a868", "release": "#c44e52"}
    for axes, machine in zip(axes_list[0], shown):
        policies = [p for p in results.order(machine.policies) if machine.policies[p].phases]
        bottoms = [0.0] * len(policies)
        for phase in PHASES:
            values = [1000 * machine.policies[p].phases[phase] / machine.policies[p].steps for p in policies]
            axes.bar(range(len(policies)), values, 0.7, bottom=bottoms, label=phase, color=phase_colors[phase])
            bottoms = [b + v for b, v in zip(bottoms, values)]
        axes.set_xticks(range(len(policies)), policies, rotation=20)
        axes.set_ylabel("ms per training step (median repetition)")
        axes.set_title(f"Phases per step — {machine.name}, topo {machine.headline_topo}")
        axes.legend(fontsize=8)
    return figure


def chart_alloc_vs_train(plt, results: Results, figures: dict, machines):
    colors = machine_colors(machines)
    figure, axes = plt.subplots(figsize=(7.5, 5.5))
    for machine in machines:
        color, found = colors[machine.name], figures[machine.name].throughput
        if found is not None:
            for index, point in enumerate(found.points):
                hollow = point.rate_noisy or point.speed_noisy
                axes.scatter([point.rate.point], [point.speed.point], marker="o", s=40,
                             facecolors="none" if hollow else color, edgecolors=color,
                             label=f"{machine.name}: C++ policies (training time only)" if index == 0 else None)
                axes.annotate(point.policy, (point.rate.point, point.speed.point), textcoords="offset points",
                              xytext=(4, 4), fontsize=8)
            fit = found.robust
            if fit.slope is not None:
                used = [p for p in found.points if p.policy in fit.names]
                xs = [math.log(p.rate.point) for p in used]
                ys = [math.log(p.speed.point) for p in used]
                intercept = sum(ys) / len(ys) - fit.slope.point * sum(xs) / len(xs)
                line_x = [min(p.rate.point for p in used), max(p.rate.point for p in used)]
                left_out = f" without {', '.join(found.without)}" if found.without else ""
                axes.plot(line_x, [math.exp(intercept) * x ** fit.slope.point for x in line_x], color=color,
                          linewidth=1, label=f"{machine.name}: C++ policies, fit{left_out} "
                                             f"(slope {fit.slope.point:.2f})")
        crosslang = machine.crosslang
        if crosslang is not None:
            pairs = [(name, crosslang.chain[name].summary.median, run.steps / run.summary.median)
                     for name, run in crosslang.runs.items() if run.timed and name in crosslang.chain]
            if pairs:
                axes.scatter([x for _, x, _ in pairs], [y for _, _, y in pairs], marker="^", s=60, color=color,
                             label=f"{machine.name}: runtimes (bench-alloc.ts / chain.py; whole-program time)")
                for name, x, y in pairs:
                    axes.annotate(name, (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    axes.scatter([], [], marker="o", facecolors="none", edgecolors="black", label=NOISY_LABEL)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("allocation rate, chain microbenchmark (allocs/s, log)")
    axes.set_ylabel("training speed (steps/s, log)")
    axes.set_title("Does allocation throughput explain training speed?\n"
                   f"(C++: default shape, topo {headline_topos(machines)})", fontsize=10)
    axes.legend(fontsize=7)
    return figure


def chart_memory(plt, results: Results, machines):
    policies = results.order({p for m in machines for p in m.policies})
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
                axes.bar([x for x, _ in pairs], [v for _, v in pairs], width, color=colors[machine.name],
                         label=machine.name)
    for axes, label, title in (
        (rss_axes, "peak RSS (MiB)", f"Peak resident memory (topo {headline_topos(machines)})"),
        (bytes_axes, "KiB requested per training step", "Bytes allocated per step"),
    ):
        axes.set_xticks(range(len(policies)), policies, rotation=30)
        axes.set_ylabel(label)
        axes.set_title(title)
        axes.legend(fontsize=8)
    return figure


def chart_size(plt, results: Results, machines, size_points, value_of, ylabel: str, title: str, log_y: bool):
    """One panel per machine: value_of(run) against nodes per step, one line per policy."""
    colors = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(results.policy_order)}
    figure, axes_list = plt.subplots(1, len(machines), figsize=(max(6.5, 6 * len(machines)), 4.5), squeeze=False)
    for axes, machine in zip(axes_list[0], machines):
        points = [(nodes, runs) for nodes, _, runs in size_points(machine, results.order) if nodes is not None]
        for policy in results.order({p for _, runs in points for p in runs}):
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


PART_COLORS = {"allocator": "#4c72b0", "layout": "#dd8452", "other": "#b0b0b0"}


def chart_decomposition(plt, results: Results, figures: dict, machines):
    """One panel per machine, shape and order: each policy's extra ns per node over the
    reference as stacked allocator / layout / other (negative parts to the left), the
    whisker its 95% interval; controls below a line, hatched."""
    from matplotlib.patches import Patch

    panels = [(m, case) for m in machines for case in figures[m.name].decomposition if not case.problem]
    figure, axes_list = plt.subplots(1, len(panels), figsize=(max(7, 6.5 * len(panels)), 5.6), squeeze=False)
    for axes, (machine, case) in zip(axes_list[0], panels):
        strategies = {r.policy: r for r in case.rows}
        rows = [strategies[p] for p in results.order(strategies)] + case.controls
        for y, row in enumerate(rows):
            control = row in case.controls
            left_positive = left_negative = 0.0
            for part, color in PART_COLORS.items():
                value = row.parts[part].point
                left = left_positive if value >= 0 else left_negative
                axes.barh(y, value, left=left, color=color, edgecolor="black" if control else color,
                          hatch=NOISY_HATCH if control else None, height=0.7)
                if value >= 0:
                    left_positive += value
                else:
                    left_negative += value
            extra = row.extra
            if extra.available:
                axes.errorbar(extra.point, y, xerr=[[extra.point - extra.low], [extra.high - extra.point]],
                              fmt="k|", capsize=3, linewidth=1)
        if case.controls:
            axes.axhline(len(strategies) - 0.5, color="black", linewidth=0.8, linestyle="--")
        axes.axvline(0, color="black", linewidth=0.8)
        axes.set_yticks(range(len(rows)), [r.policy + (" (control)" if r in case.controls else "") for r in rows])
        axes.invert_yaxis()
        axes.set_xlabel(f"extra ns per node over {case.reference} (whisker: 95% interval of the total)")
        n_embd, _, n_layer, _ = case.shape
        axes.set_title(f"{machine.name}: n_embd {n_embd}, n_layer {n_layer}, topo {case.topo}", fontsize=10)
    handles = [Patch(color=c, label=p) for p, c in PART_COLORS.items()]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch=NOISY_HATCH, label="control, not a strategy"))
    axes_list[0][0].legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=4)
    return figure


def import_pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("matplotlib cannot be imported; run compare.py with /usr/bin/python3 "
                         "(Debian: apt-get install python3-matplotlib)") from None
    return plt


def render(results: Results, figures: dict, size_points) -> dict:
    """PNG bytes per chart key; a chart whose data is absent is left out."""
    plt = import_pyplot()
    machines = list(results.machines.values())
    with_policies = [m for m in machines if m.policies]
    with_times = [m for m in machines if m.policies or timed_runtimes(m)]
    makers = {}
    if with_times:
        makers["train_time"] = lambda: chart_train_time(plt, results, with_times)
    if with_policies:
        makers["memory"] = lambda: chart_memory(plt, results, with_policies)
    if any(r.phases for m in machines for r in m.policies.values()):
        makers["phases"] = lambda: chart_phases(plt, results, machines)
    if any(f.throughput for f in figures.values()) or any(
            timed_runtimes(m) and m.crosslang.chain for m in machines):
        makers["alloc_vs_train"] = lambda: chart_alloc_vs_train(plt, results, figures, machines)
    sized = [m for m in machines if any(n is not None for n, _, _ in size_points(m, results.order))]
    if sized:
        makers["size_ns_per_node"] = lambda: chart_size(
            plt, results, sized, size_points, lambda run: run.ns_per_node, "ns per node (median)",
            "Time per graph node", log_y=False)
        makers["size_rss"] = lambda: chart_size(
            plt, results, sized, size_points, lambda run: None if run.peak_rss_kib is None else run.peak_rss_kib / 1024,
            "peak RSS (MiB, log)", "Peak resident memory", log_y=True)
    if any(m.thread_runs for m in machines):
        makers["threads"] = lambda: threads.chart(plt, machines, results.order)
    with_matrix = [m for m in machines if figures[m.name].matrix]
    if with_matrix:
        makers[matrix.CHART_KEY] = lambda: matrix.chart(plt, with_matrix, figures)
    if any(not case.problem for f in figures.values() for case in f.decomposition):
        makers["decomposition"] = lambda: chart_decomposition(plt, results, figures, machines)
    images = {}
    for key, make in makers.items():
        figure = make()
        buffer = io.BytesIO()
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
        plt.close(figure)
        images[key] = buffer.getvalue()
    return images
