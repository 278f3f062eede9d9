"""The recommendations package's boundaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_cart_checkout_and_ar_record_interactions_without_loading_the_learner():
    """They import the reward table and the decision lookup, never the runtime, the learner
    or Vowpal Wabbit (checked in a fresh interpreter: the test process has them all)."""
    probe = (
        "import json, sys\n"
        "import services.cart, services.checkout, services.ar_sessions, services.interactions\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    forbidden = {
        "vowpalwabbit",
        "bandit.learner",
        "services.recommendations.runtime",
        "services.recommendations.learner",
        "services.recommendations.learning",
        "services.recommendations.model",
    }
    assert loaded & forbidden == set()
    assert "services.recommendations.rewards" in loaded  # what they do use


def test_no_module_global_holds_the_runtime():
    """The runtime lives on the request Context; nothing installs it in a module."""
    sources = [
        path.read_text()
        for folder in ("services", "resolvers", "schema", "web")
        for path in (ROOT / folder).rglob("*.py")
    ]
    assert not any("recommender.current(" in s or "recommender.install(" in s for s in sources)
