"""shopgraph's recommendation learner: features in, ranked products and probabilities out.

A Vowpal Wabbit contextual bandit (`--cb_explore_adf`) that fills a slate slot by slot and
learns online from per-item rewards, plus offline evaluation (IPS / SNIPS / DR on logged
feedback) and a synthetic-shop simulator. Pure library: no GraphQL, no ORM, no imports
from the rest of the project; plain frozen dataclasses at the boundary.

Service-layer entry points::

    learner = BanditLearner.load_latest(checkpoints) or BanditLearner(LearnerConfig())
    learner.learn_many(examples_with_sequence_after(learner.last_sequence))  # exact replay
    slate = learner.rank(context, candidates, k=10, seed=request_seed)         # ~1.5 ms
    ...log each slot (bandit.logs.decision_log_line)...
    learner.learn(slate.example_for(item_id, reward, context=..., candidates=..., sequence=n))
    learner.save(checkpoints)                                                  # periodically

`BanditLearner` is synchronous and serialises its VW workspace behind a lock; call it
from one dedicated thread (e.g. a single-worker executor) and keep one per process.
"""

import importlib
from typing import Any

# Names are imported on first use (PEP 562), so that importing one light module -- the
# features, the slates -- does not load Vowpal Wabbit and the evaluation stack with it.
_EXPORTS = {
    "ActionFeatures": "bandit.features",
    "ActionId": "bandit.features",
    "BanditLearner": "bandit.learner",
    "ContextFeatures": "bandit.features",
    "FeatureEncoder": "bandit.features",
    "LearnExample": "bandit.slates",
    "LearnerConfig": "bandit.learner",
    "LoggedDecision": "bandit.logs",
    "Report": "bandit.evaluation",
    "Slate": "bandit.slates",
    "SlateItem": "bandit.slates",
    "decision_log_line": "bandit.logs",
    "evaluate_file": "bandit.evaluation",
    "evaluate_records": "bandit.evaluation",
    "format_report": "bandit.evaluation",
    "iter_shopgraph_log": "bandit.logs",
    "read_shopgraph_log": "bandit.logs",
    "write_shopgraph_log": "bandit.logs",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bandit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ActionFeatures",
    "ActionId",
    "BanditLearner",
    "ContextFeatures",
    "FeatureEncoder",
    "LearnExample",
    "LearnerConfig",
    "LoggedDecision",
    "Report",
    "Slate",
    "SlateItem",
    "decision_log_line",
    "evaluate_file",
    "evaluate_records",
    "format_report",
    "iter_shopgraph_log",
    "read_shopgraph_log",
    "write_shopgraph_log",
]
