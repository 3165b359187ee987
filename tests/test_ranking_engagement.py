"""Ranking end to end: query split, audit, ranker search, evaluation, card, ONNX, /v1/rank."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import numpy as np
import pandas as pd
import pytest

from crispml import Project
from crispml.deploy._latency import free_port, running_server
from crispml.evaluate import RankingEvaluation
from crispml.exceptions import ReportError
from crispml.report import check_claims, verify_run, write_report
from crispml.serve import app_from_bundle
from crispml.spec import spec_from_dict

N_QUERIES, N_CANDIDATES = 60, 10


def queries(seed: int = 0) -> pd.DataFrame:
    """Candidates whose graded relevance (0-3) is driven by two of their features."""
    rng = np.random.default_rng(seed)
    n = N_QUERIES * N_CANDIDATES
    quality, freshness, noise = rng.normal(size=(3, n))
    latent = 1.5 * quality + freshness + 0.3 * rng.normal(size=n)
    return pd.DataFrame(
        {
            "query_id": np.repeat([f"q{i:02d}" for i in range(N_QUERIES)], N_CANDIDATES),
            "quality": quality.round(4),
            "freshness": freshness.round(4),
            "noise": noise.round(4),
            "site": rng.choice(["news", "blog", "shop"], n),
            "relevance": np.digitize(latent, [0.5, 1.5, 2.5]),
        }
    )


@pytest.fixture(scope="module")
def ranking_run(tmp_path_factory):
    spec = spec_from_dict(
        {
            "name": "search-results",
            "problem": {
                "task": "ranking",
                "target": "relevance",
                "group_column": "query_id",
                "success_criteria": {"ndcg": "beats_baseline", "map": ">= 0.5"},
            },
            "data": {"source": "inline"},
            "search": {"max_trials": 3, "deterministic": True, "n_jobs": 1},
            "evaluation": {"bootstrap": 200},
            "deployment": {"latency_sla_ms": {"p99": 1000}},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    base = tmp_path_factory.mktemp("ranking")
    return Project(spec, base_dir=base, data=queries()).run()


@pytest.mark.slow
def test_no_query_spans_the_split(ranking_run):
    split = json.loads((ranking_run.path / "data/split.json").read_text())
    frame = queries()
    parts = {p: set(frame["query_id"].iloc[split[p]]) for p in ("train", "valid", "test")}
    assert parts["train"] and parts["valid"] and parts["test"]
    assert not parts["train"] & parts["test"]
    assert not parts["train"] & parts["valid"] and not parts["valid"] & parts["test"]
    schema = json.loads((ranking_run.path / "model/schema.json").read_text())
    assert "query_id" not in schema["features"]  # the query id is no feature


@pytest.mark.slow
def test_delivered_ranker_beats_random_with_intervals_over_queries(ranking_run):
    result = RankingEvaluation.read(ranking_run.path)
    assert result.ranker in {"lightgbm_ranker", "xgboost_ranker"} and result.k == 10
    ndcg, ap = result.test["ndcg"], result.test["map"]
    random = result.baselines["random"]["ndcg"]
    assert ndcg.estimate > random.estimate + 0.15
    for est in (ndcg, ap, random):
        assert est.low <= est.estimate <= est.high
    assert ndcg.n == result.n_queries_scored <= result.n_queries == 12  # 20% of 60 queries
    frame = pd.read_parquet(ranking_run.path / result.predictions)
    assert {"row_id", "group", "relevance", "score"} <= set(frame.columns)
    assert len(frame) == result.n_rows == 12 * N_CANDIDATES
    board = ranking_run.leaderboard
    assert set(board.loc[board["baseline"], "model"]) == {"best_feature", "random"}
    chosen = board.loc[board["selected"]].iloc[0]
    assert not chosen["baseline"]
    assert chosen["valid_score"] == board.loc[~board["baseline"], "valid_score"].max()
    assert result.floor == "best_feature"  # chosen on validation over random order
    assert result.vs_floor.low <= result.vs_floor.estimate <= result.vs_floor.high
    criteria = {c.name: c for c in ranking_run.verdict.criteria}
    assert set(criteria) == {"ndcg_vs_baseline", "map"}
    assert criteria["ndcg_vs_baseline"].estimate == result.vs_floor.estimate
    assert criteria["map"].result == "pass"


@pytest.mark.slow
def test_card_figures_are_recomputed_from_the_saved_scores(ranking_run):
    card = (ranking_run.path / "report/model_card.md").read_text()
    assert "| NDCG@10 |" in card and "baseline: random order" in card and "/v1/rank" in card
    checked, bad = check_claims(ranking_run.path)
    assert "Improvement of NDCG over the baseline chosen on validation" in card
    assert checked >= 21 and bad == []
    assert verify_run(ranking_run.path).ok
    with pytest.raises(ReportError, match="ranking run"):
        write_report(ranking_run.path)


@pytest.mark.slow
def test_onnx_parity_recorded_and_rank_served_over_http(ranking_run):
    parity = json.loads((ranking_run.path / "deploy/parity.json").read_text())
    assert parity["task"] == "ranking" and parity["passed"]
    assert parity["max_abs_prob_diff"] < 1e-4 and parity["queries_reordered"] == 0
    assert parity["n_queries"] == 12
    frame = queries()
    query = frame[frame["query_id"] == "q00"].drop(columns=["query_id", "relevance"])
    candidates = query.to_dict(orient="records")
    with running_server(app_from_bundle(ranking_run.path)) as url:
        good = httpx.post(f"{url}/v1/rank", json={"candidates": candidates}, timeout=10)
        empty = httpx.post(f"{url}/v1/rank", json={"candidates": []}, timeout=10)
        typo = [{**candidates[0]}]
        typo[0]["qualty"] = typo[0].pop("quality")
        misspelt = httpx.post(f"{url}/v1/rank", json={"candidates": typo}, timeout=10)
        wrapper = httpx.post(f"{url}/v1/rank", json={"candidate": candidates}, timeout=10)
    assert good.status_code == 200
    body = good.json()
    scores = np.array([c["score"] for c in body["candidates"]])
    native = ranking_run.predict_output(query)
    assert np.abs(scores - native).max() < 1e-4
    assert body["order"] == np.argsort(-scores, kind="stable").tolist()
    assert sorted(c["rank"] for c in body["candidates"]) == list(range(1, N_CANDIDATES + 1))
    assert body["candidates"][body["order"][0]]["rank"] == 1
    assert empty.status_code == 422 and "candidates is empty" in empty.json()["detail"][0]["msg"]
    assert misspelt.status_code == 422
    locs = [e["loc"] for e in misspelt.json()["detail"]]
    assert ["body", "candidates", 0, "qualty"] in locs
    assert wrapper.status_code == 422
    assert wrapper.json()["detail"][0]["msg"].startswith('expected {"candidates": [{...}, ...]}')


@pytest.mark.slow
def test_crispml_serve_starts_on_a_ranking_run_and_answers(ranking_run, tmp_path):
    port = free_port()
    log = tmp_path / "log.sqlite"
    command = [sys.executable, "-m", "crispml", "serve", str(ranking_run.path)]
    command += ["--port", str(port), "--log-path", str(log)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # up to a minute for the process to import and verify the bundle
            if server.poll() is not None:
                pytest.fail(server.stdout.read().decode())
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        frame = queries()
        rows = frame[frame["query_id"] == "q07"].drop(columns=["query_id", "relevance"])
        answer = httpx.post(
            f"{url}/v1/rank", json={"candidates": rows.to_dict(orient="records")}, timeout=10
        )
        metadata = httpx.get(f"{url}/v1/metadata", timeout=10).json()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert answer.status_code == 200 and len(answer.json()["order"]) == N_CANDIDATES
    assert metadata["task"] == "ranking" and metadata["card"]["query_column"] == "query_id"


@pytest.mark.slow
def test_a_deterministic_ranking_run_replays_identically(tmp_path):
    from crispml._replay import replay_run

    queries().to_csv(tmp_path / "results.csv", index=False)
    spec = spec_from_dict(
        {
            "name": "replayed",
            "problem": {"task": "ranking", "target": "relevance", "group_column": "query_id"},
            "data": {"source": "results.csv"},
            "search": {"max_trials": 3, "deterministic": True, "n_jobs": 1},
            "evaluation": {"bootstrap": 100},
            "deployment": {"format": "none"},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    run = Project(spec, base_dir=tmp_path).run()
    replay = replay_run(run.path, workdir=tmp_path / "replay")
    assert replay.identical and replay.data_matches and replay.n_rows == 12 * N_CANDIDATES
    card = (run.path / "report/model_card.md").read_text()
    assert "Not exported (deployment.format: none)" in card
