"""Property-based fuzzing of every service's API from the one OpenAPI document (schemathesis):
whatever a client sends, valid or not, the answer is never a server error.

The document is the one clients read, /api/v1/openapi.json as listings serves it (merged
with the notifications and monitor parts it fetches over HTTP); each operation is sent to
the app the edge routes it to, with that service's credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.integration.api_services import Services, running_services

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def services(module_postgres_url: str, kafka_bootstrap: str) -> Iterator[Services]:
    with running_services(module_postgres_url, kafka_bootstrap) as running:
        yield running


@pytest.mark.parametrize("service", ["listings", "notifications", "monitor"])
def test_no_request_makes_the_api_fail_with_a_server_error(services: Services, service: str):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", services.edge())
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if services.service_of(operation.path) == service
    ]
    assert len(operations) >= {"listings": 20, "notifications": 8, "monitor": 10}[service]
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any) -> None:
            case.call_and_validate(
                headers=services.credentials(service), checks=[not_a_server_error]
            )

        no_server_error()
