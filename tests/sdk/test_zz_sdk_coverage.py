"""Runs last (pytest takes files in name order): every account-related method of label-studio-sdk
2.1.2 (conftest.ACCOUNT_RESOURCES) was called by the tests before it and accepted by the live server,
its answer validated against the method's own model (conftest._validate). A method left out must be
listed here with the reason."""

from conftest import CALLED, PASSED, REFUSED, account_methods, method_parameters
from test_sdk_compat import pytestmark  # noqa: F401

# (resource, method) -> why the suite does not call it.
LEFT_OUT = {}


def test_every_account_method_of_the_sdk_was_called_and_accepted():
    methods = account_methods()
    assert len(methods) == 93, "the SDK's account surface changed; review ACCOUNT_RESOURCES"
    missing = sorted(m for m in methods if m not in CALLED and m not in LEFT_OUT)
    assert not missing, f"{len(missing)} of {len(methods)} account methods were never accepted: {missing}"


# Parameters roster refuses with a 400 naming them, and why. Each must have been refused by name
# in the tests before this one (conftest.REFUSED); every other parameter must have been passed in an
# accepted call (conftest.PASSED).
REFUSED_ON_PURPOSE = {
    **{
        ("users", "create", field): "belongs to the person's own account, set by them, never by an admin"
        for field in ("password", "phone", "allow_newsletters", "custom_hotkeys", "active_organization", "date_joined")
    },
    ("users", "update", "password"): "a password is changed by its owner through PATCH /api/current-user",
    ("users", "get_hotkeys", "project"): "roster keeps keyboard shortcuts per account, not per project",
    ("users", "update_hotkeys", "project"): "roster keeps keyboard shortcuts per account, not per project",
    **{
        ("organizations", "update_default_role", field): "a setting of a Label Studio feature roster does not have"
        for field in (
            "annotator_reviewer_firewall_enabled_at",
            "custom_interfaces_enabled",
            "custom_scripts_enabled_at",
            "email_notification_settings",
            "embed_domains",
            "embed_enabled",
            "embed_settings",
            "external_id",
            "extra_data_on_activity_logs",
            "interface_settings",
            "label_stream_navigation_disabled_at",
            "react_code_settings",
            "read_only_quick_view_enabled_at",
        )
    },
}


def test_every_parameter_of_every_account_method_was_passed_or_refused_by_name():
    missing, unexplained = [], []
    for resource, name in account_methods():
        for param in method_parameters(resource, name):
            accepted = param in PASSED.get((resource, name), set())
            refused = param in REFUSED.get((resource, name), set())
            on_purpose = (resource, name, param) in REFUSED_ON_PURPOSE
            if on_purpose and not refused:
                missing.append(f"{resource}.{name}({param}) was never refused by name")
            elif not accepted and not on_purpose:
                missing.append(f"{resource}.{name}({param})")
            if refused and not accepted and not on_purpose:
                unexplained.append(f"{resource}.{name}({param})")
    assert not missing, f"{len(missing)} parameters were never passed in an accepted call: {missing}"
    assert not unexplained, f"refused without a reason in REFUSED_ON_PURPOSE: {unexplained}"
