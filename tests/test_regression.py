"""Expected-output regression: every shipped scenario at seed 1 gives the stored summary and model series
(``tests/regression/``, regenerated on purpose by ``python run.py regression --update``)."""

from __future__ import annotations

from cli import regression


def test_every_scenario_matches_its_stored_summary_and_series():
    summary, series = regression.compute()
    diffs = regression.differences(summary, series, rtol=1e-9)
    assert not diffs, "\n".join(diffs[:20])


def test_the_comparison_sees_a_changed_number():
    summary, series = regression.compute()
    summary.loc[0, "lender_losses_usd_bn"] *= 1.0 + 1e-6
    series.loc[5, "capex"] += 1e-3
    diffs = regression.differences(summary, series, rtol=1e-9)
    assert len(diffs) == 2 and "lender_losses_usd_bn" in diffs[0] and "capex" in diffs[1]
