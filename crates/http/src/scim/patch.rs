//! PATCH requests: the operations are the domain's (`scim::patch`); a Group's member
//! operations are taken out and sent to the service as additions and removals, so a large
//! group is never read whole.

use roster_domain::scim::patch::{self, member_values, OpKind, PatchOp};
use roster_domain::scim::schema::ResourceKind;
use roster_domain::scim::PatchPath;
use roster_service::scim::MemberChange;
use serde_json::Value;

use super::protocol::{ScimError, ScimResult};
use super::users::invalid;

pub fn operations(body: &Value) -> ScimResult<Vec<PatchOp>> {
    patch::parse_operations(body).map_err(invalid)
}

pub fn apply(doc: &mut Value, kind: ResourceKind, ops: &[PatchOp]) -> ScimResult<()> {
    patch::apply(doc, kind, ops).map_err(invalid)
}

/// A Group PATCH split in two: the document with every other change applied, and the member
/// changes in order.
pub struct GroupPatch {
    pub document: Value,
    pub members: Vec<MemberChange>,
    pub renamed: bool,
    /// Whether an operation names anything but the members.
    pub touches_attributes: bool,
}

fn names_members(path: &roster_domain::scim::AttrPath) -> bool {
    path.is("members")
}

/// The member `value`s a filter like `value eq "a" or value eq "b"` selects.
fn filtered_values(filter: &roster_domain::scim::Filter) -> ScimResult<Vec<String>> {
    use roster_domain::scim::{CompValue, CompareOp, Filter};
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(v),
        } if path.is("value") => Ok(vec![v.clone()]),
        Filter::Or(a, b) => {
            let mut out = filtered_values(a)?;
            out.extend(filtered_values(b)?);
            Ok(out)
        }
        _ => Err(ScimError::bad(
            "invalidFilter",
            "members are selected by value: members[value eq \"id\"]",
        )),
    }
}

pub fn apply_to_group(mut doc: Value, ops: &[PatchOp]) -> ScimResult<GroupPatch> {
    let before = doc.get("displayName").cloned();
    let mut members = Vec::new();
    let mut rest = Vec::new();
    for op in ops {
        match (&op.path, op.op) {
            (Some(PatchPath::Attr(p)), kind) if names_members(p) && p.sub.is_none() => {
                match (kind, &op.value) {
                    (OpKind::Add, Some(v)) => members.push(MemberChange::Add(member_ids(v)?)),
                    (OpKind::Replace, Some(v)) => {
                        members.push(MemberChange::Replace(member_ids(v)?))
                    }
                    (OpKind::Remove, Some(v)) if !v.is_null() => {
                        members.push(MemberChange::Remove(member_ids(v)?))
                    }
                    (OpKind::Remove, _) => members.push(MemberChange::RemoveAll),
                    _ => return Err(ScimError::bad("invalidValue", "members needs a value")),
                }
            }
            (
                Some(PatchPath::Value {
                    attr,
                    filter,
                    sub: None,
                }),
                OpKind::Remove,
            ) if names_members(attr) => {
                members.push(MemberChange::Remove(filtered_values(filter)?));
            }
            (Some(path), _) if names_members(path.attr()) => {
                return Err(ScimError::bad(
                    "invalidPath",
                    "members are added, replaced or removed whole, or removed by value",
                ));
            }
            (None, kind @ (OpKind::Add | OpKind::Replace)) => {
                // A path-less value may carry members beside other attributes.
                let mut value = op.value.clone().unwrap_or(Value::Null);
                if let Some(obj) = value.as_object_mut() {
                    let key = obj
                        .keys()
                        .find(|k| k.eq_ignore_ascii_case("members"))
                        .cloned();
                    if let Some(list) = key.and_then(|k| obj.remove(&k)) {
                        let ids = member_ids(&list)?;
                        members.push(if kind == OpKind::Add {
                            MemberChange::Add(ids)
                        } else {
                            MemberChange::Replace(ids)
                        });
                    }
                    if obj.is_empty() {
                        continue;
                    }
                }
                rest.push(PatchOp {
                    op: kind,
                    path: None,
                    value: Some(value),
                });
            }
            _ => rest.push(op.clone()),
        }
    }
    patch::apply(&mut doc, ResourceKind::Group, &rest).map_err(invalid)?;
    let renamed = doc.get("displayName").cloned() != before;
    Ok(GroupPatch {
        document: doc,
        members,
        renamed,
        touches_attributes: !rest.is_empty(),
    })
}

fn member_ids(v: &Value) -> ScimResult<Vec<String>> {
    member_values(v).map_err(invalid)
}
