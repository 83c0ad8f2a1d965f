//! Isolation, generated from the served OpenAPI document (issue 15, item 3).
//!
//! Every operation the document lists (SCIM's too, under both its base paths, with Users also
//! named by email and Groups by display name) is called by every role of organization B with every
//! kind of credential (legacy key, PAT access token, password session, single sign-on session)
//! and with B's SCIM token, against organization A's real objects: A's ids in the path, and A's
//! ids wherever the query or body names a user, project or workspace. Then:
//! - nothing of A changed (its rows in every table, compared before and after);
//! - nothing of A was read: no answer to B carries A's names or emails, and a path naming A's
//!   object is answered 4xx;
//! - no answer is a 5xx the document does not list;
//! - and the same request with A's Owner's own key (or, for changes of their own account,
//!   their password session) succeeds: the positive control, so the refusals above are
//!   refusals of B, not of a malformed request.
//!
//! Requests are built from the document itself (parameters, required body fields, id-like
//! fields), so a new route is walked without a test of its own; `body_override`,
//! `query_override` and `CONTROL_REFUSALS` hold the few cases the document cannot say enough
//! about for the control to succeed. The single sign-on sessions of B's identity provider are
//! one column of callers, so an SSO session is walked against another organization too.
//!
//! The pages, which the document does not list, are walked the same way from the routes the
//! web router records (`roster_http::page_routes`).

use reqwest::Method;
use roster_domain::{OrgId, Role};
use roster_tests::{OrgFixture, Person, Resp, TestServer, PASSWORD};
use serde_json::{json, Map, Value};

const SCIM_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const SCIM_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SCIM_PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    path: String,
    id: String,
    /// Served to anyone: the document asks for no credential.
    public: bool,
    op: Value,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (m, op) in item.as_object().expect("path item") {
            let method = match m.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            ops.push(Operation {
                method,
                path: path.clone(),
                id: op["operationId"].as_str().unwrap_or(path).to_string(),
                public: op.get("security").is_none(),
                op: op.clone(),
            });
        }
    }
    // Reads first, so that one victim serves them all; every other operation gets its own.
    ops.sort_by_key(|o| (o.method != Method::GET, o.path.clone()));
    ops
}

/// Organization A: its Owner, and one real object of every kind a route can name. Every name
/// and email in it carries `marker`, so an answer that shows any of it is caught.
struct Victim {
    org: OrgFixture,
    marker: String,
    /// A working member (Annotator) in the project and the workspace, tagged and paused.
    member: Person,
    /// A member in no project or workspace, and a project in no workspace, for forms to add.
    spare: Person,
    spare_project: i64,
    /// A tag nobody has.
    spare_tag: String,
    project: i64,
    project_role: i64,
    workspace: i64,
    tag: i64,
    import: i64,
    pause: i64,
    domain: String,
    permission: String,
    /// A permission A has not overridden.
    free_permission: String,
    /// An email with a pending invite.
    invitee: String,
    /// The Owner's personal access token (a refresh token).
    refresh: String,
    saml_token: String,
    /// A User and a Group A's identity provider made, with the User's email and the Group's name.
    scim_user: String,
    scim_email: String,
    scim_group: String,
    scim_group_name: String,
}

