#!/usr/bin/env python3
"""Checks the layering rules of README's "Layout" section over the Rust sources.

For every crate under crates/, it reads each module file, strips comments and string
literals, and collects the module files each one refers to: `use` trees (`crate::`,
`super::`, `self::`, sibling crates), and paths that start with a name a `use` brought in
or a child module. It then reports:

* import circles: strongly connected groups of two or more files, in any crate;
* floors: in crates/jiesu/src, a file that refers to a floor it may not use (README's
  Layout: base → store → services → jobs → web | sim → start-up and CLI; the web never
  names the store);
* string statuses: outside store/, a `status`, `kind` or `channel` field compared with a
  string literal or matched on `.as_str()`.

It prints what it finds and exits 1 if anything is wrong; `--graph` prints the edges.
Standard library only, so CI needs nothing installed.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = {"jiesu_core": "crates/jiesu-core/src", "jiesu_text": "crates/jiesu-text/src",
          "jiesu": "crates/jiesu/src"}

# The floors of crates/jiesu/src, lowest first, and what each may refer to (besides itself).
# A module's floor is decided by its first path segment (a top-level file or folder).
FLOORS = {
    "base": {"clock", "config", "messages", "telemetry", "progress"},
    "store": {"store"},
    "services": {"services", "error"},
    "jobs": {"jobs"},
    "web": {"web"},
    "tools": {"sim"},
    "top": {"", "main", "cli_text", "cli_learn", "cli_sim", "cli_hotspots", "cli_open311", "cli_calendar", "cli_units", "cli_users", "cli_categories", "cli_kb", "cli_catalogue", "cli_limits", "cli_kpi_rules", "cli_table", "cli_city", "cli_args", "cli_progress"},
}
MAY_USE = {
    "base": {"base"},
    "store": {"base", "store"},
    "services": {"base", "store", "services"},
    "jobs": {"base", "store", "services", "jobs"},
    # The web reaches the database only through services: no `crate::store` under web/.
    "web": {"base", "services", "web"},
    # The simulator drives the services as a city of users would, and reads the store
    # directly where a page would be too slow for a two-month simulation.
    "tools": {"base", "store", "services", "jobs", "tools"},
    "top": {"base", "store", "services", "jobs", "web", "tools", "top"},
}


def strip(src: str) -> str:
    """Source with comments, string and char literals blanked (line breaks kept)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * src.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', src[i:i + 10]) and not (i and (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            end = src.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + "\n" * src.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append('""' + "\n" * src.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])+'", src[i:i + 12]) and not re.match(r"'[a-z_]+[^a-z_']", src[i:i + 12]):
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Crate:
    """The module tree of one crate root (lib.rs or main.rs)."""

    def __init__(self, name: str, src: Path, root_file: Path):
        self.name, self.src = name, src
        self.files: dict[tuple, Path] = {}  # module path → file
        self.walk((), root_file)

    def walk(self, path: tuple, file: Path):
        self.files[path] = file
        text = strip(file.read_text(encoding="utf-8"))
        for m in re.finditer(r'(#\[path\s*=\s*""\]\s*)?(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_0-9]+)\s*;', text):
            child = m.group(2)
            raw = file.read_text(encoding="utf-8")
            pm = re.search(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+' + child + r'\s*;', raw)
            base = file.parent if file.name in ("lib.rs", "main.rs", "mod.rs") else file.parent / file.stem
            if pm:
                target = file.parent / pm.group(1)
            elif (base / f"{child}.rs").exists():
                target = base / f"{child}.rs"
            else:
                target = base / child / "mod.rs"
            if target.exists():
                self.walk(path + (child,), target)


def expand(tree: str, prefix: tuple):
    tree = tree.lstrip(":")
    depth, start, parts = 0, 0, []
    if "{" in tree and tree.endswith("}"):
        head, body = tree.split("{", 1)
        head = tuple(s for s in head.split("::") if s)
        body = body[:-1]
        for i, ch in enumerate(body):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(body[start:i])
                start = i + 1
        parts.append(body[start:])
        for p in parts:
            if p:
                yield from expand(p, prefix + head)
        return
    segs = tuple(s for s in tree.split("::") if s)
    path = prefix + segs
    if path and path[-1] == "self":
        path = path[:-1]
    if path and path[-1] == "*":
        yield ("*", path[:-1])
        return
    yield (path[-1] if path else "", path)


def inline_modules(text: str):
    """(start, end, name) of every inline `mod name { … }` block."""
    out = []
    for m in re.finditer(r"\bmod\s+([a-z_0-9]+)\s*\{", text):
        depth, j = 0, m.end() - 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        out.append((m.end(), j, m.group(1)))
    return out


def inline_path(blocks, pos: int) -> tuple:
    """The inline modules enclosing `pos`, outermost first."""
    return tuple(name for start, end, name in blocks if start <= pos < end)


def uses(text: str):
    """Yields (name brought in, path, position) for every leaf of every `use` statement."""
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        raw = m.group(1)
        raw = re.sub(r"\s+as\s+", "@", raw)
        for alias, path in expand(re.sub(r"\s+", "", raw), ()):
            if path and "@" in path[-1]:
                name, alias = path[-1].split("@")
                yield alias, path[:-1] + (name,), m.start()
            else:
                yield alias, path, m.start()


def absolute(path: tuple, here: tuple, crate_name: str):
    """Resolves a use path to (crate, module path) or None for foreign crates."""
    if not path:
        return None
    first = path[0]
    if first == "crate":
        return crate_name, path[1:]
    if first == "self":
        return crate_name, here + path[1:]
    if first == "super":
        up, rest = here, path
        while rest and rest[0] == "super":
            up, rest = up[:-1], rest[1:]
        return crate_name, up + rest
    if first in CRATES:
        return first, path[1:]
    return None


def encloses(front: Path, file: Path) -> bool:
    """True when `front` is the front file of a module that contains `file`."""
    if front.name not in ("lib.rs", "main.rs", "mod.rs"):
        return False
    return file != front and file.is_relative_to(front.parent)


def longest_module(crate: Crate, path: tuple):
    for k in range(len(path), -1, -1):
        if path[:k] in crate.files:
            return path[:k]
    return ()


def main():
    crates = {}
    for name, src in CRATES.items():
        src = ROOT / src
        crates[name] = Crate(name, src, src / "lib.rs")
    bins = {}
    main_rs = ROOT / CRATES["jiesu"] / "main.rs"
    if main_rs.exists():
        bins["jiesu_bin"] = Crate("jiesu_bin", main_rs.parent, main_rs)

    all_crates = {**crates, **bins}
    edges: dict[Path, set] = {}
    owned: dict[Path, set] = {}
    for cname, crate in all_crates.items():
        owner = "jiesu" if cname == "jiesu_bin" else cname
        for here, file in crate.files.items():
            is_mod_file = file.name in ("lib.rs", "main.rs", "mod.rs")
            text = strip(file.read_text(encoding="utf-8"))
            children = {p[-1] for p in crate.files if len(p) == len(here) + 1 and p[:len(here)] == here}
            # A plain file's `mod x;` children live in a folder named after it: handled by walk.
            scope = here
            aliases = {c: (cname, here + (c,)) for c in children}
            targets = set()

            def add(res):
                if res is None:
                    return
                tc, tpath = res
                target_crate = all_crates.get(tc)
                if tc == "jiesu" and cname == "jiesu_bin":
                    target_crate = crates["jiesu"]
                if target_crate is None:
                    return
                mod = longest_module(target_crate, tpath)
                targets.add(target_crate.files[mod])
                return target_crate, tpath

            blocks = inline_modules(text)
            for alias, path, at in uses(text):
                res = absolute(path, scope + inline_path(blocks, at), cname)
                if res is None and path and path[0] in aliases:
                    res = (aliases[path[0]][0], aliases[path[0]][1] + path[1:])
                if res is None:
                    continue
                add(res)
                if alias != "*":
                    aliases[alias] = res
            # Inline paths: crate::a::b, super::x, and alias::x.
            for m in re.finditer(r"(?<![A-Za-z0-9_:])((?:[A-Za-z_][A-Za-z0-9_]*::)+[A-Za-z_][A-Za-z0-9_]*)", text):
                segs = tuple(m.group(1).split("::"))
                res = absolute(segs, scope + inline_path(blocks, m.start()), cname)
                if res is None and segs[0] in aliases:
                    base = aliases[segs[0]]
                    res = (base[0], base[1] + segs[1:])
                add(res)
            targets.discard(file)
            # A module's front file (lib.rs, main.rs, mod.rs) owns the files below it: references
            # between a file and the front file of a module that contains it are ownership, not
            # imports, and do not count towards circles (they are still checked for floors).
            owned[file] = {t for t in targets if encloses(t, file) or encloses(file, t)}
            edges[file] = targets

    problems = []

    # Import circles (Tarjan's strongly connected components).
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, set()) - owned.get(v, set()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    for comp in sccs:
        names = sorted(str(f.relative_to(ROOT)) for f in comp)
        inner = sorted(
            f"{a.relative_to(ROOT)} -> {b.relative_to(ROOT)}"
            for a in comp for b in edges[a] - owned[a] if b in comp
        )
        problems.append("import circle: " + ", ".join(names) + "\n    " + "\n    ".join(inner))

    # Floors in crates/jiesu/src.
    app_src = ROOT / CRATES["jiesu"]

    def floor_of(file: Path):
        rel = file.relative_to(app_src)
        top = rel.parts[0]
        top = top[:-3] if top.endswith(".rs") else top
        if top == "lib":
            top = ""
        for floor, tops in FLOORS.items():
            if top in tops:
                return floor, top
        return None, top

    for a, targets in edges.items():
        if not a.is_relative_to(app_src):
            continue
        fa, ta = floor_of(a)
        if fa is None:
            problems.append(f"{a.relative_to(ROOT)}: module '{ta}' has no floor in scripts/check_layers.py")
            continue
        for b in targets:
            if not b.is_relative_to(app_src):
                continue
            fb, tb = floor_of(b)
            if fb is None:
                continue
            if fb not in MAY_USE[fa]:
                problems.append(
                    f"{a.relative_to(ROOT)} ({fa}) refers to {b.relative_to(ROOT)} ({fb})")

    # Statuses, kinds and channels are enums outside store/.
    pattern = re.compile(
        r"\b(status|kind|channel|role)(\.as_str\(\)|\.as_deref\(\))?\s*[!=]=\s*\"\"|"
        r"\"\"\s*[!=]=\s*[a-z_.]*\b(status|kind|channel|role)\b|"
        r"match\s+[a-z_.]*\b(status|kind|channel|role)(\.as_str\(\)|\.as_deref\(\))")
    for file in sorted(app_src.rglob("*.rs")):
        if file.is_relative_to(app_src / "store"):
            continue
        text = strip(file.read_text(encoding="utf-8"))
        for i, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                problems.append(f"{file.relative_to(ROOT)}:{i}: a status, kind, channel or role compared as a string")

    if "--graph" in sys.argv:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f"{a.relative_to(ROOT)} -> {b.relative_to(ROOT)}")
    for p in problems:
        print(p)
    print(f"check_layers: {len(edges)} files, {sum(map(len, edges.values()))} references, "
          f"{len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
