//! The query parameters of SCIM list and search requests (RFC 7644 §3.4.2): `filter`,
//! `startIndex`, `count`, `sortBy`, `sortOrder`, `attributes`, `excludedAttributes`, from the
//! URL of a GET or the body of a POST `/.search`.

use roster_domain::scim::Filter;
use roster_service::store::scim::{ScimOrder, SortKey};
use roster_service::store::scim_filter::Over;
use serde_json::Value;

use super::protocol::{ScimError, ScimResult};

/// A filter parameter parsed by the domain's grammar (`invalidFilter` when it is not one).
pub fn filter(text: Option<&str>) -> ScimResult<Option<Filter>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse::<Filter>()
            .map(Some)
            .map_err(|e| ScimError::bad("invalidFilter", e.to_string())),
    }
}

/// The order of a list from `sortBy` and `sortOrder`; a key the resource type does not
/// have is `invalidValue`.
pub fn order(sort_by: Option<&str>, descending: bool, over: Over) -> ScimResult<ScimOrder> {
    let by = match sort_by.map(|s| s.trim().to_ascii_lowercase()) {
        None => SortKey::Created,
        Some(s) => {
            let bare = s
                .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:")
                .or_else(|| s.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:group:"))
                .unwrap_or(&s);
            let key = match bare {
                "" | "id" | "meta.created" => Some(SortKey::Created),
                "username" => Some(SortKey::UserName),
                "externalid" => Some(SortKey::ExternalId),
                "name.givenname" => Some(SortKey::GivenName),
                "name.familyname" => Some(SortKey::FamilyName),
                "displayname" => Some(SortKey::DisplayName),
                "meta.lastmodified" => Some(SortKey::LastModified),
                _ => None,
            };
            match key.filter(|k| k.applies_to(over)) {
                Some(k) => k,
                None => {
                    let kind = match over {
                        Over::Users => "Users",
                        Over::Groups => "Groups",
                    };
                    return Err(ScimError::bad(
                        "invalidValue",
                        format!("{kind} cannot be sorted by {bare:?}"),
                    ));
                }
            }
        }
    };
    Ok(ScimOrder { by, descending })
}

/// Results per page at most (`filter.maxResults` in ServiceProviderConfig).
pub const MAX_RESULTS: i64 = 1000;

/// A list request as the client asked for it.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<String>,
    /// 1-based, as SCIM counts.
    pub start_index: i64,
    pub count: i64,
    pub sort_by: Option<String>,
    pub descending: bool,
    pub attributes: Option<Vec<String>>,
    pub excluded: Option<Vec<String>>,
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn number(name: &str, value: &str) -> ScimResult<i64> {
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| ScimError::bad("invalidValue", format!("{name} must be an integer")))
}

