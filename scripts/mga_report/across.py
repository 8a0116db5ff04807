"""The report's comparison across machines (one directory per machine under results/): which
rankings and quoted figures hold on every machine."""

from __future__ import annotations

from itertools import combinations

from .figures import speed_ratio
from .fmt import code, ratio_ci, share_ci, table, value_ci
from .model import topo_order


def status(intervals: list, ratio: bool) -> str:
    """A ratio holds when every interval lies on the same side of 1; a share or slope is compared by
    overlap alone. 'same size' when every pair of intervals overlaps."""
    if not all(i is not None and i.available for i in intervals):
        return "not measurable on every machine"
    size = "same size" if all(a.overlaps(b) for a, b in combinations(intervals, 2)) else "size differs"
    if not ratio:
        return size
    sides = {i.side() for i in intervals}
    if len(sides) > 1:
        return "**does not hold**: " + ", ".join({1: "faster", -1: "slower", 0: "no measurable difference"}[s]
                                                 for s in (i.side() for i in intervals))
    return f"holds: {({1: 'faster', -1: 'slower', 0: 'no measurable difference'})[sides.pop()]} everywhere ({size})"


def section(machines: list, figs: dict, order) -> list:
    machines = [m for m in machines if m.policies]
    if len(machines) < 2:
        return []
    lines = []
    topos = [t for t in topo_order({t for m in machines for t in m.series}) if all(t in m.series for m in machines)]
    for topo in topos:
        common = [p for p in order(machines[0].series[topo]) if all(p in m.series[topo] for m in machines)]
        rankings = {m.name: sorted(common, key=lambda p: m.series[topo][p].ms_per_step) for m in machines}
        same = len({tuple(r) for r in rankings.values()}) == 1
        lines.append(f"- `--topo {topo}`, fastest first: " + ("**the same on every machine**: " + " < ".join(
            map(code, rankings[machines[0].name])) if same else "**differs**: " + "; ".join(
            f"{name}: " + " < ".join(map(code, r)) for name, r in rankings.items())))
        for a, b in combinations(common, 2):  # the pairs that swap: measurably, or within the noise
            found = [speed_ratio(f"{m.name}|pair|{topo}|{a}|{b}", m.series[topo][a], m.series[topo][b])
                     for m in machines]
            if len({r.point > 1 for r in found}) > 1:
                cells = ", ".join(f"{m.name} {ratio_ci(r)}" for m, r in zip(machines, found))
                lines.append(f"  - `{a}` over `{b}`: {cells}" + (": a measurable swap" if {r.side() for r in found} >= {
                    1, -1} else ": not a measurable swap (an interval contains 1)"))
    rows = []
    bases = {figs[m.name].roles.baseline for m in machines}
    if len(bases) == 1:
        (base,) = bases
        for topo in topos:
            for policy in order(figs[machines[0].name].speed.get(topo, {})):
                found = [figs[m.name].speed.get(topo, {}).get(policy) for m in machines]
                if policy != base and all(found):
                    rows.append([f"speed of `{policy}` vs `{base}`, `--topo {topo}`", *map(ratio_ci, found),
                                 status(found, True)])
            found = [figs[m.name].shares.get(topo, {}).get(base) for m in machines]
            if all(found):
                rows.append([f"allocation share of `{base}`, `--topo {topo}`", *map(share_ci, found),
                             status(found, False)])
    found = [figs[m.name].throughput.elasticity if figs[m.name].throughput else None for m in machines]
    if all(found):
        rows.append(["log–log slope of training speed on allocation rate", *map(value_ci, found),
                     status(found, False)])
    held = sum(1 for row in rows if row[-1].startswith(("holds", "same size")))
    return lines + [""] + table(["figure", *(m.name for m in machines), "on every machine"], rows) + [
        f"{held} of {len(rows)} figures hold (ratios: the same side of 1) or agree in size (shares, slopes) on "
        "every machine.", ""]
