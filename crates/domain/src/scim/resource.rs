//! Reading the Users and Groups an identity provider sends (checked against the schema
//! tables) and shaping the ones we return (`attributes` / `excludedAttributes`).
//!
//! Choices where the RFC leaves room:
//! - An attribute name our schemas do not define is refused (`invalidValue`, naming it):
//!   dropping it silently would lose the client's data without telling anyone.
//! - Another provider's extension (any key with a colon that is not one of our schemas, such
//!   as a custom or ADSCIM extension) is dropped, whether or not `schemas` lists it.
//! - readOnly attributes (`id`, `meta`, `groups`, `manager.displayName`) are ignored, as
//!   RFC 7644 §3.5.1 says; `password` is dropped: roster keeps no password from a provider.
//! - Booleans also accept the strings "true"/"false" in any case (Entra sends "True"); a
//!   single-valued complex attribute with a `value` accepts a bare string as that value
//!   (Entra sends the enterprise `manager` as its id). `null` means unassigned (RFC 7643 §2.5).

use serde_json::{json, Map, Value};

use super::schema::{self, AttrKind, Attribute, Mutability, ResourceKind, Returned, Schema};

/// The `scimType` of an error response (RFC 7644 §3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
}

impl ScimType {
    /// The wire string ("invalidValue").
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

impl std::fmt::Display for ScimType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused resource: the `scimType` and a `detail` a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ResourceError {
    pub scim_type: ScimType,
    pub detail: String,
}

impl ResourceError {
    pub fn new(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ResourceError {
            scim_type,
            detail: detail.into(),
        }
    }

    fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidValue, detail)
    }

    fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidSyntax, detail)
    }
}

/// A User as roster uses it, read from what the client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct UserInput {
    pub user_name: String,
    /// Lower-cased; the address roster signs the person in with.
    pub email: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    /// Everything kept of the core and enterprise schemas, under the tables' spelling of
    /// each name, with `schemas` listing the ones present; returned on read once the service
    /// has laid its own `id`, `meta`, `groups` and `active` over it.
    pub attributes: Value,
}

/// A Group as roster uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInput {
    pub display_name: String,
    pub external_id: Option<String>,
    /// The members' `value`s (User ids), in order, each once.
    pub members: Vec<String>,
    /// What is kept besides the members, which live as memberships instead.
    pub attributes: Value,
}

/// Reads a User from a POST or PUT body. An `active` left out is given its default, true
/// (RFC 7644 §3.5.1 lets the server assign defaults), so that the User reads back as working.
pub fn normalize_user(doc: &Value) -> Result<UserInput, ResourceError> {
    let mut input = normalize_patched_user(doc)?;
    if let Value::Object(attributes) = &mut input.attributes {
        attributes
            .entry("active")
            .or_insert(Value::Bool(input.active));
    }
    Ok(input)
}

/// Reads a User as a PATCH left it. A removed `active` stays unassigned (RFC 7644 §3.5.2.2)
/// and is not shown, while the person works, as an unassigned `active` means.
pub fn normalize_patched_user(doc: &Value) -> Result<UserInput, ResourceError> {
    let attributes = clean_resource(ResourceKind::User, doc)?;
    let user_name = text(&attributes, "userName")
        .ok_or_else(|| ResourceError::invalid_value("userName is required and must not be empty"))?
        .to_string();
    let email = choose_email(&user_name, attributes.get("emails"))?;
    let name = attributes.get("name").and_then(Value::as_object);
    Ok(UserInput {
        email,
        external_id: text(&attributes, "externalId").map(str::to_string),
        given_name: name.and_then(|n| text(n, "givenName")).map(str::to_string),
        family_name: name.and_then(|n| text(n, "familyName")).map(str::to_string),
        display_name: text(&attributes, "displayName").map(str::to_string),
        active: attributes
            .get("active")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        user_name,
        attributes: Value::Object(attributes),
    })
}

