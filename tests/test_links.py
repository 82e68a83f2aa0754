"""Deep link payloads are read as strictly as callback data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from display import links

IDS = st.integers(min_value=0, max_value=2**31 - 1)


@given(st.sampled_from([links.ACTIVITY, links.TRAINING]), IDS)
def test_a_link_reads_back_as_what_it_names(kind: str, target: int) -> None:
    payload = links.url("UnionBot", kind, target).split("?start=", 1)[1]
    assert links.parse(payload) == links.DeepLink(kind, target)


@given(st.text(max_size=40))
def test_any_payload_is_read_or_refused_never_raises(payload: str) -> None:
    link = links.parse(payload)
    assert link is None or 0 <= link.target <= 2**31 - 1


def test_ids_beyond_the_column_and_foreign_digits_are_refused() -> None:
    for payload in ("act_2147483648", "act_99999999999", "act_²", "act_١٢", "act_-1", "act_1\n"):
        assert links.parse(payload) is None, payload
