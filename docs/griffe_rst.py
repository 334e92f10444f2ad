"""Griffe extension used by the API reference: jtls docstrings are written for
``help()`` with a few reStructuredText habits, and this turns them into
Markdown before mkdocstrings renders them.

* cross-reference roles -- ``:func:`jtls.fit.fit```, ``:class:`~jtls.dos.PowerLawDOS```,
  ``:mod:`jtls.units``` -- become code spans (the last component for ``~``);
* simple tables (columns marked by ``=====  =====`` rules) become Markdown tables;
* a paragraph ending in ``::`` (an RST literal block follows) ends in ``:``; the
  indented block after it is already a Markdown code block;
* doctest lines (``>>> ...``) become a fenced ``pycon`` block, without their
  ``# doctest:`` directives;
* numpy-style sections written with the description on the entry line
  (``name : what it is``, the house style of ``jtls.fit``) get the
  description on the next line, where the numpy parser expects it (a short
  type such as ``name : str`` stays a type); a ``Returns`` entry
  ``Type -- description`` is split the same way; ``Example`` becomes
  ``Examples``;
* Google-style ``Args:`` blocks written compactly -- several ``name: text``
  entries on one line, continuation lines not indented deeper than the
  entries -- are put one entry per line with indented continuations, as the
  Google parser expects.

Nothing in the package changes: only the text the site shows.
"""
from __future__ import annotations

import re

try:                                 # griffe comes with the [docs] extra; the converter itself needs nothing
    import griffe
except ImportError:                  # pragma: no cover - tests of rst_to_markdown without the docs extra
    griffe = None

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|data|attr|meth|obj|exc|const|ref|term):`([^`]+)`")
_RULE = re.compile(r"^(\s*)(=+)((?: +=+)+)\s*$")
_DOCTEST = re.compile(r"^(\s*)(>>>|\.\.\.)( |$)")
_DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")


def _role(m: re.Match) -> str:
    text = m.group(1).strip()
    if "<" in text and text.endswith(">"):          # :ref:`text <target>`
        text = text[:text.index("<")].strip()
    if text.startswith("~"):
        text = text[1:].rsplit(".", 1)[-1]
    return f"`{text}`"


def _columns(rule: str):
    return [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]


def _cells(line: str, cols):
    out = []
    for i, (a, _) in enumerate(cols):
        b = cols[i + 1][0] if i + 1 < len(cols) else None
        out.append(line[a:b].strip() if b is not None else line[a:].strip())
    return out


def _table(lines, start):
    """Convert the simple table whose first rule is lines[start]; return (markdown lines, next index)."""
    indent = _RULE.match(lines[start]).group(1)
    cols = _columns(lines[start])
    rules, i = [start], start + 1
    while i < len(lines) and len(rules) < 3:
        if _RULE.match(lines[i]) and _columns(lines[i]) == cols:
            rules.append(i)
            if len(rules) == 2 and not (i + 1 < len(lines) and lines[i + 1].strip()):
                break                         # two rules and a blank line: a table without header
            # a third rule may follow (header + body)
            j = i + 1
            while j < len(lines) and not (_RULE.match(lines[j]) and _columns(lines[j]) == cols):
                if not lines[j].strip():
                    break
                j += 1
            if j < len(lines) and _RULE.match(lines[j]) and _columns(lines[j]) == cols:
                rules.append(j)
            break
        if not lines[i].strip():
            return None, start + 1
        i += 1
    if len(rules) < 2:
        return None, start + 1

    def rows(a, b):
        out = []
        for line in lines[a + 1:b]:
            cells = _cells(line, cols)
            if out and not cells[0]:
                out[-1] = [f"{x} {y}".strip() for x, y in zip(out[-1], cells)]
            else:
                out.append(cells)
        return out

    if len(rules) == 3:
        header, body, end = rows(rules[0], rules[1]), rows(rules[1], rules[2]), rules[2]
        header = header[0] if header else [""] * len(cols)
    else:
        header, body, end = [" "] * len(cols), rows(rules[0], rules[1]), rules[1]
    md = [indent + "| " + " | ".join(header) + " |", indent + "|" + "---|" * len(cols)]
    md += [indent + "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
    return md, end + 1


_NP_HEAD = re.compile(r"^(\s*)(Parameters|Other Parameters|Attributes|Returns|Yields|Raises|Example|Examples)\s*$")
_NP_ENTRY = re.compile(r"^(\s*)([\w*][\w*, ]*?) : (.+)$")
_TYPE_LIKE = re.compile(r"^[\w\[\]().,|`~* ]+$")
_RETURN_SPLIT = re.compile(r"^(\s*)`?([\w.\[\], |]+?)`?\s+--\s+(.*)$")


