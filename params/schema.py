"""The one parameter schema of creditloop.

Every number the model uses by default is declared here exactly once, with its unit, its allowed range, a
description and its source: a fact id from ``shared/calibration/facts.csv`` or ``assumption: <why>``.
The CLI (``run.py --set``), the UI sliders, the sweep grids and the table in ``docs/ODD.md`` are all generated
from this module (see :func:`parameter_specs`); nothing else declares a parameter.

Parameters are grouped in nested pydantic models; a parameter's public name is its dotted path, e.g.
``demand.ai_growth_initial_annual`` or ``meta.cash_usd_bn``. Firm calibrations are declared as tables
(one row per field, one column per firm) because the same fields carry different values and sources per firm.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

Number = float | int | bool


def param(
    default: Number,
    unit: str,
    lo: float | None,
    hi: float | None,
    source: str,
    description: str,
    *,
    ui: bool = False,
) -> Any:
    """Declare one parameter. ``ui=True`` puts it among the UI's key levers."""
    extra = {"unit": unit, "source": source, "ui": ui}
    if isinstance(default, bool):
        return Field(default=default, description=description, json_schema_extra=extra)
    return Field(default=default, ge=lo, le=hi, description=description, json_schema_extra=extra)


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class RunSettings(_Group):
    """Horizon and checks."""

    quarters: int = param(
        29,
        "quarters",
        1,
        120,
        "assumption: 2025Q4 to 2032Q4, the horizon of S058 (backstop end)",
        "Number of quarters simulated, starting 2025Q4.",
        ui=True,
    )
    check_invariants: bool = param(
        True,
        "switch",
        None,
        None,
        "assumption: accounting checks on in every run",
        "Check every accounting identity each quarter (off only in benchmarks).",
    )


class DemandSettings(_Group):
    """AI end-demand: adoption growth, its uncertainty, and the price of compute."""

    ai_growth_initial_annual: float = param(
        0.45,
        "1/year",
        0.0,
        2.0,
        "assumption: OpenAI 13 (2025) to a >20 run-rate by end-2025, E103, E104",
        "Annual growth of AI end-demand at the start.",
        ui=True,
    )
    ai_growth_longrun_annual: float = param(
        0.06,
        "1/year",
        -0.2,
        0.6,
        "assumption: mature cloud-like growth",
        "Long-run annual growth of AI demand.",
        ui=True,
    )
    ai_growth_halflife_years: float = param(
        1.5,
        "years",
        0.25,
        10.0,
        "assumption: S093 says the next 2-3 years decide",
        "Half-life of the decay of demand growth from its initial to its long-run value.",
        ui=True,
    )
    ai_demand_volatility_annual: float = param(
        0.10,
        "1/sqrt(year)",
        0.0,
        0.6,
        "assumption: no source; moderate noise around the trend",
        "Volatility of the AI demand index (log-normal shocks each quarter).",
        ui=True,
    )
    initial_utilisation: float = param(
        0.95,
        "share",
        0.3,
        1.0,
        "assumption: capacity sold out in 2025 (E081 delays, E082 backlog)",
        "Utilisation of AI capacity at the start (demand / energised capacity).",
    )
    compute_price_usd_bn_per_gw_year: float = param(
        10.0,
        "USD bn/GW-year",
        3.0,
        25.0,
        "X021",
        "Revenue per energised, fully used GW-year of AI capacity sold to end customers.",
    )
    compute_demand_elasticity: float = param(
        1.0,
        "1",
        0.2,
        5.0,
        "assumption: unit-elastic demand for compute capacity (a 10% glut lowers the clearing price ~10%)",
        "Price elasticity of AI demand for compute: demand at price P is D (P/P0)^-elasticity.",
    )
    price_adjustment_speed: float = param(
        0.5,
        "1/quarter",
        0.05,
        1.0,
        "assumption: cloud list prices adjust over a few quarters (sticky prices, tatonnement)",
        "Share of the log gap between demand and normal use of capacity the compute price closes each quarter.",
    )
    compute_price_max_multiple: float = param(
        2.0,
        "x opening price",
        1.0,
        5.0,
        "assumption: 2023-24 GPU scarcity roughly doubled rental prices",
        "Highest compute price, as a multiple of the calibrated price (scarcity rent is bounded).",
    )
    core_revenue_growth_annual: float = param(
        0.10,
        "1/year",
        -0.1,
        0.3,
        "assumption: E030 Alphabet +16%, E040 Amazon +13%, E001 Meta +26%, blended",
        "Annual growth of the hyperscalers' non-AI (core) revenue.",
    )


class TechnologySettings(_Group):
    """Cost of capacity, the depreciation clock and second-hand GPU prices."""

    chip_cost_usd_bn_per_gw: float = param(
        35.0, "USD bn/GW", 15.0, 60.0, "S054", "Cost of the accelerators (chips, servers) for 1 GW.", ui=True
    )
    shell_cost_usd_bn_per_gw: float = param(
        15.0, "USD bn/GW", 5.0, 30.0, "X022", "Cost of the data-centre shell, power and cooling for 1 GW."
    )
    gpu_accounting_life_years: float = param(
        6.0, "years", 2.0, 8.0, "E142", "Straight-line depreciation life of GPUs in the accounts."
    )
    opening_vintages: int = param(
        4,
        "vintages",
        1,
        40,
        "assumption: spaced less than the retirement window apart, so retirements run on without lumps",
        "Number of vintages the opening capacity of each firm is split into, spread over the economic life.",
    )
    opening_fleet_growth_annual: float = param(
        0.6,
        "1/year",
        0.0,
        3.0,
        "assumption: capacity additions grew ~60-75% a year in 2023-25 (S016 Microsoft capex +75% y/y)",
        "Growth of capacity additions in the years before 2025Q4: sets the age mix of the opening fleet.",
    )
    retirement_window_quarters: int = param(
        4,
        "quarters",
        0,
        12,
        "assumption: a vintage is not scrapped in one quarter (failures, resale, extended use)",
        "Quarters before the end of the economic life over which a vintage's GPUs retire in equal parts.",
    )
    refit_lag_quarters: int = param(
        1,
        "quarters",
        0,
        8,
        "assumption: new GPUs in a powered shell take a quarter to deliver and install",
        "Quarters from an order of GPUs for a shell a firm already has to their use (no new grid connection).",
    )
    gpu_economic_life_years: float = param(
        3.5,
        "years",
        1.0,
        8.0,
        "S071",
        "Economic life of GPUs: their market value reaches zero after it.",
        ui=True,
    )
    shell_life_years: float = param(
        20.0,
        "years",
        10.0,
        40.0,
        "assumption: buildings and power plant",
        "Depreciation life of data-centre shells.",
    )
    build_lag_quarters: int = param(
        4,
        "quarters",
        1,
        12,
        "assumption: 12-18 months from order to powered shell",
        "Quarters from a capacity order to the capacity being ready for power.",
    )
    electricity_usd_bn_per_gw_year: float = param(
        0.5, "USD bn/GW-year", 0.1, 2.0, "X016", "Electricity cost of one energised GW-year."
    )
    fire_sale_price_impact: float = param(
        2.0,
        "1",
        0.0,
        10.0,
        "assumption: linear price impact as in Cifuentes, Ferrucci & Shin (2005)",
        "Second-hand GPU price discount per unit of GW dumped relative to installed GW.",
    )
    fire_sale_recovery_quarters: float = param(
        2.0,
        "quarters",
        0.5,
        12.0,
        "assumption: distressed GPU prices recover within a few quarters",
        "Half-life of the fire-sale discount.",
    )
    nvidia_share_of_chip_spend: float = param(
        0.5,
        "share",
        0.1,
        1.0,
        "assumption: rest is TPUs, Trainium, AMD; calibrates Nvidia revenue to X007",
        "Share of the hyperscalers' chip spend that goes to Nvidia.",
    )

    fire_sale_discount_max: float = param(
        0.9,
        "share of value",
        0.0,
        0.99,
        "assumption: even distressed GPUs keep some value",
        "Deepest fire-sale discount on second-hand GPU prices.",
    )
    nvidia_outside_revenue_elasticity: float = param(
        0.5,
        "1",
        0.0,
        2.0,
        "assumption: buyers outside the model (X007 rest of world) grow more slowly than AI demand",
        "Elasticity of Nvidia's revenue from buyers outside the model to the AI demand index.",
    )


class EnergySettings(_Group):
    """The grid: how many GW can be energised each quarter."""

    grid_gw_per_quarter: float = param(
        2.5,
        "GW/quarter",
        0.1,
        20.0,
        "assumption: E140 74-132 GW US DC load by 2028 from E141 22 GW",
        "GW of new data-centre capacity that can be connected each quarter across all firms.",
        ui=True,
    )


