"""The Ray backend: trials fitted as Ray tasks on a local cluster, same contract as local."""

from __future__ import annotations

import sys

import pytest

from crispml.exceptions import MissingDependencyError, SearchError, SpecError
from crispml.search import search_models
from crispml.spec import SearchSpec

FAMILIES = ("elastic_net", "lightgbm")


def _search(data, **kwargs):
    schema, Xt, yt, Xv, yv = data
    options = {
        "task": "binary", "metric": "roc_auc", "families": FAMILIES, "seed": 0,
        "deterministic": True, "max_trials": 5, "n_jobs": 1, "ensemble": False, **kwargs,
    }  # fmt: skip
    return search_models(Xt, yt, Xv, yv, schema=schema, **options)


def _leaderboard(result):
    return [(c.name, c.family, c.params, c.status, c.valid_score) for c in result.candidates]


@pytest.fixture
def local_ray():
    """A two-CPU Ray cluster on 127.0.0.1 for one test, shut down afterwards."""
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False,
        _node_ip_address="127.0.0.1", namespace="crispml-test",
    )  # fmt: skip
    try:
        yield ray
    finally:
        ray.shutdown()


def test_deterministic_ray_search_has_the_local_leaderboard(binary_data, local_ray, monkeypatch):
    from crispml.search._ray import RayRunner

    sent = []
    run_many = RayRunner.run_many

    def counting(self, requests):
        sent.append(len(requests))
        return run_many(self, requests)

    monkeypatch.setattr(RayRunner, "run_many", counting)
    local = _search(binary_data)
    assert sent == []  # the local backend never touches Ray
    remote = _search(binary_data, backend="ray")
    assert sent and set(sent) == {1}  # deterministic: one trial at a time, in ask order
    assert local.validation["mode"] == "cv"  # five folds: the pruner is consulted too
    trials = [c for c in remote.candidates if not c.baseline]
    assert len(trials) == 5
    assert {c.family for c in trials} == set(FAMILIES)
    assert _leaderboard(remote) == _leaderboard(local)
    assert remote.best.name == local.best.name
    assert local_ray.is_initialized()  # the search reused the open connection, left it open


def test_unreachable_ray_address_is_one_clear_search_error(binary_data):
    pytest.importorskip("ray")
    with pytest.raises(SearchError, match=r"ray://127\.0\.0\.1:1.*no Ray cluster answers") as err:
        _search(binary_data, backend="ray", ray_address="ray://127.0.0.1:1")
    assert "\n" not in str(err.value)


def test_ray_backend_without_ray_names_the_extra(binary_data, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(MissingDependencyError, match=r'pip install "crispml\[ray\]"'):
        _search(binary_data, backend="ray")


def test_unknown_backend_is_a_spec_error(binary_data):
    with pytest.raises(SpecError, match="not a backend"):
        _search(binary_data, backend="dask")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ray_address": "auto"}, "search.backend is 'local'"),
        ({"backend": "ray", "ray_address": "head:10001"}, "not a Ray address"),
        ({"backend": "cluster"}, "backend"),
    ],
)
def test_spec_rejects_bad_ray_settings(fields, message):
    with pytest.raises(ValueError, match=message):
        SearchSpec(**fields)


@pytest.mark.parametrize("address", ["auto", "ray://head:10001", "ray://10.0.0.5"])
def test_spec_accepts_ray_addresses(address):
    spec = SearchSpec(backend="ray", ray_address=address)
    assert (spec.backend, spec.ray_address) == ("ray", address)


def test_timed_ray_search_keeps_one_trial_per_cpu_in_flight(binary_data, local_ray, monkeypatch):
    from crispml.search._ray import RayRunner

    flying, peak, waited = set(), [], []
    submit, collect, next_done = RayRunner.submit, RayRunner._collect, RayRunner.next_done

    def counting_submit(self, request):
        ticket = submit(self, request)
        flying.add(ticket)
        peak.append(len(flying))
        return ticket

    def counting_collect(self, ticket):  # every result, whether waited for or in order
        flying.discard(ticket)
        return collect(self, ticket)

    def counting_done(self, tickets):
        waited.append(len(tickets))
        return next_done(self, tickets)

    monkeypatch.setattr(RayRunner, "submit", counting_submit)
    monkeypatch.setattr(RayRunner, "_collect", counting_collect)
    monkeypatch.setattr(RayRunner, "next_done", counting_done)
    result = _search(
        binary_data, backend="ray", deterministic=False, max_trials=6, time_budget_s=600.0
    )
    trials = [c for c in result.candidates if not c.baseline]
    assert max(peak) == 2  # two CPUs: two tuning trials in flight at once, never more
    assert max(waited) == 2  # the tuning waited on two trials at a time (ray.wait)
    assert not flying  # every trial sent came back
    assert len(trials) == 6
    assert all(c.status in ("ok", "pruned") for c in trials)
    assert result.best.valid_score is not None


class _SlowFirstRunner:
    """A two-worker runner whose first queued trial finishes only after all the others."""

    width = 2

    def __init__(self, data):
        self.data, self.outcomes, self.queued, self.log = data, {}, [], []

    def submit(self, request, *, queued=True):
        from crispml.search._runner import fit_request

        ticket = len(self.outcomes)
        self.outcomes[ticket] = fit_request(request, self.data)
        if queued:
            self.queued.append(ticket)
            self.log.append(("sent", ticket))
        return ticket

    def next_done(self, tickets):
        slow = self.queued[0]
        ticket = next((t for t in reversed(tickets) if t != slow), slow)
        self.log.append(("done", ticket))
        return ticket, self.outcomes.pop(ticket)

    def run_many(self, requests):  # the portfolio's trials, one at a time
        return [self.outcomes.pop(self.submit(r, queued=False)) for r in requests]

    def close(self):
        pass


def test_a_slow_trial_holds_one_worker_while_the_other_goes_on(binary_data, monkeypatch):
    from crispml.search._ray import RayRunner

    made = []

    def fake_connect(cls, address, data):
        made.append(_SlowFirstRunner(data))
        return made[-1]

    monkeypatch.setattr(RayRunner, "connect", classmethod(fake_connect))
    result = _search(
        binary_data, backend="ray", deterministic=False, max_trials=8, time_budget_s=600.0
    )
    runner = made[0]
    slow = runner.queued[0]
    log = runner.log
    while_slow = log[log.index(("sent", slow)) + 1 : log.index(("done", slow))]
    # batches of two would wait for the slow trial; the queue refills the free worker
    assert sum(kind == "sent" for kind, _ in while_slow) >= 3
    assert log[-1] == ("done", slow) and not runner.outcomes
    assert max(_in_flight(log)) == 2
    trials = [c for c in result.candidates if not c.baseline]
    assert len(trials) == 8 and all(c.status in ("ok", "pruned") for c in trials)


def _in_flight(log):
    count, counts = 0, []
    for kind, _ in log:
        count += 1 if kind == "sent" else -1
        counts.append(count)
    return counts
