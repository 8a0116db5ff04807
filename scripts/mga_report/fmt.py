"""Numbers, intervals and Markdown tables."""

from __future__ import annotations

from pathlib import Path

from .model import NOISY_CV
from .stats import ITSELF, Interval

NOISY_MARK = "†"
NOISY_LEGEND = (f"{NOISY_MARK} cv above {100 * NOISY_CV:.0f}%: the repetitions spread widely; re-run on a quiet "
                "machine before trusting the cell.")
FLAGGED_MARK = "⚠"  # followed by k/N: k of the cell's N repetitions carry bench_train's noise flags
FLAGS_QUOTED = 3  # distinct flag sentences a footnote quotes; the report's Measurement quality lists all
DASH = "–"


def seconds(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.3f} s" if value >= 0.1 else f"{value * 1000:.2f} ms"


def percent(fraction: float | None, digits: int = 1) -> str:
    return DASH if fraction is None else f"{100 * fraction:.{digits}f}%"


def rate(value: float | None) -> str:
    if value is None:
        return DASH
    scale, suffix = next(((s, x) for s, x in ((1e9, "G"), (1e6, "M"), (1e3, "k")) if value >= s), (1, ""))
    return f"{value / scale:.1f} {suffix}/s"


def mib(kib: float | None) -> str:
    return DASH if kib is None else f"{kib / 1024:.1f} MiB"


def size_bytes(count: float | None) -> str:
    if count is None:
        return DASH
    scale, unit = next(((s, u) for s, u in ((1 << 20, "MiB"), (1 << 10, "KiB")) if count >= s), (1, "B"))
    return f"{count / scale:.1f} {unit}" if scale > 1 else f"{count:.0f} B"


def noisy(flag: bool) -> str:
    return f" {NOISY_MARK}" if flag else ""


def marks(run) -> str:
    """A training run's marks: ' †' (cv above the threshold), ' ⚠k/N' (repetitions with noise flags)."""
    if run is None:
        return ""
    flagged = len(run.flagged)
    return noisy(run.noisy) + (f" {FLAGGED_MARK}{flagged}/{len(run.reps)}" if flagged else "")


def footnotes(runs) -> list:
    """One sentence per mark the runs carry, and the outcome of each `--repeat auto` file among them."""
    runs = [r for r in runs if r is not None]
    found = [NOISY_LEGEND] if any(getattr(r, "noisy", False) for r in runs) else []
    flags = list(dict.fromkeys(f for r in runs for _, found_flags in getattr(r, "flagged", ()) for f in found_flags))
    if flags:
        quoted = "; ".join(f"“{f}”" for f in flags[:FLAGS_QUOTED])
        more = f"; {len(flags) - FLAGS_QUOTED} more" if len(flags) > FLAGS_QUOTED else ""
        found.append(f"{FLAGGED_MARK}k/N: k of the cell's N repetitions carry bench_train's noise flags ({quoted}"
                     f"{more}); they stay in the statistics, and the report's *Measurement quality* lists them.")
    outcomes = dict.fromkeys((Path(r.source).name, r.repeat_outcome) for r in runs if getattr(r, "repeat_outcome", ""))
    return found + [f"`--repeat auto` ({name}): {outcome.rstrip('.')}." for name, outcome in outcomes]


def with_files(values: dict) -> str:
    """value -> names of the files that recorded it: the value alone when it is the only one, else each
    value with its files."""
    if len(values) == 1:
        return next(iter(values))
    return "; ".join(f"{v} ({', '.join(files) if len(files) < 5 else f'{len(files)} files'})"
                     for v, files in values.items())


def cv_cell(cv: float | None) -> str:
    return DASH if cv is None else f"{100 * cv:.1f}%{noisy(cv > NOISY_CV)}"


def bounds(interval: Interval, digits: int = 2, unit: str = "") -> str:
    """'(2.90–3.36)', or '(no interval: one repetition)'."""
    if not interval.available:
        return f"(no interval: {interval.note or 'no spread recorded'})"
    return f"({interval.low:.{digits}f}–{interval.high:.{digits}f}{unit})"


def ratio_ci(interval: Interval | None, digits: int = 2) -> str:
    """'3.11× (2.90–3.36)'; a ratio of a run to itself without an interval."""
    if interval is None:
        return DASH
    if interval.note == ITSELF:
        return f"{interval.point:.{digits}f}×"
    return f"{interval.point:.{digits}f}× {bounds(interval, digits)}"


def share_ci(interval: Interval | None) -> str:
    if interval is None:
        return DASH
    if not interval.available:
        return percent(interval.point)
    return f"{percent(interval.point)} ({100 * interval.low:.1f}–{100 * interval.high:.1f}%)"


def value_ci(interval: Interval | None, digits: int = 2) -> str:
    return DASH if interval is None else f"{interval.point:.{digits}f} {bounds(interval, digits)}"


def code(name: str) -> str:
    return f"`{name}`"


def names(values) -> str:
    values = [code(v) for v in values]
    return ", ".join(values[:-1]) + " and " + values[-1] if len(values) > 1 else "".join(values)


def table(header: list, rows: list) -> list:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows] + [""]


def repetitions(machine, topos) -> str:
    """'5', or per topo when they differ ('8 (`dfs`) and 7 (`creation`)'), a range where cells differ."""
    def count(topo):
        values = sorted({r.repetitions for r in machine.series[topo].values()})
        return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"
    counts = [count(t) for t in topos]
    if len(set(counts)) <= 1:
        return counts[0] if counts else "0"
    return " and ".join(f"{c} (`{t}`)" for c, t in zip(counts, topos))