impl Victim {
    async fn build(server: &TestServer, with_saml: bool) -> Victim {
        let marker = format!("zq{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let org = server.org(&format!("Victim {marker}")).await;
        let owner = org.owner_api();
        let member = org
            .member_with_email(&format!("member-{marker}@example.com"), Role::Annotator)
            .await;
        let project = owner.create_project(&format!("Project {marker}")).await;
        let spare = org.member(Role::Reviewer).await;
        let spare_project = owner.create_project(&format!("Spare {marker}")).await;
        let role = owner
            .post(
                "/api/projects/roles",
                json!({"project": project, "user": member.id.0, "role": "AN"}),
            )
            .await
            .expect(201);
        let project_role = role.body["id"].as_i64().expect("project role id");
        let workspace = owner
            .post(
                "/api/workspaces",
                json!({"title": format!("Workspace {marker}")}),
            )
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .expect("workspace id");
        let ws = format!("/api/workspaces/{workspace}");
        owner
            .post(&format!("{ws}/memberships"), json!({"user": member.id.0}))
            .await
            .expect(201);
        owner
            .post(&format!("{ws}/projects"), json!({"project": project}))
            .await
            .expect(201);
        let tag = owner
            .post(
                &org.path("/member-tags"),
                json!({"label": format!("tag-{marker}")}),
            )
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .expect("tag id");
        let spare_tag = format!("spare-{marker}");
        owner
            .post(&org.path("/member-tags"), json!({"label": spare_tag}))
            .await
            .expect(201);
        let csv = format!("email,tags\n{},\"tag-{marker}\"\n", member.email);
        let import = owner
            .send(
                Method::POST,
                &org.path("/member-tags/imports"),
                Some(multipart_file(&csv)),
                &[],
            )
            .await;
        assert!(import.status < 300, "tag import: {}", import.text);
        let import = import.body["import"].as_i64().expect("import id");
        org.api(&member)
            .post(
                &format!("/api/projects/{project}/annotations"),
                json!({"result": {"label": marker}}),
            )
            .await
            .expect(201);
        let pause = owner
            .post(
                &format!("/api/projects/{project}/members/{}/pauses", member.id.0),
                json!({"reason": "MANUAL", "verbose_reason": format!("Paused {marker}")}),
            )
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .expect("pause id");
        // A domain name of its own, not the marker: refusals may echo the path they were given.
        let domain = format!(
            "v{}.example",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        );
        owner
            .post(&org.path("/domains"), json!({"domain": domain}))
            .await
            .expect(201);
        let options = owner
            .get(&org.path("/permissions/options"))
            .await
            .expect(200);
        let keys = permission_keys(&options.body);
        let (permission, free_permission) = (keys[0].clone(), keys[1].clone());
        owner
            .put(
                &org.path(&format!("/permissions/{permission}")),
                json!({"permission": permission, "roles": ["AD"]}),
            )
            .await
            .expect(200);
        let invitee = format!("invitee-{marker}@example.com");
        owner
            .post(
                "/api/invite/send-email",
                json!({"emails": [invitee], "role": "AN"}),
            )
            .await
            .expect(201);
        let (refresh, _) = server.pat_and_access(&org.owner).await;
        let token = roster_tests::new_scim_token(&owner).await;
        let idp = server.anonymous().with_auth(&format!("Bearer {token}"));
        let scim_email = format!("scim-{marker}@example.com");
        let scim_user = idp
            .post(
                "/scim/v2/Users",
                json!({"schemas": [SCIM_USER], "userName": scim_email, "active": true}),
            )
            .await
            .expect(201)
            .body["id"]
            .as_str()
            .expect("scim user id")
            .to_string();
        let scim_group_name = format!("Group {marker}");
        let scim_group = idp
            .post(
                "/scim/v2/Groups",
                json!({"schemas": [SCIM_GROUP], "displayName": scim_group_name, "members": [{"value": scim_user}]}),
            )
            .await
            .expect(201)
            .body["id"]
            .as_str()
            .expect("scim group id")
            .to_string();
        // Single sign-on settings make a signing key, which takes a while: only for the
        // operations that need them.
        let saml_token = if with_saml {
            owner
                .post(
                    "/api/saml/settings",
                    json!({"metadata_xml": crate::saml::IDP_METADATA, "roles_groups": [["Reviewer", format!("Group {marker}")]]}),
                )
                .await
                .expect(200);
            let token = server
                .sql_rows(
                    &format!("SELECT token FROM saml_settings WHERE org_id = {}", org.id),
                    1,
                )
                .await;
            token[0][0].text().expect("saml token").to_string()
        } else {
            String::new()
        };
        Victim {
            org,
            marker,
            member,
            spare,
            spare_project,
            spare_tag,
            project,
            project_role,
            workspace,
            tag,
            import,
            pause,
            domain,
            permission,
            free_permission,
            invitee,
            refresh,
            saml_token,
            scim_user,
            scim_email,
            scim_group,
            scim_group_name,
        }
    }

    /// What a path parameter is, judged by the path it is in: one of A's objects (true), or a
    /// name anyone may use (false). `alias` names SCIM's Users by email and Groups by name.
    fn path_value(&self, path: &str, name: &str, alias: bool) -> (String, bool) {
        let scim = path.starts_with("/scim/");
        let value = match name {
            "id" if scim && path.contains("/ResourceTypes/") => return ("User".into(), false),
            "id" if scim && path.contains("/Schemas/") => {
                return ("urn:ietf:params:scim:schemas:core:2.0:User".into(), false)
            }
            "id" if scim && path.contains("/Users/") && alias => self.scim_email.clone(),
            "id" if scim && path.contains("/Users/") => self.scim_user.clone(),
            "id" if scim && path.contains("/Groups/") && alias => {
                roster_tests::encode(&self.scim_group_name)
            }
            "id" if scim && path.contains("/Groups/") => self.scim_group.clone(),
            "id" if path.starts_with("/api/organizations/") => self.org.id.0.to_string(),
            "id" if path.starts_with("/api/projects/roles/") => self.project_role.to_string(),
            "id" if path.starts_with("/api/projects/") => self.project.to_string(),
            "id" if path.starts_with("/api/workspaces/") => self.workspace.to_string(),
            "id" if path.starts_with("/api/users/") => self.member.id.0.to_string(),
            "user_id" => self.member.id.0.to_string(),
            "tag_pk" => self.tag.to_string(),
            "import_pk" => self.import.to_string(),
            "pause_id" => self.pause.to_string(),
            "domain" => self.domain.clone(),
            "permission_key" => return (self.permission.clone(), false),
            "token" if path.starts_with("/saml/") => self.saml_token.clone(),
            other => panic!("the walk does not know which of A's objects `{{{other}}}` in {path} names: add it to Victim::path_value"),
        };
        (value, true)
    }

    /// A's id for a query parameter or body field that names an object, if it does.
    fn id_for_field(&self, name: &str) -> Option<i64> {
        match name {
            "user" | "user_id" | "users" | "included" => Some(self.member.id.0),
            "project" | "project_id" | "projects" | "exclude_project_id" => Some(self.project),
            "workspace" | "workspace_id" | "workspaces" | "exclude_workspace_id" => {
                Some(self.workspace)
            }
            "organization" | "organization_id" => Some(self.org.id.0),
            "tags" | "tag" => Some(self.tag),
            _ => None,
        }
    }
}

fn permission_keys(options: &Value) -> Vec<String> {
    let all = options
        .as_array()
        .or_else(|| options["results"].as_array())
        .expect("permission options");
    all.iter()
        .filter_map(|o| o["permission"].as_str().or(o["key"].as_str()))
        .map(str::to_string)
        .collect()
}

fn multipart_file(csv: &str) -> (&'static str, Vec<u8>) {
    let body = format!(
        "--walkboundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tags.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--walkboundary--\r\n"
    );
    (
        "multipart/form-data; boundary=walkboundary",
        body.into_bytes(),
    )
}

/// One request, built from the document for one victim.
struct Call {
    method: Method,
    path: String,
    body: Option<(&'static str, Vec<u8>)>,
    /// The path names one of A's objects: only a 4xx may answer anyone else.
    names_victim: bool,
}

impl Call {
    fn carries(&self, text: &str) -> bool {
        self.path.contains(text)
            || self
                .body
                .as_ref()
                .is_some_and(|(_, b)| String::from_utf8_lossy(b).contains(text))
    }
}

/// Bodies the document cannot describe well enough for A's Owner's request to succeed: a
/// valid value depends on A's state or on a rule JSON Schema cannot state. By operationId.
fn body_override(op: &str, v: &Victim) -> Option<Value> {
    Some(match op {
        "revoke_invite" => json!({"email": v.invitee}),
        "search" => json!({"filters": {"version": 1, "filters": []}}),
        "create_permission" => json!({"permission": v.free_permission, "roles": ["AD"]}),
        "replace_permission" => json!({"permission": v.permission, "roles": ["AD"]}),
        "create_project" => json!({"title": format!("walk-{}", uuid::Uuid::new_v4().simple())}),
        "create_pause" => json!({"reason": "MANUAL"}),
        "bulk_delete_tags" => json!({"ids": [v.tag]}),
        // A's Annotator is made an Annotator again: a change the rules allow, which changes nothing.
        "bulk_members" => {
            json!({"action": "assign_role", "role": "AN", "included": [v.member.id.0]})
        }
        "scim_create_user" => {
            json!({"schemas": [SCIM_USER], "userName": format!("walk-{}@example.com", uuid::Uuid::new_v4().simple()), "active": true})
        }
        "scim_replace_user" => {
            json!({"schemas": [SCIM_USER], "userName": v.scim_email, "active": true})
        }
        "scim_patch_user" | "scim_patch_group" => {
            json!({"schemas": [SCIM_PATCH], "Operations": [{"op": "add", "path": "externalId", "value": "walk"}]})
        }
        "scim_create_group" => {
            json!({"schemas": [SCIM_GROUP], "displayName": format!("walk-{}", uuid::Uuid::new_v4().simple())})
        }
        "scim_replace_group" => {
            json!({"schemas": [SCIM_GROUP], "displayName": v.scim_group_name, "members": [{"value": v.scim_user}]})
        }
        "scim_search_users" | "scim_search_groups" | "scim_search_everything" => {
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "startIndex": 1, "count": 10})
        }
        "scim_bulk" => json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "PATCH", "path": format!("/Users/{}", v.scim_user), "data": {"schemas": [SCIM_PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]}},
                {"method": "DELETE", "path": format!("/Groups/{}", v.scim_group)},
            ]
        }),
        "refresh" | "rotate" | "blacklist" => json!({"refresh": v.refresh}),
        _ => return None,
    })
}

