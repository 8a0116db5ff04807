"""The report section "Across machines": which rankings and quoted ratios hold on every
machine directory under results/, and which do not."""

from __future__ import annotations

from itertools import combinations

from . import analysis, fmt
from .model import topo_order

INTRO = ("Which conclusions hold on every machine. A *ranking* (policies ordered by median training time) "
         "holds when every machine gives the same order. A *ratio* holds when its 95% interval lies on the same "
         "side of 1 on every machine; *same size* when the intervals also overlap, *size differs* when they do "
         "not. A fit (slope, r) or a share holds when its verdict is the same everywhere; *same size* again "
         "means overlapping intervals.")


def ratio_status(intervals: list) -> str:
    if any(i is None or not i.available for i in intervals):
        return "not measurable on every machine"
    sides = {i.side() for i in intervals}
    overlap = all(a.overlaps(b) for a, b in combinations(intervals, 2))
    size = "same size" if overlap else "size differs"
    if sides == {0}:
        return f"holds: no measurable difference anywhere ({size})"
    if len(sides) == 1:
        return f"holds: {'above' if sides == {1} else 'below'} 1 everywhere ({size})"
    return "**does not hold**: " + ", ".join(
        {1: "above 1", -1: "below 1", 0: "no measurable difference"}[i.side()] for i in intervals)


def verdict_status(words: list, intervals: list) -> str:
    if any(w is None for w in words):
        return "not measured on every machine"
    if len(set(words)) > 1:
        return "**does not hold**: the verdicts differ"
    if any(i is None or not i.available for i in intervals):
        return "holds (same verdict; no interval on every machine)"
    overlap = all(a.overlaps(b) for a, b in combinations(intervals, 2))
    return f"holds: same verdict ({'same size' if overlap else 'size differs'})"


def ranking_lines(machines: list, order) -> list[str]:
    lines = []
    topos = [t for t in topo_order({t for m in machines for t in m.series}) if all(t in m.series for m in machines)]
    for topo in topos:
        common = [p for p in order(machines[0].series[topo]) if all(p in m.series[topo] for m in machines)]
        if len(common) < 2:
            continue
        rankings = {m.name: sorted(common, key=lambda p: m.series[topo][p].ms_per_step) for m in machines}
        first = next(iter(rankings.values()))
        if all(r == first for r in rankings.values()):
            lines += [f"- topo {topo}: **holds** — " + " < ".join(fmt.code(p) for p in first) +
                      " (fastest first) on every machine.", ""]
            continue
        lines.append(f"- topo {topo}: **does not hold** — " + "; ".join(
            f"{name}: " + " < ".join(fmt.code(p) for p in ranking) for name, ranking in rankings.items()) + ".")
        for a, b in combinations(common, 2):
            faster = {m.name: m.series[topo][a].ms_per_step < m.series[topo][b].ms_per_step for m in machines}
            if len(set(faster.values())) < 2:
                continue
            ratios = [analysis.speed_ratio(f"{m.name}|pair|{topo}|{a}|{b}", m.series[topo][a], m.series[topo][b])
                      for m in machines]
            cells = ", ".join(f"{m.name} {fmt.ratio_ci(r)}" for m, r in zip(machines, ratios))
            measurable = "a measurable swap" if {r.side() for r in ratios} >= {1, -1} else \
                "not a measurable swap (an interval contains 1)"
            lines.append(f"  - `{a}` vs `{b}` (speed of `{a}` over `{b}`): {cells}: {measurable}.")
        lines.append("")
    return lines


def ratio_rows(machines: list, figures: dict, order) -> list:
    rows = []
    baselines = {figures[m.name].roles.baseline for m in machines}
    if len(baselines) == 1 and None not in baselines:
        (base,) = baselines
        topos = [t for t in topo_order({t for m in machines for t in m.series}) if all(t in m.series for m in machines)]
        for topo in topos:
            for policy in order(figures[machines[0].name].speed.get(topo, {})):
                if policy == base:
                    continue
                intervals = [figures[m.name].speed.get(topo, {}).get(policy) for m in machines]
                if all(intervals):
                    rows.append((f"speed of `{policy}` vs `{base}`, topo {topo}", intervals, ratio_status(intervals)))
        for policy in order(figures[machines[0].name].rate_ratios):
            intervals = [figures[m.name].rate_ratios.get(policy) for m in machines]
            if policy != base and all(intervals):
                rows.append((f"allocs/s of `{policy}` vs `{base}`", intervals, ratio_status(intervals)))
        for topo in topos:
            shares = [figures[m.name].shares.get(topo, {}).get(base) for m in machines]
            if all(shares):
                words = [analysis.share_verdict(s) for s in shares]
                rows.append((f"allocation share of `{base}`, topo {topo}", shares, verdict_status(words, shares)))
    for which in ("robust", "everyone"):
        fits = [getattr(figures[m.name].throughput, which) if figures[m.name].throughput else None for m in machines]
        if not all(f and f.slope for f in fits):
            continue
        label = "robust fit" if which == "robust" else "fit over every policy"
        words = [analysis.explains(f.slope.point, f.r.point if f.r else None) for f in fits]
        slopes = [f.slope for f in fits]
        rows.append((f"log–log slope, {label}", slopes, verdict_status(words, slopes)))
        if all(f.r for f in fits):
            rs = [f.r for f in fits]
            rows.append((f"Pearson r, {label}", rs, verdict_status(words, rs)))
    return rows


def section(machines: list, figures: dict, order) -> list[str]:
    shown = [m for m in machines if m.policies]
    if len(shown) < 2:
        return []
    lines = ["## Across machines", "", INTRO, "", "Rankings by training time (headline shape):", ""]
    lines += ranking_lines(shown, order) or ["No backward order ran on every machine with two common policies.", ""]
    rows = ratio_rows(shown, figures, order)
    if not rows:
        return lines + ["No ratio could be compared: the machines share no baseline (or no role is known).", ""]
    table_rows = [[label] + [fmt.share_ci(i) if "share" in label else fmt.value_ci(i) for i in intervals] + [status]
                  for label, intervals, status in rows]
    lines += ["Quoted figures:", ""] + fmt.table(["figure"] + [m.name for m in shown] + ["on every machine"],
                                                  table_rows)
    held = sum(1 for *_, status in rows if status.startswith("holds"))
    lines += [f"{held} of {len(rows)} figures hold on every machine.", ""]
    return lines
