"""
Regression tests for crashes that fuzzing and the random-input properties found.

Each test names the input that once made a non-oxdkim exception escape, and asserts the
typed result it gives now.
"""

from __future__ import annotations

from oxdkim._dmarc_record import DmarcRecord


def test_dmarc_ri_with_thousands_of_digits_is_a_problem_not_a_crash():
    """
    ``ri=`` with more than 4300 digits is a record problem, not Python's int() ValueError.

    Found by the random-input property: ``int()`` refuses such strings (CVE-2020-10735
    guard) and the ValueError escaped ``DmarcRecord.parse_lenient``.
    """
    record = DmarcRecord.parse_lenient("v=DMARC1; p=reject; ri=" + "9" * 5000)
    assert ["ri"] == [problem.tag for problem in record.problems]
    assert 86400 == record.ri


def test_dmarc_ri_leading_zeros_do_not_count():
    """Leading zeros are digits like any other: ``ri=`` 6000 zeros then 5 is 5."""
    assert 5 == DmarcRecord.parse_lenient("v=DMARC1; p=none; ri=" + "0" * 6000 + "5").ri
    assert 4294967295 == DmarcRecord.parse_lenient("v=DMARC1; p=none; ri=04294967295").ri