/// Query parameters the document lists that A's request must set or leave out, by
/// operationId: Some(None) leaves out, Some(Some(value)) sets, None lets the walk decide.
fn query_override(op: &str, name: &str) -> Option<Option<String>> {
    match (op, name) {
        // Listed for the SDK's sake and refused by name: roster keeps shortcuts per account.
        ("hotkeys" | "update_hotkeys", "project") => Some(None),
        _ => None,
    }
}

/// Operations whose control cannot succeed here, with the refusal that shows it reached A's
/// object all the same: (operationId, status, words of the answer).
const CONTROL_REFUSALS: &[(&str, u16, &str)] = &[
    // The tests have no DNS: the answer names A's claim's record.
    ("verify_domain", 422, "_roster-verification."),
    // A's settings have metadata pasted in, not fetched from a URL.
    ("refresh_metadata", 400, "no metadata URL"),
    // Not offered by design (RFC 7644 §3.12's answer), to A's identity provider as to anyone.
    ("scim_search_everything", 501, "one resource type at a time"),
    // A's member is paused already: the conflict names A's pause.
    ("create_pause", 409, "already paused"),
    // Operations on the caller's own account, which has a token and no second factor.
    ("create_token", 409, "already have a valid token"),
    ("confirm_totp", 409, "no authenticator app"),
    ("disable_totp", 409, "no authenticator app"),
];

