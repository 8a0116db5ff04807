"""The policy x process-allocator matrix (bench_train --malloc=all --allocator=all): every
policy under every process-wide malloc, per backward order, as tables and a chart.

Each cell's speed is the baseline policy's time per step under glibc divided by the
cell's (above 1 = faster), with its bootstrap interval. The reference cell comes from
the matrix's own file(s), never from a glibc-only file, unless the matrix has no glibc
cells at all (then the section says that its ratios divide by another file's run).
Malloc names come from the files (glibc first, then in the order the files list them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import analysis, fmt, stats
from .model import DEFAULT_MALLOC, Machine, Roles, TrainRun, topo_order
from .stats import Interval

CHART_KEY, CHART_FILE = "malloc_matrix", "malloc_matrix.png"
PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
NOISY_HATCH = "//"


@dataclass
class MatrixView:
    machine: str
    topo: str
    mallocs: list  # glibc first
    policies: list
    cells: dict  # (malloc, policy) -> TrainRun
    reference: TrainRun | None  # the baseline policy under glibc
    speed: dict = field(default_factory=dict)  # (malloc, policy) -> Interval vs the reference
    glibc_from_series: bool = False  # the glibc column is the glibc-only file's (the matrix has none)

    def cell(self, malloc: str, policy: str) -> TrainRun | None:
        return self.cells.get((malloc, policy))

    @property
    def sources(self) -> list:
        return sorted({run.source for run in self.cells.values()})

    @property
    def noisy(self) -> bool:
        return any(run.noisy for run in self.cells.values())


def malloc_order(by_malloc: dict) -> list:
    """glibc first, then the process allocators in the order the files list them."""
    return ([DEFAULT_MALLOC] if DEFAULT_MALLOC in by_malloc else []) + [m for m in by_malloc if m != DEFAULT_MALLOC]


def build(machine: Machine, topo: str, roles: Roles, order) -> MatrixView:
    by_malloc = dict(machine.matrix[topo])
    from_series = DEFAULT_MALLOC not in by_malloc and bool(machine.series.get(topo))
    if from_series:
        by_malloc = {DEFAULT_MALLOC: machine.series[topo], **by_malloc}
    mallocs = malloc_order(by_malloc)
    cells = {(m, p): run for m in mallocs for p, run in by_malloc[m].items()}
    policies = order({p for _, p in cells})
    reference = cells.get((DEFAULT_MALLOC, roles.baseline)) if roles.baseline else None
    view = MatrixView(machine.name, topo, mallocs, policies, cells, reference, glibc_from_series=from_series)
    if reference is not None:
        for (malloc, policy), run in cells.items():
            view.speed[(malloc, policy)] = (Interval(1.0, note=stats.ITSELF) if run is reference else
                                            analysis.speed_ratio(f"{machine.name}|matrix|{topo}|{malloc}|{policy}",
                                                                 run, reference))
    return view


def compute(machine: Machine, roles: Roles, order) -> dict:
    """topo -> MatrixView, for every order the matrix has."""
    return {topo: build(machine, topo, roles, order) for topo in topo_order(machine.matrix)}


def between(label: str, run: TrainRun | None, other: TrainRun | None) -> Interval | None:
    """How many times as fast as `other` `run` is, per step; None when either is missing."""
    if run is None or other is None:
        return None
    if run is other:
        return Interval(1.0, note=stats.ITSELF)
    return analysis.speed_ratio(label, run, other)


# ---- the report section ------------------------------------------------------


def file_names(sources) -> str:
    return ", ".join(f"`{Path(s).name}`" for s in sorted(set(sources)))


def dates(runs) -> str:
    found = sorted({r.date for r in runs if r.date})
    if not found:
        return "undated"
    return found[0] if len(found) == 1 else f"{found[0]} – {found[-1]}"


def provenance(machine: Machine, view: MatrixView) -> str:
    """Which file the headline series of this order uses, and which the matrix's ratios use."""
    topo = view.topo
    matrix_runs = [r for (m, _), r in view.cells.items() if not (view.glibc_from_series and m == DEFAULT_MALLOC)]
    own = f"The matrix cells come from {file_names(r.source for r in matrix_runs)} ({dates(matrix_runs)})"
    if view.glibc_from_series:
        series = list(machine.series[topo].values())
        return (f"{own}, which hold no glibc cell: the glibc column and the reference cell are the glibc-only "
                f"{file_names(r.source for r in series)} ({dates(series)}), so every ratio here divides by a run of "
                "another file, taken at another time.")
    if topo in machine.series_from_matrix:
        return (f"{own}. No glibc-only file ran `--topo {topo}`, so the headline tables of this order (*Training "
                "time per policy*, *Phases*, ...) use this matrix's glibc cells.")
    if machine.series.get(topo):
        series = list(machine.series[topo].values())
        return (f"{own}. The headline tables of `--topo {topo}` use the glibc-only "
                f"{file_names(r.source for r in series)} ({dates(series)}); the ratios here and in the practical "
                "answer use the matrix's own glibc cells instead, so that no ratio mixes files taken at different "
                "times.")
    return own + "."


