"""Every value that reaches helm as a positional or an option value is checked first: one
that starts with "-" (--helm-release=--post-renderer=/bin/sh) would be a flag to helm. Each
bad value is exit 2 naming the option, and neither Rasa X nor helm has been called."""

from __future__ import annotations

import pytest

from ci_toolkit.cli import main
from tests.unit.deploy.test_checked_first import Deploy, deploy  # noqa: F401 - the fixture

RELEASE = "--helm-release (CI_TOOLKIT_HELM_RELEASE)"
NAMESPACE = "--helm-namespace (CI_TOOLKIT_HELM_NAMESPACE)"
CHART = "--helm-chart (CI_TOOLKIT_HELM_CHART)"
VERSION = "--helm-chart-version (CI_TOOLKIT_HELM_CHART_VERSION)"
CONTEXT = "--helm-kube-context (CI_TOOLKIT_HELM_KUBE_CONTEXT)"

# (option, value, the start of the message)
BAD_VALUES = [
    ("--helm-release", "--post-renderer=/bin/sh", f"{RELEASE} '--post-renderer=/bin/sh' is "
                                                   "not a valid name"),
    ("--helm-release", "-x", f"{RELEASE} '-x' is not a valid name"),
    ("--helm-release", "Coffee", f"{RELEASE} 'Coffee' is not a valid name"),
    ("--helm-release", "coffee-", f"{RELEASE} 'coffee-' is not a valid name"),
    ("--helm-release", "coffee bot", f"{RELEASE} 'coffee bot' is not a valid name"),
    ("--helm-release", "a" * 54, f"{RELEASE} '{'a' * 54}' is not a valid name"),
    ("--helm-namespace", "--post-renderer=/bin/sh", f"{NAMESPACE} '--post-renderer=/bin/sh'"),
    ("--helm-namespace", "bots.prod", f"{NAMESPACE} 'bots.prod' is not a valid name"),
    ("--helm-namespace", "b" * 64, f"{NAMESPACE} '{'b' * 64}' is not a valid name"),
    ("--helm-chart", "--post-renderer=/bin/sh", f"{CHART} '--post-renderer=/bin/sh' must not "
                                                "start with '-'"),
    ("--helm-chart", "rasa-x/rasa-x --debug", f"{CHART} 'rasa-x/rasa-x --debug' must not"),
    ("--helm-chart-version", "-1.0", f"{VERSION} '-1.0' must not start with '-'"),
    ("--helm-chart-version", "1.0\n--debug", f"{VERSION} '1.0\\n--debug' must not"),
    ("--helm-kube-context", "--kubeconfig=/tmp/evil", f"{CONTEXT} '--kubeconfig=/tmp/evil'"),
    ("--helm-kube-context", "prod\tcluster", f"{CONTEXT} 'prod\\tcluster' must not"),
]


def run(deploy: Deploy, option: str, value: str) -> int:  # noqa: F811
    # --option=value: the value must reach the toolkit as it is, whatever it looks like.
    options = {**deploy.options(), option: value}
    return main(["deploy", *(f"{name}={item}" for name, item in options.items() if item)])


@pytest.mark.parametrize(("option", "value", "message"), BAD_VALUES)
def test_a_helm_value_that_is_no_name_is_refused_before_anything_changes(
        deploy: Deploy, option: str, value: str, message: str,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    code = run(deploy, option, value)
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"error: {message}" in err and "Traceback" not in err
    deploy.nothing_remote()


@pytest.mark.parametrize(("option", "value"), [
    ("--helm-release", "coffee.bot-1"), ("--helm-release", "a" * 53),
    ("--helm-namespace", "bots-prod"), ("--helm-chart", "oci://ghcr.io/acme/charts/bot"),
    ("--helm-chart-version", "4.5.0"),
    ("--helm-kube-context", "arn:aws:eks:eu-west-1:123:cluster/prod"),
])
def test_good_helm_values_pass_the_check(option: str, value: str) -> None:
    from ci_toolkit.deploy.request import HelmRequest, check_helm_values

    check_helm_values(HelmRequest(**{option[2:].replace("-", "_"): value}))
