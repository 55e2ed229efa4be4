#!/usr/bin/python3
"""Check docs/reference.md against the install script and the C sources.

    /usr/bin/python3 test/docs/check_reference.py [ROOT]

ROOT is the checkout (default: two directories above this file).  Standard
library only.  Each item below is one check; a check that fails prints one
line starting with "problem:", one that passes a line starting with "ok:".
The last line is "N checked, M problems"; the exit status is 0 only when
M = 0.

What is checked:

  functions  Every CREATE FUNCTION and CREATE AGGREGATE of
             src/sql/massmodel.sql whose name starts with mm_.  A user-facing
             one needs a "## name" or "### name" section with a ```sql block
             whose example statement calls it (a statement that starts with
             SELECT, EXPLAIN, INSERT, ... and contains "name("; a signature
             line such as "mm_train(model text, ...) RETURNS ..." is not an
             example).  A function documented inside another's section (no
             heading of its own, e.g. mm_unschedule under mm_schedule) needs
             such a call in some section's ```sql block.  The internal
             helpers in INTERNAL need only be mentioned; an INTERNAL name that
             the install script no longer defines is a problem too.
  views      Every CREATE VIEW: a section of its name with a ```sql block
             whose statement reads it.
  settings   Every GUC defined with DefineCustom*Variable in src/*.c: a
             "### mm.x" section with a ```sql block that names it.
  params     Every params key mm_train accepts (the mm_param_keys table of
             src/mm_train.c, the keys parsed in src/mm_search.c and
             src/mm_fusion.c): written `key` in the "## mm_train" section,
             and used as "key" in a ```sql block of that section.
  headings   Every "## mm_x" / "### mm_x" / "### mm.x" heading names a
             function, aggregate, view or setting that exists, so that the
             reference cannot keep a section of something removed.
"""

import os
import re
import sys

# Functions of the install script that are not part of the user interface.
# They are called by the extension itself (views, mm_schedule, the planner,
# the aggregate machinery); reference.md must still mention each of them.
INTERNAL = {
    "mm_linear_stats_transfn": "transition function of the aggregate mm_linear_stats",
    "mm_linear_stats_combine": "combine function of the aggregate mm_linear_stats",
    "mm_predict_support": "planner support function (takes and returns internal)",
    "mm_stat_models_internal": "set-returning function behind the view mm_stat_models",
    "mm_progress_internal": "set-returning function behind the view mm_progress",
    "mm_retrain_check": "mm_schedule's pre-check of mm_retrain",
    "mm_schedule_job_name": "mm_schedule's pg_cron job name",
}

# Keys the checker expects to find in src/mm_search.c and src/mm_fusion.c;
# if the parsing below stops finding them, the sources changed shape and the
# checker must be updated (that is reported as a problem, not ignored).
EXPECTED_SEARCH_KEYS = {"search", "cv", "n_iter"}
EXPECTED_FUSION_KEYS = {"members", "final", "final_params"}

# First words of a SQL statement that make it an example (not a signature).
SQL_COMMANDS = {
    "SELECT", "WITH", "VALUES", "TABLE", "EXPLAIN", "INSERT", "UPDATE",
    "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "SET", "RESET", "SHOW",
    "CALL", "DO", "BEGIN", "START", "COMMIT", "ROLLBACK", "PREPARE",
    "EXECUTE", "COPY", "GRANT", "REVOKE", "ANALYZE", "VACUUM", "LOAD",
}


class Checker:
    def __init__(self):
        self.checked = 0
        self.problems = 0

    def ok(self, what):
        self.checked += 1
        print("ok: " + what)

    def problem(self, what):
        self.checked += 1
        self.problems += 1
        print("problem: " + what)

    def check(self, cond, ok_text, problem_text):
        if cond:
            self.ok(ok_text)
        else:
            self.problem(problem_text)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# ---- the install script ------------------------------------------------------

