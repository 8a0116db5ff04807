"""The PNG charts (matplotlib, Agg), each readable at 800 pixels wide: horizontal bars sorted by
time with their 95% intervals as error bars, every label readable, an outlier's bar cut at the
rest's scale (and said so) instead of flattening them. Hatched: cv above 5%."""

from __future__ import annotations

import io
import math

from . import figures as f
from .files import UsageError
from .fmt import FLAGGED_MARK, marks
from .model import DEFAULT_MALLOC, NOISY_CV, PHASES, topo_order
from .tables import size_points

CHART_NAMES = ("answer.png", "phases.png", "alloc_vs_train.png", "malloc_matrix.png", "size.png", "threads.png")
WIDTH, DPI = 8.0, 100  # inches: 800 pixels
BLUE, ORANGE, GREEN, GREY = "#4c72b0", "#dd8452", "#55a868", "#a0a0a0"
PHASE_COLORS = dict(zip(PHASES, ("#4c72b0", "#dd8452", "#55a868", "#c44e52")))
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#ad494a", "#637939", "#e7969c", "#7b4173"]
NOISY_HATCH = "////"  # oversubscribed thread cells
OUTLIER = 2.5  # a bar more than this many times the next longest is cut at the others' scale


def import_pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("matplotlib cannot be imported; run compare.py with /usr/bin/python3 "
                         "(Debian: apt-get install python3-matplotlib)") from None
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10})
    return plt


def color_of(roles, policy: str) -> str:
    if policy == roles.baseline:
        return ORANGE
    if policy == roles.reference:
        return GREEN
    return GREY if roles.has(policy, "control") or roles.has(policy, "reference_counted") else BLUE


def label_of(roles, policy: str) -> str:
    role = roles.describe(policy).split(", ")[0]
    return policy + ("" if role == "–" else f" ({role})")


def cut_at(values) -> float | None:
    """Where to cut the axis so that one long bar does not flatten the rest, or None."""
    ordered = sorted(values, reverse=True)
    return 1.3 * ordered[1] if len(ordered) > 2 and ordered[0] > OUTLIER * ordered[1] else None


