from bench import bandit_raw_vw


def test_ccb_simulation_runs_through_the_simulator(capsys):
    # It crashed with a TypeError: the simulator passes each slate's outcomes to feedback().
    bandit_raw_vw.main(["--ccb-sim", "120", "--seed", "3"])
    out = capsys.readouterr().out
    assert "ccb" in out and "seed 3" in out


def test_latency_rows(capsys):
    bandit_raw_vw.main(["--candidates", "20", "--k", "3", "--repeats", "20"])
    out = capsys.readouterr().out
    for row in ("raw-predict", "learner-rank", "pyvw-reparse", "ccb-predict"):
        assert row in out
