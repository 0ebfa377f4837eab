"""What the serving tests share: a DynamoDB table of each test's own."""

from __future__ import annotations

import dataclasses

import pytest

from scripts.serving import loads as serving


@pytest.fixture()
def own_table(target, request):
    """A DynamoDB table of the test's own, shaped as the export's (user_id hash key), dropped after."""
    name = "t-" + request.node.name.replace("_", "-")[-40:]
    t = dataclasses.replace(target, dynamodb_table=name)
    serving.ensure_local_dynamodb_table(t)
    yield t
    target.dynamodb_client().delete_table(TableName=name)
