"""A commented starter spec, written by ``crispml init``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from crispml.spec._model import (
    BEATS_BASELINE,
    DEFAULT_FAMILIES,
    DEFAULT_METRIC,
    MINORITY_SHARE_FOR_PR_AUC,
)

_TEMPLATE = """\
# crispml project spec. Every field: `crispml schema`. Edit, then: crispml run {spec_name}
name: {name}

problem:
  task: {task}            # binary | multiclass | regression (inferred from the target)
  target: {target}
{positive}{favourable}  metric: {metric}          # primary metric, used to select the model
{metric_note}  success_criteria:       # checked on the locked test set, on the 95% interval
    {metric}: {criterion}   # beat the best baseline; or a threshold, e.g. "{example}"
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
  # time_column: null     # strategy time: the column that orders the rows (latest -> test)
  # gap_days: 0           # strategy time: days left out before validation and test (embargo)
  seed: 0

features:
  monotone: {{}}            # e.g. {{income: 1, debt: -1}}: predictions only rise / fall with it

fairness:
  protected: {protected}  # audited and evaluated per group, not used as features
  use_as_features: false
{fairness_criteria}
search:
  time_budget_s: 60      # the whole run, loading to sealed folder (plan: budget.json)
  families: [{families}]
  validation: auto       # auto | cv | holdout (auto: bagged 5-fold CV up to 12,000 rows)
  deterministic: {deterministic}  # true: the budget is max_trials trials, bit-identical reruns
  max_trials: {max_trials}
  n_jobs: null           # threads per model fit; null = every core

deployment:
  latency_sla_ms:
    p99: 50
  max_model_mb: 100       # larger candidates and ensembles cannot be selected
  refit: non_test_rows    # all_rows: refit on train+valid+test after the evaluation

explain:                  # adverse-action reasons (/v1/explain, evaluation/importance.json)
  top_k: 4                # reasons per adverse decision
  reason_statements: {{}}   # column -> plain words, {{value}} filled in; e.g.
  #   debt_ratio: "Debt payments are high relative to income ({{value}})"

tracking:
  uri: null               # null = sqlite:///.crispml/mlflow.db in this folder

report:
  formats: [html, md, docx, pdf]   # md and html always; docx: Word card and report; pdf: report
  # template: ours.docx   # a .docx whose styles and cover pages the Word documents use
"""

_EXAMPLES = {
    "roc_auc": ">= 0.75",
    "average_precision": ">= 0.3",
    "log_loss": "<= 0.5",
    "rmse": "<= 100",
}
"""Threshold examples shown in a comment: a threshold must come from the client's need,
so ``crispml init`` proposes ``beats_baseline``, which every model can fail."""
_WHY_PR_AUC = (
    "the rarest class is {share:.1%} of the rows (under {limit:.0%}): PR AUC (average "
    "precision) measures how well the rare positives are found; ROC AUC looks good even when "
    "most flagged rows are false alarms"
)


def propose_metric(task: str, class_counts: Mapping[object, int]) -> tuple[str, str]:
    """Choose the primary metric ``crispml init`` proposes, and say why when it is not the default.

    .. versionadded:: 0.2

    Parameters
    ----------
    task : str
        binary, multiclass or regression.
    class_counts : mapping
        Rows per class of the target (ignored for regression).

    Returns
    -------
    metric, reason : str, str
        ``average_precision`` when a binary target's rarer class is under
        :data:`~crispml.spec._model.MINORITY_SHARE_FOR_PR_AUC` of the rows (with the
        reason), else the task's default metric and an empty reason.

    Examples
    --------
    >>> propose_metric("binary", {"ok": 970, "fraud": 30})[0]
    'average_precision'
    >>> propose_metric("binary", {"no": 600, "yes": 400})
    ('roc_auc', '')
    """
    counts = [int(c) for c in class_counts.values()]
    total = sum(counts)
    if task != "binary" or len(counts) != 2 or min(counts) == 0:
        return DEFAULT_METRIC[task], ""
    share = min(counts) / total
    if share >= MINORITY_SHARE_FOR_PR_AUC:
        return DEFAULT_METRIC[task], ""
    return "average_precision", _WHY_PR_AUC.format(share=share, limit=MINORITY_SHARE_FOR_PR_AUC)


def render_spec_template(
    *,
    name: str,
    source: str,
    target: str,
    task: str,
    metric: str,
    positive_label: object | None = None,
    negative_label: object | None = None,
    protected: Sequence[str] = (),
    spec_name: str = "crispml.yaml",
    metric_reason: str = "",
    max_trials: int | None = None,
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
    negative_label : object, optional
        The other class; proposed as the favourable outcome when protected columns are
        found (with a default adverse impact ratio criterion).
    protected : sequence of str
        Columns that look like protected attributes.
    spec_name : str
        The spec's file name, quoted in the header comment.
    metric_reason : str
        Why ``metric`` was proposed, written as a comment under it (see
        :func:`propose_metric`).
    max_trials : int, optional
        Turn on ``search.deterministic`` with this many trials (``crispml init --ci``).

        .. versionadded:: 0.1

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
    positive = favourable = criteria = ""
    if positive_label is not None:
        label = _scalar(positive_label)
        positive = f"  positive_label: {label}   # the class whose probability is scored\n"
    if task == "binary" and protected:
        criteria = (
            "  criteria:               # decided on the 95% CI; inconclusive for small groups\n"
            '    adverse_impact_ratio: ">= 0.8"   # four-fifths rule, on the favourable outcome\n'
        )
        if negative_label is not None:
            favourable = (
                f"  favourable_label: {_scalar(negative_label)}   "
                "# the outcome that benefits the person scored: check it\n"
            )
    return _TEMPLATE.format(
        families=", ".join(DEFAULT_FAMILIES),
        name=_scalar(name),
        source=_scalar(source),
        target=_scalar(target),
        task=task,
        metric=metric,
        metric_note="".join(f"  # {line}\n" for line in _wrap(metric_reason)),
        criterion=BEATS_BASELINE,
        example=_EXAMPLES.get(metric, ">= 0.8"),
        positive=positive,
        favourable=favourable,
        fairness_criteria=criteria,
        strategy="random" if task == "regression" else "stratified",
        protected="[" + ", ".join(_scalar(p) for p in protected) + "]",
        spec_name=spec_name,
        deterministic="true" if max_trials else "false",
        max_trials=max_trials or "null",
    )


def _wrap(text: str, width: int = 86) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) if text else []


def _scalar(value: object) -> str:
    """Render ``value`` as a YAML scalar that reads back as the same value and type."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