class CreditSettings(_Group):
    """Rates, spreads and market capacity for new debt."""

    reference_rate_annual: float = param(
        0.0395, "1/year", 0.0, 0.15, "E121", "Reference rate (SOFR) at the start.", ui=True
    )
    ig_spread_annual: float = param(
        0.0077, "1/year", 0.0, 0.1, "E122", "Investment-grade spread at the start."
    )
    hy_spread_annual: float = param(0.0279, "1/year", 0.0, 0.2, "E123", "High-yield spread at the start.")
    spread_sentiment_elasticity: float = param(
        1.5,
        "1",
        0.0,
        6.0,
        "assumption: E122/E123 long-run medians are ~1.7x today's spreads",
        "Log change of spreads per unit fall of the sentiment index.",
    )
    spread_default_sensitivity: float = param(
        0.5,
        "1/year per share",
        0.0,
        5.0,
        "assumption: spreads widen with the sector's defaulted debt",
        "Spread widening per unit share of sector debt in default.",
    )
    ig_default_spread_share: float = param(
        0.25,
        "share",
        0.0,
        1.0,
        "assumption: investment-grade spreads react less to defaults than high-yield ones (E122/E123)",
        "Share of the high-yield spreads' default term that investment-grade spreads take.",
    )
    mood_default_sensitivity: float = param(
        10.0,
        "1 per share of sector debt",
        0.0,
        100.0,
        "assumption: credit markets shut when about a tenth of the sector's debt has recently defaulted",
        "Fall of credit-market capacity per unit share of sector debt in default (credit mood).",
    )
    mood_max: float = param(
        1.5,
        "x start",
        1.0,
        5.0,
        "assumption: euphoric markets absorb at most half as much again as at the start",
        "Cap on the sentiment part of the credit mood, relative to its start.",
    )
    bond_market_usd_bn_per_quarter: float = param(
        110.0,
        "USD bn/quarter",
        0.0,
        500.0,
        "S002",
        "Investment-grade bonds the market absorbs from the modelled AI issuers per quarter at neutral mood.",
        ui=True,
    )
    hy_market_usd_bn_per_quarter: float = param(
        10.0, "USD bn/quarter", 0.0, 100.0, "E127", "High-yield bond capacity per quarter at neutral mood."
    )
    ig_max_net_leverage: float = param(
        4.5,
        "x EBITDA",
        0.5,
        8.0,
        "assumption: BBB floor; Oracle (E052/E054: net debt ~95, OCF 21.5) is still IG",
        "Net debt over annual operating cash flow above which a firm loses IG bond access.",
    )
    hy_max_net_leverage: float = param(
        7.0,
        "x EBITDA",
        1.0,
        20.0,
        "assumption: lenders' limit for leveraged borrowers",
        "Net debt over operating cash flow above which no lender extends new credit.",
    )
    bond_tenor_years: int = param(10, "years", 2, 40, "E010", "Tenor of new corporate bonds.")
    loan_tenor_years: int = param(4, "years", 1, 10, "S048", "Tenor of new bank project loans.")
    equity_issue_max_share: float = param(
        0.01,
        "share of market value",
        0.0,
        0.2,
        "assumption: follow-on offerings rarely exceed a few percent",
        "Most equity a listed firm can sell in one quarter, as a share of its market value.",
    )
    equity_issue_max_drawdown: float = param(
        0.5,
        "share of peak value",
        0.0,
        1.0,
        "assumption: firms sell shares (at-the-market programmes, convertibles) while their price holds up",
        "A listed firm sells new shares only while its market value is above (1 - this) of its peak.",
    )
    default_recovery_haircut: float = param(
        0.3,
        "share",
        0.0,
        1.0,
        "assumption: collateral realises market value less 30% in default",
        "Haircut on collateral seized and sold in a default.",
    )
    equity_volatility_annual: float = param(
        0.45,
        "1/sqrt(year)",
        0.05,
        2.0,
        "assumption: AI equities' volatility of about 40-50% a year (Nvidia, Oracle, CoreWeave in 2025)",
        "Equity volatility in the Merton distance to default of every firm.",
    )
    concentration_volatility_weight: float = param(
        1.0,
        "1",
        0.0,
        5.0,
        "assumption: a firm living off one customer carries that customer's risk (digest loop L2, Oracle-OpenAI)",
        "Rise of a firm's asset volatility per unit share of its largest customer in its backlog and revenue.",
    )
    coverage_dispersion: float = param(
        0.35,
        "1",
        0.05,
        2.0,
        "assumption: a firm whose cash, cash flow and equity capacity cover its next year's payments twice "
        "defaults with ~2%, one covering them once with 50%",
        "Dispersion of the log liquidity coverage in the liquidity part of the default probability.",
    )
    loss_given_default: float = param(
        0.6,
        "share",
        0.0,
        1.0,
        "assumption: senior unsecured recoveries of about 40% (rating agencies' long-run averages)",
        "Loss given default in issuer spreads and in lenders' expected-loss provisions.",
    )
    max_lending_pd: float = param(
        0.3,
        "share",
        0.05,
        1.0,
        "assumption: about the one-year default rate of CCC/C issuers (S&P long-run average, ~27%); above it "
        "lenders ration rather than price the risk (Stiglitz-Weiss)",
        "Lenders extend no new credit to a borrower whose one-year default probability is above this.",
    )
    default_cost_alpha: float = param(
        0.9,
        "share",
        0.0,
        1.0,
        "assumption: bankruptcy costs of a few to 20% of assets (Bris, Welch & Zhu 2006); Rogers & Veraart (2013)",
        "Share of its own cash a defaulter's estate realises for its creditors in clearing (Rogers-Veraart alpha).",
    )
    default_cost_beta: float = param(
        0.95,
        "share",
        0.0,
        1.0,
        "assumption: claims on other firms are collected at a small cost (Rogers & Veraart 2013)",
        "Share of what others pay it that a defaulter's estate passes on in clearing (Rogers-Veraart beta).",
    )
    legacy_coupon_annual: float = param(
        0.04,
        "1/year",
        0.0,
        0.15,
        "assumption: E124 IG yield 4.8% less older, cheaper issues",
        "Coupon of the debt firms carry at the start.",
    )
    lease_years: int = param(
        10,
        "years",
        1,
        30,
        "assumption: data-centre finance leases of about a decade",
        "Term of finance leases.",
    )
    spv_residual_value_guarantee: float = param(
        0.8,
        "share of principal",
        0.0,
        1.0,
        "assumption: E011 names a residual-value guarantee, not its size",
        "Residual value a sponsor guarantees to its SPV lenders, paid when it walks away at lease end.",
    )
    spv_lease_years: int = param(4, "years", 1, 20, "E011", "Initial lease term of an SPV data centre.")
    spv_renewal_min_utilisation: float = param(
        0.8,
        "share",
        0.0,
        1.0,
        "assumption: a sponsor keeps a campus while it uses its capacity (E011: extension options)",
        "At the end of an SPV lease term the sponsor renews if utilisation is at least this; otherwise it walks "
        "away and its residual-value guarantee is called.",
    )
    default_exclusion_quarters: int = param(
        8,
        "quarters",
        0,
        40,
        "assumption: defaulters are shut out of new credit for two years",
        "Quarters a restructured firm cannot borrow.",
    )

    hy_bond_max_tenor_quarters: int = param(
        24,
        "quarters",
        4,
        80,
        "E086: CoreWeave's 9% notes of 2025 mature in 2031",
        "Longest tenor of a new high-yield bond.",
    )
    restructuring_extension_quarters: int = param(
        4,
        "quarters",
        0,
        40,
        "assumption: a restructuring reschedules past-due principal by a year",
        "Quarters by which a restructuring pushes out the maturity of past-due debt.",
    )


