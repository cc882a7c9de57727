"""The named counterfactuals a run is compared with (docs/ODD.md §7.14): each is a change of the parameters, and
says in words exactly what it removes. The twin, the ``amplify`` command, the sweeps and the app read them here.

* ``vendor_deals_off``: the master switch (``circular.circular_financing`` off): the vendor deals of loops L1-L7
  are not made (vendor equity, the CoreWeave backstop, AMD's warrants, Microsoft's and Amazon's stakes, OpenAI's
  Nvidia and AMD chip programmes that come with them, the project companies and their loans), while the compute
  commitments signed on them stay (Oracle carries the OpenAI contract itself).
* ``arm_length``: the same deals, purchases and commitments, but every vendor equity investment (L1, L4-L7) comes
  from outside investors at the same amount, time and valuation: it isolates who finances, not what is bought.
* ``no_deals``: the circular deals are never signed: every loop-tagged contract is gone (L1-L8 and L10; the
  behavioural loop L9 stays), and the commitments that depended on them shrink to what OpenAI could fund from
  outside money: OpenAI's 2025 compute commitments (Oracle, AWS, CoreWeave), and so the build-out sized on them,
  scale by ``outside / (outside + vendor)`` (:func:`outside_money_share`).
* ``no_reflexivity``: loop L9 fully off: credit, capex, the vendor and equity valuations see a constant mood and
  prices carry no momentum.
* ``no_l1`` ... ``no_l10`` (not L9: that is ``no_reflexivity``): one loop's switch off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from params.schema import Parameters

LOOP_SWITCHES = {
    1: "loop_l1_nvidia_openai",
    2: "loop_l2_oracle_buildout",
    3: "loop_l3_amd_warrants",
    4: "loop_l4_coreweave_backstop",
    5: "loop_l5_microsoft_openai",
    6: "loop_l6_amazon_anthropic",
    7: "loop_l7_nvidia_xai",
    8: "loop_l8_meta_spv",
    9: "loop_l9_reflexivity",
    10: "loop_l10_risk_transfer",
}


@dataclass(frozen=True)
class Counterfactual:
    name: str
    removes: str  # what it takes out of the factual run, in words
    changes: Callable[[Parameters], dict[str, Any]]  # updates of the circular group


def outside_money_share(p: Parameters) -> float:
    """What OpenAI could fund from outside money, as a share of its funding with the vendor deals: outside =
    SoftBank's commitment (``circular.softbank_openai_usd_bn``) and its own cash (``openai.cash_usd_bn``);
    vendor = Nvidia's investment cap, Microsoft's funding and AMD's warrant shares at the 2025 price."""
    c = p.circular
    outside = c.softbank_openai_usd_bn + p.openai.cash_usd_bn
    vendor = (
        c.nvidia_openai_max_usd_bn
        + c.microsoft_openai_funded_usd_bn
        + c.amd_warrant_shares_m * c.amd_share_price_usd / 1000.0
    )
    return outside / (outside + vendor) if outside + vendor > 0 else 1.0


def _no_deals(p: Parameters) -> dict[str, Any]:
    return {
        "circular_financing": False,
        "loop_l8_meta_spv": False,
        "loop_l10_risk_transfer": False,
        "commitment_scale": outside_money_share(p),
    }


COUNTERFACTUALS: dict[str, Counterfactual] = {
    c.name: c
    for c in (
        Counterfactual(
            "vendor_deals_off",
            "the vendor deals of loops L1-L7 (vendor equity, backstop, warrants, stakes, OpenAI's chip programmes, "
            "the project companies' loans); the compute commitments stay",
            lambda p: {"circular_financing": False},
        ),
        Counterfactual(
            "arm_length",
            "who finances: every vendor equity investment (L1, L4-L7) is made by outside investors instead, at the "
            "same amount, time and valuation",
            lambda p: {"arm_length": True},
        ),
        Counterfactual(
            "no_deals",
            "every loop-tagged contract (L1-L8, L10), and OpenAI's 2025 commitments beyond what outside money "
            "could fund (scaled by the outside-money share)",
            _no_deals,
        ),
        Counterfactual(
            "no_reflexivity",
            "loop L9: sentiment no longer feeds credit, capex, the vendor or valuations, and prices carry no "
            "momentum",
            lambda p: {"loop_l9_reflexivity": False},
        ),
        *(
            Counterfactual(f"no_l{k}", f"loop L{k} ({switch})", lambda p, s=switch: {s: False})
            for k, switch in LOOP_SWITCHES.items()
            if k != 9
        ),
    )
}
DEFAULT = "vendor_deals_off"


def apply(params: Parameters, name: str) -> Parameters:
    """The parameters of counterfactual ``name`` (a clear error for an unknown name)."""
    if name not in COUNTERFACTUALS:
        raise ValueError(f"counterfactual {name!r} is not one of: {', '.join(COUNTERFACTUALS)}")
    changes = COUNTERFACTUALS[name].changes(params)
    return params.model_copy(update={"circular": params.circular.model_copy(update=changes)})
