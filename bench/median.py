"""bench.run several times, then the median of each figure against issue 21's targets.

    .venv/bin/python -m bench.median --runs 3                       # every scenario
    .venv/bin/python -m bench.median --runs 3 --scenarios api_guest,form_guest_csrf --duration 8
    .venv/bin/python -m bench.median --results /tmp/a/results.json /tmp/b/results.json ...

Any argument it does not know is passed to bench.run. Each run is a fresh bench.run (its own
workdir, databases and servers), one after the other; a target is met when the median of the
runs meets it. Exits 1 when a run failed its row or .eml check, or a target was missed.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.serving import REPO

API_GUEST_MIN_RATIO = 0.4
WORKER_PEAK_RSS_MAX_MIB = 75.0


def run_all(runs: int, passed: list[str], base: Path) -> list[Path]:
    paths = []
    for number in range(1, runs + 1):
        workdir = base / f"run-{number}"
        print(f"run {number} of {runs}: {workdir}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "bench.run", "--workdir", str(workdir), *passed],
            cwd=REPO,
            check=False,
        )
        paths.append(workdir / "results.json")
    return paths


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarize(runs: list[dict], form_floor: float | None) -> tuple[list[str], bool]:
    names = [name for name in runs[0]["results"] if "missing" not in runs[0]["results"][name]]
    lines = [
        "| scenario | portal/ceiling by run | median | portal per s | ceiling per s "
        "| portal CPU ms each | ceiling CPU ms each | eml per ticket (expected) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ratios: dict[str, float] = {}
    for name in names:
        entries = [run["results"][name] for run in runs if name in run["results"]]
        by_run = [
            e["portal"]["per_second"] / e["ceiling"]["per_second"]
            for e in entries
            if e["ceiling"]["per_second"]
        ]
        ratios[name] = median(by_run)

        def middle(app: str, key: str, entries=entries) -> float:
            return median([e[app][key] for e in entries])

        lines.append(
            f"| {entries[0]['title']} | {' '.join(f'{r:.3f}' for r in by_run)} "
            f"| {ratios[name]:.3f} | {middle('portal', 'per_second'):.0f} "
            f"| {middle('ceiling', 'per_second'):.0f} "
            f"| {middle('portal', 'worker_cpu_ms_per_proof'):.2f} "
            f"| {middle('ceiling', 'worker_cpu_ms_per_proof'):.2f} "
            f"| {middle('portal', 'eml_per_ticket'):.2f} "
            f"({entries[0]['portal']['expected_eml_per_ticket']}) |"
        )
    rss = {app: [run["worker_peak_rss_mib"][app] for run in runs] for app in ("portal", "ceiling")}
    lines += ["", "| worker peak RSS, MiB | by run | median |", "| --- | --- | ---: |"]
    for app, values in rss.items():
        lines.append(f"| {app} | {' '.join(f'{v:.1f}' for v in values)} | {median(values):.1f} |")

    checks = []
    if "api_guest" in ratios:
        checks.append(
            (
                f"API guest >= {API_GUEST_MIN_RATIO} x ceiling",
                ratios["api_guest"],
                "ge",
                API_GUEST_MIN_RATIO,
            )
        )
    if "form_guest_csrf" in ratios and form_floor is not None:
        checks.append(
            (
                "form vs CSRF ceiling >= its figure before",
                ratios["form_guest_csrf"],
                "ge",
                form_floor,
            )
        )
    checks.append(
        (
            f"portal worker peak RSS <= {WORKER_PEAK_RSS_MAX_MIB:.0f} MiB",
            median(rss["portal"]),
            "le",
            WORKER_PEAK_RSS_MAX_MIB,
        )
    )
    lines += ["", "| target (median of the runs) | measured | met |", "| --- | ---: | --- |"]
    met = True
    for title, value, sense, bound in checks:
        ok = value >= bound if sense == "ge" else value <= bound
        met &= ok
        lines.append(f"| {title} | {value:.3f} | {'yes' if ok else 'no'} |")
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base", type=Path, help="default: a new directory under /tmp")
    parser.add_argument("--results", type=Path, nargs="+", help="summarize these, run nothing")
    parser.add_argument(
        "--form-floor", type=float, help="form_guest_csrf's median ratio before issue 21"
    )
    args, passed = parser.parse_known_args(argv)
    if args.results:
        paths = args.results
    else:
        base = args.base or Path(tempfile.mkdtemp(prefix="portal-median-", dir="/tmp"))
        paths = run_all(args.runs, passed, base)
    missing = [path for path in paths if not path.exists()]
    runs = [json.loads(path.read_text()) for path in paths if path.exists()]
    if not runs:
        sys.exit("no results.json to read")
    for path, run in zip([p for p in paths if p.exists()], runs, strict=True):
        print(f"{path}: {run['machine']['date']}, commit {run['machine']['commit']}")
    lines, met = summarize(runs, args.form_floor)
    print()
    print("\n".join(lines))
    problems = [problem for run in runs for problem in run.get("problems", [])]
    for path in missing:
        problems.append(f"{path} was not written")
    for problem in problems:
        print(f"CHECK: {problem}")
    return 0 if met and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