def role_cell(policy: str, roles: Roles) -> str:
    parts = [label for label, names in (("baseline", (roles.baseline,)),
                                        ("no-alloc reference", (roles.no_alloc_reference,)),
                                        ("reference-counted", roles.reference_counted), ("control", roles.controls))
             if policy in names]
    traits = roles.traits.get(policy)
    if traits is not None and traits.standard_library:
        parts.append("standard library")
    if traits is not None and traits.hand_written:
        parts.append("hand-written")
    return ", ".join(parts) or (fmt.DASH if roles.known else "unknown")


def view_lines(machine: Machine, view: MatrixView, roles: Roles) -> list[str]:
    lines = [f"### {machine.name} — topo {view.topo}", "", provenance(machine, view), ""]
    columns = [fmt.code(m) for m in view.mallocs]
    rows = []
    for policy in view.policies:
        cells = [fmt.DASH if (run := view.cell(m, policy)) is None else fmt.seconds(run.median_s) + fmt.noisy(run.noisy)
                 for m in view.mallocs]
        rows.append([fmt.code(policy), role_cell(policy, roles)] + cells)
    lines += ["Training time (median):", ""] + fmt.table(["policy", "role"] + columns, rows)
    if view.reference is None:
        reason = ("no role is known (the results predate per-run traits)" if not roles.known else
                  "no baseline cell under glibc")
        return lines + [f"No speed ratios: {reason}.", ""]
    rows = [[fmt.code(p)] + [fmt.ratio_ci(view.speed.get((m, p))) for m in view.mallocs] for p in view.policies]
    lines += [f"Speed vs {fmt.code(roles.baseline)} under `{DEFAULT_MALLOC}` (95% CI):", ""]
    lines += fmt.table(["policy"] + columns, rows)
    if view.noisy:
        lines += [fmt.NOISY_LEGEND, ""]
    return lines


def section(machines: list, figures: dict, charts: set) -> list[str]:
    lines = ["## The process allocator: policy × malloc", ""]
    shown = [m for m in machines if figures[m.name].matrix]
    if not shown:
        return lines + ["No policy × process-allocator matrix: `bench_train --malloc=all --allocator=all --json "
                        "FILE` (per `--topo`) writes one.", ""]
    if CHART_KEY in charts:
        lines += [f"![training time per policy and process allocator](charts/{CHART_FILE})", ""]
    lines += ["Each policy trained under each process-wide allocator (`--malloc`: a library preloaded with "
              "`LD_PRELOAD`, or glibc with other tunables), each cell in a fresh process, round-robin over the "
              "cells. *Speed* is the baseline policy's time per step under glibc divided by the cell's (above 1 = "
              "faster), with its 95% bootstrap interval; a cell is faster or slower only when its interval "
              "excludes 1.", ""]
    for machine in shown:
        fig = figures[machine.name]
        for topo in topo_order(fig.matrix):
            lines += view_lines(machine, fig.matrix[topo], fig.roles)
    return lines


# ---- the chart -----------------------------------------------------------------


def chart(plt, machines: list, figures: dict):
    """One panel per machine and order: ms per step of each policy (x) under each malloc
    (bars), log scale; noisy cells hatched."""
    from matplotlib.patches import Patch

    panels = [figures[m.name].matrix[t] for m in machines for t in topo_order(figures[m.name].matrix)]
    mallocs = list(dict.fromkeys(m for view in panels for m in view.mallocs))
    colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(mallocs)}
    widest = max(len(view.policies) for view in panels)
    figure, axes_list = plt.subplots(len(panels), 1, figsize=(max(7, 0.8 * widest * len(mallocs) / 3 + 4),
                                                               4.2 * len(panels)), squeeze=False)
    for axes, view in zip(axes_list[:, 0], panels):
        width = 0.8 / max(1, len(view.mallocs))
        for index, malloc in enumerate(view.mallocs):
            for x, policy in enumerate(view.policies):
                run = view.cell(malloc, policy)
                if run is None:
                    continue
                axes.bar(x - 0.4 + width * (index + 0.5), run.ms_per_step, width, color=colors[malloc],
                         edgecolor="black" if run.noisy else colors[malloc], hatch=NOISY_HATCH if run.noisy else None)
        axes.set_yscale("log")
        axes.set_xticks(range(len(view.policies)), view.policies, rotation=25)
        axes.set_ylabel("ms per training step (log)")
        axes.set_title(f"{view.machine} — topo {view.topo}: each policy under each process allocator")
        handles = [Patch(color=colors[m], label=m) for m in view.mallocs]
        handles.append(Patch(facecolor="white", edgecolor="black", hatch=NOISY_HATCH, label="cv > 5%, re-run"))
        axes.legend(handles=handles, fontsize=8)
    return figure
