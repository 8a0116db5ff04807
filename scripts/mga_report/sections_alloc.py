"""Report sections about allocation rates: throughput vs training speed (with and
without the reference-counted policy, leave-one-out), Google Benchmark results, and
the size axis."""

from __future__ import annotations

from . import analysis, fmt
from .analysis import PROPORTIONAL_SLOPE, RANKING_AGREES_R
from .loading import shape_label
from .model import Machine
from .sections import image

SAME_RATIO = 1.1  # the size-axis sentence calls a ratio unchanged when it moves by less than this factor


def fit_row(label: str, fit) -> list[str]:
    if fit.slope is None:
        return [label, str(len(fit.names)), "n/a", "n/a", "n/a", analysis.CANNOT_TELL]
    r = fit.r
    return [label, str(len(fit.names)), fmt.value_ci(fit.slope), f"{10 ** fit.slope.point:.2f}×",
            fmt.value_ci(r) if r else "n/a (fewer than 3 points)",
            analysis.SHORT[analysis.explains(fit.slope.point, r.point if r else None)]]


def section_throughput(machines: list, figures: dict, charts: set) -> list[str]:
    lines = ["## Allocation throughput vs training speed", ""]
    shown = [m for m in machines if figures[m.name].throughput is not None]
    if not shown:
        return lines + ["No Google Benchmark results with an allocation rate (`allocs/s`) for policies that also "
                        "have training runs; run `scripts/bench_gbench.sh`.", ""]
    lines += image(charts, "alloc_vs_train", "allocs/s vs steps/s") + [
        "The claim under test: *allocation throughput explains training speed*. If it did, a policy that "
        "allocates k× faster would train close to k× faster (log–log slope near 1) and the ranking would agree "
        "(Pearson r on log values near 1). The verdict says throughput largely explains speed only when "
        f"r ≥ {RANKING_AGREES_R} and the slope ≥ {PROPORTIONAL_SLOPE} (*largely explains*; with r alone: *less "
        "than in proportion*; else *does not explain*). It is taken from the *robust* fit, which "
        "leaves out the reference-counted policy (its cost is reference counting, not allocation), and is "
        "checked by removing each remaining policy in turn (leave-one-out). Intervals: 95% percentile "
        "bootstrap that resamples the policies and, within each, its repetitions. Controls (layout controls, "
        "not strategies) are left out of the fits. Training speed is the headline series.", ""]
    for machine in shown:
        fig = figures[machine.name]
        found = fig.throughput
        base = fig.roles.baseline if found.point(fig.roles.baseline or "") else None
        lines += [f"### {machine.name}", "",
                  f"Rates: `{found.family}` benchmarks of {found.source}, counter `{found.counter}` (median "
                  "of the repetitions).", ""]
        rows = []
        for point in found.points:
            speed = fig.speed.get(machine.headline_topo, {}).get(point.policy)
            rows.append([fmt.code(point.policy), fmt.rate(point.rate.point) + fmt.noisy(point.rate_noisy),
                         f"{point.speed.point:.1f}{fmt.noisy(point.speed_noisy)}",
                         fmt.ratio_ci(fig.rate_ratios.get(point.policy)) if base else fmt.DASH,
                         fmt.ratio_ci(speed) if base else fmt.DASH])
        versus = f"vs {fmt.code(base)}" if base else "vs the baseline"
        lines += fmt.table(["policy", "allocs/s", "training steps/s", f"allocs/s {versus} (95% CI)",
                            f"training speed {versus} (95% CI)"], rows)
        if any(p.rate_noisy or p.speed_noisy for p in found.points):
            lines += [fmt.NOISY_LEGEND, ""]
        if found.controls:
            lines += [f"Left out as controls: {fmt.names(found.controls)}.", ""]
        fits = [fit_row("every policy", found.everyone)]
        if found.without:
            fits.append(fit_row(f"without {', '.join(fmt.code(p) for p in found.without)} (robust)", found.robust))
        lines += fmt.table(["fit", "policies", "log–log slope (95% CI)", "10× allocs/s buys", "Pearson r (95% CI)",
                            "verdict"], fits)
        if not found.roles_known:
            lines += ["Which policy is reference-counted is not recorded (the results predate traits), so the "
                      "robust fit cannot leave it out: every fit here includes every policy.", ""]
        lines += leave_one_out_lines(fig)
    return lines


def leave_one_out_lines(fig) -> list[str]:
    found, verdict = fig.throughput, fig.verdict
    if not found.loo:
        return []
    rows = [[f"without {fmt.code(policy)}", fmt.number(s, 3), fmt.number(r, 3),
             analysis.SHORT[words] + (" ⚠ differs" if words != verdict.words else "")]
            for policy, (s, r) in found.loo.items() for words in [analysis.explains(s, r)]]
    survives = ("survives removing any one policy" if verdict.survives else
                "does **not** survive removing a single policy")
    return (["Leave-one-out over the robust fit's policies:", ""] +
            fmt.table(["fit", "slope", "r", "verdict"], rows) +
            [f"The robust verdict ({verdict.words}) {survives}.", ""])


def section_gbench(machines: list, results_order) -> list[str]:
    lines = []
    for machine in machines:
        if not machine.rate_points:
            continue
        positions = {p: i for i, p in enumerate(results_order({q.policy for q in machine.rate_points}))}
        rows = [[p.source, p.family, fmt.code(p.policy), p.instance, fmt.time_ns(p.real_time_ns),
                 fmt.rate(p.rate) + fmt.noisy(p.noisy), str(p.repetitions), fmt.cv_cell(p.cv)]
                for p in sorted(machine.rate_points,
                                key=lambda q: (q.source, q.family, positions[q.policy], q.instance))]
        lines += [f"### {machine.name}", ""] + fmt.table(
            ["file", "family", "policy", "benchmark", "real time", "allocs/s", "reps", "cv"], rows)
        if any(p.noisy for p in machine.rate_points):
            lines += [fmt.NOISY_LEGEND, ""]
    if lines:
        lines = ["## Google Benchmark results", "", "Median aggregate per benchmark (mean of iterations when "
                 "no median was recorded); cv of the allocation rate (of the time when there is none).", ""] + lines
    return lines


