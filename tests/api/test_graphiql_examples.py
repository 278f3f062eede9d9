"""GraphiQL's example document runs within the API's limits: GraphiQL sends the whole
document (every example) with each run, so it must stay under the token, depth, alias and
cost limits, and each query and mutation must run."""

from __future__ import annotations

import uuid

from graphql import OperationDefinitionNode, OperationType, parse

from tests.support.graphql import global_id
from web.graphiql import EXAMPLES_FILE

REFUSED = {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_COMPLEX", "BAD_REQUEST"}


async def test_every_example_query_and_mutation_runs_within_the_limits(client, catalog, admin):
    document = EXAMPLES_FILE.read_text()
    operations = [
        d
        for d in parse(document).definitions
        if isinstance(d, OperationDefinitionNode) and d.operation != OperationType.SUBSCRIPTION
    ]
    product = catalog[1]
    variables = {
        "productId": global_id("Product", product.id),
        "eventId": None,
        "idempotencyKey": str(uuid.uuid4()),
        "orderId": global_id("Order", 1),
        "status": "CONFIRMED",
    }
    ran = []
    for operation in operations:
        name = operation.name.value
        body = await client.post(
            "/graphql",
            json={"query": document, "variables": variables, "operationName": name},
            headers={"authorization": f"Bearer {admin}"},
        )
        assert body.status_code == 200, (name, body.text)
        errors = body.json().get("errors", [])
        codes = {e.get("extensions", {}).get("code") for e in errors}
        assert not codes & REFUSED, (name, errors)
        assert body.json()["data"] is not None, (name, errors)
        ran.append(name)
    assert {"Browse", "Recommendations", "AddToCart", "Checkout", "SetInventory"} <= set(ran)
