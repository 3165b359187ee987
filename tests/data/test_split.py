from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import make_split
from crispml.exceptions import DataError
from crispml.spec import SplitSpec


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 400
    return pd.DataFrame(
        {
            "key": [f"k{i}" for i in range(n)],
            "group": rng.integers(0, 40, size=n),
            "when": pd.date_range("2021-01-01", periods=n, freq="D").to_numpy()[
                rng.permutation(n)
            ],
            "y": np.where(rng.random(n) < 0.2, "pos", "neg"),
        }
    )


def test_parts_are_disjoint_and_complete(frame):
    split = make_split(
        frame, SplitSpec(strategy="stratified", test_size=0.2, valid_size=0.2), target="y"
    )
    parts = [set(split.train), set(split.valid), set(split.test)]
    assert sum(map(len, parts)) == len(frame)
    assert set().union(*parts) == set(range(len(frame)))
    assert len(split.test) == 80 and len(split.valid) == 80


def test_same_seed_same_split_and_hash(frame):
    spec = SplitSpec(strategy="stratified", seed=3)
    a, b = make_split(frame, spec, target="y"), make_split(frame, spec, target="y")
    assert a.sha256 == b.sha256 and a.test_ids == b.test_ids
    c = make_split(frame, SplitSpec(strategy="stratified", seed=4), target="y")
    assert c.sha256 != a.sha256


def test_stratified_keeps_class_share(frame):
    split = make_split(frame, SplitSpec(strategy="stratified"), target="y")
    overall = (frame["y"] == "pos").mean()
    for part in (split.train, split.valid, split.test):
        assert abs((frame["y"].iloc[part] == "pos").mean() - overall) < 0.02


def test_group_strategy_keeps_groups_whole(frame):
    split = make_split(frame, SplitSpec(strategy="group", group_column="group"), target="y")
    groups = [set(frame["group"].iloc[p]) for p in (split.train, split.valid, split.test)]
    assert (
        not (groups[0] & groups[2]) and not (groups[1] & groups[2]) and not (groups[0] & groups[1])
    )


def test_time_strategy_tests_on_the_latest_rows(frame):
    split = make_split(frame, SplitSpec(strategy="time", time_column="when"), target="y")
    times = frame["when"]
    assert times.iloc[split.train].max() < times.iloc[split.valid].min()
    assert times.iloc[split.valid].max() < times.iloc[split.test].min()


def test_test_ids_use_the_id_column(frame):
    split = make_split(frame, SplitSpec(strategy="random"), target="y", id_column="key")
    assert split.test_ids == [f"k{i}" for i in split.test]


def test_errors(frame):
    with pytest.raises(DataError, match=r"split\.group_column = 'nope' is not a column"):
        make_split(frame, SplitSpec(strategy="group", group_column="nope"), target="y")
    tiny = pd.DataFrame({"x": range(10), "y": ["a"] * 9 + ["b"]})
    with pytest.raises(DataError, match="class 'b' has 1 row"):
        make_split(tiny, SplitSpec(strategy="stratified"), target="y")


def test_time_gap_embargoes_rows_before_each_held_out_part(frame):
    spec = SplitSpec(strategy="time", time_column="when", gap_days=10)
    split = make_split(frame, spec, target="y")
    times = frame["when"]
    day = pd.Timedelta(days=1)
    assert times.iloc[split.valid].min() - times.iloc[split.train].max() > 10 * day
    assert times.iloc[split.test].min() - times.iloc[split.valid].max() > 10 * day
    assert len(split.test) == 80 and len(split.embargoed) == 20  # ten days, twice
    parts = [set(split.train), set(split.valid), set(split.test), set(split.embargoed)]
    assert sum(map(len, parts)) == len(frame) and set().union(*parts) == set(range(len(frame)))
    record = split.to_dict()
    assert record["sizes"]["embargoed"] == 20 and record["embargoed"] == split.embargoed.tolist()
    plain = make_split(frame, SplitSpec(strategy="time", time_column="when"), target="y")
    assert plain.sha256 != split.sha256 and len(plain.embargoed) == 0


def test_time_split_keeps_ties_together_and_untimed_rows_in_training():
    when = ["2020-01-01"] * 50 + ["2020-02-01"] * 30 + ["2020-03-01"] * 20 + [None] * 5
    frame = pd.DataFrame({"when": when, "y": [0, 1] * 52 + [0]})
    split = make_split(
        frame, SplitSpec(strategy="time", time_column="when", test_size=0.15), target="y"
    )
    assert len(split.test) == 20  # 15 % of the timed rows reaches into the last date only
    assert set(range(100, 105)) <= set(split.train)  # rows without a time: training
    dates = frame["when"].iloc[split.valid].unique().tolist()
    assert dates == ["2020-02-01"] and len(split.valid) == 30  # the whole tie, not a part


def test_time_gap_longer_than_the_history_is_an_error(frame):
    spec = SplitSpec(strategy="time", time_column="when", gap_days=5000)
    with pytest.raises(DataError, match="gap_days = 5000 leaves no rows"):
        make_split(frame, spec, target="y")
