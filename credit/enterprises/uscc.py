"""统一社会信用代码 (unified social credit code, GB 32100-2015): normalisation and validation.

The check digit and the alphabet are verified by ``stdnum.cn.uscc``; this module only adds the
normalisation users expect (lower case, spaces anywhere, full-width characters) and maps each
failure to a stable error code with a translatable message.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

from core.exceptions import DomainError

USCC_LENGTH = 18
_WHITESPACE = re.compile(r"[\s\u3000]+")

ERROR_MESSAGES = {
    "uscc_empty": _("Enter the unified social credit code."),
    "uscc_invalid_length": _("A unified social credit code has exactly 18 characters; %(length)s were entered."),
    "uscc_invalid_format": _(
        "The unified social credit code contains a character that is not allowed: the first 8 "
        "characters are digits, the rest digits or capital letters other than I, O, Z, S and V."
    ),
    "uscc_invalid_checksum": _("The check digit (last character) of the unified social credit code is wrong."),
}


class InvalidUSCCError(DomainError):
    pass


def uscc_normalise(value: str) -> str:
    """Upper-case the code and drop white space anywhere in it (including full-width spaces)."""
    return uscc.compact(_WHITESPACE.sub("", value or ""))


def uscc_validate(value: str) -> str:
    """Return the normalised code, or raise ``InvalidUSCCError`` with one of the codes in ``ERROR_MESSAGES``."""
    number = uscc_normalise(value)
    if not number:
        raise InvalidUSCCError("uscc_empty", ERROR_MESSAGES["uscc_empty"])
    try:
        return str(uscc.validate(number))
    except stdnum_exceptions.InvalidLength:
        raise InvalidUSCCError(
            "uscc_invalid_length", ERROR_MESSAGES["uscc_invalid_length"] % {"length": len(number)}, length=len(number)
        ) from None
    except stdnum_exceptions.InvalidChecksum:
        raise InvalidUSCCError("uscc_invalid_checksum", ERROR_MESSAGES["uscc_invalid_checksum"]) from None
    except stdnum_exceptions.ValidationError:
        raise InvalidUSCCError("uscc_invalid_format", ERROR_MESSAGES["uscc_invalid_format"]) from None


def uscc_with_check_digit(first17: str) -> str:
    """Complete 17 characters with their check digit (for demo data and test factories)."""
    return first17 + str(uscc.calc_check_digit(first17))
