"""Google Benchmark JSON (bench_alloc, bench_step) and callgrind summaries.

Benchmark names are `family/<policy>[/args...]` (e.g. `chain/<policy>`,
`train_step/<policy>/iterations:256`) or `family<policy>/...`; the policy is the part
after the family, matched against the policies the bench_train files name ('-' and
'_' alike, case ignored).
"""

from __future__ import annotations

import re
from pathlib import Path

from . import stats
from .files import as_float, is_number, read_capped
from .model import RatePoint

# Counters that hold an allocation rate. Not items_per_second: bench_step counts
# nodes or steps with it, which are not allocations.
RATE_COUNTERS = ("allocs/s", "allocs_per_second", "allocations/s")
_TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
_NAME = re.compile(r"(?:BM_)?([A-Za-z0-9_]+?)(?:<([^<>]+)>|/([^/]+))")

CALLGRIND_HELP = """\
callgrind summaries: results/**/callgrind_<policy>.txt, one "key value" pair per line,
'#' starts a comment. Keys:
  malloc_share  fraction (0.23) or percentage (23%) of the instructions (Ir,
                inclusive) spent in malloc/free and the C++ allocation operators
  free_share    optional, the same for the freeing functions alone
  total_ir      optional, total instructions of the run
Other keys are shown as they are."""


def policy_key(name: str) -> str:
    return re.sub("[-_]", "-", name.lower())


def split_name(instance: str) -> tuple[str, str] | None:
    """(family, policy as written) of a benchmark name, or None."""
    match = _NAME.match(instance)
    if not match:
        return None
    return match.group(1), match.group(2) or match.group(3)


def find_policy(instance: str, known) -> tuple[str, str] | None:
    """(family, policy) where the policy is one of `known`; any name when nothing is known."""
    parts = split_name(instance)
    if parts is None:
        return None
    family, written = parts
    if not known:
        return family, written
    by_key = {policy_key(p): p for p in known}
    policy = by_key.get(policy_key(written))
    return (family, policy) if policy else None


def _instance_name(row: dict) -> str:
    if isinstance(row.get("run_name"), str):
        return row["run_name"]
    name = str(row.get("name", ""))
    aggregate = row.get("aggregate_name")
    return name[: -len(aggregate) - 1] if aggregate and name.endswith("_" + aggregate) else name


def _time_ns(row: dict) -> float | None:
    value = as_float(row.get("real_time"))
    scale = _TIME_UNIT_NS.get(row.get("time_unit", "ns"))
    return value * scale if value is not None and scale else None


def _rate(row: dict) -> tuple[float | None, str | None]:
    for counter in RATE_COUNTERS:
        value = as_float(row.get(counter))
        if value is not None:
            return value, counter
    return None, None


def _mean(values):
    return sum(values) / len(values) if values else None


def instance_point(source: str, family: str, policy: str, instance: str, group: list) -> RatePoint | None:
    aggregates = {r.get("aggregate_name"): r for r in group if r.get("run_type") == "aggregate"}
    iterations = [r for r in group if r.get("run_type", "iteration") == "iteration"]
    samples = [v for v, _ in map(_rate, iterations) if v is not None]
    if "median" in aggregates:
        time_ns, (rate, counter) = _time_ns(aggregates["median"]), _rate(aggregates["median"])
    else:
        time_ns = _mean([t for t in map(_time_ns, iterations) if t is not None])
        rate = _mean(samples)
        counter = next((c for _, c in map(_rate, iterations) if c), None)
    if time_ns is None:
        return None
    mean = _rate(aggregates["mean"])[0] if "mean" in aggregates else _mean(samples)
    stddev = _rate(aggregates["stddev"])[0] if "stddev" in aggregates else None
    if stddev is None and len(samples) >= 2:
        cv_of_samples = stats.cv(samples)
        stddev = cv_of_samples * mean if cv_of_samples is not None and mean else None
    cv = None
    if "cv" in aggregates:
        cv = _rate(aggregates["cv"])[0] if rate is not None else as_float(aggregates["cv"].get("real_time"))
    if cv is None and rate is not None and stddev is not None and mean:
        cv = stddev / mean
    counts = [r.get("repetitions") for r in group if is_number(r.get("repetitions"))]
    repetitions = int(max(counts)) if counts else max(1, len(iterations))
    return RatePoint(source, family, policy, instance, time_ns, rate, counter, tuple(samples), mean, stddev,
                     repetitions, cv)


def parse_gbench(data: dict, source: str, known_policies) -> tuple[list[RatePoint], list[str]]:
    """Rate points per instance (median aggregate, else mean of iterations) and the names
    in which no known policy was found."""
    rows = [r for r in data["benchmarks"] if isinstance(r, dict) and not r.get("error_occurred")]
    instances: dict[str, list[dict]] = {}
    for row in rows:
        instances.setdefault(_instance_name(row), []).append(row)
    points, unmatched = [], []
    for instance, group in instances.items():
        found = find_policy(instance, known_policies)
        if found is None:
            unmatched.append(instance)
            continue
        point = instance_point(source, found[0], found[1], instance, group)
        if point is not None:
            points.append(point)
    return points, unmatched


def rate_sample(point: RatePoint) -> stats.Sample:
    """The point's rate as a bootstrap sample: its repetitions when recorded, else
    its mean and standard deviation."""
    if len(point.rate_samples) >= 2:
        sample = stats.repetitions_sample(point.rate_samples)
        return stats.Sample(point.rate, sample.n, True, sample.draw, sample.how)
    return stats.summary_sample(point.rate, point.rate_mean, point.rate_stddev, point.repetitions)


def parse_callgrind_summary(path: Path) -> dict:
    values = {}
    for line in read_capped(path).decode("utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.replace("=", " ").replace(":", " ").partition(" ")
        values[key.strip()] = value.strip()
    return values


def share_value(value: str | None) -> float | None:
    """'0.23' or '23%' -> 0.23."""
    if value is None:
        return None
    try:
        return float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        return None
