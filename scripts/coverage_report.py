#!/usr/bin/env python3
"""Per-module line and toggle coverage of the RTL from a Verilator coverage
file (the merged `coverage.dat` of `scripts/coverage.sh`).

    scripts/coverage_report.py MERGED.dat --rtl rtl [--doc docs/coverage.md]
                               [--commit REV] [--command CMD] [--json OUT]

Every module under `rtl/` gets one row, whatever build elaborated it: the
counts of all its instances, in every parameter set and every test process,
are added up, so a line is covered when any instance in any build ran it.

- Line coverage: Verilator's `v_line` and `v_branch` points, each with the
  source lines it stands for (key `S`, else its line). A line is covered
  when a point that includes it has a count above zero. Lines carrying only
  an assertion's failure branch (`$error`/`$fatal`) are counted apart: a
  correct design never takes them.
- Points: the same `v_line`/`v_branch` points (blocks, and both arms of
  every `if`/`case`), covered when taken at least once; stricter than lines
  (an `if` without `else` whose condition is always true leaves its implicit
  `else` point at zero but no line uncovered).
- Toggle coverage: one point per signal bit (`v_toggle`, signals up to 256
  bits); a bit counts as toggled when it changed at least twice in one
  instance: changes alternate, so that is one rise and one fall.
- Not elaborated: modules with no point at all, and labelled generate
  blocks (`begin : g_*`) none of whose lines carries a point and under
  which no instance sits, in any build. Their lines are parameter-dependent
  (or, for a block of continuous assignments only, not measured by line
  coverage), outside the totals, listed apart.

Prints a text table (and the uncovered lines); with `--doc`, replaces the
part of that Markdown file between `<!-- coverage:begin -->` and
`<!-- coverage:end -->` with the table and the lists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

LINE_PAGES = ("v_line", "v_branch")
TOGGLE_MIN = 2
BEGIN = "<!-- coverage:begin -->"
END = "<!-- coverage:end -->"


def parse_key(key: str) -> dict[str, str]:
    out = {}
    for item in key.split("\x01"):
        if "\x02" in item:
            k, v = item.split("\x02", 1)
            out[k] = v
    return out


def parse_lines(spec: str) -> list[int]:
    lines: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            lines.extend(range(int(a), int(b) + 1))
        else:
            lines.append(int(part))
    return lines


def read_dat(path: Path):
    """Yields (fields, count) for every point of a coverage file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("C '"):
                continue
            end = line.rfind("' ")
            yield parse_key(line[3:end]), int(line[end + 2 :])


def ranges(lines) -> str:
    """1,2,3,7 -> '1-3, 7'."""
    out = []
    lines = sorted(set(lines))
    i = 0
    while i < len(lines):
        j = i
        while j + 1 < len(lines) and lines[j + 1] == lines[j] + 1:
            j += 1
        out.append(str(lines[i]) if i == j else f"{lines[i]}-{lines[j]}")
        i = j + 1
    return ", ".join(out)


@dataclass
class Module:
    name: str
    file: str = ""
    line_hits: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    points: dict[tuple, int] = field(default_factory=lambda: defaultdict(int))
    toggles: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    point_lines: set[int] = field(default_factory=set)
    hiers: set[str] = field(default_factory=set)

    def line_stats(self, assert_lines: set[int]):
        lines = {ln: c for ln, c in self.line_hits.items() if ln not in assert_lines}
        hit = sum(1 for c in lines.values() if c > 0)
        missed = sorted(ln for ln, c in lines.items() if c == 0)
        return hit, len(lines), missed

    def point_stats(self, assert_lines: set[int]):
        pts = {k: c for k, c in self.points.items() if k[0] not in assert_lines}
        hit = sum(1 for c in pts.values() if c > 0)
        missed = sorted(k for k, c in pts.items() if c == 0)
        return hit, len(pts), missed

    def toggle_stats(self):
        hit = sum(1 for c in self.toggles.values() if c >= TOGGLE_MIN)
        missed = sorted(s for s, c in self.toggles.items() if c < TOGGLE_MIN)
        return hit, len(self.toggles), missed


def rtl_modules(rtl: Path) -> dict[str, Path]:
    """module name -> file, for every module declared under rtl/."""
    mods = {}
    for f in sorted(rtl.rglob("*.sv")):
        for m in re.finditer(r"^\s*module\s+(\w+)", f.read_text(), re.M):
            mods[m.group(1)] = f
    return mods


