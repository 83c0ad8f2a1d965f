//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON representation: `add`, `remove` and
//! `replace`, with or without a path, including the forms Entra ID and Okta send
//! (capitalised operation names, `"True"`/`"False"` for booleans, a path-less replace whose
//! keys are dotted or URN-prefixed paths). Paths are resolved against the schema tables, so
//! a path that names nothing in a known schema is `invalidPath`, and a read-only attribute
//! is `mutability`.

use serde_json::{Map, Value};

use super::filter::{AttrPath, CompValue, CompareOp, Filter};
use super::path::PatchPath;
use super::resource::{ResourceError, ScimType};
use super::schema::{self, AttrKind, Attribute, Mutability, ResourceKind, Schema};

/// The URN a PATCH request body names.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Operations in one PATCH request at most.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

fn err(scim_type: ScimType, detail: impl Into<String>) -> ResourceError {
    ResourceError::new(scim_type, detail)
}

/// Reads the operations of a PATCH request body.
pub fn parse_operations(body: &Value) -> Result<Vec<PatchOp>, ResourceError> {
    let obj = body
        .as_object()
        .ok_or_else(|| err(ScimType::InvalidSyntax, "a PATCH body is a JSON object"))?;
    if let Some(schemas) = get_ci(obj, "schemas") {
        let names_patch = schemas.as_array().is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_URN))
            })
        });
        if !names_patch {
            return Err(err(
                ScimType::InvalidSyntax,
                format!("a PATCH body's schemas must list {PATCH_OP_URN}"),
            ));
        }
    }
    let ops = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            err(
                ScimType::InvalidSyntax,
                "a PATCH body needs an Operations array",
            )
        })?;
    if ops.is_empty() {
        return Err(err(ScimType::InvalidValue, "Operations is empty"));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(err(
            ScimType::TooMany,
            format!("at most {MAX_OPERATIONS} operations per request"),
        ));
    }
    ops.iter().map(parse_operation).collect()
}

fn parse_operation(v: &Value) -> Result<PatchOp, ResourceError> {
    let obj = v
        .as_object()
        .ok_or_else(|| err(ScimType::InvalidSyntax, "each operation is a JSON object"))?;
    let op = match get_ci(obj, "op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
    {
        Some(o) if o == "add" => OpKind::Add,
        Some(o) if o == "remove" => OpKind::Remove,
        Some(o) if o == "replace" => OpKind::Replace,
        _ => {
            return Err(err(
                ScimType::InvalidSyntax,
                "each operation's op is add, remove or replace",
            ))
        }
    };
    let path = match get_ci(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(
            p.parse::<PatchPath>()
                .map_err(|e| err(ScimType::InvalidPath, e.to_string()))?,
        ),
        Some(_) => return Err(err(ScimType::InvalidPath, "path must be a string")),
    };
    let value = get_ci(obj, "value").cloned();
    if op == OpKind::Remove && path.is_none() {
        return Err(err(ScimType::NoTarget, "remove needs a path"));
    }
    if op != OpKind::Remove && value.is_none() {
        return Err(err(ScimType::InvalidValue, "add and replace need a value"));
    }
    Ok(PatchOp { op, path, value })
}

/// A key of a JSON object, found case-insensitively (attribute names are, RFC 7643 §2.1).
pub fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Removes a key case-insensitively; returns its value.
fn remove_ci(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let found = obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()?;
    obj.remove(&found)
}

/// What a path names: the schema, the attribute, and a sub-attribute.
struct Target {
    schema: &'static Schema,
    attr: &'static Attribute,
    sub: Option<&'static Attribute>,
}

fn resolve(kind: ResourceKind, p: &AttrPath) -> Result<Target, ResourceError> {
    let (schema, attr, sub) = schema::find(kind, p.uri.as_deref(), &p.name, p.sub.as_deref())
        .ok_or_else(|| {
            err(
                ScimType::InvalidPath,
                format!("{p} names nothing in the {} schemas", kind.name()),
            )
        })?;
    Ok(Target { schema, attr, sub })
}

/// A path-less add or replace names attributes by its value's keys, which may be dotted
/// (`name.givenName`) or URN-prefixed, or a schema URN whose object holds that schema's
/// attributes.
fn keyed_targets(
    kind: ResourceKind,
    value: &Value,
) -> Result<Vec<(AttrPath, Value)>, ResourceError> {
    let obj = value.as_object().ok_or_else(|| {
        err(
            ScimType::InvalidValue,
            "without a path, the value is an object of attributes",
        )
    })?;
    let mut out = Vec::new();
    for (k, v) in obj {
        if k.eq_ignore_ascii_case("schemas") || k.eq_ignore_ascii_case("meta") {
            continue;
        }
        if let Some(s) = kind
            .extensions()
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(k))
        {
            let inner = v.as_object().ok_or_else(|| {
                err(
                    ScimType::InvalidValue,
                    format!("{k} holds an object of attributes"),
                )
            })?;
            for (name, v) in inner {
                out.push((path_of(Some(s.id), name), v.clone()));
            }
            continue;
        }
        let split = schema::split_path(kind, k).ok_or_else(|| {
            err(
                ScimType::InvalidPath,
                format!("{k} names nothing in the {} schemas", kind.name()),
            )
        })?;
        let mut p = path_of(split.uri, split.name);
        if let Some(sub) = split.sub {
            p.sub = Some(sub.to_owned());
        }
        out.push((p, v.clone()));
    }
    Ok(out)
}

