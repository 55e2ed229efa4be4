#!/usr/bin/python3
"""Every goal of docs/benchmarks.md in one table, and one chart.

    python3 bench/summary.py --doc docs/benchmarks.md --img docs/img/goals.png
    python3 bench/summary.py --doc docs/benchmarks.md --dry-run

Reads the sections the benchmarks wrote (bench/all.sh runs them first) and
collects each goal they state with its measured ratio, in the three forms
they use:

  - a table cell "<= 1.5 (met)" after a cell with the bold ratio "**1.22**";
  - a table cell "**1.47** (not met)" under a header "... (goal <= 1)";
  - a list item "- text with >= 20x: **met** (102.1x)".

Writes the section "## Summary: every goal" at the top of the document
(replacing it when it is there) and a bar chart of each goal's margin:
the goal divided by the ratio for "<=" goals, the ratio divided by the
goal for ">=" goals, so a bar reaching 1 or beyond is a goal met.  Nothing
is measured here; every figure comes from the sections of the same
document.  --dry-run prints the table and writes nothing.
"""
import argparse
import datetime
import os
import re
import sys

TITLE = "## Summary: every goal"
NUM = r"[-+]?\d+(?:\.\d+)?"
FLOOR_SECTIONS = ("What is measured", "Results", "Where the time goes", "Machine", "Reproduce")


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def clean(s):
    return re.sub(r"\*\*|`", "", s).strip()


def goal_of(text):
    """The first '<= x' or '>= x' in text: (op, x), or None."""
    m = re.search(r"(<=|>=)\s*(" + NUM + ")", text)
    return (m.group(1), float(m.group(2))) if m else None


def collect(lines):
    """Goals as dicts: section, case, goal (text), op, target, ratio, text, met."""
    goals, section, header, in_table, para = [], "", None, False, ""
    for line in lines:
        starts_table = line.startswith("|") and not in_table
        in_table = line.startswith("|")
        if line.startswith("## "):
            section, header = line[3:].strip(), None
            continue
        if line.startswith(TITLE):
            continue
        if line.startswith("|"):
            row = cells(line)
            if all(re.fullmatch(r":?-+:?", c) for c in row):
                continue
            if starts_table:
                header = row
            if not any(re.search(r"\((met|not met)\)", c, re.I) for c in row):
                continue
            label = clean(row[0])
            if header and len(header) > 1 and header[1] == "threads":
                label += " (%s threads)" % row[1]
            if header and "baseline" in header and header.index("baseline") < len(row):
                label += " vs %s" % clean(row[header.index("baseline")])
            for i, c in enumerate(row):
                st = re.search(r"\((met|not met)\)", c, re.I)
                if not st:
                    continue
                bold = re.search(r"\*\*(" + NUM + r")x?\*\*", c)
                if bold:
                    # "**1.47** (not met)": the goal is in the header
                    g = goal_of(header[i]) if header and i < len(header) else None
                    ratio, what = float(bold.group(1)), clean(header[i]) if header else ""
                else:
                    # "<= 1.5 (met)": the ratio is the nearest bold cell before
                    g = goal_of(c)
                    prev = [re.search(r"\*\*(" + NUM + r")x?\*\*", x) for x in row[:i]]
                    prev = [p for p in prev if p]
                    ratio = float(prev[-1].group(1)) if prev else None
                    what = clean(header[i]) if header and i < len(header) else "goal"
                case = label if what.lower() in ("goal", "-", "") else "%s: %s" % (label, what)
                goals.append(dict(section=section, case=case, table=True,
                                  op=g[0] if g else None, target=g[1] if g else None,
                                  ratio=ratio, text="%s" % clean(c),
                                  met=st.group(1).lower() == "met"))
            continue
        para = para + " " + line.strip() if line.strip() and not line.startswith("- ") else line.strip()
        m = re.match(r"^- (.*): \*\*(met|not met)\*\* \((.*)\)\.?\s*$", line)
        if not m and not line.startswith("- "):
            # a goal stated in a paragraph: "Goal: ... : **met** (...)."
            m = re.search(r"^(?:Goal:\s*)?(.*): \*\*(met|not met)\*\* \((.*)\)\.?\s*$", para.strip())
        if m:
            g = goal_of(m.group(1))
            r = re.match(NUM, m.group(3).strip())
            ratio = float(r.group(0)) if r and "%" not in m.group(3) else None
            goals.append(dict(section=section, case=clean(m.group(1)), table=False,
                              op=g[0] if g else None, target=g[1] if g else None,
                              ratio=ratio, text=m.group(3), met=m.group(2) == "met"))
    # the first section (bench/run.sh) has top-level subsections; a goal
    # stated both in a list and in a table (the same ratio, goal and
    # verdict) is kept once, but two rows of tables are two goals even when
    # their ratios agree (lasso and kmeans both at 0.97)
    out, seen = [], {}
    for g in goals:
        if g["section"] in FLOOR_SECTIONS:
            g["section"] = "Floors (bench/run.sh)"
        key = (g["section"], g["op"], g["target"], g["ratio"], g["met"])
        prev = seen.setdefault(key, [])
        if any(p["table"] != g["table"] or p["case"] == g["case"] for p in prev):
            continue
        prev.append(g)
        out.append(g)
    return out


