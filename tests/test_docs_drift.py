"""Docs that drift: README.md and docs/*.md are read as a newcomer reads them, and everything in them
that can be checked is checked against the project itself: the files, make targets and commands they
name, the endpoints of the README's tables, the Prometheus metrics, the variables the code and the
scripts read, the columns of the tables docs/METRICS.md defines, and the README's example requests,
run against a simulated market of real catalog products.

Every failure says which document names what, and what is wrong with it."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from rq import Queue

from jobs import pipeline
from jobs.sim import driver
from service.commands import config
from service.core import catalog
from service.core.cache import bump_data_version
from service.core.settings import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
TEXTS = {path: path.read_text() for path in DOCS}
README = TEXTS[PROJECT_ROOT / "README.md"]
CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCED = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
# A path of the project: words joined by slashes, no placeholder (<name>, NNNN, *, {id}), no URL.
PATH = re.compile(r"^\.?[\w-]+(?:\.[\w-]+)*(?:/[\w.-]+)*/?$")
PLACEHOLDER = re.compile(r"<|>|\*|NNNN|\{|\}|\.\.\.|…")
# Names the environment of any process has, which no project file declares.
SYSTEM_VARIABLES = {"HOME", "PATH", "USER", "TERM", "PWD", "TMPDIR", "LANG", "SHELL", "CI"}
# libfaketime's own, set by scripts/clock.sh for the clock runs of `make test`: no one configures them.
SYSTEM_VARIABLES |= {"FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC"}


def name(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT))


def code_spans(text: str) -> list[str]:
    """Inline code and every line of fenced blocks."""
    fenced = [line.strip() for block in FENCED.findall(text) for line in block.splitlines()]
    return CODE.findall(FENCED.sub("", text)) + fenced


def git_ignored(relative: str) -> bool:
    """Generated and local files (`.var/`, `web/dist`, `.env`) exist only after a run, never in a clone."""
    candidates = [relative, relative.rstrip("/") + "/"]  # `dist/` in a .gitignore matches directories only
    return any(
        subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT_ROOT, check=False).returncode == 0
        for path in candidates
    )


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", FENCED.sub("", text), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


# -- files, links and make targets -------------------------------------------------------------------


def test_every_file_a_document_names_exists():
    missing = []
    for doc, text in TEXTS.items():
        for span in code_spans(text):
            for token in span.split():
                token = token.strip("`'\",;:()[]")
                if "/" not in token or "://" in token or token.startswith("/") or PLACEHOLDER.search(token):
                    continue
                if not PATH.match(token) or token.startswith((".var", "..")) or "=" in token:
                    continue
                first = token.split("/")[0]
                if not (PROJECT_ROOT / first).exists() and not (doc.parent / first).exists():
                    continue  # not a path of ours (`text/csv`, `1h/1d/1w`, `up/down`)
                if not ((PROJECT_ROOT / token).exists() or (doc.parent / token).exists() or git_ignored(token)):
                    missing.append(f"{name(doc)}: `{token}` does not exist")
    assert not missing, "\n".join(sorted(set(missing)))


def test_every_link_between_documents_leads_somewhere():
    broken = []
    for doc, text in TEXTS.items():
        for target in LINK.findall(text):
            if "://" in target or target.startswith("mailto:"):
                continue
            file, _, anchor = target.partition("#")
            path = (doc.parent / file).resolve() if file else doc
            if not path.exists():
                broken.append(f"{name(doc)}: link to {target}: no such file")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path.read_text()):
                broken.append(f"{name(doc)}: link to {target}: {path.name} has no heading #{anchor}")
    assert not broken, "\n".join(broken)


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE))


def test_every_make_target_named_exists():
    targets = make_targets()
    unknown = [
        f"{name(doc)}: `make {target}` is not a target of the Makefile"
        for doc, text in TEXTS.items()
        for span in code_spans(text)
        for target in re.findall(r"(?:^|[\s;&(])make ([a-z][\w-]*)", span)
        if target not in targets
    ]
    assert not unknown, "\n".join(unknown)


# -- commands ------------------------------------------------------------------------------------------

FLASK = re.compile(r"flask (?:--app service\.app )?([a-z][\w-]*(?: [^\s|`;&)>]+)*)")
FLASK_BUILTINS = {"run", "shell", "routes"}


def flask_commands() -> list[tuple[str, list[str]]]:
    found = []
    for doc, text in TEXTS.items():
        for span in code_spans(text):
            for match in FLASK.finditer(span):
                argv = match.group(1).split()
                if argv and not argv[0].startswith(("-", "<", "[")):
                    found.append((name(doc), argv))
    return found


def test_every_flask_command_named_exists_with_its_options(app):
    runner = app.test_cli_runner()
    wrong = []
    for doc, argv in flask_commands():
        if argv[0] in FLASK_BUILTINS:
            continue
        command: Any = app.cli
        path: list[str] = []
        for word in argv:
            if isinstance(command, click.Group) and not word.startswith("-"):
                sub = command.commands.get(word)
                if sub is None:
                    if word.startswith(("<", "NAME")):
                        break
                    wrong.append(f"{doc}: `flask {' '.join(argv)}`: no command `{' '.join([*path, word])}`")
                    break
                command, path = sub, [*path, word]
            elif word.startswith("--"):
                options = {opt for param in command.params for opt in param.opts} | {"--help"}
                if word.split("=")[0] not in options:
                    wrong.append(f"{doc}: `flask {' '.join(argv)}`: `{' '.join(path)}` has no option {word}")
        if isinstance(command, click.Group) and path:
            wrong.append(f"{doc}: `flask {' '.join(argv)}` names a group, not a command")
        elif path:
            result = runner.invoke(args=[*path, "--help"])
            if result.exit_code != 0:
                wrong.append(f"{doc}: `flask {' '.join(path)} --help` exits {result.exit_code}: {result.output}")
    assert not wrong, "\n".join(sorted(set(wrong)))


# -- the README's endpoint tables ---------------------------------------------------------------------

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def readme_endpoints() -> list[tuple[str, str, str]]:
    """(method, path, the row's first path) for each endpoint of the README's tables: rows whose first
    cell starts with a method. A path without a method after a full one is either a path of its own
    (`/auth/register`, `/auth/login`) or a sibling of the first (`/products/{ref}/sales`, `/listings`)."""
    found = []
    method_list = "|".join(METHODS)
    for line in README.splitlines():
        cell = line.split("|")[1] if line.startswith("| `") else ""
        if not cell.strip("` ").startswith(METHODS):
            continue
        methods: list[str] = []
        first = ""
        for span in CODE.findall(cell):
            match = re.match(rf"^((?:(?:{method_list}),? ?)+) (/.*)$", span)
            if match:
                methods = re.findall(method_list, match.group(1))
                path = match.group(2).split("?")[0]
                first = path
            elif span.startswith("/"):
                path = span.split("?")[0]
            else:
                continue
            found += [(method, path, first) for method in methods]
    return found


def matches(documented: str, template: str) -> bool:
    """`/admin/import/listings` and `/products/{id or slug}` are operations of `/admin/import/{kind}` and
    `/products/{ref}`: a parameter of the document's path takes any value."""
    ours, theirs = documented.rstrip("/").split("/"), template.rstrip("/").split("/")
    return len(ours) == len(theirs) and all(
        a == b or b.startswith("{") or (a.startswith("{") and b.startswith("{"))
        for a, b in zip(ours, theirs, strict=True)
    )


def test_every_endpoint_of_the_readme_tables_is_in_the_openapi_document(client, db):
    spec = client.get("/openapi.json").get_json()
    operations = [
        (method.upper(), path) for path, item in spec["paths"].items() for method in item if method != "parameters"
    ]
    missing = []
    for method, path, first in readme_endpoints():
        candidates = [f"/api/v1{path}", path, f"/api/v1{first.rsplit('/', 1)[0]}{path}"]
        if not any(m == method and matches(c, p) for c in candidates for m, p in operations):
            missing.append(f"README.md: `{method} {path}` is not an operation of /openapi.json")
    assert readme_endpoints(), "no endpoint found in the README's tables"
    assert not missing, "\n".join(missing)


# -- Prometheus metrics -------------------------------------------------------------------------------

METRIC = re.compile(r"\b(boxpro_[a-z_]+)(?:\{([^}]*)\})?")
DATABASES = re.compile(r"^boxpro_(test|bench\w*)$")  # database names, not metrics


def scrape(client, redis_db) -> str:
    """/metrics with every family present: a data version, and a queue (the RQ gauges are per queue)."""
    bump_data_version(redis_db)
    Queue("default", connection=redis_db).enqueue("jobs.tasks.no_such_job")
    return client.get("/metrics").get_data(as_text=True)


def exposed(text: str) -> dict[str, set[str]]:
    """Every family /metrics exposes, with its labels."""
    families: dict[str, set[str]] = {}
    for family in re.findall(r"^# TYPE (\w+) \w+$", text, re.MULTILINE):
        families.setdefault(family, set())
    for sample, labels in re.findall(r"^(\w+)(?:\{([^}]*)\})? ", text, re.MULTILINE):
        # A counter's family is `x_total` and its samples `x_total` and `x_created`.
        family = next((f for f in families if sample == f or sample.startswith(f.removesuffix("_total") + "_")), sample)
        families.setdefault(family, set()).update(re.findall(r"(\w+)=", labels or ""))
    return families


def family_of(metric: str, families: dict[str, set[str]]) -> str | None:
    if metric in families:
        return metric
    return next((f for f in families if metric.startswith(f + "_") or f == metric + "_total"), None)


def documented_metrics() -> list[tuple[str, str, set[str] | None]]:
    """(document, metric, its labels when the document gives them as `name{a,b}` or `name{a=x|y}`)."""
    found = []
    for doc, text in TEXTS.items():
        for span in code_spans(text):
            for metric, labels in METRIC.findall(span):
                if DATABASES.match(metric):
                    continue
                given = {label.split("=")[0].strip() for label in labels.split(",")} if labels else None
                found.append((name(doc), metric, given))
    return found


def test_every_metric_the_docs_name_is_exposed_with_the_labels_they_give(client, db, redis_db):
    families = exposed(scrape(client, redis_db))
    wrong = []
    for doc, metric, labels in documented_metrics():
        family = family_of(metric, families)
        if family is None:
            wrong.append(f"{doc}: `{metric}` is not exposed by /metrics")
        elif labels is not None and families[family] and labels != families[family] - {"le"}:
            wrong.append(
                f"{doc}: `{metric}` has labels {sorted(families[family] - {'le'})}, the docs say {sorted(labels)}"
            )
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_every_exposed_metric_is_documented_in_operations_with_its_labels(client, db, redis_db):
    families = exposed(scrape(client, redis_db))
    operations = [(metric, labels) for doc, metric, labels in documented_metrics() if doc == "docs/OPERATIONS.md"]
    wrong = []
    for family, labels in sorted(families.items()):
        stem = family.removesuffix("_created")
        if not family.startswith("boxpro_") or (stem != family and family_of(stem, families)):
            continue  # prometheus_client's `x_created` timestamps come with every counter and histogram
        documented = [given for metric, given in operations if family_of(metric, {family: labels}) == family]
        if not documented:
            wrong.append(f"docs/OPERATIONS.md: /metrics exposes `{family}`, the metrics list does not name it")
        elif labels - {"le"} and not any(given == labels - {"le"} for given in documented):
            wrong.append(f"docs/OPERATIONS.md: `{family}` has labels {sorted(labels - {'le'})}, not documented so")
    assert not wrong, "\n".join(wrong)


# -- variables ----------------------------------------------------------------------------------------


def variables_read() -> dict[str, str]:
    """Every variable the Python code, the scripts and the Makefile read: name -> where."""
    found: dict[str, str] = {}
    python = re.compile(
        r"""(?:os\.environ(?:\.get|\.setdefault)?\(|os\.environ\[|os\.getenv\(|envvar=)["']([A-Z][A-Z0-9_]+)["']"""
    )
    sources = [
        *PROJECT_ROOT.glob("*.py"),
        *(p for d in ("service", "jobs", "bench", "tests") for p in (PROJECT_ROOT / d).rglob("*.py")),
    ]
    for path in sources:
        for variable in python.findall(path.read_text()):
            found.setdefault(variable, name(path))
    for path in sorted((PROJECT_ROOT / "scripts").glob("*.sh")):
        for variable in re.findall(r"\$\{([A-Z][A-Z0-9_]*):?[-=?+]", path.read_text()):
            found.setdefault(variable, name(path))
    for variable in re.findall(r"^([A-Z][A-Z0-9_]*) *\?=", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE):
        found.setdefault(variable, "Makefile")
    return {k: v for k, v in found.items() if k not in SYSTEM_VARIABLES}


def test_every_variable_the_code_and_scripts_read_is_in_env_example():
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", (PROJECT_ROOT / ".env.example").read_text(), re.MULTILINE))
    missing = [
        f"{where} reads {variable}, which .env.example does not list"
        for variable, where in sorted(variables_read().items())
        if variable not in listed
    ]
    assert not missing, (
        "\n".join(missing)
        + "\n(declare it in service/commands/config.py, then `flask settings example > .env.example`)"
    )


def test_env_example_credits_each_script_variable_to_a_file_that_reads_it():
    """A variable's line in .env.example may name the files that read it; each must really read it."""
    wrong = []
    for variable, _, meaning in config.SCRIPT_VARIABLES:
        for file in re.findall(r"\b([\w./-]+\.(?:py|sh|yml))\b", meaning) + re.findall(r"\b(Makefile)\b", meaning):
            path = PROJECT_ROOT / file if (PROJECT_ROOT / file).exists() else PROJECT_ROOT / "scripts" / file
            if not path.exists() or variable not in path.read_text():
                wrong.append(f".env.example: {variable} is credited to {file}, which does not read it")
    assert not wrong, "\n".join(wrong)


# -- docs/METRICS.md and the database ---------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    ["product_metrics_daily", "product_ranks_daily", "market_index_daily", "league_product_points", "league_results"],
)
def test_metrics_md_defines_every_column(db, table):
    text = TEXTS[PROJECT_ROOT / "docs" / "METRICS.md"]
    columns = [
        row["column_name"]
        for row in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
    ]
    assert columns, table
    section = text.split(f"`{table}`", 1)
    assert len(section) == 2, f"docs/METRICS.md has no section on `{table}`"
    missing = [c for c in columns if f"`{c}`" not in text and not _shortened(c, text)]
    assert not missing, f"docs/METRICS.md does not define {table}'s columns {missing}"


