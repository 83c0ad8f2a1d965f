"""Records which account-related methods of label-studio-sdk 2.1.2 the tests called successfully,
so that test_zz_sdk_coverage.py can prove every one of them was exercised against the live server.

Every public SDK method goes through its resource's raw client (`Raw...Client`), which raises on
any non-2xx answer; wrapping the raw clients' methods therefore sees both `ls.x.list()` and
`ls.x.with_raw_response.list()`, and counts a call only when the server accepted it.
"""

import contextlib
import functools
import importlib
import inspect
import typing

import pydantic
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.core.http_response import HttpResponse
from label_studio_sdk.core.pagination import SyncPager

# The SDK's account-related resources (the list): users, tokens, jwt_settings,
# organizations with members, invites, permissions and member tags, workspaces, projects' members,
# roles and pauses, sso, session_policy, activity_logs, billing, versions.
ACCOUNT_RESOURCES = [
    "users",
    "tokens",
    "jwt_settings",
    "organizations",
    "organizations.members",
    "organizations.invites",
    "organizations.permissions",
    "organizations.member_tags",
    "organizations.member_tags.bulk",
    "workspaces",
    "workspaces.projects",
    "workspaces.members",
    "workspaces.members.bulk",
    "workspaces.members.paginated",
    "projects.members",
    "projects.members.bulk",
    "projects.members.paginated",
    "projects.roles",
    "projects.pauses",
    "sso.saml",
    "sso.scim",
    "session_policy",
    "activity_logs",
    "billing",
    "versions",
]

CALLED = set()

# (resource, method) -> the names of the parameters an accepted call passed a value for (not None).
PASSED = {}
# (resource, method) -> the parameters a call passed that the server refused with a 400 naming them.
REFUSED = {}


# SDK parameter names that are not their wire names with underscores dropped.
_WIRE_NAMES = {"bulk_organization_member_tag_assignment_request_tags": "tags"}


def _wire(name):
    """A parameter's name as the comparison sees it: the SDK's `all_` is `all`, its
    `user_last_activity_gte` is `user__last_activity__gte` on the wire."""
    return _WIRE_NAMES.get(name, name).replace("_", "")


def _record_refusal(key, passed, error):
    body = error.body if isinstance(error.body, dict) else {}
    named = {_wire(f) for f in (body.get("validation_errors") or {})}
    refused = {p for p in passed if _wire(p) in named}
    if error.status_code == 400 and refused:
        REFUSED.setdefault(key, set()).update(refused)

# Methods whose declared model does not describe what the endpoint is for, validated against the
# model named here instead (the README's "Member tags and the member filters" and the closing
# note give the reason): `members.search` is the POST form of the filtered member list, and its
# answer is the same page `members.list_filtered` declares, where the SDK's generator put the
# model of one list item.
VALIDATED_AS = {
    ("organizations.members", "search"): "PaginatedLseOrganizationMemberListList",
}


def _raw_class(resource):
    module = importlib.import_module(f"label_studio_sdk.{resource}.raw_client")
    (cls,) = [
        c
        for name, c in vars(module).items()
        if inspect.isclass(c) and name.startswith("Raw") and name.endswith("Client") and c.__module__ == module.__name__
    ]
    return cls


def account_methods():
    """(resource, method) for every public method of the account resources' raw clients."""
    out = []
    for resource in ACCOUNT_RESOURCES:
        cls = _raw_class(resource)
        for name, fn in vars(cls).items():
            if not name.startswith("_") and inspect.isfunction(fn):
                out.append((resource, name))
    return out


def _validate(resource, name, hint, result):
    """Validates an accepted answer against the model the SDK method declares, with pydantic's full
    checks (the SDK itself builds its models without validating): a wrong or missing field fails
    the calling test at once."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is HttpResponse and isinstance(result, HttpResponse):
        model = args[0]
        if model is type(None) or not result.response.content:
            return
        if "json" not in result.response.headers.get("content-type", ""):
            return  # the CSV export: an Iterator[bytes], checked by its own test
        data = result.response.json()
    elif origin is SyncPager and isinstance(result, SyncPager):
        model = args[1]
        data = result.response.model_dump(mode="json", by_alias=True)
    else:
        return
    if (resource, name) in VALIDATED_AS:
        import label_studio_sdk.types as types

        model = getattr(types, VALIDATED_AS[(resource, name)])
    try:
        pydantic.TypeAdapter(model).validate_python(data)
    except pydantic.ValidationError as e:
        raise AssertionError(f"{resource}.{name}: the answer does not validate against {model}: {e}") from e


class _RecordOnEnter(contextlib.AbstractContextManager):
    """A streaming call (the CSV export) counts once its answer is open."""

    def __init__(self, inner, key, passed):
        self.inner, self.key, self.passed = inner, key, passed

    def __enter__(self):
        value = self.inner.__enter__()
        CALLED.add(self.key)
        PASSED.setdefault(self.key, set()).update(self.passed)
        return value

    def __exit__(self, *exc):
        return self.inner.__exit__(*exc)


def method_parameters(resource, name):
    """The parameters a caller chooses (all but `self` and `request_options`)."""
    fn = getattr(_raw_class(resource), name)
    fn = getattr(fn, "__wrapped__", fn)
    return [p for p in inspect.signature(fn).parameters if p not in ("self", "request_options")]


def _wrap(resource, name, fn):
    hint = typing.get_type_hints(fn).get("return")
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def recorded(*args, **kwargs):
        bound = signature.bind(*args, **kwargs).arguments
        passed = {k for k, v in bound.items() if v is not None and k not in ("self", "request_options")}
        try:
            result = fn(*args, **kwargs)
        except ApiError as e:
            _record_refusal((resource, name), passed, e)
            raise
        if isinstance(result, contextlib.AbstractContextManager):
            return _RecordOnEnter(result, (resource, name), passed)
        _validate(resource, name, hint, result)
        CALLED.add((resource, name))
        PASSED.setdefault((resource, name), set()).update(passed)
        return result

    return recorded


for _resource in ACCOUNT_RESOURCES:
    _cls = _raw_class(_resource)
    for _name, _fn in list(vars(_cls).items()):
        if not _name.startswith("_") and inspect.isfunction(_fn):
            setattr(_cls, _name, _wrap(_resource, _name, _fn))