impl Operation {
    /// Whether the path has SCIM's aliases: a User by email, a Group by display name.
    fn has_alias(&self) -> bool {
        self.path.starts_with("/scim/")
            && (self.path.ends_with("/Users/{id}") || self.path.ends_with("/Groups/{id}"))
    }

    fn call(&self, doc: &Value, v: &Victim, alias: bool) -> Call {
        let mut path = self.path.clone();
        let mut names_victim = false;
        let mut query = Vec::new();
        for p in self.op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().expect("parameter name");
            match p["in"].as_str() {
                Some("path") => {
                    let (value, of_victim) = v.path_value(&self.path, name, alias);
                    path = path.replace(&format!("{{{name}}}"), &value);
                    names_victim |= of_victim;
                }
                Some("query") => {
                    if let Some(value) = query_override(&self.id, name) {
                        if let Some(value) = value {
                            query.push(format!("{name}={value}"));
                        }
                    } else if let Some(id) = v.id_for_field(name) {
                        query.push(format!("{name}={id}"));
                    } else if p["required"] == json!(true) {
                        let value = example(doc, &p["schema"], name, v);
                        query.push(format!("{name}={}", plain(&value)));
                    }
                }
                _ => {}
            }
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let body = self.op.get("requestBody").map(|rb| {
            let content = rb["content"].as_object().expect("content");
            let (ct, media) = content.iter().next().expect("a media type");
            let value = body_override(self.id.trim_end_matches("_lse"), v)
                .unwrap_or_else(|| example(doc, &media["schema"], "", v));
            match ct.as_str() {
                "application/json" | "application/scim+json" => {
                    ("application/json", value.to_string().into_bytes())
                }
                "application/x-www-form-urlencoded" => {
                    let pairs: Vec<String> = value
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, x)| format!("{k}={}", roster_tests::encode(&plain(x))))
                        .collect();
                    (
                        "application/x-www-form-urlencoded",
                        pairs.join("&").into_bytes(),
                    )
                }
                "multipart/form-data" => {
                    multipart_file(&format!("email,tags\n{},\"walk\"\n", v.member.email))
                }
                other => panic!("{}: no way to send {other}", self.id),
            }
        });
        Call {
            method: self.method.clone(),
            path,
            body,
            names_victim,
        }
    }
}

