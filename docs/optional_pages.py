"""MkDocs hook: pages written in other work streams join the navigation once they exist.

``OPTIONAL_PAGES`` lists (section, title, path, after): when ``docs/<path>``
exists and the nav of ``mkdocs.yml`` does not list it yet, it is inserted in
``section`` right after the entry for ``after``.  Nothing is created: without
the file the site simply has no such page.  Once a page is listed in
``mkdocs.yml`` itself, its entry here can go.
"""
from __future__ import annotations

from pathlib import Path

OPTIONAL_PAGES = (
    ("User guide", "Simulated DOS and J0/h0", "guide/simulated-dos.md", "guide/annealing.md"),
)


def _paths(items):
    for item in items or ():
        if isinstance(item, dict):
            for value in item.values():
                if isinstance(value, list):
                    yield from _paths(value)
                else:
                    yield value
        else:
            yield item


def add_optional_pages(nav: list, docs_dir) -> list:
    """The nav with every existing optional page inserted (the list is changed in place)."""
    for section, title, path, after in OPTIONAL_PAGES:
        if not (Path(docs_dir) / path).exists() or path in set(_paths(nav)):
            continue
        for item in nav:
            if isinstance(item, dict) and section in item:
                entries = item[section]
                where = next((i + 1 for i, e in enumerate(entries) if after in set(_paths([e]))), len(entries))
                entries.insert(where, {title: path})
                break
        else:
            nav.append({title: path})
    return nav


def on_config(config):
    """Add the optional pages that exist to the nav (MkDocs event)."""
    if config.nav is not None:
        add_optional_pages(config.nav, config.docs_dir)
    return config
