"""The documentation gallery: figures made by running ``fits/`` scripts.

Used two ways:

* as an MkDocs hook (``hooks:`` in ``mkdocs.yml``): on every build the
  scripts of :data:`GALLERY` run (in parallel, one per CPU core, cached by a
  hash of the script and of the ``jtls`` sources), and their figures and the
  generated page ``gallery.md`` are added to the site;
* as a script: ``python docs/gen_gallery.py [--out DIR]`` runs the same
  scripts and writes the figures and ``gallery.md`` to ``DIR`` (default
  ``build/docs-gallery``), to look at them without building the site.

Only scripts that need nothing but the repository and finish in about a
minute are run; :data:`EXCLUDED` says why each other ``fits/`` script is not.
``JTLS_DOCS_GALLERY=skip`` builds the page without running anything (for a
quick local preview; CI runs the gallery).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "docs-gallery"
#: seconds one script may run before the build fails
TIMEOUT = 900


@dataclass(frozen=True)
class Entry:
    """One gallery item: the command that makes ``figures`` in ``{out}``."""
    key: str
    title: str
    command: tuple          # argv after the Python interpreter; "{out}" is the output folder
    figures: tuple          # file names written to {out}
    caption: str


GALLERY = (
    Entry("demo", "Sound velocity of vitreous silica, μ = 0 and μ = 0.1",
          ("-m", "jtls", "demo", "--figure-only", "--out", "{out}"), ("velocity_silica.png",),
          "δv/v(T) = Eq. (7) + Eq. (8) at the parameters of Churkin et al. 2021, Fig. 5a "
          "(90 kHz, A = 9.4 MHz, C = 3.2·10⁻⁴), for the standard tunneling model (μ = 0) and "
          "μ = 0.1, with the resonant and relaxation parts.  The first figure of the quickstart."),
    Entry("paper_fig5_fig6", "The paper's Figs. 5 and 6, and a synthetic recovery",
          ("fits/paper_fig5_fig6.py", "--out", "{out}"), ("paper_fig5_fig6.png",),
          "Curves at the ω, A and C quoted for every panel of Figs. 5–6 for μ = 0 and three "
          "illustrative μ, and a SYNTHETIC recovery: data generated with μ = 0.1 and 1 % noise, "
          "fitted with μ free and with μ = 0 (boundary likelihood-ratio test of μ = 0, AICc)."),
    Entry("joint_velocity_dielectric", "Joint fit of δv/v and Δε/ε with one shared μ",
          ("fits/joint_velocity_dielectric.py", "--out", "{out}"), ("joint_velocity_dielectric.png",),
          "SYNTHETIC velocity (Fig. 5a parameters) and dielectric (Fig. 5b) curves generated with "
          "the same μ, fitted separately and jointly with μ shared; the dashed line is the joint "
          "fit with μ = 0 (STM)."),
)

#: fits/ scripts that are not run at build time, and why.
EXCLUDED = {
    "thermal_conductivity.py": "needs the measured κ datasets of shared/data, which stay out of "
                               "the repository (a docs build must work from the repository alone)",
    "thermal_conductivity_j0h0.py": "needs the measured κ datasets of shared/data",
    "resonator_shift.py": "needs the measured Nb resonator data of shared/data",
    "resonator_j0h0.py": "needs the measured Nb resonator data of shared/data",
    "resonator_loss.py": "needs the measured Nb resonator data of shared/data",
    "tabulated_velocity.py": "its A-free fits end in status max_steps and the figure still draws "
                             "them; it returns to the gallery when the figure shows only results",
    "table2.py": "anneals J0 = 2 and 3 K at L = 8 with 300 realizations: minutes per J0",
    "fig1_dos.py": "needs the annealer runs of table2.py (minutes)",
    "fig2_thermal.py": "needs the annealer runs of table2.py (minutes)",
    "fig3_velocity.py": "needs the annealer runs of table2.py (minutes)",
    "simulated_dos.py": "anneals fresh runs (1000 realizations at each J0/h0 checked) before it "
                        "fits: far longer than a docs build should take",
    "simulated_smoothing.py": "needs a library build directory (hours of annealing) and the fresh runs "
                              "of simulated_dos.py; writes JSON, no figure",
    "simulated_finite_size.py": "anneals L = 8, 10 and 12 with about 5e5 TLSs per run: far longer "
                                "than a docs build should take",
    "inference_calibration.py": "a 200-draw calibration of the inference: minutes, and a table "
                                "rather than a figure",
    "companion_meanfield.py": "minutes (N = 1000, 40 realizations per parameter set) and writes into "
                              "fits/companion_results/ in the repository, not to an output folder; "
                              "its recorded figures are shown below",
    "companion_two_tls.py": "minutes, and writes into fits/companion_results/; recorded figures below",
    "companion_strength.py": "writes into fits/companion_results/ in the repository (a build must "
                             "not change tracked files); its recorded figure is shown below",
}

#: Figures recorded by the companion scripts (committed in fits/companion_results/).
RECORDED = (
    ("meanfield_dos.png", "Mean-field TLS glass: DOS with its dipole gap (Asban et al. 2022)",
     "fits/companion_meanfield.py"),
    ("meanfield_rates_relaxation.png", "Mean-field TLS glass: 1/λ rate distribution and "
     "logarithmic relaxation", "fits/companion_meanfield.py"),
    ("two_tls_PS_x0.2.png", "S–τ model: reduction factor P_S(E), x = 0.2 (Schechter & Stamp 2013)",
     "fits/companion_two_tls.py"),
    ("strength_Cth_vs_Cexp.png", "Universal tunneling strength: C from ρ, v, v_o vs measured C "
     "(Carruzzo & Yu 2020)", "fits/companion_strength.py"),
)
RECORDED_DIR = ROOT / "fits" / "companion_results"


def _source_hash(entry: Entry) -> str:
    """Hash of what the figures depend on: the command, its script and every jtls source file."""
    h = hashlib.sha256(repr(entry.command).encode())
    files = sorted((ROOT / "jtls").rglob("*.py"))
    script = ROOT / entry.command[0]
    if script.suffix == ".py" and script.exists():
        files.append(script)
    for f in files:
        h.update(str(f.relative_to(ROOT)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _folder(entry: Entry, cache: Path) -> Path:
    return cache / f"{entry.key}-{_source_hash(entry)}"


def run_gallery(cache: Path = CACHE, log=print) -> dict:
    """Run every entry whose figures are not cached; return {key: folder with its figures}.

    Raises RuntimeError naming the script when a command fails, times out or
    does not write its figures."""
    cache.mkdir(parents=True, exist_ok=True)
    folders = {e.key: _folder(e, cache) for e in GALLERY}
    todo = [e for e in GALLERY if not all((folders[e.key] / f).exists() for f in e.figures)]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    running = []
    slots = max(1, min(len(todo), os.cpu_count() or 1))
    t0 = time.perf_counter()
    errors = []
    while todo or running:
        while todo and len(running) < slots:
            e = todo.pop(0)
            tmp = folders[e.key].with_suffix(".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            cmd = [sys.executable] + [a.replace("{out}", str(tmp)) for a in e.command]
            logf = open(tmp / "log.txt", "w")
            log(f"gallery: running {' '.join(cmd[1:])}")
            running.append((e, tmp, logf, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logf,
                                                           stderr=subprocess.STDOUT), time.perf_counter()))
        time.sleep(0.2)
        for item in list(running):
            e, tmp, logf, proc, started = item
            if proc.poll() is None and time.perf_counter() - started < TIMEOUT:
                continue
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            running.remove(item)
            logf.close()
            missing = [f for f in e.figures if not (tmp / f).exists()]
            if proc.returncode != 0 or missing:
                tail = (tmp / "log.txt").read_text(errors="replace")[-2000:]
                errors.append(f"{' '.join(e.command)} exited {proc.returncode}"
                              + (f", figures missing: {missing}" if missing else "") + f"\n{tail}")
                continue
            shutil.rmtree(folders[e.key], ignore_errors=True)
            tmp.rename(folders[e.key])
            for old in cache.glob(f"{e.key}-*"):            # figures of older sources
                if old != folders[e.key] and old.suffix != ".tmp":
                    shutil.rmtree(old, ignore_errors=True)
            log(f"gallery: {e.key} done in {time.perf_counter() - started:.0f} s")
    if errors:
        raise RuntimeError("gallery scripts failed:\n" + "\n".join(errors))
    log(f"gallery: ready in {time.perf_counter() - t0:.0f} s")
    return folders


def page(skipped: bool = False) -> str:
    """The markdown of gallery.md (images under gallery/)."""
    out = ["# Gallery", "",
           "Figures made by running the repository's `fits/` scripts while the site is built "
           "(`docs/gen_gallery.py`), so they always show what the current code computes.  "
           "Every command can be rerun from the repository root; each script also writes a "
           "JSON file with the numbers.", ""]
    if skipped:
        out += ["!!! note", "    This build skipped the gallery (`JTLS_DOCS_GALLERY=skip`).", ""]
    for e in GALLERY:
        args = tuple(a.replace("{out}", "out") for a in e.command)
        shown = " ".join(("jtls",) + args[2:] if args[:2] == ("-m", "jtls") else ("python",) + args)
        out += [f"## {e.title}", "", e.caption, "", f"Made by `{shown}`.", ""]
        if not skipped:
            out += [f"![{e.title}](gallery/{f})" + "{ loading=lazy }" for f in e.figures] + [""]
    out += ["## Recorded figures of the companion models", "",
            "Committed with the companion scripts' results (`fits/companion_results/`, numbers and "
            "findings in `benchmarks/companion_results.md`); not rerun at build time (see below).", ""]
    for name, title, script in RECORDED:
        out += [f"### {title}", "", f"Made by `python {script}`.", "",
                f"![{title}](gallery/recorded/{name})" + "{ loading=lazy }", ""]
    out += ["## Scripts not run at build time", "", "| script | why |", "|---|---|"]
    out += [f"| `fits/{k}` | {v} |" for k, v in EXCLUDED.items()]
    return "\n".join(out) + "\n"


def _figure_files(folders: dict | None) -> list:
    """[(site path, source file)] of every image of the page."""
    pairs = [(f"gallery/recorded/{name}", RECORDED_DIR / name) for name, _, _ in RECORDED]
    if folders is not None:
        for e in GALLERY:
            pairs += [(f"gallery/{f}", folders[e.key] / f) for f in e.figures]
    return pairs


# -- MkDocs hook ---------------------------------------------------------------
def on_files(files, config):
    """Add gallery.md and its figures to the site (MkDocs event)."""
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File
    import logging
    logger = logging.getLogger("mkdocs.hooks.gallery")
    skipped = os.environ.get("JTLS_DOCS_GALLERY", "").strip().lower() == "skip"
    folders = None
    if not skipped:
        try:
            folders = run_gallery(log=logger.info)
        except RuntimeError as exc:
            raise PluginError(str(exc)) from None
    files.append(File.generated(config, "gallery.md", content=page(skipped)))
    for uri, src in _figure_files(folders):
        files.append(File.generated(config, uri, abs_src_path=str(src)))
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(CACHE), help="folder for the figures and gallery.md")
    args = ap.parse_args(argv)
    out = Path(args.out)
    folders = run_gallery(out / "runs")
    for uri, src in _figure_files(folders):
        dest = out / uri
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    (out / "gallery.md").write_text(page())
    print(f"wrote {out / 'gallery.md'} and {len(_figure_files(folders))} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
