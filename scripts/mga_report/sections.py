"""Report sections about the policies' training runs: machines and builds, training
time, backward order, modes, phases, allocation share, memory."""

from __future__ import annotations

from pathlib import Path

from . import analysis, fmt, tapes
from .charts import CHART_FILES
from .exactness import Exactness
from .figures import Figures
from .gbench import share_value
from .model import DEFAULT_MALLOC, DEFAULT_SHAPE, DEFAULT_TOPO, PHASES, GRAPH_ENGINE, Machine, Roles, engine_order, topo_order

TOPO_PHRASES = {
    "dfs": "microgpt.py's faithful DFS order (`--topo dfs`)",
    "creation": "the sort-free reverse-creation order (`--topo creation`)",
    "hashset": "the hash-set DFS (`--topo hashset`)",
}
NO_ROLES = "no role is known (the results predate per-run traits; see *Machines and builds*)"
NO_TRAITS = ("the results predate per-run traits, so no role is known (which run is the baseline, the no-alloc "
             "reference, reference-counted); figures that need one are left out. bench_train records traits "
             "now: re-run it to get them")


def topo_phrase(topo: str) -> str:
    return TOPO_PHRASES.get(topo, f"`--topo {topo}`")


def image(charts: set, key: str, alt: str) -> list[str]:
    return [f"![{alt}](charts/{CHART_FILES[key]})", ""] if key in charts else []


def role_of(policy: str, roles: Roles) -> str:
    parts = []
    if policy == roles.baseline:
        parts.append("baseline")
    if policy == roles.no_alloc_reference:
        parts.append("no-alloc reference")
    if policy in roles.reference_counted:
        parts.append("reference-counted")
    if policy in roles.controls:
        parts.append("control")
    return ", ".join(parts) or ("–" if roles.known else "unknown")


def roles_sentence(roles: Roles) -> str:
    if not roles.known:
        return "Roles: " + NO_TRAITS + "."
    parts = [f"baseline {fmt.code(roles.baseline) if roles.baseline else 'none'}",
             f"no-alloc reference {fmt.code(roles.no_alloc_reference) if roles.no_alloc_reference else 'none'}",
             "reference-counted " + (fmt.names(roles.reference_counted) or "none"),
             "controls " + (fmt.names(roles.controls) or "none")]
    if roles.kinds_known:
        for label, kind in (("standard library", "standard_library"), ("hand-written", "hand_written")):
            parts.append(f"{label} " + (fmt.names([p for p, t in roles.traits.items() if getattr(t, kind)]) or "none"))
    else:
        parts.append("which policies are the standard library's or hand-written: not recorded")
    text = "Roles (from the runs' traits): " + "; ".join(parts) + "."
    if roles.problems:
        text += " Problems: " + "; ".join(roles.problems) + "."
    return text


# ---- machines and builds ---------------------------------------------------


def field_rows(entries: list, prefix_of) -> list[list[str]]:
    """One row per field: its value when every file agrees, else each value with the
    files that recorded it (dates as a range)."""
    fields: dict = {}
    for source, mapping in entries:
        prefix = prefix_of(mapping)
        for key, value in mapping.items():
            if isinstance(value, (dict, list)) or value is None or value == "":
                continue
            label = prefix + key.replace("_", " ")
            fields.setdefault(label, {}).setdefault(str(value), []).append(Path(source).name)
    rows = []
    for label, values in fields.items():
        if len(values) == 1:
            rows.append([label, next(iter(values))])
        elif label.endswith("date"):
            count = sum(len(files) for files in values.values())
            rows.append([label, f"{min(values)} – {max(values)} ({count} files)"])
        else:
            rows.append([label, "; ".join(f"{value} ({', '.join(files)})" for value, files in values.items())])
    return rows


def section_context(machines: list, figures: dict) -> list[str]:
    lines = ["## Machines and builds", "",
             "Each field once; where the files disagree, each value is followed by the files that recorded it.", ""]
    for machine in machines:
        lines += [f"### {machine.name}", ""]
        rows = field_rows(machine.contexts, lambda c: "Google Benchmark " if "host_name" in c else "")
        rows += field_rows(machine.configs, lambda c: "config ")
        for topo in topo_order(machine.series):
            repetitions = sorted({r.repetitions for r in machine.series[topo].values()})
            rows.append([f"repetitions per policy (topo {topo})", ", ".join(map(str, repetitions))])
        for engine in engine_order(machine.engines):
            rows.append([f"repetitions (engine {engine})", str(machine.engines[engine].repetitions)])
        if machine.size_sources:
            dates = sorted(str(c.get("date")) for _, c in machine.size_sources if c.get("date"))
            span = f", dated {dates[0]} – {dates[-1]}" if dates else ""
            rows.append(["size axis", f"{len(machine.size_sources)} file(s), {len(machine.size_runs)} shape(s){span}"])
        rows.append(["process allocator", process_allocator(machine)])
        lines += fmt.table(["field", "value"], rows)
        lines += [roles_sentence(figures[machine.name].roles), ""]
    return lines