# ---- size axis -------------------------------------------------------------


def size_points(machine: Machine, order) -> list:
    """(nodes per step, key, runs) per size-axis shape, smallest graph first (unknown sizes last)."""
    points = []
    for key, runs in machine.size_runs.items():
        nodes = next((runs[p].nodes_per_step for p in order(runs) if runs[p].nodes_per_step), None)
        points.append((nodes, key, runs))
    return sorted(points, key=lambda p: (p[0] is None, p[0] or 0, p[1]))


def size_key_label(key, machine: Machine) -> str:
    shape, topo = key
    several_topos = len({t for _, t in machine.size_runs}) > 1
    return shape_label(shape) + (f" · topo {topo}" if several_topos else "")


def size_cell(run) -> str:
    if run is None:
        return fmt.DASH
    ns = fmt.DASH if run.ns_per_node is None else f"{run.ns_per_node:.1f} ns"
    return f"{ns}{fmt.noisy(run.noisy)} · {fmt.kib(run.peak_rss_kib)}"


def section_size(machines: list, figures: dict, order, charts: set) -> list[str]:
    shown = [m for m in machines if m.size_runs]
    lines = ["## Size axis", ""]
    if not shown:
        return lines + ["No size-axis results (other model shapes); scripts/sweep.sh writes them to "
                        "results/<machine>/sweep/.", ""]
    lines += image(charts, "size_ns_per_node", "ns per node vs graph size")
    lines += image(charts, "size_rss", "peak RSS vs graph size")
    lines += ["Training runs of other model shapes, and every file under a `sweep/` folder. Cells are "
              "nanoseconds per graph node (median training time / steps / nodes per step) · peak RSS.", ""]
    for machine in shown:
        points = size_points(machine, order)
        policies = order({p for _, _, runs in points for p in runs})
        rows = []
        for nodes, key, runs in points:
            steps = ", ".join(str(n) for n in sorted({r.steps for r in runs.values()}))
            rows.append([size_key_label(key, machine), steps, fmt.number(nodes, 0)] +
                        [size_cell(runs.get(p)) for p in policies])
        lines += [f"### {machine.name}", ""]
        lines += fmt.table(["shape", "steps", "nodes/step"] + [fmt.code(p) for p in policies], rows)
        lines += [size_divergence(machine, figures[machine.name].roles, points), ""]
    return lines


def trend(small: float, large: float) -> str:
    if large > small * SAME_RATIO:
        return "diverge"
    if large < small / SAME_RATIO:
        return "converge"
    return "stay about as far apart"


def ns_spread(label: str, runs: dict):
    """The slowest policy's time per node over the fastest's, with its interval (None
    with fewer than two policies)."""
    timed = [r for r in runs.values() if r.ns_per_node]
    if len(timed) < 2:
        return None
    slowest = max(timed, key=lambda r: r.ns_per_node)
    fastest = min(timed, key=lambda r: r.ns_per_node)
    return analysis.speed_ratio(label, fastest, slowest)


def size_divergence(machine: Machine, roles, points) -> str:
    """One sentence: how far apart the policies are at the smallest and the largest graph."""
    sized = [p for p in points if p[0] is not None]
    if len(sized) < 2:
        return "Fewer than two shapes with a node count, so there is no size trend to describe."
    (small_nodes, small_key, small_runs), (large_nodes, large_key, large_runs) = sized[0], sized[-1]
    where_small = f"({size_key_label(small_key, machine)}, {small_nodes:,.0f} nodes/step)"
    where_large = f"({size_key_label(large_key, machine)}, {large_nodes:,.0f} nodes/step)"
    spread_small = ns_spread(f"{machine.name}|spread|{small_key}", small_runs)
    spread_large = ns_spread(f"{machine.name}|spread|{large_key}", large_runs)
    spread = ("" if spread_small is None or spread_large is None else
              f"; across all policies the slowest takes {fmt.ratio_ci(spread_small)} the fastest's time per node "
              f"at the smallest shape and {fmt.ratio_ci(spread_large)} at the largest")
    base, reference = roles.baseline, roles.no_alloc_reference
    pairs = [(runs.get(base), runs.get(reference)) for runs in (small_runs, large_runs)] if base and reference else []
    if pairs and all(a and b and a.ns_per_node and b.ns_per_node for a, b in pairs):
        (slow_s, fast_s), (slow_l, fast_l) = pairs
        small = analysis.speed_ratio(f"{machine.name}|size|{small_key}", fast_s, slow_s)
        large = analysis.speed_ratio(f"{machine.name}|size|{large_key}", fast_l, slow_l)
        return (f"`{base}` takes {fmt.ratio_ci(small)} `{reference}`'s time per node at the smallest shape "
                f"{where_small} and {fmt.ratio_ci(large)} at the largest {where_large}, so these two "
                f"{trend(small.point, large.point)} as the graph grows{spread}.")
    if spread:
        return (f"From the smallest shape {where_small} to the largest {where_large} the policies "
                f"{trend(spread_small.point, spread_large.point)}{spread}.")
    return "No policy ran at both the smallest and the largest shape, so there is no size trend to describe."
