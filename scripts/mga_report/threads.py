"""The thread axis (bench_train --threads, --release): how each policy's throughput scales
when several trainers allocate at once, and what freeing on a second thread gains.

A thread-axis file has "thread_axis": true in its config; each run is one cell (policy,
process allocator, threads, release). Scaling efficiency is the 1-thread cell's median time
over the N-thread cell's (its throughput over N times the 1-thread throughput), the
background gain the inline cell's median time over the background cell's; both are computed
here from the medians, for cells of the same file's policy and process allocator. Roles come
from the runs' traits, never from names."""

from __future__ import annotations

from .files import BadFile, as_list, is_number
from .fmt import DASH, NOISY_LEGEND, code, names, noisy, table
from .model import DEFAULT_MALLOC, NOISY_CV, Machine, ThreadRun, TrainRun

INLINE, BACKGROUND = "inline", "background"
RELEASES = (INLINE, BACKGROUND)
OVERSUBSCRIBED_MARK = "‡"
OVERSUBSCRIBED_LEGEND = (f"{OVERSUBSCRIBED_MARK} oversubscribed: the run had more threads (replicas, and a release "
                         "thread per replica with background release) than the machine has cores, so the replicas "
                         "took turns; it shows the cost of contention, not parallel speed-up.")


def is_thread_axis(config: dict) -> bool:
    return config.get("thread_axis") is True


