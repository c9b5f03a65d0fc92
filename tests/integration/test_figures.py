"""A figure end to end: code that draws with matplotlib, run by a real worker in a kernel forked
from a template that preloaded pyplot, comes back as an image/png output, is shown on the
result page and lands in the downloaded notebook as display_data."""

import base64

import nbformat
import pytest
from django.conf import settings
from django.test import Client

from mlrange.labs.models import Submission
from tests.factories import UserFactory
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

DRAW = (
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(3, 2))\n"
    "ax.plot([0.0, 0.1, 0.2], [0.98, 0.40, 0.05], marker='o')\n"
    "plt.show()\n"
    "print('drawn')"
)


def test_a_drawn_figure_reaches_the_result_page_and_the_downloaded_notebook(loaded, lab_worker):
    lab_worker(preload=settings.SANDBOX_PRELOAD)
    learner = UserFactory.create()
    client = Client()
    client.force_login(learner)

    response = client.post(
        "/api/v1/labs/adversarial-examples/submissions/",
        {"mode": "run", "code": DRAW},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    submission_id = response.json()["id"]
    assert wait_for(lambda: Submission.objects.get(pk=submission_id).is_final, timeout=90, interval=0.1)

    submission = Submission.objects.get(pk=submission_id)
    assert submission.status == Submission.Status.COMPLETED, submission.message
    figures = [o for o in submission.outputs if o["type"] == "display" and "image/png" in o["data"]]
    assert len(figures) == 1
    assert figures[0]["cell"] == 1
    assert base64.b64decode(figures[0]["data"]["image/png"]).startswith(b"\x89PNG")

    page = client.get(f"/labs/submissions/{submission_id}/status/").content.decode()
    assert f'src="data:image/png;base64,{figures[0]["data"]["image/png"]}"' in page

    raw = client.get(f"/labs/submissions/{submission_id}/notebook.ipynb").content.decode()
    notebook = nbformat.reads(raw, as_version=4)
    nbformat.validate(notebook)
    (code_cell,) = notebook.cells[1:]
    assert [o.output_type for o in code_cell.outputs] == ["display_data", "stream"]
    assert code_cell.outputs[0].data["image/png"] == figures[0]["data"]["image/png"]
    assert code_cell.outputs[1].text == "drawn\n"
