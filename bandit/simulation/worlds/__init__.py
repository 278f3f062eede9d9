"""The world suite: structurally different simulated shops that judge recommenders.

`spec` (the worlds), `world` (a seeded instance: catalog, shoppers, hidden tastes,
requests, reactions), `policies` and `anchor` (random, popularity, oracle, plain VW),
`runner` (one policy through one world), `stats` (t-intervals over seeds), `suite`
(stored runs, the table). The service is plugged in from outside (`services/simulation.py`).
"""
