"""Query cost limits with fragments expanded once each, and Relay cursors."""

import time

import pytest
from graphql import parse
from strawberry.relay.utils import to_base64

from graphql_api.domain.errors import AuraStreamError
from graphql_api.domain.jobs import JobPosition
from graphql_api.gql.cursors import job_cursor, job_position, result_cursor, result_offset
from graphql_api.gql.limits import CostLimits

LIMITS = CostLimits(max_depth=10, max_aliases=30, max_fields=2_000)


def bomb(levels: int) -> str:
    spreads = "\n".join(
        f"fragment F{i} on Health {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"{{ health {{ ...F0 }} }}\n{spreads}\nfragment F{levels} on Health {{ status }}"


@pytest.mark.parametrize("levels", [20, 60])
def test_a_fragment_bomb_is_refused_in_milliseconds(levels):
    document = parse(bomb(levels))

    started = time.perf_counter()
    errors = LIMITS.errors(document)
    seconds = time.perf_counter() - started

    assert any("fields once fragments are expanded" in e.message for e in errors)
    assert seconds < 0.05


def test_fields_and_aliases_are_counted_through_fragments():
    fragment = " ".join(f"a{i}: status" for i in range(20))
    document = parse(f"{{ health {{ ...A ...A }} }}\nfragment A on Health {{ {fragment} }}")

    errors = LIMITS.errors(document)

    assert [e.message for e in errors] == ["40 aliases found. Allowed: 30"]


def test_depth_counts_levels_below_the_root_field_through_fragments():
    # Strawberry's QueryDepthLimiter(max_depth=10) let 11 fields nest, not 12; kept as it was.
    nested = "a { " * 11 + "b" + " }" * 11
    ok = "a { " * 10 + "b" + " }" * 10
    too_deep = parse(f"{{ ...F }}\nfragment F on Query {{ {nested} }}")
    deep_enough = parse(f"{{ ...F }}\nfragment F on Query {{ {ok} }}")

    assert [e.message for e in LIMITS.errors(too_deep)] == [
        "'anonymous' exceeds maximum operation depth of 10"
    ]
    assert LIMITS.errors(deep_enough) == []


def test_introspection_fields_do_not_count_towards_depth():
    deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }"  # noqa: E501

    assert LIMITS.errors(parse(deep)) == []


def test_cyclic_fragments_are_left_to_the_specified_rules():
    document = parse(
        "{ health { ...A } }\nfragment A on Health { ...B }\nfragment B on Health { ...A }"
    )

    assert LIMITS.errors(document) == []


def test_job_cursors_round_trip_and_order_by_position():
    position = JobPosition(1_800_000_000.123456, "3f2c")

    assert job_position(job_cursor(position)) == position


@pytest.mark.parametrize(
    "cursor",
    [
        "junk",
        "",
        "\ud800",
        to_base64("job", "1|a"),  # the unversioned kind
        to_base64("result.v1", "3"),  # another connection's
        to_base64("job.v1", "nan|a"),
        to_base64("job.v1", "inf|a"),
        to_base64("job.v1", "1.5"),  # no id
        to_base64("job.v1", "x|a"),
        to_base64("job.v1", "1|a\x00"),
        "A" * 5_000,
    ],
)
def test_a_job_cursor_not_given_out_is_bad_user_input(cursor):
    with pytest.raises(AuraStreamError) as raised:
        job_position(cursor)

    assert raised.value.code == "BAD_USER_INPUT"


def test_result_cursors_point_just_after_their_result():
    assert result_offset(None) == 0
    assert result_offset(result_cursor(0)) == 1
    assert result_offset(result_cursor(9_998)) == 9_999


@pytest.mark.parametrize(
    "payload", ["²", "٣", "-1", "1.0", "", " 1", "10000", "99999999999999999999"]
)
def test_a_result_cursor_with_anything_but_ascii_digits_in_range_is_bad_user_input(payload):
    with pytest.raises(AuraStreamError) as raised:
        result_offset(to_base64("result.v1", payload))

    assert raised.value.code == "BAD_USER_INPUT"