def bar_panel(axes, roles, policies, parts: dict, intervals: dict, suffixes: dict, unit: str, limit=None) -> None:
    """Horizontal bars, policies top to bottom; parts: name -> {policy: value} stacked left to right
    (one part: colored by role); intervals: policy -> (low, high) of the whole bar; suffixes: policy -> what
    follows its value (fmt.marks). A bar longer than `limit` is drawn shrunk to it, its parts in
    proportion, and says so."""
    ys = list(range(len(policies)))
    totals = {p: sum(values[p] for values in parts.values()) for p in policies}
    limit = limit or 1.15 * max(max(totals.values()), max((h for _, h in intervals.values()), default=0))
    shrink = {p: min(1.0, 0.97 * limit / totals[p]) for p in policies}
    left = {p: 0.0 for p in policies}
    for name, values in parts.items():
        axes.barh(ys, [values[p] * shrink[p] for p in policies], left=[left[p] for p in policies], height=0.7,
                  color=[PHASE_COLORS.get(name) or color_of(roles, p) for p in policies],
                  label=name if len(parts) > 1 else None)
        left = {p: left[p] + values[p] * shrink[p] for p in policies}
    for y, p in zip(ys, policies):
        mark = suffixes.get(p, "")
        if shrink[p] < 1:
            axes.text(limit * 0.95, y, f"{totals[p]:.3g} {unit}{mark}: bar not to scale", ha="right", va="center",
                      fontsize=8, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            continue
        low, high = intervals.get(p, (totals[p], totals[p]))
        low, high = min(low, totals[p]), max(high, totals[p])  # the median repetition's sum may lie outside
        if p in intervals:
            axes.errorbar(totals[p], y, xerr=[[totals[p] - low], [high - totals[p]]], fmt="none", ecolor="black",
                          capsize=2.5, linewidth=1)
        axes.text(high + limit * 0.01, y, f"{totals[p]:.3g}{mark}", va="center", fontsize=8)
    axes.set_yticks(ys, [label_of(roles, p) for p in policies])
    axes.set_xlim(0, limit)
    axes.set_ylim(len(policies) - 0.5, -0.5)  # the first policy on top
    axes.grid(axis="x", alpha=0.3)


def time_panels(plt, fig, stacked: bool):
    """Per backward order: each policy's training time (seconds for the run's steps), or its
    phases (ms per step); the error bar the 95% interval of the median time."""
    machine, roles = fig.machine, fig.roles
    topos = [t for t in topo_order(machine.series) if len(machine.series[t]) > 1][:2]
    order = sorted(machine.series[topos[0]], key=lambda p: machine.series[topos[0]][p].median_s)
    figure, axes_row = plt.subplots(1, len(topos), figsize=(WIDTH, 0.3 * len(order) + 1.5), sharey=True,
                                    squeeze=False)
    for axes, topo in zip(axes_row[0], topos):
        runs = {p: machine.series[topo][p] for p in order if p in machine.series[topo]}
        policies = [p for p in order if p in runs and (runs[p].phases or not stacked)]
        scale = {p: (1000 if stacked else runs[p].steps) for p in policies}  # ms per step, or seconds for the run
        if stacked:
            parts = {ph: {p: 1000 * runs[p].phases[ph] / runs[p].steps for p in policies} for ph in PHASES}
        else:
            parts = {"time": {p: runs[p].median_s for p in policies}}
        found = {p: phase_total(f"{machine.name}|{topo}|{p}", runs[p]) if stacked else fig.times[topo][p]
                 for p in policies}
        intervals = {p: (scale[p] * iv.low, scale[p] * iv.high) for p, iv in found.items() if iv.available}
        limit = cut_at([sum(v[p] for v in parts.values()) for p in policies])
        bar_panel(axes, roles, policies, parts, intervals, {p: marks(runs[p]) for p in policies},
                  "ms" if stacked else "s", limit)
        steps = runs[policies[0]].steps
        axes.set_xlabel("ms per step (median repetition)" if stacked else f"seconds for {steps} steps (median)")
        axes.set_title(f"--topo {topo}")
    flagged = any(r.flagged for t in topos for r in machine.series[t].values())
    footnote(figure, f"{machine.name}: error bars are 95% intervals of the median; † cv > {100 * NOISY_CV:.0f}%, "
                     "re-run before trusting it" + (f"; {FLAGGED_MARK}k/N: k of N repetitions carry noise flags"
                                                    if flagged else ""),
             axes_row[0][0].get_legend_handles_labels() if stacked else ())
    return figure


def phase_total(label: str, run):
    """The median repetition's phases added up (seconds per step), with the interval of that sum."""
    base = f.stats.repetitions_sample([sum(r.phases.values()) / r.steps for r in run.reps if r.phases])
    point = sum(run.phases.values()) / run.steps
    return f.stats.value_interval(label, f.Sample(point, base.n, base.spread, base.draw, base.how))


def footnote(figure, text: str, legend: tuple = ()) -> None:
    """The note under the panels, and a legend of (handles, labels) above them."""
    if legend:
        figure.legend(*legend, ncol=len(legend[0]), loc="upper center", fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.45 / figure.get_figheight() if legend else 1))
    figure.text(0.5, 0, text, ha="center", va="top", fontsize=8)