/// A value as it goes into a query string or a form.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An instance of `schema`: its required fields, and every field that names a user, project
/// or workspace, filled with A's objects.
fn example(doc: &Value, schema: &Value, name: &str, v: &Victim) -> Value {
    let schema = resolve(doc, schema);
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(first) = schema[key]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["type"] != json!("null")))
        {
            return example(doc, first, name, v);
        }
    }
    let ty = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .and_then(Value::as_str)
            .unwrap_or("string"),
        Value::String(t) => t.as_str(),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match ty {
        "object" => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut out = Map::new();
            for (field, sub) in schema["properties"].as_object().into_iter().flatten() {
                // A title is required wherever one is asked for, whatever the schema says.
                if required.contains(&field.as_str())
                    || v.id_for_field(field).is_some()
                    || field == "title"
                {
                    out.insert(field.clone(), example(doc, sub, field, v));
                }
            }
            Value::Object(out)
        }
        "array" => json!([example(doc, &schema["items"], name, v)]),
        "integer" | "number" => json!(v.id_for_field(name).unwrap_or(1)),
        "boolean" => json!(true),
        _ => {
            let unique = &uuid::Uuid::new_v4().simple().to_string()[..12];
            match name {
                n if n.contains("email") => json!(format!("walk-{unique}@example.com")),
                n if n.contains("password") => json!(PASSWORD),
                n if n.ends_with("role") => json!("AN"),
                "domain" => json!(format!("walk-{unique}.example")),
                _ => json!(format!("walk-{unique}")),
            }
        }
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().expect("ref name");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The kinds of credential a person of the attacking organization calls with.
#[derive(Clone, Copy, Debug)]
enum Credential {
    LegacyKey,
    AccessToken,
    PasswordSession,
    SsoSession,
}

const CREDENTIALS: [Credential; 4] = [
    Credential::LegacyKey,
    Credential::AccessToken,
    Credential::PasswordSession,
    Credential::SsoSession,
];

const ROLES: [Role; 5] = [
    Role::Owner,
    Role::Administrator,
    Role::Manager,
    Role::Reviewer,
    Role::Annotator,
];

/// One caller of the attacking organization: a person with one kind of credential, or the
/// organization's SCIM token (`holder` None).
struct Attacker {
    label: String,
    org: OrgId,
    holder: Option<(Person, Credential)>,
    api: roster_tests::Api,
}

impl Attacker {
    async fn new(
        server: &TestServer,
        org: &OrgFixture,
        role: Role,
        person: Person,
        kind: Credential,
    ) -> Attacker {
        let api = credential(server, org.id, &person, kind).await;
        Attacker {
            label: format!("{} ({kind:?})", role.code()),
            org: org.id,
            holder: Some((person, kind)),
            api,
        }
    }

    async fn scim(server: &TestServer, org: &OrgFixture) -> Attacker {
        Attacker {
            label: "SCIM token".to_string(),
            org: org.id,
            holder: None,
            api: scim_token(server, org).await,
        }
    }

    /// Whether the credential still works (the caller's own requests may end it: a logout, a
    /// key reset), so that the walk never goes on with a dead credential and calls it a refusal.
    async fn still_works(&self) -> bool {
        let path = match self.holder {
            None => "/scim/v2/ServiceProviderConfig",
            Some(_) => "/api/current-user/whoami",
        };
        self.api.get(path).await.status == 200
    }

    async fn renew(&mut self, server: &TestServer, owner: &OrgFixture) {
        self.api = match &self.holder {
            None => scim_token(server, owner).await,
            Some((p, kind)) => {
                if let Credential::AccessToken = kind {
                    // One valid personal token per person: end the old one before another.
                    server
                        .sql_execute(&format!(
                            "UPDATE refresh_tokens SET blacklisted_at = 1 WHERE user_id = {} AND blacklisted_at IS NULL",
                            p.id.0
                        ))
                        .await;
                }
                credential(server, self.org, p, *kind).await
            }
        };
    }
}

async fn scim_token(server: &TestServer, org: &OrgFixture) -> roster_tests::Api {
    let owner = server.current_person(org.owner.id).await;
    let token = roster_tests::new_scim_token(&server.with_key(&owner.key)).await;
    server.anonymous().with_auth(&format!("Bearer {token}"))
}

