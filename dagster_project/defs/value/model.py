"""Customer value models: BG/NBD (alive, purchases) and Gamma-Gamma (margin per purchase).

The purchase model is the modified BG/NBD (MBG/NBD, PyMC-Marketing's ModifiedBetaGeoModel):
the same four parameters (r, alpha, a, b) and the same "buy till you die" story, except that a
customer may drop out right after any purchase, the first included. Plain BG/NBD holds every
customer with a single purchase alive with probability 1 however long ago they bought; MBG/NBD
lowers it as time passes without a repeat purchase, which is what a reader of
probability_alive expects.

`fit_models` fits both with PyMC-Marketing's CLV module (imported there only: ~3-9 s, so a refresh
that only re-scores never pays it). `score` computes each purchaser's predictions from the stored
parameters with the closed forms PyMC-Marketing's own predictive methods use
(`ModifiedBetaGeoModel.expected_probability_alive`, `expected_purchases`,
`GammaGammaModel.expected_customer_spend`), in numpy and scipy: a re-score of a million
customers takes about a second and needs no PyMC. tests/test_customer_value.py checks that both
give the same numbers on a fitted model.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import uuid
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy.special import hyp2f1

HORIZON_DAYS = 365
STEPS_PER_HORIZON = 12  # discounting: the expected purchases of each twelfth of the horizon
BGNBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "v")


class FitFailed(RuntimeError):
    """The models could not be fitted to this history (the message says why)."""


@dataclass(frozen=True)
class Fit:
    """One attempt at fitting the models: a row of ops.customer_value_fits."""

    fit_id: str
    history_as_of: dt.date  # the fit saw the purchases up to this date
    fitted_at: dt.datetime
    method: str
    status: str  # ok | failed
    purchasers: int  # BG/NBD sample
    repeat_purchasers: int  # Gamma-Gamma sample
    converged: bool
    seconds: float
    message: str = ""
    parameters: dict[str, float] = field(default_factory=dict)  # r, alpha, a, b, p, q, v

    @property
    def usable(self) -> bool:
        return self.status == "ok"

    def row(self) -> dict:
        row = asdict(self)
        parameters = row.pop("parameters")
        return {**row, **{name: parameters.get(name) for name in (*BGNBD_PARAMETERS, *GAMMA_GAMMA_PARAMETERS)}}

    @classmethod
    def from_row(cls, row: dict) -> Fit:
        names = (*BGNBD_PARAMETERS, *GAMMA_GAMMA_PARAMETERS)
        parameters = {name: float(row[name]) for name in names if row.get(name) is not None}
        return cls(**{k: v for k, v in row.items() if k not in names}, parameters=parameters)


def fit_identity(history_as_of: dt.date, method: str, purchasers: int, repeat_purchasers: int,
                 parameters: dict[str, float]) -> str:
    """A usable fit's id names its content (history, method, samples, parameters): two refreshes
    of the same files publish the same marts.customer_value, fit_id included. A failed attempt
    gets a random id (it is never in the mart, and each attempt is its own row)."""
    content = json.dumps([str(history_as_of), method, purchasers, repeat_purchasers,
                          sorted((name, repr(float(value))) for name, value in parameters.items())])
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "c360:customer_value_fit:" + content))


def gamma_gamma_sample(histories: pd.DataFrame) -> pd.DataFrame:
    """Repeat purchasers whose mean margin per repeat purchase is positive (the model's support)."""
    return histories[(histories["frequency"] > 0) & (histories["monetary_value"] > 0)]


def fit_models(histories: pd.DataFrame, history_as_of: dt.date, *, method: str = "map",
               min_purchasers: int = 2) -> Fit:
    """Fit MBG/NBD on every purchaser's (frequency, recency, T) and Gamma-Gamma on the repeat
    purchasers' mean margin. Never raises: a failure is a Fit with status `failed` and a message.

    `histories`: customer_id, frequency, recency, T (days), monetary_value (see histories.py).
    Convergence: MAP is a valid optimum when every parameter is finite and positive, Gamma-Gamma's
    q > 1 (its population mean exists) and the predictions of the sample are finite; with mcmc,
    also every parameter's R-hat below 1.01.
    """
    started = time.monotonic()
    purchasers = len(histories)
    repeat = gamma_gamma_sample(histories)

    def attempt(status: str, converged: bool, message: str, parameters: dict[str, float]) -> Fit:
        return Fit(
            fit_id=fit_identity(history_as_of, method, purchasers, len(repeat), parameters)
            if status == "ok" else str(uuid.uuid4()),
            history_as_of=history_as_of,
            fitted_at=dt.datetime.now(dt.timezone.utc), method=method, status=status,
            purchasers=purchasers, repeat_purchasers=len(repeat), converged=converged,
            seconds=round(time.monotonic() - started, 3), message=message, parameters=parameters,
        )

    if purchasers < min_purchasers or len(repeat) < max(2, min_purchasers // 5):
        return attempt("failed", False,
                       f"too few purchasers to fit: {purchasers} purchaser(s), {len(repeat)} with a positive "
                       f"repeat margin (C360_CLV_MIN_PURCHASERS {min_purchasers}, and a fifth of it with "
                       "repeat purchases)", {})
    try:
        parameters, rhat_ok = _fit_with_pymc_marketing(histories, repeat, method)
    except Exception as exc:  # noqa: BLE001 - any failure of the library keeps the previous fit
        return attempt("failed", False, f"{type(exc).__name__}: {exc}".strip()[:500], {})
    problems = [name for name, value in parameters.items() if not (math.isfinite(value) and value > 0)]
    if parameters.get("q", 0) <= 1:
        problems.append("q <= 1 (no population mean margin)")
    if not problems:
        scores = score(histories, parameters)
        if not np.isfinite(scores[["probability_alive", "expected_purchases_365d",
                                   "expected_margin_per_purchase"]].to_numpy()).all():
            problems.append("non-finite predictions")
    if not rhat_ok:
        problems.append("R-hat of a parameter is 1.01 or more")
    if problems:
        return attempt("failed", False, "did not converge: " + "; ".join(problems), parameters)
    return attempt("ok", True, "", parameters)


def _fit_with_pymc_marketing(histories: pd.DataFrame, repeat: pd.DataFrame, method: str) -> tuple[dict, bool]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ's refactor notice, PyTensor's BLAS advice
        from pymc_marketing.clv import GammaGammaModel, ModifiedBetaGeoModel

        kwargs = {"progressbar": False}
        if method == "mcmc":
            kwargs.update(chains=2, cores=1, draws=500, tune=500, random_seed=0)
        transactions = ModifiedBetaGeoModel()
        transactions.fit(histories[["customer_id", "frequency", "recency", "T"]], method=method, **kwargs)
        spend = GammaGammaModel()
        spend.fit(repeat[["customer_id", "frequency", "monetary_value"]], method=method, **kwargs)
        parameters, rhat_ok = {}, True
        for model, names in ((transactions, BGNBD_PARAMETERS), (spend, GAMMA_GAMMA_PARAMETERS)):
            for name in names:
                draws = model.fit_result[name]
                parameters[name] = float(draws.mean())
            if method == "mcmc":
                import arviz

                rhat = arviz.rhat(model.fit_result)
                rhat_ok &= all(float(rhat[name].max()) < 1.01 for name in names)
    return parameters, rhat_ok


def expected_purchases(parameters: dict[str, float], frequency, recency, age, future_t) -> np.ndarray:
    """MBG/NBD E[X(t) | x, t_x, T] (Batislam, Denizel & Filiztekin 2007, eq. 6), as PyMC-Marketing's
    ModifiedBetaGeoModel.expected_purchases computes it."""
    r, alpha, a, b = (parameters[name] for name in BGNBD_PARAMETERS)
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (frequency, recency, age, future_t))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        numerator = (a + b + x) / (a - 1) * (
            1 - hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t)) * ((alpha + T) / (alpha + t + T)) ** (r + x)
        )
        denominator = 1 + (a / (b + x)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return numerator / denominator


def probability_alive(parameters: dict[str, float], frequency, recency, age) -> np.ndarray:
    """MBG/NBD P(alive | x, t_x, T) (Batislam et al. 2007, eq. 5): unlike plain BG/NBD, a customer
    can drop out right after the first purchase, so one purchase long ago is not "alive for sure"."""
    r, alpha, a, b = (parameters[name] for name in BGNBD_PARAMETERS)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
    with np.errstate(over="ignore"):
        return 1.0 / (1 + (a / (b + x)) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def expected_margin_per_purchase(parameters: dict[str, float], frequency, monetary_value) -> np.ndarray:
    """Gamma-Gamma E[margin | x, m̄] (Fader & Hardie 2013, eq. 5): population mean for x = 0."""
    p, q, v = (parameters[name] for name in GAMMA_GAMMA_PARAMETERS)
    x = np.asarray(frequency, dtype=float)
    m = np.nan_to_num(np.asarray(monetary_value, dtype=float))
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * (v * p / (q - 1)) + weight * m


def score(histories: pd.DataFrame, parameters: dict[str, float], *, annual_discount_rate: float = 0.0,
          horizon_days: int = HORIZON_DAYS) -> pd.DataFrame:
    """Each purchaser's predictions for the `horizon_days` after the history's end.

    expected_margin_365d sums expected_margin_per_purchase × the expected purchases of each
    twelfth of the horizon, discounted by (1 + annual rate)^(k/12) for the k-th twelfth (as
    PyMC-Marketing's customer_lifetime_value does by month); with rate 0 it is exactly
    expected_purchases × expected_margin_per_purchase.
    """
    x, t_x, T = (histories[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    purchases = expected_purchases(parameters, x, t_x, T, horizon_days)
    margin = expected_margin_per_purchase(parameters, x, histories["monetary_value"].to_numpy(dtype=float))
    if annual_discount_rate == 0:
        discounted = purchases
    else:
        discounted = np.zeros_like(purchases)
        before = np.zeros_like(purchases)
        for step in range(1, STEPS_PER_HORIZON + 1):
            cumulative = expected_purchases(parameters, x, t_x, T, horizon_days * step / STEPS_PER_HORIZON)
            discounted += (cumulative - before) / (1 + annual_discount_rate) ** (step / STEPS_PER_HORIZON)
            before = cumulative
    return pd.DataFrame({
        "customer_id": histories["customer_id"].to_numpy(),
        "probability_alive": probability_alive(parameters, x, t_x, T),
        "expected_purchases_365d": purchases,
        "expected_margin_per_purchase": margin,
        "expected_margin_365d": discounted * margin,
    })