class CircularSettings(_Group):
    """Circular financing: each loop of the digest (L1-L10) can be switched off; sizes of the deals."""

    circular_financing: bool = param(
        True,
        "switch",
        None,
        None,
        "assumption: the 2025 deals as announced",
        "Master switch: off removes the vendor deals of loops L1-L7 (vendor equity, backstops, "
        "equity-for-purchases, warrants, OpenAI's chip programmes and the project companies' loans) and keeps "
        "the compute commitments.",
        ui=True,
    )
    loop_l1_nvidia_openai: bool = param(
        True, "switch", None, None, "S052", "L1: Nvidia equity into OpenAI per GW."
    )
    loop_l2_oracle_buildout: bool = param(
        True, "switch", None, None, "S045", "L2: bank-financed Oracle build-out for OpenAI."
    )
    loop_l3_amd_warrants: bool = param(
        True, "switch", None, None, "S075", "L3: AMD warrants for OpenAI purchases."
    )
    loop_l4_coreweave_backstop: bool = param(
        True, "switch", None, None, "S058", "L4: Nvidia stake in and capacity backstop for CoreWeave."
    )
    loop_l5_microsoft_openai: bool = param(
        True,
        "switch",
        None,
        None,
        "E103",
        "L5: Microsoft as OpenAI investor and Azure landlord (revenue share).",
    )
    loop_l6_amazon_anthropic: bool = param(
        True, "switch", None, None, "S036", "L6: Amazon's Anthropic stake and Anthropic's AWS spend."
    )
    loop_l7_nvidia_xai: bool = param(
        True, "switch", None, None, "S091", "L7: Nvidia equity into xAI's GPU buys."
    )
    loop_l8_meta_spv: bool = param(
        True, "switch", None, None, "E012", "L8: Meta's off-balance-sheet Hyperion SPV."
    )
    loop_l9_reflexivity: bool = param(
        True, "switch", None, None, "S080", "L9: equity prices feed sentiment, credit supply and capex."
    )
    loop_l10_risk_transfer: bool = param(
        True, "switch", None, None, "E134", "L10: banks' synthetic risk transfer and short AI hedges."
    )
    arm_length: bool = param(
        False,
        "switch",
        None,
        None,
        "assumption: a counterfactual switch (docs/ODD.md §7.14); off in every shipped scenario",
        "Arm's length: every vendor equity investment of loops L1 and L4-L7 is made, at the same amount, time "
        "and valuation, by outside investors; the vendor keeps its cash and holds no stake.",
    )
    commitment_scale: float = param(
        1.0,
        "share",
        0.0,
        1.0,
        "assumption: a counterfactual scale (docs/ODD.md §7.14); 1 = the 2025 commitments as announced",
        "Scale of OpenAI's 2025 compute commitments (Oracle, AWS, CoreWeave) and of what is sized on them.",
    )
    nvidia_equity_per_gw_usd_bn: float = param(
        10.0, "USD bn/GW", 0.0, 35.0, "S055", "Nvidia equity invested in OpenAI per GW deployed.", ui=True
    )
    nvidia_openai_max_usd_bn: float = param(
        100.0, "USD bn", 0.0, 300.0, "S052", "Cap on Nvidia's investment in OpenAI."
    )
    openai_nvidia_gw_per_quarter: float = param(
        0.5, "GW/quarter", 0.0, 3.0, "E066: >=10 GW from H2 2026", "Planned pace of OpenAI's Nvidia GW."
    )
    openai_first_nvidia_quarter: int = param(
        3,
        "quarter index",
        0,
        20,
        "E066: first GW in H2 2026",
        "Quarter index (0 = 2025Q4) of the first Nvidia GW for OpenAI.",
    )
    amd_gw_total: float = param(6.0, "GW", 0.0, 12.0, "E108", "GW of AMD chips OpenAI plans to buy.")
    amd_cost_usd_bn_per_gw: float = param(
        15.0, "USD bn/GW", 5.0, 40.0, "E108: ~90 potential over 6 GW", "AMD chip cost per GW."
    )
    amd_warrant_shares_m: float = param(
        160.0,
        "million shares",
        0.0,
        400.0,
        "E108",
        "AMD shares under OpenAI's warrant (vesting per GW bought).",
    )
    amd_share_price_usd: float = param(
        240.0,
        "USD/share",
        20.0,
        1000.0,
        "assumption: AMD price after the Oct-2025 deal (E108 reports +25-35%)",
        "AMD share price at the start.",
    )
    coreweave_backstop_usd_bn: float = param(
        6.3, "USD bn", 0.0, 50.0, "E067", "Cap of Nvidia's purchases of CoreWeave's unsold capacity."
    )
    coreweave_backstop_end_year: int = param(
        2032, "year", 2026, 2035, "S058", "Year the backstop ends (sources disagree: 2026 or 2032, E067)."
    )
    nvidia_coreweave_stake: float = param(0.07, "share", 0.0, 0.5, "S057", "Nvidia's stake in CoreWeave.")
    microsoft_openai_stake: float = param(
        0.27,
        "share",
        0.0,
        0.6,
        "assumption: Oct-2025 recapitalisation as reported; E027/E028 show the stake",
        "Microsoft's stake in OpenAI.",
    )
    microsoft_revenue_share: float = param(
        0.20, "share", 0.0, 0.5, "E103", "Share of OpenAI's revenue paid to Microsoft."
    )
    amazon_anthropic_stake_usd_bn: float = param(
        25.0,
        "USD bn",
        0.0,
        100.0,
        "assumption: cost ~8 plus gains such as S036's 9.5",
        "Value of Amazon's Anthropic stake at the start.",
    )
    nvidia_xai_equity_usd_bn: float = param(2.0, "USD bn", 0.0, 20.0, "S091", "Nvidia's equity in xAI.")
    xai_chip_orders_usd_bn: float = param(20.0, "USD bn", 0.0, 100.0, "S092", "xAI's Nvidia chip orders.")
    aws_openai_usd_bn: float = param(38.0, "USD bn", 0.0, 200.0, "S041", "AWS-OpenAI compute contract value.")
    aws_openai_years: int = param(7, "years", 1, 15, "E047", "Term of the AWS-OpenAI contract.")
    compute_contract_years: int = param(
        5,
        "years",
        1,
        15,
        "E090: CoreWeave-OpenAI 5-year contracts",
        "Term of the other compute contracts signed before 2025Q4.",
    )
    azure_openai_years: int = param(
        7,
        "years",
        1,
        15,
        "assumption: like the AWS contract (E047)",
        "Term of OpenAI's Azure compute contract with Microsoft.",
    )
    oracle_openai_usd_bn: float = param(
        300.0, "USD bn", 0.0, 600.0, "E056", "Oracle-OpenAI compute contract."
    )
    oracle_openai_gw: float = param(4.5, "GW", 0.0, 20.0, "E056", "GW of the Oracle-OpenAI contract.")
    oracle_openai_start_quarter: int = param(
        5,
        "quarter index",
        0,
        20,
        "E056: payments from 2027",
        "Quarter index (0 = 2025Q4) when the Oracle contract starts.",
    )
    oracle_openai_years: int = param(5, "years", 1, 10, "E056", "Term of the Oracle-OpenAI contract.")
    oracle_openai_ramp_quarters: int = param(
        8,
        "quarters",
        1,
        20,
        "assumption: the Stargate sites come online in phases (S043, E056 'from 2027')",
        "Quarters over which the GW of the Oracle-OpenAI contract start, in equal tranches from its start quarter.",
    )
    coreweave_openai_share: float = param(
        15.9 / 55.6,
        "share",
        0.0,
        1.0,
        "E090, E082: the OpenAI contracts (11.9 + 4.0 expansion = 15.9) of the 55.6 backlog",
        "Share of CoreWeave's revenue backlog that is OpenAI's contracts.",
    )
    coreweave_backlog_usd_bn: float = param(55.6, "USD bn", 0.0, 300.0, "E082", "CoreWeave revenue backlog.")
    azure_openai_price_usd_bn_per_gw_year: float = param(
        6.0,
        "USD bn/GW-year",
        1.0,
        20.0,
        "assumption: E103 burn 8.5 = opex beyond revenue plus ~7 of compute",
        "Price OpenAI pays Microsoft per GW-year of Azure compute.",
    )
    coreweave_microsoft_share: float = param(
        0.62,
        "share",
        0.0,
        1.0,
        "E090",
        "Microsoft's share of CoreWeave's non-OpenAI backlog (Meta the rest).",
    )
    amazon_anthropic_invested_usd_bn: float = param(
        8.0,
        "USD bn",
        0.0,
        50.0,
        "assumption: Amazon's reported cash investment in Anthropic",
        "Cash Amazon has put into Anthropic (money that can come back as AWS revenue).",
    )
    microsoft_openai_funded_usd_bn: float = param(
        11.6, "USD bn", 0.0, 50.0, "E028", "Cash Microsoft has put into OpenAI."
    )
    take_or_pay_min_share: float = param(
        0.8,
        "share",
        0.0,
        1.0,
        "assumption: typical take-or-pay minimum",
        "Share of a compute contract the customer pays even if it takes less.",
    )
    softbank_openai_usd_bn: float = param(
        22.5, "USD bn", 0.0, 60.0, "E107", "SoftBank's Dec-2025 OpenAI tranche."
    )


