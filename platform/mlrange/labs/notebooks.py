"""A submission as a Jupyter notebook: the learner's cells with the outputs they produced
(text, errors and figures as ``display_data``), to open in any notebook viewer."""

from __future__ import annotations

from typing import Any

import nbformat

from mlrange.labs.models import Submission

SHOWN_MIME_TYPES = ("text/plain", "image/png", "image/jpeg")
"""What a downloaded notebook may show; HTML or JavaScript from learner code would run in the
viewer (the sandbox keeps only these already, the notebook makes sure again)."""
SETUP_CELLS = 1
"""Cells the runner executes before the learner's (the lab's setup cell, which defines LAB):
an output's ``cell`` index counts them."""


def _notebook_output(output: dict[str, Any]) -> Any | None:
    kind = output.get("type")
    if kind == "stream":
        name, text = output.get("name", "stdout"), output.get("text", "")
        return nbformat.v4.new_output("stream", name=name, text=text)
    if kind == "display":
        data = output.get("data", {})
        shown = {mime: data[mime] for mime in SHOWN_MIME_TYPES if isinstance(data.get(mime), str)}
        return nbformat.v4.new_output("display_data", data=shown) if shown else None
    if kind == "error":
        return nbformat.v4.new_output(
            "error",
            ename=output.get("ename", ""),
            evalue=output.get("evalue", ""),
            traceback=list(output.get("traceback", [])),
        )
    return None


def submission_notebook(*, submission: Submission) -> str:
    """The .ipynb text of ``submission``: a heading, then each of its code cells with its own
    outputs. Outputs recorded without a cell index (older submissions) go under the last cell.
    The outputs were produced by learner code: the caller serves them only to their owner."""
    cells: list[str] = list(submission.cells)
    outputs: list[list[Any]] = [[] for _ in cells]
    for output in submission.outputs:
        index = output.get("cell")
        position = index - SETUP_CELLS if isinstance(index, int) else len(cells) - 1
        converted = _notebook_output(output)
        if converted is not None and cells:
            outputs[min(max(position, 0), len(cells) - 1)].append(converted)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    score = "" if submission.score is None else f", score {submission.score:g}"
    notebook.cells.append(
        nbformat.v4.new_markdown_cell(
            f"# {submission.lab.title}\n\n{submission.get_mode_display()} of "
            f"{submission.created_at:%Y-%m-%d %H:%M} UTC: {submission.get_status_display()}{score}.\n\n"
            f"{submission.message}".rstrip()
        )
    )
    for source, cell_outputs in zip(cells, outputs, strict=True):
        notebook.cells.append(nbformat.v4.new_code_cell(source, outputs=cell_outputs))
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"
    nbformat.validate(notebook)
    return str(nbformat.writes(notebook)) + "\n"


def submission_notebook_filename(*, submission: Submission) -> str:
    """The download's file name: the lab and the start of the submission's id."""
    return f"{submission.lab.slug}-{str(submission.pk)[:8]}.ipynb"
