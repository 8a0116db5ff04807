"""The answer: at most five bullets, all from one machine's figures, each led by one measured
number with its 95% interval in one plain sentence (the README's bullet); REPORT.md's bullet adds
the secondary figures after it. No verdict words on a threshold: where an interval is wide, the
sentence says so."""

from __future__ import annotations

from . import figures as f
from .fmt import bounds, names, ratio_ci, share_ci
from .model import PHASES, topo_order

MAX_HEADLINE = 240  # characters: two lines at 120 columns


def ci(interval) -> str:
    """'3.26× (95% CI 2.77–4.07)', saying 'a wide interval' when its ends are more than 2x apart."""
    if not interval.available:
        return ratio_ci(interval)
    wide = ", a wide interval" if interval.wide else ""
    return f"{interval.point:.2f}× (95% CI {interval.low:.2f}–{interval.high:.2f}{wide})"


def share_bullet(fig) -> tuple:
    base = fig.roles.baseline
    found = [(t, fig.shares[t][base]) for t in topo_order(fig.shares) if base in fig.shares[t]]
    if not found:
        return ("The share of a step spent allocating is not measured: it needs phase times of a run marked "
                "baseline and of one marked no_alloc_reference."), ""
    (topo, share), others = found[0], found[1:]
    headline = share_ci(share).replace("(", "(95% CI ", 1)
    bound = f.amdahl(share)
    return (f"{headline} of a `{base}` training step is allocating and releasing nodes (`--topo {topo}`); were that "
            f"free, training would be at most {bound.point:.2f}× as fast (Amdahl: 1 / (1 − share))."), (
        f"The bound with its interval: {ratio_ci(bound)}." + "".join(
            f" With `--topo {t}`: {share_ci(s)} of a step, a bound of {ratio_ci(f.amdahl(s))}." for t, s in others))


def reason(fig, topo: str, policy: str) -> tuple:
    """The phase without allocation whose time differs most from the baseline's, and the scattered
    control's same phase: (a clause for the headline, the figures for the details)."""
    runs, base = fig.machine.series[topo], fig.roles.baseline
    if runs[policy].phases is None or runs[base].phases is None:
        return "", ""
    phase = max((p for p in PHASES if p not in f.ALLOCATING_PHASES), key=lambda p: runs[base].phases[p] /
                runs[base].steps - runs[policy].phases[p] / runs[policy].steps)
    label = f"{fig.machine.name}|answer|{topo}|{phase}"
    own = f.phase_ratio(label + "|" + policy, runs[policy], runs[base], phase)
    details = f"Its {phase} phase, which allocates nothing, runs {ci(own)} as fast as `{base}`'s"
    clause = f": its {phase} phase, which allocates nothing, is faster too" if own.side() > 0 else ""
    scattered = [p for p in fig.roles.having("scattered") if p in runs]
    if scattered:
        control = runs[scattered[0]]
        theirs = f.phase_ratio(label + "|" + control.name, control, runs[base], phase)
        details += f"; with its nodes scattered (the layout control `{control.name}`), {ci(theirs)}"
        if clause and theirs.side() <= 0:  # the same allocator, its nodes elsewhere: the phase is not faster
            clause = f": where its nodes land makes even its {phase} phase, which allocates nothing, faster"
    return clause, details + "."


def custom_bullet(fig) -> tuple:
    topo, base = fig.machine.headline_topo, fig.roles.baseline
    speeds = fig.speed.get(topo, {})
    custom = [p for p in fig.roles.having("hand_written") if p in speeds and not fig.roles.has(p, "control")]
    if not custom:
        return "No hand-written allocator (a run marked hand_written) ran beside the baseline.", ""
    best = max(custom, key=lambda p: speeds[p].point)
    text = (f"`{best}`, the fastest hand-written allocator, trains {ci(speeds[best])} as fast as `{base}` "
            f"(`--topo {topo}`)")
    share = fig.shares.get(topo, {}).get(base)
    if share is None:
        return text + ".", ""
    bound = f.amdahl(share)
    if speeds[best].side(bound.high if bound.available else bound.point) > 0:
        clause, details = reason(fig, topo, best)
        return text + ", past the bound above" + clause + ".", details
    return text + ", not measurably beyond the bound above.", f"The bound: {ratio_ci(bound)}."


