"""Model snapshots: in the database or a `file://` store, checked, fenced by term, pruned."""

from __future__ import annotations

import pytest

from bandit.learner import BanditLearner
from models import ModelSnapshot
from services.recommendations.election import begin_term, current_term
from services.recommendations.model import ServingModel, VWThread
from services.recommendations.snapshots import CorruptSnapshot, Position, SnapshotStore


def _model(learned: int = 4) -> tuple[bytes, str, Position]:
    """A model's bytes, version and a read position (the store does not look inside)."""
    model = BanditLearner()
    data, state = model.model_bytes()
    model.close()
    position = Position(txid=0, reward_id=learned, learned=learned)
    return data, f"{model.run_id}:{state.updates}", position


@pytest.fixture(params=["database", "file"])
def store(request, settings, tmp_path) -> SnapshotStore:
    url = "" if request.param == "database" else f"file://{tmp_path / 'models'}"
    return SnapshotStore(
        settings.model_copy(update={"snapshot_store_url": url, "snapshot_keep": 2})
    )


async def test_a_published_snapshot_is_loaded_by_a_serving_process(app, catalog, store, tmp_path):
    data, version, position = _model()
    term = await current_term()
    snapshot = await store.publish(
        term=term, model_version=version, config={}, position=position, data=data
    )
    assert snapshot is not None and snapshot.position == position
    row = await ModelSnapshot.get(id=snapshot.version)
    if store.objects is None:
        assert row.model == data and row.location is None
    else:  # the bytes are a file on the shared volume; the row names and checks them
        assert row.model is None and (tmp_path / "models" / row.location).read_bytes() == data
    assert await store.read(snapshot) == data

    thread = VWThread("test-serving")
    serving = ServingModel(store, thread)
    try:
        assert await serving.refresh("start")
        assert serving.version == snapshot.version
        assert serving.learner.model_version == version
        assert not await serving.refresh("poll")  # nothing newer
    finally:
        serving.close()
        thread.close()


async def test_damaged_bytes_are_never_loaded_and_start_falls_back(app, catalog, store, tmp_path):
    data, version, position = _model()
    term = await current_term()
    older = await store.publish(
        term=term, model_version=version, config={}, position=position, data=data
    )
    newer = await store.publish(
        term=term, model_version=version, config={}, position=position, data=data
    )
    damaged = data[:-10] + b"0123456789"
    if store.objects is None:
        await ModelSnapshot.filter(id=newer.version).update(model=damaged)
    else:
        (tmp_path / "models" / newer.location).write_bytes(damaged)
    with pytest.raises(CorruptSnapshot):
        await store.read(newer)
    thread = VWThread("test-serving")
    serving = ServingModel(store, thread)
    try:
        assert await serving.refresh("start")
        assert serving.version == older.version  # the newest is damaged: the one before
        assert not await serving.refresh("poll")  # and a running process keeps its model
    finally:
        serving.close()
        thread.close()


async def test_a_learner_whose_term_is_over_cannot_publish(app, catalog, store, tmp_path):
    data, version, position = _model()
    term = await current_term()
    before = await ModelSnapshot.all().count()
    await begin_term()  # another process won the lock meanwhile
    try:
        assert (
            await store.publish(
                term=term, model_version=version, config={}, position=position, data=data
            )
            is None
        )
        assert await ModelSnapshot.all().count() == before
        if store.objects is not None:
            assert list((tmp_path / "models").glob("*.vw")) == []  # no orphan left behind
    finally:
        async with app.state.recommender.learning_paused():  # the app's learner: a new term
            pass


async def test_only_the_newest_snapshots_are_kept(app, catalog, store, tmp_path):
    data, version, position = _model()
    term = await current_term()
    published = [
        await store.publish(
            term=term,
            model_version=version,
            config={},
            position=position,
            data=data,
        )
        for _ in range(4)
    ]
    await store.prune()
    assert set(await ModelSnapshot.all().values_list("id", flat=True)) == {
        s.version for s in published[-2:]
    }
    if store.objects is not None:
        assert sorted(p.name for p in (tmp_path / "models").glob("*.vw")) == sorted(
            s.location for s in published[-2:]
        )


async def test_a_take_over_publishes_in_a_new_term_and_fences_the_old_one(app, catalog, store):
    data, version, position = _model()
    term = await current_term()
    recorded = []

    async def along(snapshot):
        recorded.append((snapshot.version, await current_term()))

    tuned = await store.publish(
        term=0, model_version=version, config={"learning_rate": 2.0}, position=position,
        data=data, take_over="tuner:test", along=along,
    )  # fmt: skip
    assert tuned is not None and tuned.term == term + 1 == await current_term()
    assert recorded == [(tuned.version, term + 1)]  # inside the transaction, after the bump
    assert (await store.newest()).config == {"learning_rate": 2.0}
    # The learner of the old term can no longer publish.
    assert (
        await store.publish(
            term=term, model_version=version, config={}, position=position, data=data
        )
        is None
    )
    assert (await store.newest()).version == tuned.version


async def test_a_take_over_whose_record_fails_publishes_nothing(app, catalog, store, tmp_path):
    data, version, position = _model()
    term = await current_term()
    before = await store.newest()

    async def failing(snapshot):
        raise RuntimeError("the promotion row could not be written")

    with pytest.raises(RuntimeError, match="promotion row"):
        await store.publish(
            term=0, model_version=version, config={}, position=position, data=data,
            take_over="tuner:test", along=failing,
        )  # fmt: skip
    assert await current_term() == term
    after = await store.newest()
    assert (after.version if after else None) == (before.version if before else None)
    if store.objects is not None:  # no orphaned model file either
        assert not any((tmp_path / "models").glob("snapshot-*"))
