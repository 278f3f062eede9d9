"""Direct calls into VW's Python binding for the per-request hot path.

`vowpalwabbit.Workspace.parse` wraps every parsed line in a Python `Example` object,
which costs more than VW's own parsing (measured: 151 lines parse in 0.08 ms natively,
0.45 ms through the wrappers). The ranking and learning paths therefore use the binding
methods that `Workspace` itself is built on (`_parse`, `predict_multi`, `learn_multi`,
`_finish_example_multi_ex`). Every parsed batch is returned with `finish`, as VW
requires to recycle example memory. `tests/bandit/test_learner.py` checks these paths
against the public `Workspace.predict` API so a binding change cannot go unnoticed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pylibvw
from vowpalwabbit import Workspace

NativeExample = Any  # pylibvw.example; untyped binding object


def parse(workspace: Workspace, lines: Sequence[str]) -> list[NativeExample]:
    """Parse a multi-line example (shared line first). Release it with `finish`."""
    return pylibvw.vw._parse(workspace, "\n".join(lines))


def predict_pmf(workspace: Workspace, examples: Sequence[NativeExample]) -> list[float]:
    """Predict a `cb_explore_adf` example; the pmf is indexed like `examples[1:]`."""
    pylibvw.vw.predict_multi(workspace, list(examples))
    return examples[0].get_action_scores()


def action_costs(examples: Sequence[NativeExample]) -> list[float]:
    """VW's regression output (estimated cost) of each action after a prediction."""
    return [example.get_partial_prediction() for example in examples[1:]]


def learn(workspace: Workspace, lines: Sequence[str]) -> None:
    """Parse, learn and release one labelled multi-line example."""
    examples = parse(workspace, lines)
    try:
        pylibvw.vw.learn_multi(workspace, examples)
    finally:
        finish(workspace, examples)


def finish(workspace: Workspace, examples: list[NativeExample]) -> None:
    """Return parsed examples to VW's pool (otherwise memory grows)."""
    pylibvw.vw._finish_example_multi_ex(workspace, examples)
