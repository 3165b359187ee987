"""The report's calibration block shows a kept temperature through the claims ledger."""

from __future__ import annotations

from types import SimpleNamespace

from crispml.report._html import _calibration_block


def test_kept_temperature_is_shown_and_claimed():
    calibration = {
        "selection": {
            "kept": "temperature",
            "valid_log_loss": {"none": 0.71, "temperature": 0.64},
            "temperature": 1.7321,
        },
    }
    record = SimpleNamespace(detail=lambda name: calibration, images={})
    claimed = []

    def show(value, source, label):
        claimed.append((source.artifact, source.field, value))
        return f"{value:.3f}"

    block = _calibration_block(record, show)
    facts = dict(block.facts)
    assert facts["map kept"] == "temperature"
    assert facts["temperature"] == "1.732"
    assert ("evaluation/calibration.json", "selection.temperature", 1.7321) in claimed
    calibration["selection"] = {"kept": None, "valid_log_loss": {"none": 0.7}}
    assert "temperature" not in dict(_calibration_block(record, show).facts)