fn path_of(uri: Option<&str>, dotted: &str) -> AttrPath {
    let (name, sub) = match dotted.split_once('.') {
        Some((n, s)) => (n, Some(s.to_owned())),
        None => (dotted, None),
    };
    AttrPath {
        uri: uri.map(str::to_owned),
        name: name.to_owned(),
        sub,
    }
}

/// Applies the operations in order; on error the document is left half-changed, so callers
/// apply them to a copy.
pub fn apply(doc: &mut Value, kind: ResourceKind, ops: &[PatchOp]) -> Result<(), ResourceError> {
    for op in ops {
        apply_one(doc, kind, op)?;
    }
    Ok(())
}

fn apply_one(doc: &mut Value, kind: ResourceKind, op: &PatchOp) -> Result<(), ResourceError> {
    if let Some(ext) = whole_extension(kind, op.path.as_ref()) {
        return apply_to_extension(doc, kind, ext, op);
    }
    match (&op.path, op.op) {
        (None, OpKind::Remove) => Err(err(ScimType::NoTarget, "remove needs a path")),
        (None, _) => {
            let value = op.value.as_ref().expect("checked when parsed");
            for (p, v) in keyed_targets(kind, value)? {
                let t = resolve(kind, &p)?;
                if is_read_only(&t) {
                    // Clients echo read-only values back (`id`, `groups`); changing them is refused.
                    if current(doc, &t) == Some(&v) || t.attr.name == "groups" {
                        continue;
                    }
                    return Err(read_only(&p));
                }
                set(doc, &t, v, op.op)?;
            }
            Ok(())
        }
        (Some(PatchPath::Attr(p)), _) => {
            let t = resolve(kind, p)?;
            if is_read_only(&t) {
                return Err(read_only(p));
            }
            match op.op {
                OpKind::Remove => {
                    remove(doc, &t, op.value.as_ref());
                    Ok(())
                }
                _ => set(
                    doc,
                    &t,
                    op.value.clone().expect("checked when parsed"),
                    op.op,
                ),
            }
        }
        (Some(PatchPath::Value { attr, filter, sub }), _) => {
            let t = resolve(kind, attr)?;
            if is_read_only(&t) {
                return Err(read_only(attr));
            }
            if !t.attr.multi_valued {
                return Err(err(
                    ScimType::InvalidPath,
                    format!("{attr} is not multi-valued; a filter cannot select its values"),
                ));
            }
            let sub_attr = match sub {
                Some(s) => Some(t.attr.sub_attribute(s).ok_or_else(|| {
                    err(
                        ScimType::InvalidPath,
                        format!("{attr} has no sub-attribute {s}"),
                    )
                })?),
                None => None,
            };
            filtered(doc, &t, filter, sub_attr, op)
        }
    }
}

