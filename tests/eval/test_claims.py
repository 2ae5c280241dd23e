from eval.claims import (
    ClaimCase,
    fit_threshold,
    negate,
    pass_rates,
    reasons,
    statement,
    swap_number,
    table,
)


def test_statement_from_a_subject_question():
    assert statement("Who founded the firm?", "Ada Lovelace") == (
        "Ada Lovelace founded the firm.", "founded")
    assert statement("What was the capital of Kenya?", "nairobi.") == (
        "Nairobi was the capital of Kenya.", "was")


def test_no_statement_when_the_answer_is_no_subject():
    assert statement("What is the firm known for?", "tea") is None
    assert statement("What year did it open?", "1932") is None
    assert statement("Where is the firm?", "Paris") is None
    assert statement("Who founded it?", " ") is None


def test_negate_an_auxiliary_or_a_past_tense():
    assert negate("Paris was the capital.", "Paris", "was") == "Paris was not the capital."
    assert negate("Ada founded the firm.", "Ada", "founded") == "Ada never founded the firm."
    # the answer itself may hold the verb: only the claim's own verb is negated
    assert negate("It was was the song.", "It was", "was") == "It was was not the song."


def test_swap_number():
    assert swap_number("It opened in 1932.") == "It opened in 1935."
    assert swap_number("It had 12 rooms.") == "It had 13 rooms."
    assert swap_number("It cost $1,500.") == "It cost $1501."
    assert swap_number("It is old.") is None


def test_pass_rates_and_table():
    cases = [ClaimCase(k, "c", "s", "d", "", "d") for k in ("supported", "negated", "negated")]
    rates = pass_rates(cases, ["", "", "no"])
    assert rates == {"supported": (1, 1), "negated": (1, 2)}
    assert "| x | y | 1/1 (100.0 %) | 1/2 (50.0 %) | - | - |" in table({"x": {"y": rates}})


def test_reasons_apply_the_threshold_after_the_other_checks():
    read = [("", 0.9), ("", 0.1), ("7 is not in the cited sentence", 0.95)]
    assert reasons(read, 0.0) == ["", "", "7 is not in the cited sentence"]
    assert reasons(read, 0.5) == ["", "support 0.10 < 0.50", "7 is not in the cited sentence"]


def test_fit_threshold_keeps_the_share_of_supported_claims_passing_the_rest():
    cases = [ClaimCase("supported", "c", "s", "d", "", "d")] * 20
    cases += [ClaimCase("negated", "c", "s", "d", "", "d")]
    read = [("", i / 20) for i in range(20)] + [("", 0.99)]
    assert fit_threshold(cases, read) == 0.05  # the lowest 5 % of 20 supported: one left out
    read[:2] = [("no citation", 0.0), ("2 is not in the cited sentence", 0.05)]
    assert fit_threshold(cases, read) == 0.1  # claims another check refuses do not count
