//! The discovery documents (RFC 7644 §4: /ServiceProviderConfig, /ResourceTypes, /Schemas),
//! rendered from the schema tables so that what we advertise is exactly what we check.

use serde_json::{json, Value};

use super::schema::{self, Attribute, ResourceKind, Schema, SCHEMAS};

const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SERVICE_PROVIDER_CONFIG_URN: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// The limits we enforce and therefore advertise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScimLimits {
    pub bulk_max_operations: usize,
    pub bulk_max_payload_bytes: u64,
    pub filter_max_results: usize,
}

/// `/Schemas`: every schema we serve, as a ListResponse. `base` is the SCIM base URL
/// (`https://host/scim/v2`).
pub fn schemas_document(base: &str) -> Value {
    list(SCHEMAS.iter().map(|s| render_schema(s, base)).collect())
}

/// `/Schemas/{urn}`, or `None` for a schema we do not serve.
pub fn schema_document(urn: &str, base: &str) -> Option<Value> {
    schema::schema(urn).map(|s| render_schema(s, base))
}

/// `/ResourceTypes`: User (with the optional enterprise extension) and Group.
pub fn resource_types_document(base: &str) -> Value {
    list(
        ResourceKind::ALL
            .iter()
            .map(|r| render_resource_type(*r, base))
            .collect(),
    )
}

/// `/ResourceTypes/{name}`, case-insensitively, or `None`.
pub fn resource_type_document(name: &str, base: &str) -> Option<Value> {
    ResourceKind::ALL
        .into_iter()
        .find(|r| r.name().eq_ignore_ascii_case(name))
        .map(|r| render_resource_type(r, base))
}

/// `/ServiceProviderConfig` (RFC 7643 §5): what we support, with the limits we enforce.
pub fn service_provider_config(limits: &ScimLimits, base: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "patch": { "supported": true },
        "bulk": {
            "supported": true,
            "maxOperations": limits.bulk_max_operations,
            "maxPayloadSize": limits.bulk_max_payload_bytes,
        },
        "filter": { "supported": true, "maxResults": limits.filter_max_results },
        // An identity provider cannot change a password we do not keep.
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token the organization creates for its identity provider, \
                            sent as Authorization: Bearer <token>.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", trim(base)),
        },
    })
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

fn trim(base: &str) -> &str {
    base.trim_end_matches('/')
}

fn render_schema(schema: &Schema, base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_URN],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(render_attribute).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", trim(base), schema.id),
        },
    })
}

/// One attribute as RFC 7643 §7 lists it; the optional lists appear only when they say
/// something.
fn render_attribute(a: &Attribute) -> Value {
    let mut v = json!({
        "name": a.name,
        "type": a.kind.as_str(),
        "multiValued": a.multi_valued,
        "description": a.description,
        "required": a.required,
        "caseExact": a.case_exact,
        "mutability": a.mutability.as_str(),
        "returned": a.returned.as_str(),
        "uniqueness": a.uniqueness.as_str(),
    });
    if !a.canonical_values.is_empty() {
        v["canonicalValues"] = json!(a.canonical_values);
    }
    if !a.reference_types.is_empty() {
        v["referenceTypes"] = json!(a.reference_types);
    }
    if !a.sub_attributes.is_empty() {
        v["subAttributes"] = a.sub_attributes.iter().map(render_attribute).collect();
    }
    v
}

