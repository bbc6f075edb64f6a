"""The web client's API types (web/src/api/schema.d.ts) are generated from the service's OpenAPI document
by the pinned openapi-typescript; this fails when the checked-in file is not what the current spec
generates, so the client cannot drift from the server. Fix: `make web-types` and commit the file."""

from __future__ import annotations

import subprocess

from service.core.settings import PROJECT_ROOT

WEB = PROJECT_ROOT / "web"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


def test_the_checked_in_api_types_are_what_the_current_spec_generates(runner, tmp_path):
    assert GENERATOR.exists(), "run `scripts/web.sh install` (make test does) to install the web client's packages"
    spec, generated = tmp_path / "openapi.json", tmp_path / "schema.d.ts"
    result = runner.invoke(args=["openapi", "write", str(spec)])
    assert result.exit_code == 0, result.output
    subprocess.run([str(GENERATOR), str(spec), "-o", str(generated)], cwd=WEB, check=True, capture_output=True)
    checked_in = (WEB / "src" / "api" / "schema.d.ts").read_text()
    assert generated.read_text() == checked_in, "web/src/api/schema.d.ts is stale: run `make web-types`"
