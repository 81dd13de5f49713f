"""
Fuzz target: the RFC 6376 §3.2 tag-list parser (DKIM-Signature fields, key records).

Invariants: only RecordSyntaxError; every value span lies inside the input and holds the
value; rendering the parsed tags as ``name=value;`` and parsing that again gives the
same tags (whitespace inside values compacted).
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["oxdkim"]):
    from oxdkim import OxDkimError
    from oxdkim._dkim.tags import compact, parse_tag_list, split_list

from _harness import run


def test_one_input(data: bytes) -> None:
    """Parse ``data`` both ways and check the round trip."""
    for utf8 in (False, True):
        try:
            tags = parse_tag_list(data, utf8=utf8)
        except OxDkimError:
            continue
        for name, value in tags.items():
            start, end = tags.value_span(name)
            assert 0 <= start <= end <= len(data)
            assert compact(data[start:end]) == compact(value)
            split_list(value)
        rendered = b"".join(
            name.encode() + b"=" + b" ".join(value.split()) + b";" for name, value in tags.items()
        )
        again = parse_tag_list(rendered, utf8=utf8)
        assert list(tags) == list(again)
        assert [compact(v) for v in tags.values()] == [compact(v) for v in again.values()]


if __name__ == "__main__":
    run(test_one_input)