def place_labels(axes, points: list) -> None:
    """(x, y, text, (x_low, x_high), (y_low, y_high)): each label beside its point, moved until it
    overlaps no other label, no point and no error bar."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    renderer, to_pixels, inside = axes.figure.canvas.get_renderer(), axes.transData.transform, axes.bbox
    obstacles = []
    for x, y, _, (x_low, x_high), (y_low, y_high) in points:
        (left, middle), (right, _) = to_pixels((x_low, y)), to_pixels((x_high, y))
        (centre, bottom), (_, top) = to_pixels((x, y_low)), to_pixels((x, y_high))
        obstacles += [Bbox.from_extents(left, middle - 4, right, middle + 4),
                      Bbox.from_extents(centre - 4, bottom, centre + 4, top)]
    for x, y, text, _, _ in sorted(points, key=lambda p: -p[1]):
        candidates = [(side * 8, dy) for dy in (0, 9, -9, 18, -18, 27, -27, 36, -36) for side in (1, -1)]
        for dx, dy in candidates:
            label = axes.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", va="center",
                                  ha="left" if dx > 0 else "right", fontsize=8,
                                  arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.6} if dy else None)
            label.update_positions(renderer)
            box = Text.get_window_extent(label, renderer).padded(1)  # the text alone, not its leader line
            fits = inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
            if fits and not any(box.overlaps(other) for other in obstacles) or (dx, dy) == candidates[-1]:
                break
            label.remove()
        obstacles.append(box)


def alloc_vs_train(plt, fig):
    found, roles, machine = fig.throughput, fig.roles, fig.machine
    figure, axes = plt.subplots(figsize=(WIDTH, 5.2))
    name = machine.name
    labels = []
    for point in found.points:
        rate = f.stats.value_interval(f"{name}|chart|rate|{point.policy}", point.rate)
        speed = f.stats.value_interval(f"{name}|chart|speed|{point.policy}", point.speed)
        err = [[[v.point - v.low], [v.high - v.point]] if v.available else None for v in (rate, speed)]
        axes.errorbar(rate.point, speed.point, xerr=err[0], yerr=err[1], fmt="o", color=color_of(roles, point.policy),
                      mfc="white" if point.noisy else color_of(roles, point.policy), capsize=2, markersize=6)
        labels.append((rate.point, speed.point, point.policy, (rate.low or rate.point, rate.high or rate.point),
                       (speed.low or speed.point, speed.high or speed.point)))
    for slope, style, who in ((found.elasticity, "-", "without " + ", ".join(found.left_out) if found.left_out
                               else "all policies"), (found.elasticity_all, "--", "all policies")):
        if slope is None:
            continue
        used = [p for p in found.points if style == "--" or p.policy not in found.left_out]
        mx = sum(math.log(p.rate.point) for p in used) / len(used)
        my = sum(math.log(p.speed.point) for p in used) / len(used)
        xs = [min(p.rate.point for p in used), max(p.rate.point for p in used)]
        axes.plot(xs, [math.exp(my + slope.point * (math.log(x) - mx)) for x in xs], style, color="black", lw=1,
                  label=f"fit, {who}: 10× allocation → {10 ** slope.point:.2f}× training "
                        + (f"({10 ** slope.low:.2f}–{10 ** slope.high:.2f})" if slope.available else "(no interval)"))
    axes.set_xscale("log")
    axes.set_yscale("log")
    plain_ticks(axes.xaxis, "{:.0f} M", 1e6)
    plain_ticks(axes.yaxis, "{:g}", 1)
    figure.canvas.draw()
    place_labels(axes, labels)
    axes.set_xlabel(f"allocations per second, {found.family} microbenchmark (log; error bars 95% intervals)")
    axes.set_ylabel(f"training steps per second, --topo {machine.headline_topo} (log)")
    axes.set_title(f"{machine.name}: how training speed follows allocation speed (hollow: cv > 5%)")
    axes.legend(fontsize=8, loc="lower right")
    axes.grid(alpha=0.3, which="both")
    return figure


def malloc_matrix(plt, fig):
    views = list(fig.matrix.values())
    mallocs = list(dict.fromkeys(m for view in views for m in view.mallocs))
    policies = list(dict.fromkeys(p for view in views for p in view.policies))
    figure, axes_row = plt.subplots(1, len(views), figsize=(WIDTH, 0.42 * len(policies) + 1.8), sharey=True,
                                    squeeze=False)
    for axes, view in zip(axes_row[0], views):
        for index, malloc in enumerate(mallocs):
            offset = (index - (len(mallocs) - 1) / 2) * 0.7 / len(mallocs)
            for y, policy in enumerate(policies):
                speed = view.speed.get((malloc, policy))
                if speed is None:
                    continue
                err = [[speed.point - speed.low], [speed.high - speed.point]] if speed.available else None
                axes.errorbar(speed.point, y + offset, xerr=err, fmt="o", markersize=3.5, capsize=1.5, lw=0.8,
                              color=PALETTE[index % len(PALETTE)], label=malloc + view.user(malloc))
        axes.set_xscale("log")
        axes.axvline(1, color="black", lw=0.8)
        log_ticks(axes)
        axes.set_yticks(range(len(policies)), [label_of(fig.roles, p) for p in policies])
        axes.set_ylim(len(policies) - 0.5, -0.5)
        axes.grid(axis="x", alpha=0.3)
        axes.set_title(f"--topo {view.topo}")
        axes.set_xlabel(f"speed vs {fig.roles.baseline} under {DEFAULT_MALLOC} (log)")
    handles = dict(zip(*reversed(axes_row[0][0].get_legend_handles_labels())))
    footnote(figure, f"{fig.machine.name}: each policy under each process allocator; error bars are 95% intervals",
             (list(handles.values()), list(handles)))
    return figure


def plain_ticks(axis, form: str, unit: float) -> None:
    """A log axis labelled at 1, 2, 5 times the powers of ten, in plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: form.format(value / unit)))
    axis.set_minor_formatter(NullFormatter())


