"""Atomic on-disk checkpoints of a learner: a VW model file plus JSON metadata.

Layout of a checkpoint directory::

    bandit-000000012345-1732560000000000000.vw    VW model (`Workspace.save`, keeps learning state)
    bandit-000000012345-1732560000000000000.json  metadata, written last = the commit marker

A checkpoint exists once its JSON exists. Both files are written to a temporary name,
fsynced and renamed, so a crash leaves either a complete checkpoint or none. The JSON
records the model's SHA-256; a model whose bytes do not match is never handed to VW
(VW can abort the whole process on a corrupt model instead of raising).

`last_sequence` is the highest `LearnExample.sequence` contained in the model: the caller
replays exactly the examples with a larger sequence. Checkpoints assume one writer per
directory (the process that owns the learner).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_PREFIX = "bandit-"
_STALE_TMP_SECONDS = 3600


@dataclass(frozen=True)
class CheckpointMetadata:
    """What a checkpoint holds besides the weights; stored as the checkpoint's JSON."""

    run_id: str
    updates: int
    last_sequence: int | None
    vw_args: list[str]
    config: dict[str, Any]
    created_at: str
    model_file: str
    model_sha256: str
    model_bytes: int
    format: int = FORMAT_VERSION

    @property
    def model_version(self) -> str:
        """The learner's `model_version` at save time."""
        return f"{self.run_id}:{self.updates}"


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint: its metadata and the path of its model file."""

    metadata: CheckpointMetadata
    model_path: Path
    metadata_path: Path


@dataclass(frozen=True)
class ModelState:
    """The learner's counters at the instant its weights were written."""

    updates: int
    last_sequence: int | None


def write_checkpoint(
    directory: Path,
    save_model: Callable[[Path], ModelState],
    *,
    run_id: str,
    vw_args: list[str],
    config: dict[str, Any],
    keep: int = 3,
) -> Checkpoint:
    """Write a checkpoint atomically and prune all but the newest `keep`.

    `save_model(path)` must write the VW model to `path` and return the counters that
    belong to exactly those weights (the learner holds its lock for just that call;
    hashing, fsync and renames happen outside it).
    """
    directory.mkdir(parents=True, exist_ok=True)
    tmp_model = directory / f".tmp-{uuid.uuid4().hex}.vw"
    tmp_meta = tmp_model.with_suffix(".json")
    try:
        state = save_model(tmp_model)
        updates, last_sequence = state.updates, state.last_sequence
        stem = f"{_PREFIX}{updates:012d}-{time.time_ns()}"
        model_path = directory / f"{stem}.vw"
        metadata_path = directory / f"{stem}.json"
        _fsync_file(tmp_model)
        os.replace(tmp_model, model_path)
        metadata = CheckpointMetadata(
            run_id=run_id,
            updates=updates,
            last_sequence=last_sequence,
            vw_args=list(vw_args),
            config=config,
            created_at=datetime.now(UTC).isoformat(),
            model_file=model_path.name,
            model_sha256=_sha256(model_path),
            model_bytes=model_path.stat().st_size,
        )
        tmp_meta.write_text(json.dumps(asdict(metadata), indent=2, sort_keys=True))
        _fsync_file(tmp_meta)
        os.replace(tmp_meta, metadata_path)
        _fsync_dir(directory)
    finally:
        for leftover in (tmp_model, tmp_meta):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    _prune(directory, keep=keep)
    return Checkpoint(metadata, model_path, metadata_path)


def valid_checkpoints(directory: Path) -> Iterator[Checkpoint]:
    """Verified checkpoints, newest first; invalid ones are skipped with a warning."""
    if not directory.is_dir():
        return
    for metadata_path in _metadata_files_newest_first(directory):
        try:
            metadata = _read_metadata(metadata_path)
            model_path = directory / metadata.model_file
            if model_path.parent != directory or not model_path.is_file():
                raise ValueError(f"model file {metadata.model_file!r} is missing")
            if model_path.stat().st_size != metadata.model_bytes:
                raise ValueError("model file size does not match its metadata")
            if _sha256(model_path) != metadata.model_sha256:
                raise ValueError("model file checksum does not match its metadata")
        except (OSError, ValueError, TypeError, KeyError) as error:
            log.warning("ignoring checkpoint %s: %s", metadata_path.name, error)
            continue
        yield Checkpoint(metadata, model_path, metadata_path)


def _read_metadata(path: Path) -> CheckpointMetadata:
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"unreadable metadata ({error})") from error
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_VERSION:
        raise ValueError("unknown metadata format")
    metadata = CheckpointMetadata(**raw)
    if not isinstance(metadata.updates, int) or metadata.updates < 0:
        raise ValueError("bad update counter")
    if metadata.last_sequence is not None and not isinstance(metadata.last_sequence, int):
        raise ValueError("bad last_sequence")
    if not isinstance(metadata.vw_args, list) or not all(
        isinstance(a, str) for a in metadata.vw_args
    ):
        raise ValueError("bad vw_args")
    return metadata


def _metadata_files_newest_first(directory: Path) -> list[Path]:
    # Names embed zero-padded update counts then a nanosecond time, so the
    # lexicographic order is (updates, time) order.
    return sorted(directory.glob(f"{_PREFIX}*.json"), key=lambda p: p.name, reverse=True)


def _prune(directory: Path, *, keep: int) -> None:
    metadata_files = _metadata_files_newest_first(directory)
    kept_models = {p.with_suffix(".vw").name for p in metadata_files[:keep]}
    for stale in metadata_files[keep:]:
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    # Model files without a kept metadata file are pruned or orphans of a crashed save.
    for model in directory.glob(f"{_PREFIX}*.vw"):
        if model.name not in kept_models:
            with contextlib.suppress(FileNotFoundError):
                model.unlink()
    # Temporary files of a save that crashed (old enough not to be one in progress).
    for leftover in directory.glob(".tmp-*"):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - leftover.stat().st_mtime > _STALE_TMP_SECONDS:
                leftover.unlink()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    # Makes the renames durable; not supported on every platform/filesystem.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
