"""Rasa Open Source server: swap the running model with ``PUT /model``, confirm via ``/status``.

The server must run with ``--enable-api`` and usually ``--auth-token``; the token goes in the
``?token=`` query parameter (Rasa has no header form for it). ``PUT /model`` takes either
``{"model_file": <path on the server's filesystem>}`` or ``{"model_server": {"url": ...}}``
and answers 204 once the new model is loaded. ``GET /status`` then names the loaded
archive (its base name) and the model id.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ci_toolkit.deploy.http import HttpCaller, Log, RetryPolicy, join_url
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.retry import poll

if TYPE_CHECKING:
    import requests


@dataclass(frozen=True)
class ServerStatus:
    """What ``GET /status`` says; ``model_file`` is None when no model is loaded (409)."""

    model_file: str | None
    model_id: str | None


@dataclass(frozen=True)
class ModelSource:
    """Where the server should load the model from: a path on the server, or a model server."""

    model_file: str | None = None
    model_server_url: str | None = None
    model_server_token: str | None = None

    def __post_init__(self) -> None:
        if bool(self.model_file) == bool(self.model_server_url):
            raise UsageError(
                "Give the Rasa server exactly one model source: --server-model-file (a path on "
                "the server's filesystem) or --model-server-url (a URL the server pulls from)."
            )

    def body(self) -> dict[str, Any]:
        if self.model_file:
            return {"model_file": self.model_file}
        server: dict[str, Any] = {"url": self.model_server_url}
        if self.model_server_token:
            server["token"] = self.model_server_token
        return {"model_server": server}

    def describe(self) -> str:
        return f"model file {self.model_file}" if self.model_file else "the model server"


class RasaServerClient:
    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        *,
        token: str | None,
        retry: RetryPolicy | None = None,
        log: Log = lambda _line: None,
        extra_secrets: tuple[str | None, ...] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.http = HttpCaller(session, service="Rasa server", secrets=(token, *extra_secrets),
                               retry=retry, log=log, url_option="--rasa-url",
                               server="the Rasa server (`rasa run --enable-api`)")

    def _params(self) -> dict[str, str]:
        return {"token": self._token} if self._token else {}

    def _fail(self, response: requests.Response, what: str, *, expected: str = "200"
              ) -> ToolkitError:
        status = response.status_code
        detail = self.http.detail(response)
        if status in (401, 403):
            return ToolkitError(
                f"The Rasa server refused the request to {what} ({status}): {detail}. Set the "
                "secret CI_TOOLKIT_RASA_TOKEN to the server's --auth-token."
            )
        if status == 404:
            return ToolkitError(
                f"The Rasa server at {self.base_url} has no endpoint to {what} (404). Start it "
                "with "
                "`rasa run --enable-api` and check --rasa-url (the server's base URL)."
            )
        return self.http.unexpected(response, what=what, expected=expected)

    def status(self) -> ServerStatus:
        response = self.http.request("GET", join_url(self.base_url, "status"),
                                     what="read /status", params=self._params())
        if response.status_code == 409:
            # Rasa's answer when the server runs without a model.
            return ServerStatus(None, None)
        if response.status_code != 200:
            raise self._fail(response, "read /status", expected="200 or 409")
        body = self.http.json(response, what="read /status", shape=Mapping,
                              described="an object with the model_file")
        model_file, model_id = body.get("model_file"), body.get("model_id")
        if model_file is not None and not isinstance(model_file, str):
            raise self.http.unexpected(response, what="read /status",
                                       expected="a model_file that is a file name")
        return ServerStatus(model_file, None if model_id is None else str(model_id))

    def replace_model(self, source: ModelSource) -> None:
        """``PUT /model``; the server answers 204 once the new model is loaded."""
        self.http.redact.add(source.model_server_token)
        # Rasa answers only after loading the model, which can take minutes on a busy
        # machine: one long attempt, since a retry after a timeout would load it again.
        patient = replace(self.http.retry, read_timeout_s=self.http.retry.total_s)
        response = self.http.request("PUT", join_url(self.base_url, "model"),
                                     what="replace the model", params=self._params(),
                                     json=source.body(), retry=patient)
        if response.status_code == 204:
            return  # a 204 has no body: a proxy's page would come with another status
        if response.status_code == 400 and source.model_file:
            raise ToolkitError(
                f"The Rasa server could not load '{source.model_file}' (400): "
                f"{self.http.detail(response)}. The path is read on the Rasa "
                "server's filesystem: mount the model there, or use --model-server-url."
            )
        raise self._fail(response, "replace the model", expected="204")

    def wait_for_model(self, source: ModelSource, previous: ServerStatus,
                       *, timeout_s: float = 60.0) -> ServerStatus:
        """Poll ``/status`` until it shows the new model; return that status."""
        seen: list[ServerStatus] = []

        def loaded() -> ServerStatus | None:
            seen.append(self.status())
            return seen[-1] if _shows_new_model(seen[-1], source, previous) else None

        current = poll(loaded, timeout_s=timeout_s, interval_s=1.0, sleep=self.http.sleep,
                       clock=self.http.clock)
        if current is not None:
            return current
        expected = (posixpath.basename(source.model_file) if source.model_file
                    else "a model from the model server")
        raise ToolkitError(
            f"The Rasa server still reports model '{seen[-1].model_file}' after "
            f"{timeout_s:.0f} s, expected {expected}. Check the server's log for a "
            "loading error."
        )

    def deploy(self, source: ModelSource, *,
               confirm_timeout_s: float = 60.0) -> tuple[ServerStatus, ServerStatus]:
        """Swap the model; return (status before, status after)."""
        before = self.status()
        self.http.log(f"Rasa server runs model {before.model_file or '(none)'}; "
                      f"loading {source.describe()}.")
        self.replace_model(source)
        after = self.wait_for_model(source, before, timeout_s=confirm_timeout_s)
        self.http.log(f"Rasa server now runs model {after.model_file} (id {after.model_id}).")
        return before, after


def _shows_new_model(current: ServerStatus, source: ModelSource, previous: ServerStatus) -> bool:
    if current.model_file is None:
        return False
    if source.model_file:
        return current.model_file == posixpath.basename(source.model_file.rstrip("/"))
    # A model server may serve the very model that runs already; any loaded model will do.
    return True


def rollback_source(previous: ServerStatus, deployed: ModelSource) -> ModelSource | None:
    """Where the model that ran before is, if that can be known.

    ``/status`` gives only the archive's base name. When the new model was loaded from a
    path, the previous one is taken to sit in the same directory (rasa's models/ folder);
    a model server or an empty server leaves nothing to go back to.
    """
    if not previous.model_file or not deployed.model_file:
        return None
    directory = posixpath.dirname(deployed.model_file)
    candidate = posixpath.join(directory, previous.model_file) if directory else previous.model_file
    if candidate == deployed.model_file:
        return None
    return ModelSource(model_file=candidate)
