"""Quarterly model series and run summaries (docs/ODD.md, "Observation").

:func:`quarter_metrics` computes every model-level series once per quarter from the books; the Mesa
DataCollector reads them from that dict, so each series is computed exactly once.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import INSTRUMENT_LABELS, IS_DEBT, Kind, Status
from economy import capital

if TYPE_CHECKING:
    from economy.model import CreditLoopModel

INSTRUMENT_COLUMNS = {
    k: "debt_" + v.replace(" ", "_").replace("-", "_") for k, v in INSTRUMENT_LABELS.items()
}

MODEL_SERIES = (
    "quarter",
    "capex",
    "ai_revenue",
    "capex_revenue_gap",
    "compute_contract_revenue",
    "nvidia_revenue",
    "openai_revenue",
    "openai_equity_raised",
    *INSTRUMENT_COLUMNS.values(),
    "debt_on_balance_sheet",
    "debt_off_balance_sheet",
    "net_leverage",
    "ai_equity_value",
    "equity_index",
    "reference_rate",
    "ig_spread",
    "hy_spread",
    "sentiment",
    "defaults",
    "defaults_cumulative",
    "lender_losses",
    "lender_losses_cumulative",
    "bank_capital_ratio_min",
    "bank_capital_ratio_mean",
    "gpu_price_index",
    "hidden_gpu_loss",
    "installed_gw",
    "gpu_gw",
    "ordered_gw",
    "retired_gw",
    "disposed_gw",
    "replacement_capex",
    "tobins_q",
    "idle_gw",
    "waiting_for_power_gw",
    "utilisation",
    "demand_over_capacity",
    "compute_price",
    "demand_index",
    "circularity_index",
    "vendor_financing",
    "fund_capital",
)


def quarter_metrics(model: CreditLoopModel) -> dict[str, float]:
    ledger, market, c, cap = model.ledger, model.market, model.ledger.contracts, model.ledger.capacity
    owners = model.capacity_owners()
    capex = sum(f.capex_q for f in owners)
    retail_ai = sum(f.ai_revenue_q - f.contract_revenue_q() for f in owners)
    live = c.view("status") == Status.ACTIVE
    kinds = c.view("kind")
    debt_rows = live & IS_DEBT[kinds]
    out: dict[str, float] = {
        "quarter": float(model.quarter),
        "capex": capex,
        "ai_revenue": retail_ai,
        "capex_revenue_gap": capex - retail_ai,
        "compute_contract_revenue": float(sum(model.contract_revenue.values())),
    }
    nvidia = model.nvidia
    out["nvidia_revenue"] = nvidia.revenue_q if nvidia else 0.0
    openai = model.firms_by_name.get("OpenAI")
    out["openai_revenue"] = openai.revenue_q if openai else 0.0
    out["openai_equity_raised"] = model.equity_raised_q.get(openai.party, 0.0) if openai else 0.0
    for kind, col in INSTRUMENT_COLUMNS.items():
        out[col] = float(c.view("principal")[debt_rows & (kinds == kind)].sum())
    # off the operating firms' balance sheets: SPV facilities, and the non-recourse project companies' own debt
    off = c.view("off_balance_sheet").copy()
    if model.project_company is not None:
        off |= c.view("debtor") == model.project_company.party
    out["debt_on_balance_sheet"] = float(c.view("principal")[debt_rows & ~off].sum())
    out["debt_off_balance_sheet"] = float(c.view("principal")[debt_rows & off].sum())
    corporates = model.corporates()
    debt = sum(model.debt_cache[f.party] for f in corporates)
    cash = sum(ledger.cash[f.party] for f in corporates)
    ocf = sum(4.0 * f.operating_cash_q for f in corporates)
    out["net_leverage"] = net_leverage(debt - cash, ocf)
    listed = [f.party for f in corporates if f.listed]
    out["ai_equity_value"] = float(market.value[listed].sum())
    out["equity_index"] = market.equity_index
    out["reference_rate"] = market.reference_rate
    out["ig_spread"] = market.ig_spread
    out["hy_spread"] = market.hy_spread
    out["sentiment"] = market.sentiment
    out["defaults"] = float(model.defaults_q)
    out["defaults_cumulative"] = float(model.defaults_total)
    out["lender_losses"] = model.losses_q
    out["lender_losses_cumulative"] = model.losses_total
    ratios = [b.capital_ratio() for b in model.banks] or [math.nan]
    out["bank_capital_ratio_min"] = float(min(ratios))
    out["bank_capital_ratio_mean"] = float(np.mean(ratios))
    active = cap.view("active")
    values = capital.gpu_market_values(model)[active]
    cost = cap.view("gpu_cost")[active]
    if cost.sum() > 0:
        out["gpu_price_index"] = float(values.sum() / cost.sum())
    else:  # no GPUs in the books: what a new one is worth, as a share of its cost, at today's margin
        margin = market.compute_price * market.utilisation - capital.running_cost(model)
        new = capital.value_ratio(model, margin, market.reference_rate + market.hy_spread, 0.0)
        out["gpu_price_index"] = float(new) * (1.0 - market.fire_sale_discount)
    out["hidden_gpu_loss"] = float(np.maximum(cap.view("gpu_book")[active] - values, 0.0).sum())
    energised = active & cap.view("energised")
    out["installed_gw"] = float(cap.view("gw")[energised].sum())
    out["gpu_gw"] = float(cap.view("gw")[active].sum())
    out["ordered_gw"] = model.ordered_gw_q
    out["retired_gw"] = model.retired_gw_q
    out["disposed_gw"] = market.disposed_gw_q
    out["replacement_capex"] = model.replacement_capex_q
    out["tobins_q"] = model.tobins_q(market.reference_rate + market.ig_spread)
    out["idle_gw"] = float(model.retail_gw_total * (1.0 - market.utilisation))
    ready = active & ~cap.view("energised") & (cap.view("ready_q") <= model.quarter)
    out["waiting_for_power_gw"] = float(cap.view("gw")[ready].sum())
    out["utilisation"] = market.utilisation
    out["demand_over_capacity"] = market.demand_over_capacity
    out["compute_price"] = market.compute_price
    out["demand_index"] = market.demand_index
    out["circularity_index"] = model.circularity_index
    stakes = live & (kinds == Kind.EQUITY_STAKE) & (c.view("loop") > 0)
    out["vendor_financing"] = float(c.view("value")[stakes].sum())
    out["fund_capital"] = float(sum(max(f.equity, 0.0) for f in model.funds))
    return out


def summary(model_frame, agent_frame=None) -> dict[str, float]:
    """Headline numbers of one run (peak capex, bust depth, trough valuations, defaults, lender losses)."""
    capex = model_frame["capex"].to_numpy()
    peak_i = int(np.argmax(capex))
    trough_after = float(capex[peak_i:].min())
    equity = model_frame["equity_index"].to_numpy()
    return {
        "peak_capex_usd_bn_per_quarter": float(capex[peak_i]),
        "peak_capex_quarter": str(model_frame["label"].iloc[peak_i]),
        "bust_depth": float(1.0 - trough_after / capex[peak_i]) if capex[peak_i] > 0 else 0.0,
        "trough_equity_index": float(equity.min()),
        "final_equity_index": float(equity[-1]),
        "defaults": float(model_frame["defaults_cumulative"].iloc[-1]),
        "lender_losses_usd_bn": float(model_frame["lender_losses_cumulative"].iloc[-1]),
        "max_hidden_gpu_loss_usd_bn": float(model_frame["hidden_gpu_loss"].max()),
        "min_bank_capital_ratio": float(model_frame["bank_capital_ratio_min"].min()),
        "peak_circularity_index": float(model_frame["circularity_index"].max()),
        "cumulative_capex_usd_bn": float(capex.sum()),
        "cumulative_ai_revenue_usd_bn": float(model_frame["ai_revenue"].sum()),
        "peak_nvidia_revenue_usd_bn_per_quarter": float(model_frame["nvidia_revenue"].max()),
        "final_sentiment": float(model_frame["sentiment"].iloc[-1]),
    }


NET_LEVERAGE_CAP = (
    100.0  # reported when net debt is positive and operating cash flow is not (docs/ODD.md §7.18)
)


def net_leverage(net_debt: float, annual_cash_flow: float) -> float:
    """Net debt over a year of operating cash flow: 0 without net debt, and the cap NET_LEVERAGE_CAP when there is
    net debt but no positive cash flow to service it (undefined as a ratio), so the series stays finite."""
    if net_debt <= 0:
        return 0.0
    if annual_cash_flow <= 0:
        return NET_LEVERAGE_CAP
    return float(min(net_debt / annual_cash_flow, NET_LEVERAGE_CAP))


def loss_summary(model: CreditLoopModel) -> dict[str, float]:
    """The run's losses by holder (credit losses, shareholders' value lost at defaults, and providers'
    impairments of capacity stranded by a customer's default), its default costs and how far the lowest bank
    capital ratio fell below its opening value."""
    from economy import losses

    out = {f"losses_{k}_usd_bn": v for k, v in losses.by_holder(model).items()}
    by_loop = losses.by_loop(model)
    out.update({f"loop_losses_L{k}_usd_bn": by_loop.get(k, 0.0) for k in range(11)})  # L0: no loop
    out["default_costs_usd_bn"] = model.default_costs_total
    ratios = np.asarray(model.bank_ratio_path, dtype=float)
    # the lowest bank capital ratio of the simulated quarters, and how far it fell below the opening ratio
    out["bank_capital_ratio_drop"] = float(max(ratios[0] - ratios[1:].min(), 0.0)) if ratios.size > 1 else 0.0
    return out


def losses_by_holder(summary: dict) -> dict[str, float]:
    """The loss-by-holder lines of a run summary as one mapping (``lender_losses_by_holder`` in summary.json)."""
    return {
        k[len("losses_") : -len("_usd_bn")]: float(v)
        for k, v in summary.items()
        if k.startswith("losses_") and k.endswith("_usd_bn")
    }


# The twin's amplification ratios, declared once: ratio name -> (summary key, label). The CLI, the sweeps and the
# app read names, keys and labels from here.
AMPLIFIED: dict[str, tuple[str, str]] = {
    "boom_peak": ("peak_capex_usd_bn_per_quarter", "boom peak (peak capex)"),
    "bust_depth": ("bust_depth", "bust depth (capex fall from peak)"),
    "defaults": ("defaults", "defaults"),
    "lender_losses": ("lender_losses_usd_bn", "lender losses"),
    "nvidia_peak_revenue": ("peak_nvidia_revenue_usd_bn_per_quarter", "Nvidia peak revenue"),
}


def amplification(with_circular: dict[str, float], without: dict[str, float]) -> dict[str, float | None]:
    """Ratios with ÷ without circular financing (None where the counterfactual is zero)."""
    out: dict[str, float | None] = {}
    for name, (key, _label) in AMPLIFIED.items():
        a, b = with_circular[key], without[key]
        out[name] = float(a / b) if b else (1.0 if a == b else None)
    return out
