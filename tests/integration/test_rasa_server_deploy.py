"""Model swap and smoke test against a REAL `rasa run --enable-api --auth-token ...` on loopback.

One Rasa server (and the example's real action server) is started for the whole module,
because starting Rasa takes 20-30 s. Every test but the last leaves the server running the
model ``first.tar.gz``; each model swap loads a model (about a minute), so they are few.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ci_toolkit.cli import main
from ci_toolkit.deploy.conversations import SmokeTester, run_smoke_test
from ci_toolkit.deploy.http import RetryPolicy
from ci_toolkit.deploy.rasa_server import ModelSource, RasaServerClient
from ci_toolkit.deploy.smoke_file import load_conversations
from ci_toolkit.errors import ToolkitError
from tests.fakes.fake_helm import FakeHelm, deployed
from tests.fakes.rasax_server import FakeRasaX, model_archive, running_fake_rasax
from tests.rasa_support import EXAMPLE_DIR, RASA_ENV, rasa_executable

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

TOKEN = "rasa-auth-token-81c2e4"
# --smoke-timeout bounds the whole smoke test, requests included: room for one round of
# slow answers on a busy machine, and less than a pause (5 s) and a second round.
SMOKE_ONE_ROUND = "5"
# Loading a model can take minutes when the machine is busy; the budget only bounds a hang.
PATIENT = RetryPolicy(total_s=600)
EXAMPLE_SMOKE = EXAMPLE_DIR / "tests" / "smoke.yml"
WRONG_EXPECTATIONS = """\
conversations:
  - name: greeting
    steps:
      - user: hello
        bot: "Goodbye, see you"
        intent: goodbye
  - name: bot challenge
    steps:
      - user: are you a bot?
        bot_regex: "(?i)powered by rasa"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Servers:
    url: str
    models: Path
    first: Path
    second: Path
    log: Path


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path, *,
                      needs_model: bool, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if needs_model:
                ready = requests.get(f"{url}/status", params={"token": TOKEN}, timeout=5).ok
            else:
                ready = requests.get(f"{url}/health", timeout=5).ok
            if ready:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} was not ready after {timeout_s} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Only our own child, by its own PID.
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, example_model: Path) -> Iterator[Servers]:
    rasa = rasa_executable()
    work = tmp_path_factory.mktemp("rasa-server")
    models = work / "models"
    models.mkdir()
    trained = example_model
    first, second = models / "first.tar.gz", models / "second.tar.gz"
    shutil.copyfile(trained, first)
    shutil.copyfile(trained, second)
    shutil.copytree(EXAMPLE_DIR / "actions", work / "actions")
    rasa_port, actions_port = free_port(), free_port()
    (work / "credentials.yml").write_text("rest:\n")
    (work / "endpoints.yml").write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n")
    env = {**RASA_ENV, "SANIC_HOST": "127.0.0.1"}  # rasa-sdk's only way to pick the interface

    actions_log = (work / "actions.log").open("wb")
    action_server = subprocess.Popen(
        [rasa, "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        cwd=work, env=env, stdout=actions_log, stderr=subprocess.STDOUT)
    rasa_log = (work / "rasa.log").open("wb")
    rasa_server = subprocess.Popen(
        [rasa, "run", "--enable-api", "--auth-token", TOKEN, "-p", str(rasa_port),
         "-i", "127.0.0.1", "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
         "--model", str(first)],
        cwd=work, env=env, stdout=rasa_log, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(action_server, f"http://127.0.0.1:{actions_port}", work / "actions.log",
                          needs_model=False)
        url = f"http://127.0.0.1:{rasa_port}"
        _wait_until_ready(rasa_server, url, work / "rasa.log", needs_model=True)
        yield Servers(url, models, first, second, work / "rasa.log")
    finally:
        _stop(rasa_server)
        _stop(action_server)
        rasa_log.close()
        actions_log.close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def running_model(servers: Servers) -> str:
    status = requests.get(f"{servers.url}/status", params={"token": TOKEN}, timeout=10)
    return str(status.json()["model_file"])


def test_a_wrong_token_is_refused_without_showing_it(servers: Servers,
                                                     session: requests.Session) -> None:
    wrong = f"{TOKEN}-old"
    client = RasaServerClient(session, servers.url, token=wrong)
    with pytest.raises(ToolkitError) as caught:
        client.replace_model(ModelSource(model_file=str(servers.second)))

    assert "401" in caught.value.message and "CI_TOOLKIT_RASA_TOKEN" in caught.value.message
    assert wrong not in caught.value.message
    assert running_model(servers) == "first.tar.gz"


def test_a_path_the_server_cannot_load_is_explained(servers: Servers,
                                                    session: requests.Session) -> None:
    client = RasaServerClient(session, servers.url, token=TOKEN, retry=PATIENT)
    with pytest.raises(ToolkitError) as caught:
        client.replace_model(ModelSource(model_file=str(servers.models / "missing.tar.gz")))

    assert "server's filesystem" in caught.value.message
    assert running_model(servers) == "first.tar.gz"


def test_the_example_smoke_conversations_pass(servers: Servers, session: requests.Session) -> None:
    tester = SmokeTester(session, servers.url, token=TOKEN)
    report = run_smoke_test(tester, load_conversations(EXAMPLE_SMOKE), source=str(EXAMPLE_SMOKE),
                            timeout_s=60, interval_s=2)

    assert report.passed, report.format_text()
    order = report.conversations[-1].steps[-1]
    assert order.bot_texts and "is on its way" in order.bot_texts[0]  # the action server answered
    assert report.format_text().startswith(f"Smoke test passed against {servers.url}")


def test_a_wrong_expectation_fails_with_a_readable_report(servers: Servers, tmp_path: Path,
                                                          session: requests.Session) -> None:
    conversations = tmp_path / "smoke.yml"
    conversations.write_text(WRONG_EXPECTATIONS)
    tester = SmokeTester(session, servers.url, token=TOKEN)
    report = run_smoke_test(tester, load_conversations(conversations), source="smoke.yml",
                            timeout_s=10, interval_s=10)

    text = report.format_text()
    assert not report.passed and report.failed_count == 1
    assert "1 of 2 conversation(s) failed" in text
    assert "FAILED greeting (smoke.yml line 2)" in text
    assert 'step 1: user said "hello"' in text
    assert '- expected bot text containing "Goodbye, see you"' in text
    assert '- expected intent "goodbye"' in text
    assert "bot said: \"Hi! I'm Coffeebot. What can I get you today?\"" in text
    assert 'parsed intent: "greet"' in text
    assert "ok     bot challenge" in text


def test_smoke_test_command_exit_codes(servers: Servers, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CI_TOOLKIT_RASA_TOKEN", TOKEN)
    monkeypatch.setenv("CI_TOOLKIT_SMOKE_URL", servers.url)
    assert main(["smoke-test", "--smoke-tests", str(EXAMPLE_SMOKE)]) == 0
    assert "Smoke test passed" in capsys.readouterr().out

    wrong = tmp_path / "wrong.yml"
    wrong.write_text(WRONG_EXPECTATIONS)
    assert main(["smoke-test", "--smoke-tests", str(wrong), "--smoke-timeout", SMOKE_ONE_ROUND]) == 1
    captured = capsys.readouterr()
    assert 'expected bot text containing "Goodbye, see you"' in captured.out
    assert "error: Smoke test FAILED" in captured.err
    assert TOKEN not in captured.out + captured.err


def _actions_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, helm: FakeHelm) -> Path:
    outputs = tmp_path / "github_output"
    outputs.touch()
    for name, value in {**helm.env(), "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(outputs),
                        "CI_TOOLKIT_DEPLOY_IMAGE_NAME": "ghcr.io/acme/coffee-actions",
                        "CI_TOOLKIT_DEPLOY_IMAGE_TAG": "3f2c1ab"}.items():
        monkeypatch.setenv(name, value)
    return outputs


def test_deploy_to_a_rasa_server_rolls_back_model_and_release_when_smoke_fails(
        servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    helm = FakeHelm(tmp_path / "bin", {"coffee": deployed("superseded", "deployed")})
    outputs = _actions_env(monkeypatch, tmp_path, helm)
    monkeypatch.setenv("CI_TOOLKIT_RASA_TOKEN", TOKEN)
    wrong = tmp_path / "wrong.yml"
    wrong.write_text(WRONG_EXPECTATIONS)
    argv = ["deploy", "--model-target", "rasa-server", "--model", str(servers.second),
            "--rasa-url", servers.url, "--helm-release", "coffee", "--http-timeout", "600"]

    code = main([*argv, "--smoke-tests", str(wrong), "--smoke-timeout", SMOKE_ONE_ROUND])

    captured = capsys.readouterr()
    assert code == 1
    assert running_model(servers) == "first.tar.gz"  # the previous model is back
    rollbacks = [call[:3] for call in helm.calls if call[0] == "rollback"]
    assert rollbacks == [["rollback", "coffee", "2"]]
    assert "Rolled back: loaded the previous model" in captured.err
    assert 'expected bot text containing "Goodbye, see you"' in captured.out
    written = outputs.read_text()
    for line in ("smoke_test=failed", "rolled_back=true", "helm_revision=3",
                 "helm_previous_revision=2", "model_name=second.tar.gz",
                 "previous_model=first.tar.gz"):
        assert f"{line}\n" in written
    # The only place the token may appear is the mask command for the runner.
    shown = captured.out.replace(f"::add-mask::{TOKEN}", "") + captured.err
    assert TOKEN not in shown

    # (A deployment whose smoke test passes keeps its model: the flow's unit tests; here the
    # rollback is what needs a real server, and each model load costs about a minute.)


def test_deploy_to_rasa_x_retags_the_previous_model_when_smoke_fails(
        servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    helm = FakeHelm(tmp_path / "bin", {"coffee": deployed("deployed")})
    outputs = _actions_env(monkeypatch, tmp_path, helm)
    # deploy refuses anything but a gzip tar before it uploads.
    model = model_archive(tmp_path / "20260102-3f2c1ab.tar.gz", b"new model")
    rasax = FakeRasaX(api_tokens={"rx-token-aa11bb"})
    rasax.add_model("20260101-0a0a0a0", gzip.compress(b"old model"), tags=("production",))
    wrong = tmp_path / "wrong.yml"
    wrong.write_text(WRONG_EXPECTATIONS)
    monkeypatch.setenv("CI_TOOLKIT_RASAX_TOKEN", "rx-token-aa11bb")
    monkeypatch.setenv("CI_TOOLKIT_RASA_TOKEN", TOKEN)

    with running_fake_rasax(rasax):
        code = main(["deploy", "--model-target", "rasa-x", "--model", str(model),
                     "--rasax-url", rasax.base_url, "--helm-release", "coffee",
                     "--helm-image-keys", "rasa-x", "--helm-chart", "rasa-x/rasa-x",
                     "--helm-reuse-values", "--smoke-url", servers.url,
                     "--smoke-tests", str(wrong), "--smoke-timeout", SMOKE_ONE_ROUND])

    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert rasax.tagged("production") == ["20260101-0a0a0a0"]
    assert "20260102-3f2c1ab" in rasax.models  # uploaded, tagged, then untagged
    calls = [(c.method, c.path) for c in rasax.requests if c.path.startswith("/api/projects")]
    upload = calls.index(("POST", "/api/projects/default/models"))
    tags = [c for c in calls if c[0] == "PUT"]
    assert tags == [("PUT", "/api/projects/default/models/20260102-3f2c1ab/tags/production"),
                    ("PUT", "/api/projects/default/models/20260101-0a0a0a0/tags/production")]
    assert upload < calls.index(tags[0])
    upgrade = next(call for call in helm.calls if call[0] == "upgrade")
    assert "app.name=ghcr.io/acme/coffee-actions" in upgrade and "--reuse-values" in upgrade
    rollbacks = [call[:3] for call in helm.calls if call[0] == "rollback"]
    assert rollbacks == [["rollback", "coffee", "1"]]
    written = outputs.read_text()
    assert "model_name=20260102-3f2c1ab\n" in written and "model_upload=uploaded\n" in written
    assert "previous_model=20260101-0a0a0a0\n" in written and "rolled_back=true\n" in written
    shown = captured.out.replace("::add-mask::rx-token-aa11bb", "").replace(
        f"::add-mask::{TOKEN}", "") + captured.err
    assert "rx-token-aa11bb" not in shown and TOKEN not in shown


# Last in this module: it leaves the second model running (each load costs about a minute,
# so it does not swap back). The rollback test above swaps to it and back through `deploy`.
def test_put_model_swaps_the_model_and_status_confirms_it(servers: Servers,
                                                          session: requests.Session) -> None:
    logs: list[str] = []
    client = RasaServerClient(session, servers.url, token=TOKEN, log=logs.append, retry=PATIENT)

    before, after = client.deploy(ModelSource(model_file=str(servers.second)))
    assert (before.model_file, after.model_file) == ("first.tar.gz", "second.tar.gz")
    assert running_model(servers) == "second.tar.gz"
    assert TOKEN not in "\n".join(logs)
