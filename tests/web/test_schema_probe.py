"""The schema-recovery probe (tests/support/schema_probe.py) against prod and, as a control,
against a dev server.

In prod nothing is recovered from errors, in trusted mode (the default) and in any mode;
trusted mode also runs no made-up document, so nothing at all is learned. The dev server
shows the probe works: it recovers our root fields (and nothing that is not one), and the
arguments of the fields it is told about.
"""

from __future__ import annotations

import logging

import pytest

from tests.support.apps import client_for, prod_overrides
from tests.support.schema_probe import ProbeReport, SchemaProbe, http_sender, load_wordlist

# Fields an attacker is assumed to know already (e.g. from a client's traffic): the probe
# tries to learn their arguments.
KNOWN = {"Query": ["products", "product", "orders", "recommendations"], "Mutation": ["addToCart"]}


def real_fields(client) -> dict[str, set[str]]:
    schema = client.app.state.graphql_view.schema._schema
    return {
        "Query": set(schema.query_type.fields),
        "Mutation": set(schema.mutation_type.fields),
    }


@pytest.fixture(autouse=True)
def quiet(caplog):
    # Thousands of requests: their INFO lines (httpx, refused requests) only cost time here.
    for name in ("httpx", "shopgraph.errors"):
        caplog.set_level(logging.WARNING, logger=name)


async def probe(settings, **overrides) -> tuple[ProbeReport, dict[str, set[str]]]:
    async with client_for(settings, **overrides) as client:
        report = await SchemaProbe(http_sender(client)).run(load_wordlist(), known=KNOWN)
        print(report.summary())  # the figures, with `pytest -s`
        return report, real_fields(client)


async def test_dev_control_the_probe_recovers_our_fields(settings, db):
    report, real = await probe(settings)
    words = set(load_wordlist())
    for root in ("Query", "Mutation"):
        recovered = report.recovered(root)
        assert recovered <= real[root], recovered - real[root]  # no false positives
        guessable = real[root] & words
        assert len(guessable) >= 10
        assert guessable <= recovered, guessable - recovered  # everything in the wordlist
    # ...and more than the wordlist holds, through the suggestions.
    assert report.recovered("Query") - words
    assert {"first", "after", "filter", "sort"} <= set(report.arguments["Query.products"])


async def test_prod_trusted_mode_gives_away_nothing(settings, db):
    report, _real = await probe(settings, **prod_overrides())
    assert report.total() == 0
    assert report.executed == {}
    assert all(not found for found in report.arguments.values())
    assert all(not found for found in report.executed_arguments.values())


async def test_prod_any_mode_gives_away_nothing_in_errors(settings, db):
    report, real = await probe(settings, **prod_overrides(operations="any"))
    assert report.total() == 0
    assert all(not found for found in report.arguments.values())
    # What any mode cannot hide: a complete, valid document runs. (Why trusted documents
    # are the prod default.)
    executed = report.executed.get("Query", set())
    assert executed and executed <= real["Query"]