/// A fresh credential of `kind` for `person`, in `org`.
async fn credential(
    server: &TestServer,
    org: OrgId,
    person: &Person,
    kind: Credential,
) -> roster_tests::Api {
    match kind {
        // `server.person` gives the person a fresh key (a reset one stops working).
        Credential::LegacyKey => server.with_key(&server.person(person.id).await.key),
        Credential::AccessToken => {
            let (_, access) = server
                .pat_and_access(&server.current_person(person.id).await)
                .await;
            server.anonymous().with_auth(&format!("Bearer {access}"))
        }
        Credential::PasswordSession => {
            // From an address of its own: the walk's own sign-in attempts (refused, made up)
            // count against 127.0.0.1's allowance.
            let r = server
                .anonymous()
                .from_address([127, 0, 0, 7])
                .post(
                    "/user/login",
                    json!({"email": person.email, "password": PASSWORD}),
                )
                .await
                .expect(200);
            let id = roster_tests::session_cookie(&r).expect("session cookie");
            let csrf = r.body["csrf_token"].as_str().expect("csrf token");
            server.anonymous().with_session(&id, csrf)
        }
        Credential::SsoSession => {
            let s = server
                .service
                .start_sso_session(person.id, org)
                .await
                .expect("sso session");
            server.anonymous().with_session(&s.id, &s.csrf_token)
        }
    }
}

/// Every caller of `org`: each role with each kind of credential, and the SCIM token.
async fn every_caller(
    server: &TestServer,
    org: &OrgFixture,
    kinds: &[Credential],
) -> Vec<Attacker> {
    let mut callers = Vec::new();
    for role in ROLES {
        let person = if role == Role::Owner {
            org.owner.clone()
        } else {
            let p = org.member(role).await;
            org.set_password(&p).await;
            p
        };
        for kind in kinds {
            callers.push(Attacker::new(server, org, role, person.clone(), *kind).await);
        }
    }
    callers
}

/// What a walk found, and how much it did.
#[derive(Default)]
struct Walk {
    findings: Vec<String>,
    operations: usize,
    requests: usize,
}

/// Walks every operation of `doc` with `attackers` (of organization `home`) against victims
/// made afresh for every operation that is not a read.
async fn walk(
    server: &TestServer,
    doc: &Value,
    home: &OrgFixture,
    attackers: &mut [Attacker],
) -> Walk {
    let mut w = Walk::default();
    let mut shared: Option<Victim> = None;
    let units = operations(doc).into_iter().flat_map(|op| {
        let aliases = if op.has_alias() {
            vec![false, true]
        } else {
            vec![false]
        };
        aliases.into_iter().map(move |alias| (op.clone(), alias))
    });
    for (op, alias) in units {
        w.operations += 1;
        let fresh;
        let victim = if op.method == Method::GET {
            if shared.is_none() {
                shared = Some(Victim::build(server, true).await);
            }
            shared.as_ref().expect("shared victim")
        } else {
            fresh = Victim::build(server, op.path.contains("saml")).await;
            &fresh
        };
        let call = op.call(doc, victim, alias);
        let anonymous = send(&server.anonymous(), &call).await;
        let open_to_anyone = op.public || anonymous.status < 400;
        let before = server.snapshot_org(victim.org.id).await;
        for a in attackers.iter() {
            let r = send(&a.api, &call).await;
            w.requests += 1;
            let who = format!("{} {} as {}", op.method, op.path, a.label);
            let documented = op.op["responses"].get(r.status.to_string()).is_some();
            if r.status >= 500 && !documented {
                w.findings.push(format!("{who}: {} {}", r.status, r.text));
            }
            if !open_to_anyone {
                if call.names_victim && r.status < 400 {
                    w.findings
                        .push(format!("{who}: reached A's object ({})", r.status));
                }
                // What the request itself carried may be echoed; anything else of A may not.
                let shown = [victim.marker.as_str(), victim.org.owner.email.as_str()]
                    .into_iter()
                    .filter(|m| !call.carries(m))
                    .find(|m| r.text.contains(m));
                if shown.is_some() {
                    w.findings
                        .push(format!("{who}: the answer shows A's data: {}", r.text));
                }
            }
        }
        let mut after = server.snapshot_org(victim.org.id).await;
        if open_to_anyone {
            // Anyone may start a sign-in at A's identity provider: its request is recorded.
            after = keep_lines_of(&before, &after, "saml_requests:");
        }
        if before != after {
            w.findings.push(format!(
                "{} {}: A changed under B's requests:\n{}",
                op.method,
                op.path,
                diff(&before, &after)
            ));
        }
        if !op.public {
            let mut control = send(&victim.org.owner_api(), &call).await;
            w.requests += 1;
            let by_key = format!("{} {}", control.status, control.text);
            if control.status == 403 {
                // Some changes are the person's own, made signed in with their password.
                let session = credential(
                    server,
                    victim.org.id,
                    &victim.org.owner,
                    Credential::PasswordSession,
                )
                .await;
                control = send(&session, &call).await;
                w.requests += 1;
            }
            let expected = CONTROL_REFUSALS.iter().any(|(id, status, words)| {
                *id == op.id.trim_end_matches("_lse")
                    && control.status == *status
                    && control.text.contains(words)
            });
            if control.status >= 400 && !expected {
                w.findings.push(format!(
                    "{} {} ({}): the control with A's Owner's key answered {by_key}, and with their password session {}: {}",
                    op.method, op.path, op.id, control.status, control.text
                ));
            }
        }
        for a in attackers.iter_mut() {
            if !a.still_works().await {
                a.renew(server, home).await;
            }
        }
    }
    w
}

