#!/usr/bin/env python3
"""Runs a Google Benchmark program with --benchmark_format=json and checks its output.

    check_gbench_json.py [--policies BENCH_TRAIN] --expect NAME... [--positive COUNTER...]
                         [--present COUNTER...] -- PROGRAM ARGS...

With --policies, "{TRAIT}" in an --expect name or a program argument becomes the
name of the first policy bench_train lists with that trait (e.g. {baseline}), so
no policy name is written here.

Fails (exit 1) unless the program exits 0, prints valid JSON, reports exactly the
--expect benchmarks without errors, every --positive counter is a number > 0 and
every --present counter exists in each of them.
"""
import argparse
import json
import math
import re
import subprocess
import sys


def substitute_traits(texts: list[str], bench_train: str) -> list[str]:
    listing = json.loads(subprocess.run([bench_train, "--list-allocators", "--format=json"],
                                        check=True, capture_output=True, text=True).stdout)

    def policy(match: re.Match) -> str:
        return next(p["name"] for p in listing["policies"] if p["traits"][match.group(1)])

    return [re.sub(r"\{(\w+)\}", policy, text) for text in texts]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--policies", help="bench_train, to name policies by trait")
    parser.add_argument("--expect", action="append", default=[], required=True)
    parser.add_argument("--positive", action="append", default=[])
    parser.add_argument("--present", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no program to run")
    if args.policies:
        args.expect = substitute_traits(args.expect, args.policies)
        command = command[:1] + substitute_traits(command[1:], args.policies)

    run = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=120)
    if run.returncode != 0:
        print(f"FAIL: {command[0]} exited with {run.returncode}")
        return 1
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError as error:
        print(f"FAIL: output is not JSON ({error}):\n{run.stdout[:2000]}")
        return 1

    problems = []
    benchmarks = report.get("benchmarks", [])
    names = sorted(b.get("name", "?") for b in benchmarks)
    if names != sorted(args.expect):
        problems.append(f"benchmarks {names}, expected {sorted(args.expect)}")
    for bench in benchmarks:
        name = bench.get("name", "?")
        if bench.get("error_occurred"):
            problems.append(f"{name}: error: {bench.get('error_message')}")
        for counter in args.positive:
            value = bench.get(counter)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                problems.append(f"{name}: {counter} = {value!r}, expected a number > 0")
        for counter in args.present:
            if counter not in bench:
                problems.append(f"{name}: no {counter}")
        print(f"{name}: " + ", ".join(f"{c}={bench.get(c)}" for c in args.positive + args.present))

    for problem in problems:
        print("FAIL:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
