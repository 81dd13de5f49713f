"""
Run oxdkim's atheris fuzz targets for a set time each and report what they did.

    python fuzz/run.py --seconds 60                 # every target, 60 s each
    python fuzz/run.py --seconds 600 --target dmarc # one target
    python fuzz/run.py --seconds 60 --parallel 1    # one after the other

Each target starts from seeds taken from tests/vectors plus the committed inputs in
fuzz/corpus/<target>/ (earlier crashes, interesting cases), and grows a working corpus
in a temporary directory (or ``--corpus DIR`` to keep it). The summary gives, per
target: executions, executions per second, coverage (libFuzzer's ``cov:`` edges of
instrumented oxdkim code; the C accelerator is not instrumented), features and
crashes. A crash (an exception other than OxDkimError, a failed invariant, a hang
past ``--timeout`` seconds or memory past ``--rss-limit-mb``) is saved as ``crash-*``
in ``--artifacts`` and makes the exit status 1; reproduce it with
``python fuzz/targets/fuzz_<target>.py <crash file>``, then add it to
fuzz/corpus/<target>/ and as a regression test in tests/hostile/.

Needs atheris (``pip install atheris``; wheels exist for CPython 3.11 on Linux x86-64).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from seeds import write_seeds  # noqa: E402 - after the path setup above

TARGETS = ("message", "tags", "keyrecord", "dmarc", "canon")
_STATUS = re.compile(
    r"^#(?P<runs>\d+)\s+(?P<event>\w+)\s+cov: (?P<cov>\d+) ft: (?P<ft>\d+)"
    r"(?: corp: (?P<corp>\d+)/\S+)?"
)
_EXECUTED = re.compile(r"stat::number_of_executed_units: (\d+)")


@dataclass
class Outcome:
    """What one target's run did."""

    target: str
    seconds: float = 0.0
    executions: int = 0
    coverage: int = 0
    features: int = 0
    corpus: int = 0
    seeds: int = 0
    exit_code: int = 0
    crashes: list[Path] = field(default_factory=list)
    log: Path | None = None

    @property
    def crashed(self) -> bool:
        """True when libFuzzer stopped on a crash (or the target could not run)."""
        return bool(self.crashes) or self.exit_code != 0


def read_log(outcome: Outcome, text: str) -> None:
    """Fill in the figures from libFuzzer's output."""
    for line in text.splitlines():
        match = _STATUS.match(line)
        if match:
            outcome.executions = max(outcome.executions, int(match["runs"]))
            outcome.coverage = max(outcome.coverage, int(match["cov"]))
            outcome.features = max(outcome.features, int(match["ft"]))
            if match["corp"]:
                outcome.corpus = int(match["corp"])
        executed = _EXECUTED.search(line)
        if executed:
            outcome.executions = max(outcome.executions, int(executed.group(1)))


def run_target(target: str, args: argparse.Namespace, work: Path) -> Outcome:
    """Fuzz one target for ``args.seconds`` seconds."""
    outcome = Outcome(target)
    seeds = work / "seeds" / target
    outcome.seeds = write_seeds(target, seeds)
    corpus = (args.corpus / target) if args.corpus else work / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts = args.artifacts / target
    artifacts.mkdir(parents=True, exist_ok=True)
    before = set(artifacts.glob("crash-*")) | set(artifacts.glob("timeout-*"))
    before |= set(artifacts.glob("oom-*"))
    command = [
        sys.executable,
        str(HERE / "targets" / f"fuzz_{target}.py"),
        f"-max_total_time={args.seconds}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-max_len={args.max_len}",
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/",
        str(corpus),
        str(seeds),
    ]
    outcome.log = work / f"{target}.log"
    started = time.monotonic()
    with outcome.log.open("w") as log:
        process = subprocess.run(  # noqa: S603 - our own interpreter and script
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=HERE / "targets",
            timeout=args.seconds * 3 + 120,
            check=False,
        )
    outcome.seconds = time.monotonic() - started
    outcome.exit_code = process.returncode
    read_log(outcome, outcome.log.read_text(errors="replace"))
    after = set(artifacts.glob("crash-*")) | set(artifacts.glob("timeout-*"))
    after |= set(artifacts.glob("oom-*"))
    outcome.crashes = sorted(after - before)
    return outcome


def report(outcomes: list[Outcome]) -> None:
    """Print one line per target and the crash details."""
    header = f"{'target':<10} {'seconds':>7} {'execs':>10} {'execs/s':>8} {'cov':>6} {'ft':>6} "
    print(header + f"{'corpus':>6} {'seeds':>5}  crashes")
    for o in outcomes:
        rate = o.executions / o.seconds if o.seconds else 0.0
        status = "none" if not o.crashed else f"{len(o.crashes)} (exit {o.exit_code})"
        print(
            f"{o.target:<10} {o.seconds:>7.0f} {o.executions:>10} {rate:>8.0f} {o.coverage:>6} "
            f"{o.features:>6} {o.corpus:>6} {o.seeds:>5}  {status}"
        )
    for o in outcomes:
        if not o.crashed:
            continue
        print(f"\n--- {o.target}: crash (log {o.log})")
        assert o.log is not None
        tail = o.log.read_text(errors="replace").splitlines()[-40:]
        print("\n".join(tail))
        for crash in o.crashes:
            print(f"reproduce: {sys.executable} fuzz/targets/fuzz_{o.target}.py {crash}")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, fuzz, report; exit 1 on any crash."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="time per target (default 60)")
    parser.add_argument("--target", action="append", choices=TARGETS, help="only this target")
    parser.add_argument(
        "--parallel",
        type=int,
        default=min(os.cpu_count() or 1, 2),
        help="targets run at the same time (default: CPUs, at most 2)",
    )
    parser.add_argument("--corpus", type=Path, help="keep the working corpora here")
    parser.add_argument(
        "--artifacts", type=Path, default=HERE / "artifacts", help="where crash files go"
    )
    parser.add_argument("--timeout", type=int, default=10, help="seconds per input before a hang")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="memory before an OOM")
    parser.add_argument("--max-len", type=int, default=16384, help="longest generated input")
    args = parser.parse_args(argv)
    targets = args.target or list(TARGETS)
    try:
        import atheris  # noqa: F401, PLC0415 - only to fail early with a clear message
    except ImportError:
        print("atheris is not installed: pip install atheris", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="oxdkim-fuzz-") as name:
        work = Path(name)
        with ThreadPoolExecutor(max_workers=max(args.parallel, 1)) as pool:
            outcomes = list(pool.map(lambda t: run_target(t, args, work), targets))
        report(outcomes)
    return 1 if any(o.crashed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
