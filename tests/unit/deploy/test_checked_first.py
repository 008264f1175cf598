"""`deploy` and `smoke-test` check every URL, the model archive and the conversations file
before anything changes: each bad value is exit 2 with a message that names the option, and
neither Rasa X nor helm has been called (a mistyped --smoke-url used to roll a good release
back after the upgrade)."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.fakes.fake_helm import FakeHelm
from tests.fakes.rasax_server import FakeRasaX, model_archive, running_fake_rasax

TOKEN = "rx-token-checked-first-7f1d"
GOOD_SMOKE = "conversations:\n  - steps:\n      - user: hi\n        bot: Hi\n"

URL_OPTIONS = {
    "--smoke-url": "--smoke-url (CI_TOOLKIT_SMOKE_URL)",
    "--rasax-url": "--rasax-url (CI_TOOLKIT_RASAX_URL)",
    "--rasa-url": "--rasa-url (CI_TOOLKIT_RASA_URL)",
    "--model-server-url": "--model-server-url (CI_TOOLKIT_MODEL_SERVER_URL)",
}

BAD_URLS = [
    ("http://[::1", "cannot be parsed (Invalid IPv6 URL)"),
    ("bot.example.com", "it has no scheme: start it with https:// or http://"),
    ("bot.example.com:5005", "it has no scheme"),
    ("ftp://bot.example.com", "the scheme 'ftp' is not http or https"),
    ("http://", "it has no host name"),
    ("https://:5005", "it has no host name"),
    ("http://bot example.com", "contains a space, a line break or a control character"),
    (" https://bot.example.com", "contains a space"),
    ("https://bot.example.com\n", "a line break"),
    ("https://bot.example.com:99999", "cannot be parsed (Port out of range 0-65535)"),
    ("https://bot.example.com:port", "cannot be parsed"),
    ("https://ci:hunter22@bot.example.com", "carries a user name or password"),
    ("https://bot.example.com/?token=abc123", "a base URL has no ?query or #fragment"),
    ("https://bot.example.com/#x", "a base URL has no ?query or #fragment"),
]


class Deploy:
    """A deploy whose every part is real and local: a Rasa X fake (also the smoke URL), a
    helm stand-in with a deployed release, a model archive and a conversations file."""

    def __init__(self, tmp_path: Path, rasax: FakeRasaX, helm: FakeHelm) -> None:
        self.tmp_path = tmp_path
        self.rasax = rasax
        self.helm = helm
        self.model = model_archive(tmp_path / "20260102-3f2c1ab.tar.gz")
        self.smoke = tmp_path / "smoke.yml"
        self.smoke.write_text(GOOD_SMOKE)

    def options(self) -> dict[str, str | None]:
        return {"--model-target": "rasa-x", "--model": str(self.model),
                "--rasax-url": self.rasax.base_url, "--helm-release": "coffee",
                "--image-name": "ghcr.io/acme/coffee-actions", "--image-tag": "3f2c1ab",
                "--smoke-tests": str(self.smoke), "--smoke-url": self.rasax.base_url,
                "--smoke-timeout": "1", "--http-timeout": "2"}

    def run(self, command: str = "deploy", **changes: str | None) -> int:
        options = {**self.options(), **{"--" + key.replace("_", "-"): value
                                        for key, value in changes.items()}}
        if command == "smoke-test":
            options = {key: value for key, value in options.items()
                       if key.startswith("--smoke")}
        argv = [command]
        for name, value in options.items():
            if value is not None:
                argv += [name, value]
        return main(argv)

    def nothing_remote(self) -> None:
        assert self.rasax.requests == [], [r.path for r in self.rasax.requests]
        assert self.helm.calls == []


@pytest.fixture
def deploy(tmp_path: Path, fake_helm: FakeHelm, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[Deploy]:
    monkeypatch.setenv("CI_TOOLKIT_RASAX_TOKEN", TOKEN)
    with running_fake_rasax(FakeRasaX(api_tokens={TOKEN})) as rasax:
        yield Deploy(tmp_path, rasax, fake_helm)


def test_the_good_deploy_reaches_every_service(deploy: Deploy) -> None:
    """The baseline of the table below: with good values, Rasa X and helm are called."""
    deploy.rasax.answer_with("POST", "/webhooks/rest/webhook", 200, b'[{"text": "Hi there"}]',
                             content_type="application/json")
    assert deploy.run() == 0
    assert deploy.rasax.requests and deploy.helm.calls


@pytest.mark.parametrize("option", list(URL_OPTIONS))
@pytest.mark.parametrize(("value", "message"), BAD_URLS)
def test_a_bad_url_is_refused_before_anything_changes(
        deploy: Deploy, option: str, value: str, message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = deploy.run(**{option[2:]: value})

    err = capsys.readouterr().err
    assert code == 2, err
    assert f"error: {URL_OPTIONS[option]} " in err and message in err
    assert "Give the base URL, e.g. http" in err
    assert "hunter22" not in err and "abc123" not in err  # credentials are not repeated
    deploy.nothing_remote()


@pytest.mark.parametrize(("value", "message"), BAD_URLS[:5])
def test_smoke_test_refuses_a_bad_url_before_it_sends(
        deploy: Deploy, value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy.run("smoke-test", smoke_url=value) == 2
    err = capsys.readouterr().err
    assert "--smoke-url (CI_TOOLKIT_SMOKE_URL)" in err and message in err
    deploy.nothing_remote()


def _write(name: str, content: bytes | None) -> Callable[[Path], str]:
    """A path under tmp_path holding ``content`` (a directory when None)."""
    def make(tmp_path: Path) -> str:
        path = tmp_path / "input" / name
        path.parent.mkdir(exist_ok=True)
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
        return str(path)
    return make


def _archive_bytes(tmp_path: Path) -> bytes:
    return model_archive(tmp_path / "whole.tar.gz", b"x" * 4096).read_bytes()


def _truncated(name: str) -> Callable[[Path], str]:
    def make(tmp_path: Path) -> str:
        return _write(name, _archive_bytes(tmp_path)[:-40])(tmp_path)
    return make


def _empty_archive(tmp_path: Path) -> str:
    import tarfile

    path = tmp_path / "input-empty.tar.gz"
    with tarfile.open(path, "w:gz"):
        pass
    return str(path)


def _renamed_archive(tmp_path: Path) -> str:
    return str(model_archive(tmp_path / "model.tgz"))


# option -> (how to make the bad value, the message it must give)
BAD_INPUTS: list[tuple[str, str, Callable[[Path], str] | str, str]] = [
    ("model is text", "model", _write("m.tar.gz", b"not a model\n"),
     "is not a gzip-compressed tar archive (it starts with b'no', not b'\\x1f\\x8b')"),
    ("model is empty", "model", _write("m.tar.gz", b""), "is not a gzip-compressed tar archive"),
    ("model is gzip but no tar", "model", _write("m.tar.gz", gzip.compress(b"plain text")),
     "is not a readable tar archive"),
    ("model is cut short", "model", _truncated("m.tar.gz"), "is not a readable tar archive"),
    ("model archive is empty", "model", _empty_archive, "is a tar archive but not a rasa model"),
    ("model is a directory", "model", _write("m.tar.gz", None), "is a directory"),
    ("model is missing", "model", "missing.tar.gz", "The model 'missing.tar.gz' does not exist"),
    ("model name", "model", _renamed_archive, "is not a .tar.gz archive"),
    ("model without a target", "model-target", "none",
     "--model (CI_TOOLKIT_MODEL) is given, but --model-target (CI_TOOLKIT_MODEL_TARGET) is "
     "none, so the model would not be deployed"),
    ("smoke file is missing", "smoke-tests", "nope.yml",
     "conversations file 'nope.yml' does not exist"),
    ("smoke file is a directory", "smoke-tests", _write("smoke", None), "is a directory"),
    ("smoke file is binary", "smoke-tests", _write("s.yml", b"\xff\xfe\x00garbage"),
     "is not UTF-8 text"),
    ("smoke file is not YAML", "smoke-tests", _write("s.yml", b"conversations: [\n"),
     "is not valid YAML"),
    ("smoke file runs code", "smoke-tests",
     _write("s.yml", b"conversations: !!python/object/apply:os.system ['true']\n"),
     "is not valid YAML"),
    ("smoke file is a list", "smoke-tests", _write("s.yml", b"- user: hi\n"),
     "must be a mapping with a 'conversations' list"),
    ("smoke file is empty", "smoke-tests", _write("s.yml", b""), "must be a mapping"),
    ("smoke conversations empty", "smoke-tests", _write("s.yml", b"conversations: {}\n"),
     "'conversations' must be a non-empty list"),
    ("smoke step without user", "smoke-tests",
     _write("s.yml", b"conversations:\n  - steps:\n      - bot: hi\n"), "needs 'user:'"),
    ("smoke intent not text", "smoke-tests",
     _write("s.yml", b"conversations:\n  - steps:\n      - user: hi\n        intent: [a]\n"),
     "'intent' must be a text"),
    ("smoke merge key", "smoke-tests",
     _write("s.yml", b"base: &b {steps: [{user: hi, bot: 7}]}\n"
                     b"conversations:\n  - <<: *b\n"), "'bot' must be a text or a list"),
    ("smoke timeout nan", "smoke-timeout", "nan", "--smoke-timeout (CI_TOOLKIT_SMOKE_TIMEOUT) "
                                                   "must be a finite number of seconds, 1 or more"),
    ("smoke timeout inf", "smoke-timeout", "inf", "must be a finite number of seconds"),
    ("http timeout nan", "http-timeout", "nan", "--http-timeout (CI_TOOLKIT_HTTP_TIMEOUT)"),
    ("rasa x tag empty", "rasax-tag", "", "--rasax-tag (CI_TOOLKIT_RASAX_TAG) '' is not a "
                                          "Rasa X name"),
    ("rasa x project slash", "rasax-project", "a/b", "is not a Rasa X name"),
    ("image tag with comma", "image-tag", "v1,app.evil=1", "--image-tag 'v1,app.evil=1' is "
                                                           "not a Docker image tag"),
    ("image name with space", "image-name", "ghcr.io/a b", "is not a Docker image name"),
]


@pytest.mark.parametrize(("option", "make", "message"),
                         [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_refused_before_anything_changes(
        deploy: Deploy, option: str, make: Callable[[Path], str] | str, message: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(deploy.tmp_path)
    value = make if isinstance(make, str) else make(deploy.tmp_path)

    code = deploy.run(**{option: value})

    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err
    deploy.nothing_remote()


def test_a_model_for_the_rasa_server_is_checked_too(deploy: Deploy,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    text = deploy.tmp_path / "m.tar.gz"
    text.write_text("not a model")
    code = deploy.run(model_target="rasa-server", rasa_url=deploy.rasax.base_url,
                      model=str(text))
    assert code == 2
    assert "is not a gzip-compressed tar archive" in capsys.readouterr().err
    deploy.nothing_remote()
