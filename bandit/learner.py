"""The online learner: one VW `--cb_explore_adf` workspace ranking slates and learning rewards.

Slate strategy: per-slot contextual bandit, not `--ccb_explore_adf`
-------------------------------------------------------------------
Slot 0 is drawn from VW's pmf over all candidates; slot s is drawn from VW's pmf over the
candidates not yet placed (VW re-predicts on the smaller set, so epsilon-greedy and
SquareCB put their greedy mass on the best *remaining* item). The examples are parsed
once and re-predicted on subsets through `bandit.vw_binding`: a slate of 10 from 150
candidates takes about 1.5 ms including encoding (p50, bench/bandit_raw_vw.py; one raw
VW prediction over the same 150 is about 0.5 ms, one `--ccb_explore_adf` prediction of 10
slots about 2 ms, re-parsing the text for each slot through the public API about 5.5 ms).

Why not CCB: rewards arrive per item and asynchronously (a tick on the 3rd item minutes
later). A CCB learning example is the whole slate with every slot's outcome; learning
one slot needs the others' labels (or VW re-predicts them, which is not what was shown),
so rewards would have to be joined per slate and held until a window closes. With
per-slot CB each reward is one ordinary CB example — context, the slot's candidate set,
the item and its logged conditional probability — learnable the moment it arrives, and
replayable and evaluable (IPS per slot) from a flat log. Sampling also happens here with
a caller-supplied seed, so slates are reproducible, which CCB's internal RNG is not.
Learning quality is no worse: in the simulator (20k slates of 4, seed 7) per-slot CB
reached a cumulative CTR of 0.173 against 0.169 for CCB, although CCB was given the
whole slate's rewards at once (its favourable case).

Position: learning examples carry the slot as a linear shared feature (namespace S), which
absorbs position bias in the reward regression without affecting the ranking (a constant
per decision). Predictions use no slot, so `SlateItem.score` is the estimated reward of
the item as if it were shown first.

Ties (e.g. a fresh model scores everything 0): VW gives the greedy mass to the first
tied action, so candidates are shuffled with the caller's RNG before each prediction.

Thread-safety: a VW workspace is not thread-safe. `BanditLearner` serialises every
workspace call with a `threading.Lock`; its methods are synchronous and CPU-bound (about
a millisecond), so an asyncio server should call them through one dedicated thread
(`asyncio.to_thread` or a single-worker executor) and keep exactly one learner per
process. Never create a learner per request (about 2 ms to build a workspace).
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from vowpalwabbit import Workspace

from bandit import vw_binding
from bandit.checkpoints import Checkpoint, ModelState, valid_checkpoints, write_checkpoint
from bandit.features import ActionFeatures, ContextFeatures, FeatureEncoder
from bandit.slates import (
    LearnExample,
    Slate,
    SlateItem,
    checked_pmf,
    ensure_unique_ids,
    sample_index,
)

log = logging.getLogger(__name__)

Seed = int | np.random.Generator | None


class ModelClosed(RuntimeError):
    """The learner was closed; rank or learn with its replacement."""


@dataclass(frozen=True)
class LearnerConfig:
    """VW settings of a learner. Defaults were chosen with the simulator (20k-event runs,
    seeds 7 and 11; numbers in the README section of the bandit report).

    explorer: "squarecb" (default; SquareCB, `gamma_scale` 100, `gamma_exponent` 0.5) or
        "epsilon" (epsilon-greedy with `epsilon`). In the simulator SquareCB(100) beat
        epsilon 0.05 / 0.1 / 0.2 and SquareCB(10): it explores items in proportion to how
        close they are to the best one, and every candidate keeps a probability > 0.
        Rejected: regcb/regcbopt (ignore logged probabilities when learning; regcbopt
        emits an unnormalised vector) and `--elim` (negative probabilities, fresh model).
    interactions: quadratic namespace pairs (letters in `bandit.features`): stated
        preferences x product properties (QP: price band, style), session x properties
        (CP: device x AR), user id x category/brand (WK: tastes of shoppers without a
        profile), match x popularity/age (MN) and match x properties (MP). Wider sets
        (`UP UI WP CP VP XP`) learned more slowly: too many sparse crosses for the data.
    bits: hash table size (2^bits weights; 20 = 1M weights, about 16 MB).
    learning_rate / power_t: VW's `-l` and `--power_t` (0.25: the per-feature step decays
        more slowly than AdaGrad's 0.5, which learned faster online; 0 would never decay).
    cb_type: VW's estimator inside the bandit reduction ("mtr": regression on the chosen
        action, VW's default for ADF).
    clip_probability: VW's `--clip_p`, the floor on the probability VW divides by when
        weighting a learning example. With ~100 candidates an explored item can have
        probability ~0.001 and the greedy one ~0.9, so plain importance weighting lets
        one explored impression count as much as ~900 greedy ones; the model then learns
        from a handful of heavily weighted impressions and its quality depends on luck
        (simulator, SquareCB, cumulative CTR at 20k slates: 0.173 on seed 7 but 0.142 on
        seed 11, against 0.173 / 0.175 unweighted; with epsilon-greedy 0.1 and an early
        feature set, CTR after 10k slates was about 0.05 against 0.12). 1.0 makes
        learning an unweighted regression over every shown item — biased only through
        which items get shown, which a model of the reward given the features
        tolerates. The exact logged probabilities are still what `LearnExample` carries
        and what evaluation uses.
    extra_args: appended verbatim (for experiments).
    """

    explorer: Literal["epsilon", "squarecb"] = "squarecb"
    epsilon: float = 0.05
    gamma_scale: float = 100.0
    gamma_exponent: float = 0.5
    interactions: tuple[str, ...] = ("QP", "CP", "WK", "MN", "MP")
    bits: int = 20
    learning_rate: float = 0.5
    power_t: float = 0.25
    cb_type: str = "mtr"
    clip_probability: float = 1.0
    extra_args: tuple[str, ...] = field(default_factory=tuple)

    def vw_args(self) -> list[str]:
        """The VW command line for this configuration."""
        args = ["--cb_explore_adf", "--cb_type", self.cb_type, "--quiet"]
        args += ["--clip_p", repr(self.clip_probability)]
        if self.explorer == "epsilon":
            args += ["--epsilon", repr(self.epsilon)]
        elif self.explorer == "squarecb":
            args += [
                "--squarecb",
                "--gamma_scale",
                repr(self.gamma_scale),
                "--gamma_exponent",
                repr(self.gamma_exponent),
            ]
        else:
            raise ValueError(f"unknown explorer {self.explorer!r}")
        for pair in self.interactions:
            args += ["--interactions", pair]
        args += ["-b", str(self.bits), "-l", repr(self.learning_rate)]
        args += ["--power_t", repr(self.power_t), *self.extra_args]
        return args

    @classmethod
    def from_dict(cls, raw: dict) -> LearnerConfig:
        """Inverse of `dataclasses.asdict` (JSON turns tuples into lists)."""
        return cls(
            **{
                **raw,
                "interactions": tuple(raw.get("interactions", ())),
                "extra_args": tuple(raw.get("extra_args", ())),
            }
        )


class BanditLearner:
    """One VW contextual bandit: `rank` slates, `learn` rewards, `save`/`load_latest` state."""

    def __init__(
        self,
        config: LearnerConfig | None = None,
        *,
        encoder: FeatureEncoder | None = None,
        _model_path: Path | None = None,
        _run_id: str | None = None,
        _updates: int = 0,
        _last_sequence: int | None = None,
    ) -> None:
        self.config = config or LearnerConfig()
        self._encoder = encoder or FeatureEncoder()
        args = self.config.vw_args()
        if _model_path is not None:
            args += ["-i", str(_model_path)]
        self._workspace = Workspace(arg_list=args)
        self._lock = threading.Lock()
        self._closed = False
        self._run_id = _run_id or secrets.token_hex(4)
        self._updates = _updates
        self._last_sequence = _last_sequence

    # -- state -------------------------------------------------------------------------
    @property
    def updates(self) -> int:
        """Number of examples learned over the model's whole life (survives checkpoints)."""
        return self._updates

    @property
    def last_sequence(self) -> int | None:
        """Highest `LearnExample.sequence` learned so far (None if none carried one)."""
        return self._last_sequence

    @property
    def model_version(self) -> str:
        """`<run-id>:<updates>`; changes on every learned example."""
        return f"{self._run_id}:{self._updates}"

    # -- ranking -----------------------------------------------------------------------
    def rank(
        self,
        context: ContextFeatures,
        candidates: Sequence[ActionFeatures],
        k: int,
        *,
        seed: Seed = None,
    ) -> Slate:
        """Choose up to `k` candidates slot by slot (see module docs).

        Returns min(k, len(candidates)) items. Deterministic for a given model state and
        integer seed. Raises ValueError for k < 1, no candidates, or duplicate ids.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if not candidates:
            raise ValueError("cannot rank an empty candidate set")
        ensure_unique_ids(candidates)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        order = rng.permutation(len(candidates))
        shuffled = [candidates[i] for i in order]
        lines = [
            self._encoder.shared_line(context),
            *self._encoder.action_lines(context, shuffled),
        ]
        items: list[SlateItem] = []
        with self._lock:
            self._check_open()
            examples = vw_binding.parse(self._workspace, lines)
            try:
                shared, actions = examples[0], examples[1:]
                remaining = list(range(len(shuffled)))
                costs: list[float] = []
                for slot in range(min(k, len(shuffled))):
                    subset = [shared, *(actions[i] for i in remaining)]
                    pmf = checked_pmf(vw_binding.predict_pmf(self._workspace, subset))
                    if slot == 0:
                        costs = vw_binding.action_costs(examples)
                    pick = sample_index(pmf, rng)
                    chosen = remaining.pop(pick)
                    items.append(
                        SlateItem(
                            action_id=shuffled[chosen].action_id,
                            slot=slot,
                            probability=pmf[pick],
                            # +0.0 turns VW's -0.0 for unseen items into 0.0.
                            score=-costs[chosen] + 0.0,
                        )
                    )
            finally:
                vw_binding.finish(self._workspace, examples)
            version = self.model_version
        return Slate(items=tuple(items), model_version=version)

    def action_probabilities(
        self, context: ContextFeatures, candidates: Sequence[ActionFeatures]
    ) -> np.ndarray:
        """The policy's distribution over `candidates` (in the given order) for one slot.

        Used for off-policy evaluation. Ties go to the earliest candidate (no shuffle).
        """
        if not candidates:
            raise ValueError("cannot score an empty candidate set")
        ensure_unique_ids(candidates)
        lines = [
            self._encoder.shared_line(context),
            *self._encoder.action_lines(context, candidates),
        ]
        with self._lock:
            self._check_open()
            examples = vw_binding.parse(self._workspace, lines)
            try:
                return np.asarray(checked_pmf(vw_binding.predict_pmf(self._workspace, examples)))
            finally:
                vw_binding.finish(self._workspace, examples)

    # -- learning ----------------------------------------------------------------------
    def learn(self, example: LearnExample) -> bool:
        """Learn one reward. Returns False (and learns nothing) for an already-learned sequence.

        Examples with a `sequence` must arrive in increasing sequence order; one whose
        sequence is <= `last_sequence` is treated as a duplicate (this is what makes
        replay after a checkpoint exact). Raises ValueError for invalid examples.
        """
        lines = self.example_lines(example)
        with self._lock:
            self._check_open()
            if self._is_duplicate(example.sequence):
                return False
            vw_binding.learn(self._workspace, lines)
            self._updates += 1
            if example.sequence is not None:
                self._last_sequence = example.sequence
        return True

    def example_lines(self, example: LearnExample) -> list[str]:
        """The VW text of a labelled learning example (what `learn` parses and learns).
        Raises ValueError for invalid examples."""
        example.validate()
        label = f"0:{-float(example.reward)!r}:{float(example.probability)!r}"
        return [
            self._encoder.shared_line(example.context, slot=example.slot),
            *self._encoder.action_lines(
                example.context, example.candidates, labels={example.chosen_index(): label}
            ),
        ]

    def learn_many(self, examples: Iterable[LearnExample]) -> int:
        """Learn examples in order (replay, batch training); returns how many were learned."""
        return sum(1 for example in examples if self.learn(example))

    def _is_duplicate(self, sequence: int | None) -> bool:
        return (
            sequence is not None
            and self._last_sequence is not None
            and sequence <= self._last_sequence
        )

    # -- checkpoints -------------------------------------------------------------------
    def save(self, directory: str | Path, *, keep: int = 3) -> Checkpoint:
        """Write an atomic checkpoint into `directory`, keeping the newest `keep`.

        Ranking and learning are blocked only while VW writes its weights (~10 ms for
        a model of a few hundred kB); hashing, fsync and renames happen after.
        """

        def save_model(path: Path) -> ModelState:
            with self._lock:
                self._check_open()
                # Weights and counters form one snapshot of the same learned examples.
                self._workspace.save(str(path))
                return ModelState(self._updates, self._last_sequence)

        return write_checkpoint(
            Path(directory),
            save_model,
            run_id=self._run_id,
            vw_args=self.config.vw_args(),
            config=asdict(self.config),
            keep=keep,
        )

    def model_bytes(self) -> tuple[bytes, ModelState]:
        """The VW model (with its learning state) and the counters that belong to exactly
        those weights, for publishing the model somewhere other than a local directory."""
        with tempfile.TemporaryDirectory(prefix="shopgraph-vw-") as directory:
            path = Path(directory) / "model.vw"
            with self._lock:
                self._check_open()
                self._workspace.save(str(path))
                state = ModelState(self._updates, self._last_sequence)
            return path.read_bytes(), state

    @classmethod
    def from_model_bytes(
        cls,
        config: LearnerConfig,
        data: bytes,
        *,
        run_id: str,
        updates: int,
        last_sequence: int | None = None,
        encoder: FeatureEncoder | None = None,
    ) -> BanditLearner:
        """A learner restored from `model_bytes` output. The caller checks the bytes
        first (VW can abort the whole process on a corrupt model instead of raising)."""
        with tempfile.TemporaryDirectory(prefix="shopgraph-vw-") as directory:
            path = Path(directory) / "model.vw"
            path.write_bytes(data)
            return cls(
                config,
                encoder=encoder,
                _model_path=path,
                _run_id=run_id,
                _updates=updates,
                _last_sequence=last_sequence,
            )

    @property
    def run_id(self) -> str:
        """The id of this model's lineage (kept across checkpoints and snapshots)."""
        return self._run_id

    @classmethod
    def load_latest(
        cls, directory: str | Path, *, encoder: FeatureEncoder | None = None
    ) -> BanditLearner | None:
        """Restore the newest valid checkpoint in `directory`, or None if there is none.

        The restored learner keeps its run id, update counter and `last_sequence`; the
        caller then replays examples with sequence > `last_sequence` via `learn_many`.
        Corrupt or partial checkpoints are skipped with a logged warning.
        """
        for checkpoint in valid_checkpoints(Path(directory)):
            meta = checkpoint.metadata
            try:
                config = LearnerConfig.from_dict(meta.config)
                learner = cls(
                    config,
                    encoder=encoder,
                    _model_path=checkpoint.model_path,
                    _run_id=meta.run_id,
                    _updates=meta.updates,
                    _last_sequence=meta.last_sequence,
                )
            except (TypeError, ValueError, RuntimeError) as error:
                log.warning("ignoring checkpoint %s: %s", checkpoint.metadata_path.name, error)
                continue
            log.info("restored bandit model %s from %s", meta.model_version, checkpoint.model_path)
            return learner
        return None

    def close(self) -> None:
        """Release the VW workspace. Later calls raise `ModelClosed` (never touch freed
        memory), so a call racing a model swap fails cleanly."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._workspace.finish()

    def _check_open(self) -> None:
        if self._closed:
            raise ModelClosed("this model was closed (replaced by a newer one)")