class LenderSettings(_Group):
    """Private-credit funds and banks: appetite, flows and limits."""

    fund_target_ai_share: float = param(
        0.35,
        "share of capital",
        0.0,
        1.0,
        "assumption: E130 tech private debt 450 of E129 ~1,900 AUM, rising",
        "Share of a private-credit fund's capital it wants in AI loans.",
        ui=True,
    )
    fund_flow_yield_sensitivity: float = param(
        2.0,
        "1/(1/year)",
        0.0,
        20.0,
        "assumption: investor flows chase yield pick-up (S061 doubling)",
        "Quarterly fund inflow per unit of yield pick-up over IG.",
    )
    fund_flow_loss_sensitivity: float = param(
        1.0,
        "1",
        0.0,
        20.0,
        "assumption: redemptions follow the fund's return from realised losses (flow-performance, Goldstein, Jiang "
        "and Ng 2017; no estimate for private credit)",
        "Quarterly outflow, as a share of capital, per unit of the quarter's losses over the capital they hit.",
    )
    fund_redemption_gate: float = param(
        0.05,
        "share/quarter",
        0.0,
        0.5,
        "assumption: typical evergreen-fund quarterly gate",
        "Most capital a fund pays out to redeeming investors per quarter.",
    )
    fund_liquid_share: float = param(
        0.1,
        "share",
        0.02,
        0.5,
        "assumption: evergreen private-credit funds and BDCs hold roughly 5-15% of capital in cash and liquid "
        "credit; the rest of what is not lent to AI is their other direct-lending book, which cannot be sold fast",
        "Share of capital a fund keeps in cash (its non-AI book beyond it is illiquid other assets).",
    )
    fund_credit_line_share: float = param(
        0.15,
        "share",
        0.0,
        1.0,
        "assumption: bank subscription and NAV facilities of funds, sized as a share of fund capital",
        "Size of a fund's back-leverage line from the banks, as a share of its capital.",
    )
    fund_credit_line_spread: float = param(
        0.02,
        "1/year",
        0.0,
        0.1,
        "assumption: NAV and subscription facilities priced around SOFR + 2%",
        "Spread over the reference rate on banks' back-leverage loans to funds.",
    )
    loan_sale_base_discount: float = param(
        0.05,
        "share",
        0.0,
        0.5,
        "assumption: private loans sold in the secondary market trade a few percent below their carrying value "
        "even in calm markets (illiquidity)",
        "Discount to carrying value at which a fund sells a loan before any price impact.",
    )
    loan_sale_price_impact: float = param(
        1.0,
        "1",
        0.0,
        10.0,
        "assumption: exponential inverse demand of Cifuentes, Ferrucci and Shin (2005), p = exp(-a x / depth)",
        "Price impact a of loan sales: selling the market's quarterly depth lowers the price to exp(-a).",
    )
    loan_market_depth_usd_bn_per_quarter: float = param(
        50.0,
        "USD bn/quarter",
        1.0,
        1000.0,
        "assumption: secondary buyers for private loans (credit secondaries funds, CLOs), tens of billions a "
        "quarter",
        "Depth of the secondary market for private loans in the price-impact rule.",
    )
    fund_stress_loss_rate: float = param(
        0.03,
        "share",
        0.0,
        0.5,
        "assumption: a 3% loss on the AI book stops new lending",
        "Cumulative loss rate at which a fund stops new lending.",
        ui=True,
    )
    bank_min_capital_ratio: float = param(
        0.115,
        "share of RWA",
        0.04,
        0.3,
        "assumption: Basel III CET1 4.5% + 2.5% buffer + G-SIB surcharge",
        "Capital ratio below which a bank makes no new loans.",
        ui=True,
    )
    bank_sector_limit: float = param(
        0.25,
        "share of capital",
        0.0,
        2.0,
        "assumption: large-exposure style concentration limit",
        "Most AI lending a bank holds, as a share of its capital.",
    )
    srt_cover_share: float = param(
        0.3,
        "share",
        0.0,
        1.0,
        "E134",
        "Share of a bank's AI loans covered by synthetic risk transfer when used.",
    )
    srt_premium_annual: float = param(
        0.08,
        "1/year",
        0.0,
        0.3,
        "assumption: SRT notes pay high coupons (E134)",
        "Premium on the covered amount paid to SRT investors.",
    )
    short_hedge_share: float = param(
        0.1,
        "share of AI loans",
        0.0,
        1.0,
        "E134: Deutsche Bank considers shorting an AI basket",
        "Notional of the AI-equity short as a share of the bank's AI loans.",
    )

    hedge_trigger_share: float = param(
        0.5,
        "share of the sector limit",
        0.0,
        1.0,
        "assumption: banks hedge well before they hit the limit (E134)",
        "A bank buys SRT protection (loop L10) once its AI loans exceed this share of its sector limit.",
    )
    hedge_quarters: int = param(
        20,
        "quarters",
        1,
        40,
        "assumption: SRT notes of about five years (E134)",
        "Term of a bank's SRT protection and AI-equity short.",
    )
    bank_payout_share: float = param(
        0.5,
        "share per quarter",
        0.0,
        1.0,
        "assumption: banks distribute capital above their target over a few quarters",
        "Share of capital above a bank's opening capital ratio paid out each quarter.",
    )


class MarketSettings(_Group):
    """Equity valuations and the sentiment index."""

    initial_sentiment: float = param(
        0.75,
        "index 0-1",
        0.0,
        1.0,
        "assumption: euphoric; S080 54% see a bubble yet keep buying",
        "Minsky sentiment index at the start (0 despair, 1 euphoria).",
        ui=True,
    )
    sentiment_return_weight: float = param(
        0.5,
        "1",
        0.0,
        5.0,
        "assumption: Brock-Hommes style extrapolation",
        "Sentiment gain per unit average AI equity return.",
    )
    sentiment_loss_weight: float = param(
        5.0,
        "1",
        0.0,
        50.0,
        "assumption: losses and defaults weigh heavily",
        "Sentiment loss per unit of sector losses over sector debt.",
    )
    sentiment_surprise_weight: float = param(
        1.0, "1", 0.0, 10.0, "assumption", "Sentiment gain per unit AI demand growth surprise (annualised)."
    )
    sentiment_mean_reversion: float = param(
        0.05,
        "1/quarter",
        0.0,
        1.0,
        "assumption",
        "Pull of sentiment back to its calibrated level (markets.initial_sentiment) each quarter.",
    )
    valuation_sentiment_elasticity: float = param(
        1.5,
        "1",
        0.0,
        5.0,
        "assumption: E009 Meta -13.5% and E057 Oracle +36% on news",
        "Log valuation change per unit change of sentiment.",
    )
    valuation_adjustment_speed: float = param(
        0.5,
        "1/quarter",
        0.05,
        1.0,
        "assumption",
        "Share of the gap to fundamental value closed each quarter.",
    )
    valuation_momentum: float = param(
        0.2,
        "1",
        0.0,
        0.9,
        "assumption: momentum traders",
        "Weight of last quarter's return in this quarter's return.",
    )
    momentum_cap_log: float = param(
        0.3,
        "log points per quarter",
        0.0,
        2.0,
        "assumption: momentum traders chase at most about 30% a quarter",
        "Largest last-quarter return (in log points) momentum traders extrapolate.",
    )
    defaulter_value_share: float = param(
        0.05,
        "share of target value",
        0.0,
        1.0,
        "assumption: a defaulting firm's shares trade near zero (the market wipes its equity)",
        "Share of its fundamental value a firm is worth in a quarter it defaults.",
    )
    default_memory: float = param(
        0.8,
        "share per quarter",
        0.0,
        1.0,
        "assumption: markets remember a default wave for about a year",
        "Share of last quarter's defaulted-debt share that markets still remember this quarter.",
    )


class BehaviourSettings(_Group):
    """Decision rules of the firms: expectations, capex responses, buffers and payouts."""

    expectation_adaptation: float = param(
        0.3,
        "1/quarter",
        0.0,
        1.0,
        "assumption: adaptive expectations (Brock & Hommes 1998)",
        "Share of the gap between realised and expected AI demand growth closed each quarter.",
    )
    expectation_sentiment_weight: float = param(
        0.2,
        "1/year",
        0.0,
        3.0,
        "assumption: shared mood tilts forecasts by a few points of growth (0.5 made capex follow the mood alone)",
        "Tilt of expected annual demand growth per unit of sentiment above its start.",
    )
    capacity_adjustment_speed: float = param(
        0.25,
        "1/quarter",
        0.02,
        1.0,
        "assumption: partial adjustment to the capital target, about a year to close a gap",
        "Share of the gap between target capacity and capacity in service or on order a firm orders each quarter.",
        ui=True,
    )
    capex_q_elasticity: float = param(
        0.5,
        "1",
        0.0,
        3.0,
        "assumption: the capital target rises with Tobin's q less than one for one (investment-q literature)",
        "Elasticity of the target capacity of a firm to Tobin's q of new capacity at today's price and use.",
        ui=True,
    )
    capex_debt_share: float = param(
        0.25,
        "share of capex",
        0.0,
        1.0,
        "E131: about half of 2025-28 data-centre capex is financed outside cash flow, much of it with debt",
        "Share of its capex an investment-grade firm funds with debt (bonds, SPVs, leases) even with cash to hand.",
    )
    capex_plan_adjustment: float = param(
        0.3,
        "1/quarter",
        0.05,
        1.0,
        "assumption: capex plans are set for the year and revised quarterly (half-life of about two quarters)",
        "Share of the gap between the rule's capex and last quarter's capex closed each quarter (1: at once).",
    )
    capex_race_weight: float = param(
        0.3,
        "1",
        0.0,
        2.0,
        "assumption: the arms race (digest section 6)",
        "Log change of target capacity per unit of rivals' annual capex growth above one's own.",
        ui=True,
    )
    capex_spread_weight: float = param(
        10.0,
        "1",
        0.0,
        50.0,
        "assumption",
        "Log cut of target capacity per unit rise of the IG spread over its start (0.01 = 100bp).",
    )
    capex_drawdown_weight: float = param(
        1.0,
        "1",
        0.0,
        5.0,
        "assumption: E009 markets punish capex",
        "Log cut of target capacity per unit of equity drawdown beyond the threshold.",
    )
    gpu_loan_tenor_years: float = param(
        4.0,
        "years",
        1.0,
        10.0,
        "assumption: draws under E085's 5-year facilities amortise over ~4 years",
        "Amortisation term of new GPU-backed loans.",
    )
    cash_floor_share: float = param(
        0.5,
        "share of opening cash",
        0.0,
        2.0,
        "assumption: firms keep about half their usual liquidity",
        "Cash a firm keeps as a buffer, as a share of its opening cash.",
    )
    lab_cash_buffer_quarters: float = param(
        4.0,
        "quarters",
        0.0,
        12.0,
        "assumption: labs raise ahead of burn",
        "Cash an AI lab keeps, in quarters of burn.",
    )
    payout_share: float = param(
        0.25,
        "1/quarter",
        0.0,
        1.0,
        "assumption: buybacks and dividends",
        "Share of cash above the opening level paid out each quarter.",
    )
    ai_opex_usd_bn_per_gw_year: float = param(
        1.5,
        "USD bn/GW-year",
        0.0,
        10.0,
        "assumption: staff, maintenance, networking and cooling besides electricity (X016)",
        "Operating cost of one energised GW-year besides electricity.",
    )
    lab_opex_scale_elasticity: float = param(
        0.5,
        "1",
        0.0,
        1.0,
        "assumption: labs' staff and sales costs grow slower than revenue",
        "Elasticity of an AI lab's non-compute costs to its revenue.",
    )
    coreweave_price_usd_bn_per_gw_year: float = param(
        6.0, "USD bn/GW-year", 1.0, 20.0, "X021", "Price of CoreWeave's compute contracts."
    )
    gpu_loan_ltv_max: float = param(
        0.8,
        "share",
        0.3,
        1.0,
        "assumption: GPU ABS loan-to-value covenants",
        "Loan-to-value covenant of GPU-backed loans.",
    )
    gpu_loan_advance_rate: float = param(
        0.7,
        "share",
        0.1,
        1.0,
        "assumption: below the covenant at signing",
        "Share of the GPUs' cost a GPU-backed loan finances.",
    )
    lab_equity_issue_max_share: float = param(
        0.025,
        "share of value per quarter",
        0.0,
        0.5,
        "E107: ~41 raised in 2025 on a 300-500 valuation",
        "Most equity an AI lab can raise per quarter, as a share of its valuation.",
    )

    capex_drawdown_threshold: float = param(
        0.2,
        "share of peak value",
        0.0,
        0.9,
        "assumption: E009 markets punish capex; small dips are ignored",
        "Fall of a firm's share price from its peak beyond which capex_drawdown_weight cuts capex.",
    )
    squeezed_capex_keep: float = param(
        0.5,
        "share per quarter",
        0.0,
        1.0,
        "assumption: Oracle halts its build-out when OpenAI pays short (digest loop L2)",
        "Share of its planned capex Oracle keeps in each quarter a customer pays it short.",
    )
    vendor_min_value_share: float = param(
        0.6,
        "share of peak value",
        0.0,
        1.0,
        "assumption: digest unwinding path, 'Nvidia might not make further investments'",
        "Nvidia invests in its customers only while its share price is at least this share of its peak.",
    )
    vendor_min_sentiment: float = param(
        0.25,
        "sentiment (0-1)",
        0.0,
        1.0,
        "assumption: as vendor_min_value_share",
        "Nvidia invests in its customers only while credit sentiment is at least this.",
    )
    lab_chip_buffer_share: float = param(
        0.5,
        "share of the cash buffer",
        0.0,
        2.0,
        "assumption: a lab spends into half its buffer on chips, since it raises ahead of burn",
        "Share of its cash buffer an AI lab keeps when it buys chips.",
    )
    lab_take_cut_buffer_share: float = param(
        0.25,
        "share of the cash buffer",
        0.0,
        2.0,
        "assumption: a lab cuts its compute take when its buffer is nearly gone",
        "An AI lab takes only the take-or-pay minimum when its cash after dues is below this share of its buffer.",
    )
    lab_resign_gw_share: float = param(
        0.5,
        "share of GW",
        0.0,
        1.0,
        "assumption: a lab back from default signs smaller contracts",
        "Share of its terminated compute GW an AI lab signs again after its exclusion window.",
    )


