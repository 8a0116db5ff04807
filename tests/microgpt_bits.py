#!/usr/bin/env python3
"""Runs microgpt.py as it is and writes what it computed at full precision.

The program's source is executed unchanged in a fresh namespace, in the
directory given (it reads input.txt from there). Only the constant lines the
shared programs' README allows to edit (the seed, n_embd, n_head, n_layer,
block_size, num_steps) are edited, by scripts/runtimes.py's edit_constants,
which refuses a program where a line is not there exactly once. `print` is
the only name added to the namespace: it writes the lines the program prints
into a buffer instead of stdout, and nothing else. After the program has
finished, its globals give every parameter (`params`, state_dict's values
flattened, in the order the C++ ParamLayout keeps) and the last step's `loss`.

Output file, one value a line, doubles as float.hex (exact):
    params N, then N lines; loss, then one line; printed M, then M lines.

Usage: microgpt_bits.py PROGRAM WORKDIR OUT [--seed S] [--n-embd E] [--n-head H]
                        [--n-layer L] [--block-size B] [--num-steps N]
"""
import argparse
import io
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import runtimes  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("out", type=Path)
    for name in ("seed", "n_embd", "n_head", "n_layer", "block_size", "num_steps"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, dest=name)
    args = parser.parse_args()
    args.workdir, args.out = args.workdir.resolve(), args.out.resolve()  # the program runs in workdir
    constants = {name: value for name, value in vars(args).items()
                 if name not in ("program", "workdir", "out") and value is not None}

    source = runtimes.edit_constants(args.program.read_text(encoding="utf-8"), "py", **constants)
    copy = args.workdir / "microgpt.py"  # the edited copy that runs, kept for a post-mortem
    copy.write_text(source, encoding="utf-8")

    printed = io.StringIO()

    def captured_print(*values, **options):
        options.setdefault("file", printed)
        print(*values, **options)

    namespace = {"__name__": "__main__", "__file__": str(copy), "print": captured_print}
    os.chdir(args.workdir)
    exec(compile(source, str(copy), "exec"), namespace)

    lines = [f"params {len(namespace['params'])}"]
    lines += [float(p.data).hex() for p in namespace["params"]]
    lines += ["loss", float(namespace["loss"].data).hex()]
    output = printed.getvalue().splitlines()
    lines += [f"printed {len(output)}"] + output
    temporary = args.out.with_name(args.out.name + ".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
