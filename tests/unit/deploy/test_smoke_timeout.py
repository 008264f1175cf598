"""The smoke test keeps to --smoke-timeout: every round, request and HTTP retry included, even
against a server that never answers, answers late, trickles its answer a byte at a time or
fails every time. Short real timeouts against a real HTTP server on 127.0.0.1. What proves
the bound is what the report tells (the answer that did not come in time, the conversations
not started), not a stopwatch: a smoke test without it would hang or pass the late step."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.fakes.fake_helm import FakeHelm
from tests.fakes.rasax_server import FakeRasaX, model_archive, running_fake_rasax

TIMEOUT_S = 1.0
# Later than the timeout: had the smoke test waited, it would have got this answer and passed
# the step, and the report would not say that the answer did not come in time.
LATE_S = 5.0
# What the report says when the time ran out: the request's own timeout, or, on a busy
# machine where the request started late, the bound on the whole answer or on the run.
OUT_OF_TIME = ("answer within 1 s", "no complete answer within", "ran out of time")
WEBHOOK = "/webhooks/rest/webhook$"
# Three conversations of two steps: six requests, each of which used to get 30 s.
SMOKE = "conversations:\n" + "".join(
    f"  - name: c{n}\n    steps:\n      - user: hi\n        bot: Hi\n"
    f"      - user: bye\n        bot: Bye\n" for n in range(3))


def never_answers(fake: FakeRasaX) -> None:
    fake.hang("POST", WEBHOOK)


def answers_late(fake: FakeRasaX) -> None:
    fake.answer_with("POST", WEBHOOK, 200, b'[{"text": "Hi"}]',
                     content_type="application/json", delay_s=LATE_S)


def trickles(fake: FakeRasaX) -> None:
    # Each byte comes well inside any read timeout; the whole answer would take ~10 s.
    fake.answer_with("POST", WEBHOOK, 200, b'[{"text": "Hi"}]' + b" " * 40,
                     content_type="application/json", trickle_s=0.1)


def fails_every_time(fake: FakeRasaX) -> None:
    fake.answer_with("POST", WEBHOOK, 503, b"<html>503 Service Unavailable</html>")


CASES: dict[str, tuple[Callable[[FakeRasaX], None], tuple[str, ...]]] = {
    # requests' read timeout and the bound on the whole answer end at the same moment.
    "never answers": (never_answers, OUT_OF_TIME),
    "answers after 5 s": (answers_late, OUT_OF_TIME),
    "trickles a byte at a time": (trickles, ("no complete answer within",)),
    "503 every time": (fails_every_time, ("HTTP 503: an HTML page",)),
}


@pytest.fixture
def fake() -> Iterator[FakeRasaX]:
    with running_fake_rasax(FakeRasaX()) as server:
        yield server


@pytest.fixture
def smoke_file(tmp_path: Path) -> Path:
    path = tmp_path / "smoke.yml"
    path.write_text(SMOKE)
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_the_smoke_test_ends_within_its_timeout(name: str, fake: FakeRasaX, smoke_file: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    arrange, says = CASES[name]
    arrange(fake)

    code = main(["smoke-test", "--smoke-tests", str(smoke_file), "--smoke-url", fake.base_url,
                 "--smoke-timeout", str(TIMEOUT_S)])

    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert any(words in captured.out for words in says), captured.out
    assert "error: Smoke test FAILED" in captured.err


def test_a_closed_port_fails_within_the_timeout(smoke_file: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["smoke-test", "--smoke-tests", str(smoke_file), "--smoke-url",
                 f"http://127.0.0.1:{port}", "--smoke-timeout", str(TIMEOUT_S)])
    assert code == 1
    assert "Connection refused" in capsys.readouterr().out


def test_conversations_that_get_no_time_say_so(fake: FakeRasaX, smoke_file: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    never_answers(fake)
    main(["smoke-test", "--smoke-tests", str(smoke_file), "--smoke-url", fake.base_url,
          "--smoke-timeout", str(TIMEOUT_S)])
    report = capsys.readouterr().out
    # The first conversation used up the time; the others were not started.
    assert report.count("not finished: the smoke test ran out of time") == 2
    assert "1 round(s)" in report


def test_a_hanging_smoke_test_in_a_deploy_is_bounded_and_rolled_back(
        fake: FakeRasaX, fake_helm: FakeHelm, smoke_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CI_TOOLKIT_RASAX_TOKEN", "rx-t")
    fake.api_tokens.add("rx-t")
    fake.add_model("old", model_archive(tmp_path / "old.tar.gz").read_bytes(), ("production",))
    never_answers(fake)

    code = main(["deploy", "--model-target", "rasa-x", "--rasax-url", fake.base_url,
                 "--model", str(model_archive(tmp_path / "new.tar.gz")),
                 "--helm-release", "coffee", "--smoke-tests", str(smoke_file),
                 "--smoke-timeout", str(TIMEOUT_S)])

    err = capsys.readouterr().err
    assert code == 1
    assert "Rolled back: re-tagged model 'old' as 'production' in Rasa X; rolled helm release " \
           "'coffee' back to revision 2" in err
    assert fake.tagged("production") == ["old"]
