"""
Every public parser, fed 1 MB of pathological input, answers: a result or an oxdkim
error, never a hang and never another exception.

The inputs and parsers are those of ``benchmarks/parsers.py``, which measures the time
per KB at 64 KB, 256 KB and 1 MB (a linear parser keeps it flat). Here each runs once at
1 MB under a hang guard (pytest-timeout), not a timing assertion: a super-linear parser
takes minutes on these inputs (the From parser took 12 s for 4,000 spaces before it was
fixed), a linear one milliseconds.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from oxdkim import FromHeaderError, MessageProblem

PARSERS_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "parsers.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("oxdkim_bench_parsers", PARSERS_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BENCH = _load()
MB = (1 << 20) - 1024  # under the default 1 MiB header limit, so the parsers are reached


@pytest.mark.timeout(30)
@pytest.mark.parametrize("pattern", sorted(BENCH.PATTERNS))
@pytest.mark.parametrize("parser", sorted(BENCH.PARSERS))
def test_parser_answers_pathological_megabyte(parser: str, pattern: str):
    """1 MB of one repeated unit: an answer (a result or an oxdkim error), no hang."""
    data = BENCH.pathological(BENCH.PATTERNS[pattern], MB)
    assert BENCH.answer(BENCH.PARSERS[parser], data)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("spaces", [1_000, 2_000, 4_000, 8_000])
def test_from_of_spaces_then_a_letter(spaces: int):
    """The reported case: 'From:' + thousands of spaces + a letter (was 11.8 s for 4k)."""
    message = b"From:" + b" " * spaces + b"a\r\n\r\nbody\r\n"
    with pytest.raises(FromHeaderError) as caught:
        BENCH.SIGNER.sign(message)
    assert caught.value.problem in {MessageProblem.NO_ADDRESS, MessageProblem.TOO_LARGE}


def test_every_parser_has_every_pattern():
    """The table the benchmark measures is the table tested (guards an empty parametrize)."""
    assert len(BENCH.PARSERS) >= 16
    assert len(BENCH.PATTERNS) >= 20
