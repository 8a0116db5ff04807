"""The README's `threads` block: per policy, the scaling efficiency at each thread count
(1-thread median time over the N-thread one, as threads.py computes it) and the
background-release gain (inline time over background time at the same N), each with its
95% bootstrap interval over the repetitions; which policies gain from a release thread and
which lose, called only when the interval excludes 1. The process allocator is the one the
report's chart shows (glibc when it ran)."""

from __future__ import annotations

from . import fmt, threads
from .analysis import speed_ratio
from .model import ThreadRun
from .stats import Interval

MISSING = ("No thread-axis run in results/ yet (`bench_train --allocator=all --threads 1,2,4 --release=all "
           "--repeat 5 --quiet --json results/<machine>/bench_train_threads.json`), so there are no thread "
           "figures.")


def ratio(machine: str, what: str, run: ThreadRun, against: ThreadRun) -> Interval:
    """against's median time over run's, per step, with its interval."""
    label = f"{machine}|readme-threads|{what}|{run.train.malloc}|{run.name}|{run.release}|{run.threads}"
    return speed_ratio(label, run.train, against.train)


def percent_cell(interval: Interval | None, noisy: bool) -> str:
    if interval is None:
        return fmt.DASH
    text = f"{100 * interval.point:.0f}%"
    if interval.available:
        text += f" ({100 * interval.low:.0f}–{100 * interval.high:.0f}%)"
    return text + fmt.noisy(noisy)


def gain_cell(interval: Interval | None, noisy: bool) -> str:
    return fmt.DASH if interval is None else fmt.ratio_ci(interval) + fmt.noisy(noisy)


def figures(machine, malloc: str, order) -> tuple:
    """(policies, scaling counts, gain counts, scaling, gains): scaling[(policy, n)] and
    gains[(policy, n)] are (Interval, noisy)."""
    found = {k: v for k, v in threads.cells(machine).items() if k[0] == malloc}
    policies = order({p for (_, p, _, _) in found})
    inline = {(p, n): r for (_, p, rel, n), r in found.items() if rel == threads.INLINE}
    background = {(p, n): r for (_, p, rel, n), r in found.items() if rel == threads.BACKGROUND}
    scaling, gains = {}, {}
    for (policy, n), run in inline.items():
        one = inline.get((policy, 1))
        if n > 1 and one is not None:
            scaling[(policy, n)] = (ratio(machine.name, "scaling", run, one), run.train.noisy or one.train.noisy)
    for (policy, n), run in background.items():
        same = inline.get((policy, n))
        if same is not None:
            gains[(policy, n)] = (ratio(machine.name, "gain", run, same), run.train.noisy or same.train.noisy)
    scaling_counts = sorted({n for (_, n) in scaling})
    # a gain where the inline replicas alone fit the cores: beyond that, both cells only take turns
    gain_counts = sorted({n for (p, n) in gains if not inline[(p, n)].oversubscribed})
    return policies, scaling_counts, gain_counts, scaling, gains


def oversubscribed(machine, malloc: str, count: int, release: str = threads.INLINE) -> bool:
    return any(r.oversubscribed for (m, _, rel, n), r in threads.cells(machine).items()
               if m == malloc and n == count and rel == release)


def mark(flag: bool) -> str:
    return f" {threads.OVERSUBSCRIBED_MARK}" if flag else ""


def verb(policies: list, one: str, many: str) -> str:
    return "" if not policies else f"{fmt.names(policies)} {one if len(policies) == 1 else many}"


def side_sentence(policies: list, gain_counts: list, gains: dict) -> str:
    parts = []
    for n in gain_counts:
        measured = [(p, gains[(p, n)][0]) for p in policies if (p, n) in gains]
        faster = [p for p, g in measured if g.side() > 0]
        slower = [p for p, g in measured if g.side() < 0]
        even = [p for p, g in measured if g.side() == 0]
        words = [verb(faster, "gains", "gain"), verb(slower, "loses", "lose"),
                 verb(even, "shows no measurable difference", "show no measurable difference")]
        parts.append(f"at {n} thread{'s' if n > 1 else ''}, " + ", ".join(w for w in words if w))
    if not parts:
        return ""
    return ("With a release thread (gain or loss only where the 95% interval excludes 1): " + "; ".join(parts) + ".")


def block(fig, order) -> list[str]:
    machine = fig.machine
    if not machine.thread_runs:
        return [MISSING]
    malloc = threads.chart_malloc(machine)
    policies, scaling_counts, gain_counts, scaling, gains = figures(machine, malloc, order)
    header = ["policy"]
    header += [f"scaling, {n} threads{mark(oversubscribed(machine, malloc, n))}" for n in scaling_counts]
    header += [f"background gain, {n} thread{'s' if n > 1 else ''}"
               f"{mark(oversubscribed(machine, malloc, n, threads.BACKGROUND))}" for n in gain_counts]
    rows = []
    for policy in policies:
        row = [fmt.code(policy)]
        row += [percent_cell(*scaling.get((policy, n), (None, False))) for n in scaling_counts]
        row += [gain_cell(*gains.get((policy, n), (None, False))) for n in gain_counts]
        rows.append(row)
    note = (f"Machine `{machine.name}`, process allocator {malloc}: scaling is the 1-thread median time over the "
            "N-thread one (100% is linear), the background gain the inline time over the background time at the "
            "same N (above 1: the release thread helps), each with its 95% bootstrap interval.")
    if any(oversubscribed(machine, malloc, n) for n in scaling_counts) or any(
            oversubscribed(machine, malloc, n, threads.BACKGROUND) for n in gain_counts):
        note += f" {threads.OVERSUBSCRIBED_LEGEND}"
    if any(noisy for _, noisy in [*scaling.values(), *gains.values()]):
        note += f" {fmt.NOISY_LEGEND}"
    refused = threads.refusals(machine, order)
    if refused:
        note += f" No background runs for {fmt.names(refused)}: their nodes cannot be freed on another thread."
    sentence = side_sentence(policies, gain_counts, gains)
    return fmt.table(header, rows) + [note] + (["", sentence] if sentence else [])
