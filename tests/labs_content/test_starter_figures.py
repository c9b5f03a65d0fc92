"""The starters that draw: run through the real execution path (a sandboxed kernel of the lab's
profile, the lab's setup cell, its limits and services), each ends with its figure as an
image/png output. Needs the installed lab assets (`make content` or `build_lab_assets`)."""

import base64

import pytest

from mlrange.labs import registry, runner

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

FIGURES = {  # lab: how many figures its starter draws
    "adversarial-examples": 2,
    "adversarial-training": 1,
    "backdoor-attack": 1,
    "membership-inference": 1,
    "dp-sgd-budget": 1,
    "model-extraction": 1,
}


@pytest.mark.parametrize("slug", sorted(FIGURES))
def test_the_starter_ends_with_its_figures(slug):
    spec = registry.get_lab(slug)
    if not (registry.public_assets_root() / slug).is_dir():
        pytest.skip(f"{slug}: lab assets are not installed (manage.py build_lab_assets {slug})")

    outcome = runner.execute_lab(
        spec, [spec.read_starter()], variant=registry.lab_variant(spec, 1), grader_seed=1, grade=False
    )

    assert outcome.message == "Your code ran to the end.", outcome.outputs
    pngs = [
        o["data"]["image/png"] for o in outcome.outputs if o["type"] == "display" and "image/png" in o["data"]
    ]
    assert len(pngs) == FIGURES[slug]
    assert all(base64.b64decode(png).startswith(b"\x89PNG") for png in pngs)
    assert {o["cell"] for o in outcome.outputs if o["type"] == "display"} == {1}
