"""Schemathesis against the served OpenAPI schema (`/api/schema/`), in-process through Django's
WSGI application, signed in (token and X-Organization) as each kind of organization: a bank, a
core enterprise, a supplier and the platform operator. For every operation, inputs that fit the
schema and inputs that break it: never a 5xx, and every documented answer matches its schema.

`make test` runs a few examples an operation (SCHEMATHESIS_MAX_EXAMPLES, default 2); `make
test-reliability` runs the same test with many more (the `reliability`-marked twin below).
Every example runs in a savepoint that is rolled back, so each starts from the same world.
"""

import os

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from scf_platform.models import Role
from tests.reliability.world import World, build_world

pytestmark = pytest.mark.django_db

QUICK_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", 2))
LONG_EXAMPLES = int(os.environ.get("SCHEMATHESIS_LONG_EXAMPLES", 30))
ACTORS = {"bank": "bank", "core enterprise": "core", "supplier": "supplier", "operator": "operator"}
CHECKS = [not_a_server_error, response_schema_conformance]


class InProcessWSGI(WSGIHandler):
    """Django's WSGI handler, minus closing the database connection when a request ends (the
    test's transaction lives on it), as Django's own test client does."""

    def __call__(self, environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = super().__call__(environ, start_response)
            body = b"".join(response)
            response.close()
            return [body]
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


def load_schema(app) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/schema/", app)


def fuzz(world: World, party: str, max_examples: int) -> list[str]:
    """Every operation, positive and negative inputs; the failures, described."""
    app = InProcessWSGI()
    schema = load_schema(app)
    headers = {
        "Authorization": f"Token {world.token(party, Role.ADMIN)}",
        "X-Organization": str(world.orgs[party].pk),
    }
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/token/":
            continue  # the login throttle answers 429 after ten tries: not what is tested here
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @hypothesis.settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case):
                with transaction.atomic():
                    response = case.call(headers=headers)
                    transaction.set_rollback(True)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                check()
            except hypothesis.errors.Unsatisfiable:
                pass  # nothing to negate: the operation takes no input
            except (Exception, BaseExceptionGroup) as error:  # one report for all operations
                failures.append(f"{operation.label} ({mode}): {str(error)[:1500]}")
    return failures


@pytest.fixture
def world() -> World:
    return build_world(with_documents=False)


@pytest.mark.parametrize("kind", list(ACTORS))
def test_the_api_keeps_its_schema_and_never_fails_for(world, kind):
    failures = fuzz(world, ACTORS[kind], QUICK_EXAMPLES)
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)


@pytest.mark.reliability
@pytest.mark.parametrize("kind", list(ACTORS))
def test_the_api_keeps_its_schema_under_many_examples_for(world, kind):
    failures = fuzz(world, ACTORS[kind], LONG_EXAMPLES)
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
