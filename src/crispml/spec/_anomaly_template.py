"""The starter spec of an anomaly-detection project, written by ``crispml init``."""

from __future__ import annotations

import yaml

from crispml.spec._model import DEFAULT_CONTAMINATION, DEFAULT_DETECTORS

_TEMPLATE = """\
# crispml project spec. Every field: `crispml schema`. Edit, then: crispml run {spec_name}
name: {name}

problem:
  task: anomaly           # {why}
{target}  contamination: {contamination}     # share of rows the detector flags as anomalous
{metric}  success_criteria:       # checked on the locked test set
    {criterion}
  # intended_use: "who reviews the flagged rows, for what decision"

data:
  source: {source}
  # id_column: null       # a column that identifies rows (kept out of the features)
  drop: []                # columns to leave out entirely

split:
  test_size: 0.2          # locked test set, scored once at the end
  valid_size: 0.2         # where the detector is chosen (with labels)
  strategy: {strategy}
  seed: 0

search:
  time_budget_s: 60
  families: [{families}]  # the first is delivered when there are no labels
  max_trials: null

deployment:
  latency_sla_ms:
    p99: 50

tracking:
  uri: null               # null = sqlite:///.crispml/mlflow.db in this folder
"""


def render_anomaly_template(
    *,
    name: str,
    source: str,
    target: str | None = None,
    positive_label: object | None = None,
    spec_name: str = "crispml.yaml",
) -> str:
    """Return the text of a commented anomaly-detection spec.

    .. versionadded:: 0.2

    Parameters
    ----------
    name, source : str
        Project name and data source.
    target : str, optional
        A column marking known anomalies (then the detector is chosen and tested on
        them); ``None`` for unlabelled data.
    positive_label : object, optional
        The value of ``target`` that marks an anomaly.
    spec_name : str
        The spec's file name, quoted in the header comment.

    Returns
    -------
    str

    Examples
    --------
    >>> spec = yaml.safe_load(render_anomaly_template(name="p", source="d.csv"))
    >>> spec["problem"]["task"], spec["split"]["strategy"]
    ('anomaly', 'random')
    """
    labelled = target is not None
    lines = ""
    if labelled:
        lines = f"  target: {_scalar(target)}   # known anomalies: choose and test the detector\n"
        if positive_label is not None:
            lines += f"  positive_label: {_scalar(positive_label)}   # the value marking one\n"
    return _TEMPLATE.format(
        spec_name=spec_name,
        name=_scalar(name),
        why="known anomalies in the target column" if labelled else "no target column given",
        target=lines,
        contamination=DEFAULT_CONTAMINATION,
        metric="  metric: average_precision   # PR AUC: how well the rare anomalies are found\n"
        if labelled
        else "",
        criterion='average_precision: ">= 0.3"'
        if labelled
        else 'rank_stability: ">= 0.8"   # scores agree across seeds (no labels to test on)',
        source=_scalar(source),
        strategy="stratified" if labelled else "random",
        families=", ".join(DEFAULT_DETECTORS),
    )


def _scalar(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
