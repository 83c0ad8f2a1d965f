//! OpenAPI links: which answer supplies the ids that other operations take. A client (or a
//! stateful API fuzzer such as schemathesis) follows them from an object it just made to the
//! operations on that object, e.g. from a new workspace to adding members to it.
//!
//! They are one table here rather than `links(...)` in each `#[utoipa::path]`: those build
//! utoipa's `Link`, which utoipa 5.5 writes with `operation_id` instead of OpenAPI's
//! `operationId`. `add_links` adds them to the generated document; the tests below keep the table
//! true to it.

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::Link;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr};

/// Where a link's parameter value comes from (OpenAPI runtime expressions).
const ID: &str = "$response.body#/id";
const ORG: &str = "$request.path.id";

/// (source operationId, answer status, target operationIds, parameters as (name, expression)).
type LinkRow = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

const LINKS: &[LinkRow] = &[
    // An organization: the operations on its settings and collections.
    (
        "get_org",
        "200",
        &[
            "list_domains",
            "claim_domain",
            "list_tags",
            "create_tag",
            "assign_tags",
            "bulk_create_tags",
            "bulk_delete_tags",
            "import_tags",
            "search",
            "list_filtered",
            "list_permissions",
            "create_permission",
            "permission_options",
            "seats",
            "list_members",
        ],
        &[("path.id", ID)],
    ),
    (
        "claim_domain",
        "201",
        &["remove_domain", "verify_domain"],
        &[("path.id", ORG), ("path.domain", "$response.body#/domain")],
    ),
    (
        "create_tag",
        "201",
        &["get_tag", "update_tag", "delete_tag"],
        &[("path.id", ORG), ("path.tag_pk", ID)],
    ),
    (
        "import_tags",
        "201",
        &["get_import"],
        &[
            ("path.id", ORG),
            ("path.import_pk", "$response.body#/import"),
        ],
    ),
    (
        "create_permission",
        "201",
        &[
            "get_permission",
            "update_permission",
            "replace_permission",
            "reset_permission",
        ],
        &[
            ("path.id", ORG),
            ("path.permission_key", "$response.body#/permission"),
        ],
    ),
    // A project and the people in it.
    (
        "create_project",
        "201",
        &[
            "get_project",
            "add_project_member",
            "remove_project_member",
            "bulk_assign_project_members",
            "bulk_unassign_project_members",
            "paginated_project_members",
            "export_project_members",
            "project_roles",
            "list_annotations",
            "create_annotation",
        ],
        &[("path.id", ID)],
    ),
    (
        "add_project_member",
        "201",
        &["create_pause", "list_pauses"],
        &[
            ("path.id", "$request.path.id"),
            ("path.user_id", "$response.body#/user"),
        ],
    ),
    (
        "create_pause",
        "201",
        &["get_pause", "update_pause", "delete_pause"],
        &[
            ("path.id", "$request.path.id"),
            ("path.user_id", "$request.path.user_id"),
            ("path.pause_id", ID),
        ],
    ),
    (
        "set_project_role",
        "201",
        &["remove_project_role"],
        &[("path.id", ID)],
    ),
    // A workspace, its members and projects.
    (
        "create_workspace",
        "201",
        &[
            "get_workspace",
            "update_workspace",
            "delete_workspace",
            "workspace_members",
            "workspace_members_page",
            "add_workspace_member",
            "remove_workspace_member",
            "bulk_add_members",
            "bulk_remove_members",
            "workspace_projects",
            "add_workspace_project",
            "remove_workspace_project",
        ],
        &[("path.id", ID)],
    ),
    // A user made by an administrator.
    (
        "create_user",
        "201",
        &["get_user", "update_user", "delete_user"],
        &[("path.id", ID)],
    ),
    // SAML's settings name the token of the organization's sign-in URLs.
    (
        "update_saml_settings",
        "200",
        &[
            "sp_metadata",
            "saml_login",
            "acs",
            "logout_page",
            "link_page",
            "link",
        ],
        &[("path.token", "$response.body#/token")],
    ),
];

/// Adds the links of `LINKS` to the answers they start from.
pub fn add_links(doc: &mut OpenApi) {
    for (source, status, targets, parameters) in LINKS {
        let Some(RefOr::T(response)) =
            operation_mut(doc, source).and_then(|op| op.responses.responses.get_mut(*status))
        else {
            continue; // the tests below fail on a row that names no answer
        };
        for target in *targets {
            // utoipa 5.5 writes `Link::operation_id` as "operation_id", not OpenAPI's
            // "operationId", so the name goes in through the flattened extensions instead.
            let link = parameters
                .iter()
                .fold(Link::builder(), |link, (name, value)| {
                    link.parameter(*name, *value)
                })
                .extensions(Some(Extensions::from_iter([("operationId", *target)])))
                .build();
            response.links.insert((*target).to_string(), RefOr::T(link));
        }
    }
}

fn operation_mut<'a>(doc: &'a mut OpenApi, operation_id: &str) -> Option<&'a mut Operation> {
    crate::api::docs::operations_mut(doc)
        .map(|(_, op)| op)
        .find(|op| op.operation_id.as_deref() == Some(operation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Every operation of the document, by operationId: its path and path parameters.
    fn operations(doc: &OpenApi) -> HashMap<String, Vec<(String, Vec<String>)>> {
        let mut out: HashMap<String, Vec<(String, Vec<String>)>> = HashMap::new();
        for (path, item) in &doc.paths.paths {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let params = op
                    .parameters
                    .iter()
                    .flatten()
                    .filter(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Path)
                    .map(|p| p.name.clone())
                    .collect();
                let id = op.operation_id.clone().expect("every operation has an id");
                out.entry(id).or_default().push((path.clone(), params));
            }
        }
        out
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = crate::api::docs::openapi_document();
        let twice: Vec<_> = operations(&doc)
            .into_iter()
            .filter(|(_, at)| at.len() > 1)
            .collect();
        assert!(
            twice.is_empty(),
            "operationIds used more than once: {twice:?}"
        );
    }

    #[test]
    fn every_link_starts_from_a_documented_answer_and_fills_every_path_parameter() {
        let doc = crate::api::docs::openapi_document();
        let ops = operations(&doc);
        let json = serde_json::to_value(&doc).expect("the document serializes");
        for (source, status, targets, parameters) in LINKS {
            let (path, _) = &ops[*source][0];
            let method_answers = json["paths"][path]
                .as_object()
                .expect("a path item")
                .values()
                .find(|op| op["operationId"] == *source)
                .expect("the source operation");
            assert!(
                method_answers["responses"][*status].is_object(),
                "{source} documents no {status} answer"
            );
            for target in *targets {
                let (_, path_params) = &ops
                    .get(*target)
                    .unwrap_or_else(|| panic!("{source} links to unknown {target}"))[0];
                let given: Vec<&str> = parameters
                    .iter()
                    .map(|(name, _)| name.trim_start_matches("path."))
                    .collect();
                for p in path_params {
                    assert!(given.contains(&p.as_str()), "{source} -> {target}: no {p}");
                }
                for name in &given {
                    assert!(
                        path_params.iter().any(|p| p == name),
                        "{source} -> {target}: {name} is not a path parameter of {target}"
                    );
                }
                assert_eq!(
                    method_answers["responses"][*status]["links"][*target]["operationId"],
                    *target
                );
            }
        }
    }
}