/// The extension a path names whole (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`),
/// if it does. The path grammar reads such a URN as `uri:name`, so it is matched as written.
fn whole_extension(kind: ResourceKind, path: Option<&PatchPath>) -> Option<&'static Schema> {
    let Some(PatchPath::Attr(p)) = path else {
        return None;
    };
    let uri = p.uri.as_deref()?;
    if p.sub.is_some() {
        return None;
    }
    kind.extensions().iter().copied().find(|s| {
        s.id.len() == uri.len() + 1 + p.name.len()
            && s.id[..uri.len()].eq_ignore_ascii_case(uri)
            && s.id[uri.len() + 1..].eq_ignore_ascii_case(&p.name)
    })
}

/// An operation on a whole extension: `add` and `replace` set the attributes its value
/// holds (as a path-less operation whose value is `{urn: value}` does, RFC 7644 §3.5.2.1 and
/// §3.5.2.3: the ones not named are left as they are); `remove` removes all of them.
fn apply_to_extension(
    doc: &mut Value,
    kind: ResourceKind,
    ext: &'static Schema,
    op: &PatchOp,
) -> Result<(), ResourceError> {
    match (op.op, &op.value) {
        (OpKind::Remove, _) => {
            if let Some(obj) = doc.as_object_mut() {
                remove_ci(obj, ext.id);
            }
            Ok(())
        }
        // A null value unassigns, as it does for an attribute.
        (_, Some(Value::Null)) => {
            if let Some(obj) = doc.as_object_mut() {
                remove_ci(obj, ext.id);
            }
            Ok(())
        }
        (_, Some(Value::Object(fields))) => {
            // Clients send the extension as they read it, `schemas` and all.
            let mut value = fields.clone();
            remove_ci(&mut value, "schemas");
            let mut keyed = Map::new();
            keyed.insert(ext.id.to_owned(), Value::Object(value));
            let pathless = PatchOp {
                op: op.op,
                path: None,
                value: Some(Value::Object(keyed)),
            };
            apply_one(doc, kind, &pathless)
        }
        _ => Err(err(
            ScimType::InvalidValue,
            format!("{} takes an object of its attributes", ext.id),
        )),
    }
}

fn is_read_only(t: &Target) -> bool {
    t.attr.mutability == Mutability::ReadOnly
        || t.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
}

fn read_only(p: &AttrPath) -> ResourceError {
    err(ScimType::Mutability, format!("{p} is read-only"))
}

/// The object that holds a target's attribute: the document, or its extension's object.
fn container<'a>(
    doc: &'a mut Value,
    t: &Target,
    create: bool,
) -> Option<&'a mut Map<String, Value>> {
    let obj = doc.as_object_mut()?;
    if std::ptr::eq(t.schema, schema::ResourceKind::User.core_schema())
        || std::ptr::eq(t.schema, schema::ResourceKind::Group.core_schema())
    {
        return Some(obj);
    }
    let key = obj
        .keys()
        .find(|k| k.eq_ignore_ascii_case(t.schema.id))
        .cloned()
        .unwrap_or_else(|| t.schema.id.to_owned());
    if !obj.contains_key(&key) {
        if !create {
            return None;
        }
        obj.insert(key.clone(), Value::Object(Map::new()));
    }
    obj.get_mut(&key)?.as_object_mut()
}

fn current<'a>(doc: &'a Value, t: &Target) -> Option<&'a Value> {
    let obj = doc.as_object()?;
    let holder = if obj.keys().any(|k| k.eq_ignore_ascii_case(t.schema.id)) {
        get_ci(obj, t.schema.id)?.as_object()?
    } else {
        obj
    };
    let v = get_ci(holder, t.attr.name)?;
    match t.sub {
        Some(s) => get_ci(v.as_object()?, s.name),
        None => Some(v),
    }
}