class DealSettings(_Group):
    """The 2025Q4 deals scripted into the first quarter (DEFAULTS.md section 4) and legacy contract terms."""

    meta_bond_usd_bn: float = param(30.0, "USD bn", 0.0, 100.0, "S005", "Meta's six-tranche bond.")
    relet_lag_quarters: int = param(
        4,
        "quarters",
        0,
        12,
        "assumption: a campus built to one customer's design takes about a year to re-let",
        "Quarters that capacity a builder built for a customer stands idle after the customer's contract ends in default.",
    )
    specificity_discount: float = param(
        0.25,
        "share of the market price",
        0.0,
        0.9,
        "assumption: customer-specific sites (power, cooling, networking to one tenant's design) re-let below market",
        "Discount on the market price at which such capacity re-lets, for the rest of the original contract's term.",
    )
    meta_bond_spread_short: float = param(
        0.0085, "1/year", 0.0, 0.05, "E010", "Spread of its 5-year tranche."
    )
    meta_bond_spread_long: float = param(0.014, "1/year", 0.0, 0.05, "E010", "Spread of its 40-year tranche.")
    hyperion_usd_bn: float = param(
        27.3, "USD bn", 0.0, 100.0, "E012", "Hyperion SPV bonds (off Meta's sheet)."
    )
    hyperion_pimco_share: float = param(
        18.0 / 27.3,
        "share",
        0.0,
        1.0,
        "E012: PIMCO took 18 of the 27.3 bn",
        "PIMCO's share of the Hyperion SPV bonds (Blue Owl holds the rest).",
    )
    hyperion_coupon: float = param(0.0658, "1/year", 0.0, 0.2, "E012", "Hyperion SPV coupon.")
    oracle_bond_usd_bn: float = param(18.0, "USD bn", 0.0, 100.0, "E054", "Oracle's September IG bond.")
    oracle_bond_spread: float = param(0.0165, "1/year", 0.0, 0.1, "E054", "Spread of Oracle's bond.")
    vantage_loans_usd_bn: float = param(
        38.0,
        "USD bn",
        0.0,
        100.0,
        "S045",
        "Vantage/Oracle project loans from the banks (TX 23.25 + WI 14.75).",
    )
    alphabet_bond_usd_bn: float = param(25.0, "USD bn", 0.0, 100.0, "E035", "Alphabet's November bonds.")
    amazon_bond_usd_bn: float = param(15.0, "USD bn", 0.0, 100.0, "E048", "Amazon's November bond.")
    new_bond_spread: float = param(
        0.008, "1/year", 0.0, 0.05, "E122: IG OAS 0.72-0.83", "Spread of Alphabet's and Amazon's new bonds."
    )
    xai_gpu_debt_usd_bn: float = param(12.5, "USD bn", 0.0, 50.0, "E144", "xAI's GPU SPV debt.")
    xai_chip_delivery_quarters: int = param(
        4,
        "quarters",
        1,
        12,
        "assumption: E144's SPV buys the GPUs as they are delivered over about a year",
        "Quarters over which xAI's chip order is delivered, paid for and financed, in equal tranches from 2025Q4.",
    )
    xai_gpu_spread: float = param(
        0.065,
        "1/year",
        0.0,
        0.2,
        "assumption: like E085's IG-contract loans",
        "Spread of xAI's GPU SPV debt.",
    )
    microsoft_finance_leases_usd_bn: float = param(
        46.2, "USD bn", 0.0, 200.0, "E025", "Microsoft's finance-lease liabilities at the start."
    )
    coreweave_notes_usd_bn: float = param(1.75, "USD bn", 0.0, 20.0, "E086", "CoreWeave's 9% senior notes.")
    coreweave_notes_coupon: float = param(0.09, "1/year", 0.0, 0.3, "E086", "Their coupon.")
    coreweave_gpu_loan_spread: float = param(
        0.08,
        "1/year",
        0.0,
        0.3,
        "E083: blended DDTL and other facilities",
        "Spread of CoreWeave's opening GPU-backed loans.",
    )
    project_loan_to_cost: float = param(
        0.7,
        "share of capex",
        0.1,
        0.95,
        "assumption: data-centre project finance at 60-80% loan-to-cost",
        "Share of a project company's capex its bank project loans finance; the sponsor's equity pays the rest.",
    )
    sponsor_guarantee_share: float = param(
        0.2,
        "share of project loans",
        0.0,
        1.0,
        "assumption: a limited sponsor (completion) guarantee, not full recourse",
        "Share of a project company's loans its sponsor guarantees if the project company defaults.",
    )
    project_loan_spread: float = param(
        0.025, "1/year", 0.0, 0.2, "S049", "Spread of bank project loans for data centres (Vantage/Oracle)."
    )
    revolver_spread: float = param(
        0.015,
        "1/year",
        0.0,
        0.2,
        "assumption: IG revolving credit lines",
        "Spread of a revolving credit line drawn when cash falls short.",
    )
    revolver_tenor_quarters: int = param(
        4,
        "quarters",
        1,
        20,
        "assumption: a revolver draw is repaid within a year",
        "Term of a revolving credit line draw.",
    )
    gpu_loan_spread_contracted: float = param(
        0.0625,
        "1/year",
        0.0,
        0.3,
        "E085",
        "Spread of GPU-backed loans on capacity with IG-customer contracts.",
    )
    gpu_loan_spread_other: float = param(
        0.13, "1/year", 0.0, 0.3, "E085", "Spread of GPU-backed loans without IG-customer contracts."
    )
    spv_premium: float = param(
        0.01,
        "1/year",
        0.0,
        0.1,
        "E012: Hyperion priced ~1pp above Meta's own bonds",
        "Premium of a new SPV facility over the IG spread.",
    )
    lease_premium: float = param(
        0.005,
        "1/year",
        0.0,
        0.1,
        "assumption: leases cost a little more than bonds",
        "Premium of a new finance lease over the IG spread.",
    )

    compute_renewal_quarters: int = param(
        16,
        "quarters",
        4,
        40,
        "assumption: four years, within the 4-5 year terms of the opening contracts (X021)",
        "Term of a renewed (or, after a default, re-signed) compute contract.",
    )


_POPULATION_SOURCE = "assumption: off by default; caps fit the benchmarks' 30,000-firm economy"


