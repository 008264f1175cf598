"""Rasa X / Rasa Enterprise: upload a model, tag it, check health.

The API contract, as the Rasa docs and RasaHQ/rasactl use it: ``POST /api/auth`` for a
bearer token, or an API token as ``?api_token=``; ``POST /api/projects/<p>/models``
(multipart field ``model``; 201 uploaded, 409 name taken); ``PUT .../models/<name>/tags/<tag>``
(204; 404 no such model); ``GET``/``DELETE .../models/<name>``; ``GET .../models`` (a list of
``{model, hash, tags, ...}``); ``GET /api/health``.

"Is the model that is already there (409) the same file?" is decided by downloading it and
comparing its SHA-256 with the local archive. The ``hash`` field of the model list is Rasa's
model fingerprint, not a file digest, so it cannot answer that question; the download is
paid only on a name clash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ci_toolkit.deploy.http import HttpCaller, Log, RetryPolicy, join_url
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.hashing import file_sha256
from ci_toolkit.rasa.model_archive import MODEL_SUFFIX

if TYPE_CHECKING:
    import requests



@dataclass(frozen=True)
class RasaXCredentials:
    """Either an API token, or a username and password for ``POST /api/auth``."""

    api_token: str | None = None
    username: str | None = None
    password: str | None = None

    def check(self) -> None:
        if self.api_token:
            return
        if self.username and self.password:
            return
        if self.username and not self.password:
            raise UsageError(
                "A Rasa X username was given but no password. Set the secret "
                "CI_TOOLKIT_RASAX_PASSWORD, or use an API token in CI_TOOLKIT_RASAX_TOKEN."
            )
        raise UsageError(
            "No Rasa X credentials. Set the secret CI_TOOLKIT_RASAX_TOKEN to an API token, or "
            "set --rasax-username and the secret CI_TOOLKIT_RASAX_PASSWORD."
        )


@dataclass(frozen=True)
class UploadResult:
    model_name: str
    outcome: str  # "uploaded" | "already-present" | "replaced"


def model_name_for(path: Path) -> str:
    """Rasa X names a model after its file: ``20240101-abc.tar.gz`` -> ``20240101-abc``."""
    name = path.name
    if not name.endswith(MODEL_SUFFIX):
        raise UsageError(
            f"The model '{path}' is not a .tar.gz archive. Pass the file that `rasa train` "
            "wrote (models/<name>.tar.gz)."
        )
    return name[: -len(MODEL_SUFFIX)]


class RasaXClient:
    """One Rasa X server and project. Build it with a session made by the command."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        credentials: RasaXCredentials,
        *,
        project: str = "default",
        retry: RetryPolicy | None = None,
        log: Log = lambda _line: None,
    ) -> None:
        credentials.check()
        self.base_url = base_url.rstrip("/")
        self.project = project
        self._credentials = credentials
        self._bearer: str | None = None
        self.http = HttpCaller(session, service="Rasa X",
                               secrets=(credentials.api_token, credentials.password),
                               retry=retry, log=log, url_option="--rasax-url",
                               server="Rasa X")

    # -- plumbing ---------------------------------------------------------------------

    def _url(self, *parts: str) -> str:
        path = "/".join(quote(part, safe="") for part in parts)
        return join_url(self.base_url, f"api/projects/{quote(self.project, safe='')}/{path}")

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        """(query params, headers) that authenticate a request."""
        if self._credentials.api_token:
            return {"api_token": self._credentials.api_token}, {}
        if self._bearer is None:
            self._bearer = self.login()
        return {}, {"Authorization": f"Bearer {self._bearer}"}

    def _call(self, method: str, url: str, *, what: str, **kwargs: Any) -> requests.Response:
        params, headers = self._auth()
        return self.http.request(method, url, what=what, params=params, headers=headers, **kwargs)

    def _fail(self, response: requests.Response, what: str, *, expected: str = "200",
              model: str | None = None) -> ToolkitError:
        """A 4xx answer as an error that says what to fix."""
        status = response.status_code
        detail = self.http.detail(response)
        if status == 401:
            how = ("Check the secret CI_TOOLKIT_RASAX_TOKEN: it must be a current API token of a "
                   "Rasa X user." if self._credentials.api_token else
                   "Check --rasax-username and the secret CI_TOOLKIT_RASAX_PASSWORD.")
            return ToolkitError(f"Rasa X refused the credentials (401) on {what}: {detail}. {how}")
        if status == 403:
            return ToolkitError(f"Rasa X: the user may not {what} (403): {detail}. Use a user "
                                "with the admin role, or ask an admin for the permission.")
        if status == 404:
            if model is not None and not self.http.is_page(response):
                return ToolkitError(f"Rasa X has no model '{model}' in project '{self.project}' "
                                    f"(404) on {what}. Upload it first, or check the model name "
                                    "and --rasax-project.")
            return ToolkitError(
                f"Rasa X answered 404 on {what} at {self.base_url}: {detail}. Check "
                f"--rasax-url (the server's base URL, without /api) and --rasax-project "
                f"('{self.project}'; Rasa X has one project, 'default')."
            )
        if status == 413:
            return ToolkitError(f"Rasa X (or a proxy in front of it) rejected the model as too "
                                f"large (413) on {what}. Raise the proxy's body size limit "
                                "(nginx client_max_body_size).")
        return self.http.unexpected(response, what=what, expected=expected)

    # -- API ------------------------------------------------------------------------

    def login(self) -> str:
        """``POST /api/auth`` -> bearer token (kept out of every message)."""
        response = self.http.request(
            "POST", join_url(self.base_url, "api/auth"), what="log in",
            json={"username": self._credentials.username, "password": self._credentials.password},
        )
        if response.status_code != 200:
            raise self._fail(response, "log in")
        body = self.http.json(response, what="log in", shape=Mapping,
                              described="an object with an access_token")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ToolkitError(
                f"Rasa X answered the login at {self.base_url}/api/auth without an access_token. "
                "Check that --rasax-url points to Rasa X (not to the Rasa server)."
            )
        self.http.redact.add(token)
        return token

    def health(self) -> dict[str, Any]:
        response = self.http.request("GET", join_url(self.base_url, "api/health"),
                                     what="check health")
        if response.status_code != 200:
            raise self._fail(response, "check health")
        return dict(self.http.json(response, what="check health", shape=Mapping,
                                   described="an object"))

    def check_healthy(self) -> dict[str, Any]:
        """Health must answer 200, and the production Rasa service (when reported) too."""
        body = self.health()
        production = body.get("production")
        if isinstance(production, Mapping) and production.get("status") not in (200, None):
            raise ToolkitError(
                f"Rasa X reports its production Rasa service as unhealthy (status "
                f"{production.get('status')}). Check the Rasa production pods "
                "(kubectl get pods; kubectl logs) before deploying."
            )
        return body

    def list_models(self) -> list[dict[str, Any]]:
        response = self._call("GET", self._url("models"), what="list models")
        if response.status_code != 200:
            raise self._fail(response, "list models")
        models = self.http.json(response, what="list models", shape=list,
                                described="a list of models")
        return [dict(model) for model in models if isinstance(model, Mapping)]

    def model_tagged(self, tag: str) -> str | None:
        """The name of the model that carries ``tag`` now, if any."""
        for model in self.list_models():
            if tag in (model.get("tags") or []):
                return str(model.get("model"))
        return None

    def remote_sha256(self, name: str) -> str | None:
        """SHA-256 of the model archive stored under ``name``; None if there is none."""
        response = self._call("GET", self._url("models", name), what=f"download model '{name}'",
                              stream=True)
        with response:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise self._fail(response, f"download model '{name}'")
            if "html" in response.headers.get("Content-Type", ""):
                # A login page would hash as "a different model" and mislead.
                raise self.http.unexpected(response, what=f"download model '{name}'",
                                           expected="the model archive")
            digest = hashlib.sha256()
            for chunk in response.iter_content(1 << 20):
                digest.update(chunk)
            return digest.hexdigest()

    def delete_model(self, name: str) -> None:
        what = f"delete model '{name}'"
        response = self._call("DELETE", self._url("models", name), what=what)
        if response.status_code not in (200, 204, 404) or self.http.is_page(response):
            raise self._fail(response, what, expected="204")

    def _post_model(self, path: Path) -> requests.Response:
        return self._call(
            "POST", self._url("models"), what=f"upload {path.name}",
            files=lambda: {"model": (path.name, path.open("rb"), "application/x-tar")},
        )

    def upload_model(self, path: Path, *, replace: bool = False) -> UploadResult:
        """Upload ``path``. A name clash is fine when the stored file is identical; a
        different file under the same name is an error unless ``replace`` is set."""
        name = model_name_for(path)
        if not path.is_file():
            raise UsageError(f"The model '{path}' does not exist. Train one first "
                             "(ci-toolkit train) or pass the right path.")
        response = self._post_model(path)
        if response.status_code == 201:
            self.http.log(f"Uploaded model '{name}' to Rasa X.")
            return UploadResult(name, "uploaded")
        if response.status_code != 409:
            raise self._fail(response, f"upload {path.name}", expected="201 or 409")
        if self.remote_sha256(name) == file_sha256(path):
            self.http.log(f"Model '{name}' is already in Rasa X (identical file).")
            return UploadResult(name, "already-present")
        if not replace:
            raise ToolkitError(
                f"Rasa X already has a different model named '{name}'. Give every model a unique "
                "name (for example `rasa train --fixed-model-name <commit SHA>`), or pass "
                "--replace-model to delete the stored one and upload this file."
            )
        self.http.log(f"Replacing model '{name}' in Rasa X (delete, then upload).")
        self.delete_model(name)
        response = self._post_model(path)
        if response.status_code != 201:
            raise self._fail(response, f"upload {path.name} after deleting the old one",
                             expected="201")
        return UploadResult(name, "replaced")

    def tag_model(self, name: str, tag: str = "production") -> None:
        what = f"tag model '{name}' as '{tag}'"
        response = self._call("PUT", self._url("models", name, "tags", tag), what=what)
        # A 200 with a page is a proxy's answer (a redirect to its login), not a tag.
        if response.status_code not in (200, 204) or self.http.is_page(response):
            raise self._fail(response, what, expected="204", model=name)
        self.http.log(f"Tagged model '{name}' as '{tag}'.")
