"""LOG_FORMAT=json: one JSON object per line, with submission ids; plain stays the default."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlrange.labs.models import Submission
from mlrange.labs.services import submission_execute
from mlrange.ops.apps import _log_format_for_celery
from mlrange.ops.log_format import JsonFormatter
from tests.factories import UserFactory
from tests.progress.factories import make_catalog, make_lab

ROOT = Path(__file__).resolve().parent.parent.parent
LOG_A_SUBMISSION = (
    "import django, logging; django.setup(); "
    "logging.getLogger('mlrange.labs.services').warning("
    "'submission %s finished: %s', 'abc-123', 'passed', extra={'submission_id': 'abc-123'})"
)


def _python(code: str, *, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "LOG_FORMAT"}
    base.update(
        {
            "MLRANGE_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "mlrange.settings",
            "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
            "DEBUG": os.environ.get("DEBUG", "1"),  # as a local run: no SECRET_KEY needed
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_json_log_format_writes_one_parseable_object_per_line(tmp_path):
    result = _python(LOG_A_SUBMISSION, env={"LOG_FORMAT": "json"}, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    record = records[-1]
    assert record["message"] == "submission abc-123 finished: passed"
    assert record["submission_id"] == "abc-123"
    assert record["level"] == "WARNING"
    assert record["logger"] == "mlrange.labs.services"
    assert record["time"].startswith("20")


def test_plain_log_format_stays_the_default(tmp_path):
    result = _python(LOG_A_SUBMISSION, env={}, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.endswith("WARNING mlrange.labs.services submission abc-123 finished: passed")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_an_unknown_log_format_refuses_to_start(tmp_path):
    result = _python("import django; django.setup()", env={"LOG_FORMAT": "xml"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "LOG_FORMAT must be 'plain' or 'json'" in result.stderr


@pytest.mark.django_db
def test_labs_services_log_the_submission_id_as_a_field(caplog):
    make_catalog()
    lab = make_lab(slug="log-lab")
    submission = Submission.objects.create(
        learner=UserFactory.create(), lab=lab, mode="run", cells=["1"], status=Submission.Status.PASSED
    )

    with caplog.at_level(logging.INFO, logger="mlrange.labs.services"):
        submission_execute(submission_id=str(submission.pk), worker="host:1")

    record = next(r for r in caplog.records if r.name == "mlrange.labs.services")
    assert json.loads(JsonFormatter().format(record))["submission_id"] == str(submission.pk)


def test_celery_log_handlers_get_the_json_formatter_when_asked(settings):
    logger = logging.getLogger("tests.celery-like")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s"))
    logger.addHandler(handler)
    try:
        settings.LOG_FORMAT = "plain"
        _log_format_for_celery(logger=logger)
        assert not isinstance(handler.formatter, JsonFormatter)
        settings.LOG_FORMAT = "json"
        _log_format_for_celery(logger=logger)
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        logger.removeHandler(handler)