/// Sets (add or replace) a target to a value.
fn set(doc: &mut Value, t: &Target, value: Value, op: OpKind) -> Result<(), ResourceError> {
    let value = coerce(
        t.sub.unwrap_or(t.attr),
        value,
        t.sub.is_none() && t.attr.multi_valued,
    )?;
    let holder = container(doc, t, true)
        .ok_or_else(|| err(ScimType::InvalidSyntax, "the resource is not a JSON object"))?;
    let key = t.attr.name;
    let existing = remove_ci(holder, key);
    if value.is_null() && t.sub.is_none() {
        // A null value unassigns the attribute (RFC 7644 §3.5.2.3).
        return Ok(());
    }
    let new = match (t.sub, t.attr.multi_valued) {
        (Some(sub), false) => {
            let mut obj = match existing {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            remove_ci(&mut obj, sub.name);
            if !value.is_null() {
                obj.insert(sub.name.to_owned(), value);
            }
            Value::Object(obj)
        }
        (Some(sub), true) => {
            // `emails.value`: the sub-attribute of every value.
            let mut items = match existing {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                remove_ci(item, sub.name);
                item.insert(sub.name.to_owned(), value.clone());
            }
            Value::Array(items)
        }
        (None, true) => {
            let incoming = match value {
                Value::Array(a) => a,
                other => vec![other],
            };
            let mut items = match (op, existing) {
                (OpKind::Add, Some(Value::Array(a))) => a,
                _ => Vec::new(),
            };
            for v in incoming {
                if !items.contains(&v) {
                    items.push(v);
                }
            }
            keep_one_primary(&mut items);
            Value::Array(items)
        }
        (None, false) if t.attr.kind == AttrKind::Complex => {
            // A complex value's sub-attributes replace or add to those it had.
            let mut obj = match existing {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            let incoming = value
                .as_object()
                .cloned()
                .ok_or_else(|| err(ScimType::InvalidValue, format!("{key} takes an object")))?;
            for (k, v) in incoming {
                remove_ci(&mut obj, &k);
                if !v.is_null() {
                    obj.insert(k, v);
                }
            }
            Value::Object(obj)
        }
        (None, false) => value,
    };
    holder.insert(key.to_owned(), new);
    Ok(())
}

/// At most one value of a multi-valued attribute is primary: the last one marked wins.
fn keep_one_primary(items: &mut [Value]) {
    let last = items
        .iter()
        .rposition(|v| v.get("primary").and_then(Value::as_bool) == Some(true));
    if let Some(last) = last {
        for (i, v) in items.iter_mut().enumerate() {
            if i != last {
                if let Some(o) = v.as_object_mut() {
                    if o.get("primary").and_then(Value::as_bool) == Some(true) {
                        o.insert("primary".into(), Value::Bool(false));
                    }
                }
            }
        }
    }
}

/// Removes a target. With a value on a multi-valued attribute (Entra's member removal:
/// `{"op": "remove", "path": "members", "value": [{"value": "id"}]}`), only the values whose
/// `value` is listed go.
fn remove(doc: &mut Value, t: &Target, value: Option<&Value>) {
    let Some(holder) = container(doc, t, false) else {
        return;
    };
    match (t.sub, value) {
        (None, Some(listed)) if t.attr.multi_valued => {
            let gone: Vec<&str> = match listed {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.get("value").and_then(Value::as_str))
                    .collect(),
                Value::Object(_) => listed
                    .get("value")
                    .and_then(Value::as_str)
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            };
            let key = holder
                .keys()
                .find(|k| k.eq_ignore_ascii_case(t.attr.name))
                .cloned();
            if let Some(Value::Array(items)) = key.as_ref().and_then(|k| holder.get_mut(k)) {
                items.retain(|v| {
                    !v.get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|x| gone.contains(&x))
                });
                if items.is_empty() {
                    if let Some(k) = key {
                        holder.remove(&k);
                    }
                }
            }
        }
        (None, _) => {
            remove_ci(holder, t.attr.name);
        }
        (Some(sub), _) => {
            let key = holder
                .keys()
                .find(|k| k.eq_ignore_ascii_case(t.attr.name))
                .cloned();
            match key.as_ref().and_then(|k| holder.get_mut(k)) {
                Some(Value::Object(o)) => {
                    remove_ci(o, sub.name);
                }
                Some(Value::Array(items)) => {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        remove_ci(item, sub.name);
                    }
                }
                _ => {}
            }
        }
    }
}