class PopulationSettings(_Group):
    """Synthetic firms added around the calibrated economy (population mode)."""

    # The caps admit the benchmarks' largest economy (30,000 firms in the mix 40/30/10/10/10, docs/PERFORMANCE.md)
    # with room to spare; they bound memory and time, not the economics.
    neoclouds: int = param(0, "firms", 0, 15000, _POPULATION_SOURCE, "Synthetic CoreWeave-like neoclouds.")
    ai_labs: int = param(0, "firms", 0, 10000, _POPULATION_SOURCE, "Synthetic OpenAI-like AI labs.")
    hyperscalers: int = param(0, "firms", 0, 5000, _POPULATION_SOURCE, "Synthetic hyperscaler-like firms.")
    funds: int = param(0, "firms", 0, 5000, _POPULATION_SOURCE, "Synthetic private-credit funds.")
    banks: int = param(0, "firms", 0, 5000, _POPULATION_SOURCE, "Synthetic banks.")
    size_dispersion: float = param(
        0.5,
        "log-sd",
        0.0,
        2.0,
        "assumption",
        "Log-normal dispersion of synthetic firms' size around the template firm.",
    )
    scale: float = param(
        0.05,
        "share",
        0.001,
        1.0,
        "assumption: synthetic firms are smaller than the template",
        "Median size of a synthetic firm relative to its template.",
    )
    counterparties: int = param(
        8,
        "firms",
        1,
        50,
        "assumption: syndicated GPU and project loans, multi-customer compute books; ~10 contracts per firm",
        "Counterparties of each synthetic opening deal (lenders of a loan, customers of a neocloud, providers "
        "of an AI lab, borrowers of a bank) and, in population mode, most lenders sharing one new loan.",
    )


# --------------------------------------------------------------------------------------------------------------
# Firm calibrations. Each table maps field -> (unit, lo, hi, description) and each firm's row gives
# (value, source) per field, so a field's meaning is declared once and its value once per firm.
# --------------------------------------------------------------------------------------------------------------

CORPORATE_FIELDS: dict[str, tuple[str, float, float, str]] = {
    "cash_usd_bn": ("USD bn", 0.0, 2000.0, "Cash and marketable securities at the start."),
    "debt_usd_bn": ("USD bn", 0.0, 2000.0, "On-balance-sheet financial debt (bonds) at the start."),
    "book_equity_usd_bn": ("USD bn", -500.0, 3000.0, "Book equity at the start."),
    "market_value_usd_bn": ("USD bn", 1.0, 20000.0, "Equity market value at the start."),
    "revenue_usd_bn_per_year": ("USD bn/year", 0.0, 2000.0, "Annual revenue at the start (all lines)."),
    "cash_margin": ("share", -20.0, 0.9, "Operating cash flow over revenue (AI labs: before compute)."),
    "ai_capacity_gw": ("GW", 0.0, 50.0, "Energised AI capacity owned at the start."),
    "capex_usd_bn_per_year": ("USD bn/year", 0.0, 1000.0, "AI capex run-rate at the start."),
}

HYPERSCALERS: dict[str, dict[str, tuple[float, str]]] = {
    "meta": {
        "cash_usd_bn": (44.4, "E005"),
        "debt_usd_bn": (28.8, "E006"),
        "book_equity_usd_bn": (
            190.0,
            "assumption: gap in DEFAULTS.md; total assets 303.8 (E005) less liabilities",
        ),
        "market_value_usd_bn": (1630.0, "X018"),
        "revenue_usd_bn_per_year": (189.5, "E001"),
        "cash_margin": (0.57, "E007"),
        "ai_capacity_gw": (2.0, "assumption: ~70 capex/yr (S008) at 50/GW over 1.5y"),
        "capex_usd_bn_per_year": (76.0, "S035"),
    },
    "microsoft": {
        "cash_usd_bn": (102.0, "E023"),
        "debt_usd_bn": (43.2, "X013"),
        "book_equity_usd_bn": (363.0, "S019"),
        "market_value_usd_bn": (4040.0, "E029"),
        "revenue_usd_bn_per_year": (293.8, "E023"),
        "cash_margin": (0.48, "E021"),
        "ai_capacity_gw": (4.0, "assumption: largest AI cloud (E026 RPO 392)"),
        "capex_usd_bn_per_year": (140.0, "X015"),
    },
    "alphabet": {
        "cash_usd_bn": (98.5, "E032"),
        "debt_usd_bn": (25.0, "X001"),
        "book_equity_usd_bn": (380.0, "assumption: gap in DEFAULTS.md; order of Alphabet's 2025 filings"),
        "market_value_usd_bn": (3400.0, "assumption: gap in DEFAULTS.md; late-Oct-2025 order of magnitude"),
        "revenue_usd_bn_per_year": (400.0, "X003"),
        "cash_margin": (0.375, "X002"),
        "ai_capacity_gw": (3.5, "assumption: TPU and GPU fleet of the order of Microsoft's"),
        "capex_usd_bn_per_year": (93.0, "S027"),
    },
    "amazon": {
        "cash_usd_bn": (94.2, "E043"),
        "debt_usd_bn": (54.3, "E043"),
        "book_equity_usd_bn": (369.6, "E043"),
        "market_value_usd_bn": (2400.0, "assumption: gap in DEFAULTS.md; late-Oct-2025 order of magnitude"),
        "revenue_usd_bn_per_year": (712.0, "X004"),
        "cash_margin": (0.184, "E042"),
        "ai_capacity_gw": (4.5, "assumption: S034 3.8 GW added in 12 months, part AI"),
        "capex_usd_bn_per_year": (125.0, "S033"),
    },
}

OTHER_CORPORATES: dict[str, dict[str, tuple[float, str]]] = {
    "oracle": {
        "cash_usd_bn": (11.0, "E052"),
        "debt_usd_bn": (105.4, "E052"),
        "book_equity_usd_bn": (24.7, "E052"),
        "market_value_usd_bn": (892.0, "E057"),
        "revenue_usd_bn_per_year": (57.4, "E050"),
        "cash_margin": (0.37, "E051: OCF TTM 21.5 over revenue 57.4"),
        "ai_capacity_gw": (1.0, "assumption: OCI before Stargate sites"),
        "capex_usd_bn_per_year": (35.0, "E053"),
    },
    "coreweave": {
        "cash_usd_bn": (2.5, "X012"),
        "debt_usd_bn": (14.0, "E084"),
        "book_equity_usd_bn": (4.0, "assumption: gap in DEFAULTS.md; small after losses"),
        "market_value_usd_bn": (50.0, "E089"),
        "revenue_usd_bn_per_year": (5.1, "E081"),
        "cash_margin": (0.45, "assumption: X019 OCF ~2 over revenue 5.1 before interest"),
        "ai_capacity_gw": (0.85, "E081"),
        "capex_usd_bn_per_year": (13.0, "E081"),
    },
    "nvidia": {
        "cash_usd_bn": (60.6, "E063"),
        "debt_usd_bn": (8.5, "E064"),
        "book_equity_usd_bn": (118.9, "E061"),
        "market_value_usd_bn": (5050.0, "E069"),
        "revenue_usd_bn_per_year": (213.0, "X007"),
        "cash_margin": (0.42, "X014: OCF ~90 over revenue ~213"),
        "ai_capacity_gw": (0.0, "assumption: not a cloud"),
        "capex_usd_bn_per_year": (0.0, "assumption: capex minor (DEFAULTS.md)"),
    },
    "openai": {
        "cash_usd_bn": (17.5, "E102"),
        "debt_usd_bn": (0.0, "X011"),
        "book_equity_usd_bn": (17.5, "assumption: private; equity-funded, so cash less no debt (X011)"),
        "market_value_usd_bn": (500.0, "E106"),
        "revenue_usd_bn_per_year": (13.0, "S083"),
        "cash_margin": (-0.1, "assumption: E103 burn 8.5 = 1.1x revenue opex plus ~7 of Azure compute"),
        "ai_capacity_gw": (1.2, "assumption: Azure compute in use late 2025 (E104 ~30 GW committed later)"),
        "capex_usd_bn_per_year": (0.0, "assumption: compute is contracted, not owned, at the start"),
    },
    "xai": {
        "cash_usd_bn": (7.5, "E144"),
        "debt_usd_bn": (0.0, "assumption: debt sits in the GPU SPV (E144)"),
        "book_equity_usd_bn": (7.5, "E144"),
        "market_value_usd_bn": (200.0, "assumption: late-2025 reports"),
        "revenue_usd_bn_per_year": (1.0, "assumption: small revenue; burn ~1/month (E144)"),
        "cash_margin": (-11.0, "E144: burn ~1 per month on revenue of ~1 a year"),
        "ai_capacity_gw": (0.3, "assumption: Colossus 1"),
        "capex_usd_bn_per_year": (0.0, "assumption: GPUs leased from the SPV"),
    },
    "anthropic": {
        "cash_usd_bn": (15.0, "assumption: recent rounds; not in facts.csv"),
        "debt_usd_bn": (0.0, "assumption"),
        "book_equity_usd_bn": (15.0, "assumption"),
        "market_value_usd_bn": (
            180.0,
            "assumption: 2025 round as reported; S036 gain implies a large mark-up",
        ),
        "revenue_usd_bn_per_year": (5.0, "assumption: 2025 run-rate as reported; not in facts.csv"),
        "cash_margin": (-0.6, "assumption: loss-making like E103"),
        "ai_capacity_gw": (0.8, "assumption"),
        "capex_usd_bn_per_year": (0.0, "assumption: compute rented from AWS/Google"),
    },
}