def process_allocator(machine: Machine) -> str:
    text = f"{DEFAULT_MALLOC} for every run outside *The process allocator*"
    cells = [r for by_malloc in machine.matrix.values() for runs in by_malloc.values() for r in runs.values()]
    if cells:
        mallocs = list(dict.fromkeys(m for by_malloc in machine.matrix.values() for m in by_malloc))
        text += f"; the policy × malloc matrix has {len(cells)} run(s) under {', '.join(mallocs)}"
    if machine.other_malloc:
        others = sorted({r.malloc for r in machine.other_malloc})
        text += (f"; {len(machine.other_malloc)} run(s) under {', '.join(others)} on the size axis or another "
                 "engine are not shown")
    return text


# ---- training time ---------------------------------------------------------


def section_training(machines: list, figures: dict, order, charts: set) -> list[str]:
    n_embd, n_head, n_layer, block_size = DEFAULT_SHAPE
    lines = ["## Training time per policy", ""] + image(charts, "train_time", "training time") + [
        f"The default shape (n_embd {n_embd}, n_head {n_head}, n_layer {n_layer}, block_size {block_size}) "
        "with each machine's headline backward order (dfs when it ran); other orders are in *Backward "
        "order*, other shapes in *Size axis*. Median of the repetitions, min–max beside it. *Speed vs the "
        "baseline* is the baseline's time per step divided by the policy's (above 1 = faster), with its "
        "95% bootstrap interval (repetitions resampled, 2000 times); a ratio is called faster or slower "
        "only when its interval excludes 1.", ""]
    for machine in machines:
        fig: Figures = figures[machine.name]
        topo = machine.headline_topo
        lines += [f"### {machine.name} — topo {topo}", ""]
        base = fig.roles.baseline if fig.roles.baseline in machine.policies else None
        rows = []
        for policy in order(machine.policies):
            run = machine.policies[policy]
            rows.append([fmt.code(policy), role_of(policy, fig.roles), fmt.seconds(run.median_s) + fmt.noisy(run.noisy),
                         f"{fmt.seconds(run.min_s)} – {fmt.seconds(run.max_s)}", fmt.cv_cell(run.cv),
                         str(run.repetitions), str(run.steps), f"{run.ms_per_step:.3f}",
                         fmt.ratio_ci(fig.speed.get(topo, {}).get(policy)) if base else fmt.DASH])
        header = f"speed vs {fmt.code(base)} (95% CI)" if base else "speed vs the baseline"
        lines += fmt.table(["policy", "role", "median", "min – max", "cv", "reps", "steps", "ms/step", header], rows)
        if any(machine.policies[p].noisy for p in machine.policies):
            lines += [fmt.NOISY_LEGEND, ""]
        if not base:
            lines += ["No speed ratios: " + (NO_ROLES if not fig.roles.known else "no baseline run in this "
                                             "series") + ".", ""]
    return lines


def section_backward_order(machines: list, order) -> list[str]:
    lines = ["## Backward order", "",
             "The same default-shape training with each backward order (`--topo`) that ran: " +
             "; ".join(f"*{t}* is {topo_phrase(t)}" for t in TOPO_PHRASES) + ". Cells are the median training "
             "time and its time per step; *speed-up* is dfs's time per step divided by the other order's "
             "(above 1 = faster than dfs), with its 95% interval.", ""]
    shown = [m for m in machines if len(m.series) > 1]
    if not shown:
        return lines + ["Only one backward order ran on each machine.", ""]
    for machine in shown:
        topos = topo_order(machine.series)
        others = [t for t in topos if t != DEFAULT_TOPO] if DEFAULT_TOPO in topos else []
        rows = []
        for policy in order({p for t in topos for p in machine.series[t]}):
            runs = [machine.series[t].get(policy) for t in topos]
            cells = [fmt.DASH if run is None else
                     f"{fmt.seconds(run.median_s)}{fmt.noisy(run.noisy)} ({run.ms_per_step:.3f} ms/step)"
                     for run in runs]
            dfs = machine.series.get(DEFAULT_TOPO, {}).get(policy)
            for topo in others:
                other = machine.series[topo].get(policy)
                cells.append(fmt.ratio_ci(analysis.speed_ratio(f"{machine.name}|topo|{topo}|{policy}", other, dfs))
                             if dfs and other else fmt.DASH)
            rows.append([fmt.code(policy)] + cells)
        header = ["policy"] + topos + [f"speed-up {t} vs {DEFAULT_TOPO}" for t in others]
        lines += [f"### {machine.name}", ""] + fmt.table(header, rows)
    return lines


