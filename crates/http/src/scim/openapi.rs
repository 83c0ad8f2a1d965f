//! SCIM's part of the OpenAPI document: every operation `base()` routes, under both base
//! paths (`/scim/v2` and Label Studio Enterprise's `/scim`), so that tools walking the document
//! (the isolation walk, clients' generators) see SCIM too. Bodies are SCIM's own JSON
//! (`application/scim+json`), described by RFC 7643's schemas that `/Schemas` serves, not
//! repeated here.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, ObjectBuilder, Required, ResponseBuilder, Type};

/// One SCIM operation: method, path under the base, operationId, summary, whether it takes a
/// body, and its success status.
struct ScimOperation {
    method: HttpMethod,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    body: bool,
    ok: &'static str,
}

const fn op(
    method: HttpMethod,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    body: bool,
    ok: &'static str,
) -> ScimOperation {
    ScimOperation {
        method,
        path,
        id,
        summary,
        body,
        ok,
    }
}

const OPERATIONS: &[ScimOperation] = &[
    op(
        HttpMethod::Get,
        "/ServiceProviderConfig",
        "scim_service_provider_config",
        "What this SCIM service supports (RFC 7644 §4).",
        false,
        "200",
    ),
    op(
        HttpMethod::Get,
        "/ResourceTypes",
        "scim_resource_types",
        "The resource types: User and Group.",
        false,
        "200",
    ),
    op(
        HttpMethod::Get,
        "/ResourceTypes/{id}",
        "scim_resource_type",
        "One resource type, by name.",
        false,
        "200",
    ),
    op(
        HttpMethod::Get,
        "/Schemas",
        "scim_schemas",
        "The schemas of Users and Groups, with the enterprise extension.",
        false,
        "200",
    ),
    op(
        HttpMethod::Get,
        "/Schemas/{id}",
        "scim_schema",
        "One schema, by URN.",
        false,
        "200",
    ),
    op(
        HttpMethod::Get,
        "/Users",
        "scim_list_users",
        "Lists or filters the organization's Users.",
        false,
        "200",
    ),
    op(
        HttpMethod::Post,
        "/Users",
        "scim_create_user",
        "Provisions a person.",
        true,
        "201",
    ),
    op(
        HttpMethod::Post,
        "/Users/.search",
        "scim_search_users",
        "Lists or filters Users, the query in the body.",
        true,
        "200",
    ),
    op(
        HttpMethod::Get,
        "/Users/{id}",
        "scim_get_user",
        "One User.",
        false,
        "200",
    ),
    op(
        HttpMethod::Put,
        "/Users/{id}",
        "scim_replace_user",
        "Replaces a User.",
        true,
        "200",
    ),
    op(
        HttpMethod::Patch,
        "/Users/{id}",
        "scim_patch_user",
        "Changes a User (RFC 7644 §3.5.2).",
        true,
        "200",
    ),
    op(
        HttpMethod::Delete,
        "/Users/{id}",
        "scim_delete_user",
        "Deprovisions a person: deletes or deactivates their membership, as the SCIM settings say.",
        false,
        "204",
    ),
    op(
        HttpMethod::Get,
        "/Groups",
        "scim_list_groups",
        "Lists or filters the organization's Groups.",
        false,
        "200",
    ),
    op(
        HttpMethod::Post,
        "/Groups",
        "scim_create_group",
        "Creates a Group; its members get the roles the mapping gives it.",
        true,
        "201",
    ),
    op(
        HttpMethod::Post,
        "/Groups/.search",
        "scim_search_groups",
        "Lists or filters Groups, the query in the body.",
        true,
        "200",
    ),
    op(
        HttpMethod::Get,
        "/Groups/{id}",
        "scim_get_group",
        "One Group.",
        false,
        "200",
    ),
    op(
        HttpMethod::Put,
        "/Groups/{id}",
        "scim_replace_group",
        "Replaces a Group and its members.",
        true,
        "200",
    ),
    op(
        HttpMethod::Patch,
        "/Groups/{id}",
        "scim_patch_group",
        "Changes a Group or its members (RFC 7644 §3.5.2).",
        true,
        "200",
    ),
    op(
        HttpMethod::Delete,
        "/Groups/{id}",
        "scim_delete_group",
        "Deletes a Group; its members lose what the mapping gave them through it.",
        false,
        "204",
    ),
    op(
        HttpMethod::Post,
        "/Bulk",
        "scim_bulk",
        "Several operations in one request (RFC 7644 §3.7).",
        true,
        "200",
    ),
    op(
        HttpMethod::Post,
        "/.search",
        "scim_search_everything",
        "Not offered: search one resource type at a time (501).",
        true,
        "501",
    ),
];

