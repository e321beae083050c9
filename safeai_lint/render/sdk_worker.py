"""The child process that renders charts with Helm's Go SDK (the `helm-python-sdk` package).

Run by `helm.py` through `sandbox.run_renderer` as `python -I -m safeai_lint.render.sdk_worker`:
it reads one JSON request on stdin, `{"jobs": [{"chart": dir, "values": {...}}, ...]}`, and
writes `{"results": [{"ok": true, "manifests": {name: text}} | {"ok": false, "error": str}]}`.
The SDK runs here, never in the scanning process: a Go runtime in the scanner would make its
worker processes unsafe to fork, and a chart's rendering must be killable by the time cap.
No cluster is contacted; `lookup` returns nothing.
"""
from __future__ import annotations

import json
import sys


def render(jobs: list[dict]) -> list[dict]:
    import helm_python as helm

    helm.disable_logging()
    results = []
    for job in jobs:
        try:
            with helm.Chart.load(job["chart"]) as chart:
                manifests = chart.render(values=job.get("values") or {}, name="release", namespace="default", is_install=True)
            results.append({"ok": True, "manifests": manifests})
        except helm.HelmError as exc:
            results.append({"ok": False, "error": str(exc)})
    return results


def main() -> int:
    request = json.loads(sys.stdin.read())
    try:
        results = render(request["jobs"])
    except ImportError:
        sys.stderr.write("helm-python-sdk is not installed\n")
        return 3
    sys.stdout.write(json.dumps({"results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
