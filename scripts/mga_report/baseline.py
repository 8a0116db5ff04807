"""compare.py --baseline OLD NEW: a saved bench_train --json result against a new one, cell by
cell, after Google Benchmark's compare.py: the speed ratio with its 95% bootstrap interval, a
two-sided Mann-Whitney U test of the repetitions' times, and a verdict against a noise threshold."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from . import stats
from .figures import speed_ratio
from .files import BadFile, UsageError, as_dict, as_list, read_json, text, warn
from .loading import classify, parse_train_run
from .model import SHAPE_KEYS, TrainRun

ALPHA = 0.05  # the test's significance level
DEFAULT_THRESHOLD = 5.0  # percent: a smaller difference of the medians is noise
RECOMMENDED_REPETITIONS = 9  # Google Benchmark's compare.py warns below this many
FASTER, SLOWER, SAME = "faster", "slower", "no measurable difference"
RULE = (f"Verdict per cell (speed = old median time per step / new median time per step; T = --threshold): "
        f"'{SLOWER}' when the Mann-Whitney p < {ALPHA} and speed < 1 / (1 + T), i.e. the new median is more than "
        f"T slower; '{FASTER}' when p < {ALPHA} and speed > 1 + T; otherwise '{SAME}'.")


@dataclass
class Cell:
    key: tuple  # (file or "", policy, malloc, engine, topo, threads, release, shape)
    old: TrainRun
    new: TrainRun
    speed: stats.Interval
    test: stats.UTest
    verdict: str


def cell_key(run: TrainRun, file: str) -> tuple:
    return file, run.name, run.malloc, run.engine, run.topo, run.threads, run.release, run.shape


def describe(key: tuple, run: TrainRun) -> str:
    return (f"{key[0]}: " if key[0] else "") + f"{run.name} ({run.cell})"


def read_file(path: Path, directory: Path | None) -> dict:
    """key -> TrainRun of one bench_train file. Inside a directory, another tool's file is passed
    over and an unreadable one skipped with a warning; given on its own, either is an error."""
    try:
        data = read_json(path)
        kind = classify(data)
    except BadFile as error:
        if directory is None:
            raise UsageError(f"{path}: {error}") from None
        warn(f"skipping {path}: {error}")
        return {}
    if kind != "bench_train":
        if directory is None:
            raise UsageError(f"{path}: not a bench_train --json file (a {kind} file)")
        return {}
    config, date = as_dict(data.get("config")), text(as_dict(data.get("context")), "date")
    file = str(path.relative_to(directory)) if directory is not None else ""
    cells = {}
    for entry in as_list(data.get("runs")):
        try:
            run = parse_train_run(entry, config, str(path), date)
        except BadFile as error:
            warn(f"{path}: skipping {error}")
            continue
        if cell_key(run, file) in cells:
            raise UsageError(f"{path}: {describe(cell_key(run, file), run)} appears twice")
        cells[cell_key(run, file)] = run
    if not cells:
        raise UsageError(f"{path}: no usable run")
    return cells


def read_side(path: Path) -> dict:
    """key -> TrainRun of a bench_train file, or of every bench_train file below a directory."""
    if path.is_dir():
        cells = {}
        for file in sorted(p for p in path.rglob("*.json") if not p.name.startswith(".")):
            cells.update(read_file(file, path))
        if not cells:
            raise UsageError(f"{path}: no bench_train --json file")
        return cells
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    return read_file(path, None)


def verdict(speed: float, p: float, threshold: float) -> str:
    if p < ALPHA and speed < 1 / (1 + threshold):
        return SLOWER
    if p < ALPHA and speed > 1 + threshold:
        return FASTER
    return SAME


def compare(old: dict, new: dict, threshold: float, notes: list) -> list:
    cells = []
    for key in (k for k in old if k in new):
        a, b = old[key], new[key]
        if a.steps != b.steps:
            notes.append(f"{describe(key, a)}: {a.steps} steps in OLD, {b.steps} in NEW; compared per step")
        speed = speed_ratio("baseline|" + "|".join(map(str, key)), b, a)
        test = stats.mann_whitney(a.seconds_per_step, b.seconds_per_step)
        cells.append(Cell(key, a, b, speed, test, verdict(speed.point, test.p, threshold)))
    return cells


def warnings(cells: list) -> list:
    counts = sorted({n for c in cells for n in (len(c.old.seconds_per_step), len(c.new.seconds_per_step))
                     if n < RECOMMENDED_REPETITIONS})
    if not counts:
        return []
    fewest = max(cells, key=lambda c: stats.smallest_p(len(c.old.seconds_per_step), len(c.new.seconds_per_step)))
    m, n = len(fewest.old.seconds_per_step), len(fewest.new.seconds_per_step)
    smallest = stats.smallest_p(m, n)
    never = f", so such a cell cannot be called {FASTER} or {SLOWER}" if smallest >= ALPHA else ""
    return [f"too few repetitions for the test to mean much: {', '.join(map(str, counts))}; "
            f"{RECOMMENDED_REPETITIONS} or more recommended (with {m} against {n} the smallest two-sided p is "
            f"{smallest:.4f}{never})"]


def noise(run: TrainRun) -> str:
    return f"{len(run.flagged)}/{len(run.reps)}" if run.flagged else ""


def p_text(p: float) -> str:
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def speed_text(speed: stats.Interval) -> str:
    bounds = f" ({speed.low:.2f}–{speed.high:.2f})" if speed.available else f" (no interval: {speed.note})"
    return f"{speed.point:.2f}×{bounds}"


def text_report(old_path, new_path, cells, only_old, only_new, threshold) -> str:
    header = ["cell", "old s", "new s", "speed (95% CI)", "p", "verdict"]
    rows = []
    for c in cells:
        marks = [f"old {noise(c.old)}" if noise(c.old) else "", f"new {noise(c.new)}" if noise(c.new) else ""]
        flag = " ⚠ noisy " + ", ".join(m for m in marks if m) if any(marks) else ""
        rows.append([describe(c.key, c.old), f"{c.old.median_s:.3f}", f"{c.new.median_s:.3f}", speed_text(c.speed),
                     p_text(c.test.p), c.verdict + flag])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [f"OLD {old_path}", f"NEW {new_path}",
             f"speed: old median time / new median time, per step (above 1 = faster), 95% bootstrap interval; "
             f"p: two-sided Mann-Whitney U test of the repetitions' times; threshold {100 * threshold:g}%", ""]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    counts = {v: sum(c.verdict == v for c in cells) for v in (FASTER, SLOWER, SAME)}
    lines += ["", f"{len(cells)} cell(s) compared: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + "."]
    flags = list(dict.fromkeys(f for c in cells for run in (c.old, c.new) for _, found in run.flagged for f in found))
    if flags:
        lines.append("⚠ noisy k/N: k of the side's N repetitions carry bench_train's noise flags (kept in the "
                     "test): " + "; ".join(flags))
    for side, found in (("OLD", only_old), ("NEW", only_new)):
        if found:
            lines.append(f"Only in {side} (not compared): " + "; ".join(describe(k, r) for k, r in found))
    return "\n".join(lines) + "\n"


def side_json(run: TrainRun) -> dict:
    return {"median_seconds": run.median_s, "steps": run.steps, "seconds": [r.seconds for r in run.reps],
            "noisy_repetitions": len(run.flagged) if run.noise_recorded else None,
            "noise_flags": [f for _, found in run.flagged for f in found]}


def cell_json(key: tuple, run: TrainRun) -> dict:
    return {"file": key[0] or None, "policy": run.name, "malloc": run.malloc, "engine": run.engine,
            "topo": run.topo, "threads": run.threads, "release": run.release, "shape": dict(zip(SHAPE_KEYS, run.shape))}


def json_report(old_path, new_path, cells, only_old, only_new, threshold, notes, status) -> str:
    def finite(value):
        return value if value is not None and math.isfinite(value) else None

    return json.dumps({
        "tool": "compare.py --baseline", "baseline_file": str(old_path), "new_file": str(new_path), "threshold": threshold,
        "alpha": ALPHA, "rule": RULE, "warnings": notes, "exit_status": status,
        "cells": [dict(cell_json(c.key, c.old), baseline=side_json(c.old), contender=side_json(c.new),
                       speed={"ratio": c.speed.point, "low": finite(c.speed.low), "high": finite(c.speed.high)},
                       u=c.test.u, p_value=c.test.p, test=c.test.method, verdict=c.verdict) for c in cells],
        "only_in_old": [cell_json(k, r) for k, r in only_old], "only_in_new": [cell_json(k, r) for k, r in only_new],
    }, indent=1, ensure_ascii=False) + "\n"


def parse_threshold(value: str) -> float:
    try:
        threshold = float(value)
    except ValueError:
        threshold = math.nan
    if not (math.isfinite(threshold) and 0 <= threshold < 100):
        raise UsageError(f"--threshold {value!r}: give a percentage from 0 to below 100, e.g. 5")
    return threshold / 100


def run(old_path: Path, new_path: Path, threshold_text: str, form: str) -> int:
    """Prints the comparison; 1 when any cell got slower beyond the threshold, else 0."""
    threshold = parse_threshold(threshold_text)
    if old_path.is_dir() != new_path.is_dir():
        raise UsageError(f"OLD and NEW must both be bench_train --json files or both directories: {old_path}, "
                         f"{new_path}")
    old, new, notes = read_side(old_path), read_side(new_path), []
    cells = compare(old, new, threshold, notes)
    only_old = [(k, r) for k, r in old.items() if k not in new]
    only_new = [(k, r) for k, r in new.items() if k not in old]
    if not cells:
        raise UsageError(f"no cell is in both {old_path} and {new_path}, so nothing was compared")
    notes += warnings(cells)
    for note in notes:
        warn(note)
    status = 1 if any(c.verdict == SLOWER for c in cells) else 0
    print(json_report(old_path, new_path, cells, only_old, only_new, threshold, notes, status) if form == "json"
          else text_report(old_path, new_path, cells, only_old, only_new, threshold), end="")
    return status