def margin(g):
    if g["op"] is None or g["ratio"] is None or g["ratio"] <= 0 or g["target"] <= 0:
        return None
    return g["target"] / g["ratio"] if g["op"] == "<=" else g["ratio"] / g["target"]


def section_text(goals, img_rel):
    met = sum(g["met"] for g in goals)
    out = [TITLE, "",
           "Written by `bench/summary.py` on %s from the sections below (run them all with"
           % datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
           "`bash bench/all.sh`).  %d goals, %d met, %d not met.  Each figure is the"
           % (len(goals), met, len(goals) - met),
           "ratio its section measured side by side in one run; the section says how.", ""]
    if img_rel:
        out += ["![Each goal's margin: goal / ratio for <= goals, ratio / goal for >= goals; "
                "1 or more is met](%s)" % img_rel, ""]
    out += ["| section | case | measured | goal met |", "|---|---|---|---|"]
    for g in goals:
        if g["ratio"] is None:
            measured = g["text"]
        else:
            measured = "%g" % g["ratio"]
            if g["op"]:
                measured += " (goal %s %g)" % (g["op"], g["target"])
        out.append("| %s | %s | %s | %s |" % (
            g["section"], g["case"], measured,
            "yes" if g["met"] else "**no**"))
    out.append("")
    return out


def plot(goals, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(g, margin(g)) for g in goals if margin(g) is not None]
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(shown) + 1.4))
    names = ["%s — %s" % (g["section"].split(":")[0], g["case"])[:90] for g, _ in shown]
    vals = [m for _, m in shown]
    ax.barh(range(len(shown)), vals, color=["#3a7d44" if g["met"] else "#b23a48" for g, _ in shown])
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("margin to the goal (1 = exactly the goal; right of the line: met)")
    ax.set_title("Every benchmark goal: its ratio measured in the same run", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", required=True)
    ap.add_argument("--img")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)
    with open(a.doc) as f:
        lines = f.read().split("\n")
    goals = collect(lines)
    if not goals:
        print("summary.py: no goals found in %s" % a.doc, file=sys.stderr)
        return 1
    img_rel = os.path.relpath(a.img, os.path.dirname(os.path.abspath(a.doc))) if a.img else None
    sec = section_text(goals, img_rel)
    if a.dry_run:
        print("\n".join(sec))
        return 0
    if a.img:
        plot(goals, a.img)
    # replace the section, or put it before the first "## "
    if any(l.startswith(TITLE) for l in lines):
        s = next(i for i, l in enumerate(lines) if l.startswith(TITLE))
        e = next((i for i in range(s + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[s:e] = sec
    else:
        s = next(i for i, l in enumerate(lines) if l.startswith("## "))
        lines[s:s] = sec
    with open(a.doc, "w") as f:
        f.write("\n".join(lines))
    print("summary.py: %d goals, %d met" % (len(goals), sum(g["met"] for g in goals)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