/// An operation on the values of a multi-valued attribute that match a filter.
fn filtered(
    doc: &mut Value,
    t: &Target,
    filter: &Filter,
    sub: Option<&'static Attribute>,
    op: &PatchOp,
) -> Result<(), ResourceError> {
    let value = match (&op.value, sub) {
        (Some(v), Some(s)) => Some(coerce(s, v.clone(), false)?),
        (Some(v), None) => Some(coerce(t.attr, v.clone(), false)?),
        (None, _) => None,
    };
    let holder = container(doc, t, op.op != OpKind::Remove);
    let key = holder.as_ref().and_then(|h| {
        h.keys()
            .find(|k| k.eq_ignore_ascii_case(t.attr.name))
            .cloned()
    });
    let items = match (holder, key) {
        (Some(h), Some(k)) => h.get_mut(&k).and_then(Value::as_array_mut),
        _ => None,
    };
    let Some(items) = items else {
        return match op.op {
            OpKind::Remove => Ok(()),
            _ => Err(err(
                ScimType::NoTarget,
                format!("no value of {} matches the filter", t.attr.name),
            )),
        };
    };
    let matching: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, v)| matches(filter, v, t.attr))
        .map(|(i, _)| i)
        .collect();
    if matching.is_empty() {
        return match op.op {
            OpKind::Remove => Ok(()),
            _ => Err(err(
                ScimType::NoTarget,
                format!("no value of {} matches the filter", t.attr.name),
            )),
        };
    }
    match (op.op, sub) {
        (OpKind::Remove, None) => {
            let mut i = 0;
            items.retain(|_| {
                let keep = !matching.contains(&i);
                i += 1;
                keep
            });
        }
        (OpKind::Remove, Some(s)) => {
            for &i in &matching {
                if let Some(o) = items[i].as_object_mut() {
                    remove_ci(o, s.name);
                }
            }
        }
        (_, Some(s)) => {
            let v = value.expect("add and replace carry a value");
            for &i in &matching {
                if let Some(o) = items[i].as_object_mut() {
                    remove_ci(o, s.name);
                    o.insert(s.name.to_owned(), v.clone());
                }
            }
        }
        (_, None) => {
            let v = value.expect("add and replace carry a value");
            let incoming = v.as_object().cloned().ok_or_else(|| {
                err(
                    ScimType::InvalidValue,
                    format!("a value of {} is an object", t.attr.name),
                )
            })?;
            for &i in &matching {
                if let Some(o) = items[i].as_object_mut() {
                    if op.op == OpKind::Replace {
                        o.clear();
                    }
                    for (k, v) in &incoming {
                        remove_ci(o, k);
                        o.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    keep_one_primary(items);
    Ok(())
}

/// Brings a value to the attribute's type where IdPs are known to send another spelling:
/// Entra sends booleans as `"True"` and `"False"`.
fn coerce(attr: &Attribute, value: Value, many: bool) -> Result<Value, ResourceError> {
    if many {
        return match value {
            Value::Array(a) => a
                .into_iter()
                .map(|v| coerce(attr, v, false))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            other => coerce(attr, other, false),
        };
    }
    Ok(match (attr.kind, value) {
        (AttrKind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Value::Bool(true)
        }
        (AttrKind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Value::Bool(false)
        }
        // Entra sends the enterprise `manager` as the manager's id alone; a create already
        // reads a bare string as the `value` of such an attribute (resource.rs), so PATCH
        // must too, or the IdP's default manager mapping fails on every update.
        (AttrKind::Complex, Value::String(id))
            if !attr.multi_valued && attr.sub_attribute("value").is_some() =>
        {
            serde_json::json!({ "value": id })
        }
        (AttrKind::Complex, Value::Object(o)) => {
            let mut out = Map::new();
            for (k, v) in o {
                let v = match attr.sub_attribute(&k) {
                    Some(sub) => coerce(sub, v, false)?,
                    None => v,
                };
                out.insert(k, v);
            }
            Value::Object(out)
        }
        (_, v) => v,
    })
}

/// Whether one value of a multi-valued attribute matches a filter whose paths name its
/// sub-attributes (`type eq "work"`). A plain value (a string in an array) is its `value`.
pub fn matches(filter: &Filter, element: &Value, attr: &Attribute) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, element, attr) && matches(b, element, attr),
        Filter::Or(a, b) => matches(a, element, attr) || matches(b, element, attr),
        Filter::Not(a) => !matches(a, element, attr),
        Filter::Present(p) => {
            field(element, p).is_some_and(|v| !v.is_null() && v != &Value::String(String::new()))
        }
        Filter::Compare { path, op, value } => {
            let exact = attr
                .sub_attribute(path.sub.as_deref().unwrap_or(&path.name))
                .is_some_and(|s| s.case_exact);
            field(element, path).is_some_and(|v| compare(v, *op, value, exact))
        }
        Filter::ValuePath { .. } => false,
    }
}

fn field<'a>(element: &'a Value, p: &AttrPath) -> Option<&'a Value> {
    let name = p.sub.as_deref().unwrap_or(&p.name);
    match element {
        Value::Object(o) => get_ci(o, name),
        scalar if name.eq_ignore_ascii_case("value") => Some(scalar),
        _ => None,
    }
}

