"""The report's decomposition section: each policy's extra time over the no-alloc
reference split into allocator, layout and other (decomposition.py), the controls,
whether the decomposition explains the instruction share / phase share gap, and the
cache-simulation counts per node and phase it rests on."""

from __future__ import annotations

from pathlib import Path

from . import fmt
from .decomposition import EXPLAINED_POINTS, LEVEL_WORDS, MAX_MISFIT, Case, Row
from .loading import shape_label
from .model import PHASES
from .sections import image

CONTROL_CHANGES = {"scattered": "the reference's nodes in a pseudo-random order",
                   "compact": "smaller nodes, 32-bit handles"}


def method(case_words: str) -> list[str]:
    return [
        "Each policy's extra time per graph node over the no-alloc reference, split three ways. "
        "`scripts/cachesim.py` counts instructions and data-cache misses per node under valgrind's cache "
        f"simulator (callgrind, inside the training steps only; {case_words}) for the whole step, each phase and "
        "the calls into the allocator (inclusive: all it does on their behalf); the wall times are bench_train's, same shape and backward order. Over the "
        "reference, a run's extra time per node is modelled as *Δt = c_I·ΔI + c_M·ΔM* (ΔI extra instructions, ΔM "
        "extra misses per node). The scattered control (the reference's allocation with a fragmented heap's "
        "layout: almost the same instructions, many more misses) prices a miss and is reproduced exactly; the price "
        "of an instruction is the one that then fits the allocation strategies best (least squares on their extra "
        "times relative to their times; the reference-counted policy is left out, its atomic counts are dearer "
        "instructions; *misfit* is the fit's root-mean-square residual over the policies' times, and a fit whose "
        f"misfit exceeds {fmt.percent(MAX_MISFIT)} is not used). For a policy: "
        "*allocator* = c_I × the instructions inside the allocator + c_M × the misses there; *layout* = "
        "c_M × the misses outside the allocator (where its nodes land); *other* = the rest of the measured extra "
        "time: extra instructions outside the allocator (shown apart) and what the model leaves out (atomics, "
        "branch mispredictions, misses that cost more or less than the scattered control's: the model has one "
        "price per miss, and a prefetched sequential miss is cheaper than a random one). ΔM is counted once at "
        "L1 and once at the simulated last level: the figures are the mean of the two decompositions, and each "
        "interval spans both and a 95% bootstrap that redraws every run's wall-time repetitions and the strategies "
        "the fit uses. The compact control takes no part in the fit and is predicted as a check.", ""]


def part_cell(row: Row, part: str) -> str:
    interval = row.parts[part]
    share = row.percent(part)
    text = f"{interval.point:.1f}"
    if interval.available:
        text += f" ({interval.low:.1f}–{interval.high:.1f})"
    return text + (f" · {fmt.percent(share)}" if share is not None else "")


def ns_cell(interval) -> str:
    text = f"{interval.point + 0.0:+.1f}"  # + 0.0: never "-0.0"
    return text + (f" ({interval.low + 0.0:+.1f}–{interval.high + 0.0:+.1f})" if interval.available else "")


def extra_cell(row: Row) -> str:
    return ns_cell(row.extra)


def share_cell(interval) -> str:
    return fmt.DASH if interval is None else fmt.share_ci(interval)


def verdict_cell(row: Row) -> str:
    explained = row.explains_phase_share
    return fmt.DASH if explained is None else ("explained" if explained else "open")


def prices_sentence(case: Case) -> str:
    parts = [f"with {LEVEL_WORDS[level]}, {p.per_instruction:.3f} ns per instruction and {p.per_miss:.2f} ns per miss"
             for level, p in case.prices.items()]
    text = (f"Prices (from the scattered control `{case.scattered}` and {len(case.fitted)} strategies): "
            + "; ".join(parts) + ".")
    if case.misfit is not None:
        text += f" Misfit {fmt.percent(case.misfit)} of the fitted policies' times."
    checks = [f"{predicted:.1f} ({100 * (predicted / measured - 1):+.0f}%) with {LEVEL_WORDS[level]}"
              for level, (predicted, measured) in case.compact_check.items()]
    if checks:
        measured = next(iter(case.compact_check.values()))[1]
        text += (f" Check: the compact control (`{case.compact}`) takes {measured:.1f} ns per node; the model "
                 "predicts " + " and ".join(checks) + ".")
    return text


def strategy_table(case: Case, order) -> list[str]:
    rows = []
    by_name = {row.policy: row for row in case.rows}
    for row in (by_name[name] for name in order(by_name)):
        rows.append([fmt.code(row.policy), f"{row.time_ns:.1f}", extra_cell(row), part_cell(row, "allocator"),
                     part_cell(row, "layout"), part_cell(row, "other"),
                     f"{row.parts['other_instructions'].point:.1f}", fmt.percent(row.instruction_share),
                     share_cell(row.phase_share), share_cell(row.model_phase_share), verdict_cell(row)])
    return fmt.table(["policy", "ns/node", f"extra vs `{case.reference}`", "allocator", "layout", "other",
                      "other: extra instr.", "callgrind instr. share", "phase share (measured)",
                      "phase share (model)", "gap"], rows)


