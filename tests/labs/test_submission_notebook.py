"""A submission downloaded as a notebook: each cell keeps its own outputs, figures included as
image/png display_data, and only its owner may download it."""

import base64
import json

import nbformat
import pytest
from rest_framework.test import APIClient

from mlrange.labs.models import Submission
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


@pytest.fixture
def submission(learner, lab) -> Submission:
    return Submission.objects.create(
        learner=learner,
        lab=lab,
        mode="run",
        source=Submission.Source.NOTEBOOK,
        cells=["print('loaded')", "plt.plot([1, 2]); plt.show()", "1 / 0"],
        status=Submission.Status.ERROR,
        message="Your code raised ZeroDivisionError: division by zero",
        outputs=[  # cell 0 is the lab's setup cell: the learner's cells are 1, 2 and 3
            {"type": "stream", "name": "stdout", "text": "loaded\n", "cell": 1},
            {"type": "display", "data": {"text/plain": "<Figure>", "image/png": PNG}, "cell": 2},
            {
                "type": "error",
                "ename": "ZeroDivisionError",
                "evalue": "division by zero",
                "traceback": ["t"],
                "cell": 3,
            },
        ],
    )


def download(client, submission: Submission) -> nbformat.NotebookNode:
    response = client.get(f"/labs/submissions/{submission.pk}/notebook.ipynb")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ipynb+json"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="adversarial-examples-{str(submission.pk)[:8]}.ipynb"'
    )
    notebook = nbformat.reads(response.content.decode(), as_version=4)
    nbformat.validate(notebook)
    return notebook


def test_each_cell_keeps_its_outputs_and_the_figure_is_display_data(client, learner, submission):
    client.force_login(learner)

    notebook = download(client, submission)

    heading, *code = notebook.cells
    assert heading.cell_type == "markdown"
    assert "Craft adversarial examples" in heading.source
    assert "ZeroDivisionError" in heading.source
    assert [cell.source for cell in code] == submission.cells
    assert [[output.output_type for output in cell.outputs] for cell in code] == [
        ["stream"],
        ["display_data"],
        ["error"],
    ]
    assert code[0].outputs[0].text == "loaded\n"
    assert code[1].outputs[0].data == {"text/plain": "<Figure>", "image/png": PNG}
    assert code[2].outputs[0].ename == "ZeroDivisionError"


def test_outputs_without_a_cell_index_go_under_the_last_cell(client, learner, lab):
    old = Submission.objects.create(
        learner=learner,
        lab=lab,
        mode="run",
        cells=["a = 1", "print(a)"],
        status=Submission.Status.COMPLETED,
        outputs=[{"type": "stream", "name": "stdout", "text": "1\n"}],
    )
    client.force_login(learner)

    notebook = download(client, old)

    assert [len(cell.outputs) for cell in notebook.cells[1:]] == [0, 1]


def test_another_learners_submission_is_a_404(client, submission):
    client.force_login(UserFactory())

    response = client.get(f"/labs/submissions/{submission.pk}/notebook.ipynb")

    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, submission):
    response = client.get(f"/labs/submissions/{submission.pk}/notebook.ipynb")

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_html_and_script_outputs_never_reach_the_notebook(client, learner, lab):
    hostile = Submission.objects.create(
        learner=learner,
        lab=lab,
        mode="run",
        cells=["display(HTML(...))"],
        status=Submission.Status.COMPLETED,
        outputs=[
            {"type": "display", "data": {"text/html": "<script>x</script>", "image/png": PNG}, "cell": 1},
            {"type": "display", "data": {"application/javascript": "alert(1)"}, "cell": 1},
        ],
    )
    client.force_login(learner)

    raw = client.get(f"/labs/submissions/{hostile.pk}/notebook.ipynb").content.decode()

    outputs = json.loads(raw)["cells"][1]["outputs"]
    assert [sorted(output["data"]) for output in outputs] == [["image/png"]]
    assert "<script>" not in raw


def test_the_api_gives_the_owner_the_same_notebook(client, learner, learner_client, submission):
    client.force_login(learner)
    page = client.get(f"/labs/submissions/{submission.pk}/notebook.ipynb")

    response = learner_client.get(f"/api/v1/submissions/{submission.pk}/notebook/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ipynb+json"
    assert response.content == page.content


def test_the_api_hides_another_learners_notebook(submission):
    other = APIClient()
    other.force_authenticate(UserFactory())

    assert other.get(f"/api/v1/submissions/{submission.pk}/notebook/").status_code == 404
    assert APIClient().get(f"/api/v1/submissions/{submission.pk}/notebook/").status_code in {401, 403}


def test_the_submission_page_and_the_history_link_to_the_download(client, learner, submission):
    client.force_login(learner)
    href = f"/labs/submissions/{submission.pk}/notebook.ipynb"
    page = client.get(f"/labs/submissions/{submission.pk}/").content.decode()
    assert f'href="{href}"' in page
    lab_page = client.get(f"/labs/{submission.lab.slug}/").content.decode()
    assert f'href="{href}"' in lab_page