async fn send(api: &roster_tests::Api, call: &Call) -> Resp {
    let body = call.body.as_ref().map(|(ct, b)| {
        let mut b = b.clone();
        // A page's form carries the session's CSRF token in a field of its own.
        if let (&"application/x-www-form-urlencoded", Some(csrf)) = (ct, &api.csrf) {
            let sep = if b.is_empty() { "" } else { "&" };
            b.extend(format!("{sep}csrf_token={}", roster_tests::encode(csrf)).bytes());
        }
        (*ct, b)
    });
    api.send(call.method.clone(), &call.path, body, &[]).await
}

fn diff(before: &str, after: &str) -> String {
    let b: Vec<&str> = before.lines().collect();
    after
        .lines()
        .enumerate()
        .filter(|(i, l)| b.get(*i) != Some(l))
        .map(|(_, l)| format!("  now {}", &l[..l.len().min(400)]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `after` with its `table` line as it was in `before`.
fn keep_lines_of(before: &str, after: &str, table: &str) -> String {
    let was = before.lines().find(|l| l.starts_with(table)).unwrap_or("");
    after
        .lines()
        .map(|l| if l.starts_with(table) { was } else { l })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn report(w: &Walk) {
    assert!(
        w.findings.is_empty(),
        "{} findings over {} operations and {} requests:\n{}",
        w.findings.len(),
        w.operations,
        w.requests,
        w.findings.join("\n")
    );
}

/// Every role of B with every kind of credential, and B's SCIM token, against A.
#[tokio::test]
async fn no_route_lets_another_organizations_callers_read_or_change_anything() {
    let server = TestServer::start().await;
    let doc = server.openapi_document().await;
    let b = server.org("Attacker").await;
    let mut callers = every_caller(&server, &b, &CREDENTIALS).await;
    callers.push(Attacker::scim(&server, &b).await);
    let w = walk(&server, &doc, &b, &mut callers).await;
    eprintln!(
        "isolation walk: {} operations x {} callers, {} requests",
        w.operations,
        callers.len(),
        w.requests
    );
    report(&w);
}

/// The form fields a page's form needs for A's Owner's request to change something, by route.
fn form_fields(path: &str, v: &Victim) -> Vec<(&'static str, String)> {
    let unique = format!("walk-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    match path {
        "/organization/members/{user_id}/role" | "/projects/{id}/members/{user_id}/role" => {
            vec![("role", "RE".into())]
        }
        "/organization/members/{user_id}/tags" => vec![("label", v.spare_tag.clone())],
        "/organization/members/{user_id}/tags/remove" => vec![("tag", v.tag.to_string())],
        "/projects/{id}/members" => vec![("user", v.spare.id.0.to_string()), ("role", "AN".into())],
        "/workspaces/{id}/settings" => vec![("title", unique)],
        "/workspaces/{id}/archive" => vec![("archived", "on".into())],
        "/workspaces/{id}/members" => vec![("user", v.spare.id.0.to_string())],
        "/workspaces/{id}/projects" => vec![("project", v.spare_project.to_string())],
        "/switch-organization" => vec![("organization", v.org.id.0.to_string())],
        "/account/password" => vec![
            ("current_password", PASSWORD.into()),
            ("new_password", format!("{unique} staple battery")),
        ],
        "/organization/tags" | "/workspaces" => vec![("label", unique.clone()), ("title", unique)],
        "/organization/invites" => vec![
            ("emails", format!("{unique}@example.com")),
            ("role", "AN".into()),
        ],
        _ => Vec::new(),
    }
}

/// Every page and form route the OpenAPI document does not list (it lists the sign-in and
/// single sign-on ones), called by every role of B with every kind of credential against A's
/// objects. A page naming A's object is never shown to B (200), no answer shows A's names, and
/// nothing of A changes. The control: A's Owner, signed in, sees each such page (200), and
/// each such form changes A; forms of the caller's own organization or account are reached.
#[tokio::test]
async fn no_page_or_form_lets_another_organizations_callers_read_or_change_anything() {
    let server = TestServer::start().await;
    let doc = server.openapi_document().await;
    let documented = |m: &str, p: &str| doc["paths"][p][m.to_lowercase()].is_object();
    let b = server.org("Attacker").await;
    let callers = every_caller(&server, &b, &CREDENTIALS).await;
    let mut findings = Vec::new();
    let mut walked = 0;
    let mut shared: Option<Victim> = None;
    for (method, route) in roster_http::page_routes() {
        if documented(method, route) {
            continue;
        }
        walked += 1;
        let fresh;
        let victim = if method == "GET" {
            if shared.is_none() {
                shared = Some(Victim::build(&server, true).await);
            }
            shared.as_ref().expect("shared victim")
        } else {
            let with_sso = route.contains("saml") || route.contains("sso");
            fresh = Victim::build(&server, with_sso).await;
            &fresh
        };
        let mut path = route.to_string();
        let mut names_victim = false;
        for (param, value) in [
            ("{user_id}", victim.member.id.0.to_string()),
            ("{tag_id}", victim.tag.to_string()),
            ("{project_id}", victim.project.to_string()),
            (
                "{id}",
                if route.starts_with("/workspaces/") {
                    victim.workspace.to_string()
                } else {
                    victim.project.to_string()
                },
            ),
        ] {
            if path.contains(param) {
                path = path.replace(param, &value);
                names_victim = true;
            }
        }
        assert!(
            !path.contains('{'),
            "the walk does not know what {route} names"
        );
        let form: Vec<String> = form_fields(route, victim)
            .into_iter()
            .map(|(k, x)| format!("{k}={}", roster_tests::encode(&x)))
            .collect();
        let call = Call {
            method: if method == "GET" {
                Method::GET
            } else {
                Method::POST
            },
            path,
            body: (method == "POST").then(|| {
                (
                    "application/x-www-form-urlencoded",
                    form.join("&").into_bytes(),
                )
            }),
            names_victim,
        };
        let before = server.snapshot_org(victim.org.id).await;
        for a in &callers {
            let r = send(&a.api, &call).await;
            let who = format!("{method} {route} as {}", a.label);
            if r.status >= 500 {
                findings.push(format!("{who}: {} {}", r.status, r.text));
            }
            if call.names_victim && call.method == Method::GET && r.status == 200 {
                findings.push(format!("{who}: showed A's page"));
            }
            if r.text.contains(&victim.marker) && !call.carries(&victim.marker) {
                findings.push(format!("{who}: the answer shows A's data"));
            }
        }
        let after = server.snapshot_org(victim.org.id).await;
        if before != after {
            findings.push(format!(
                "{method} {route}: A changed under B's requests:\n{}",
                diff(&before, &after)
            ));
        }
        let owner = credential(
            &server,
            victim.org.id,
            &victim.org.owner,
            Credential::PasswordSession,
        )
        .await;
        let control = send(&owner, &call).await;
        let signed_out = control
            .headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/user/login"));
        let worked = if !call.names_victim {
            // A form of the caller's own organization or account: A's Owner reaches it (a
            // refusal of the form's content is an answer of the form's own).
            !matches!(control.status, 401 | 403 | 404) && control.status < 500 && !signed_out
        } else if call.method == Method::GET {
            control.status == 200
        } else {
            server.snapshot_org(victim.org.id).await != after
        };
        if !worked {
            findings.push(format!(
                "{method} {route}: the control by A's Owner's session did not work: {} {:?} {}",
                control.status,
                control.headers.get("location"),
                control
                    .text
                    .split("<main")
                    .nth(1)
                    .unwrap_or(&control.text)
                    .chars()
                    .take(600)
                    .collect::<String>()
            ));
        }
    }
    assert!(
        findings.is_empty(),
        "{} findings over {walked} page routes and {} callers:\n{}",
        findings.len(),
        callers.len(),
        findings.join("\n")
    );
}
