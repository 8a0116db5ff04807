"""The README's `decomposition` block: where the baseline's extra time per node goes
(allocator, layout, other) in every decomposed case, what the compact control changes in
the no-alloc reference's time and why, and whether the decomposition explains the largest
gap between callgrind's instruction share and the phase split. Every figure is one of
decomposition.py's, as the report's *Where the extra time goes* shows it."""

from __future__ import annotations

from . import fmt
from .decomposition import EXPLAINED_POINTS, Case, Row
from .model import DEFAULT_SHAPE, SHAPE_KEYS

MISSING = ("No cache-simulation results in results/ yet (`scripts/decomposition.sh` writes the wall times and "
           "`results/<machine>/cachesim/` with `scripts/cachesim.py`), so there is no decomposition.")
SHORT_WORDS = {"allocator": "allocator", "layout": "layout", "other": "other"}  # once the long words were said
PART_WORDS = {"allocator": "is the allocator's own work (its instructions and its misses)",
              "layout": "is where the nodes land (misses outside the allocator)",
              "other": "is other (extra instructions outside the allocator, such as the per-node record for "
                       "release, and what the model leaves out)"}


def where(case: Case) -> str:
    """'Default shape, `--topo creation`' or 'n_embd 128, n_layer 4, `--topo dfs`'."""
    if case.shape == DEFAULT_SHAPE:
        shape = "Default shape"
    else:
        shape = ", ".join(f"{key} {value}" for key, value, default in zip(SHAPE_KEYS, case.shape, DEFAULT_SHAPE)
                          if value != default)
    return f"{shape}, `--topo {case.topo}`"


def interval_words(interval, unit: str = "", digits: int = 1) -> str:
    """' (95% interval 1.2–3.4 ns)', or ' (no interval: one repetition)'."""
    if not interval.available:
        return f" (no interval: {interval.note or 'no spread recorded'})"
    return f" (95% interval {interval.low + 0.0:.{digits}f}–{interval.high + 0.0:.{digits}f}{unit})"


def part_words(row: Row, part: str, words: dict) -> str:
    """'45.0% (5.5 ns, 95% interval 5.0–6.1 ns) is ...'."""
    interval = row.parts[part]
    ns = f"{interval.point + 0.0:.1f} ns"
    bounds = (f", 95% interval {interval.low + 0.0:.1f}–{interval.high + 0.0:.1f} ns" if interval.available
              else f", no interval: {interval.note or 'no spread recorded'}")
    return f"{fmt.percent(row.percent(part))} ({ns}{bounds}) {words[part]}"


def baseline_sentence(case: Case, baseline: str | None, words: dict = PART_WORDS) -> str:
    head = where(case)
    if case.problem:
        return f"{head}: no decomposition, because {case.problem}."
    row = next((r for r in case.rows if r.policy == baseline), None)
    if row is None:
        who = fmt.code(baseline) if baseline else "the baseline (no run is marked baseline)"
        return f"{head}: {who} has no wall-time run or no cache counts here."
    reference = fmt.code(case.reference)
    if row.extra.point <= 0:
        return (f"{head}: {fmt.code(baseline)} takes no extra time over {reference} "
                f"({row.extra.point + 0.0:+.1f} ns per node), so there is nothing to split.")
    parts = [part_words(row, part, words) for part in ("allocator", "layout", "other")]
    return (f"{head}: of {fmt.code(baseline)}'s extra {row.extra.point:.1f} ns per node"
            f"{interval_words(row.extra, ' ns')} over {reference}'s {row.time_ns - row.extra.point:.1f} ns, "
            f"{parts[0]}, {parts[1]} and {parts[2]}.")


