"""The documentation, packaging and citation files agree with the code.

The site itself is built by .ci/run (``mkdocs build --strict``, after the
tests); these checks need no documentation tools and catch what a build
would not: pages missing from the navigation, README links to nothing, a
status vocabulary or version that drifted from the code, a fits/ script the
gallery neither runs nor explains.
"""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import jtls
from jtls.fit import inference

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GENERATED = {"gallery.md"}          # made by docs/gen_gallery.py while the site builds


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", DOCS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up while the file runs
    spec.loader.exec_module(mod)
    return mod


def _mkdocs():
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def _nav_paths(items):
    out = []
    for item in items:
        if isinstance(item, dict):
            for v in item.values():
                out += _nav_paths(v) if isinstance(v, list) else [v]
        else:
            out.append(item)
    return out


# -- navigation ------------------------------------------------------------------
def test_nav_lists_every_page_and_only_pages_that_exist():
    listed = _nav_paths(_mkdocs()["nav"])
    assert len(listed) == len(set(listed)), "a page is listed twice in the nav"
    missing = [p for p in listed if p not in GENERATED and not (DOCS / p).exists()]
    assert not missing, f"nav entries without a file: {missing}"
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert not (pages - set(listed)), f"pages not in the nav: {sorted(pages - set(listed))}"
    assert GENERATED <= set(listed)


def test_mkdocs_config_is_strict_with_the_api_reference_and_the_gallery():
    cfg = _mkdocs()
    assert cfg["strict"] is True
    assert cfg["hooks"] == ["docs/gen_gallery.py"]
    plugins = {next(iter(p)) if isinstance(p, dict) else p for p in cfg["plugins"]}
    assert {"search", "mkdocstrings"} <= plugins
    assert all(v == "warn" for v in cfg["validation"].values())


def test_every_public_observable_is_on_the_reference_pages():
    text = (DOCS / "reference" / "observables.md").read_text()
    shown = set(re.findall(r"^::: (jtls\.[\w.]+)", text, re.M))
    for name in jtls.observables.__all__:
        fn = getattr(jtls, name)
        assert fn.__module__ in shown or f"jtls.observables.{name}" in shown, name
    ref = "".join(p.read_text() for p in (DOCS / "reference").glob("*.md"))
    for mod in ("jtls.dos", "jtls.units", "jtls.fit", "jtls.resonator", "jtls.anneal", "jtls.data",
                "jtls.companion.meanfield", "jtls.companion.two_tls", "jtls.companion.strength",
                "jtls.simulated.dos", "jtls.simulated.observables"):
        assert f"::: {mod}" in ref, mod


