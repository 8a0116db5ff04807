"""Formatting numbers, intervals and Markdown tables."""

from __future__ import annotations

from .model import NOISY_CV
from .stats import ITSELF, Interval

NOISY_MARK = "†"
NOISY_LEGEND = (f"{NOISY_MARK} cv above {100 * NOISY_CV:.0f}%: the repetitions spread widely, so this cell is "
                "uncertain; re-run on a quiet machine (more `--repeat`, or `--benchmark_repetitions`) before "
                "trusting it.")
DASH = "–"


def seconds(value: float) -> str:
    return f"{value:.3f} s" if value >= 0.1 else f"{value * 1000:.2f} ms"


def percent(fraction: float | None) -> str:
    return DASH if fraction is None else f"{100 * fraction:.1f}%"


def ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}×"


def rate(value: float | None) -> str:
    if value is None:
        return DASH
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.1f} {suffix}/s"
    return f"{value:.0f} /s"


def kib(value: float | None) -> str:
    return DASH if value is None else f"{value / 1024:.1f} MiB"


def size_bytes(count: float | None) -> str:
    if count is None:
        return DASH
    for scale, unit in ((1 << 20, "MiB"), (1 << 10, "KiB")):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count:.0f} B"


def number(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def time_ns(ns: float) -> str:
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            return f"{ns / scale:.3f} {unit}"
    return f"{ns:.1f} ns"


def noisy(flag: bool) -> str:
    return f" {NOISY_MARK}" if flag else ""


def cv_cell(cv: float | None) -> str:
    return DASH if cv is None else f"{100 * cv:.1f}%{noisy(cv > NOISY_CV)}"


def bounds(interval: Interval, digits: int = 2) -> str:
    """'(2.90–3.36)', or '(no interval: one repetition)'."""
    if not interval.available:
        return f"(no interval: {interval.note or 'no spread recorded'})"
    return f"({interval.low:.{digits}f}–{interval.high:.{digits}f})"


def ratio_ci(interval: Interval | None) -> str:
    """'3.11× (2.90–3.36)'; a ratio whose interval contains 1 says so."""
    if interval is None:
        return DASH
    if interval.note == ITSELF:
        return f"{interval.point:.2f}×"
    cell = f"{interval.point:.2f}× {bounds(interval)}"
    if interval.available and interval.side() == 0:
        cell += ", no measurable difference"
    return cell


def value_ci(interval: Interval | None, digits: int = 2) -> str:
    if interval is None:
        return "n/a"
    return f"{interval.point:.{digits}f} {bounds(interval, digits)}"


def share_ci(interval: Interval | None) -> str:
    if interval is None:
        return DASH
    if not interval.available:
        return percent(interval.point)
    return f"{percent(interval.point)} ({100 * interval.low:.1f}–{100 * interval.high:.1f}%)"


def speed_words(interval: Interval, subject: str, other: str) -> str:
    """'`a` is 3.11× as fast as `b` (95% CI 2.90–3.36)' or '... no measurable difference ...'."""
    if not interval.available:
        return (f"{subject} runs at {interval.point:.2f}× the speed of {other} "
                f"(no interval: {interval.note or 'no spread recorded'}, so not called faster or slower)")
    ci = f"95% CI {interval.low:.2f}–{interval.high:.2f}"
    side = interval.side()
    if side > 0:
        return f"{subject} is {interval.point:.2f}× as fast as {other} ({ci})"
    if side < 0:
        return f"{subject} takes {1 / interval.point:.2f}× the time of {other} ({ci})"
    return f"{subject} and {other} show no measurable difference ({interval.point:.2f}×, {ci})"


def table(header: list, rows: list) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines + [""]


def code(name: str) -> str:
    return f"`{name}`"


def names(values) -> str:
    values = [code(v) for v in values]
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]
