"""The API keeps its OpenAPI contract under fuzzing: schemathesis, in-process through the WSGI app.

Every operation, GET and POST, gets a bounded number of generated requests, valid and invalid,
sent with a learner's token: none may answer 5xx, nor a status its schema does not list, nor a
content type it does not declare.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

EXAMPLES_PER_OPERATION = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def wsgi_app() -> Iterator[object]:
    """The project's WSGI app, called in this process against the test database.

    Django closes the database connection when a request ends, which would end the test's
    transaction: as Django's own test client does, that handler is unhooked meanwhile.
    """
    from django.core import signals
    from django.db import close_old_connections

    from mlrange.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_operation_answers_within_its_contract(wsgi_app, learner, mode):
    call_command("load_curriculum", verbosity=0)  # real slugs and ids to find, as in production
    token = Token.objects.get_or_create(user=learner)[0].key
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    tried: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,  # the same requests on every run: a failure here is reproducible
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def answers_within_contract(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

        try:
            answers_within_contract()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE, operation.path
            continue  # nothing to make invalid: no parameters and no body
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /api/v1/labs/{slug}/submissions/" in tried
    assert len(tried) >= (20 if mode == GenerationMode.POSITIVE else 8), tried