/// Reads a Group from a POST or PUT body.
pub fn normalize_group(doc: &Value) -> Result<GroupInput, ResourceError> {
    let mut attributes = clean_resource(ResourceKind::Group, doc)?;
    let display_name = text(&attributes, "displayName")
        .ok_or_else(|| {
            ResourceError::invalid_value("displayName is required and must not be empty")
        })?
        .to_string();
    let mut members: Vec<String> = Vec::new();
    if let Some(Value::Array(list)) = attributes.remove("members") {
        for member in &list {
            let value = member
                .as_object()
                .and_then(|m| text(m, "value"))
                .ok_or_else(|| {
                    ResourceError::invalid_value("each of members needs a value: a User's id")
                })?;
            if !members.iter().any(|m| m == value) {
                members.push(value.to_string());
            }
        }
    }
    Ok(GroupInput {
        display_name,
        external_id: text(&attributes, "externalId").map(str::to_string),
        members,
        attributes: Value::Object(attributes),
    })
}

/// A non-blank string field.
fn text<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The email roster uses: userName when it is one, else the primary (or first) of `emails`.
fn choose_email(user_name: &str, emails: Option<&Value>) -> Result<String, ResourceError> {
    if is_email(user_name) {
        return Ok(user_name.to_lowercase());
    }
    let listed: Vec<&Map<String, Value>> = emails
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let chosen = listed
        .iter()
        .find(|e| e.get("primary") == Some(&Value::Bool(true)))
        .or(listed.first());
    match chosen.and_then(|e| text(e, "value")) {
        Some(email) if is_email(email) => Ok(email.to_lowercase()),
        Some(other) => Err(ResourceError::invalid_value(format!(
            "the User's email {other:?} is not an email address"
        ))),
        None => Err(ResourceError::invalid_value(
            "a User needs an email: in userName or emails",
        )),
    }
}

/// One `@` between a non-empty local part and a dotted domain, and no spaces: enough to tell
/// an email from a login name, not a full RFC 5322 check.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// The checked top level of a resource: core attributes and common attributes by name, our
/// extensions as objects, `schemas` rewritten to the schemas present.
fn clean_resource(
    resource: ResourceKind,
    doc: &Value,
) -> Result<Map<String, Value>, ResourceError> {
    let core = resource.core_schema();
    let fields = doc.as_object().ok_or_else(|| {
        ResourceError::invalid_syntax(format!("a {} must be a JSON object", resource.name()))
    })?;
    check_schemas(fields, core.id)?;
    let mut out = Map::new();
    let mut present = vec![json!(core.id)];
    for (key, value) in fields {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if key.contains(':') {
            if let Some(ext) = resource
                .extensions()
                .iter()
                .find(|s| s.id.eq_ignore_ascii_case(key))
            {
                if let Some(kept) = clean_extension(ext, value)? {
                    present.push(json!(ext.id));
                    out.insert(ext.id.to_string(), kept);
                }
            } else if schema::split_path(resource, key).is_some_and(|p| p.uri.is_some()) {
                return Err(ResourceError::invalid_value(format!(
                    "{key}: send extension attributes inside their schema's object"
                )));
            }
            // Otherwise another provider's extension: not ours to keep.
            continue;
        }
        let (_, attribute, _) =
            schema::find(resource, None, key, None).ok_or_else(|| unknown(key))?;
        if let Some(kept) = clean_attribute(attribute, value, attribute.name)? {
            out.insert(attribute.name.to_string(), kept);
        }
    }
    out.insert("schemas".to_string(), Value::Array(present));
    Ok(out)
}

fn check_schemas(fields: &Map<String, Value>, core: &str) -> Result<(), ResourceError> {
    let listed = fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .and_then(|(_, v)| v.as_array());
    let names_core = listed.is_some_and(|l| {
        l.iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(core)))
    });
    if names_core {
        Ok(())
    } else {
        Err(ResourceError::invalid_syntax(format!(
            "schemas must be a list that includes {core}"
        )))
    }
}

fn clean_extension(ext: &Schema, value: &Value) -> Result<Option<Value>, ResourceError> {
    match value {
        Value::Null => Ok(None),
        Value::Object(fields) => {
            let kept = clean_fields(fields, ext.attributes, &format!("{}:", ext.id))?;
            Ok((!kept.is_empty()).then_some(Value::Object(kept)))
        }
        _ => Err(ResourceError::invalid_value(format!(
            "{} must be an object",
            ext.id
        ))),
    }
}

