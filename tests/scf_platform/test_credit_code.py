"""The unified social credit code: format and GB 32100-2015 check digit."""

import pytest
from django.core.exceptions import ValidationError

from scf_platform.credit_code import credit_code_check_digit, validate_credit_code


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the standard's own worked example
        "91440300708461136T",  # a real enterprise's code
        "91110000802100433B",
    ],
)
def test_valid_codes_pass(code):
    validate_credit_code(code)


def test_a_wrong_check_digit_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_credit_code("91350100M000100Y44")
    assert error.value.code == "credit_code_check_digit"


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", ""])
def test_a_wrong_length_is_refused(code):
    with pytest.raises(ValidationError) as error:
        validate_credit_code(code)
    assert error.value.code == "credit_code_length"


def test_letters_outside_the_alphabet_are_refused():
    # I, O, Z, S, V are not in the standard's alphabet; lower case is not either.
    with pytest.raises(ValidationError) as error:
        validate_credit_code("91350100M000100I43")
    assert error.value.code == "credit_code_characters"


def test_check_digit_zero_is_the_wraparound():
    # A weighted sum divisible by 31 gives check digit 0, not 31.
    assert credit_code_check_digit("00000000000000000") == "0"
