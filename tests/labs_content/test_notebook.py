"""The committed starter notebooks are rendered from the starters."""

import json

from mlrange.labs.assets import notebook_is_current, render_starter_notebook
from mlrange.labs.registry import discover_labs


def test_committed_notebooks_match_their_starters():
    stale = [spec.slug for spec in discover_labs() if not notebook_is_current(spec)]
    assert stale == []


def test_notebook_has_markdown_and_code_cells_with_the_header_in_the_first_code_cell():
    source = "# ruff: noqa: F821\n# %% [markdown]\n# # Title\n# text\n\n# %%\nx = 1\n\n# %%\nprint(x)\n"
    notebook = json.loads(render_starter_notebook(source))
    cells = [(c["cell_type"], "".join(c["source"])) for c in notebook["cells"]]
    assert cells == [
        ("markdown", "# Title\ntext"),
        ("code", "# ruff: noqa: F821\nx = 1"),
        ("code", "print(x)"),
    ]
    assert all(c.get("outputs", []) == [] for c in notebook["cells"])


def test_rendering_is_deterministic():
    source = "# %%\nx = 1\n"
    assert render_starter_notebook(source) == render_starter_notebook(source)