def parse_thread_run(run: dict, train: TrainRun) -> ThreadRun:
    threads, release = run.get("threads"), run.get("release")
    if not is_number(threads) or int(threads) != threads or threads < 1:
        raise BadFile(f"run '{train.name}': 'threads' is not a positive integer")
    if release not in RELEASES:
        raise BadFile(f"run '{train.name}': 'release' is not one of {', '.join(RELEASES)}")
    timed = sorted((r for r in as_list(run.get("repetitions")) if isinstance(r, dict)
                    and is_number(r.get("train_seconds"))), key=lambda r: r["train_seconds"])
    median = timed[(len(timed) - 1) // 2] if timed else {}
    replicas = tuple(float(r["train_seconds"]) for r in as_list(median.get("replicas"))
                     if isinstance(r, dict) and is_number(r.get("train_seconds")))
    return ThreadRun(train=train, threads=int(threads), release=release,
                     oversubscribed=run.get("oversubscribed") is True, replica_seconds=replicas)


# ---- figures -------------------------------------------------------------------------


def cells(machine: Machine) -> dict:
    """(malloc, policy, release, threads) -> ThreadRun; a cell twice keeps the newer file's."""
    found: dict = {}
    for run in machine.thread_runs:
        key = (run.train.malloc, run.name, run.release, run.threads)
        if key not in found or run.train.date >= found[key].train.date:
            found[key] = run
    return found


def efficiency(table_cells: dict, run: ThreadRun) -> float | None:
    one = table_cells.get((run.train.malloc, run.name, run.release, 1))
    return None if one is None else one.train.median_s / run.train.median_s


def background_gain(table_cells: dict, run: ThreadRun) -> float | None:
    if run.release != BACKGROUND:
        return None
    inline = table_cells.get((run.train.malloc, run.name, INLINE, run.threads))
    return None if inline is None else inline.train.median_s / run.train.median_s


def chart_malloc(machine: Machine) -> str | None:
    mallocs = {r.train.malloc for r in machine.thread_runs}
    return DEFAULT_MALLOC if DEFAULT_MALLOC in mallocs else min(mallocs, default=None)


def role(run: ThreadRun) -> str:
    traits = run.train.traits
    if traits is None:
        return "unknown"
    parts = [label for flag, label in ((traits.baseline, "baseline"), (traits.no_alloc_reference, "no-alloc reference"),
                                       (traits.reference_counted, "reference-counted"), (traits.control, "control"))
             if flag]
    return ", ".join(parts) or DASH


# ---- the report section ------------------------------------------------------------------


def steps_cell(run: ThreadRun | None) -> str:
    return DASH if run is None else f"{run.steps_per_second:,.1f}{noisy(run.train.noisy)}"


def percent_cell(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.0f}%"


def gain_cell(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}×"


def machine_rows(machine: Machine, malloc: str, order) -> list[list[str]]:
    found = cells(machine)
    rows = []
    policies = order({p for (m, p, _, _) in found if m == malloc})
    for policy in policies:
        counts = sorted({t for (m, p, _, t) in found if m == malloc and p == policy})
        for threads in counts:
            inline = found.get((malloc, policy, INLINE, threads))
            background = found.get((malloc, policy, BACKGROUND, threads))
            any_run = inline or background
            label = f"{threads}{' ' + OVERSUBSCRIBED_MARK if inline and inline.oversubscribed else ''}"
            rows.append([code(policy), role(any_run), label,
                         steps_cell(inline), percent_cell(efficiency(found, inline)) if inline else DASH,
                         steps_cell(background) + (f" {OVERSUBSCRIBED_MARK}" if background and background.oversubscribed
                                                   else ""),
                         percent_cell(efficiency(found, background)) if background else DASH,
                         gain_cell(background_gain(found, background)) if background else DASH])
    return rows


def refusals(machine: Machine, order) -> list[str]:
    """Policies whose traits say their nodes cannot be freed on another thread."""
    refused = {r.name for r in machine.thread_runs if r.train.traits and not r.train.traits.cross_thread_release}
    return order(refused)


def headline(machine: Machine, malloc: str) -> str:
    """The baseline's and the no-alloc reference's scaling at the most threads that did not oversubscribe."""
    found = cells(machine)
    parts = []
    for flag, label in (("baseline", "the baseline"), ("no_alloc_reference", "the no-alloc reference")):
        runs = [r for r in found.values() if r.train.malloc == malloc and r.release == INLINE and r.threads > 1
                and not r.oversubscribed and r.train.traits and getattr(r.train.traits, flag)]
        if runs:
            run = max(runs, key=lambda r: r.threads)
            value = efficiency(found, run)
            if value is not None:
                parts.append(f"{label} ({code(run.name)}) keeps {100 * value:.0f}% of linear scaling at "
                             f"{run.threads} threads")
    return ("Inline release, " + "; ".join(parts) + ".") if parts else ""


def section(machines: list, order, charts: set) -> list[str]:
    shown = [m for m in machines if m.thread_runs]
    if not shown:
        return []
    lines = ["## Threads", ""]
    if "threads" in charts:
        lines += ["![throughput vs threads](charts/threads.png)", ""]
    lines += [
        "`bench_train --threads N` trains N replicas at once in one process, each on its own thread with its own "
        "model, its own policy instance and the seed `--seed + i`; every replica's output is compared with a "
        "single-threaded run of its seed, so a concurrency bug fails the run instead of hiding in a timing. "
        "`--release=background` gives each step's nodes back on a second thread per replica while the trainer "
        "builds the next step (double-buffered, one batch in flight). Throughput is all replicas' steps per second "
        "of wall time; scaling is that throughput over N times the 1-thread throughput of the same policy and "
        "release; the background gain is the inline time over the background time at the same N.", ""]
    for machine in shown:
        for malloc in sorted({r.train.malloc for r in machine.thread_runs},
                             key=lambda m: (m != DEFAULT_MALLOC, m)):
            lines += [f"### {machine.name}, malloc {malloc}", ""]
            rows = machine_rows(machine, malloc, order)
            lines += table(["policy", "role", "threads", "inline steps/s", "inline scaling",
                            "background steps/s", "background scaling", "background gain"], rows)
            sentence = headline(machine, malloc)
            if sentence:
                lines += [sentence, ""]
        refused = refusals(machine, order)
        if refused:
            lines += [f"No background runs for {names(refused)}: their traits say a step's nodes cannot be given "
                      "back on another thread (bench_train's `--list-allocators --format=json` and the run's "
                      "notes say why).", ""]
        legends = []
        if any(r.oversubscribed for r in machine.thread_runs):
            legends.append(OVERSUBSCRIBED_LEGEND)
        if any(r.train.noisy for r in machine.thread_runs):
            legends.append(NOISY_LEGEND)
        lines += [legend + "\n" for legend in legends]
    return lines


# ---- the chart ---------------------------------------------------------------------------


def chart(plt, machines: list, order):
    """Per machine: steps/s against threads (inline, one line per policy), and the background gain."""
    from .charts import PALETTE

    shown = [m for m in machines if m.thread_runs]
    figure, axes_rows = plt.subplots(len(shown), 2, figsize=(13, 4.8 * len(shown)), squeeze=False)
    for (scaling_axes, gain_axes), machine in zip(axes_rows, shown):
        malloc = chart_malloc(machine)
        found = {k: v for k, v in cells(machine).items() if k[0] == malloc}
        policies = order({p for (_, p, _, _) in found})
        colors = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(policies)}
        dashed = set(policies[len(PALETTE):])  # past the palette: the colors come round again
        for policy in policies:
            runs = sorted((r for (_, p, rel, _), r in found.items() if p == policy and rel == INLINE),
                          key=lambda r: r.threads)
            if not runs:
                continue
            baseline = runs[0].train.traits is not None and runs[0].train.traits.baseline
            scaling_axes.plot([r.threads for r in runs], [r.steps_per_second for r in runs], marker="o",
                              color="black" if baseline else colors[policy], linewidth=2.5 if baseline else 1.2,
                              linestyle="--" if policy in dashed else "-",
                              label=policy + (" (baseline)" if baseline else ""))
            for run in runs:
                if run.oversubscribed or run.train.noisy:
                    scaling_axes.scatter([run.threads], [run.steps_per_second], s=90, facecolors="none",
                                         edgecolors="grey")
        counts = sorted({t for (_, _, _, t) in found})
        scaling_axes.set_xticks(counts, [f"{t}{OVERSUBSCRIBED_MARK}" if any(
            r.oversubscribed for (_, _, rel, n), r in found.items() if n == t and rel == INLINE) else str(t)
            for t in counts])
        scaling_axes.scatter([], [], s=90, facecolors="none", edgecolors="grey",
                             label=f"ringed: oversubscribed, or cv > {100 * NOISY_CV:.0f}%")
        scaling_axes.set_xlabel(f"threads (replicas); {OVERSUBSCRIBED_MARK}: oversubscribed")
        scaling_axes.set_ylabel("steps/s, all replicas (median)")
        scaling_axes.set_title(f"Throughput vs threads, inline release — {machine.name}, malloc {malloc}",
                               fontsize=10)
        scaling_axes.legend(fontsize=7, ncol=2)
        gained = [(p, t, background_gain(found, r)) for (_, p, rel, t), r in found.items() if rel == BACKGROUND]
        gained = [(p, t, g) for p, t, g in gained if g is not None]
        gain_policies = order({p for p, _, _ in gained})
        for index, threads in enumerate(counts):
            width = 0.8 / max(1, len(counts))
            values = {p: g for p, t, g in gained if t == threads}
            xs = [i - 0.4 + width * (index + 0.5) for i, p in enumerate(gain_policies) if p in values]
            gain_axes.bar(xs, [values[p] for p in gain_policies if p in values], width, label=f"{threads} thread(s)")
        gain_axes.axhline(1.0, color="black", linewidth=0.8)
        gain_axes.set_xticks(range(len(gain_policies)), gain_policies, rotation=30)
        gain_axes.set_ylabel("inline time / background time")
        gain_axes.set_title("Background-release gain (above 1: the second thread helps)", fontsize=10)
        if gained:
            gain_axes.legend(fontsize=7)
    return figure