fn unknown(path: &str) -> ResourceError {
    ResourceError::invalid_value(format!(
        "{path} is not an attribute roster keeps (see /Schemas); remove it from the mapping"
    ))
}

/// The fields of a complex value or extension, each checked against `attributes`.
fn clean_fields(
    fields: &Map<String, Value>,
    attributes: &'static [Attribute],
    prefix: &str,
) -> Result<Map<String, Value>, ResourceError> {
    let mut out = Map::new();
    for (key, value) in fields {
        let attribute = attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(key))
            .ok_or_else(|| unknown(&format!("{prefix}{key}")))?;
        let path = format!("{prefix}{}", attribute.name);
        if let Some(kept) = clean_attribute(attribute, value, &path)? {
            out.insert(attribute.name.to_string(), kept);
        }
    }
    Ok(out)
}

/// One attribute's value, checked and normalized; `None` when there is nothing to keep.
fn clean_attribute(
    a: &'static Attribute,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, ResourceError> {
    if value.is_null() || a.mutability == Mutability::ReadOnly || a.returned == Returned::Never {
        return Ok(None);
    }
    if !a.multi_valued {
        return clean_value(a, value, path).map(Some);
    }
    let items = value
        .as_array()
        .ok_or_else(|| ResourceError::invalid_value(format!("{path} must be a list")))?;
    let kept = items
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| clean_value(a, v, path))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Value::Array(kept)))
}

