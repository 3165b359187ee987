"""Plots of the evaluation files (SVG, matplotlib's Agg backend)."""

from __future__ import annotations

import io
from typing import Any

MAX_BARS = 15


def _svg(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def plot_importance(record: dict[str, Any]) -> bytes:
    """Horizontal bar chart of the raw-column importance in ``importance.json``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [(r["column"], r["importance"]) for r in record.get("importance", [])]
    items = items[:MAX_BARS][::-1]
    fig, ax = plt.subplots(figsize=(5.5, 0.3 * max(len(items), 3) + 1))
    ax.barh([k for k, _ in items], [v for _, v in items], color="#4c72b0")
    ax.set_xlabel("mean |contribution|" if "shap" in record.get("method", "") else "importance")
    ax.set_title(f"Importance by input column ({record.get('method', '')})", fontsize=9)
    return _svg(fig)
