"""Runs last (pytest takes files in name order): every account-related method of label-studio-sdk
2.1.2 (conftest.ACCOUNT_RESOURCES) was called by the tests before it and accepted by the live server,
its answer validated against the method's own model (conftest._validate). A method left out must be
listed here with the reason."""

from conftest import CALLED, account_methods
from test_sdk_compat import pytestmark  # noqa: F401

# (resource, method) -> why the suite does not call it.
LEFT_OUT = {}


def test_every_account_method_of_the_sdk_was_called_and_accepted():
    methods = account_methods()
    assert len(methods) == 93, "the SDK's account surface changed; review ACCOUNT_RESOURCES"
    missing = sorted(m for m in methods if m not in CALLED and m not in LEFT_OUT)
    assert not missing, f"{len(missing)} of {len(methods)} account methods were never accepted: {missing}"