def drop_in_bullet(fig) -> tuple:
    base, topo = fig.roles.baseline, fig.machine.headline_topo
    view = fig.matrix.get(topo)
    found = [(m, view.speed[(m, base)]) for m in view.mallocs[1:] if (m, base) in view.speed] if view else []
    if not found:
        return (f"No policy × process-allocator matrix with `--topo {topo}` in results/, so what a drop-in "
                "allocator buys the unchanged program is not measured."), ""
    malloc, speed = max(found, key=lambda pair: pair[1].point)
    others = [f"`{m}`{view.user(m)} {ratio_ci(s)}" for m, s in found if m != malloc]
    return (f"`{malloc}`{view.user(malloc)}, the best drop-in process allocator (`--malloc`, not a line of code "
            f"changed), makes the unchanged `{base}` program {ci(speed)} as fast (`--topo {topo}`)."), (
        "The other drop-ins: " + ", ".join(others) + "." if others else "")


def nodes_bullet(fig) -> tuple:
    ceiling = fig.ceiling
    if ceiling is None or ceiling.exact_vs_graph is None:
        return ("No `--engine tape-exact` run beside the no-alloc reference's `--topo creation` run, so what "
                "removing the nodes buys is not measured."), ""
    exact, graph = ceiling.exact, ceiling.graph
    same = exact.output_config == graph.output_config and set(exact.hashes) == set(graph.hashes) and exact.hashes
    share = ceiling.exact_vs_graph.map(lambda r: 1 - 1 / r)
    details = f"Making, linking and walking the nodes is {share_ci(share)} of that graph's time."
    if ceiling.fast_vs_exact is not None:
        details += f" `--engine tape` (backward in its own order) is {ratio_ci(ceiling.fast_vs_exact)} as fast as that."
    return ("Removing the nodes (`--engine tape-exact`: fused operations on flat buffers, "
            + ("the same output bytes" if same else "output hashes that differ, so not the same arithmetic") +
            f") trains {ci(ceiling.exact_vs_graph)} as fast as `{graph.name}` with `--topo {f.GRAPH_TOPO}`, the "
            "fastest node graph."), details


def elasticity_bullet(fig) -> tuple:
    found = fig.throughput
    if found is None or found.elasticity is None:
        return ("Training speed is not set against allocation speed: it needs Google Benchmark allocation rates "
                "(`allocs/s`) of at least two policies that also trained."), ""
    robust = [p.policy for p in found.points if p.policy not in found.left_out]
    who = f"the {len(robust)} policies other than the layout controls" + (
        f" and the reference-counted {names(found.left_out)}" if found.left_out else "")
    details = f"The log–log slope: {found.elasticity.point:.2f} {bounds(found.elasticity)}."
    if found.elasticity_all is not None:
        details += f" With {names(found.left_out)}: {ci(f.tenfold(found.elasticity_all))}."
    return (f"10× faster allocation (the `{found.family}` microbenchmark) went with {ci(f.tenfold(found.elasticity))}"
            f" faster training (`--topo {fig.machine.headline_topo}`) across {who}."), details


def bullets(fig, details: bool = False) -> list:
    """The answer as Markdown list items: the headlines, or (for REPORT.md) each with its details."""
    if not fig.machine.policies:
        return ["- No default-shape training runs, so there is no answer."]
    found = [b(fig) for b in (share_bullet, custom_bullet, drop_in_bullet, nodes_bullet, elasticity_bullet)]
    return [f"- {headline}" + (f" {more}" if details and more else "") for headline, more in found]
