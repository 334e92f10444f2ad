"""Every code snippet of the README and of the documentation (docs/**/*.md) runs.

Rules (also in docs/developer.md, "Snippets are tested"):

* the ```python blocks of one page run in order in one namespace (as in a
  notebook), in a fresh temporary folder, with matplotlib's Agg backend;
* a shell block (```bash, ```sh, ```console) runs when every command line in
  it starts with ``jtls ``: each line through ``jtls.cli.main`` in the same
  folder, and must exit 0 (``# exit N`` at the end of a line expects N);
* any block can be left out by an HTML comment on the line before it,
  ``<!-- not executed: REASON -->``, with a reason; a shell block with other
  commands (pip, python, mkdocs) must have one;
* blocks of other languages (text, json, yaml, toml, csv) are output or file
  contents and are not run (a text block made only of commands fails: it
  would escape the test); an unknown language fails the test, so that
  nothing that looks like code escapes by accident.

Snippets use only files of the repository reached through the package
(``jtls.paper_table``) or files they create themselves.
"""
from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXECUTED = {"python", "bash", "sh", "console", "shell"}
NOT_CODE = {"text", "json", "yaml", "toml", "csv"}
SKIP_MARK = re.compile(r"<!--\s*not executed:\s*(\S.*?)\s*-->")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<lang>[\w+-]*)[^\n]*$")
EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")


def pages():
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
    return [f for f in files if f.exists()]


class Block:
    def __init__(self, path, line, lang, code, skip):
        self.path, self.line, self.lang, self.code, self.skip = path, line, lang, code, skip

    def where(self):
        try:
            name = self.path.relative_to(ROOT)
        except ValueError:
            name = self.path
        return f"{name}:{self.line}"


def blocks(path: Path) -> list:
    """Fenced code blocks of a markdown file, with the skip reason of each (or None)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group("indent"), m.group("fence"), m.group("lang").lower()
        prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        skip = SKIP_MARK.search(prev)
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        assert j < len(lines), f"{path}:{i + 1}: unclosed code fence"
        out.append(Block(path, i + 1, lang, "\n".join(body), skip.group(1) if skip else None))
        i = j + 1
    return out


def shell_commands(block: Block) -> list:
    """[(argv after 'jtls', expected exit code)] of a shell block, joining '\\' continuations."""
    text = re.sub(r"\\\n\s*", " ", block.code)
    cmds = []
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        if not line or line.startswith("#"):
            continue
        code = EXIT.search(line)
        argv = shlex.split(line, comments=True)
        assert argv[0] == "jtls", (
            f"{block.where()}: shell line {line!r} is not a jtls command; run it here or mark the "
            "block '<!-- not executed: REASON -->'")
        cmds.append((argv[1:], int(code.group(1)) if code else 0))
    return cmds


def run_page(path: Path, tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jtls.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JTLS_JAX_CACHE", "off")       # no persistent cache written by CLI snippets
    namespace = {"__name__": "__snippet__"}
    ran = 0
    for b in blocks(path):
        if b.skip or b.lang in NOT_CODE:
            continue
        assert b.lang in EXECUTED, f"{b.where()}: unknown code block language {b.lang!r}"
        if b.lang == "python":
            try:
                exec(compile(b.code, b.where(), "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"{b.where()}: python snippet failed: {exc!r}") from exc
            finally:
                plt.close("all")
        else:
            for argv, expected in shell_commands(b):
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    try:
                        rc = main(argv)
                    except SystemExit as exc:          # argparse: --help, --version, usage errors
                        rc = exc.code or 0
                assert rc == expected, (f"{b.where()}: 'jtls {' '.join(argv)}' exited {rc}, "
                                        f"expected {expected}\n{out.getvalue()[-2000:]}")
        ran += 1
    return ran


@pytest.mark.parametrize("path", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_snippets_run(path, tmp_path, monkeypatch):
    run_page(path, tmp_path, monkeypatch)


def looks_like_commands(block: Block) -> bool:
    """A non-code block whose lines are all shell commands (jtls, python, pip, $ ...)."""
    lines = [x.strip() for x in block.code.split("\n") if x.strip()]
    return bool(lines) and all(re.match(r"(\$ |jtls |python3? |pip |\.venv/|mkdocs )", x) for x in lines)


def test_every_skipped_block_gives_a_reason_and_shell_blocks_are_runnable_or_marked():
    for path in pages():
        for b in blocks(path):
            if b.skip is not None:
                assert len(b.skip) >= 10, f"{b.where()}: give a reason why the block is not executed"
            elif b.lang in ("bash", "sh", "console", "shell"):
                shell_commands(b)                      # raises for a non-jtls command
            elif b.lang in NOT_CODE:
                assert not looks_like_commands(b), (
                    f"{b.where()}: commands in a ```{b.lang} block escape the snippet test; make it "
                    "```bash (run) or mark it '<!-- not executed: REASON -->'")


# -- the extractor itself must be able to fail --------------------------------
def test_extractor_sees_blocks_marks_and_languages(tmp_path):
    md = tmp_path / "x.md"
    md.write_text("text\n\n```python\nx = 1\n```\n\n<!-- not executed: needs a cryostat -->\n"
                  "```bash\npip install foo\n```\n\n  ```python\n  y = x + 1\n  ```\n")
    bs = blocks(md)
    assert [(b.lang, b.skip) for b in bs] == [("python", None), ("bash", "needs a cryostat"), ("python", None)]
    assert bs[2].code == "y = x + 1"


def test_a_failing_snippet_fails(tmp_path, monkeypatch):
    md = tmp_path / "bad.md"
    md.write_text("```python\nundefined_name + 1\n```\n")
    with pytest.raises(AssertionError, match="NameError"):
        run_page(md, tmp_path, monkeypatch)


def test_commands_hidden_in_a_text_block_are_recognised(tmp_path):
    md = tmp_path / "x.md"
    md.write_text("```text\njtls fit a.csv --observable velocity\n```\n\n```text\nstatus: ok\n```\n")
    assert [looks_like_commands(b) for b in blocks(md)] == [True, False]


def test_an_unmarked_non_jtls_shell_line_fails(tmp_path):
    md = tmp_path / "bad.md"
    md.write_text("```bash\njtls --version\npip install jtls\n```\n")
    with pytest.raises(AssertionError, match="not a jtls command"):
        shell_commands(blocks(md)[0])


def test_a_jtls_command_with_the_wrong_exit_code_fails(tmp_path, monkeypatch):
    md = tmp_path / "bad.md"
    md.write_text("```bash\njtls fit missing.csv --observable velocity --omega 1\n```\n")
    with pytest.raises(AssertionError, match="exited 2"):
        run_page(md, tmp_path, monkeypatch)
