"""A commented starter spec, written by ``crispml init``."""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from crispml.spec._model import DEFAULT_FAMILIES

_TEMPLATE = """\
# crispml project spec. Every field: `crispml schema`. Edit, then: crispml run {spec_name}
name: {name}

problem:
  task: {task}            # binary | multiclass | regression (inferred from the target)
  target: {target}
{positive}  metric: {metric}          # primary metric, used to select the model
  success_criteria:       # checked on the locked test set
    {metric}: "{criterion}"
  # intended_use: "who uses the predictions, for what decision"
  # out_of_scope: "uses this model must not be put to"

data:
  source: {source}
  # id_column: null       # a column that identifies rows (kept out of the features)
  drop: []                # columns to leave out entirely

split:
  test_size: 0.2          # locked test set, touched once at the end
  valid_size: 0.2         # for early stopping and model selection
  strategy: {strategy}      # stratified | random | group | time
  seed: 0

fairness:
  protected: {protected}  # audited and evaluated per group, not used as features
  use_as_features: false

search:
  time_budget_s: 60      # covers trials, ensemble and refit
  families: [{families}]
  validation: auto       # auto | cv | holdout (auto: bagged 5-fold CV up to 12,000 rows)
  deterministic: false   # true: count the budget in trials (max_trials), bit-identical reruns
  max_trials: null
  n_jobs: null           # threads per model fit; null = every core

deployment:
  latency_sla_ms:
    p99: 50

tracking:
  uri: null               # null = sqlite:///.crispml/mlflow.db in this folder
"""

_CRITERIA = {"roc_auc": ">= 0.75", "log_loss": "<= 1.0", "rmse": "<= 1e9"}


def render_spec_template(
    *,
    name: str,
    source: str,
    target: str,
    task: str,
    metric: str,
    positive_label: object | None = None,
    protected: Sequence[str] = (),
    spec_name: str = "crispml.yaml",
) -> str:
    """Return the text of a commented spec with the given inferred values.

    Parameters
    ----------
    name, source, target : str
        Project name, data source and target column.
    task, metric : str
        The inferred task and its default metric.
    positive_label : object, optional
        The positive class of a binary target.
    protected : sequence of str
        Columns that look like protected attributes.
    spec_name : str
        The spec's file name, quoted in the header comment.

    Returns
    -------
    str

    Examples
    --------
    >>> text = render_spec_template(name="p", source="d.csv", target="y", task="binary",
    ...                             metric="roc_auc", positive_label="yes")
    >>> yaml.safe_load(text)["problem"]["positive_label"]
    'yes'
    """
    positive = ""
    if positive_label is not None:
        label = _scalar(positive_label)
        positive = f"  positive_label: {label}   # the class whose probability is scored\n"
    return _TEMPLATE.format(
        families=", ".join(DEFAULT_FAMILIES),
        name=_scalar(name),
        source=_scalar(source),
        target=_scalar(target),
        task=task,
        metric=metric,
        criterion=_CRITERIA.get(metric, ">= 0"),
        positive=positive,
        strategy="random" if task == "regression" else "stratified",
        protected="[" + ", ".join(_scalar(p) for p in protected) + "]",
        spec_name=spec_name,
    )


def _scalar(value: object) -> str:
    """Render ``value`` as a YAML scalar that reads back as the same value and type."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