def compact_clause(case: Case) -> str | None:
    """'+3.6% (95% interval …) in the default shape with `--topo dfs` (of 14.0 ns per node), as it runs …:
    the extra instructions outweigh the fewer misses', or None without the compact control."""
    row = next((r for r in case.controls if r.policy == case.compact), None)
    if case.problem or row is None:
        return None
    reference_ns = row.time_ns - row.extra.point
    change = row.extra.point / reference_ns
    text = f"{100 * change:+.1f}%"
    if row.extra.available:
        low, high = 100 * row.extra.low / reference_ns, 100 * row.extra.high / reference_ns
        text += f" (95% interval {low:+.1f} to {high:+.1f}%)"
    else:
        text += f" (no interval: {row.extra.note or 'no spread recorded'})"
    shape = "in the default shape" if case.shape == DEFAULT_SHAPE else "at " + where(case).split(", `--topo")[0]
    text += f" {shape} with `--topo {case.topo}`"
    runs, ref = case.series.runs[row.policy], case.series.runs[case.reference]
    delta = runs.total.minus(ref.total)
    instructions_ns = row.parts["allocator"].point + row.parts["other_instructions"].point
    misses_ns = row.parts["layout"].point
    text += (f" (of {reference_ns:.1f} ns per node), as it runs {delta.instructions + 0.0:+.1f} instructions per "
             f"node ({instructions_ns + 0.0:+.1f} ns at the fitted prices) and {delta.d1_misses + 0.0:+.2f} L1 and "
             f"{delta.ll_misses + 0.0:+.2f} last-level misses per node ({misses_ns + 0.0:+.1f} ns), with "
             f"{row.parts['residual'].point + 0.0:+.1f} ns not explained")
    if misses_ns < 0 < instructions_ns:
        text += (": fewer misses outweigh the extra instructions" if -misses_ns > instructions_ns else
                 ": the extra instructions outweigh the fewer misses")
    elif instructions_ns < 0 < misses_ns:
        text += (": fewer instructions outweigh the extra misses" if -instructions_ns > misses_ns else
                 ": the extra misses outweigh the fewer instructions")
    return text


def compact_sentence(cases: list) -> str:
    found = [(case, clause) for case in cases if (clause := compact_clause(case))]
    if not found:
        return ""
    first = found[0][0]
    return (f"The compact control (`{first.compact}`) changes `{first.reference}`'s time per node by "
            + "; by ".join(clause for _, clause in found) + ".")


def gap_case(cases: list, headline_topo: str | None) -> Case | None:
    """The case the README discusses the gap for: the default shape's headline order, else the first decomposed."""
    decomposed = [c for c in cases if not c.problem and c.rows]
    return next((c for c in decomposed if c.shape == DEFAULT_SHAPE and c.topo == headline_topo),
                decomposed[0] if decomposed else None)


def gap_sentence(case: Case | None) -> str:
    if case is None:
        return ""
    rows = [r for r in case.rows if r.phase_share is not None and r.model_phase_share is not None]
    if not rows:
        return (f"{where(case)}: no phase split to set against callgrind's instruction share, so whether the "
                "decomposition explains their gap is open.")
    row = max(rows, key=lambda r: r.phase_share.point - r.instruction_share)
    if row.phase_share.point - row.instruction_share <= EXPLAINED_POINTS:
        return (f"{where(case)}: callgrind's instruction share and the phase split agree within "
                f"{fmt.percent(EXPLAINED_POINTS)} for every policy, so there is no gap to explain.")
    verdict = ("which explains the disagreement" if row.explains_phase_share else
               "so the disagreement stays open")
    return (f"{where(case)}: callgrind counts {fmt.percent(row.instruction_share)} of {fmt.code(row.policy)}'s "
            f"instructions inside the allocator, while the phase split gives its allocation and release "
            f"{fmt.share_ci(row.phase_share)} of its time; the model puts that time at "
            f"{fmt.share_ci(row.model_phase_share)}, {verdict} (the report's *gap* column).")


def block(fig) -> list[str]:
    cases = fig.decomposition
    if not cases:
        return [MISSING]
    sentences = []
    for case in cases:
        said = any("is the allocator's own work" in sentence for sentence in sentences)
        sentences.append(baseline_sentence(case, fig.roles.baseline, SHORT_WORDS if said else PART_WORDS))
    sentences += [compact_sentence(cases), gap_sentence(gap_case(cases, fig.machine.headline_topo))]
    return [" ".join(s for s in sentences if s)]
