"""The answer in words, generated from the figures: the allocation share's verdict and
the throughput verdict, which comes from the robust figure (the fit without the
reference-counted policy) and says whether it survives removing any one policy."""

from __future__ import annotations

from . import analysis, fmt
from .analysis import PROPORTIONAL_SLOPE, RANKING_AGREES_R
from .figures import Figures
from .model import PHASES, topo_order
from .sections import NO_TRAITS, topo_phrase


def ci(interval, digits: int = 2) -> str:
    if interval is None or not interval.available:
        return "no interval"
    return f"95% CI {interval.low:.{digits}f}–{interval.high:.{digits}f}"


def share_ci(interval) -> str:
    if not interval.available:
        return "no interval"
    return f"95% CI {100 * interval.low:.1f}–{100 * interval.high:.1f}%"


def share_sentences(fig: Figures) -> list[str]:
    """The baseline's allocation share in the headline order, then in the other orders."""
    roles, machine = fig.roles, fig.machine
    headline = machine.headline_topo
    sentences = []
    for topo in topo_order(fig.shares):
        share = fig.shares[topo].get(roles.baseline)
        if share is None:
            continue
        if topo == headline:
            sentences.append(
                f"Allocation {analysis.share_verdict(share)}: with {topo_phrase(topo)}, allocating and releasing "
                f"take about {fmt.percent(share.point)} ({share_ci(share)}) of a `{roles.baseline}` training step "
                f"(phase split against `{roles.no_alloc_reference}`).")
        else:
            sentences.append(f"With {topo_phrase(topo)} the same share is {fmt.percent(share.point)} "
                             f"({share_ci(share)}), so there allocation {analysis.share_verdict(share)}.")
    return sentences


def fit_clause(fit) -> str:
    slope, r = fit.slope, fit.r
    text = (f"a 10× faster allocator goes with {10 ** slope.point:.2f}× the training speed "
            f"(log–log slope {slope.point:.2f}, {ci(slope)}")
    if r is not None:
        text += f"; r = {r.point:.2f}, {ci(r)}"
    return text + ")"


def throughput_sentences(fig: Figures) -> list[str]:
    found, verdict = fig.throughput, fig.verdict
    if found is None:
        return []
    robust = found.robust
    if robust.slope is None:
        return [f"Too few policies ({len(robust.names)}) with both an allocation rate and a training time "
                "to relate the two."]
    count = len(robust.names)
    if found.without:
        subject = f"Across the {count} policies other than the reference-counted {fmt.names(found.without)}"
    elif not found.roles_known:
        subject = (f"Across all {count} policies (which one is reference-counted is not recorded, so none is "
                   "left out)")
    else:
        subject = f"Across the {count} policies (none is marked reference-counted)"
    fragile = not verdict.survives or verdict.slope_spans_threshold or verdict.r_spans_threshold
    hedge = "on the point estimates, " if fragile else ""
    sentences = [f"{subject}, {fit_clause(robust)}: {hedge}**{verdict.words}**."]
    if verdict.slope_range is not None:
        ranges = f"slopes {verdict.slope_range[0]:.2f}–{verdict.slope_range[1]:.2f}"
        if verdict.r_range is not None:
            ranges += f", r {verdict.r_range[0]:.2f}–{verdict.r_range[1]:.2f}"
        if verdict.survives:
            sentences.append(f"This verdict survives removing any one of these policies ({ranges}).")
        else:
            flips = "; ".join(f"without `{policy}` the slope is {fmt.number(s, 2)} and r = {fmt.number(r, 2)}, "
                              f"{analysis.SHORT[words]}" for policy, s, r, words in verdict.flips)
            sentences.append(f"This verdict does not survive removing a single policy: {flips} "
                             f"(leave-one-out {ranges}).")
    doubts = []
    if verdict.slope_spans_threshold:
        doubts.append(f"the slope's interval contains {PROPORTIONAL_SLOPE}")
    if verdict.r_spans_threshold:
        doubts.append(f"r's interval contains {RANKING_AGREES_R}")
    if doubts:
        sentences.append(f"The thresholds lie inside the intervals ({' and '.join(doubts)}), so the "
                         "measurements do not settle the verdict either way.")
    if found.without and found.everyone.slope is not None:
        everyone = found.everyone
        words = analysis.explains(everyone.slope.point, everyone.r.point if everyone.r else None)
        sentences.append(f"With {fmt.names(found.without)} included, {fit_clause(everyone)}: "
                         f"{analysis.SHORT[words]}.")
    return sentences


def verdict_sentences(fig: Figures) -> list[str]:
    """What the README quotes: the share verdicts and the throughput verdict."""
    sentences = share_sentences(fig)
    if not fig.roles.known:
        sentences.append(NO_TRAITS[0].upper() + NO_TRAITS[1:] + ".")
    return sentences + throughput_sentences(fig)


def saving_sentences(fig: Figures) -> list[str]:
    roles, machine = fig.roles, fig.machine
    base = fig.baseline
    sentences = []
    if base is not None and base.phases:
        largest = max(PHASES, key=lambda phase: base.phases[phase])
        sentences.append(f"The largest phase under `{base.name}` is {largest} "
                         f"({fmt.percent(base.phases[largest] / sum(base.phases.values()))} of the step).")
    speeds = fig.speed.get(machine.headline_topo, {})
    reference = roles.no_alloc_reference
    if base is not None and reference in speeds:
        sentences.append(fmt.speed_words(speeds[reference], f"`{reference}`", f"`{base.name}`") +
                         f" with {machine.headline_topo}.")
    others = {p: s for p, s in speeds.items()
              if p not in (roles.baseline, reference) and p not in roles.controls}  # controls are no strategy
    if others:
        best = max(others, key=lambda p: others[p].point)
        sentences.append("The fastest other policy: " + fmt.speed_words(others[best], f"`{best}`",
                                                                        f"`{roles.baseline}`") + ".")
    return sentences


def chain_sentence(fig: Figures) -> list[str]:
    found, base = fig.throughput, fig.roles.baseline
    if found is None or base is None or found.point(base) is None or len(fig.rate_ratios) < 2:
        return []
    fastest = max((p for p in fig.rate_ratios if p != base), key=lambda p: fig.rate_ratios[p].point)
    speed = fig.speed.get(fig.machine.headline_topo, {}).get(fastest)
    if speed is None:
        return []
    rate = fig.rate_ratios[fastest]
    return [f"In the `{found.family}` microbenchmark `{fastest}` allocates {rate.point:.2f}× as fast as `{base}` "
            f"({ci(rate)}) and trains {speed.point:.2f}× as fast ({ci(speed)})."]


def answer_paragraph(fig: Figures) -> str:
    """One paragraph in plain words, built only from this machine's figures."""
    if not fig.machine.policies:
        return "No default-shape training runs."
    sentences = share_sentences(fig)
    if not fig.roles.known:
        sentences.append(NO_TRAITS[0].upper() + NO_TRAITS[1:] + ".")
    elif fig.roles.baseline is None:
        sentences.append("No run is marked as the baseline, so there are no speed ratios.")
    sentences += saving_sentences(fig) + chain_sentence(fig) + throughput_sentences(fig)
    return " ".join(sentences)
