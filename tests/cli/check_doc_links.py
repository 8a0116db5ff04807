#!/usr/bin/env python3
"""Every relative link of README.md, docs/*.md and results/REPORT.md resolves: the
file exists and, for a #fragment into a Markdown file, a heading makes that anchor
(GitHub's rule: lower case, punctuation dropped, spaces to hyphens).

Usage: check_doc_links.py REPO_DIR
"""
import re
import sys
from pathlib import Path


def anchors(markdown: Path) -> set[str]:
    found = set()
    for line in markdown.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"#{1,6} (.*)", line)
        if heading:
            found.add(re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-"))
    return found


def broken_links(root: Path) -> list[str]:
    broken = []
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md")), root / "results" / "REPORT.md"]:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"[a-z]+:", target):
                    continue  # https:, mailto:
                path, _, fragment = target.partition("#")
                resolved = (page.parent / path) if path else page
                where = f"{page.relative_to(root)}:{number}: {target}"
                if not resolved.exists():
                    broken.append(f"{where}: no such file")
                elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                    broken.append(f"{where}: no heading makes #{fragment}")
    return broken


def main() -> int:
    root = Path(sys.argv[1])
    broken = broken_links(root)
    for line in broken:
        print(line)
    print(f"check_doc_links: {len(broken)} broken link(s)" if broken else "check_doc_links: OK")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