fn clean_value(a: &'static Attribute, value: &Value, path: &str) -> Result<Value, ResourceError> {
    let wrong = |expected: &str| {
        ResourceError::invalid_value(format!("{path} must be {expected}, not {value}"))
    };
    match (a.kind, value) {
        (AttrKind::Complex, Value::Object(fields)) => Ok(Value::Object(clean_fields(
            fields,
            a.sub_attributes,
            &format!("{path}."),
        )?)),
        (AttrKind::Complex, Value::String(id))
            if !a.multi_valued && a.sub_attribute("value").is_some() =>
        {
            Ok(json!({ "value": id }))
        }
        (AttrKind::Complex, _) => Err(wrong("an object")),
        (AttrKind::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (AttrKind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(json!(true)),
        (AttrKind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(json!(false))
        }
        (AttrKind::Boolean, _) => Err(wrong("true or false")),
        (AttrKind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(value.clone()),
        (AttrKind::Integer, _) => Err(wrong("a whole number")),
        (AttrKind::Decimal, Value::Number(_)) => Ok(value.clone()),
        (AttrKind::Decimal, _) => Err(wrong("a number")),
        (
            AttrKind::String | AttrKind::DateTime | AttrKind::Reference | AttrKind::Binary,
            Value::String(_),
        ) => Ok(value.clone()),
        _ => Err(wrong("a string")),
    }
}

/// Shapes a resource for a response (RFC 7644 §3.4.2.5, §3.9; RFC 7643 §7 `returned`):
/// `always` attributes (`id`) and `schemas` whatever is asked; `never` (`password`) never;
/// `request` only when named. `attributes` replaces the default set, `excluded` removes from
/// it. Names are case-insensitive, may be `name.sub`, URN-prefixed, or a bare extension URN
/// for all of it; names we do not know are ignored. `meta` is `default` (RFC 7643 §3.1), so
/// `attributes=userName` leaves it out.
pub fn project(
    doc: &Value,
    kind: ResourceKind,
    attributes: Option<&[String]>,
    excluded: Option<&[String]>,
) -> Value {
    let Some(fields) = doc.as_object() else {
        return doc.clone();
    };
    let wanted = attributes.map(|names| Selection::parse(kind, names));
    let unwanted = Selection::parse(kind, excluded.unwrap_or_default());
    let choose = Choice {
        wanted: wanted.as_ref(),
        unwanted: &unwanted,
    };
    let mut out = Map::new();
    for (key, value) in fields {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert("schemas".to_string(), value.clone());
        } else if let Some(ext) = kind
            .extensions()
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(key))
        {
            let kept = value
                .as_object()
                .map(|ext_fields| choose.fields(ext, ext_fields))
                .unwrap_or_default();
            if !kept.is_empty() {
                out.insert(ext.id.to_string(), Value::Object(kept));
            }
        } else if let Some((schema, a, _)) = schema::find(kind, None, key, None) {
            if let Some(kept) = choose.attribute(schema, a, value) {
                out.insert(key.clone(), kept);
            }
        } else if wanted.is_none() {
            // Nothing outside the tables should be stored; if it is, it is returned by default.
            out.insert(key.clone(), value.clone());
        }
    }
    // `schemas` names only the extensions still present.
    let present: Vec<&str> = kind
        .extensions()
        .iter()
        .filter(|s| out.contains_key(s.id))
        .map(|s| s.id)
        .collect();
    if let Some(Value::Array(urns)) = out.get_mut("schemas") {
        urns.retain(|urn| {
            let urn = urn.as_str().unwrap_or_default();
            schema::schema(urn).is_none_or(|s| {
                !kind.extensions().iter().any(|e| std::ptr::eq(*e, s)) || present.contains(&s.id)
            })
        });
    }
    Value::Object(out)
}

/// The attribute names of an `attributes` or `excludedAttributes` parameter, resolved.
struct Selection(Vec<Named>);

/// A whole schema (`attribute: None`), a whole attribute, or one sub-attribute.
struct Named {
    schema: &'static Schema,
    attribute: Option<&'static Attribute>,
    sub: Option<&'static Attribute>,
}

/// How much of one attribute a selection names.
enum Cover {
    Nothing,
    Whole,
    Subs(Vec<&'static Attribute>),
}

impl Selection {
    fn parse(kind: ResourceKind, names: &[String]) -> Selection {
        let named = names.iter().filter_map(|name| {
            let name = name.trim();
            match kind.schemas().find(|s| s.id.eq_ignore_ascii_case(name)) {
                Some(schema) => Some(Named {
                    schema,
                    attribute: None,
                    sub: None,
                }),
                None => schema::find_path(kind, name).map(|(schema, a, sub)| Named {
                    schema,
                    attribute: Some(a),
                    sub,
                }),
            }
        });
        Selection(named.collect())
    }

    fn covers(&self, schema: &Schema, a: &Attribute) -> Cover {
        let mut subs = Vec::new();
        for n in self.0.iter().filter(|n| std::ptr::eq(n.schema, schema)) {
            match (n.attribute, n.sub) {
                (None, _) => return Cover::Whole,
                (Some(x), None) if std::ptr::eq(x, a) => return Cover::Whole,
                (Some(x), Some(sub)) if std::ptr::eq(x, a) => subs.push(sub),
                _ => {}
            }
        }
        if subs.is_empty() {
            Cover::Nothing
        } else {
            Cover::Subs(subs)
        }
    }

    fn whole_schema(&self, schema: &Schema) -> bool {
        self.0
            .iter()
            .any(|n| n.attribute.is_none() && std::ptr::eq(n.schema, schema))
    }
}

/// The two selections of one request, applied to each attribute.
struct Choice<'a> {
    wanted: Option<&'a Selection>,
    unwanted: &'a Selection,
}

impl Choice<'_> {
    fn fields(&self, schema: &Schema, fields: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in fields {
            let kept = match schema.attribute(key) {
                Some(a) => self.attribute(schema, a, value),
                None => (self.wanted.is_none_or(|w| w.whole_schema(schema))
                    && !self.unwanted.whole_schema(schema))
                .then(|| value.clone()),
            };
            if let Some(kept) = kept {
                out.insert(key.clone(), kept);
            }
        }
        out
    }

    fn attribute(&self, schema: &Schema, a: &Attribute, value: &Value) -> Option<Value> {
        match a.returned {
            Returned::Never => return None,
            Returned::Always => return Some(value.clone()),
            Returned::Default | Returned::Request => {}
        }
        let chosen = match self.wanted.map(|w| w.covers(schema, a)) {
            None if a.returned == Returned::Request => return None,
            None | Some(Cover::Whole) => by_default(a, value)?,
            Some(Cover::Nothing) => return None,
            Some(Cover::Subs(subs)) => keep_subs(a, value, |s| {
                subs.iter().any(|x| std::ptr::eq(*x, s)) || s.returned == Returned::Always
            })?,
        };
        match self.unwanted.covers(schema, a) {
            Cover::Nothing => Some(chosen),
            Cover::Whole => None,
            Cover::Subs(subs) => keep_subs(a, &chosen, |s| {
                !subs.iter().any(|x| std::ptr::eq(*x, s)) || s.returned == Returned::Always
            }),
        }
    }
}

