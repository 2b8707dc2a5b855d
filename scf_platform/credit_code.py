"""The unified social credit code (统一社会信用代码) of GB 32100-2015: format and check digit."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The standard's 31 characters: digits and capitals without I, O, Z, S, V (easily misread).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def credit_code_check_digit(first17: str) -> str:
    total = sum(
        ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True)
    )
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    if len(value) != LENGTH:
        raise ValidationError(
            _("A unified social credit code has 18 characters, not %(length)d."),
            code="credit_code_length",
            params={"length": len(value)},
        )
    bad = sorted({char for char in value if char not in ALPHABET})
    if bad:
        raise ValidationError(
            _("A unified social credit code cannot contain %(chars)s."),
            code="credit_code_characters",
            params={"chars": ", ".join(bad)},
        )
    if not value[2:8].isdigit():
        raise ValidationError(
            _("Characters 3 to 8 of a unified social credit code are the region code (digits)."),
            code="credit_code_region",
        )
    if credit_code_check_digit(value[:17]) != value[17]:
        raise ValidationError(
            _("The check digit of this unified social credit code is wrong."),
            code="credit_code_check_digit",
        )
