"""What a refusal of a permission looks like, for the tests that hold refusals to it.

A refusal starts "Only X can …", "You cannot …", "… works only in …" and the like
(`REFUSAL`, matched against msgids), and goes on to say what to do next.
"""

from __future__ import annotations

import re

REFUSAL = re.compile(
    r"^(Only (union |the |admins|members)|You (cannot|may no longer)|This poll is not addressed"
    r"|This admin is listed|Case buttons work only|This has already started"
    r"|This case is closed|This activity does not allow|This button works only)"
)