def log_ticks(axes) -> None:
    """A log axis labelled in plain numbers (0.25, 0.5, 1, 2, ...)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    low, high = axes.get_xlim()
    ticks = [t for t in (0.25, 0.5, 1, 2, 4, 8, 16) if low <= t <= high]
    axes.xaxis.set_major_locator(FixedLocator(ticks))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xticks(ticks, [f"{t:g}×" for t in ticks])


def size_chart(plt, fig, order):
    """ns per node at the smallest and the largest graph, sorted as at the smallest."""
    machine, roles = fig.machine, fig.roles
    points = size_points(machine, order)
    ends = [points[0], points[-1]] if len(points) > 1 else points
    policies = sorted(ends[0][2], key=lambda p: ends[0][2][p].ns_per_node)
    figure, axes_row = plt.subplots(1, len(ends), figsize=(WIDTH, 0.3 * len(policies) + 1.5), sharey=True,
                                    squeeze=False)
    for axes, (nodes, (shape, topo), runs) in zip(axes_row[0], ends):
        shown = [p for p in policies if p in runs]
        values = {p: runs[p].ns_per_node for p in shown}
        bar_panel(axes, roles, shown, {"ns": values}, {}, {p: marks(runs[p]) for p in shown}, "ns",
                  cut_at(values.values()))
        axes.set_title(f"n_embd {shape[0]}, n_layer {shape[2]}: {nodes:,.0f} nodes/step", fontsize=9)
        axes.set_xlabel("ns per node (median)")
    footnote(figure, f"{machine.name}, the smallest and the largest graph of the size axis; one repetition per "
                     "cell, so no error bars")
    return figure


def threads_chart(plt, fig, order):
    machine, roles = fig.machine, fig.roles
    found = {k: v for k, v in f.thread_figures(machine).items() if k[0] == DEFAULT_MALLOC} or f.thread_figures(machine)
    malloc = next(iter(found))[0]
    policies = order({p for m, p, _ in found if m == malloc})
    counts = sorted({n for m, _, n in found if m == malloc})
    over = {(r.release, r.threads) for r in machine.thread_runs if r.oversubscribed and r.malloc == malloc}
    figure, (left, right) = plt.subplots(1, 2, figsize=(WIDTH, 0.36 * len(policies) + 1.8), sharey=True)
    for axes, which, release, title in ((left, 0, "inline", "scaling (1.00× = linear)"),
                                        (right, 1, "background", "background-release gain (> 1: it helps)")):
        shown = [n for n in counts if n > 1 or which]
        for index, n in enumerate(shown):
            offset = (index - (len(shown) - 1) / 2) * 0.75 / len(shown)
            for y, policy in enumerate(policies):
                value = found.get((malloc, policy, n), (None, None))[which]
                if value is None:
                    continue
                err = [[value.point - value.low], [value.high - value.point]] if value.available else None
                axes.barh(y + offset, value.point, height=0.75 / len(shown), color=PALETTE[counts.index(n)],
                          hatch=NOISY_HATCH if (release, n) in over else None, edgecolor="white")
                axes.errorbar(value.point, y + offset, xerr=err, fmt="none", ecolor="black", capsize=1.5, lw=0.8)
        axes.axvline(1, color="black", lw=0.8)
        axes.set_title(title)
        axes.grid(axis="x", alpha=0.3)
    from matplotlib.patches import Patch

    handles = [Patch(color=PALETTE[i]) for i in range(len(counts))]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch=NOISY_HATCH))
    left.set_yticks(range(len(policies)), [label_of(roles, p) for p in policies])
    left.set_ylim(len(policies) - 0.5, -0.5)
    footnote(figure, f"{machine.name}, malloc {malloc}: error bars are 95% intervals; oversubscribed: more threads "
                     "than cores, the replicas take turns",
             (handles, [f"{n} thread{'s' * (n > 1)}" for n in counts] + ["oversubscribed"]))
    return figure


def render(results, figs: dict) -> dict:
    """file name -> PNG bytes, for the charts whose data are present (the first machine by name)."""
    plt = import_pyplot()
    with_policies = [figs[n] for n in sorted(results.machines) if results.machines[n].policies]
    if not with_policies:
        return {}
    fig = with_policies[0]
    makers = {"answer.png": lambda: time_panels(plt, fig, stacked=False)}
    if any(r.phases for r in fig.machine.policies.values()):
        makers["phases.png"] = lambda: time_panels(plt, fig, stacked=True)
    if fig.throughput is not None and len(fig.throughput.points) > 1:
        makers["alloc_vs_train.png"] = lambda: alloc_vs_train(plt, fig)
    if fig.matrix:
        makers["malloc_matrix.png"] = lambda: malloc_matrix(plt, fig)
    if size_points(fig.machine, results.order):
        makers["size.png"] = lambda: size_chart(plt, fig, results.order)
    if fig.machine.thread_runs:
        makers["threads.png"] = lambda: threads_chart(plt, fig, results.order)
    images = {}
    for name, make in makers.items():
        figure = make()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
        plt.close(figure)
        images[name] = buffer.getvalue()
    return images
