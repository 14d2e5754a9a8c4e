"""Print the kill rate per module from mutmut's results (run from the project root after `mutmut run`)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict

_LINE = re.compile(r"^\s*(?P<name>\S+?)__mutmut_\d+: (?P<status>.+)$")


def main() -> int:
    """Read `mutmut results --all true` and print killed/total per module and overall."""
    output = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True, text=True, check=True,
    ).stdout
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in output.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        # "oncord.sync.push.xǁPushSyncǁ_close" or "oncord.secrets.x__derive_key": the module is before ".x".
        module = re.split(r"\.x(?:ǁ|_)", match["name"], maxsplit=1)[0]
        per_module[module][match["status"].strip()] += 1
    if not per_module:
        print("no mutmut results yet: run `make mutation` first")
        return 1
    total: Counter[str] = Counter()
    print(f"{'module':45} {'killed':>7} {'total':>6} {'rate':>7}  other")
    for module in sorted(per_module):
        counts = per_module[module]
        total.update(counts)
        _row(module, counts)
    _row("all", total)
    return 0


def _row(module: str, counts: Counter[str]) -> None:
    done = sum(n for status, n in counts.items() if status not in ("not checked", "skipped"))
    killed = counts["killed"] + counts.get("timeout", 0)
    rate = f"{100 * killed / done:.0f}%" if done else "-"
    other = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in ("killed", "timeout"))
    print(f"{module:45} {killed:>7} {done:>6} {rate:>7}  {other}")


if __name__ == "__main__":
    sys.exit(main())
