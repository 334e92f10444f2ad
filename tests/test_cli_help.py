"""``--help`` of every jtls command is plain text: no reST markup from the docstrings
it is built from (double backquotes, :func:/:mod:/:class:/... roles, '::' literal markers)."""
import re

import pytest

from jtls.cli import main, plain_text

COMMANDS = [[], ["fit"], ["anneal"], ["dos-fit"], ["library"], ["library", "build"],
            ["library", "pack"], ["library", "info"], ["demo"]]
REST = re.compile(r"``|:(?:py:)?(?:func|mod|class|meth|data|attr|obj|exc|ref|doc):`|::\s*$", re.M)


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "jtls")
def test_help_is_plain_text(words, capsys):
    with pytest.raises(SystemExit) as exc:
        main(words + ["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: jtls")
    assert not REST.findall(out), REST.findall(out)


def test_fit_help_keeps_the_documentation(capsys):
    """The reST is converted, not the text dropped: the JSON schema and the resonator notes are there."""
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    out = capsys.readouterr().out
    assert "jtls.data.read_csv" in out and "--no-qp" in out and '"meta"' in out
    assert "';' separators" in out


def test_plain_text_conversions():
    assert plain_text("see :func:`~jtls.fit.fit` and :mod:`jtls.data`") == "see jtls.fit.fit and jtls.data"
    assert plain_text("run ``jtls fit`` with ``;``") == "run jtls fit with ';'"
    assert plain_text("the document::\n\n    {}") == "the document:\n\n    {}"