# ---- modes -----------------------------------------------------------------


def mode_rows(machine: Machine, roles: Roles) -> list:
    """(mode label, run): the no-alloc reference in each backward order, then each other engine."""
    rows = []
    reference = roles.no_alloc_reference
    for topo in topo_order(machine.series):
        run = machine.series[topo].get(reference) if reference else None
        if run is not None:
            rows.append((f"{fmt.code(reference)} · `--topo {topo}`", run))
    for engine in engine_order(machine.engines):
        rows.append((f"`--engine {engine}`", machine.engines[engine]))
    return rows


def mixed_builds_note(machine: Machine, rows: list) -> list[str]:
    """A sentence when the modes' files name different git commits: their ratios then
    mix code changes with the mode's effect."""
    commit_of = {source: str(context["git_commit"]) for source, context in machine.contexts
                 if context.get("git_commit")}
    modes_of: dict = {}
    for label, run in rows:
        if run.source in commit_of:
            modes_of.setdefault(commit_of[run.source], []).append(label)
    if len(modes_of) < 2:
        return []
    parts = "; ".join(f"{commit}: {', '.join(labels)}" for commit, labels in modes_of.items())
    return [f"The rows come from different builds (git commit {parts}), so the ratios between them include "
            "code changes, not only the mode.", ""]


def work_per_step(run) -> str:
    # The tape's count is fused ops, not nodes: the two differ by orders of magnitude.
    unit = "nodes" if run.engine == GRAPH_ENGINE else "tape ops"
    return fmt.DASH if run.nodes_per_step is None else f"{run.nodes_per_step:,.0f} {unit}"


def mode_speed(machine: Machine, label: str, run, base) -> str:
    if base is None:
        return fmt.DASH
    if run is base:
        return "1.00×"
    return fmt.ratio_ci(analysis.speed_ratio(f"{machine.name}|mode|{label}", run, base))


def section_modes(machines: list, figures: dict, exactness: Exactness) -> list[str]:
    lines = ["## Modes", "",
             "The ways bench_train trains the default shape: the no-alloc reference policy (almost no allocator "
             "work) with each backward order that ran, and each engine other than the node graph: the tapes "
             "record fused ops on flat buffers instead of a node per op (their allocations are not counted); "
             "`--engine tape` adds gradients in its own order (forward bit-exact, backward not), `--engine "
             "tape-exact` in the node graph's order, so every bit is the graph's. *Speed vs dfs* is the "
             "reference's `--topo dfs` time per step divided by the mode's (above 1 = faster), with its 95% "
             "interval. *Output* comes from the recorded output hashes (see *Exactness*).", ""]
    shown = [(m, rows) for m in machines if (rows := mode_rows(m, figures[m.name].roles))]
    if not shown:
        return lines + ["No default-shape runs of the no-alloc reference or of another engine.", ""]
    for machine, rows in shown:
        reference = figures[machine.name].roles.no_alloc_reference
        base = machine.series.get(DEFAULT_TOPO, {}).get(reference) if reference else None
        lines += [f"### {machine.name}", ""]
        if not figures[machine.name].roles.known:
            lines += ["Only the engines: " + NO_ROLES + ".", ""]
        cells = [[label, fmt.seconds(run.median_s) + fmt.noisy(run.noisy),
                  f"{fmt.seconds(run.min_s)} – {fmt.seconds(run.max_s)}", str(run.repetitions), str(run.steps),
                  f"{run.ms_per_step:.3f}", work_per_step(run), mode_speed(machine, label, run, base),
                  exactness.status(run)]
                 for label, run in rows]
        lines += fmt.table(["mode", "median", "min – max", "reps", "steps", "ms/step", "work/step",
                            "speed vs dfs (95% CI)", "output"], cells)
        lines += mixed_builds_note(machine, rows)
        if machine.engines:
            fig = figures[machine.name]
            lines += [" ".join(tapes.sentences(machine, fig.roles, fig.ceiling)), ""]
    return lines


# ---- phases, allocation share, memory ---------------------------------------


def section_phases(machines: list, order, charts: set) -> list[str]:
    lines = ["## Phases of a training step", ""] + image(charts, "phases", "phases per step") + [
        "Milliseconds per step in the median repetition: *forward* builds the graph (every node is "
        "allocated here), *backward* sorts and propagates, *adam* updates the parameters, *release* "
        "frees the graph (or resets a bump allocator).", ""]
    for machine in machines:
        for topo in topo_order(machine.series):
            runs = [machine.series[topo][p] for p in order(machine.series[topo]) if machine.series[topo][p].phases]
            if not runs:
                continue
            rows = []
            for run in runs:
                per_step = [1000 * run.phases[phase] / run.steps for phase in PHASES]
                rows.append([fmt.code(run.name)] + [f"{v:.3f}" for v in per_step] + [f"{sum(per_step):.3f}"])
            lines += [f"### {machine.name} — topo {topo}", ""] + fmt.table(["policy", *PHASES, "total"], rows)
    return lines


