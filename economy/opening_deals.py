"""The deals of 2025Q4 (docs/ODD.md §5.4, DEFAULTS.md §4), booked in the first quarter before firms decide, so
they flow through the ledger like every later deal: Meta's bond and its Hyperion SPV (L8), Oracle's bond and the
Vantage project loans (L2), Alphabet's and Amazon's bonds, SoftBank's tranche into OpenAI, and Nvidia's equity in
xAI (L7); xAI's GPU SPV debt and chips over the order's delivery schedule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounting.contracts import Kind
from accounting.ledger import World
from params.schema import loop_on

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def scripted_deals(model: CreditLoopModel) -> None:
    """The 2025Q4 deals of DEFAULTS.md section 4, booked before firms decide: the one-off deals in the first
    quarter, xAI's chip order over its delivery schedule."""
    if model.quarter == 0:
        _first_quarter_deals(model)
    xai_chip_tranche(model)


def _first_quarter_deals(model: CreditLoopModel) -> None:
    p, ci, credit, ledger, dl = model.p, model.p.circular, model.credit, model.ledger, model.p.deals
    ref = model.market.reference_rate
    meta, oracle = model.firm("Meta"), model.firm("Oracle")
    # Meta's bond: six tranches of 5-40 years, spreads rising from the 5- to the 40-year tranche
    tenors = (5, 7, 10, 20, 30, 40)
    for i, years in enumerate(tenors):
        spread = dl.meta_bond_spread_short + (dl.meta_bond_spread_long - dl.meta_bond_spread_short) * i / 5
        ledger.open_contract(
            Kind.BOND,
            World.OUTSIDE_INVESTORS,
            meta.party,
            principal=dl.meta_bond_usd_bn / 6,
            cash=dl.meta_bond_usd_bn / 6,
            maturity_q=4 * years,
            fixed_rate=ref + spread,
        )
    model.log(
        "bond",
        "Meta",
        f"Meta sells a {dl.meta_bond_usd_bn:.0f}bn bond in six tranches of 5 to 40 years",
        "bond market",
        dl.meta_bond_usd_bn,
    )
    # Hyperion: PIMCO/Blue Owl SPV bonds, off Meta's balance sheet, with a residual-value guarantee (loop L8)
    if p.circular.loop_l8_meta_spv:
        pimco, blue_owl = model.firm("PIMCO"), model.firm("Blue Owl")
        for fund, amount in (
            (pimco, dl.hyperion_pimco_share * dl.hyperion_usd_bn),
            (blue_owl, (1.0 - dl.hyperion_pimco_share) * dl.hyperion_usd_bn),
        ):
            ledger.open_contract(
                Kind.SPV_FACILITY,
                fund.party,
                meta.party,
                principal=amount,
                cash=amount,
                maturity_q=4 * (2049 - 2025),
                fixed_rate=dl.hyperion_coupon,
                off_balance_sheet=True,
                residual_guarantee=p.credit.spv_residual_value_guarantee * amount,
                loop=8,
            )
        model.log(
            "private_credit",
            "Meta",
            f"Meta's Hyperion SPV raises {dl.hyperion_usd_bn:.1f}bn from PIMCO and "
            "Blue Owl, off Meta's balance sheet",
            "PIMCO, Blue Owl",
            dl.hyperion_usd_bn,
        )
    # Oracle's IG bond and the Vantage project loans from the banks (loop L2)
    ledger.open_contract(
        Kind.BOND,
        World.OUTSIDE_INVESTORS,
        oracle.party,
        principal=dl.oracle_bond_usd_bn,
        cash=dl.oracle_bond_usd_bn,
        maturity_q=4 * 10,
        fixed_rate=ref + dl.oracle_bond_spread,
    )
    if loop_on(p, "loop_l2_oracle_buildout"):
        for bank in model.banks:
            bank.decide()
        sites = model.project_company
        # the developer's owners put up the equity beside the loans, at the same loan-to-cost (assumption; E055:
        # the borrowers are the Vantage-developed sites, not Oracle)
        ltc = dl.project_loan_to_cost
        vantage = p.circular.commitment_scale * dl.vantage_loans_usd_bn  # sized on the contract (§7.14)
        ledger.contribute(World.OUTSIDE_INVESTORS, sites.party, (1.0 - ltc) / ltc * vantage)
        loans = credit.borrow_bank(
            sites,
            vantage,
            spread=dl.project_loan_spread,
            tenor_q=4 * p.credit.loan_tenor_years,
            loop=2,
            label="Vantage project loans for Texas and Wisconsin",
        )
        sites.guarantee(loans)
    for name, amount in (("Alphabet", dl.alphabet_bond_usd_bn), ("Amazon", dl.amazon_bond_usd_bn)):
        f = model.firm(name)
        ledger.open_contract(
            Kind.BOND,
            World.OUTSIDE_INVESTORS,
            f.party,
            principal=amount,
            cash=amount,
            maturity_q=4 * 10,
            fixed_rate=ref + dl.new_bond_spread,
        )
        model.log("bond", name, f"{name} sells {amount:.0f}bn of bonds", "bond market", amount)
    # SoftBank's December tranche into OpenAI
    openai = model.firm("OpenAI")
    credit._dilute(openai, ci.softbank_openai_usd_bn)
    ledger.contribute(World.OUTSIDE_INVESTORS, openai.party, ci.softbank_openai_usd_bn)
    model.log(
        "equity",
        "OpenAI",
        f"SoftBank pays OpenAI {ci.softbank_openai_usd_bn:.1f}bn",
        "SoftBank",
        ci.softbank_openai_usd_bn,
    )
    # xAI: Nvidia equity (loop L7) alongside its chip orders
    xai = model.firm("xAI")
    if loop_on(model.p, "loop_l7_nvidia_xai"):
        credit.invest(model.nvidia, xai, ci.nvidia_xai_equity_usd_bn, loop=7, why="alongside its chip orders")
    for fund in model.funds:
        fund.decide()


def xai_chip_tranche(model: CreditLoopModel) -> None:
    """xAI's GPU SPV (E144) buys its Nvidia chip order as it is delivered, in ``deals.xai_chip_delivery_quarters``
    equal tranches from 2025Q4, each financed by a tranche of the GPU debt from the funds and secured on it
    (a delayed-draw facility), so that the order is not booked as one quarter's flow."""
    p, dl, credit = model.p, model.p.deals, model.credit
    tranches = dl.xai_chip_delivery_quarters
    if model.quarter >= tranches:
        return
    xai = model.firm("xAI")
    if xai.excluded or xai.liquidated:
        return
    loan = credit.borrow_private(
        xai,
        dl.xai_gpu_debt_usd_bn / tranches,
        Kind.GPU_LOAN,
        spread=dl.xai_gpu_spread,
        tenor_q=20,
        ltv_max=p.behaviour.gpu_loan_ltv_max,
    )
    order = p.circular.xai_chip_orders_usd_bn / tranches
    chips_gw = min(order, max(xai.cash, 0.0)) / p.technology.chip_cost_usd_bn_per_gw
    cohort = xai.buy_gw(chips_gw, chip_seller=model.nvidia.party, with_shell=False)
    if loan > 0:
        credit.secure_new_gpu_loans(xai, cohort)
