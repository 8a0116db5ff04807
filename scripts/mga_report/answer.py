"""The answer: at most five bullets, each a measured number with its 95% interval and one
plain sentence, all from one machine's figures. No verdict words on a threshold: where an
interval is wide, the sentence says so."""

from __future__ import annotations

from . import figures as f
from .fmt import names, ratio_ci, share_ci
from .model import PHASES, topo_order


def ci(interval) -> str:
    """'3.26× (95% CI 2.77–4.07)', saying 'a wide interval' when its ends are more than 2x apart."""
    if not interval.available:
        return ratio_ci(interval)
    wide = ", a wide interval" if interval.wide else ""
    return f"{interval.point:.2f}× (95% CI {interval.low:.2f}–{interval.high:.2f}{wide})"


def share_bullet(fig) -> str:
    base = fig.roles.baseline
    found = [(t, fig.shares[t][base]) for t in topo_order(fig.shares) if base in fig.shares[t]]
    if not found:
        return ("The share of a step spent allocating is not measured: it needs phase times of a run marked "
                "baseline and of one marked no_alloc_reference.")
    shares = [f"{share_ci(s)} with `--topo {t}`" for t, s in found]
    shares[0] = shares[0].replace("(", "(95% CI ", 1).replace(" with", f" of a `{base}` training step with", 1)
    return (f"Allocating and releasing nodes take {' and '.join(shares)}; were they free, that alone would make "
            f"training at most {' and '.join(ratio_ci(f.amdahl(s)) for _, s in found)} as fast "
            "(Amdahl: 1 / (1 − share)).")


def reason(fig, topo: str, policy: str) -> str:
    """The phase without allocation whose time differs most from the baseline's, and the scattered
    control's same phase: the measured reason a policy beats the Amdahl bound."""
    runs, base = fig.machine.series[topo], fig.roles.baseline
    quiet = [p for p in PHASES if p not in f.ALLOCATING_PHASES]
    if runs[policy].phases is None or runs[base].phases is None:
        return ""
    phase = max(quiet, key=lambda p: runs[base].phases[p] / runs[base].steps
                - runs[policy].phases[p] / runs[policy].steps)
    label = f"{fig.machine.name}|answer|{topo}|{phase}"
    text = (f": its {phase} phase, which allocates nothing, runs "
            f"{ci(f.phase_ratio(label + '|' + policy, runs[policy], runs[base], phase))} as fast as `{base}`'s")
    scattered = [p for p in fig.roles.having("scattered") if p in runs]
    if scattered:
        control = runs[scattered[0]]
        text += (f", and with its nodes scattered (the layout control `{control.name}`) "
                 f"{ci(f.phase_ratio(label + '|' + control.name, control, runs[base], phase))} as fast: the "
                 "difference is where the nodes land")
    return text


def custom_bullet(fig) -> str:
    topo, base = fig.machine.headline_topo, fig.roles.baseline
    speeds = fig.speed.get(topo, {})
    custom = [p for p in fig.roles.having("hand_written") if p in speeds and not fig.roles.has(p, "control")]
    if not custom:
        return "No hand-written allocator (a run marked hand_written) ran beside the baseline."
    best = max(custom, key=lambda p: speeds[p].point)
    text = (f"The fastest hand-written allocator, `{best}`, trains {ci(speeds[best])} as fast as `{base}` with "
            f"`--topo {topo}`")
    share = fig.shares.get(topo, {}).get(base)
    if share is None:
        return text + "."
    bound = f.amdahl(share)
    if speeds[best].side(bound.high if bound.available else bound.point) > 0:
        return text + f", beyond that {ratio_ci(bound)} bound" + reason(fig, topo, best) + "."
    return text + f", not measurably beyond the {ratio_ci(bound)} bound above."


def drop_in_bullet(fig) -> str:
    base, topo = fig.roles.baseline, fig.machine.headline_topo
    view = fig.matrix.get(topo)
    found = [(m, view.speed[(m, base)]) for m in view.mallocs[1:] if (m, base) in view.speed] if view else []
    if not found:
        return (f"No policy × process-allocator matrix with `--topo {topo}` in results/, so what a drop-in "
                "allocator buys the unchanged program is not measured.")
    malloc, speed = max(found, key=lambda pair: pair[1].point)
    return (f"The best drop-in process allocator, `{malloc}` (preloaded, not a line changed), makes the unchanged "
            f"`{base}` program {ci(speed)} as fast with `--topo {topo}`.")


def nodes_bullet(fig) -> str:
    ceiling = fig.ceiling
    if ceiling is None or ceiling.exact_vs_graph is None:
        return ("No `--engine tape-exact` run beside the no-alloc reference's `--topo creation` run, so what "
                "removing the nodes buys is not measured.")
    exact, graph = ceiling.exact, ceiling.graph
    same = exact.output_config == graph.output_config and set(exact.hashes) == set(graph.hashes) and exact.hashes
    return ("Removing the nodes altogether (`--engine tape-exact`: fused operations on flat buffers, "
            + ("the same output bytes" if same else "output hashes that differ, so not the same arithmetic") +
            f") trains {ci(ceiling.exact_vs_graph)} as fast as `{graph.name}` with `--topo {f.GRAPH_TOPO}`, the "
            "fastest node graph.")


def elasticity_bullet(fig) -> str:
    found = fig.throughput
    if found is None or found.elasticity is None:
        return ("Training speed is not set against allocation speed: it needs Google Benchmark allocation rates "
                "(`allocs/s`) of at least two policies that also trained.")
    robust = [p.policy for p in found.points if p.policy not in found.left_out]
    who = f"the {len(robust)} policies" + (f" other than the reference-counted {names(found.left_out)}"
                                           if found.left_out else "")
    text = (f"Across {who} (layout controls left out), 10× faster allocation in the `{found.family}` "
            f"microbenchmark went with {ci(f.tenfold(found.elasticity))} faster training with "
            f"`--topo {fig.machine.headline_topo}` (log–log slope {found.elasticity.point:.2f})")
    if found.elasticity_all is not None:
        text += f"; with {names(found.left_out)}, {ci(f.tenfold(found.elasticity_all))}"
    return text + "."


def bullets(fig) -> list:
    """The answer as Markdown list items."""
    if not fig.machine.policies:
        return ["- No default-shape training runs, so there is no answer."]
    return ["- " + b(fig) for b in (share_bullet, custom_bullet, drop_in_bullet, nodes_bullet, elasticity_bullet)]