impl ListQuery {
    /// From a request's raw query string.
    pub fn from_raw(raw: Option<String>) -> ScimResult<ListQuery> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
            .map_err(|_| ScimError::bad("invalidValue", "the query string is malformed"))?;
        ListQuery::from_pairs(&pairs)
    }

    /// From a URL's query string (names compared case-insensitively, as IdPs vary).
    pub fn from_pairs(pairs: &[(String, String)]) -> ScimResult<ListQuery> {
        let mut q = ListQuery {
            start_index: 1,
            count: MAX_RESULTS,
            ..ListQuery::default()
        };
        let mut count = None;
        for (k, v) in pairs {
            match k.to_ascii_lowercase().as_str() {
                "filter" => q.filter = Some(v.clone()),
                "startindex" => q.start_index = number("startIndex", v)?,
                "count" => count = Some(number("count", v)?),
                "sortby" => q.sort_by = Some(v.clone()),
                "sortorder" => q.descending = sort_order(v)?,
                "attributes" => q.attributes = Some(list(v)),
                "excludedattributes" => q.excluded = Some(list(v)),
                _ => {}
            }
        }
        q.finish(count)
    }

    /// From a `/.search` body (RFC 7644 §3.4.3).
    pub fn from_search_body(body: &Value) -> ScimResult<ListQuery> {
        let mut q = ListQuery {
            start_index: 1,
            count: MAX_RESULTS,
            ..ListQuery::default()
        };
        let text = |v: &Value, name: &str| -> ScimResult<String> {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| ScimError::bad("invalidValue", format!("{name} must be a string")))
        };
        let strings = |v: &Value, name: &str| -> ScimResult<Vec<String>> {
            match v {
                Value::Array(a) => a.iter().map(|x| text(x, name)).collect(),
                Value::String(s) => Ok(list(s)),
                _ => Err(ScimError::bad(
                    "invalidValue",
                    format!("{name} must be a list of names"),
                )),
            }
        };
        let int = |v: &Value, name: &str| -> ScimResult<i64> {
            v.as_i64()
                .ok_or_else(|| ScimError::bad("invalidValue", format!("{name} must be an integer")))
        };
        let mut count = None;
        if let Some(obj) = body.as_object() {
            for (k, v) in obj {
                match k.to_ascii_lowercase().as_str() {
                    "filter" => q.filter = Some(text(v, "filter")?),
                    "startindex" => q.start_index = int(v, "startIndex")?,
                    "count" => count = Some(int(v, "count")?),
                    "sortby" => q.sort_by = Some(text(v, "sortBy")?),
                    "sortorder" => q.descending = sort_order(&text(v, "sortOrder")?)?,
                    "attributes" => q.attributes = Some(strings(v, "attributes")?),
                    "excludedattributes" => q.excluded = Some(strings(v, "excludedAttributes")?),
                    _ => {}
                }
            }
        }
        q.finish(count)
    }

    /// RFC 7644 §3.4.2.4: a startIndex below 1 is 1; a negative count is 0; above the
    /// maximum, the maximum.
    fn finish(mut self, count: Option<i64>) -> ScimResult<ListQuery> {
        self.start_index = self.start_index.max(1);
        self.count = count.unwrap_or(MAX_RESULTS).clamp(0, MAX_RESULTS);
        Ok(self)
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        self.start_index - 1
    }
}

fn sort_order(v: &str) -> ScimResult<bool> {
    match v.to_ascii_lowercase().as_str() {
        "ascending" | "" => Ok(false),
        "descending" => Ok(true),
        _ => Err(ScimError::bad(
            "invalidValue",
            "sortOrder is \"ascending\" or \"descending\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn paging_follows_the_rfc_for_out_of_range_values() {
        let q = ListQuery::from_pairs(&pairs(&[("startIndex", "0"), ("count", "-5")])).unwrap();
        assert_eq!((q.start_index, q.count, q.offset()), (1, 0, 0));
        let q = ListQuery::from_pairs(&pairs(&[("startIndex", "3"), ("count", "99999")])).unwrap();
        assert_eq!((q.start_index, q.count, q.offset()), (3, MAX_RESULTS, 2));
        assert!(ListQuery::from_pairs(&pairs(&[("count", "ten")])).is_err());
    }

    #[test]
    fn names_are_case_insensitive_and_lists_are_split() {
        let q = ListQuery::from_pairs(&pairs(&[
            ("ExcludedAttributes", "members, meta"),
            ("SORTORDER", "descending"),
        ]))
        .unwrap();
        assert_eq!(q.excluded.unwrap(), vec!["members", "meta"]);
        assert!(q.descending);
    }

    #[test]
    fn a_search_body_reads_like_the_url() {
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName eq \"a@b.c\"", "startIndex": 2, "count": 10,
            "attributes": ["userName"]
        });
        let q = ListQuery::from_search_body(&body).unwrap();
        assert_eq!(q.filter.as_deref(), Some("userName eq \"a@b.c\""));
        assert_eq!((q.start_index, q.count), (2, 10));
        assert_eq!(q.attributes.unwrap(), vec!["userName"]);
    }
}