def _shortened(column: str, text: str) -> bool:
    """`floor_change_pct_1d`, `_7d`, `_30d` defines three columns."""
    stem, _, suffix = column.rpartition("_")
    return bool(stem) and f"`{stem}_" in text and f"`_{suffix}`" in text


def test_no_project_file_names_a_file_outside_the_repository():
    outside = "../" + "shared"  # spelled so that this file does not name it
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    wrong = [
        path
        for path in tracked.splitlines()
        if not path.startswith("web/package-lock")
        and (PROJECT_ROOT / path).is_file()
        and outside in (PROJECT_ROOT / path).read_text(errors="replace")
    ]
    assert not wrong, f"these files name {outside}, which a clone does not have: {wrong}"


# -- the README's example requests, against a simulated market of real catalog products -------------

CURL = re.compile(r"""curl [^"]*"(http://127\.0\.0\.1:8000(/api/v1/[^"]+))\"""")
DATE = re.compile(r"""\$\(date -u -d ['"]?([^'")]+?)['"]? \+%F\)""")


def day_of(phrase: str, today: date) -> str:
    """What `date -u -d PHRASE +%F` prints for the phrases the README uses."""
    if phrase == "today":
        return today.isoformat()
    if phrase == "yesterday":
        return (today - timedelta(days=1)).isoformat()
    match = re.fullmatch(r"(\d+) days? ago", phrase)
    assert match, f"README.md: date phrase {phrase!r} is not one this test knows"
    return (today - timedelta(days=int(match.group(1)))).isoformat()