def control_table(case: Case) -> list[str]:
    """A control has (almost) no allocator: its gap is its instructions, its misses and
    what the model leaves over (for the scattered control, 0 by construction)."""
    rows = []
    for row in case.controls:
        cache, ref = case.series.runs[row.policy], case.series.runs[case.reference]
        traits = cache.traits
        changes = "; ".join(words for trait, words in CONTROL_CHANGES.items() if traits and getattr(traits, trait))
        delta = cache.total.minus(ref.total)
        instructions = row.parts["allocator"].point + row.parts["other_instructions"].point
        rows.append([fmt.code(row.policy), changes or fmt.DASH, f"{row.time_ns:.1f}", extra_cell(row),
                     f"{delta.instructions:+.1f}", f"{delta.d1_misses:+.2f}", f"{delta.ll_misses:+.2f}",
                     f"{instructions:+.1f}", ns_cell(row.parts["layout"]), ns_cell(row.parts["residual"])])
    return fmt.table(["control", "changes", "ns/node", f"vs `{case.reference}`", "Δ instr./node", "Δ L1 misses/node",
                      "Δ LL misses/node", "instructions (ns)", "misses (ns)", "not explained (ns)"], rows)


def gap_sentence(case: Case) -> str:
    """The policy whose phase share most exceeds its instruction share, and whether the
    decomposition accounts for the difference."""
    rows = [r for r in case.rows if r.phase_share is not None and r.model_phase_share is not None]
    if not rows:
        return ""
    row = max(rows, key=lambda r: r.phase_share.point - r.instruction_share)
    gap = row.phase_share.point - row.instruction_share
    if gap <= EXPLAINED_POINTS:
        return ("Callgrind's instruction share and the phase-derived share agree within "
                f"{fmt.percent(EXPLAINED_POINTS)} for every policy.")
    parts = row.phase_parts
    share = {key: value / row.time_ns for key, value in parts.items()}
    verdict = ("That explains the gap: the allocator's instructions cost what any instruction costs, and the rest "
               "of the extra forward and release time is the other extra instructions and the misses"
               if row.explains_phase_share else "That does not account for the measured share: the gap stays open")
    return (f"The largest gap between callgrind's instruction share and the phase-derived share is `{row.policy}`'s: "
            f"{fmt.percent(row.instruction_share)} of its instructions are the allocator's, and its forward and "
            f"release take {fmt.share_ci(row.phase_share)} of its time more than the reference's. From the counts the "
            f"model puts that extra time at {fmt.share_ci(row.model_phase_share)}: the allocator's instructions "
            f"{fmt.percent(share['allocator_instructions'])}, other extra instructions "
            f"{fmt.percent(share['other_instructions'])}, extra misses (inside the allocator and out) "
            f"{fmt.percent(share['misses'])}. {verdict}. *gap* says the same per policy: *explained* when the "
            f"model's share is within {fmt.percent(EXPLAINED_POINTS)} of the measured one or their intervals overlap.")


def baseline_sentence(case: Case, baseline: str | None) -> str:
    row = next((r for r in case.rows if r.policy == baseline), None)
    compact = next((r for r in case.controls if r.policy == case.compact), None)
    parts = []
    if row is not None and row.extra.point > 0:
        parts.append(f"Of `{baseline}`'s extra {row.extra.point:.1f} ns per node over `{case.reference}`, "
                     f"{fmt.percent(row.percent('allocator'))} is the allocator's work, "
                     f"{fmt.percent(row.percent('layout'))} where the nodes land and "
                     f"{fmt.percent(row.percent('other'))} other.")
    if compact is not None:
        reference_ns = compact.time_ns - compact.extra.point
        parts.append(f"The compact layout (`{compact.policy}`) changes `{case.reference}`'s {reference_ns:.1f} ns per "
                     f"node by {extra_cell(compact)} ns ({100 * compact.extra.point / reference_ns:+.0f}%).")
    return " ".join(parts)


def counts_table(case: Case, order) -> list[str]:
    series = case.series
    rows = []
    for name in order(series.runs):
        run = series.runs[name]
        cells = [fmt.code(name), f"{run.nodes_per_step:,.0f}", f"{run.total.instructions:.1f}",
                 f"{run.total.d1_misses:.2f}", f"{run.total.ll_misses:.2f}", f"{run.allocator.instructions:.1f}"]
        cells += [f"{run.phases[p].instructions:.0f} · {run.phases[p].d1_misses:.2f} · {run.phases[p].ll_misses:.2f}"
                  for p in PHASES]
        rows.append(cells)
    return fmt.table(["policy", "nodes/step", "instr./node", "L1 misses/node", "LL misses/node",
                      "allocator instr./node"] + [f"{p}: instr. · L1 · LL" for p in PHASES], rows)


def section(machines: list, figures: dict, order, charts: set) -> list[str]:
    lines = ["## Where the extra time goes: allocator, layout, other", ""]
    shown = [m for m in machines if figures[m.name].decomposition]
    if not shown:
        return lines + ["No cache-simulation results; `scripts/cachesim.py` writes them to "
                        "`results/<machine>/cachesim/`.", ""]
    lines += image(charts, "decomposition", "extra time per node: allocator, layout, other")
    first = figures[shown[0].name].decomposition[0].series
    lines += method(first.cache_words())
    for machine in shown:
        baseline = figures[machine.name].roles.baseline
        for case in figures[machine.name].decomposition:
            where = f"{shape_label(case.shape)}, topo {case.topo}"
            lines += [f"### {machine.name} — {where}", "",
                      f"Counts from `{Path(case.series.source).name}` ({case.series.steps} steps; "
                      f"{case.series.cache_words()}). Times in ns per node; parts as ns (95% interval) · share of "
                      "the extra time.", ""]
            if case.problem:
                lines += [f"No decomposition: {case.problem}.", ""]
            else:
                lines += [prices_sentence(case), ""]
                lines += strategy_table(case, order)
                if case.controls:
                    lines += ["Controls (experiments, not strategies):", ""] + control_table(case)
                for sentence in (baseline_sentence(case, baseline), gap_sentence(case)):
                    lines += [sentence, ""] if sentence else []
            lines += ["Cache-simulation counts per node (phases: instructions · L1 misses · LL misses):", ""]
            lines += counts_table(case, order)
    return lines
