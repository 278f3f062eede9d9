import pytest

from core.errors import DomainError, ErrorCode
from core.pagination import Cursor, PageRequest


def test_cursor_round_trip():
    cursor = Cursor("product", "price:asc", "19.99", 42)
    assert Cursor.decode(cursor.encode(), kind="product", sort="price:asc", field="after") == cursor


@pytest.mark.parametrize(("kind", "sort"), [("order", "price:asc"), ("product", "name:asc")])
def test_cursor_of_another_list_or_sort_is_refused(kind, sort):
    encoded = Cursor("product", "price:asc", "19.99", 42).encode()
    with pytest.raises(DomainError) as info:
        Cursor.decode(encoded, kind=kind, sort=sort, field="after")
    assert info.value.code is ErrorCode.INVALID_CURSOR


@pytest.mark.parametrize("garbage", ["", "!!!", "e30", "WyJwcm9kdWN0IiwicHJpY2U6YXNjIiwxLCJ4Il0"])
def test_garbage_cursors_are_refused(garbage):
    with pytest.raises(DomainError) as info:
        Cursor.decode(garbage, kind="product", sort="price:asc", field="after")
    assert info.value.code is ErrorCode.INVALID_CURSOR


def test_page_request_defaults_and_limits():
    page = PageRequest.from_args(first=None, after=None, last=None, before=None, max_size=100)
    assert (page.size, page.forward) == (20, True)
    page = PageRequest.from_args(first=None, after=None, last=7, before="c", max_size=100)
    assert (page.size, page.forward, page.before) == (7, False, "c")
    with pytest.raises(DomainError) as info:
        PageRequest.from_args(first=101, after=None, last=None, before=None, max_size=100)
    assert info.value.code is ErrorCode.PAGE_SIZE_EXCEEDED
