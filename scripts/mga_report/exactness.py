"""Exactness from the recorded output hashes: which runs of one config printed the
same bytes, and whether those are the reference program's bytes.

bench_train records, per repetition, the FNV-1a 64 hash of everything microgpt printed
(each line and its newline). The references are files of stdout recorded from
microgpt.py (microgpt_py_...) and microgpt.ts (microgpt_ts_...); their names carry the
config they ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import fmt
from .files import BadFile, read_capped, warn
from .model import DEFAULT_SHAPE, GRAPH_ENGINE, SHAPE_KEYS, TOPO_ORDER, Machine, TrainRun

FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
EMPTY_HASH = str(FNV_OFFSET)  # the hash of no bytes at all

REFERENCE_NAME = re.compile(r"microgpt_(py|ts)(?:_embd(\d+)_head(\d+)_layer(\d+)_block(\d+))?_seed(-?\d+)_steps(\d+)\.txt")
PROGRAMS = {"py": ("python", "microgpt.py"), "ts": ("mulberry32", "microgpt.ts")}
REFERENCE_SAMPLES = 20  # the reference programs print 20 samples

PROOF = ("Every run records the FNV-1a 64 hash of what it printed: each line of microgpt's output and its "
         "newline, i.e. the loss of every step to 4 decimals and the sampled names (not the timing summary). "
         "Equal hashes prove that the runs printed identical bytes, no more: identical losses to 4 decimals "
         "at every step and identical samples, not identical doubles inside the run. A differing hash proves "
         "different output.")


def fnv1a64(data: bytes) -> int:
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value


def output_config(config: dict, steps: int) -> tuple:
    """What decides a run's printed output, besides the code: rng, seed, steps, shape,
    samples and the dataset's size. Values are kept as recorded (a seed may be any integer)."""
    shape = tuple(config.get(k, d) for k, d in zip(SHAPE_KEYS, DEFAULT_SHAPE))
    return (("rng", config.get("rng", "python")), ("seed", config.get("seed")), ("steps", steps),
            ("shape", shape), ("samples", config.get("samples")), ("num_docs", config.get("num_docs")))


def config_label(config: tuple) -> str:
    values = dict(config)
    n_embd, n_head, n_layer, block = values["shape"]
    parts = [f"{values['steps']} steps", f"seed {values['seed']}", f"rng {values['rng']}",
             f"embd {n_embd} · head {n_head} · layer {n_layer} · block {block}"]
    if values["samples"] is not None:
        parts.append(f"{values['samples']} samples")
    return ", ".join(parts)


@dataclass(frozen=True)
class Reference:
    name: str  # file name
    program: str  # microgpt.py or microgpt.ts
    hash: str


def reference_key(rng, seed, steps, shape, samples) -> tuple:
    return (rng, seed, steps, tuple(shape), samples)


def load_references(directory: Path) -> dict | None:
    """reference key -> Reference for every reference file in directory; None when the
    directory does not exist."""
    if not directory.is_dir():
        return None
    references = {}
    for path in sorted(directory.iterdir()):
        match = REFERENCE_NAME.fullmatch(path.name)
        if not match:
            continue
        try:
            data = read_capped(path)
        except BadFile as error:
            warn(f"skipping reference {path}: {error}")
            continue
        kind, embd, head, layer, block, seed, steps = match.groups()
        shape = (int(embd), int(head), int(layer), int(block)) if embd else DEFAULT_SHAPE
        rng, program = PROGRAMS[kind]
        key = reference_key(rng, int(seed), int(steps), shape, REFERENCE_SAMPLES)
        references[key] = Reference(path.name, program, str(fnv1a64(data)))
    return references


def reference_for(config: tuple, references: dict | None) -> Reference | None:
    if not references:
        return None
    values = dict(config)
    try:
        key = reference_key(values["rng"], values["seed"], values["steps"], values["shape"], values["samples"])
        return references.get(key)
    except TypeError:  # an unhashable value in a hand-edited config
        return None


@dataclass
class Group:
    config: tuple
    runs: list = field(default_factory=list)  # (machine name, TrainRun)
    reference: Reference | None = None

    def outputs(self) -> dict:
        """hash -> runs that printed it (a run whose repetitions differ is under each)."""
        result: dict[str, list] = {}
        for machine, run in self.runs:
            for value in dict.fromkeys(run.hashes):
                result.setdefault(value, []).append((machine, run))
        return result

    def unhashed(self) -> list:
        return [(m, r) for m, r in self.runs if not r.hashes]


@dataclass
class Exactness:
    reference_dir: str  # as the user gave it
    references: dict | None  # None: the directory was absent
    groups: list

    def group_of(self, run: TrainRun) -> Group | None:
        return next((g for g in self.groups if any(r is run for _, r in g.runs)), None)

    def status(self, run: TrainRun) -> str:
        """One cell: what this run's recorded output hash shows."""
        hashes = set(run.hashes)
        if not hashes:
            return "no hash recorded"
        if len(hashes) > 1:
            return "**REPETITIONS DIFFER**"
        (value,) = hashes
        if value == EMPTY_HASH:
            return "**EMPTY-OUTPUT HASH: nothing was hashed**"
        group = self.group_of(run)
        if group is not None and group.reference is not None:
            if value == group.reference.hash:
                return f"identical to {group.reference.program}'s bytes"
            return f"**DIFFERS from {group.reference.program}'s bytes**"
        if group is not None and len(group.outputs()) > 1:
            return "**DIFFERS from other runs of this config**"
        return "identical to the config's other runs (no reference)"


