"""Recommendations as a decision service: rank on the newest model, log every decision,
join rewards to decisions, learn them once in one place, publish the model to all.

The modules, along the ideas:

    request        what a request may ask; the shopper context read for it
    decide         deciding a slate (`recommendations`) and logging it
    feedback       which decision a reward belongs to; `recordInteraction`
    rewards        the reward table: what each action is worth and which signal it is
    decisions      a decision and its compact row format (rebuilt exactly for learning)
    decision_log   the batched decision writer
    candidates     the in-memory candidate index
    learning       learning every reward once, in order, from the log
    learner        the learner role: elected, learns, publishes, sweeps, purges
    election       the learner lock (PostgreSQL advisory lock / file lock) and terms
    snapshots      published models, in the database or a `file://` store
    model          the VW thread and the model a process ranks with (hot swap)
    runtime        a process's recommender, on the request Context
    windows        reward windows (default rewards for ignored items)
    retention      purging the decision log in batches
    export         the decision log as JSONL, for evaluation and archives

The service API other layers use (resolvers, the simulation adapter) is small and stable::

    from services.recommendations import decide, feedback, request
    ask = request.validate_request(first=10, page="home")         # or RecommendationRequest
    decision, products = await decide.recommendations(runtime, viewer, ask)
    await feedback.record_interaction(rewards=..., runtime=runtime, product_id=...,
                                      action=InteractionAction.TICK, user_id=...,
                                      session_id=None, event_id=decision.event_id)

Importing this package imports none of its modules: cart and checkout use `rewards`
without loading the learner (tests/services/recommendations/test_package.py checks it).
"""
