"""Web client benchmark (SPEC §10): Lighthouse on the leaderboard and a box page of a running service.

    make run                      # in another terminal (or any running service)
    make bench-web                # python -m bench.web [--base http://127.0.0.1:8000]

Runs the pinned npm `lighthouse` (web/node_modules) with Debian's chromium, headless, with Lighthouse's
default mobile profile (simulated slow 4G and a 4x slower CPU), and prints per page the category
scores, the first contentful paint and the JavaScript the page downloaded (gzipped bytes on the wire);
one `RESULT web page=...` line per page. Targets: performance >= 90, accessibility >= 95,
best practices >= 95, first-page JavaScript < 150 kB gzipped. Reports are kept in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "web" / "node_modules" / ".bin" / "lighthouse"
RESULTS = ROOT / "bench" / "results"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")


def audit(url: str, name: str) -> dict[str, float]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / f"lighthouse-{name}.json"
    subprocess.run(
        [
            str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        check=True, env={**os.environ, "CHROME_PATH": CHROME},
    )  # fmt: skip
    result = json.loads(report.read_text())
    categories = result["categories"]
    requests_made = result["audits"]["network-requests"]["details"]["items"]
    scripts = [r for r in requests_made if r.get("resourceType") == "Script"]
    return {
        "performance": round(categories["performance"]["score"] * 100),
        "accessibility": round(categories["accessibility"]["score"] * 100),
        "best_practices": round(categories["best-practices"]["score"] * 100),
        "fcp_ms": round(result["audits"]["first-contentful-paint"]["numericValue"]),
        "js_gzip_kb": round(sum(r.get("transferSize", 0) for r in scripts) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    port = os.environ.get("API_PORT", "8000")
    parser.add_argument("--base", default=f"http://127.0.0.1:{port}", help="the running service")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("lighthouse is missing: scripts/web.sh install")
    top = requests.get(f"{args.base}/api/v1/leaderboard?limit=1", timeout=10).json()["data"]
    if not top:
        sys.exit("the leaderboard is empty: start the service with data (make run)")
    pages = {"leaderboard": f"{args.base}/", "box": f"{args.base}/box/{top[0]['product']['slug']}"}
    for name, url in pages.items():
        figures = audit(url, name)
        print(f"RESULT web page={name} " + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
