"""Property-based fuzzing of the listings API from its own OpenAPI document (schemathesis):
whatever a client sends, the answer is never a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.integration.listings_client import listings_app, register

pytestmark = pytest.mark.postgres


def test_no_request_makes_the_api_fail_with_a_server_error(postgres_url: str):
    app = listings_app(postgres_url, RATE_LIMITS="off")
    headers = register(app.test_client())["headers"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "every documented operation is fuzzed"
    cases = st.one_of([operation.as_strategy() for operation in operations])

    @given(case=cases)
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    def no_server_error(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    no_server_error()