def strip_sql_comments(text):
    """Remove -- comments and /* */ comments, keeping quoted text."""
    out = []
    i, n = 0, len(text)
    quote = None            # "'" or '"' or a dollar tag
    while i < n:
        c = text[i]
        if quote:
            if text.startswith(quote, i):
                out.append(quote)
                i += len(quote)
                quote = None
            else:
                out.append(c)
                i += 1
        elif c in "'\"":
            quote = c
            out.append(c)
            i += 1
        elif c == "$":
            m = re.match(r"\$[A-Za-z_]*\$", text[i:])
            if m:
                quote = m.group(0)
                out.append(quote)
                i += len(quote)
            else:
                out.append(c)
                i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def install_objects(sql):
    sql = strip_sql_comments(sql)
    funcs = sorted(set(re.findall(
        r"\bCREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:[\w@]+\.)?(\w+)\s*\(", sql, re.I)))
    aggs = sorted(set(re.findall(
        r"\bCREATE\s+(?:OR\s+REPLACE\s+)?AGGREGATE\s+(?:[\w@]+\.)?(\w+)\s*\(", sql, re.I)))
    views = sorted(set(re.findall(
        r"\bCREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:[\w@]+\.)?(\w+)\b", sql, re.I)))
    return funcs, aggs, views


# ---- the C sources -------------------------------------------------------------

def c_gucs(srcdir):
    gucs = {}
    for name in sorted(os.listdir(srcdir)):
        if not name.endswith(".c"):
            continue
        text = read(os.path.join(srcdir, name))
        for m in re.finditer(r"DefineCustom\w+Variable\s*\(\s*\"([^\"]+)\"", text):
            gucs.setdefault(m.group(1), "src/" + name)
    return gucs


def c_param_keys(srcdir):
    """(keys, notes): keys mm_train accepts, with the file each came from."""
    keys = {}
    notes = []
    train = read(os.path.join(srcdir, "mm_train.c"))
    m = re.search(r"mm_param_keys\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;", train, re.S)
    if m:
        for k in re.findall(r"\{\s*\"(\w+)\"\s*,", m.group(1)):
            keys.setdefault(k, "src/mm_train.c mm_param_keys")
    else:
        notes.append("the table mm_param_keys was not found in src/mm_train.c")
    for fname, expected in (("mm_search.c", EXPECTED_SEARCH_KEYS),
                            ("mm_fusion.c", EXPECTED_FUSION_KEYS)):
        text = read(os.path.join(srcdir, fname))
        found = set(re.findall(r"strcmp\s*\(\s*key\s*,\s*\"(\w+)\"\s*\)\s*==\s*0", text))
        for k in sorted(found):
            keys.setdefault(k, "src/" + fname)
        missing = expected - found
        if missing:
            notes.append("src/%s no longer parses key(s) %s the checker expects there"
                         % (fname, ", ".join(sorted(missing))))
    return keys, notes


# ---- reference.md ------------------------------------------------------------

class Section:
    def __init__(self, level, title, line):
        self.level = level
        self.title = title
        self.line = line
        self.text = []          # prose lines (outside code blocks)
        self.blocks = []        # (lang, text, line)


def parse_markdown(md):
    """Sections by ## / ### heading; each holds its prose and code blocks up
    to the next heading of the same or a higher level (a ## section includes
    its ### subsections)."""
    lines = md.split("\n")
    headings = []               # (level, title, index)
    blocks = []                 # (lang, text, index)
    fence = None
    for i, line in enumerate(lines):
        if fence is not None:
            if line.strip() == fence[0]:
                blocks.append((fence[1], "\n".join(lines[fence[2] + 1:i]), fence[2]))
                fence = None
            continue
        m = re.match(r"^\s{0,3}(```+)\s*([\w+-]*)", line)
        if m:
            fence = (m.group(1), m.group(2).lower(), i)
            continue
        m = re.match(r"^(#{2,3})\s+(.+?)\s*#*\s*$", line)
        if m:
            headings.append((len(m.group(1)), m.group(2).strip(), i))
    sections = []
    for h, (level, title, start) in enumerate(headings):
        end = len(lines)
        for level2, _, start2 in headings[h + 1:]:
            if level2 <= level:
                end = start2
                break
        s = Section(level, title, start + 1)
        s.blocks = [b for b in blocks if start < b[2] < end]
        inside = set()
        for _, text, at in s.blocks:
            inside.update(range(at, at + text.count("\n") + 3))
        s.text = [lines[j] for j in range(start + 1, end) if j not in inside]
        sections.append(s)
    return sections, blocks, fence