def readme_examples() -> list[tuple[str, Any]]:
    """Each `curl "http://127.0.0.1:8000/api/v1/..."` of the README with the JSON shown after it."""
    examples = []
    for block in FENCED.findall(README):
        match = CURL.search(block)
        if match:
            answer = block[match.end() :].split("\n", 1)[1].strip() if "\n" in block[match.end() :] else ""
            examples.append((match.group(2), answer))
    return examples


def test_the_readme_examples_run_against_the_demo(client, db, settings):
    examples = readme_examples()
    assert examples, "README.md shows no example request (a curl of http://127.0.0.1:8000/api/v1/...)"
    now = datetime.now(UTC)
    slugs = {m for path, _ in examples for m in re.findall(r"/products/([a-z0-9-]+)", path)}
    rows = [row for row in catalog.parse_csv(PROJECT_ROOT / "data" / "catalog.csv") if row.slug in slugs]
    assert {row.slug for row in rows} == slugs, (
        f"README.md: slugs not in data/catalog.csv: {slugs - {r.slug for r in rows}}"
    )
    catalog.load(db, rows)
    # The demo's days end today and move with the clock: a few days of it are enough for the examples.
    driver.advance(settings.database_url, days=5, now=now, kind="sim-backfill")
    pipeline.run(settings.database_url, (now - timedelta(days=5)).date(), now.date())
    for path, shown in examples:
        url = DATE.sub(lambda m: day_of(m.group(1), now.date()), path)
        response = client.get(url)
        assert response.status_code == 200, (
            f"README.md: GET {url} answers {response.status_code}: {response.get_data(as_text=True)}"
        )
        got = response.get_json()
        example = json.loads(shown)
        assert set(got) == set(example), (
            f"README.md: GET {url}: top-level keys {sorted(got)}, the example shows {sorted(example)}"
        )
        if isinstance(example.get("meta"), dict):
            assert set(got["meta"]) == set(example["meta"]), (
                f"README.md: GET {url}: meta keys {sorted(got['meta'])}, the example shows {sorted(example['meta'])}"
            )
        if isinstance(example.get("data"), list) and example["data"]:
            assert len(got["data"]) == len(example["data"]), (
                f"README.md: GET {url}: {len(got['data'])} rows, the example shows {len(example['data'])}"
            )
            keys, shown_keys = sorted(got["data"][0]), sorted(example["data"][0])
            assert keys == shown_keys, f"README.md: GET {url}: row keys {keys}, the example shows {shown_keys}"


def test_every_product_a_document_names_is_in_the_catalog():
    slugs = {row.slug for row in catalog.parse_csv(PROJECT_ROOT / "data" / "catalog.csv")}
    wrong = [
        f"{name(doc)}: `{slug}` is not a product of data/catalog.csv"
        for doc, text in TEXTS.items()
        for slug in re.findall(r"/(?:box|products)/([a-z0-9]+(?:-[a-z0-9]+)*-box(?:-[a-z0-9-]+)?)\b", text)
        if slug not in slugs
    ]
    assert not wrong, "\n".join(wrong)
