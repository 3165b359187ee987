"""Long tables: every figure printed through the ledger is in the table shown."""

from types import SimpleNamespace

from crispml.report._blocks import MAX_ROWS, table
from crispml.report._fairness_html import fairness_block


def _group(i: int) -> dict:
    rate = {"estimate": 0.5 + i / 1000, "low": 0.4, "high": 0.6}
    return {
        "count": 100 + i,
        "positives": 50,
        "favourable_rate": rate,
        "selection_rate": rate,
        "tpr": rate,
        "fpr": rate,
    }


def test_a_fairness_table_of_many_groups_shows_every_figure_it_printed():
    groups = {f"g{i:02d}": _group(i) for i in range(MAX_ROWS + 15)}
    calibration = {
        name: {"count": 10, "mean_predicted": 0.3 + i / 997, "observed": 0.4, "difference": 0.1}
        for i, name in enumerate(groups)
    }
    fairness = {
        "threshold": 0.5,
        "favourable_label": "no",
        "attributes": {"region": {"by_group": groups, "calibration_by_group": calibration}},
    }
    record = SimpleNamespace(detail=lambda name: fairness if name == "fairness" else None)
    printed: list[str] = []

    def show(value, source, label):
        printed.append(f"{value:.6f}")
        return printed[-1]

    block = fairness_block(record, show)
    assert block is not None
    cells = {cell for _, _, rows in block.tables for row in rows for cell in row}
    in_cells = " ".join(cells)
    assert printed and all(text in in_cells for text in printed)
    rates, calib = block.tables[0], block.tables[-1]
    assert len(rates[2]) == MAX_ROWS and f"(first {MAX_ROWS} of {MAX_ROWS + 15})" in rates[0]
    assert len(calib[2]) == MAX_ROWS and "(first" in calib[0]


def test_a_table_keeps_every_row_it_is_given():
    rows = [[str(i)] for i in range(MAX_ROWS + 3)]
    caption, _, kept = table("all", ["n"], rows)
    assert kept == rows and caption == "all"