/// The query parameters of a list (RFC 7644 §3.4.2).
const LIST_PARAMETERS: [(&str, &str); 7] = [
    (
        "filter",
        "A SCIM filter, like `userName eq \"ada@example.com\"`.",
    ),
    ("startIndex", "The 1-based index of the first result."),
    ("count", "How many results at most."),
    ("sortBy", "The attribute to sort by."),
    ("sortOrder", "`ascending` or `descending`."),
    ("attributes", "Only these attributes, comma-separated."),
    (
        "excludedAttributes",
        "All but these attributes, comma-separated.",
    ),
];

const JSON: &str = "application/scim+json";

/// Adds every SCIM operation under both base paths.
pub fn document(doc: &mut utoipa::openapi::OpenApi) {
    for (base, suffix) in [("/scim/v2", ""), ("/scim", "_lse")] {
        for o in OPERATIONS {
            doc.paths.add_path_operation(
                format!("{base}{}", o.path),
                vec![o.method.clone()],
                operation(o, suffix),
            );
        }
    }
}

fn operation(o: &ScimOperation, suffix: &str) -> utoipa::openapi::path::Operation {
    let resource = || Content::new(Some(ObjectBuilder::new().schema_type(Type::Object)));
    let mut b = OperationBuilder::new()
        .tag("scim")
        .operation_id(Some(format!("{}{suffix}", o.id)))
        .summary(Some(o.summary))
        .security(SecurityRequirement::new("Bearer", Vec::<String>::new()))
        .security(SecurityRequirement::new("Token", Vec::<String>::new()));
    if let Some(id) = id_description(o.path) {
        b = b.parameter(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(id))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    if o.method == HttpMethod::Get && (o.path == "/Users" || o.path == "/Groups") {
        for (name, description) in LIST_PARAMETERS {
            b = b.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(description))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            );
        }
    }
    if o.body {
        b = b.request_body(Some(
            RequestBodyBuilder::new()
                .content(JSON, resource())
                .content("application/json", resource())
                .required(Some(Required::True))
                .build(),
        ));
    }
    let ok = ResponseBuilder::new().description("Done.");
    let ok = if o.ok == "204" {
        ok
    } else {
        ok.content(JSON, resource())
    };
    b = b.response(o.ok, ok.build());
    for (status, description) in [
        (
            "400",
            "The request is not valid SCIM (`scimType` says why).",
        ),
        ("401", "No valid SCIM token or personal credential."),
        ("403", "The credential may not provision this organization."),
        ("404", "No such resource in this organization."),
        ("409", "The resource exists already (`uniqueness`)."),
        ("412", "`If-Match` names an older version."),
        ("413", "The request is larger than the service accepts."),
    ] {
        b = b.response(
            status,
            ResponseBuilder::new()
                .description(description)
                .content(JSON, resource())
                .build(),
        );
    }
    b.build()
}

/// What a path's `{id}` is: Users and Groups may be named by their email or display name, as
/// aliases of the stable id (as Label Studio's documentation shows).
fn id_description(path: &str) -> Option<&'static str> {
    Some(match path {
        "/Users/{id}" => "The User's id, or the person's email (an alias).",
        "/Groups/{id}" => "The Group's id, or its display name (an alias).",
        "/ResourceTypes/{id}" => "`User` or `Group`.",
        "/Schemas/{id}" => "A schema's URN.",
        _ => return None,
    })
}
