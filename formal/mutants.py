#!/usr/bin/env python3
"""Writes the RTL mutants listed in formal/mutants.txt to formal/work/mutants/.

Each mutant is one RTL file with one line replaced, so the repository keeps
a one-line description of every planted bug instead of a copy of the
module; the SBY tasks `m_*` read the generated files. Fails, naming the
mutant, when its line no longer occurs exactly once (the RTL moved on:
update the entry).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def entries(text):
    block = {}
    for line in text.splitlines() + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if block:
                yield block
            block = {}
            continue
        key, _, value = line.partition(":")
        # The value is the RTL line exactly as written after the colon and
        # one space (three after `to:`, which pads to align with `from:`).
        block[key] = value[3:] if key == "to" else value[1:]


def main():
    out = ROOT / "formal" / "work" / "mutants"
    out.mkdir(parents=True, exist_ok=True)
    spec = (ROOT / "formal" / "mutants.txt").read_text()
    n = 0
    for e in entries(spec):
        name, src = e["name"], ROOT / e["file"]
        lines = src.read_text().split("\n")
        at = [
            i
            for i, l in enumerate(lines)
            if l == e["from"] and ("after" not in e or (i > 0 and lines[i - 1] == e["after"]))
        ]
        if len(at) != 1:
            sys.exit(
                f"formal/mutants.txt: mutant {name}: its line occurs {len(at)} times in "
                f"{e['file']} (want exactly once); update the entry for the current RTL"
            )
        lines[at[0]] = e["to"]
        (out / f"{name}.sv").write_text("\n".join(lines))
        n += 1
    print(f"formal/mutants.py: {n} mutants in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