def check(machines: list[Machine], reference_dir: str, references: dict | None) -> Exactness:
    groups: dict[tuple, Group] = {}
    several = len(machines) > 1
    for machine in machines:
        for run in machine.all_runs:
            try:
                group = groups.setdefault(run.output_config, Group(run.output_config))
            except TypeError:  # an unhashable config value
                continue
            group.runs.append((machine.name if several else None, run))
    for group in groups.values():
        group.reference = reference_for(group.config, references)
    return Exactness(reference_dir, references, sorted(groups.values(), key=group_order))


def group_order(group: Group) -> tuple:
    """The default shape first, then shapes in increasing order; more steps first."""
    values = dict(group.config)
    shape = tuple(v if isinstance(v, int) else 0 for v in values["shape"])
    steps = values["steps"] if isinstance(values["steps"], int) else 0
    return (shape != DEFAULT_SHAPE, shape, -steps, str(group.config))


def _part_order(key: str) -> tuple:
    """Topos in their usual order, then engines."""
    kind, _, rest = key.partition(" ")
    name = rest.split(" ")[0]
    if kind == "topo":
        return (0, TOPO_ORDER.index(name) if name in TOPO_ORDER else len(TOPO_ORDER), key)
    return (1, 0, key)


def what_ran(runs: list) -> str:
    """'topo dfs: 7 policies; topo creation: 7 policies; engine tape', per machine when several."""
    by_machine: dict = {}
    for machine, run in runs:
        parts = by_machine.setdefault(machine, {})
        if run.engine != GRAPH_ENGINE:
            key = f"engine {run.engine}"
        else:
            key = f"topo {run.topo}" + (f" · malloc {run.malloc}" if run.malloc != "glibc" else "")
        parts.setdefault(key, []).append(run.name)
    texts = []
    for machine, parts in by_machine.items():
        cells = []
        for key in sorted(parts, key=_part_order):
            names = list(dict.fromkeys(parts[key]))
            cells.append(key if key.startswith("engine") else
                         f"{key}: " + (fmt.names(names) if len(names) <= 2 else f"{len(names)} policies"))
        texts.append((f"{machine}: " if machine else "") + "; ".join(cells))
    return " / ".join(texts)


def section(exactness: Exactness, machines: list[Machine]) -> list[str]:
    lines = ["## Exactness", "", PROOF, ""]
    if exactness.references is None:
        lines += [f"The reference directory `{exactness.reference_dir}` was not found, so the outputs are "
                  "compared with each other only, not with microgpt.py's or microgpt.ts's bytes.", ""]
    else:
        lines += [f"References: the stdout files in `{exactness.reference_dir}` "
                  f"({', '.join(r.name for r in exactness.references.values()) or 'none found'}); a config "
                  "without one is compared within itself only.", ""]
    rows, loud = [], []
    for group in exactness.groups:
        outputs = group.outputs()
        if len(outputs) > 1:
            output = f"**DIFFERS: {len(outputs)} different outputs**"
            loud.append(group)
        elif outputs:
            output = f"identical (`{next(iter(outputs))}`)"
            if next(iter(outputs)) == EMPTY_HASH:
                output = "**EMPTY-OUTPUT HASH: nothing was hashed**"
                loud.append(group)
        else:
            output = "no hash recorded"
        if group.unhashed() and outputs:
            output += f"; {len(group.unhashed())} run(s) recorded no hash"
        if group.reference is None:
            versus = "no reference for this config"
        else:
            matching = sum(1 for _, run in group.runs if run.hashes and set(run.hashes) == {group.reference.hash})
            name = f"{group.reference.program}'s bytes ({group.reference.name})"
            if matching == len(group.runs):
                versus = f"identical to {name}"
            else:
                versus = f"**{len(group.runs) - matching} of {len(group.runs)} runs DIFFER from {name}**"
                if group not in loud:
                    loud.append(group)
        rows.append([config_label(group.config), what_ran(group.runs), output, versus])
    if rows:
        lines += fmt.table(["config", "runs", "output (FNV-1a 64)", "vs reference"], rows)
    else:
        lines += ["No bench_train run recorded an output hash.", ""]
    for group in loud:
        lines += [f"**⚠ {config_label(group.config)}:** the recorded hashes are not all the expected one.", ""]
        for value, runs in group.outputs().items():
            notes = []
            if group.reference is not None and value == group.reference.hash:
                notes.append(f"{group.reference.program}'s bytes")
            if value == EMPTY_HASH:
                notes.append("the hash of empty output: this run hashed nothing")
            note = f" ({'; '.join(notes)})" if notes else ""
            lines.append(f"- `{value}`{note}: {what_ran(runs)}")
        if group.unhashed():
            lines.append(f"- no hash recorded: {what_ran(group.unhashed())}")
        lines.append("")
    lines += runtime_lines(machines)
    return lines


def runtime_lines(machines: list[Machine]) -> list[str]:
    """The reference programs under other runtimes, as scripts/crosslang.py recorded them."""
    rows = []
    for machine in machines:
        if machine.crosslang is None:
            continue
        for run in machine.crosslang.runs.values():
            output = ("identical" if run.output == "identical" else "**DIFFERS**")
            detail = (f"{run.repetitions - run.differing} of {run.repetitions} repetitions identical"
                      if run.repetitions else "no repetitions")
            rows.append([machine.name, fmt.code(run.runtime), run.program, f"{output} ({detail})"])
    if not rows:
        return []
    return (["Runtimes (`crosslang.json`; scripts/crosslang.py compares each run's whole stdout with the "
             "reference itself):", ""] + fmt.table(["machine", "runtime", "program", "output vs reference"], rows))
