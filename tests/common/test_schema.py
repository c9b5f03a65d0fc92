"""The OpenAPI schema lists the errors each operation can answer with, from one central rule."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def operations() -> dict[str, dict]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        f"{method.upper()} {path}": operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def _codes(operations, key: str) -> set[str]:
    return set(operations[key]["responses"])


def test_an_owned_object_documents_401_404_and_429(operations):
    assert {"200", "401", "404", "429"} <= _codes(operations, "GET /api/v1/submissions/{submission_id}/")


def test_a_write_documents_400_401_403_413_and_429(operations):
    codes = _codes(operations, "POST /api/v1/labs/{slug}/submissions/")
    assert {"202", "400", "401", "403", "404", "413", "429", "503"} <= codes


def test_a_public_list_documents_no_404(operations):
    codes = _codes(operations, "GET /api/v1/labs/")
    assert {"200", "401", "429"} <= codes
    assert "404" not in codes


def test_every_api_operation_documents_401_and_429(operations):
    for key, operation in operations.items():
        if key.split()[1].startswith("/api/v1/"):
            assert {"401", "429"} <= set(operation["responses"]), key


def test_error_responses_share_one_documented_shape(operations, client):
    response = operations["GET /api/v1/levels/{slug}/"]["responses"]["404"]
    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    served = yaml.safe_load(client.get("/api/schema/").content)
    assert set(served["components"]["schemas"]["Error"]["properties"]) == {"detail", "retry_after_seconds"}