def generate_blocks(text: str):
    """(label, first line, last line) of every `begin : g_*` block."""
    lines = [ln.split("//", 1)[0] for ln in text.splitlines()]
    out = []
    for i, line in enumerate(lines):
        m = re.search(r"\bbegin\s*:\s*(g_\w+)", line)
        if not m:
            continue
        depth = 0
        done = False
        for j in range(i, len(lines)):
            code = lines[j][m.start() :] if j == i else lines[j]
            for tok in re.findall(r"\b(begin|end)\b", code):
                depth += 1 if tok == "begin" else -1
                if depth == 0:
                    out.append((m.group(1), i + 1, j + 1))
                    done = True
                    break
            if done:
                break
    return out


def assertion_lines(text: str) -> set[int]:
    """Lines of immediate assertions' failure branches ($error, $fatal)."""
    return {
        i + 1
        for i, line in enumerate(text.splitlines())
        if re.search(r"\$(error|fatal)\b", line.split("//", 1)[0])
    }


def pct(hit: int, total: int) -> str:
    return f"{100.0 * hit / total:.1f} %" if total else "n/a"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dat", type=Path)
    ap.add_argument("--rtl", type=Path, default=Path("rtl"))
    ap.add_argument("--doc", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--commit", default="")
    ap.add_argument("--command", default="make coverage")
    ap.add_argument("--target", type=float, default=95.0)
    args = ap.parse_args()

    rtl = args.rtl.resolve()
    root = rtl.parent
    declared = rtl_modules(rtl)
    mods: dict[str, Module] = {}
    # Toggle counts per instance first: TOGGLE_MIN applies within one.
    toggle_inst: dict[tuple, int] = defaultdict(int)
    all_hiers: set[str] = set()
    for key, count in read_dat(args.dat):
        page = key.get("page", "")
        kind, _, name = page.partition("/")
        all_hiers.add(key.get("h", ""))
        # A parameterised instance's page is named `<module>__<params>`.
        if name not in declared:
            name = name.split("__", 1)[0]
        if name not in declared:
            continue
        m = mods.setdefault(name, Module(name))
        m.file = os.path.relpath(key.get("f", ""), root)
        m.hiers.add(key.get("h", ""))
        ln = int(key.get("l", "0"))
        m.point_lines.add(ln)
        if kind in LINE_PAGES:
            for x in parse_lines(key["S"]) if key.get("S") else [ln]:
                m.line_hits[x] += count
                m.point_lines.add(x)
            m.points[(ln, int(key.get("n", "0")), kind, key.get("o", ""))] += count
        elif kind == "v_toggle":
            toggle_inst[(name, key.get("o", ""), key.get("h", ""))] += count
    for (name, sig, _), c in toggle_inst.items():
        t = mods[name].toggles
        t[sig] = max(t[sig], c)

    rows = []
    details = []
    not_elab_mods = []
    generate_gaps = []
    below = []
    for name, path in sorted(declared.items(), key=lambda kv: (str(kv[1]), kv[0])):
        text = path.read_text()
        src = text.splitlines()
        rel = os.path.relpath(path, root)
        m = mods.get(name)
        if m is None:
            not_elab_mods.append((name, rel))
            continue
        asserts = assertion_lines(text)
        lh, lt, lmiss = m.line_stats(asserts)
        ph, pt, pmiss = m.point_stats(asserts)
        th, tt, tmiss = m.toggle_stats()
        rows.append(
            dict(
                module=name,
                file=rel,
                lines_hit=lh,
                lines=lt,
                points_hit=ph,
                points=pt,
                toggles_hit=th,
                toggles=tt,
                uncovered_lines=lmiss,
            )
        )
        if lt and 100.0 * lh / lt < args.target:
            below.append(name)
        # Where an instance of this module sits: its points' hierarchies.
        insts = {h for h in m.hiers if h}
        for label, a, b in generate_blocks(text):
            inside = re.compile(r"\." + re.escape(label) + r"(\[[^\]]*\])?(\.|$)")
            elaborated = any(a <= x <= b for x in m.point_lines) or any(
                h.startswith(i) and inside.search(h[len(i) :]) for h in all_hiers for i in insts
            )
            if not elaborated:
                generate_gaps.append((name, rel, label, a, b))
        item = []
        for ln in lmiss:
            item.append(f"  {rel}:{ln}: {src[ln - 1].strip()[:90]}")
        pm = [p for p in pmiss if p[0] not in lmiss]
        if pm:
            item.append("  points never taken on lines that ran otherwise:")
            for ln, _, kind, o in pm:
                item.append(f"    {rel}:{ln}: {kind} '{o}': {src[ln - 1].strip()[:70]}")
        if tmiss:
            shown = ", ".join(tmiss[:40]) + (f", ... ({len(tmiss) - 40} more)" if len(tmiss) > 40 else "")
            item.append(f"  bits toggled fewer than {TOGGLE_MIN} times: {shown}")
        if item:
            details.append((name, item))

    # ---- text report
    hdr = f"{'module':<24} {'lines':>13} {'line %':>8} {'points':>13} {'point %':>8} {'toggle bits':>15} {'toggle %':>9}"
    print(hdr)
    print("-" * len(hdr))
    tot = defaultdict(int)
    for r in rows:
        for k in ("lines_hit", "lines", "points_hit", "points", "toggles_hit", "toggles"):
            tot[k] += r[k]
        print(
            f"{r['module']:<24} {r['lines_hit']:>6}/{r['lines']:<6} {pct(r['lines_hit'], r['lines']):>8} "
            f"{r['points_hit']:>6}/{r['points']:<6} {pct(r['points_hit'], r['points']):>8} "
            f"{r['toggles_hit']:>7}/{r['toggles']:<7} {pct(r['toggles_hit'], r['toggles']):>9}"
        )
    print("-" * len(hdr))
    print(
        f"{'all':<24} {tot['lines_hit']:>6}/{tot['lines']:<6} {pct(tot['lines_hit'], tot['lines']):>8} "
        f"{tot['points_hit']:>6}/{tot['points']:<6} {pct(tot['points_hit'], tot['points']):>8} "
        f"{tot['toggles_hit']:>7}/{tot['toggles']:<7} {pct(tot['toggles_hit'], tot['toggles']):>9}"
    )
    for name, rel in not_elab_mods:
        print(f"not in any co-simulated build: {name} ({rel})")
    for name, rel, label, a, b in generate_gaps:
        print(f"generate block with no point in any build: {name}.{label} ({rel}:{a}-{b})")
    for name, item in details:
        print(f"\n{name}:")
        print("\n".join(item))
    if below:
        print(f"\nbelow {args.target:g} % line coverage: {', '.join(below)}")
    else:
        print(f"\nevery module at or above {args.target:g} % line coverage")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                dict(
                    commit=args.commit,
                    modules=rows,
                    not_elaborated=[dict(module=n, file=f) for n, f in not_elab_mods],
                    generate_blocks_not_elaborated=[
                        dict(module=n, file=f, block=g, lines=[a, b]) for n, f, g, a, b in generate_gaps
                    ],
                ),
                indent=1,
            )
        )

    if args.doc:
        md = [
            BEGIN,
            f"Measured at `{args.commit}` with `{args.command}`"
            " (generated by `scripts/coverage_report.py`).",
            "",
            "| module | file | lines | line % | points | point % | toggle bits | toggle % |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            md.append(
                f"| `{r['module']}` | `{r['file']}` | {r['lines_hit']}/{r['lines']} | {pct(r['lines_hit'], r['lines'])} "
                f"| {r['points_hit']}/{r['points']} | {pct(r['points_hit'], r['points'])} "
                f"| {r['toggles_hit']}/{r['toggles']} | {pct(r['toggles_hit'], r['toggles'])} |"
            )
        md.append(
            f"| **all** | | {tot['lines_hit']}/{tot['lines']} | {pct(tot['lines_hit'], tot['lines'])} "
            f"| {tot['points_hit']}/{tot['points']} | {pct(tot['points_hit'], tot['points'])} "
            f"| {tot['toggles_hit']}/{tot['toggles']} | {pct(tot['toggles_hit'], tot['toggles'])} |"
        )
        md.append("")
        if not_elab_mods or generate_gaps:
            md.append(
                "No coverage point in any co-simulated build (outside the totals; a generate block"
                " whose lines are only continuous assignments has no line point even when"
                " elaborated, see below):"
            )
            md.append("")
            for name, rel in not_elab_mods:
                md.append(f"- module `{name}` (`{rel}`)")
            for name, rel, label, a, b in generate_gaps:
                md.append(f"- `{name}.{label}` (`{rel}:{a}-{b}`)")
            md.append("")
        md.append("Uncovered lines and points, and bits that never toggled both ways:")
        md.append("")
        md.append("```text")
        for name, item in details:
            md.append(f"{name}:")
            md.extend(item)
        if not details:
            md.append("(none)")
        md.append("```")
        md.append(END)
        text = args.doc.read_text() if args.doc.exists() else f"# RTL coverage\n\n{BEGIN}\n{END}\n"
        if BEGIN not in text or END not in text:
            text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
        pre, rest = text.split(BEGIN, 1)
        _, post = rest.split(END, 1)
        args.doc.write_text(pre + "\n".join(md) + post)
        print(f"\nwrote the table into {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