def section_alloc_share(machines: list, figures: dict, order) -> list[str]:
    lines = [
        "## Share of step time spent allocating and releasing", "",
        "Method: the no-alloc reference policy (a run marked `no_alloc_reference`) builds the same graph with "
        "(almost) no allocator work, so its forward and release phases are the graph work alone. For a policy "
        "*p*, with every phase per step:", "",
        "    alloc_share(p) = max(0, (forward_p − forward_ref) + (release_p − release_ref)) / total_p", "",
        "where total_p is the sum of p's four phases, from each run's median repetition. This counts allocator "
        "time *above the reference's*, and includes cache effects of scattered nodes (which also slow "
        "backward, not counted here), so it is an estimate; the reference is 0 by construction. The interval "
        "resamples both runs' repetitions. The answer calls allocation *the bottleneck* when the baseline's "
        f"share is at least {fmt.percent(analysis.BOTTLENECK_SHARE)} (its whole interval), *a large cost* from "
        f"{fmt.percent(analysis.MAJOR_COST_SHARE)}. Each backward order is measured against its own reference run.",
        ""]
    for machine in machines:
        fig = figures[machine.name]
        if not fig.roles.known:
            lines += [f"### {machine.name}", "", f"Not computed: {NO_ROLES}.", ""]
            continue
        for topo in topo_order(machine.series):
            lines += [f"### {machine.name} — topo {topo}", ""]
            lines += share_table(machine, fig, topo, order)
    return lines


def share_table(machine: Machine, fig: Figures, topo: str, order) -> list[str]:
    runs, reference = machine.series[topo], fig.roles.no_alloc_reference
    shares = fig.shares.get(topo)
    if shares is None:
        reason = ("no run is marked as the no-alloc reference" if reference is None
                  else f"no `{reference}` run with phases in this order")
        return [f"Not computed: {reason}.", ""]
    if set(shares) == {reference}:
        return [f"Only `{reference}` ran in this order (0 by construction).", ""]
    ref = runs[reference]
    rows = []
    for policy in order(shares):
        run = runs[policy]
        extra_ms = 1000 * sum(run.phases[p] / run.steps - ref.phases[p] / ref.steps for p in ("forward", "release"))
        total_ms = 1000 * sum(run.phases.values()) / run.steps
        rows.append([fmt.code(policy), f"{extra_ms:.3f}", f"{total_ms:.3f}", fmt.share_ci(shares[policy])])
    lines = fmt.table(["policy", f"extra forward+release vs `{reference}` (ms/step)", "total (ms/step)",
                       "alloc share (95% CI)"], rows)
    if topo == (DEFAULT_TOPO if DEFAULT_TOPO in machine.series else machine.headline_topo):
        lines += callgrind_lines(machine, shares, order)
    return lines


def callgrind_lines(machine: Machine, shares: dict, order) -> list[str]:
    """scripts/callgrind_share.sh runs bench_train's default order, dfs."""
    if not machine.callgrind:
        return []
    rows = []
    for policy in order(machine.callgrind):
        source, values = machine.callgrind[policy]
        others = ", ".join(f"{k} {v}" for k, v in values.items() if k != "malloc_share")
        share = shares.get(policy)
        rows.append([fmt.code(policy), fmt.percent(share_value(values.get("malloc_share"))),
                     fmt.percent(share.point if share else None), others or fmt.DASH, Path(source).name])
    return ["Callgrind confirmation (instruction counts, not time):", ""] + fmt.table(
        ["policy", "callgrind malloc_share", "phase-derived alloc share", "other values", "file"], rows)


def section_memory(machines: list, order, charts: set) -> list[str]:
    lines = ["## Memory", ""] + image(charts, "memory", "memory") + [
        "Peak RSS of the worker process; bytes and allocation calls requested per training step "
        "(as counted by the policy). Headline series; other shapes are in *Size axis*.", ""]
    for machine in machines:
        rows = [[fmt.code(p), fmt.kib(r.peak_rss_kib), fmt.size_bytes(r.bytes_per_step),
                 fmt.number(r.allocations_per_step)]
                for p, r in ((p, machine.policies[p]) for p in order(machine.policies))]
        lines += [f"### {machine.name}", ""] + fmt.table(["policy", "peak RSS", "bytes/step", "allocations/step"], rows)
    return lines
