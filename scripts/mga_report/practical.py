"""The practical answer, from the policy x malloc matrix: preload a malloc, use std::pmr,
or write an arena?

  - a drop-in: the baseline (the unchanged new/delete program) and each reference-counted
    policy under each process allocator, against themselves under glibc;
  - std::pmr: each standard-library policy against the hand-written policy that frees
    the same way (its `frees_per_node`), and standard-library policies that free the same
    way against each other (e.g. a synchronized resource against an unsynchronized one);
  - what remains: each hand-written policy under glibc against the baseline under the
    best drop-in.

Every figure is a speed ratio per step with its 95% interval, called faster or slower
only when the interval excludes 1. Which policies are the standard library's and which
hand-written comes from the traits `standard_library` and `hand_written`; without them
the std::pmr part says it cannot tell. All cells of one order come from the matrix.
"""

from __future__ import annotations

from . import fmt
from .matrix import MatrixView, between
from .model import DEFAULT_MALLOC, Roles, topo_order
from .stats import Interval

NO_MATRIX = ("No policy × process-allocator matrix in results/ yet (`bench_train --malloc=all --allocator=all "
             "--repeat 5 --json FILE`, once per `--topo`), so there is no practical answer.")
NO_KINDS = ("Which policies are the standard library's (std::pmr) and which are hand-written is not recorded in "
            "the runs' traits (`standard_library`, `hand_written`), so std::pmr is not compared with the "
            "hand-written arena and pool.")


def tail(interval: Interval) -> str:
    """' (95% CI 1.10–1.40): faster', or why it is not called either."""
    if not interval.available:
        return f" (no interval: {interval.note or 'no spread recorded'}, so not called faster or slower)"
    words = {1: "faster", -1: "slower", 0: "no measurable difference"}[interval.side()]
    return f" (95% CI {interval.low:.2f}–{interval.high:.2f}): {words}"


def versus(interval: Interval, subject: str, other: str) -> str:
    """'`a` runs at 1.23× the speed of `b` (95% CI 1.10–1.40): faster'."""
    return f"{subject} runs at {interval.point:.2f}× the speed of {other}{tail(interval)}"


def label(view: MatrixView, *parts) -> str:
    return "|".join((view.machine, "practical", view.topo) + parts)


def drop_in(view: MatrixView, policy: str) -> list:
    """(malloc, Interval) of `policy` under each other malloc against itself under glibc."""
    home = view.cell(DEFAULT_MALLOC, policy)
    found = []
    for malloc in view.mallocs:
        if malloc != DEFAULT_MALLOC and home is not None and view.cell(malloc, policy) is not None:
            found.append((malloc, between(label(view, "dropin", malloc, policy), view.cell(malloc, policy), home)))
    return found


def drop_in_sentences(view: MatrixView, roles: Roles) -> tuple[list[str], str]:
    """The sentences, and the malloc under which the baseline is fastest (glibc if none is)."""
    base = roles.baseline
    sentences = []
    for policy, what in [(base, f"For the unchanged new/delete program ({fmt.code(base)}, the baseline), a "
                                f"drop-in process allocator gives this speed against {fmt.code(base)} under glibc")] + [
            (p, f"For {fmt.code(p)} (reference-counted), against itself under glibc") for p in roles.reference_counted]:
        found = drop_in(view, policy)
        if not found:
            continue
        parts = [f"under {fmt.code(malloc)} {interval.point:.2f}×{tail(interval)}" for malloc, interval in found]
        sentences.append(f"{what}: " + "; ".join(parts) + ".")
    found = drop_in(view, base)
    if not found:
        return [f"{fmt.code(base)} ran under no process allocator other than glibc, so what a drop-in buys is not "
                "measured."], DEFAULT_MALLOC
    faster = [(malloc, interval) for malloc, interval in found if interval.side() > 0]
    if faster:
        best_malloc, _ = max(faster, key=lambda pair: pair[1].point)
        sentences.append(f"The best drop-in for {fmt.code(base)} is {fmt.code(best_malloc)}"
                         + (" (the fastest of those measurably faster than glibc)." if len(faster) > 1 else "."))
        return sentences, best_malloc
    sentences.append(f"No drop-in makes {fmt.code(base)} measurably faster than glibc.")
    return sentences, DEFAULT_MALLOC


def kind_policies(view: MatrixView, roles: Roles, kind: str) -> list:
    return [p for p in view.policies if getattr(roles.traits.get(p), kind, False)
            and view.cell(DEFAULT_MALLOC, p) is not None]


