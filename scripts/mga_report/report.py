"""REPORT.md: the answer first, then one section per question (each a table), the machines last."""

from __future__ import annotations

from . import across, answer, exactness, quality, stats, tables
from .fmt import FLAGGED_MARK, NOISY_MARK
from .model import NOISY_CV

# (title, chart, what the tables show, which machines have the data, the table builder, how to get the data)
SECTIONS = [
    ("How long does training take with each policy?", None,
     "The default shape, every backward order that ran; roles come from the traits each run recorded.",
     lambda m: m.series, tables.training, "bench_train --allocator=all --repeat 5 --json FILE"),
    ("How much of a step is allocating and releasing?", "phases.png",
     "The share is the extra forward and release time of a policy over the no-alloc reference's (which builds "
     "the same graph with almost no allocator work), per step, over the policy's whole step time, from each "
     "run's median repetition; its interval resamples both runs' repetitions. *bound if free* is the speed-up "
     "that share alone allows, 1 / (1 − share) (Amdahl). Callgrind counts instructions, not time.",
     lambda m: any(r.phases for r in m.policies.values()), tables.shares, "bench_train --json FILE"),
    ("Does faster allocation mean faster training?", "alloc_vs_train.png",
     "Allocation rates from Google Benchmark (microgpt.ts's chain microbenchmark), training speeds from the "
     "headline order. The log–log slope is the elasticity: 10× faster allocation goes with 10^slope× faster "
     "training; its interval resamples the policies and, within each, its repetitions.",
     lambda m: m.rate_points, tables.elasticity, "scripts/bench_gbench.sh"),
    ("What does a drop-in process allocator buy?", "malloc_matrix.png",
     "Each policy under each process-wide allocator (`--malloc`: preloaded with `LD_PRELOAD`, or glibc with "
     "other tunables), each cell a fresh process, the cells round-robin; ratios divide by the baseline under "
     "glibc of the same file.",
     lambda m: m.matrix, tables.matrix, "bench_train --malloc=all --allocator=all --repeat 5 --json FILE"),
    ("Preload a malloc, use std::pmr, or write an arena?", None,
     "From the matrix, each order on its own: what a drop-in buys the unchanged program, std::pmr against the "
     "hand-written policy that frees the same way (traits `standard_library`, `hand_written`, `frees_per_node`), "
     "and what a hand-written policy adds over the best drop-in.",
     lambda m: m.matrix, tables.practical, "bench_train --malloc=all --allocator=all --json FILE"),
    ("What does removing the nodes buy?", None,
     "The no-alloc reference with each backward order, and the tapes (fused ops on flat buffers instead of a "
     "node per op): `tape` adds gradients in its own order, `tape-exact` in the graph's, so every bit is the "
     "graph's.", lambda m: m.engines, tables.nodes, "bench_train --engine tape-exact --repeat 5 --json FILE"),
    ("The tapes beside a peer program", None, "From `tape_vs_peers.json`, every program once per round.",
     lambda m: m.peers, tables.peers, "scripts/bench_tape_peers.sh"),
    ("Instructions and cache misses per node", None,
     "valgrind's cache simulation (scripts/cachesim.py), inside the training steps, per graph node: measured "
     "counts, including the layout controls (the arena's nodes scattered; smaller nodes with 32-bit handles).",
     lambda m: m.cachesim, tables.cachesim, "scripts/cachesim.py"),
    ("Memory", None, "Peak RSS of the worker process; bytes and allocation calls per step, as the policy counts them.",
     lambda m: m.policies, tables.memory, "bench_train --json FILE"),
    ("Does it change with the model's size?", "size.png", "Other model shapes (files under `sweep/`).",
     lambda m: tables.size_points(m, lambda x: x), tables.size, "scripts/sweep.sh"),
    ("Threads", "threads.png",
     "`bench_train --threads N` trains N replicas at once, each its own model and policy instance; "
     "`--release=background` frees each step's nodes on a second thread per replica.",
     lambda m: m.thread_runs, tables.threads, "bench_train --threads 1,2,4 --release=all --json FILE"),
    ("microgpt.ts's claim", None,
     "microgpt.ts explains its runtimes' training speeds by their allocation rates (the chain microbenchmark, "
     "bench-alloc.ts: V8 12.8M and JavaScriptCore 20.9M allocs/s, 1.63×, for Bun's 1.6× faster training). The "
     "claim predicts that the runtime that allocates faster trains faster. Runtimes are timed as whole programs; "
     "one counted allocation is a different number of objects in each language (last column).",
     lambda m: m.crosslang, tables.claim, "scripts/crosslang.py"),
    ("Google Benchmark results", None, "Median of the repetitions; cv of the rate (of the time without one).",
     lambda m: m.rate_points, tables.gbench, "scripts/bench_gbench.sh"),
]


def statistics_note() -> str:
    return (f"Every ratio, share and slope comes with a {100 * stats.LEVEL:.0f}% percentile-bootstrap interval "
            f"({stats.RESAMPLES} resamples, seeded, so the same results give the same report); an interval that "
            f"contains 1 is no measurable difference. {NOISY_MARK} marks a cell whose repetitions' coefficient of "
            f"variation is above {100 * NOISY_CV:.0f}%, {FLAGGED_MARK}k/N one where k of its N repetitions carry "
            "bench_train's noise flags (see Measurement quality). With 3–5 repetitions the intervals are coarse.")


def render(results, figs: dict, checked, charts: set) -> str:
    machines = list(results.machines.values())
    several = len(machines) > 1
    for fig in figs.values():
        fig.exactness = checked
    lines = ["# microgpt-alloc: is allocation the bottleneck?", "",
             f"Generated by `scripts/compare.py` from {len(results.files_used)} file(s) in results/; machines: "
             f"{', '.join(m.name for m in machines)}. How the figures are computed, and the machines, are at the end.",
             "", "## The answer", ""]
    for machine in machines:
        lines += [f"### {machine.name}", ""] if several else []
        lines += answer.bullets(figs[machine.name], details=True) + [""]
    lines += tables.image(charts, "answer.png", "training time per policy")
    for title, chart, intro, has, build, command in SECTIONS:
        lines += [f"## {title}", ""]
        shown = [m for m in machines if has(m)]
        if not shown:
            lines += [f"Not measured: `{command}` writes the data.", ""]
            continue
        lines += tables.image(charts, chart, title) + [intro, ""]
        for machine in shown:
            lines += ([f"### {machine.name}", ""] if several else [])
            lines += build(machine, figs[machine.name], results.order)
    lines += ["## Exactness", ""] + exactness.section(checked, machines)
    lines += ["## Measurement quality", "", quality.INTRO, ""]
    for machine in (m for m in machines if m.all_runs):
        lines += ([f"### {machine.name}", ""] if several else []) + quality.section(machine)
    found = across.section(machines, figs, results.order)
    lines += ["## Across machines", ""] + found if found else []
    lines += ["## How the figures are computed", "", statistics_note(), ""]
    if results.skipped:
        lines += ["## Skipped files", ""] + [f"- {message}" for message in results.skipped] + [""]
    lines += ["## Machines and builds", ""]
    for machine in machines:
        lines += [f"### {machine.name}", ""] + tables.context(machine, figs[machine.name], results.order)
    return "\n".join(lines).rstrip("\n") + "\n"
