import pytest

from crispml.evaluate import check_criterion, verdict


@pytest.mark.parametrize(
    ("op", "threshold", "interval", "expected"),
    [
        (">=", 0.8, {"estimate": 0.85, "low": 0.81, "high": 0.9}, "pass"),
        (">=", 0.8, {"estimate": 0.75, "low": 0.7, "high": 0.79}, "fail"),
        (">=", 0.8, {"estimate": 0.82, "low": 0.78, "high": 0.86}, "inconclusive"),
        ("<=", 0.1, {"estimate": 0.05, "low": 0.02, "high": 0.08}, "pass"),
        ("<=", 0.1, {"estimate": 0.2, "low": 0.15, "high": 0.25}, "fail"),
        ("<", 0.1, {"estimate": 0.08, "low": 0.05, "high": 0.1}, "inconclusive"),
        (">", 0.5, {"estimate": 0.6, "low": None, "high": None}, "pass"),
    ],
)
def test_check_criterion(op, threshold, interval, expected):
    assert check_criterion(op, threshold, interval) == expected


def test_overall_go_only_when_every_criterion_passes():
    measured = {
        "roc_auc": {"estimate": 0.9, "low": 0.86, "high": 0.93},
        "demographic_parity_difference": {"estimate": 0.12, "low": 0.05, "high": 0.2},
    }
    assert verdict({"roc_auc": ">= 0.8"}, measured).overall == "go"
    both = verdict({"roc_auc": ">= 0.8", "demographic_parity_difference": "<= 0.1"}, measured)
    assert both.overall == "no-go"
    assert [r.result for r in both.criteria] == ["pass", "inconclusive"]
    assert both.counts == {"pass": 1, "fail": 0, "inconclusive": 1}


def test_unknown_and_latency_criteria_are_inconclusive_with_a_reason():
    out = verdict({"rocauc": ">= 0.8", "latency_p99_ms": "<= 50"}, {"roc_auc": {"estimate": 1}})
    unknown, latency = out.criteria
    assert unknown.result == "inconclusive" and "roc_auc" in unknown.note
    assert "deployment" in latency.note
    assert out.overall == "no-go"
