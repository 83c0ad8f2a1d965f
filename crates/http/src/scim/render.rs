//! SCIM resources as the wire shows them: what the identity provider sent (kept with the
//! resource) with the server's own attributes laid over it (`id`, `meta`, `groups`, the
//! values roster keeps in columns).

use roster_domain::scim::schema::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};
use roster_service::scim::{ScimGroup, ScimUser};
use serde_json::{json, Map, Value};

use super::protocol::etag;

/// Microseconds since the epoch as RFC 3339 (what `meta.created` carries).
fn time(micros: i64) -> Value {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

fn stored(attributes: &str) -> Map<String, Value> {
    match serde_json::from_str(attributes) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn set_or_remove(doc: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    match value {
        Some(v) => {
            doc.insert(key.into(), json!(v));
        }
        None => {
            doc.remove(key);
        }
    }
}

pub fn user(u: &ScimUser, base: &str) -> Value {
    let r = &u.record;
    let mut doc = stored(&r.attributes);
    let mut schemas = vec![json!(USER_URN)];
    if doc.contains_key(ENTERPRISE_USER_URN) {
        schemas.push(json!(ENTERPRISE_USER_URN));
    }
    doc.insert("schemas".into(), Value::Array(schemas));
    doc.insert("id".into(), json!(r.id));
    doc.insert("userName".into(), json!(r.user_name));
    set_or_remove(&mut doc, "externalId", r.external_id.as_deref());
    set_or_remove(&mut doc, "displayName", r.display_name.as_deref());
    // `active` is given on create and replace (true when the client left it out); a PATCH
    // that removes it leaves it unassigned (RFC 7644 §3.5.2.2), which means working, and it
    // is not shown until it is set again or the member stops working.
    if doc.contains_key("active") || !r.active {
        doc.insert("active".into(), json!(r.active));
    }
    let mut name = match doc.remove("name") {
        Some(Value::Object(n)) => n,
        _ => Map::new(),
    };
    set_or_remove(&mut name, "givenName", r.given_name.as_deref());
    set_or_remove(&mut name, "familyName", r.family_name.as_deref());
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    if !doc.get("emails").is_some_and(Value::is_array) {
        doc.insert(
            "emails".into(),
            json!([{"value": r.email, "type": "work", "primary": true}]),
        );
    }
    if u.groups.is_empty() {
        doc.remove("groups");
    } else {
        let groups: Vec<Value> = u
            .groups
            .iter()
            .map(|(id, name)| {
                json!({"value": id, "display": name, "$ref": format!("{base}/Groups/{id}"), "type": "direct"})
            })
            .collect();
        doc.insert("groups".into(), Value::Array(groups));
    }
    doc.remove("password");
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": time(r.created_at),
            "lastModified": time(r.updated_at),
            "location": format!("{base}/Users/{}", r.id),
            "version": etag(r.version),
        }),
    );
    Value::Object(doc)
}

pub fn group(g: &ScimGroup, base: &str) -> Value {
    let r = &g.record;
    let mut doc = stored(&r.attributes);
    doc.insert("schemas".into(), json!([GROUP_URN]));
    doc.insert("id".into(), json!(r.id));
    doc.insert("displayName".into(), json!(r.display_name));
    set_or_remove(&mut doc, "externalId", r.external_id.as_deref());
    match &g.members {
        Some(members) => {
            let list: Vec<Value> = members
                .iter()
                .map(|(id, user_name)| {
                    json!({"value": id, "display": user_name, "$ref": format!("{base}/Users/{id}"), "type": "User"})
                })
                .collect();
            doc.insert("members".into(), Value::Array(list));
        }
        None => {
            doc.remove("members");
        }
    }
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": time(r.created_at),
            "lastModified": time(r.updated_at),
            "location": format!("{base}/Groups/{}", r.id),
            "version": etag(r.version),
        }),
    );
    Value::Object(doc)
}
