#!/usr/bin/env python3
"""No allocation policy's name is spelled in code outside allocators/.

Code takes the list of policies from allocators/registry.hpp (C++) or from
`bench_train --list-allocators` (scripts and tests), and asks a policy's traits
instead of its name; this test greps for names that slipped through.

Usage: check_policy_names.py BENCH_TRAIN REPO_DIR

The names are bench_train's own (--list-allocators --format=json). A name is
spelled when, outside comments,
  - a string literal equals it ("NAME", 'NAME'), or
  - a command line passes it to --allocator (--allocator=NAME, --allocator NAME,
    inside a literal or, in shell, bare).
Scanned: C++ (.cpp .cc .hpp .h), Python (.py) and shell (.sh) files under bench/,
core/, tests/, scripts/ and fuzz/. Not scanned: allocators/ (where policies live),
documentation, results/, and test fixtures (fixtures/ folders and data files,
which are not code). Allowed: in bench/process_malloc.cpp, the one list of
process allocators, a literal that is also a --malloc name (mimalloc, jemalloc,
tcmalloc name both a library and the policy that calls it through its API).

Before scanning the repository it scans a made-up tree with known cases, so a
scanner that stopped finding names would fail here too.
"""
import io
import json
import re
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path

SCANNED_DIRS = ["bench", "core", "tests", "scripts", "fuzz"]
CPP_SUFFIXES = {".cpp", ".cc", ".hpp", ".h"}
EXCLUDED: set[str] = set()  # paths (files or directories) not scanned
MALLOC_TABLE = "bench/process_malloc.cpp"
ALLOCATOR_FLAG = re.compile(r"--allocator(?:=|\s+)['\"]?([A-Za-z0-9_.+-]+)")


def cpp_literals(text: str):
    """(line, content) of every string literal of C++ source, comments skipped."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            open_paren = text.find("(", i + 2)
            delimiter = ")" + text[i + 2:open_paren] + '"'
            end = text.find(delimiter, open_paren)
            end = n if end < 0 else end
            yield line, text[open_paren + 1:end]
            line += text.count("\n", i, end)
            i = end + len(delimiter)
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if c == '"':
                yield line, text[i + 1:j]
            i = j + 1
        else:
            line += c == "\n"
            i += 1


def python_literals(text: str):
    """(line, content) of every string literal of Python source (tokenize skips comments)."""
    fstring_middle = getattr(tokenize, "FSTRING_MIDDLE", None)  # Python 3.12+
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == fstring_middle:
            yield token.start[0], token.string
        elif token.type == tokenize.STRING:
            body = re.sub(r"^[A-Za-z]*", "", token.string)  # prefixes: f, r, b, ...
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            yield token.start[0], body[len(quote):len(body) - len(quote)]


def shell_words(text: str):
    """(line, text) of every line of shell code without its comment, and its quoted strings."""
    for number, raw in enumerate(text.splitlines(), 1):
        code = re.sub(r"(^|\s)#.*$", "", raw)
        yield number, code, [m.group(2) for m in re.finditer(r"(['\"])(.*?)\1", code)]


def violations(root: Path, names: set[str], malloc_names: set[str]) -> list[str]:
    found = []

    def report(path: Path, line: int, name: str, how: str) -> None:
        found.append(f"{path.relative_to(root)}:{line}: policy name '{name}' {how}")

    for directory in SCANNED_DIRS:
        for path in sorted((root / directory).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if (not path.is_file() or "fixtures" in path.parts
                    or any(relative == e or relative.startswith(e + "/") for e in EXCLUDED)):
                continue
            allowed = malloc_names if relative == MALLOC_TABLE else set()
            text = path.read_text(errors="replace")
            if path.suffix in CPP_SUFFIXES or path.suffix == ".py":
                literals = cpp_literals(text) if path.suffix in CPP_SUFFIXES else python_literals(text)
                for line, content in literals:
                    if content in names and content not in allowed:
                        report(path, line, content, "as a string literal")
                    for match in ALLOCATOR_FLAG.finditer(content):
                        if match.group(1) in names:
                            report(path, line, match.group(1), "passed to --allocator")
            elif path.suffix == ".sh":
                for line, code, quoted in shell_words(text):
                    for content in quoted:
                        if content in names:
                            report(path, line, content, "as a string literal")
                    for match in ALLOCATOR_FLAG.finditer(code):
                        if match.group(1) in names:
                            report(path, line, match.group(1), "passed to --allocator")
    return found


def self_test(names: set[str], malloc_names: set[str]) -> None:
    """The scanner finds names in a made-up tree, and only where it should."""
    name = sorted(names)[0]
    malloc = sorted(names & malloc_names)[0] if names & malloc_names else name
    files = {
        "bench/a.cpp": f'// "{name}" in a comment\n/* "{name}" */\nauto x = "{name}";\n'
                       f'auto y = "--allocator={name}";\nauto z = "{name}x";\n',
        "scripts/b.py": f'# "{name}"\nrun("--allocator", "{name}")\n'
                        f'run(f"--allocator={{p}}")\n"""\n{name}\n"""\n',
        "scripts/c.sh": f'# --allocator={name}\nbench_train --allocator {name} "$@"\n',
        "tests/d/fixtures/e.py": f'x = "{name}"\n',
        MALLOC_TABLE: f'{{"{malloc}", "lib.so"}}\n',
    }
    expected = [
        f"bench/a.cpp:3: policy name '{name}' as a string literal",
        f"bench/a.cpp:4: policy name '{name}' passed to --allocator",
        f"scripts/b.py:2: policy name '{name}' as a string literal",
        f"scripts/c.sh:2: policy name '{name}' passed to --allocator",
    ]
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for relative, content in files.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(content)
        got = violations(root, names, malloc_names)
    if got != expected:
        sys.exit("FAIL: the scanner's self-test found\n  " + "\n  ".join(got) +
                 "\nexpected\n  " + "\n  ".join(expected))


def main() -> None:
    bench_train, root = sys.argv[1], Path(sys.argv[2]).resolve()
    listing = json.loads(subprocess.run([bench_train, "--list-allocators", "--format=json"],
                                        check=True, capture_output=True, text=True).stdout)
    names = {p["name"] for p in listing["policies"]}
    malloc_names = {m["name"] for m in listing["mallocs"]}
    if len(names) < 2:
        sys.exit(f"FAIL: bench_train lists {sorted(names)}")
    self_test(names, malloc_names)
    found = violations(root, names, malloc_names)
    if found:
        print("Policy names spelled in code outside allocators/ (take them from the registry "
              "or bench_train --list-allocators, or ask a trait):")
        print("\n".join(found))
        sys.exit(1)
    print(f"no policy name ({len(names)} registered) spelled in code outside allocators/: OK")


if __name__ == "__main__":
    main()
