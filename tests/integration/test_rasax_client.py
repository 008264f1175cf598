"""The Rasa X client against a local HTTP server that implements the Rasa X model API."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ci_toolkit.deploy.flow import RasaXTarget
from ci_toolkit.deploy.http import RetryPolicy
from ci_toolkit.deploy.rasax import RasaXClient, RasaXCredentials
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.retry import Backoff
from tests.fakes.rasax_server import FakeRasaX, model_archive, running_fake_rasax

TOKEN = "rx-api-token-5f3a9c"
PASSWORD = "pa55-w0rd-e7d1"
FAST = RetryPolicy(total_s=10, connect_timeout_s=2, read_timeout_s=5,
                   backoff=Backoff(first_s=0.05, max_s=0.2))


def archive(tmp_path: Path, name: str, content: bytes) -> Path:
    return model_archive(tmp_path / name, content)


@pytest.fixture
def fake() -> Iterator[FakeRasaX]:
    with running_fake_rasax(FakeRasaX(api_tokens={TOKEN}, users={"ci_user": PASSWORD})) as server:
        yield server


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    yield lines
    # Whatever the test did, no secret may have reached a log line.
    text = "\n".join(lines)
    assert TOKEN not in text and PASSWORD not in text


def make_client(session: requests.Session, url: str, logs: list[str], *,
                credentials: RasaXCredentials | None = None, project: str = "default",
                retry: RetryPolicy = FAST) -> RasaXClient:
    return RasaXClient(session, url, credentials or RasaXCredentials(api_token=TOKEN),
                       project=project, retry=retry, log=logs.append)


def assert_no_secret(error: ToolkitError) -> None:
    assert TOKEN not in error.message and PASSWORD not in error.message
    assert TOKEN not in str(error.__cause__ or "") and TOKEN not in str(error.__context__ or "")


def test_upload_and_tag_with_api_token(fake: FakeRasaX, session: requests.Session,
                                       logs: list[str], tmp_path: Path) -> None:
    model = archive(tmp_path, "20260101-abc123.tar.gz", b"model one")
    client = make_client(session, fake.base_url, logs)

    assert client.check_healthy()["production"]["status"] == 200
    result = client.upload_model(model)
    client.tag_model(result.model_name)

    assert (result.model_name, result.outcome) == ("20260101-abc123", "uploaded")
    assert fake.models["20260101-abc123"].data == model.read_bytes()
    assert fake.tagged("production") == ["20260101-abc123"]
    assert client.model_tagged("production") == "20260101-abc123"
    upload = fake.calls("POST", "/api/projects/default/models")[0]
    assert upload.query["api_token"] == [TOKEN] and upload.authorization is None
    assert fake.calls("PUT")[0].path == \
        "/api/projects/default/models/20260101-abc123/tags/production"


def test_username_and_password_log_in_and_use_the_bearer_token(
        fake: FakeRasaX, session: requests.Session, logs: list[str], tmp_path: Path) -> None:
    client = make_client(session, fake.base_url, logs,
                         credentials=RasaXCredentials(username="ci_user", password=PASSWORD))
    result = client.upload_model(archive(tmp_path, "m1.tar.gz", b"one"))
    client.tag_model(result.model_name, "staging")

    assert fake.tagged("staging") == ["m1"]
    login = fake.calls("POST", "/api/auth")
    assert len(login) == 1  # one login, the bearer is reused
    bearer = next(iter(fake.issued_bearers))
    for call in fake.calls("POST", "/api/projects") + fake.calls("PUT"):
        assert call.authorization == f"Bearer {bearer}" and "api_token" not in call.query
    assert bearer not in "\n".join(logs)


def test_409_with_the_same_file_is_success(fake: FakeRasaX, session: requests.Session,
                                           logs: list[str], tmp_path: Path) -> None:
    model = archive(tmp_path, "m2.tar.gz", b"same bytes")
    fake.add_model("m2", model.read_bytes(), tags=("production",))

    result = make_client(session, fake.base_url, logs).upload_model(model)

    assert result.outcome == "already-present"
    assert [c.status for c in fake.calls("POST", "/api/projects")] == [409]
    assert fake.calls("DELETE") == []


def test_409_with_a_different_file_is_an_error_without_replace(
        fake: FakeRasaX, session: requests.Session, logs: list[str], tmp_path: Path) -> None:
    old_model = gzip.compress(b"old model")  # compressed once: gzip stamps the current second
    fake.add_model("m3", old_model)
    model = archive(tmp_path, "m3.tar.gz", b"new model")

    with pytest.raises(ToolkitError) as caught:
        make_client(session, fake.base_url, logs).upload_model(model)

    assert "different model named 'm3'" in caught.value.message
    assert "--replace-model" in caught.value.message
    assert fake.models["m3"].data == old_model
    assert fake.calls("DELETE") == []
    assert_no_secret(caught.value)


def test_409_with_a_different_file_and_replace_deletes_then_uploads(
        fake: FakeRasaX, session: requests.Session, logs: list[str], tmp_path: Path) -> None:
    fake.add_model("m4", gzip.compress(b"old model"))
    model = archive(tmp_path, "m4.tar.gz", b"new model")

    result = make_client(session, fake.base_url, logs).upload_model(model, replace=True)

    assert result.outcome == "replaced"
    assert fake.models["m4"].data == model.read_bytes()
    assert [(c.method, c.status) for c in fake.calls(path_prefix="/api/projects")] == [
        ("POST", 409), ("GET", 200), ("DELETE", 204), ("POST", 201)]


def test_401_says_which_secret_to_fix_and_hides_it(fake: FakeRasaX, session: requests.Session,
                                                   logs: list[str], tmp_path: Path) -> None:
    wrong = f"{TOKEN}-expired"
    client = RasaXClient(session, fake.base_url, RasaXCredentials(api_token=wrong), retry=FAST,
                         log=logs.append)
    with pytest.raises(ToolkitError) as caught:
        client.upload_model(archive(tmp_path, "m5.tar.gz", b"x"))

    assert "401" in caught.value.message and "CI_TOOLKIT_RASAX_TOKEN" in caught.value.message
    assert wrong not in caught.value.message and wrong not in "\n".join(logs)
    assert len(fake.calls("POST")) == 1  # a 4xx is not retried


def test_wrong_password_is_a_401_that_names_the_password_secret(
        fake: FakeRasaX, session: requests.Session, logs: list[str]) -> None:
    client = make_client(session, fake.base_url, logs,
                         credentials=RasaXCredentials(username="ci_user", password=PASSWORD + "x"))
    with pytest.raises(ToolkitError) as caught:
        client.tag_model("anything")

    assert "CI_TOOLKIT_RASAX_PASSWORD" in caught.value.message
    assert PASSWORD not in caught.value.message


def test_missing_credentials_are_a_usage_error(session: requests.Session) -> None:
    with pytest.raises(UsageError, match="CI_TOOLKIT_RASAX_TOKEN"):
        RasaXClient(session, "http://127.0.0.1:9", RasaXCredentials())
    with pytest.raises(UsageError, match="CI_TOOLKIT_RASAX_PASSWORD"):
        RasaXClient(session, "http://127.0.0.1:9", RasaXCredentials(username="ci_user"))


def test_404_for_a_wrong_project_or_url(fake: FakeRasaX, session: requests.Session,
                                        logs: list[str], tmp_path: Path) -> None:
    model = archive(tmp_path, "m6.tar.gz", b"x")
    with pytest.raises(ToolkitError) as wrong_project:
        make_client(session, fake.base_url, logs, project="coffee").upload_model(model)
    with pytest.raises(ToolkitError) as wrong_url:
        make_client(session, f"{fake.base_url}/rasa-x", logs).upload_model(model)

    for caught in (wrong_project, wrong_url):
        assert "404" in caught.value.message
        assert "--rasax-url" in caught.value.message and "--rasax-project" in caught.value.message
        assert_no_secret(caught.value)
    assert fake.models == {}


def test_tagging_a_model_that_is_not_there_is_a_404(fake: FakeRasaX, session: requests.Session,
                                                    logs: list[str]) -> None:
    with pytest.raises(ToolkitError, match="no model 'ghost'"):
        make_client(session, fake.base_url, logs).tag_model("ghost")


def test_503_then_success_is_retried(fake: FakeRasaX, session: requests.Session,
                                     logs: list[str], tmp_path: Path) -> None:
    fake.fail_next("POST", r"/models$", 503)
    fake.fail_next("PUT", r"/tags/", 502, 500)
    client = make_client(session, fake.base_url, logs)

    result = client.upload_model(archive(tmp_path, "m7.tar.gz", b"seven"))
    client.tag_model(result.model_name)

    assert result.outcome == "uploaded"
    assert [c.status for c in fake.calls("POST")] == [503, 201]
    assert [c.status for c in fake.calls("PUT")] == [502, 500, 204]
    assert fake.tagged("production") == ["m7"]
    assert any("retrying" in line and "503" in line for line in logs)


def test_5xx_that_does_not_stop_fails_after_the_time_budget(
        fake: FakeRasaX, session: requests.Session, logs: list[str], tmp_path: Path) -> None:
    fake.fail_next("POST", r"/models$", *([503] * 200))
    client = make_client(session, fake.base_url, logs,
                         retry=RetryPolicy(total_s=1.0, backoff=Backoff(0.05, 0.1)))
    with pytest.raises(ToolkitError) as caught:
        client.upload_model(archive(tmp_path, "m8.tar.gz", b"x"))

    assert "HTTP 503" in caught.value.message and "attempt" in caught.value.message
    assert len(fake.calls("POST")) >= 2
    assert_no_secret(caught.value)


def test_a_server_that_never_answers_fails_in_bounded_time(
        fake: FakeRasaX, session: requests.Session, logs: list[str], tmp_path: Path) -> None:
    fake.hang("POST", r"/models$")
    client = make_client(session, fake.base_url, logs,
                         retry=RetryPolicy(total_s=2.0, connect_timeout_s=1, read_timeout_s=0.5,
                                           backoff=Backoff(0.1, 0.2)))
    with pytest.raises(ToolkitError) as caught:
        client.upload_model(archive(tmp_path, "m9.tar.gz", b"x"))

    message = caught.value.message
    assert "no answer within" in message and "upload m9.tar.gz" in message
    assert "Check that the service is running" in message
    assert_no_secret(caught.value)


def test_a_closed_port_is_a_clear_error_without_the_token(
        session: requests.Session, logs: list[str], tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(session, f"http://127.0.0.1:{port}", logs,
                         retry=RetryPolicy(total_s=0.5, backoff=Backoff(0.1, 0.1)))
    with pytest.raises(ToolkitError) as caught:
        client.upload_model(archive(tmp_path, "m10.tar.gz", b"x"))

    assert "Connection refused" in caught.value.message
    assert_no_secret(caught.value)


def test_the_fake_refuses_what_rasa_x_refuses(fake: FakeRasaX, session: requests.Session,
                                              tmp_path: Path) -> None:
    url = f"{fake.base_url}/api/projects/default/models"
    model = archive(tmp_path, "m11.tar.gz", b"x")
    wrong_field = session.post(url, params={"api_token": TOKEN},
                               files={"file": (model.name, model.read_bytes())})
    not_an_archive = session.post(url, params={"api_token": TOKEN},
                                  files={"model": ("m11.tar.gz", b"plain text")})
    no_auth = session.post(url, files={"model": (model.name, model.read_bytes())})

    assert wrong_field.status_code == 400 and "'model'" in wrong_field.json()["message"]
    assert not_an_archive.status_code == 400
    assert no_auth.status_code == 401
    assert fake.models == {}


def test_deploy_target_records_the_previous_tag_and_rolls_back_to_it(
        fake: FakeRasaX, session: requests.Session, logs: list[str], tmp_path: Path) -> None:
    fake.add_model("old", gzip.compress(b"old"), tags=("production",))
    target = RasaXTarget(make_client(session, fake.base_url, logs),
                         archive(tmp_path, "new.tar.gz", b"new"))

    target.prepare()
    target.activate()
    assert fake.tagged("production") == ["new"]
    done = target.rollback()

    assert fake.tagged("production") == ["old"]
    assert done is not None and "old" in done
    assert target.outputs() == {"model_name": "new", "model_upload": "uploaded",
                                "previous_model": "old"}
    assert len(fake.calls("GET", "/api/health")) == 2  # before the upload, after the tag


def test_an_unhealthy_production_service_stops_the_deploy(
        fake: FakeRasaX, session: requests.Session, logs: list[str], tmp_path: Path) -> None:
    fake.production_status = 500
    target = RasaXTarget(make_client(session, fake.base_url, logs),
                         archive(tmp_path, "m12.tar.gz", b"x"))
    with pytest.raises(ToolkitError, match="unhealthy"):
        target.prepare()
    assert fake.models == {}
