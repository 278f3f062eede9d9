import pytest

from bench.rounds import (
    DifferentData,
    EmptyRound,
    Spread,
    exit_on_different_data,
    order,
    ratio,
    require_same,
    run_rounds,
)


def test_rounds_alternate_the_order_and_every_key_is_measured_every_round():
    visits = []
    out = run_rounds(["a", "b"], 4, lambda key, i: visits.append((i, key)) or i)
    assert visits == [(0, "a"), (0, "b"), (1, "b"), (1, "a"), (2, "a"), (2, "b"), (3, "b"),
                      (3, "a")]  # fmt: skip
    assert out == {"a": [0, 1, 2, 3], "b": [0, 1, 2, 3]}
    assert order(["a", "b", "c"], 1) == ["b", "c", "a"]


def test_fewer_than_three_rounds_are_refused():
    with pytest.raises(ValueError, match="at least 3"):
        run_rounds(["a"], 2, lambda key, i: 1.0)


def test_ratios_are_taken_per_round_then_summarised():
    spread = ratio([10, 30, 20], [10, 10, 5])
    assert spread == Spread(median=3.0, low=1.0, high=4.0)
    assert spread.format(1) == "3.0 (1.0-4.0)"


def test_different_answers_raise_and_exit_with_status_1(capsys):
    require_same({"a": {"x": 1}, "b": {"x": 1}}, "same")
    with pytest.raises(DifferentData, match="b answered different data than a"):
        require_same({"a": {"x": 1}, "b": {"x": 2}}, "catalog")

    def bench():
        require_same({"a": [1], "b": [1, 2]}, "catalog")

    with pytest.raises(SystemExit) as exited:
        exit_on_different_data(bench)
    assert exited.value.code == 1
    assert "FAILED: servers answer different data" in capsys.readouterr().err


def test_a_round_with_nothing_measured_fails_clearly():
    with pytest.raises(EmptyRound, match="raise --seconds"):
        ratio([10, 12, 11], [10, 0, 9])
    with pytest.raises(SystemExit) as exited:
        exit_on_different_data(lambda: ratio([1, 1, 1], [1, 0, 1]))
    assert exited.value.code == 1
