"""Every way a deploy can fail after the helm upgrade says what this run changed, what it
rolled back and what it could not undo, and why. A Rasa X fake (which also plays the
assistant's REST channel) and the helm stand-in; the command's exit code and message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.fakes.fake_helm import FakeHelm
from tests.fakes.rasax_server import FakeRasaX, model_archive, running_fake_rasax

TOKEN = "rx-token-rollback-91ab"
NEW = "20260102-3f2c1ab"
WEBHOOK = "/webhooks/rest/webhook$"
SMOKE = "conversations:\n  - steps:\n      - user: hi\n        bot: Hi\n"


@dataclass
class World:
    rasax: FakeRasaX
    helm: FakeHelm
    monkeypatch: pytest.MonkeyPatch

    def helm_fails(self, *commands: str) -> None:
        self.monkeypatch.setenv("FAKE_HELM_FAIL", ",".join(commands))

    def smoke_answers(self, text: str) -> None:
        self.rasax.answer_with("POST", WEBHOOK, 200, f'[{{"text": "{text}"}}]'.encode(),
                               content_type="application/json")

    def helm_rollbacks(self) -> list[list[str]]:
        return [call[:3] for call in self.helm.calls if call[0] == "rollback"]


@dataclass
class Case:
    arrange: Callable[[World], None]
    says: list[str]
    never_says: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    code: int = 1
    tagged_after: list[str] = field(default_factory=lambda: ["old"])
    helm_rollbacks: list[list[str]] = field(default_factory=lambda: [["rollback", "coffee", "2"]])
    target: str = "rasa-x"  # or rasa-server: the fake plays /status and PUT /model


def smoke_fails(world: World) -> None:
    world.smoke_answers("Bye")


def smoke_fails_and_helm_cannot_roll_back(world: World) -> None:
    smoke_fails(world)
    world.helm_fails("rollback")


def smoke_fails_on_a_first_install(world: World) -> None:
    smoke_fails(world)
    world.helm.state_file.write_text('{"calls": [], "releases": {}}')


def smoke_fails_and_no_model_had_the_tag(world: World) -> None:
    smoke_fails(world)
    world.rasax.models["old"].tags.clear()


def tag_gets_no_answer(world: World) -> None:
    world.rasax.answer_with("PUT", "/tags/", 503, b"<html>busy</html>")


def tag_is_refused(world: World) -> None:
    world.rasax.answer_with("PUT", "/tags/", 403, b'{"message": "no permission"}',
                            content_type="application/json", times=1)


def status_fails_after_the_upgrade(world: World) -> None:
    world.helm_fails("status")


def model_switch_gets_no_answer(world: World) -> None:
    world.rasax.answer_with("GET", "/status$", 200, b'{"model_file": "old.tar.gz"}',
                            content_type="application/json")
    world.rasax.hang("PUT", "/model$")


def server_ran_no_model_and_smoke_fails(world: World) -> None:
    world.rasax.answer_with("GET", "/status$", 409, b'{"message": "no model"}',
                            content_type="application/json", times=1)
    world.rasax.answer_with("GET", "/status$", 200, f'{{"model_file": "{NEW}.tar.gz"}}'.encode(),
                            content_type="application/json")
    world.rasax.answer_with("PUT", "/model$", 204, b"")
    smoke_fails(world)


def interrupted_in_the_smoke_test(world: World) -> None:
    def interrupt(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    world.monkeypatch.setattr("ci_toolkit.deploy.flow.run_smoke_test", interrupt)


UNDONE_BOTH = ("Rolled back: re-tagged model 'old' as 'production' in Rasa X; rolled helm "
               "release 'coffee' back to revision 2 (now revision 4).")

CASES: dict[str, Case] = {
    "smoke test fails": Case(smoke_fails, [
        "error: Smoke test FAILED", UNDONE_BOTH], never_says=["Not rolled back"]),
    "helm rollback fails": Case(smoke_fails_and_helm_cannot_roll_back, [
        "Rolled back: re-tagged model 'old' as 'production' in Rasa X.",
        "Not rolled back: `helm rollback coffee 2` failed (exit 1): Error: timed out waiting "
        "for the condition. Roll back by hand."]),
    "first install of the release": Case(smoke_fails_on_a_first_install, [
        "Rolled back: re-tagged model 'old' as 'production' in Rasa X.",
        "Not rolled back: helm release 'coffee' stays installed: this run installed it, so "
        "there is no earlier revision (`helm uninstall coffee` removes it)."],
        helm_rollbacks=[]),
    "no model had the tag before": Case(smoke_fails_and_no_model_had_the_tag, [
        "Rolled back: rolled helm release 'coffee' back to revision 2 (now revision 4).",
        f"Not rolled back: the Rasa X tag 'production' stays on model '{NEW}': no model "
        "carried it before this run."], tagged_after=[NEW]),
    "tag got no answer": Case(tag_gets_no_answer, [
        f"error: Rasa X: tag model '{NEW}' as 'production' failed after",
        "HTTP 503: an HTML page",
        # No answer: the tag may have moved, so it is put back too.
        "Not rolled back: Rasa X: tag model 'old' as 'production' failed after",
        "Rolled back: rolled helm release 'coffee' back to revision 2 (now revision 4)."]),
    "tag refused": Case(tag_is_refused, [
        f"error: Rasa X: the user may not tag model '{NEW}' as 'production' (403): no "
        "permission.", "Rolled back: rolled helm release 'coffee' back to revision 2 (now "
        "revision 4)."], never_says=["re-tagged", "Not rolled back"]),
    "tag refused, --no-rollback": Case(tag_is_refused, [
        "(403): no permission.", "Nothing was rolled back (--no-rollback). Changed by this "
        "run: the helm release."], argv=["--no-rollback"], helm_rollbacks=[]),
    "helm status fails after the upgrade": Case(status_fails_after_the_upgrade, [
        "error: `helm upgrade --install coffee` ran, but its new revision is unknown: `helm "
        "status coffee` gave no revision (exit 1)",
        "Rolled back: rolled helm release 'coffee' back to revision 2 (its new revision is "
        "unknown)."], tagged_after=["old"]),
    "model switch got no answer": Case(model_switch_gets_no_answer, [
        "error: Rasa server: replace the model failed after 1 attempt(s)",
        # No answer: the server may have loaded it, so the previous model is loaded again.
        "Rolled back: rolled helm release 'coffee' back to revision 2 (now revision 4).",
        "Not rolled back: Rasa server: replace the model failed after 1 attempt(s)"],
        target="rasa-server"),
    "server ran no model before": Case(server_ran_no_model_and_smoke_fails, [
        "error: Smoke test FAILED", "Rolled back: rolled helm release 'coffee' back to "
        "revision 2 (now revision 4).", "Not rolled back: the Rasa server keeps the new model: "
        "it ran no model before this run."], target="rasa-server"),
    "interrupted during the smoke test": Case(interrupted_in_the_smoke_test, [
        "Stopped before the deploy finished. Not rolled back: the Rasa X model tag, the helm "
        "release changed by this run.", "Interrupted."], code=130, tagged_after=[NEW],
        helm_rollbacks=[]),
}


@pytest.fixture
def world(tmp_path: Path, fake_helm: FakeHelm, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[World]:
    monkeypatch.setenv("CI_TOOLKIT_RASAX_TOKEN", TOKEN)
    with running_fake_rasax(FakeRasaX(api_tokens={TOKEN})) as rasax:
        rasax.add_model("old", model_archive(tmp_path / "old.tar.gz").read_bytes(),
                        ("production",))
        yield World(rasax, fake_helm, monkeypatch)


@pytest.mark.parametrize("name", list(CASES))
def test_a_failure_after_the_upgrade_says_what_was_and_was_not_undone(
        name: str, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    case.arrange(world)
    smoke = tmp_path / "smoke.yml"
    smoke.write_text(SMOKE)

    url = "--rasax-url" if case.target == "rasa-x" else "--rasa-url"
    code = main(["deploy", "--model-target", case.target, url, world.rasax.base_url,
                 "--smoke-url", world.rasax.base_url,
                 "--model", str(model_archive(tmp_path / f"{NEW}.tar.gz")),
                 "--helm-release", "coffee", "--image-name", "ghcr.io/acme/coffee-actions",
                 "--image-tag", "3f2c1ab", "--smoke-tests", str(smoke), "--smoke-timeout", "1",
                 "--http-timeout", "1", *case.argv])

    err = " ".join(capsys.readouterr().err.split())
    assert code == case.code, err
    for part in case.says:
        assert part in err
    for part in case.never_says:
        assert part not in err
    assert "Traceback" not in err
    assert world.rasax.tagged("production") == case.tagged_after
    assert world.helm_rollbacks() == case.helm_rollbacks