fn compare(v: &Value, op: CompareOp, want: &CompValue, exact: bool) -> bool {
    use std::cmp::Ordering;
    let ordering = match (v, want) {
        (Value::Null, CompValue::Null) => Some(Ordering::Equal),
        (Value::Bool(a), CompValue::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), CompValue::Number(b)) => {
            let (a, b) = (a.as_f64(), b.parse::<f64>().ok());
            a.zip(b).and_then(|(a, b)| a.partial_cmp(&b))
        }
        (Value::String(a), CompValue::String(b)) => {
            let (a, b) = if exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            return match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
            };
        }
        _ => None,
    };
    match (op, ordering) {
        (CompareOp::Eq, Some(o)) => o == Ordering::Equal,
        (CompareOp::Ne, Some(o)) => o != Ordering::Equal,
        (CompareOp::Ne, None) => true,
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
        _ => false,
    }
}

/// The `value`s of a list of members (`[{"value": "id"}, ...]`, or one such object).
pub fn member_values(value: &Value) -> Result<Vec<String>, ResourceError> {
    let items: Vec<&Value> = match value {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![value],
        _ => {
            return Err(err(
                ScimType::InvalidValue,
                "members are a list of {\"value\": id}",
            ))
        }
    };
    items
        .into_iter()
        .map(|m| {
            m.as_object()
                .and_then(|o| get_ci(o, "value"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| err(ScimType::InvalidValue, "each member needs a value"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(doc: Value, body: Value) -> Result<Value, ResourceError> {
        let ops = parse_operations(&body)?;
        let mut doc = doc;
        apply(&mut doc, ResourceKind::User, &ops)?;
        Ok(doc)
    }

    fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP_URN], "Operations": ops})
    }

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1", "userName": "ann@example.com", "active": true,
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"value": "ann@example.com", "type": "work", "primary": true}]
        })
    }

    #[test]
    fn okta_deactivates_with_a_pathless_replace() {
        let doc = patch(
            user(),
            body(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .unwrap();
        assert_eq!(doc["active"], json!(false));
    }

    #[test]
    fn entra_sends_capitalised_ops_string_booleans_and_dotted_keys() {
        let doc = patch(
            user(),
            body(json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "value": {"name.givenName": "Anna", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42"}},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "anna@example.com"}
            ])),
        )
        .unwrap();
        assert_eq!(doc["active"], json!(false));
        assert_eq!(doc["name"]["givenName"], json!("Anna"));
        assert_eq!(doc["name"]["familyName"], json!("Lee"));
        assert_eq!(
            doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"],
            json!("42")
        );
        assert_eq!(doc["emails"][0]["value"], json!("anna@example.com"));
    }

    #[test]
    fn entra_sends_the_manager_as_a_bare_id() {
        let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        let doc = patch(
            user(),
            body(json!([{"op": "Add", "path": manager, "value": "2819c223"}])),
        )
        .unwrap();
        let ext = &doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ext["manager"], json!({"value": "2819c223"}));
        let doc = patch(
            doc,
            body(json!([{"op": "Replace", "value": {manager: "9e0d"}}])),
        )
        .unwrap();
        let ext = &doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ext["manager"], json!({"value": "9e0d"}));
    }

    #[test]
    fn multi_valued_add_appends_and_replace_replaces() {
        let doc = patch(
            user(),
            body(json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": "555", "type": "work"}]},
                         {"op": "add", "path": "phoneNumbers", "value": [{"value": "777", "type": "home"}]}])),
        )
        .unwrap();
        assert_eq!(doc["phoneNumbers"].as_array().unwrap().len(), 2);
        let doc = patch(
            doc,
            body(json!([{"op": "replace", "path": "phoneNumbers", "value": [{"value": "1"}]}])),
        )
        .unwrap();
        assert_eq!(doc["phoneNumbers"], json!([{"value": "1"}]));
    }

    #[test]
    fn remove_by_filter_takes_only_the_matching_values() {
        let doc = patch(
            json!({"emails": [{"value": "a@x.com", "type": "work"}, {"value": "b@x.com", "type": "home"}]}),
            body(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])),
        )
        .unwrap();
        assert_eq!(doc["emails"], json!([{"value": "a@x.com", "type": "work"}]));
    }

    #[test]
    fn refusals_carry_their_scim_type() {
        let cases = [
            (
                json!([{"op": "replace", "path": "nickname.nothing", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "noSuchAttribute", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "id", "value": "x"}]),
                ScimType::Mutability,
            ),
            (json!([{"op": "remove"}]), ScimType::NoTarget),
            (
                json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]),
                ScimType::NoTarget,
            ),
            (
                json!([{"op": "move", "path": "title"}]),
                ScimType::InvalidSyntax,
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
                ScimType::InvalidPath,
            ),
        ];
        for (ops, want) in cases {
            let got = patch(user(), body(ops.clone())).unwrap_err();
            assert_eq!(got.scim_type, want, "{ops}");
        }
    }

    #[test]
    fn a_null_value_unassigns_and_primary_stays_unique() {
        let doc = patch(
            user(),
            body(json!([{"op": "replace", "path": "title", "value": "Boss"}])),
        )
        .unwrap();
        let doc = patch(
            doc,
            body(json!([{"op": "replace", "path": "title", "value": null}])),
        )
        .unwrap();
        assert!(doc.get("title").is_none());
        let doc = patch(
            doc,
            body(json!([{"op": "add", "path": "emails", "value": [{"value": "b@x.com", "primary": true}]}])),
        )
        .unwrap();
        let primaries = doc["emails"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["primary"] == json!(true))
            .count();
        assert_eq!(primaries, 1);
    }

    #[test]
    fn a_path_may_name_a_whole_extension() {
        const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let doc = patch(
            user(),
            body(json!([{"op": "add", "path": EXT, "value": {"schemas": [EXT], "department": "R", "manager": {"value": "u9"}}}])),
        )
        .unwrap();
        assert_eq!(
            doc[EXT],
            json!({"department": "R", "manager": {"value": "u9"}})
        );
        // replace names the attributes it sets and leaves the others; the URN in any case.
        let doc = patch(
            doc,
            body(json!([{"op": "replace", "path": EXT.to_uppercase(), "value": {"Department": "S"}}])),
        )
        .unwrap();
        assert_eq!(
            doc[EXT],
            json!({"department": "S", "manager": {"value": "u9"}})
        );
        let doc = patch(doc, body(json!([{"op": "remove", "path": EXT}]))).unwrap();
        assert!(doc.get(EXT).is_none(), "{doc}");
        assert_eq!(doc["userName"], json!("ann@example.com"));
        // Its attributes are checked as anywhere else; a URN it does not serve names nothing.
        for (ops, want) in [
            (
                json!([{"op": "add", "path": EXT, "value": {"badge": "7"}}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "add", "path": EXT, "value": "R"}]),
                ScimType::InvalidValue,
            ),
            (
                json!([{"op": "add", "path": "urn:example:params:scim:schemas:extension:Acme:2.0:User", "value": {}}]),
                ScimType::InvalidPath,
            ),
        ] {
            assert_eq!(
                patch(user(), body(ops.clone())).unwrap_err().scim_type,
                want,
                "{ops}"
            );
        }
    }

    #[test]
    fn member_values_read_entras_removal_list() {
        assert_eq!(
            member_values(&json!([{"value": "a"}, {"value": "b"}])).unwrap(),
            vec!["a", "b"]
        );
        assert!(member_values(&json!("a")).is_err());
    }
}
