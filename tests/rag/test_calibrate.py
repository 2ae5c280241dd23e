"""The calibration's fits weigh the two groups of validation documents alike."""

from __future__ import annotations

import numpy as np

from rag.calibrate import Observation, fit, weights


def seen(answerable: bool, p: float, correct: bool, group: str) -> Observation:
    return Observation(answerable, (p,), (True,), (correct,), ((p,),), f"{group}-doc", group)


def test_each_group_weighs_the_same_however_many_questions_it_has() -> None:
    obs = [seen(True, 0.9, True, "squad")] * 9 + [seen(False, 0.1, False, "own")]
    w = weights(obs)
    assert np.isclose(w.sum(), 1.0) and np.isclose(w[-1], 0.5) and np.isclose(w[0], 0.5 / 9)


def test_the_threshold_bounds_the_answerable_questions_refused_the_groups_weighing_alike(
        ) -> None:
    # squad: twenty answerable questions scoring high; own: one answerable question scoring 0.2
    # and two unanswerable ones scoring 0.3. Refusing below 0.35 gets the unanswerable ones right
    # and refuses own's answerable question: a quarter of the answerable weight (1/6 of 2/3).
    obs = ([seen(True, 0.9, True, "squad")] * 20
           + [seen(True, 0.2, True, "own"), seen(False, 0.3, False, "own"),
              seen(False, 0.3, False, "own")])
    strict = fit(obs, 1, require_fit=False, max_false_refusal=0.2)
    assert strict.threshold <= 0.2 and strict.answerable_refused == 0.0
    loose = fit(obs, 1, require_fit=False, max_false_refusal=0.3)
    assert loose.threshold > 0.3 and np.isclose(loose.answerable_refused, 0.25)
    assert np.isclose(loose.unanswerable_refused, 1.0)
    # the own group's three questions count as much as squad's twenty
    assert np.isclose(loose.right, 0.5 * 1.0 + 0.5 * 2 / 3)