FUND_FIELDS: dict[str, tuple[str, float, float, str]] = {
    "capital_usd_bn": (
        "USD bn",
        0.0,
        5000.0,
        "Investor capital available for AI-related lending at the start.",
    ),
}
FUNDS: dict[str, dict[str, tuple[float, str]]] = {
    "blue_owl": {"capital_usd_bn": (145.0, "E137: FT's ~145 for the relevant platform")},
    "pimco": {"capital_usd_bn": (120.0, "assumption: PIMCO took 18 of Hyperion (E012); share of E130's 450")},
    "apollo": {"capital_usd_bn": (120.0, "assumption: Apollo in xAI SPV debt (E144); share of E130's 450")},
}

BANK_FIELDS: dict[str, tuple[str, float, float, str]] = {
    "capital_usd_bn": ("USD bn", 1.0, 2000.0, "Core equity tier 1 capital at the start."),
    "capital_ratio": ("share of RWA", 0.05, 0.4, "CET1 ratio at the start."),
    "net_income_usd_bn_per_year": (
        "USD bn/year",
        -50.0,
        200.0,
        "Net income from business outside the model.",
    ),
}
BANKS: dict[str, dict[str, tuple[float, str]]] = {
    "jpmorgan": {
        "capital_usd_bn": (280.0, "assumption: E136 CET1 14.8% of ~1,900 RWA"),
        "capital_ratio": (0.148, "E136"),
        "net_income_usd_bn_per_year": (57.6, "E136"),
    },
    "mufg": {
        "capital_usd_bn": (110.0, "assumption: gap in DEFAULTS.md; about 40% of JPMorgan"),
        "capital_ratio": (0.135, "assumption: gap in DEFAULTS.md"),
        "net_income_usd_bn_per_year": (12.0, "assumption: gap in DEFAULTS.md"),
    },
    "deutsche_bank": {
        "capital_usd_bn": (55.0, "assumption: gap in DEFAULTS.md"),
        "capital_ratio": (0.138, "assumption: gap in DEFAULTS.md"),
        "net_income_usd_bn_per_year": (6.0, "assumption: gap in DEFAULTS.md"),
    },
}


def _bounds(field) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in field.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return lo, hi


def _firm_model(
    class_name: str, fields: dict[str, tuple[str, float, float, str]], row: dict[str, tuple[float, str]]
) -> type[_Group]:
    declared = {}
    for name, (unit, lo, hi, description) in fields.items():
        value, source = row[name]
        declared[name] = (float, param(value, unit, lo, hi, source, description))
    return create_model(class_name, __base__=_Group, **declared)


def _firm_group(tables: dict[str, dict[str, tuple[float, str]]], fields) -> dict[str, tuple[type, Any]]:
    out = {}
    for firm, row in tables.items():
        model = _firm_model("".join(p.title() for p in firm.split("_")) + "Calibration", fields, row)
        out[firm] = (model, Field(default_factory=model, description=f"Calibration of {firm}."))
    return out


# --------------------------------------------------------------------------------------------------------------
# Shocks: each kind declares what its size means and which sizes make sense (checked per shock)
# --------------------------------------------------------------------------------------------------------------


OWN_ERROR = "creditloop"  # the pydantic error type of a refusal that carries its whole message


def own_error(message: str) -> PydanticCustomError:
    """A validation error whose message is already the one line the user sees (less the file or option)."""
    return PydanticCustomError(OWN_ERROR, "{m}", {"m": message})


def _whole_number_as_int(value: Any) -> Any:
    """A whole float (6.0) is the integer 6: TOML and the sweep ranges write some integers that way. Anything
    else (a string "6", a bool, 6.5) is left for the strict integer check to refuse."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeInt = Annotated[int, BeforeValidator(_whole_number_as_int), Strict()]


@dataclass(frozen=True)
class ShockKind:
    """One kind of scripted shock: what its ``size`` means, its unit and the sizes that make sense."""

    name: str
    unit: str
    lo: float
    hi: float
    # True: in force for `duration` quarters from its quarter; False: fires once, at its quarter
    windowed: bool
    description: str
    why: str  # why the range is what it is
    lo_open: bool = False  # True: lo itself is not allowed (a positive multiplier)

    def contains(self, size: float) -> bool:
        above = size > self.lo if self.lo_open else size >= self.lo
        return above and size <= self.hi

    @property
    def range_text(self) -> str:
        return f"{'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}]"

    @property
    def allowed(self) -> str:
        return f"a number in {self.range_text} ({self.unit})"


_GPU_LIFE_LO, _GPU_LIFE_HI = _bounds(TechnologySettings.model_fields["gpu_economic_life_years"])

SHOCK_KINDS: dict[str, ShockKind] = {
    k.name: k
    for k in (
        ShockKind(
            "ai_demand_level",
            unit="log change",
            lo=-3.0,
            hi=1.0,
            windowed=False,
            description="One-off level shift of the AI demand index: it is multiplied by exp(size).",
            why="exp(-3) leaves 5% of demand, exp(1) is 2.7 times as much: the calibration does not reach "
            "beyond",
        ),
        ShockKind(
            "ai_demand_growth",
            unit="1/year",
            lo=-0.75,
            hi=1.0,
            windowed=True,
            description="Shift of the annual trend growth of AI demand, added for `duration` quarters.",
            why="the demand step is log(1 + growth), so growth must stay above -1/year: from the lowest "
            "trend the schema allows (-0.2/year) one shift leaves at least -0.95/year; stacked shifts are "
            "checked by a cross-field rule",
        ),
        ShockKind(
            "openai_revenue",
            unit="share of revenue lost",
            lo=0.0,
            hi=1.0,
            windowed=True,
            description="OpenAI revenue shortfall: its revenue is multiplied by (1 - size) for `duration` "
            "quarters.",
            why="a share: 0 is no loss, 1 is all of it",
        ),
        ShockKind(
            "reference_rate",
            unit="1/year",
            lo=-0.15,
            hi=0.15,
            windowed=True,
            description="Reference-rate jump added for `duration` quarters (0.02 = +200bp).",
            why="at most the width of the schema's rate range either way; the rate itself stays >= 0 by a "
            "cross-field rule",
        ),
        ShockKind(
            "spreads",
            unit="log multiplier",
            lo=-2.0,
            hi=2.0,
            windowed=True,
            description="Credit spreads are multiplied by exp(size) for `duration` quarters.",
            why="from exp(-2) = 0.14 to exp(2) = 7.4 times the calibrated spreads",
        ),
        ShockKind(
            "gpu_obsolescence",
            unit="years",
            lo=_GPU_LIFE_LO,
            hi=_GPU_LIFE_HI,
            windowed=True,
            description="GPU economic life falls to `size` years for `duration` quarters.",
            why="a GPU life: the range of technology.gpu_economic_life_years",
        ),
        ShockKind(
            "grid_capacity",
            unit="multiplier",
            lo=0.0,
            hi=10.0,
            lo_open=True,
            windowed=True,
            description="Grid connections per quarter are multiplied by `size` for `duration` quarters.",
            why="a positive multiplier (stacked shocks multiply); ten times the plan is far beyond any grid "
            "build-out",
        ),
        ShockKind(
            "fund_redemptions",
            unit="share of capital",
            lo=0.0,
            hi=1.0,
            windowed=False,
            description="Private-credit investors ask for `size` of fund capital back at once (the gates "
            "apply).",
            why="a share of capital",
        ),
        ShockKind(
            "sentiment",
            unit="index points",
            lo=-1.0,
            hi=1.0,
            windowed=False,
            description="The sentiment index (0 to 1) jumps by `size` (and stays within 0 to 1).",
            why="the whole width of the 0-1 index either way",
        ),
    )
}


def shock_kind(kind: str) -> ShockKind:
    """The declaration of one shock kind (KeyError if unknown), e.g. ``shock_kind("spreads").hi``."""
    return SHOCK_KINDS[kind]


class Shock(BaseModel):
    """A scripted shock: at ``quarter`` (0 = 2025Q4) something changes by ``size`` for ``duration`` quarters.

    ``size``'s own bounds are the envelope of every kind's range (the UI reads them); the kind's own range is
    checked after (see :data:`SHOCK_KINDS`). Strict: in a file, "6" is not a quarter.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    # One line per kind of SHOCK_KINDS (checked below): the UI shows these comments as the kinds' help.
    kind: Literal[
        "ai_demand_level",  # one-off level shift of the AI demand index, size = log change (e.g. -0.3)
        "ai_demand_growth",  # shift of annual demand growth, size in 1/year, for `duration` quarters
        "openai_revenue",  # OpenAI revenue shortfall, size = share lost (0.4 = 40% lower)
        "reference_rate",  # reference-rate jump, size in 1/year (0.02 = +200bp)
        "spreads",  # credit spreads multiply by exp(size)
        "gpu_obsolescence",  # GPU economic life falls to `size` years
        "grid_capacity",  # grid connections per quarter multiplied by `size`
        "fund_redemptions",  # private-credit investors redeem `size` share of capital (gates apply)
        "sentiment",  # sentiment index jumps by `size`
    ]
    quarter: WholeInt = Field(ge=0, le=119)
    size: float = Field(
        ge=min(k.lo for k in SHOCK_KINDS.values()),
        le=max(k.hi for k in SHOCK_KINDS.values()),
        allow_inf_nan=False,
    )
    duration: WholeInt = Field(default=1, ge=1, le=120)

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Shock:
        k = SHOCK_KINDS[self.kind]
        if not k.contains(self.size):
            raise own_error(
                f"size {self.size:g} is out of range for a {self.kind} shock; allowed: {k.allowed}"
            )
        if not k.windowed and self.duration != 1:
            raise own_error(
                f"duration {self.duration} is not valid for a {self.kind} shock; allowed: 1 (it fires once, "
                "at its quarter)"
            )
        return self