# -- links -------------------------------------------------------------------------
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", [ROOT / "README.md"] + sorted(DOCS.rglob("*.md")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_files(page):
    for target in LINK.findall(page.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        path = (page.parent / target).resolve()
        if path.relative_to(ROOT).as_posix() in {f"docs/{g}" for g in GENERATED}:
            continue
        assert path.exists(), f"{page.relative_to(ROOT)}: link to missing {target}"


def test_json_blocks_of_the_docs_parse():
    for page in [ROOT / "README.md"] + sorted(DOCS.rglob("*.md")):
        for block in re.findall(r"```json\n(.*?)```", page.read_text(), re.S):
            json.loads(block)


# -- the fit-result page follows the code ------------------------------------------
def _status_rows_of(text, pattern):
    return {m.group(1): re.sub(r"\s+", " ", m.group(2)).strip() for m in re.finditer(pattern, text, re.M)}


def test_status_table_of_the_docs_is_the_vocabulary_of_jtls_fit_inference():
    page = (DOCS / "fit-results.md").read_text()
    rows = _status_rows_of(page, r"^\| `(\w+)` \| (.+?) \|$")
    assert list(rows) == list(inference.STATUSES)
    # meanings as in the module docstring (its table, with continuation lines joined)
    doc = inference.__doc__
    table = doc[doc.index("Status vocabulary"):]
    meanings, current = {}, None
    for line in table.split("\n"):
        m = re.match(r"^``(\w+)``\s+(.*)$", line)
        if m:
            current = m.group(1)
            meanings[current] = m.group(2)
        elif current and line.startswith(" " * 10) and line.strip():
            meanings[current] += " " + line.strip()
    assert list(meanings) == list(inference.STATUSES)
    for k, v in rows.items():
        assert v.replace("χ²", "chi^2") == re.sub(r"\s+", " ", meanings[k]).strip(), k


# -- README and CI agree -----------------------------------------------------------
def test_readme_test_command_is_the_one_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    quick = re.search(r"## Quickstart.*?```bash\n(.*?)```", readme, re.S).group(1).strip().split("\n")
    assert len(quick) == 2, "the quickstart is two commands"
    test_cmd = quick[1]
    ci_cmd = next(line for line in ci.split("\n") if "pytest" in line and not line.startswith("#"))
    assert ci_cmd.replace("pip install -q ", "pip install ") == test_cmd
    assert "jtls demo" in quick[0]


def test_ci_builds_the_docs_strictly_after_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    lines = [x for x in ci.split("\n") if x.strip() and not x.lstrip().startswith("#")]
    pytest_at = next(i for i, x in enumerate(lines) if "pytest" in x)
    build_at = next(i for i, x in enumerate(lines) if "mkdocs build" in x)
    assert build_at > pytest_at and "--strict" in lines[build_at]
    assert any('".[docs]"' in x for x in lines[pytest_at:build_at + 1])


# -- version, metadata, citation, license ------------------------------------------
def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_is_written_once_and_reported_everywhere():
    py = _pyproject()
    assert "version" not in py["project"] and "version" in py["project"]["dynamic"]
    assert py["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "jtls.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+)?", jtls.__version__)
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert str(cff["version"]) == jtls.__version__
    out = subprocess.run([sys.executable, "-m", "jtls", "--version"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == f"jtls {jtls.__version__}"


def test_package_metadata_license_and_typed_marker():
    py = _pyproject()["project"]
    assert py["license"] == "MIT" and py["license-files"] == ["LICENSE"]
    assert py["authors"] == [{"name": "jtls developers"}]
    assert "Typing :: Typed" in py["classifiers"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "jtls" / "py.typed").exists()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["jtls"]
    docs = py["optional-dependencies"]["docs"]
    assert any(d.startswith("mkdocs-material") for d in docs) and any(d.startswith("mkdocstrings") for d in docs)


def test_citation_file_cites_the_software_and_the_four_papers():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software" and cff["license"] == "MIT"
    assert cff["authors"] == [{"name": "jtls developers"}]
    refs = {r["authors"][0]["family-names"]: r for r in cff["references"]}
    assert set(refs) == {"Churkin", "Asban", "Schechter", "Carruzzo"}
    assert refs["Carruzzo"]["doi"] == "10.1103/PhysRevLett.124.075902"
    assert (refs["Schechter"]["journal"], refs["Schechter"]["volume"], refs["Schechter"]["start"]) == \
        ("Physical Review B", 88, "174202")
    for r in cff["references"]:
        assert r["title"] and r["year"] and all("family-names" in a for a in r["authors"])


def test_changelog_starts_with_unreleased_and_names_the_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    heads = re.findall(r"^## (.+)$", text, re.M)
    assert heads[0] == "Unreleased" and any(jtls.__version__ in h for h in heads[1:])


# -- the gallery -------------------------------------------------------------------
def test_every_fits_script_is_in_the_gallery_or_excluded_with_a_reason():
    gal = _load("gen_gallery")
    run = {Path(e.command[0]).name for e in gal.GALLERY if e.command[0].startswith("fits/")}
    scripts = {p.name for p in (ROOT / "fits").glob("*.py")}
    assert not (run & set(gal.EXCLUDED)), "a script is both run and excluded"
    assert scripts == run | set(gal.EXCLUDED), (scripts ^ (run | set(gal.EXCLUDED)))
    assert all(len(v) > 20 for v in gal.EXCLUDED.values())
    for e in gal.GALLERY:
        if e.command[0].startswith("fits/"):
            assert (ROOT / e.command[0]).exists()
            assert "--out" in e.command and "{out}" in e.command
    for name, _, _ in gal.RECORDED:
        assert (gal.RECORDED_DIR / name).exists(), name


def test_gallery_page_lists_figures_and_exclusions():
    gal = _load("gen_gallery")
    page = gal.page()
    for e in gal.GALLERY:
        for f in e.figures:
            assert f"](gallery/{f})" in page
    for script in gal.EXCLUDED:
        assert f"`fits/{script}`" in page
    assert "](gallery/" not in gal.page(skipped=True).split("## Recorded")[0]


def test_gallery_cache_key_follows_the_sources(tmp_path, monkeypatch):
    gal = _load("gen_gallery")
    e = gal.GALLERY[1]
    key = gal._source_hash(e)
    assert key == gal._source_hash(e)
    other = gal.Entry(e.key, e.title, e.command + ("--seed", "1"), e.figures, e.caption)
    assert gal._source_hash(other) != key


# -- the docstring converter used by the API reference -----------------------------
def test_rst_roles_tables_and_doctests_become_markdown():
    conv = _load("griffe_rst").rst_to_markdown
    assert conv("see :func:`jtls.fit.fit` and :class:`~jtls.dos.PowerLawDOS`") == \
        "see `jtls.fit.fit` and `PowerLawDOS`"
    table = ("Intro\n\n=====  ==========\n``ok``  fine\n``bad``  not fine,\n       "
             "   really\n=====  ==========\n\nAfter")
    out = conv(table)
    assert "| ``ok`` | fine |" in out and "| ``bad`` | not fine, really |" in out and out.endswith("After")
    head = "=====  =====\nname   value\n=====  =====\na      1\n=====  =====\n"
    assert conv(head).split("\n")[:3] == ["| name | value |", "|---|---|", "| a | 1 |"]
    assert conv("Quick start::\n\n    x = 1") == "Quick start:\n\n    x = 1"
    doc = conv("Example\n\n>>> fit(m, d)  # doctest: +SKIP\n>>> x\n")
    assert "```pycon\n>>> fit(m, d)\n>>> x\n```" in doc


def test_numpy_entries_with_inline_descriptions_are_split_for_the_parser():
    conv = _load("griffe_rst").rst_to_markdown
    doc = ("Fit.\n\nParameters\n----------\nmodel : a model or an observable name,\n    or a list.\n"
           "name : str\n    Its name.\n\nReturns\n-------\n:class:`FitResult` -- its status says\nwhat it found.\n")
    out = conv(doc).split("\n")
    assert out[4:8] == ["model", "    a model or an observable name,", "    or a list.", "name : str"]
    assert out[-4:] == ["FitResult", "    its status says", "    what it found.", ""]
    assert conv("Example\n-------\n>>> f()\n").startswith("Examples\n-------")


def test_compact_google_args_are_one_entry_per_line():
    conv = _load("griffe_rst").rst_to_markdown
    doc = ("Shift.\n\nArgs:\n  T: temperatures (K).  dos: a DOS model.  omega: resonance\n"
           "  angular frequency (rad/s).\nReturns: an array.")
    assert conv(doc).split("\n")[2:7] == ["Args:", "  T: temperatures (K).", "  dos: a DOS model.",
                                          "  omega: resonance", "      angular frequency (rad/s)."]
    tidy = "Args:\n    T: temperature in K,\n        any shape.\n    mu: DOS power.\n"
    assert conv(tidy) == tidy