def _type_like(text: str) -> bool:
    return len(text) <= 30 and len(text.split()) <= 3 and not text.endswith(".") and bool(_TYPE_LIKE.match(text))


def numpy_inline_entries(text: str) -> str:
    """Move descriptions written on numpy entry lines to the next line (see module docstring)."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        m = _NP_HEAD.match(lines[i])
        if not (m and i + 1 < len(lines) and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1])):
            out.append(lines[i])
            i += 1
            continue
        base, title = m.group(1), m.group(2)
        out += [base + ("Examples" if title == "Example" else title), lines[i + 1]]
        i += 2
        first = True
        while i < len(lines) and not (lines[i].strip() and not lines[i].startswith(base)):
            line = lines[i]
            if i + 1 < len(lines) and _NP_HEAD.match(line) and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]):
                break
            at_base = line.startswith(base) and not line[len(base):].startswith(" ") and line.strip()
            e = _NP_ENTRY.match(line) if at_base and title not in ("Returns", "Yields", "Example",
                                                                      "Examples") else None
            r = _RETURN_SPLIT.match(line) if at_base and first and title in ("Returns", "Yields") else None
            if e and not _type_like(e.group(3)):
                out += [base + e.group(2), base + "    " + e.group(3)]
            elif r:
                out += [base + r.group(2).strip(), base + "    " + r.group(3)]
                i += 1
                while i < len(lines) and lines[i].strip():       # the rest of the paragraph is its description
                    out.append(base + "    " + lines[i].strip())
                    i += 1
                continue
            else:
                out.append(line)
            if line.strip():
                first = False
            i += 1
    return "\n".join(out)


_G_HEAD = re.compile(r"^(\s*)(Args|Arguments|Parameters|Attributes|Keyword Args|Other Parameters):\s*$")
_G_ENTRY = r"[A-Za-z_*][\w*]*(?:, ?[A-Za-z_*][\w*]*)*(?: \([^)]*\))?:(?:\s|$)"
_G_IS_ENTRY = re.compile(_G_ENTRY)
_G_SPLIT = re.compile(r"(?<=[.)])\s{2,}(?=" + _G_ENTRY + ")")


def google_compact_args(text: str) -> str:
    """One Google ``Args:`` entry per line, continuations indented (see module docstring)."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        m = _G_HEAD.match(lines[i])
        out.append(lines[i])
        i += 1
        if not m:
            continue
        head = len(m.group(1))
        indent = None
        while i < len(lines):
            line = lines[i]
            width = len(line) - len(line.lstrip())
            if line.strip() and width <= head:
                break
            if not line.strip():
                nxt = next((x for x in lines[i + 1:] if x.strip()), "")
                if len(nxt) - len(nxt.lstrip()) <= head:
                    break
                out.append(line)
                i += 1
                continue
            if indent is None:
                indent = width
            body = line[width:]
            if width == indent:
                pieces = _G_SPLIT.split(body)
                for k, piece in enumerate(pieces):
                    if k == 0 and not _G_IS_ENTRY.match(piece):
                        out.append(" " * (indent + 4) + piece)   # a continuation written at entry level
                    else:
                        out.append(" " * indent + piece)
            else:
                out.append(line)
            i += 1
    return "\n".join(out)


def rst_to_markdown(text: str) -> str:
    """The docstring ``text`` with roles, simple tables and ``::`` converted (see module docstring)."""
    text = google_compact_args(numpy_inline_entries(_ROLE.sub(_role, text)))
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        if _RULE.match(lines[i]):
            md, nxt = _table(lines, i)
            if md is not None:
                if out and out[-1].strip():
                    out.append("")
                out += md
                if nxt < len(lines) and lines[nxt].strip():
                    out.append("")
                i = nxt
                continue
        m = _DOCTEST.match(lines[i])
        if m and m.group(2) == ">>>":
            indent = m.group(1)
            block = []
            while i < len(lines) and lines[i].startswith(indent) and lines[i].strip() and \
                    not lines[i][len(indent):].startswith(" "):
                block.append(_DIRECTIVE.sub("", lines[i][len(indent):]))
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [indent + "```pycon"] + [indent + b for b in block] + [indent + "```", ""]
            continue
        line = lines[i]
        if line.rstrip().endswith("::") and not line.strip().startswith(">>>"):
            stripped = line.rstrip()[:-2].rstrip()
            line = stripped + (":" if stripped.strip() else "")
        out.append(line)
        i += 1
    return "\n".join(out)


if griffe is not None:
    class RstToMarkdown(griffe.Extension):
        """Rewrite every docstring with :func:`rst_to_markdown` as it is loaded."""

        def on_instance(self, *, obj, **kwargs) -> None:  # noqa: D102
            doc = getattr(obj, "docstring", None)
            if doc is not None and not getattr(obj, "is_alias", False):
                doc.value = rst_to_markdown(doc.value)
