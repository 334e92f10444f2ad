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
  would escape the test); a block without a language or of any other
  language fails the test, so that nothing that looks like code escapes by
  accident.

All pages run one after the other in one separate Python process (one import
of jax and jtls, nothing left behind in the test process), compiled with
XLA's backend optimisation off (cheaper compiles for run-once snippets).

Snippets use only files of the repository reached through the package
(``jtls.paper_table``) or files they create themselves.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# Under pytest-xdist (-n 2 --dist loadgroup, the README's command) the whole module runs on one
# worker, so the snippet process of the module fixture runs once, not once per worker.
pytestmark = pytest.mark.xdist_group("snippets")

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


def run_page(path: Path, workdir: Path) -> int:
    """Run the snippets of one page in ``workdir``; AssertionError (with the place) on failure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jtls.cli import main

    here = os.getcwd()
    os.chdir(workdir)
    namespace = {"__name__": "__snippet__"}
    ran = 0
    try:
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
    finally:
        os.chdir(here)
    return ran


def _run_pages_here(paths, report: Path) -> None:
    """Run pages one after the other in this process; write {page: error or None, ...} to ``report``."""
    results = {}
    for path in paths:
        work = Path(tempfile.mkdtemp(prefix="jtls-snippets-"))
        out = io.StringIO()
        t0 = time.process_time()
        try:
            with contextlib.redirect_stdout(out):
                run_page(Path(path), work)
            error = None
        except BaseException as exc:                   # noqa: BLE001 - reported per page
            error = f"{exc}\n--- output of the page so far ---\n{out.getvalue()[-3000:]}"
        finally:
            shutil.rmtree(work, ignore_errors=True)
        results[str(path)] = {"error": error, "cpu_s": round(time.process_time() - t0, 2)}
        report.write_text(json.dumps(results))


#: XLA settings of the snippet process: compiling without LLVM's optimisation passes
#: is about a third cheaper for these small, run-once programs (results unchanged).
SNIPPET_ENV = {"XLA_FLAGS": "--xla_backend_optimization_level=0", "JTLS_JAX_CACHE": "off",
               "MPLBACKEND": "Agg"}


@pytest.fixture(scope="module")
def page_results(tmp_path_factory):
    """Every page run once, all in one fresh Python process (one import of jax and jtls)."""
    report = tmp_path_factory.mktemp("snippets") / "report.json"
    env = {**os.environ, **SNIPPET_ENV}
    env["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + SNIPPET_ENV["XLA_FLAGS"]).strip()
    proc = subprocess.run([sys.executable, __file__, str(report)] + [str(p) for p in pages()],
                          env=env, capture_output=True, text=True, timeout=900)
    results = json.loads(report.read_text()) if report.exists() else {}
    if proc.returncode != 0 and len(results) < len(pages()):
        pytest.fail(f"the snippet process stopped (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return results


@pytest.mark.parametrize("path", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_snippets_run(path, page_results):
    result = page_results[str(path)]
    assert result["error"] is None, result["error"]


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


def test_a_failing_snippet_fails(tmp_path):
    md = tmp_path / "bad.md"
    md.write_text("```python\nundefined_name + 1\n```\n")
    with pytest.raises(AssertionError, match="NameError"):
        run_page(md, tmp_path)


def test_commands_hidden_in_a_text_block_are_recognised(tmp_path):
    md = tmp_path / "x.md"
    md.write_text("```text\njtls fit a.csv --observable velocity\n```\n\n```text\nstatus: ok\n```\n")
    assert [looks_like_commands(b) for b in blocks(md)] == [True, False]


def test_an_unmarked_non_jtls_shell_line_fails(tmp_path):
    md = tmp_path / "bad.md"
    md.write_text("```bash\njtls --version\npip install jtls\n```\n")
    with pytest.raises(AssertionError, match="not a jtls command"):
        shell_commands(blocks(md)[0])


def test_a_jtls_command_with_the_wrong_exit_code_fails(tmp_path):
    md = tmp_path / "bad.md"
    md.write_text("```bash\njtls fit missing.csv --observable velocity --omega 1\n```\n")
    with pytest.raises(AssertionError, match="exited 2"):
        run_page(md, tmp_path)


def test_the_page_runner_reports_each_page(tmp_path):
    good, bad = tmp_path / "good.md", tmp_path / "bad.md"
    good.write_text("```python\nx = 1\nprint(x)\n```\n")
    bad.write_text("```python\nprint('before')\nraise RuntimeError('boom')\n```\n")
    report = tmp_path / "r.json"
    _run_pages_here([good, bad], report)
    res = json.loads(report.read_text())
    assert res[str(good)]["error"] is None
    assert "boom" in res[str(bad)]["error"] and "before" in res[str(bad)]["error"]


if __name__ == "__main__":          # the snippet process of the page_results fixture
    _run_pages_here(sys.argv[2:], Path(sys.argv[1]))
