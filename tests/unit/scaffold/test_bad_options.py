"""Every scaffold option refuses a bad value before anything is written: exit 2, and a
message that names the option and says what to use instead.

One table for the command line (and the environment variables the actions set), one for
the cron rules GitHub applies to `on: schedule`, both ways.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from ci_toolkit.scaffold.checks import (
    branch_problem,
    chart_ref_problem,
    cron_problem,
    image_name_problem,
    path_problem,
)
from tests.unit.scaffold.disk import snapshot

EXIT_USAGE = 2



# (args, env, the text the error must contain); every case exits 2 and writes nothing.
BAD_VALUES: list[tuple[list[str], dict[str, str], str]] = [
    # --schedule: GitHub's cron, five fields separated by single spaces
    (["--schedule", "every day"], {}, "--schedule 'every day' is not valid: a cron expression "
                                      "has five fields"),
    (["--schedule", "0 4 * *"], {}, "this one has 4"),
    (["--schedule", "0 4 * * 1 2026"], {}, "this one has 6"),
    (["--schedule", "0  4 * * 1"], {}, "separated by single spaces"),
    (["--schedule", "0\n4 * * 1"], {}, "this one has 4"),
    (["--schedule", "@daily"], {}, "this one has 1"),
    (["--schedule", "60 4 * * 1"], {}, "the minute field '60' is not valid: use * or 0-59"),
    (["--schedule", "-1 4 * * 1"], {}, "the minute field '-1'"),
    (["--schedule", "*/0 4 * * 1"], {}, "the minute field '*/0'"),
    (["--schedule", "*/60 4 * * 1"], {}, "the minute field '*/60'"),
    (["--schedule", "30-10 4 * * 1"], {}, "the minute field '30-10'"),
    (["--schedule", "1,,2 4 * * 1"], {}, "the minute field '1,,2'"),
    (["--schedule", "0 24 * * 1"], {}, "the hour field '24' is not valid: use * or 0-23"),
    (["--schedule", "0 4 0 * *"], {}, "the day of the month field '0'"),
    (["--schedule", "0 4 32 * *"], {}, "the day of the month field '32'"),
    (["--schedule", "0 4 L * *"], {}, "the day of the month field 'L'"),
    (["--schedule", "0 4 ? * 1"], {}, "the day of the month field '?'"),
    (["--schedule", "0 4 * 13 *"], {}, "the month field '13' is not valid: use * or 1-12, or "
                                       "JAN-DEC"),
    (["--schedule", "0 4 * JANUARY *"], {}, "the month field 'JANUARY'"),
    (["--schedule", "0 4 * * 7"], {}, "the day of the week field '7' is not valid: use * or "
                                      "0-6, or SUN-SAT"),
    (["--schedule", "0 4 * * MON-SUN"], {}, "the day of the week field 'MON-SUN'"),
    (["--schedule", "0 4 * * 1#2"], {}, "the day of the week field '1#2'"),
    (["--schedule", "0 4 * * 8", "--no-schedule"], {}, "--schedule '0 4 * * 8'"),  # a typo either way
    ([], {"CI_TOOLKIT_SCHEDULE": "61 * * * *"}, "--schedule '61 * * * *' is not valid"),
    # --branch: git's rules, in the characters a branch filter takes literally
    (["--branch", "main\nevil: true"], {}, "--branch 'main\\nevil: true' is not valid"),
    (["--branch", "feat*"], {}, "other characters are globs"),
    (["--branch", "release v1"], {}, "--branch 'release v1'"),
    (["--branch", "a..b"], {}, "git does not allow this branch name"),
    (["--branch", "-main"], {}, "no leading '-'"),
    (["--branch", "main.lock"], {}, "'.lock'"),
    (["--branch", "feature/.hidden"], {}, "dot-leading part"),
    (["--branch", "main/"], {}, "git does not allow"),
    (["--branch", "a//b"], {}, "git does not allow"),
    (["--branch", "main."], {}, "git does not allow"),
    (["--branch", "HEAD"], {}, "not HEAD"),
    # --registry, --image-name: what docker accepts, and nothing that reaches a workflow raw
    (["--registry", "Registry With Spaces"], {}, "--registry 'Registry With Spaces'"),
    (["--registry", "https://ghcr.io"], {}, "no scheme"),
    (["--registry", "GHCR.IO"], {}, "in lower case"),
    (["--registry", "ghcr.io/"], {}, "--registry 'ghcr.io/'"),
    (["--image-name", "Org/${{ secrets.X }}"], {}, "--image-name 'Org/${{ secrets.X }}'"),
    (["--image-name", "org/bot:latest"], {}, "without a tag"),
    (["--image-name", "org//bot"], {}, "--image-name 'org//bot'"),
    (["--image-name", "org/bot.-x"], {}, "--image-name 'org/bot.-x'"),
    (["--image-name", "ghcr.io/org/bot"], {}, "'ghcr.io' looks like a registry host: put it in "
                                              "--registry"),
    ([], {"CI_TOOLKIT_DOCKER_IMAGE_NAME": "Me/Bot"}, "--image-name 'Me/Bot'"),
    # --action-repo, --action-ref, --action-tag: what goes into `uses:`, nothing else
    (["--action-repo", "org"], {}, "--action-repo 'org' is not valid: use a GitHub repository"),
    (["--action-repo", "org/name@v1"], {}, "--action-repo 'org/name@v1'"),
    (["--action-repo", "org/x ${{ github.token }}"], {}, "OWNER/NAME"),
    (["--action-repo", "../x/y"], {}, "--action-repo"),
    (["--action-ref", "v1 # x"], {}, "--action-ref 'v1 # x' is not valid"),
    (["--action-ref", "main\nevil: true"], {}, "--action-ref"),
    (["--action-ref", "a..b"], {}, "git does not allow"),
    (["--action-ref", "1ed6a0e"], {}, "give all 40 hex digits"),
    (["--action-tag", "v1\nrun: x"], {}, "--action-tag"),
    ([], {"CI_TOOLKIT_ACTION_REF": "-x"}, "--action-ref '-x'"),
    # --chart-ref: a chart reference, or a local chart inside the repository
    (["--chart-preset", "rasa", "--chart-ref", "x y"], {}, "--chart-ref 'x y' is not valid"),
    (["--chart-preset", "rasa", "--chart-ref", "--set=x"], {}, "use a chart reference"),
    (["--chart-preset", "rasa", "--chart-ref", "${{ secrets.X }}"], {}, "--chart-ref"),
    (["--chart-preset", "rasa", "--chart-ref", "../outside"], {}, "must be inside the repository"),
    (["--chart-preset", "rasa", "--chart-ref", "/opt/charts/x"], {}, "must be inside the "
                                                                     "repository"),
    # --release, --namespace: helm and Kubernetes names
    (["--release", "Bad_Name"], {}, "--release 'Bad_Name' is not valid: use up to 53"),
    (["--release", "r" * 54], {}, "use up to 53"),
    (["--release", "coffee-"], {}, "--release 'coffee-'"),
    (["--namespace", "UPPER"], {}, "--namespace 'UPPER' is not valid: use up to 63"),
    (["--namespace", "n" * 64], {}, "use up to 63"),
    (["--namespace", "bots.prod"], {}, "--namespace 'bots.prod'"),
    # --values-file: a file of its own inside DIRECTORY
    (["--chart-preset", "rasa", "--values-file", "../x.yml"], {}, "--values-file '../x.yml' is "
                                                                  "not valid: the path leaves"),
    (["--values-file", "/etc/values.yml"], {}, "the path is outside DIRECTORY"),
    (["--values-file", "values file.yml"], {}, "--values-file 'values file.yml'"),
    (["--values-file", "."], {}, "name a file"),
    (["--chart-preset", "rasa", "--values-file", "config.yml"], {},
     "it would overwrite the assistant's own files (--config config.yml)"),
    (["--chart-preset", "rasa", "--values-file", "./data/values.yml"], {}, "(--data data)"),
    (["--chart-preset", "rasa", "--values-file", ".github/workflows/values.yml"], {},
     "GitHub would run it as a workflow"),
    (["--chart-preset", "rasa", "--values-file", "Dockerfile"], {}, "another --values-file"),
    # --assistant-name, --python-version, --rasa-version
    (["--assistant-name", "${{ github.token }}"], {}, "--assistant-name '${{ github.token }}'"),
    (["--assistant-name", "n" * 65], {}, "use up to 64"),
    (["--python-version", "3.11"], {}, "--python-version '3.11' is not valid: use 3.10"),
    (["--python-version", "3.8"], {}, "rasa 3.0 to 3.3 need 3.8 or 3.9 and are not supported"),
    (["--rasa-version", "3.2.0"], {}, "supports rasa 3.4 to 3.6"),
    (["--python-version", "python3.10"], {}, "--python-version"),
    (["--rasa-version", "latest-full"], {}, "--rasa-version: rasa_version 'latest-full' is not "
                                            "supported"),
    (["--rasa-version", "2.8.0"], {}, "--rasa-version: rasa_version '2.8.0' is not supported"),
    (["--rasa-version", "banana"], {}, "is not a rasa release"),
    # --folds, --timeout-minutes: ranges, and integers (click)
    (["--folds", "1"], {}, "--folds 1 is not valid: use 2 to 20 folds"),
    (["--folds", "21"], {}, "--folds 21"),
    (["--folds", "-3"], {}, "--folds -3"),
    (["--folds", "three"], {}, "Invalid value for '--folds'"),
    (["--timeout-minutes", "5"], {}, "--timeout-minutes 5 is not valid: use 10 to 360"),
    (["--timeout-minutes", "361"], {}, "--timeout-minutes 361"),
    (["--timeout-minutes", "abc"], {}, "Invalid value for '--timeout-minutes'"),
    # choices and flags (click), also from the environment
    (["--deploy-target", "k8s"], {}, "Invalid value for '--deploy-target'"),
    (["--chart-preset", "bogus"], {}, "Invalid value for '--chart-preset'"),
    ([], {"CI_TOOLKIT_DEPLOY_TARGET": "nowhere"}, "'nowhere' is not one of"),
    ([], {"CI_TOOLKIT_NO_SCHEDULE": "maybe"}, "Invalid value for '--no-schedule'"),
    ([], {"CI_TOOLKIT_PR_CROSS_VALIDATION": "sometimes"}, "--pr-cross-validation"),
]


@pytest.mark.parametrize(("args", "env", "message"), BAD_VALUES,
                         ids=[f"{i:02d}-{' '.join(a) or next(iter(e))}"[:60]
                              for i, (a, e, _) in enumerate(BAD_VALUES)])
def test_a_bad_option_is_refused_before_anything_is_written(
        bot: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        args: list[str], env: dict[str, str], message: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = snapshot(bot)
    code = main(["scaffold", str(bot), *args])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert message in err
    assert "Traceback" not in err
    assert snapshot(bot) == before


# Paths the project's layout gives scaffold: they must be inside DIRECTORY and plain.
@pytest.mark.parametrize(("arrange", "args", "message"), [
    ("config-outside", ["--config", "../shared-config.yml"],
     "--config '{outside}/shared-config.yml' is not valid: the path is outside DIRECTORY"),
    ("data-with-space", ["--data", "more data"], "--data 'more data' is not valid"),
    ("directory-with-space", [], "DIRECTORY (as a path in the repository) 'bots/my bot' is not "
                                 "valid"),
    ("floating-rasa-pin", [], "The rasa version requirements*.txt pins: rasa_version '2.8.1' "
                              "is not supported"),
    ("directory-is-a-file", [], "is a file"),
    ("directory-missing", [], "is not a directory"),
])
def test_a_bad_path_of_the_project_is_refused(
        pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], arrange: str,
        args: list[str], message: str) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    bot = Path(shutil.copytree(pristine, repo / "bots" / ("my bot" if arrange ==
                                                          "directory-with-space" else "coffee")))
    if arrange == "config-outside":
        shutil.copy(bot / "config.yml", bot.parent / "shared-config.yml")
    elif arrange == "data-with-space":
        shutil.copytree(bot / "data", bot / "more data")
    elif arrange == "floating-rasa-pin":
        (bot / "requirements.txt").write_text("rasa==2.8.1\n", encoding="utf-8")
    elif arrange == "directory-is-a-file":
        bot = bot / "config.yml"
    elif arrange == "directory-missing":
        bot = bot / "nowhere"
    before = snapshot(repo)
    code = main(["scaffold", str(bot), *args])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert message.format(outside=bot.parent.resolve()) in err
    assert snapshot(repo) == before


@pytest.mark.parametrize("expression", [
    "0 4 * * 1", "*/15 * * * *", "0 0 1 JAN *", "0 0 * jan-jun mon-fri", "0 4 * * SUN",
    "5/15 * * * *", "0-30/10 1,13 1-15 */2 0-6", "59 23 31 12 6", "0 0 * * 0",
    "0 12 * * MON,WED,FRI", "0 0 1-7/2 * *", "0 0 * DEC Sat",
])
def test_a_schedule_github_accepts_is_accepted(expression: str) -> None:
    assert cron_problem(expression) is None


# The rules are no stricter than the tools that read the values.
@pytest.mark.parametrize(("problem", "value"), [
    (branch_problem, "main"), (branch_problem, "release/v2"), (branch_problem, "feat/x-y_z.1"),
    (image_name_problem, "team/coffee-actions"), (image_name_problem, "a__b/c---d.e"),
    (image_name_problem, "coffee"),
    (lambda ref: chart_ref_problem(ref, "."), "rasa-x/rasa-x"),
    (lambda ref: chart_ref_problem(ref, "."), "./charts/assistant"),
    (lambda ref: chart_ref_problem(ref, "."), "oci://registry.example.com:5000/charts/x"),
    (lambda ref: chart_ref_problem(ref, "."), "https://charts.example.com/x-1.0.0.tgz"),
    (lambda ref: chart_ref_problem(ref, "bots/coffee"), "../../charts/assistant"),
    (lambda path: path_problem(path, inside="DIRECTORY"), "deploy/values.yml"),
    (lambda path: path_problem(path, inside="DIRECTORY"), ".config/v_1-2.yaml"),
])
def test_a_value_the_tools_accept_is_accepted(problem: object, value: str) -> None:
    assert problem(value) is None  # type: ignore[operator]