def pmr_sentences(view: MatrixView, roles: Roles) -> list[str]:
    if not roles.kinds_known:
        return [NO_KINDS]
    standard, hand = kind_policies(view, roles, "standard_library"), kind_policies(view, roles, "hand_written")
    if not standard:
        return ["No standard-library policy ran under glibc in this order."]
    parts, seen = [], {}
    for policy in standard:
        frees = roles.traits[policy].frees_per_node
        twins = [h for h in hand if roles.traits[h].frees_per_node == frees]
        if len(twins) == 1:
            interval = between(label(view, "pmr", policy, twins[0]), view.cell(DEFAULT_MALLOC, policy),
                               view.cell(DEFAULT_MALLOC, twins[0]))
            parts.append(versus(interval, fmt.code(policy), f"the hand-written {fmt.code(twins[0])}"))
        else:
            parts.append(f"{fmt.code(policy)} has {'no' if not twins else len(twins)} hand-written counterpart"
                         f"{'s' if len(twins) > 1 else ''} that frees {'node by node' if frees else 'all at once'}")
        first = seen.setdefault(frees, policy)
        if first != policy:  # two standard resources that free alike: what the second one's design costs
            interval = between(label(view, "pmr", policy, first), view.cell(DEFAULT_MALLOC, policy),
                               view.cell(DEFAULT_MALLOC, first))
            parts.append(versus(interval, fmt.code(policy), fmt.code(first)))
    return ["Under glibc, std::pmr against the hand-written policies: " + "; ".join(parts) + "."]


def remains_sentences(view: MatrixView, roles: Roles, best_malloc: str) -> list[str]:
    best = view.cell(best_malloc, roles.baseline)
    custom = (kind_policies(view, roles, "hand_written") if roles.kinds_known else
              [p for p in (roles.no_alloc_reference,) if p and view.cell(DEFAULT_MALLOC, p) is not None])
    if best is None or not custom:
        return []
    where = ("under glibc (no drop-in is measurably faster)" if best_malloc == DEFAULT_MALLOC else
             f"under {fmt.code(best_malloc)} (the best drop-in)")
    parts = []
    for policy in custom:
        interval = between(label(view, "remains", policy, best_malloc), view.cell(DEFAULT_MALLOC, policy), best)
        parts.append(f"{fmt.code(policy)} {interval.point:.2f}×{tail(interval)}")
    return [f"What remains for a custom allocator: under glibc, against {fmt.code(roles.baseline)} {where}, "
            + "; ".join(parts) + "."]


def paragraph(view: MatrixView, roles: Roles) -> str:
    """The answer for one backward order, or why there is none."""
    head = f"With `--topo {view.topo}`:"
    if not roles.known or roles.baseline is None:
        reason = "no role is known (the results predate per-run traits)" if not roles.known else "no baseline"
        return f"{head} no answer: {reason}."
    if view.cell(DEFAULT_MALLOC, roles.baseline) is None:
        return f"{head} no answer: {fmt.code(roles.baseline)} has no cell under glibc."
    sentences, best_malloc = drop_in_sentences(view, roles)
    sentences += pmr_sentences(view, roles) + remains_sentences(view, roles, best_malloc)
    if view.glibc_from_series:
        sentences.append("(The glibc cells are another file's: the matrix has none.)")
    if any(run.noisy for run in view.cells.values()):
        sentences.append(f"Some cells have a cv above 5% (marked {fmt.NOISY_MARK} in *The process allocator*): "
                         "re-run them on a quiet machine.")
    return " ".join([head] + sentences)


def paragraphs(fig) -> list[str]:
    if not fig.matrix:
        return [NO_MATRIX]
    return [paragraph(fig.matrix[topo], fig.roles) for topo in topo_order(fig.matrix)]


def section(machines: list, figures: dict) -> list[str]:
    lines = ["## Preload a malloc, use std::pmr, or write an arena?", "",
             "From the policy × process-allocator matrix (*The process allocator*), each order on its own, every "
             "figure from that matrix's cells: what a drop-in process allocator does to the unchanged program, how "
             "close the standard library's resources get to the hand-written arena and pool, and what remains "
             "between the best drop-in and a custom allocator. Speeds per step, 95% bootstrap intervals; faster "
             "or slower only when the interval excludes 1.", ""]
    for machine in machines:
        lines += [f"### {machine.name}", ""]
        for text in paragraphs(figures[machine.name]):
            lines += [text, ""]
    return lines


def block(fig) -> list[str]:
    """The README's `practical` block: one paragraph per order, blank lines between."""
    lines = []
    for text in paragraphs(fig):
        lines += ([""] if lines else []) + [text]
    return lines