def sql_statements(block):
    """The example statements of a ```sql block: comments removed, split at
    semicolons, keeping those that start with a SQL command."""
    text = strip_sql_comments(block)
    stmts, cur, quote = [], [], None
    for c in text:
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == ";":
            stmts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    stmts.append("".join(cur))
    out = []
    for s in stmts:
        s = s.strip().lstrip("(").lstrip()
        first = re.match(r"[A-Za-z]+", s)
        if first and first.group(0).upper() in SQL_COMMANDS:
            out.append(s)
    return out


def calls(stmt, name):
    return re.search(r"(?<![\w$])" + re.escape(name) + r"\s*\(", stmt) is not None


def reads(stmt, name):
    return re.search(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])(?!\s*\()", stmt) is not None


def sql_blocks(section):
    return [text for lang, text, _ in section.blocks if lang == "sql"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(here, "..", ".."))
    install = os.path.join(root, "src", "sql", "massmodel.sql")
    refpath = os.path.join(root, "docs", "reference.md")
    srcdir = os.path.join(root, "src")
    c = Checker()

    try:
        sql = read(install)
        md = read(refpath)
        gucs = c_gucs(srcdir)
        params, param_notes = c_param_keys(srcdir)
    except OSError as e:
        c.problem("cannot read the sources: %s" % e)
        print("%d checked, %d problems" % (c.checked, c.problems))
        return 1

    funcs, aggs, views = install_objects(sql)
    sections, all_blocks, open_fence = parse_markdown(md)
    by_title = {}
    for s in sections:
        by_title.setdefault(s.title, s)

    print("install script %s: %d functions, %d aggregates, %d views; %d settings in src/*.c; "
          "%d params keys" % (os.path.relpath(install, root), len(funcs), len(aggs), len(views),
                              len(gucs), len(params)))

    # the inputs themselves
    c.check(open_fence is None, "docs/reference.md: every code block is closed",
            "docs/reference.md: the code block opened on line %d is never closed"
            % (open_fence[2] + 1 if open_fence else 0))
    c.check(funcs and views, "src/sql/massmodel.sql: CREATE FUNCTION and CREATE VIEW found",
            "src/sql/massmodel.sql: no CREATE FUNCTION or no CREATE VIEW found")
    c.check(gucs, "src/*.c: settings found (%s)" % ", ".join(sorted(gucs)),
            "src/*.c: no DefineCustom*Variable found")
    c.check(params and not param_notes,
            "src/mm_train.c, mm_search.c, mm_fusion.c: %d params keys found" % len(params),
            "params keys: " + "; ".join(param_notes or ["none found"]))

    # ---- functions and aggregates
    callables = [(n, "function") for n in funcs] + [(n, "aggregate") for n in aggs]
    defined = set(funcs) | set(aggs)
    # name -> titles of the sections whose examples call it, innermost first
    # (a ## section includes its ### subsections)
    example_sections = {}
    for s in sorted(sections, key=lambda s: -s.level):
        for b in sql_blocks(s):
            for st in sql_statements(b):
                for n in defined:
                    if calls(st, n):
                        example_sections.setdefault(n, [])
                        if s.title not in example_sections[n]:
                            example_sections[n].append(s.title)
    for name, kind in callables:
        if not name.startswith("mm_"):
            continue
        if name in INTERNAL:
            mentioned = re.search(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])", md)
            c.check(mentioned,
                    "%s %s: internal (%s), mentioned" % (kind, name, INTERNAL[name]),
                    "%s %s: internal (%s), but docs/reference.md never mentions it"
                    % (kind, name, INTERNAL[name]))
            continue
        s = by_title.get(name)
        if s is not None:
            good = any(calls(st, name) for b in sql_blocks(s) for st in sql_statements(b))
            c.check(good,
                    "%s %s: section '%s %s' (line %d) with an example" % (kind, name, "#" * s.level, name, s.line),
                    "%s %s: section '%s %s' (line %d) has no ```sql example that calls %s(...)"
                    % (kind, name, "#" * s.level, name, s.line, name))
        else:
            where = example_sections.get(name)
            c.check(where,
                    "%s %s: no section of its own; example in section '%s'" % (kind, name, (where or [""])[0]),
                    "%s %s: no '## %s' or '### %s' section, and no ```sql example of any section calls it"
                    % (kind, name, name, name))
    stale = sorted(n for n in INTERNAL if n not in defined)
    c.check(not stale, "allow-list: every internal function is in the install script",
            "allow-list: %s not in the install script; remove from INTERNAL in %s"
            % (", ".join(stale), "test/docs/check_reference.py"))

    # ---- views
    for name in views:
        s = by_title.get(name)
        if s is None:
            c.problem("view %s: no '## %s' or '### %s' section" % (name, name, name))
            continue
        good = any(reads(st, name) for b in sql_blocks(s) for st in sql_statements(b))
        c.check(good,
                "view %s: section '%s %s' (line %d) with an example" % (name, "#" * s.level, name, s.line),
                "view %s: section '%s %s' (line %d) has no ```sql example that reads it"
                % (name, "#" * s.level, name, s.line))

    # ---- settings
    for name in sorted(gucs):
        s = by_title.get(name)
        if s is None or s.level != 3:
            c.problem("setting %s (%s): no '### %s' section" % (name, gucs[name], name))
            continue
        good = any(re.search(r"(?<![\w.])" + re.escape(name) + r"(?![\w])", b) for b in sql_blocks(s))
        c.check(good,
                "setting %s: section '### %s' (line %d) with an example" % (name, name, s.line),
                "setting %s: section '### %s' (line %d) has no ```sql example that names it"
                % (name, name, s.line))

    # ---- params of mm_train
    train = by_title.get("mm_train")
    if train is None:
        c.problem("params: no '## mm_train' section")
    else:
        prose = "\n".join(train.text)
        examples = "\n".join(sql_blocks(train))
        for key in sorted(params, key=str.lower):
            described = ("`%s`" % key) in prose
            used = re.search(r"\"%s\"\s*:" % re.escape(key), examples) is not None
            if described and used:
                c.ok("param %s (%s): `%s` in '## mm_train', used in an example" % (key, params[key], key))
            else:
                why = []
                if not described:
                    why.append("not written `%s` in '## mm_train'" % key)
                if not used:
                    why.append("no ```sql example of '## mm_train' uses \"%s\"" % key)
                c.problem("param %s (%s): %s" % (key, params[key], "; ".join(why)))

    # ---- headings that name something
    known = defined | set(views)
    for s in sections:
        h = "%s %s" % ("#" * s.level, s.title)
        if re.fullmatch(r"mm_\w+", s.title):
            c.check(s.title in known, "heading '%s' (line %d) names an object of the install script" % (h, s.line),
                    "heading '%s' (line %d) names no function, aggregate or view of the install script"
                    % (h, s.line))
        elif re.fullmatch(r"mm\.\w+", s.title):
            c.check(s.title in gucs, "heading '%s' (line %d) names a setting of src/*.c" % (h, s.line),
                    "heading '%s' (line %d) names no setting defined in src/*.c" % (h, s.line))

    print("%d checked, %d problems" % (c.checked, c.problems))
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main())
