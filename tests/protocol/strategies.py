"""Hypothesis strategies for every wire message, derived from the Structs' own constraints.

The strategy is built from ``msgspec.inspect`` type information, so it follows every
``Meta`` bound (lengths, patterns, numeric ranges) without restating them here, and
cross-field rules (``__post_init__``) are honoured by converting through msgspec and
rejecting what it refuses.
"""

from __future__ import annotations

from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import assume
from hypothesis import strategies as st

MAX_LIST = 3  # nested lists stay short so examples stay fast and readable
INT64 = 2**63 - 1


def _int(t: mi.IntType) -> st.SearchStrategy[int]:
    low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else -INT64)
    high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else INT64)
    return st.integers(min_value=low, max_value=high)


def _float(t: mi.FloatType) -> st.SearchStrategy[float]:
    low = t.ge if t.ge is not None else t.gt
    high = t.le if t.le is not None else t.lt
    return st.floats(
        min_value=low,
        max_value=high,
        exclude_min=t.gt is not None,
        exclude_max=t.lt is not None,
        allow_nan=False,
        allow_infinity=False,
    )


def _str(t: mi.StrType) -> st.SearchStrategy[str]:
    low, high = t.min_length or 0, t.max_length if t.max_length is not None else 32
    if t.pattern is not None:
        return st.from_regex(t.pattern, fullmatch=True).filter(lambda s: low <= len(s) <= high)
    return st.text(min_size=low, max_size=min(high, 24))


def for_type(t: mi.Type) -> st.SearchStrategy[Any]:  # noqa: PLR0911 - one arm per type kind
    """A strategy of *builtin* values (dicts for Structs) valid for ``t``."""
    match t:
        case mi.NoneType():
            return st.none()
        case mi.BoolType():
            return st.booleans()
        case mi.IntType():
            return _int(t)
        case mi.FloatType():
            return _float(t)
        case mi.StrType():
            return _str(t)
        case mi.LiteralType():
            return st.sampled_from(t.values)
        case mi.UnionType():
            return st.one_of([for_type(member) for member in t.types])
        case mi.ListType():
            high = min(MAX_LIST, t.max_length if t.max_length is not None else MAX_LIST)
            return st.lists(for_type(t.item_type), min_size=t.min_length or 0, max_size=high)
        case mi.DictType():
            high = min(MAX_LIST, t.max_length if t.max_length is not None else MAX_LIST)
            return st.dictionaries(for_type(t.key_type), for_type(t.value_type), max_size=high)
        case mi.StructType():
            return _struct_dict(t)
        case _:
            raise NotImplementedError(f"no strategy for {t!r}")


def _struct_dict(t: mi.StructType) -> st.SearchStrategy[dict[str, Any]]:
    required = {f.encode_name: for_type(f.type) for f in t.fields if f.required}
    optional = {f.encode_name: for_type(f.type) for f in t.fields if not f.required}
    base = st.fixed_dictionaries(required, optional=optional)
    tag_field, tag = t.tag_field, t.tag
    if tag_field is not None:
        return base.map(lambda d: {tag_field: tag, **d})
    return base


@st.composite
def messages(draw: st.DrawFn, cls: type[msgspec.Struct]) -> msgspec.Struct:
    """A valid instance of wire message ``cls`` (cross-field rules included)."""
    raw = draw(for_type(mi.type_info(cls)))
    try:
        message: msgspec.Struct = msgspec.convert(raw, cls)
    except msgspec.ValidationError:
        assume(False)
        raise  # unreachable: assume(False) aborts the example
    return message