if get_args(Shock.model_fields["kind"].annotation) != tuple(SHOCK_KINDS):
    raise RuntimeError("Shock.kind must list exactly the kinds of SHOCK_KINDS, in the same order")


# --------------------------------------------------------------------------------------------------------------
# Cross-field rules: what no single range can say. Each is monotone in each of its fields, so a sweep that
# keeps a rule at its axes' extremes keeps it at every point (sweep/grid.py relies on this).
# --------------------------------------------------------------------------------------------------------------


def value_of(params: Any, name: str) -> Any:
    """The value of a dotted parameter name in a :class:`Parameters`."""
    node = params
    for part in name.split("."):
        node = getattr(node, part)
    return node


@dataclass(frozen=True)
class Rule:
    """``check(params)`` is None when the parameters keep the rule, else the refusal naming the fields and
    their values."""

    fields: tuple[str, ...]
    description: str
    check: Callable[[Any], str | None]


def _in_force(shocks: tuple[Shock, ...], kind: str, q: int) -> float:
    """The sum of the sizes of the ``kind`` shocks in force in quarter ``q`` (as the economy adds them)."""
    return sum(s.size for s in shocks if s.kind == kind and s.quarter <= q < s.quarter + s.duration)


def _rate_stays_non_negative(p: Any) -> str | None:
    base = p.credit.reference_rate_annual
    for q in range(p.run.quarters):
        shift = _in_force(p.shocks, "reference_rate", q)
        if base + shift < -1e-12:
            return (
                f"credit.reference_rate_annual = {base:g} plus the reference_rate shocks in force in quarter "
                f"{q} ({shift:+g}) is {base + shift:g}"
            )
    return None


def _growth_stays_above_minus_one(p: Any) -> str | None:
    d = p.demand
    lowest = min(d.ai_growth_initial_annual, d.ai_growth_longrun_annual)
    for q in range(p.run.quarters):
        shift = _in_force(p.shocks, "ai_demand_growth", q)
        if lowest + shift <= -1.0:
            initial, longrun = d.ai_growth_initial_annual, d.ai_growth_longrun_annual
            return (
                f"the lowest trend growth {lowest:g} (demand.ai_growth_initial_annual = {initial:g}, "
                f"demand.ai_growth_longrun_annual = {longrun:g}) plus the ai_demand_growth shocks in force "
                f"in quarter {q} ({shift:+g}) is {lowest + shift:g}"
            )
    return None


def _shocks_fire_within_the_run(p: Any) -> str | None:
    horizon = p.run.quarters
    for i, s in enumerate(p.shocks):
        if s.quarter >= horizon:
            return (
                f"shocks[{i}] ({s.kind} at quarter {s.quarter}) never fires: quarter {s.quarter} is at or "
                f"past the horizon run.quarters = {horizon}; allowed: a quarter in [0, {horizon - 1}]"
            )
    return None


RULES: tuple[Rule, ...] = (
    Rule(
        ("credit.reference_rate_annual", "shocks", "run.quarters"),
        "credit.reference_rate_annual plus the reference_rate shocks in force stays >= 0 in every quarter",
        _rate_stays_non_negative,
    ),
    Rule(
        ("demand.ai_growth_initial_annual", "demand.ai_growth_longrun_annual", "shocks", "run.quarters"),
        "annual AI demand growth stays above -1 (-100%/year) in every quarter: the lower of "
        "demand.ai_growth_initial_annual and demand.ai_growth_longrun_annual (the trend lies between them) "
        "plus the ai_demand_growth shocks in force",
        _growth_stays_above_minus_one,
    ),
    Rule(
        ("shocks", "run.quarters"),
        "every shock's quarter is before the horizon run.quarters (a later shock would never fire)",
        _shocks_fire_within_the_run,
    ),
)


def _keep_the_rules(self: Any) -> Any:
    for rule in RULES:
        why = rule.check(self)
        if why is not None:
            raise own_error(f"{why}; rule: {rule.description}")
    return self


_FIRM_FIELDS = {
    **_firm_group(HYPERSCALERS, CORPORATE_FIELDS),
    **_firm_group(OTHER_CORPORATES, CORPORATE_FIELDS),
    **_firm_group(FUNDS, FUND_FIELDS),
    **_firm_group(BANKS, BANK_FIELDS),
}

Parameters = create_model(
    "Parameters",
    __base__=_Group,
    __doc__="Every parameter of a creditloop run (scenario defaults plus overrides).",
    run=(RunSettings, Field(default_factory=RunSettings)),
    demand=(DemandSettings, Field(default_factory=DemandSettings)),
    technology=(TechnologySettings, Field(default_factory=TechnologySettings)),
    energy=(EnergySettings, Field(default_factory=EnergySettings)),
    credit=(CreditSettings, Field(default_factory=CreditSettings)),
    circular=(CircularSettings, Field(default_factory=CircularSettings)),
    lenders=(LenderSettings, Field(default_factory=LenderSettings)),
    markets=(MarketSettings, Field(default_factory=MarketSettings)),
    behaviour=(BehaviourSettings, Field(default_factory=BehaviourSettings)),
    deals=(DealSettings, Field(default_factory=DealSettings)),
    population=(PopulationSettings, Field(default_factory=PopulationSettings)),
    shocks=(tuple[Shock, ...], Field(default=(), description="Scripted shocks of the scenario.")),
    __validators__={"_keep_the_rules": model_validator(mode="after")(_keep_the_rules)},
    **_FIRM_FIELDS,
)

HYPERSCALER_NAMES = tuple(HYPERSCALERS)
FUND_NAMES = tuple(FUNDS)
BANK_NAMES = tuple(BANKS)
GROUP_TITLES = {
    "run": "Run",
    "demand": "AI demand",
    "technology": "Technology",
    "energy": "Energy",
    "credit": "Financing",
    "circular": "Circular deals",
    "lenders": "Lenders",
    "markets": "Markets",
    "behaviour": "Behaviour",
    "deals": "Scripted deals",
    "population": "Population",
}


@dataclass(frozen=True)
class ParamSpec:
    """One leaf parameter, as the CLI, UI, sweeps and docs see it."""

    name: str  # dotted path, e.g. "demand.ai_growth_initial_annual"
    type: type
    default: Number
    unit: str
    lo: float | None
    hi: float | None
    source: str
    description: str
    group: str
    ui: bool

    @property
    def allowed(self) -> str:
        return allowed_text(self.type, self.lo, self.hi)


def _number_text(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def allowed_text(kind: type, lo: float | None = None, hi: float | None = None) -> str:
    """What a value of this type and range may be, for messages: "an integer in [1, 120]", "true or false"."""
    if kind is bool:
        return "true or false"
    noun = "an integer" if kind is int else "a number"
    if lo is not None and hi is not None:
        return f"{noun} in [{_number_text(lo)}, {_number_text(hi)}]"
    if lo is not None:
        return f"{noun} >= {_number_text(lo)}"
    return noun if hi is None else f"{noun} <= {_number_text(hi)}"


def _walk(model: type[BaseModel], prefix: str, group: str):
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _walk(ann, f"{prefix}{name}.", group or name)
            continue
        extra = field.json_schema_extra
        if not isinstance(extra, dict):
            continue  # shocks: a list, not a leaf parameter
        lo, hi = _bounds(field)
        yield ParamSpec(
            f"{prefix}{name}",
            ann,
            field.default,
            extra["unit"],
            lo,
            hi,
            extra["source"],
            field.description or "",
            group,
            bool(extra.get("ui")),
        )


_SPECS: tuple[ParamSpec, ...] = tuple(_walk(Parameters, "", ""))
_BY_NAME = {s.name: s for s in _SPECS}


def loop_on(params, loop: str) -> bool:
    """Is circular loop ``loop`` (e.g. "loop_l1_nvidia_openai") active: its own switch and the master switch."""
    return bool(params.circular.circular_financing and getattr(params.circular, loop))


def parameter_specs() -> tuple[ParamSpec, ...]:
    """Every leaf parameter in declaration order."""
    return _SPECS


def spec(name: str) -> ParamSpec:
    """The spec of one dotted parameter name (KeyError if unknown)."""
    return _BY_NAME[name]


@functools.cache
def value_adapter(name: str, *, as_number: bool = False) -> TypeAdapter:
    """The pydantic validator of one parameter, built from its declaration: its type and its range, strictly
    (a string "6" or "false" is neither an integer nor a boolean; a whole 6.0 is the integer 6; inf and nan
    are no numbers). ``as_number``: an integer parameter's range as a number (a design range's bounds)."""
    s = spec(name)
    if s.type is bool:
        return TypeAdapter(Annotated[bool, Strict()])
    kind = WholeInt if s.type is int and not as_number else Annotated[float, Strict()]
    return TypeAdapter(Annotated[kind, Field(ge=s.lo, le=s.hi, allow_inf_nan=False)])
