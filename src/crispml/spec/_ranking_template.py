"""The starter spec of a ranking project, written by ``crispml init --group``."""

from __future__ import annotations

import yaml

from crispml.spec._model import DEFAULT_RANKERS

_TEMPLATE = """\
# crispml project spec. Every field: `crispml schema`. Edit, then: crispml run {spec_name}
name: {name}

problem:
  task: ranking           # order the candidates of each query by relevance
  target: {target}        # graded relevance: 0 (irrelevant) and up
  group_column: {group}   # the query: its candidates are ranked together, never split
  metric: ndcg            # NDCG@k, averaged over queries (MAP is reported beside it)
  ndcg_k: 10              # the candidates a user looks at
  success_criteria:       # checked on the locked test queries
    ndcg: ">= 0.5"
  # intended_use: "which result lists this ranks, for whom"

data:
  source: {source}
  # id_column: null       # a column that identifies rows (kept out of the features)
  drop: []                # columns to leave out entirely

split:                    # by query: a query never spans train, validation and test
  test_size: 0.2          # share of the queries in the locked test set, scored once
  valid_size: 0.2         # share of the queries the ranker is chosen on
  seed: 0

search:
  time_budget_s: 60
  families: [{families}]
  max_trials: null

deployment:
  latency_sla_ms:
    p99: 50

tracking:
  uri: null               # null = sqlite:///.crispml/mlflow.db in this folder
"""


def render_ranking_template(
    *, name: str, source: str, target: str, group: str, spec_name: str = "crispml.yaml"
) -> str:
    """Return the text of a commented ranking spec.

    .. versionadded:: 0.4

    Parameters
    ----------
    name, source : str
        Project name and data source.
    target : str
        The graded relevance column.
    group : str
        The query id column.
    spec_name : str
        The spec's file name, quoted in the header comment.

    Returns
    -------
    str

    Examples
    --------
    >>> spec = yaml.safe_load(render_ranking_template(
    ...     name="p", source="d.csv", target="rel", group="qid"))
    >>> spec["problem"]["task"], spec["problem"]["group_column"]
    ('ranking', 'qid')
    """
    return _TEMPLATE.format(
        spec_name=spec_name,
        name=_scalar(name),
        target=_scalar(target),
        group=_scalar(group),
        source=_scalar(source),
        families=", ".join(DEFAULT_RANKERS),
    )


def _scalar(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