fn render_resource_type(resource: ResourceKind, base: &str) -> Value {
    let mut v = json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": resource.name(),
        "name": resource.name(),
        "endpoint": resource.endpoint(),
        "description": resource.core_schema().description,
        "schema": resource.core_schema().id,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", trim(base), resource.name()),
        },
    });
    if !resource.extensions().is_empty() {
        v["schemaExtensions"] = resource
            .extensions()
            .iter()
            .map(|s| json!({ "schema": s.id, "required": false }))
            .collect();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{AttrKind, Mutability, Returned, Uniqueness};

    const BASE: &str = "https://roster.test/scim/v2/";

    fn by_name<'a>(list: &'a Value, name: &str) -> &'a Value {
        list.as_array()
            .expect("a list")
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} is missing"))
    }

    /// Reads the flags back from the JSON and compares them with the table row.
    fn assert_round_trips(a: &Attribute, v: &Value, at: &str) {
        let kinds = [
            AttrKind::String,
            AttrKind::Boolean,
            AttrKind::Decimal,
            AttrKind::Integer,
            AttrKind::DateTime,
            AttrKind::Reference,
            AttrKind::Complex,
            AttrKind::Binary,
        ];
        let mutabilities = [
            Mutability::ReadOnly,
            Mutability::ReadWrite,
            Mutability::Immutable,
            Mutability::WriteOnly,
        ];
        let returns = [
            Returned::Always,
            Returned::Never,
            Returned::Default,
            Returned::Request,
        ];
        let uniques = [Uniqueness::None, Uniqueness::Server, Uniqueness::Global];
        let kind = kinds.into_iter().find(|k| v["type"] == k.as_str());
        let mutability = mutabilities
            .into_iter()
            .find(|m| v["mutability"] == m.as_str());
        let returned = returns.into_iter().find(|r| v["returned"] == r.as_str());
        let uniqueness = uniques.into_iter().find(|u| v["uniqueness"] == u.as_str());
        assert_eq!(kind, Some(a.kind), "{at}");
        assert_eq!(mutability, Some(a.mutability), "{at}");
        assert_eq!(returned, Some(a.returned), "{at}");
        assert_eq!(uniqueness, Some(a.uniqueness), "{at}");
        assert_eq!(v["multiValued"].as_bool(), Some(a.multi_valued), "{at}");
        assert_eq!(v["required"].as_bool(), Some(a.required), "{at}");
        assert_eq!(v["caseExact"].as_bool(), Some(a.case_exact), "{at}");
        assert!(v["description"].as_str().is_some_and(|d| !d.is_empty()));
        let strings = |key: &str| -> Vec<String> {
            v.get(key)
                .map(|l| serde_json::from_value(l.clone()).unwrap())
                .unwrap_or_default()
        };
        assert_eq!(strings("canonicalValues"), a.canonical_values, "{at}");
        assert_eq!(strings("referenceTypes"), a.reference_types, "{at}");
        let subs = v
            .get("subAttributes")
            .map_or(0, |s| s.as_array().unwrap().len());
        assert_eq!(subs, a.sub_attributes.len(), "{at}");
        for sub in a.sub_attributes {
            let sv = by_name(&v["subAttributes"], sub.name);
            assert_round_trips(sub, sv, &format!("{at}.{}", sub.name));
        }
    }

    #[test]
    fn every_table_attribute_is_served_with_its_flags() {
        let doc = schemas_document(BASE);
        assert_eq!(doc["totalResults"], SCHEMAS.len());
        for schema in SCHEMAS {
            let served = doc["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == schema.id)
                .expect(schema.id);
            assert_eq!(served["meta"]["resourceType"], "Schema");
            assert_eq!(
                served["meta"]["location"],
                format!("https://roster.test/scim/v2/Schemas/{}", schema.id)
            );
            let attributes = served["attributes"].as_array().unwrap();
            assert_eq!(attributes.len(), schema.attributes.len(), "{}", schema.id);
            for a in schema.attributes {
                assert_round_trips(a, by_name(&served["attributes"], a.name), a.name);
            }
            assert_eq!(schema_document(schema.id, BASE).as_ref(), Some(served));
        }
    }

    #[test]
    fn one_schema_is_found_by_urn_and_others_are_not() {
        let upper = schema::GROUP_URN.to_uppercase();
        assert_eq!(
            schema_document(&upper, BASE).unwrap()["id"],
            schema::GROUP_URN
        );
        assert_eq!(schema_document(SCHEMA_URN, BASE), None);
    }

    #[test]
    fn the_user_resource_type_offers_the_enterprise_extension_as_optional() {
        let doc = resource_types_document(BASE);
        assert_eq!(doc["totalResults"], 2);
        let user = resource_type_document("user", BASE).unwrap();
        assert_eq!(user["endpoint"], "/Users");
        assert_eq!(user["schema"], schema::USER_URN);
        assert_eq!(
            user["schemaExtensions"],
            json!([{ "schema": schema::ENTERPRISE_USER_URN, "required": false }])
        );
        assert_eq!(
            user["meta"]["location"],
            "https://roster.test/scim/v2/ResourceTypes/User"
        );
        let group = resource_type_document("Group", BASE).unwrap();
        assert_eq!(group["endpoint"], "/Groups");
        assert_eq!(group.get("schemaExtensions"), None);
        assert_eq!(doc["Resources"], json!([user, group]));
        assert_eq!(resource_type_document("Agent", BASE), None);
    }

    #[test]
    fn the_service_provider_config_advertises_our_limits() {
        let limits = ScimLimits {
            bulk_max_operations: 100,
            bulk_max_payload_bytes: 1_048_576,
            filter_max_results: 200,
        };
        let doc = service_provider_config(&limits, "https://roster.test/scim/v2");
        assert_eq!(
            doc["bulk"],
            json!({ "supported": true, "maxOperations": 100, "maxPayloadSize": 1_048_576 })
        );
        assert_eq!(
            doc["filter"],
            json!({ "supported": true, "maxResults": 200 })
        );
        for (feature, supported) in [
            ("patch", true),
            ("changePassword", false),
            ("sort", true),
            ("etag", true),
        ] {
            assert_eq!(doc[feature]["supported"], supported, "{feature}");
        }
        let schemes = doc["authenticationSchemes"].as_array().unwrap();
        assert_eq!(schemes.len(), 1);
        assert_eq!(schemes[0]["type"], "oauthbearertoken");
        assert_eq!(
            doc["meta"]["location"],
            "https://roster.test/scim/v2/ServiceProviderConfig"
        );
    }
}
