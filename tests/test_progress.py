"""Progress lines (jtls.progress): on stderr only, when asked for or on a terminal,
never inside the JSON that `jtls fit --json` prints on stdout."""
import io
import json
import time

import numpy as np

import jtls
from jtls.cli import main
from jtls.progress import Progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_step_lines_when_enabled():
    s = io.StringIO()
    with Progress(True, stream=s).step("bootstrap (5 resamples)"):
        pass
    lines = s.getvalue().splitlines()
    assert lines[0] == "[jtls] bootstrap (5 resamples) ..."
    assert lines[1].startswith("[jtls] bootstrap (5 resamples): done in ") and lines[1].endswith(" s")


def test_silent_unless_terminal_or_asked():
    s = io.StringIO()                   # a file or pipe, no --progress: nothing
    with Progress(None, stream=s).step("fitting"):
        pass
    assert s.getvalue() == ""
    t = _Tty()                          # a terminal: nothing for a step shorter than the delay ...
    with Progress(None, stream=t, delay=5.0).step("short"):
        pass
    assert t.getvalue() == ""
    with Progress(None, stream=t, delay=0.05, interval=0.02).step("long"):
        time.sleep(0.2)                 # ... the running line, then the done line, for a long one
    assert "[jtls] long ..." in t.getvalue() and "long: done in" in t.getvalue()
    t2 = _Tty()                         # --no-progress: nothing even on a terminal
    with Progress(False, stream=t2, delay=0.0).step("never"):
        time.sleep(0.05)
    assert t2.getvalue() == ""


def test_error_is_not_reported_as_done():
    s = io.StringIO()
    try:
        with Progress(True, stream=s).step("fitting"):
            raise ValueError("bad")
    except ValueError:
        pass
    assert "stopped by an error after" in s.getvalue() and "done" not in s.getvalue()


def test_cli_progress_on_stderr_json_on_stdout(tmp_path, capsys):
    T = np.geomspace(0.05, 1.0, 20)
    y = np.asarray(jtls.specific_heat(T, 0.5, 0.2)) * (1 + 0.01 * np.random.default_rng(3).normal(size=T.size))
    f = tmp_path / "cv.csv"
    f.write_text("T,value\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(T, y)))
    rc = main(["fit", str(f), "--observable", "specific_heat", "--json", "--progress"])
    cap = capsys.readouterr()
    doc = json.loads(cap.out)                      # stdout is exactly the JSON document
    assert rc == 0 and doc["status"] == "ok"
    assert "[jtls] fitting specific_heat (20 points) ..." in cap.err
    assert "[jtls] fitting specific_heat (20 points): done in" in cap.err
    assert "--progress" not in doc["meta"]["command"]   # not a setting of the result
    rc = main(["fit", str(f), "--observable", "specific_heat", "--json"])   # not a terminal: silent
    cap = capsys.readouterr()
    assert "[jtls]" not in cap.err and json.loads(cap.out)["status"] == "ok"
