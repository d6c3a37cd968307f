"""What a question is before it is matched: its language and its normal form."""

from __future__ import annotations

import re

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def language_of(text: str) -> str:
    """"zh" when the text has any Han character, else "en".

    A mixed question ("我要refund") is Chinese: the customer reads Chinese.
    """
    return "zh" if _HAN.search(text) else "en"