/// An attribute as returned by default: without sub-attributes that are `never` or `request`.
fn by_default(a: &Attribute, value: &Value) -> Option<Value> {
    if a.sub_attributes.is_empty() {
        return Some(value.clone());
    }
    keep_subs(a, value, |s| {
        matches!(s.returned, Returned::Always | Returned::Default)
    })
}

/// A complex value (or each of a list of them) with only the sub-attributes `keep` accepts;
/// `None` when nothing is left.
fn keep_subs(a: &Attribute, value: &Value, keep: impl Fn(&Attribute) -> bool) -> Option<Value> {
    let one = |v: &Value| -> Option<Value> {
        let kept: Map<String, Value> = v
            .as_object()?
            .iter()
            .filter(|(k, _)| a.sub_attribute(k).is_some_and(&keep))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items.iter().filter_map(one).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => one(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

    fn okta_create() -> Value {
        json!({
            "schemas": [USER_URN],
            "userName": "Ada.Lovelace@Example.com",
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "emails": [{ "primary": true, "value": "ada.lovelace@example.com", "type": "work" }],
            "displayName": "Ada Lovelace",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        })
    }

    fn entra_create() -> Value {
        json!({
            "schemas": [
                USER_URN,
                ENTERPRISE_USER_URN,
                "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User",
                "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
            ],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee",
            "active": "True",
            "emails": [{ "primary": true, "type": "work", "value": "Test_User_fd0e@TestUser.com" }],
            "meta": { "resourceType": "User" },
            "name": { "formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace" },
            "roles": [],
            "title": null,
            (ENTERPRISE_USER_URN): { "Department": "Research", "manager": "b9c8" },
            "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": {
                "tag": "701984"
            }
        })
    }

    #[test]
    fn okta_create_keeps_its_attributes_but_not_password_or_groups() {
        let user = normalize_user(&okta_create()).unwrap();
        assert_eq!(user.user_name, "Ada.Lovelace@Example.com");
        assert_eq!(user.email, "ada.lovelace@example.com");
        assert_eq!(user.external_id.as_deref(), Some("00ujl29u0le5T6Aj10h7"));
        assert_eq!(user.given_name.as_deref(), Some("Ada"));
        assert_eq!(user.family_name.as_deref(), Some("Lovelace"));
        assert_eq!(user.display_name.as_deref(), Some("Ada Lovelace"));
        assert!(user.active);
        let mut expected = okta_create();
        let fields = expected.as_object_mut().unwrap();
        fields.remove("password");
        fields.remove("groups");
        assert_eq!(user.attributes, expected);
    }

    #[test]
    fn entra_create_reads_string_booleans_and_drops_foreign_extensions() {
        let user = normalize_user(&entra_create()).unwrap();
        assert_eq!(user.email, "test_user_fd0e@testuser.com");
        assert!(user.active);
        assert_eq!(user.given_name.as_deref(), Some("Grace"));
        assert_eq!(
            user.attributes,
            json!({
                "schemas": [USER_URN, ENTERPRISE_USER_URN],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_ab6490ee",
                "active": true,
                "emails": [{ "primary": true, "type": "work", "value": "Test_User_fd0e@TestUser.com" }],
                "name": { "formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace" },
                "roles": [],
                (ENTERPRISE_USER_URN): { "department": "Research", "manager": { "value": "b9c8" } }
            })
        );
        let mut inactive = entra_create();
        inactive["active"] = json!("FALSE");
        assert!(!normalize_user(&inactive).unwrap().active);
    }

    #[test]
    fn the_email_comes_from_user_name_or_else_the_primary_entry() {
        let table = [
            (
                "A@B.Co",
                json!([{ "value": "other@b.co", "primary": true }]),
                "a@b.co",
            ),
            (
                "jdoe",
                json!([
                    { "value": "home@x.org", "type": "home" },
                    { "value": "Work@X.org", "type": "work", "primary": "true" }
                ]),
                "work@x.org",
            ),
            (
                "jdoe",
                json!([{ "value": "First@x.org" }, { "value": "second@x.org" }]),
                "first@x.org",
            ),
            (
                "a@localhost",
                json!([{ "value": "a@example.com" }]),
                "a@example.com",
            ),
        ];
        for (user_name, emails, expected) in table {
            let doc = json!({ "schemas": [USER_URN], "userName": user_name, "emails": emails });
            assert_eq!(normalize_user(&doc).unwrap().email, expected, "{user_name}");
        }
    }

    #[test]
    fn what_counts_as_an_email() {
        let table = [
            ("ada@example.com", true),
            ("a.b+c@mail.example.co.uk", true),
            ("ada", false),
            ("@example.com", false),
            ("ada@localhost", false),
            ("ada@@example.com", false),
            ("a@b@example.com", false),
            ("ada @example.com", false),
            ("ada@example.", false),
            ("ada@.com", false),
        ];
        for (s, expected) in table {
            assert_eq!(is_email(s), expected, "{s}");
        }
    }

    #[test]
    fn bad_users_are_refused_with_the_right_scim_type() {
        use ScimType::*;
        let base = || json!({ "schemas": [USER_URN], "userName": "ada@example.com" });
        let with = |key: &str, value: Value| {
            let mut doc = base();
            doc[key] = value;
            doc
        };
        let without_schemas = {
            let mut doc = base();
            doc.as_object_mut().unwrap().remove("schemas");
            doc
        };
        let table = [
            (with("active", json!("yes")), InvalidValue, "active"),
            (with("active", json!(1)), InvalidValue, "active"),
            (
                with("emails", json!({ "value": "a@b.co" })),
                InvalidValue,
                "emails",
            ),
            (
                with("name", json!({ "givenName": 42 })),
                InvalidValue,
                "name.givenName",
            ),
            (with("name", json!("Ada")), InvalidValue, "name"),
            (
                with("emails", json!([{ "primary": "maybe" }])),
                InvalidValue,
                "emails.primary",
            ),
            (
                with("favouriteColour", json!("blue")),
                InvalidValue,
                "favouriteColour",
            ),
            (
                with("name", json!({ "nick": "A" })),
                InvalidValue,
                "name.nick",
            ),
            (
                with(ENTERPRISE_USER_URN, json!({ "badge": "7" })),
                InvalidValue,
                "enterprise:2.0:User:badge",
            ),
            (
                with(&format!("{ENTERPRISE_USER_URN}:department"), json!("R")),
                InvalidValue,
                "department",
            ),
            (with("userName", json!("  ")), InvalidValue, "userName"),
            (with("userName", json!(null)), InvalidValue, "userName"),
            (
                with("schemas", json!([GROUP_URN])),
                InvalidSyntax,
                "schemas",
            ),
            (with("schemas", json!(USER_URN)), InvalidSyntax, "schemas"),
            (without_schemas, InvalidSyntax, "schemas"),
            (json!(["not", "an", "object"]), InvalidSyntax, "object"),
        ];
        for (doc, scim_type, mentions) in table {
            let err = normalize_user(&doc).unwrap_err();
            assert_eq!(err.scim_type, scim_type, "{doc}");
            assert!(err.detail.contains(mentions), "{}", err.detail);
        }
    }

    #[test]
    fn active_left_out_is_true_on_create_but_stays_unassigned_after_a_patch() {
        let doc = json!({ "schemas": [USER_URN], "userName": "ada@example.com" });
        let created = normalize_user(&doc).unwrap();
        assert!(created.active);
        assert_eq!(created.attributes["active"], json!(true));
        let patched = normalize_patched_user(&doc).unwrap();
        assert!(patched.active);
        assert_eq!(patched.attributes.get("active"), None);
        let mut off = doc.clone();
        off["active"] = json!(false);
        assert_eq!(
            normalize_user(&off).unwrap().attributes["active"],
            json!(false)
        );
    }

    #[test]
    fn a_user_without_any_email_is_refused() {
        let table = [
            json!({ "schemas": [USER_URN], "userName": "jdoe" }),
            json!({ "schemas": [USER_URN], "userName": "jdoe", "emails": [] }),
            json!({ "schemas": [USER_URN], "userName": "jdoe", "emails": [{ "type": "work" }] }),
        ];
        for doc in table {
            let err = normalize_user(&doc).unwrap_err();
            assert_eq!(err.scim_type, ScimType::InvalidValue);
            assert_eq!(err.detail, "a User needs an email: in userName or emails");
        }
        let not_an_email = json!({
            "schemas": [USER_URN], "userName": "jdoe",
            "emails": [{ "value": "jdoe at example", "primary": true }]
        });
        let err = normalize_user(&not_an_email).unwrap_err();
        assert!(
            err.detail.contains("is not an email address"),
            "{}",
            err.detail
        );
    }

    #[test]
    fn groups_keep_their_members_apart_and_ignore_what_they_cannot_set() {
        let okta = json!({
            "schemas": [GROUP_URN],
            "displayName": "Annotators",
            "members": [
                { "value": "u1", "display": "ada@example.com" },
                { "value": "u2" },
                { "value": "u1" }
            ]
        });
        let group = normalize_group(&okta).unwrap();
        assert_eq!(group.display_name, "Annotators");
        assert_eq!(group.members, ["u1", "u2"]);
        assert_eq!(
            group.attributes,
            json!({ "schemas": [GROUP_URN], "displayName": "Annotators" })
        );

        let entra = json!({
            "schemas": [GROUP_URN, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Reviewers",
            "meta": { "resourceType": "Group" }
        });
        let group = normalize_group(&entra).unwrap();
        assert_eq!(
            group.external_id.as_deref(),
            Some("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
        );
        assert!(group.members.is_empty());
        assert_eq!(group.attributes.get("meta"), None);

        let refused = [
            (json!({ "schemas": [GROUP_URN] }), "displayName"),
            (
                json!({ "schemas": [GROUP_URN], "displayName": "G", "members": [{ "display": "x" }] }),
                "value",
            ),
            (
                json!({ "schemas": [GROUP_URN], "displayName": "G", "members": [{ "value": 7 }] }),
                "members.value",
            ),
        ];
        for (doc, mentions) in refused {
            let err = normalize_group(&doc).unwrap_err();
            assert_eq!(err.scim_type, ScimType::InvalidValue);
            assert!(err.detail.contains(mentions), "{}", err.detail);
        }
    }

    fn stored_user() -> Value {
        json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "id": "42",
            "externalId": "x-42",
            "userName": "ada@example.com",
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "emails": [{ "value": "ada@example.com", "type": "work", "primary": true }],
            "active": true,
            "password": "must never leave",
            (ENTERPRISE_USER_URN): {
                "department": "Research",
                "manager": { "value": "7", "displayName": "Bob" }
            },
            "meta": { "resourceType": "User", "location": "https://roster.test/scim/v2/Users/42" }
        })
    }

    /// An `attributes` or `excludedAttributes` parameter, present or not.
    type Names = Option<Vec<String>>;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn projection_follows_the_returned_rules() {
        let full = {
            let mut doc = stored_user();
            doc.as_object_mut().unwrap().remove("password");
            doc
        };
        let without = |keys: &[&str]| {
            let mut doc = full.clone();
            for key in keys {
                doc.as_object_mut().unwrap().remove(*key);
            }
            doc
        };
        let only_core = |extra: Value| {
            let mut doc = json!({ "schemas": [USER_URN], "id": "42" });
            for (k, v) in extra.as_object().unwrap() {
                doc[k] = v.clone();
            }
            doc
        };
        let manager_path = format!("{ENTERPRISE_USER_URN}:manager.value");
        let department_path = format!("{}:Department", ENTERPRISE_USER_URN.to_uppercase());
        let table: [(Names, Names, Value); 12] = [
            (None, None, full.clone()),
            // `id` and `schemas` always; `meta` is `default`, so it goes too.
            (
                Some(names(&["userName"])),
                None,
                only_core(json!({ "userName": "ada@example.com" })),
            ),
            (
                Some(names(&["USERNAME", "Meta"])),
                None,
                only_core(json!({ "userName": "ada@example.com", "meta": full["meta"] })),
            ),
            (
                Some(names(&["name.GIVENNAME"])),
                None,
                only_core(json!({ "name": { "givenName": "Ada" } })),
            ),
            (
                Some(names(&["emails.value", "meta.location"])),
                None,
                only_core(json!({
                    "emails": [{ "value": "ada@example.com" }],
                    "meta": { "location": "https://roster.test/scim/v2/Users/42" }
                })),
            ),
            (Some(names(&["password"])), None, only_core(json!({}))),
            (
                Some(names(&["nonsense", "manager"])),
                None,
                only_core(json!({})),
            ),
            (
                Some(names(&[&manager_path])),
                None,
                json!({
                    "schemas": [USER_URN, ENTERPRISE_USER_URN],
                    "id": "42",
                    (ENTERPRISE_USER_URN): { "manager": { "value": "7" } }
                }),
            ),
            (
                Some(names(&[ENTERPRISE_USER_URN])),
                None,
                json!({
                    "schemas": [USER_URN, ENTERPRISE_USER_URN],
                    "id": "42",
                    (ENTERPRISE_USER_URN): full[ENTERPRISE_USER_URN]
                }),
            ),
            (None, Some(names(&["Emails", "id"])), without(&["emails"])),
            (None, Some(names(&[&department_path, "name.familyName"])), {
                let mut doc = full.clone();
                doc[ENTERPRISE_USER_URN]
                    .as_object_mut()
                    .unwrap()
                    .remove("department");
                doc["name"].as_object_mut().unwrap().remove("familyName");
                doc
            }),
            (None, Some(names(&[ENTERPRISE_USER_URN, "meta"])), {
                let mut doc = without(&[ENTERPRISE_USER_URN, "meta"]);
                doc["schemas"] = json!([USER_URN]);
                doc
            }),
        ];
        for (attributes, excluded, expected) in table {
            let projected = project(
                &stored_user(),
                ResourceKind::User,
                attributes.as_deref(),
                excluded.as_deref(),
            );
            assert_eq!(projected, expected, "{attributes:?} {excluded:?}");
            assert!(projected.get("password").is_none());
        }
    }

    #[test]
    fn entra_can_leave_members_out_of_a_group() {
        let group = json!({
            "schemas": [GROUP_URN],
            "id": "g1",
            "displayName": "Reviewers",
            "members": [{ "value": "u1", "display": "ada@example.com" }],
            "meta": { "resourceType": "Group" }
        });
        let projected = project(
            &group,
            ResourceKind::Group,
            None,
            Some(&names(&["members"])),
        );
        assert_eq!(
            projected,
            json!({
                "schemas": [GROUP_URN],
                "id": "g1",
                "displayName": "Reviewers",
                "meta": { "resourceType": "Group" }
            })
        );
    }

    #[test]
    fn scim_types_have_their_wire_names() {
        let table = [
            (ScimType::InvalidFilter, "invalidFilter"),
            (ScimType::TooMany, "tooMany"),
            (ScimType::Uniqueness, "uniqueness"),
            (ScimType::Mutability, "mutability"),
            (ScimType::InvalidSyntax, "invalidSyntax"),
            (ScimType::InvalidPath, "invalidPath"),
            (ScimType::NoTarget, "noTarget"),
            (ScimType::InvalidValue, "invalidValue"),
            (ScimType::InvalidVers, "invalidVers"),
            (ScimType::Sensitive, "sensitive"),
        ];
        for (scim_type, wire) in table {
            assert_eq!(scim_type.to_string(), wire);
        }
    }
}
