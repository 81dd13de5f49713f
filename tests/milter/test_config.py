"""The [milter] table: every problem reported at its place, as the core does for the file."""

from __future__ import annotations

import pytest

from oxdkim import ConfigFileError
from oxdkim_milter import MilterConfig, parse_milter_table, parse_socket


def test_defaults_when_the_table_is_absent():
    """No [milter] table: SASL login macro, unsigned pass on refusal, bounded sizes."""
    config = parse_milter_table(None)
    assert MilterConfig() == config
    assert "{auth_authen}" == config.tenant_macro


@pytest.mark.parametrize(
    ("table", "place"),
    [
        ({"on_refusal": "drop"}, "milter.on_refusal"),
        ({"tenant_macro": "auth_authen}"}, "milter.tenant_macro"),
        ({"authserv_id": "mx example"}, "milter.authserv_id"),
        ({"max_message_bytes": 0}, "milter.max_message_bytes"),
        ({"max_concurrency": True}, "milter.max_concurrency"),
        ({"timeout": float("nan")}, "milter.timeout"),
        ({"timeout": 0}, "milter.timeout"),
        ({"logins": {"a": ""}}, "milter.logins.a"),
        ({"logins": ["a"]}, "milter.logins"),
        ({"identity_logins": "yes"}, "milter.identity_logins"),
        ({"brnad": "x"}, "milter.brnad"),
        ({"brand": ""}, "milter.brand"),
    ],
)
def test_each_bad_setting_is_reported_at_its_place(table: dict[str, object], place: str):
    """A bad value is a ConfigFileError naming the setting."""
    with pytest.raises(ConfigFileError) as caught:
        parse_milter_table(table, "oxdkim.toml")
    assert [place] == [p.place for p in caught.value.problems]


def test_every_problem_at_once():
    """Two bad settings: two problems in one error, so one pass fixes the file."""
    with pytest.raises(ConfigFileError) as caught:
        parse_milter_table({"on_refusal": "x", "timeout": -1})
    assert 2 == len(caught.value.problems)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("inet:127.0.0.1:8891", ("inet", "127.0.0.1", 8891)),
        ("inet6:[::1]:8891", ("inet", "::1", 8891)),
        ("unix:/run/oxdkim/milter.sock", ("unix", "/run/oxdkim/milter.sock", 0)),
    ],
)
def test_socket_specs(spec: str, expected: tuple[str, str, int]):
    """Postfix's socket notation."""
    assert expected == parse_socket(spec)


@pytest.mark.parametrize("spec", ["127.0.0.1:8891", "inet:127.0.0.1", "inet:h:99999", "unix:"])
def test_bad_socket_specs(spec: str):
    """Anything else is refused before the milter starts."""
    from oxdkim import ConfigurationError

    with pytest.raises(ConfigurationError):
        parse_socket(spec)
