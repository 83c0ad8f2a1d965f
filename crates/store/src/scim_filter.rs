//! SCIM filters (the domain's syntax tree) translated to SQL over the `scim_users` (alias
//! `su`) and `scim_groups` (alias `sg`) tables, so a list is filtered by the database and
//! never in memory. Attributes roster keeps in columns compare there (the indexed ones,
//! `userName`, `externalId`, `displayName` of groups, use their indexes for `eq`); every
//! other attribute is read from the resource's stored JSON, with each database's JSON
//! functions (the one dialect difference here). Values are always bound, never spliced.

use roster_domain::scim::{AttrPath, CompValue, CompareOp, Filter};

use crate::scim::Condition;
use crate::sql::Arg;
use crate::Backend;

/// Why a filter cannot be translated; the adapter answers `invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterRefused(pub String);

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Which resource a filter is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Users,
    Groups,
}

/// How a value compares: as text (with or without case), a number, a flag or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text { exact: bool },
    Flag,
    Time,
}

/// Where an attribute lives.
enum Source {
    /// A column expression. `folded`: the column holds lower-cased text.
    Column {
        expr: &'static str,
        kind: Kind,
        folded: bool,
    },
    /// A single value in the stored JSON: the key path (schema object, attribute, sub).
    Json { keys: Vec<String>, kind: Kind },
    /// A multi-valued attribute in the stored JSON, compared per element on `sub` (None:
    /// the element itself, or its `value`).
    JsonArray {
        keys: Vec<String>,
        sub: Option<String>,
    },
    /// The groups a user is in (`groups.value`, `groups.display`).
    UserGroups { sub: &'static str },
    /// A group's members (`members.value`, `members.display`).
    GroupMembers { sub: &'static str },
}

/// Attributes compared case-exactly (RFC 7643 §8.7.1 marks these caseExact).
fn exact(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "id" | "externalid" | "profileurl" | "photos" | "x509certificates" | "$ref"
    )
}

fn resolve(path: &AttrPath, over: Over) -> Result<Source, FilterRefused> {
    let core = match over {
        Over::Users => USER_URN,
        Over::Groups => GROUP_URN,
    };
    let uri = path.schema(core);
    let extension = over == Over::Users && uri.eq_ignore_ascii_case(ENTERPRISE_URN);
    if !uri.eq_ignore_ascii_case(core) && !extension {
        return Err(FilterRefused(format!(
            "{path} is not an attribute of this resource type"
        )));
    }
    let text = |exact: bool| Kind::Text { exact };
    let column = |expr, kind, folded| Ok(Source::Column { expr, kind, folded });
    if !extension {
        if path.is("id") {
            return column(
                if over == Over::Users {
                    "su.id"
                } else {
                    "sg.id"
                },
                text(true),
                false,
            );
        }
        if path.is("externalId") {
            let e = if over == Over::Users {
                "su.external_id"
            } else {
                "sg.external_id"
            };
            return column(e, text(true), false);
        }
        if path.is("meta.created") {
            let e = if over == Over::Users {
                "su.created_at"
            } else {
                "sg.created_at"
            };
            return column(e, Kind::Time, false);
        }
        if path.is("meta.lastModified") {
            let e = if over == Over::Users {
                "su.updated_at"
            } else {
                "sg.updated_at"
            };
            return column(e, Kind::Time, false);
        }
        if path.is("meta.resourceType") || path.is("meta.location") || path.is("meta.version") {
            return Err(FilterRefused(format!("{path} cannot be filtered on")));
        }
    }
    match over {
        Over::Groups => {
            if path.is("displayName") {
                return column("sg.display_name", text(false), false);
            }
            if path.is("members") || path.is("members.value") {
                return Ok(Source::GroupMembers { sub: "value" });
            }
            if path.is("members.display") {
                return Ok(Source::GroupMembers { sub: "display" });
            }
            json_source(path, None)
        }
        Over::Users if extension => json_source(path, Some(ENTERPRISE_URN)),
        Over::Users => {
            if path.is("userName") {
                return column("su.user_name_folded", text(false), true);
            }
            if path.is("active") {
                return column("su.active", Kind::Flag, false);
            }
            if path.is("displayName") {
                return column("su.display_name", text(false), false);
            }
            if path.is("name.givenName") {
                return column("su.given_name", text(false), false);
            }
            if path.is("name.familyName") {
                return column("su.family_name", text(false), false);
            }
            if path.is("groups") || path.is("groups.value") {
                return Ok(Source::UserGroups { sub: "value" });
            }
            if path.is("groups.display") {
                return Ok(Source::UserGroups { sub: "display" });
            }
            if path.is("password") {
                return Err(FilterRefused("password cannot be filtered on".into()));
            }
            json_source(path, None)
        }
    }
}

/// Multi-valued attributes of the core schemas, whose values are arrays in the JSON.
const MULTI_VALUED: [&str; 9] = [
    "emails",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509certificates",
    "members",
];

/// Attribute and sub-attribute names are written as given (canonical in what roster stores),
/// and matched case-insensitively by the JSON key lookup below.
fn json_source(path: &AttrPath, schema: Option<&str>) -> Result<Source, FilterRefused> {
    if path.name.is_empty()
        || !path
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
    {
        return Err(FilterRefused(format!("{path} is not an attribute name")));
    }
    let mut keys: Vec<String> = schema.map(str::to_owned).into_iter().collect();
    keys.push(path.name.clone());
    if MULTI_VALUED.contains(&path.name.to_ascii_lowercase().as_str()) {
        return Ok(Source::JsonArray {
            keys,
            sub: path.sub.clone(),
        });
    }
    let exact = exact(&path.name);
    if let Some(sub) = &path.sub {
        keys.push(sub.clone());
    }
    Ok(Source::Json {
        keys,
        kind: Kind::Text { exact },
    })
}

/// Builds conditions, numbering bound values from `$2` (`$1` is the organization).
struct Builder {
    backend: Backend,
    over: Over,
    args: Vec<Arg>,
}

/// RFC 3339 to microseconds since the epoch, for `meta.created gt "2026-..."`.
fn micros(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_micros())
}

impl Builder {
    fn bind(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len() + 1)
    }

    fn filter(&mut self, f: &Filter) -> Result<String, FilterRefused> {
        Ok(match f {
            Filter::And(a, b) => format!("({} AND {})", self.filter(a)?, self.filter(b)?),
            Filter::Or(a, b) => format!("({} OR {})", self.filter(a)?, self.filter(b)?),
            // NULL-safe: a row whose attribute is absent matches `not (x eq 1)`.
            Filter::Not(a) => format!("(CASE WHEN {} THEN 0 ELSE 1 END = 1)", self.filter(a)?),
            Filter::Present(path) => self.present(path)?,
            Filter::Compare { path, op, value } => self.compare(path, *op, value)?,
            Filter::ValuePath { attr, filter } => self.value_path(attr, filter)?,
        })
    }

    /// The SQL text of a JSON value at `keys` inside `doc` (a JSON text expression).
    fn json_text(&self, doc: &str, keys: &[String]) -> String {
        match self.backend {
            Backend::Sqlite => {
                let path: String = keys
                    .iter()
                    .map(|k| format!(".\"{}\"", k.replace('"', "")))
                    .collect();
                format!("json_extract({doc}, '${path}')")
            }
            Backend::Postgres => {
                let path: Vec<String> = keys
                    .iter()
                    .map(|k| k.replace(['{', '}', ',', '\''], ""))
                    .collect();
                format!("(CAST({doc} AS jsonb) #>> '{{{}}}')", path.join(","))
            }
        }
    }

    fn doc(&self) -> &'static str {
        match self.over {
            Over::Users => "su.attributes",
            Over::Groups => "sg.attributes",
        }
    }

    fn present(&mut self, path: &AttrPath) -> Result<String, FilterRefused> {
        if self.over == Over::Users
            && path.is("active")
            && path.schema(USER_URN).eq_ignore_ascii_case(USER_URN)
        {
            // A PATCH may remove `active`; it is then unassigned (and not shown) while the
            // member works, so it is present when kept in the resource or when false.
            let kept = self.json_text(self.doc(), &["active".to_string()]);
            return Ok(format!("(su.active = 0 OR {kept} IS NOT NULL)"));
        }
        Ok(match resolve(path, self.over)? {
            Source::Column { expr, kind, .. } => match kind {
                Kind::Text { .. } => format!("({expr} IS NOT NULL AND {expr} <> '')"),
                _ => format!("{expr} IS NOT NULL"),
            },
            Source::Json { keys, .. } => {
                let t = self.json_text(self.doc(), &keys);
                format!("({t} IS NOT NULL AND {t} <> '')")
            }
            Source::JsonArray { keys, sub } => {
                let elem = self.element_text(sub.as_deref());
                self.exists_element(&keys, &format!("({elem} IS NOT NULL AND {elem} <> '')"))
            }
            Source::UserGroups { .. } => {
                "EXISTS (SELECT 1 FROM scim_group_members gm WHERE gm.user_id = su.id)".into()
            }
            Source::GroupMembers { .. } => {
                "EXISTS (SELECT 1 FROM scim_group_members gm WHERE gm.group_id = sg.id)".into()
            }
        })
    }

    /// The text of the current array element (`e`), or of its `sub` key.
    fn element_text(&self, sub: Option<&str>) -> String {
        let sub = sub
            .unwrap_or("value")
            .replace(['"', '\'', '{', '}', ','], "");
        match self.backend {
            // A scalar element (a plain string array) is its own value.
            Backend::Sqlite => format!(
                "(CASE WHEN e.type = 'object' THEN json_extract(e.value, '$.\"{sub}\"') ELSE e.value END)"
            ),
            Backend::Postgres => format!(
                "(CASE WHEN jsonb_typeof(e.value) = 'object' THEN e.value ->> '{sub}' ELSE e.value #>> '{{}}' END)"
            ),
        }
    }

    /// `EXISTS` an element of the JSON array at `keys` for which `cond` holds.
    fn exists_element(&self, keys: &[String], cond: &str) -> String {
        let doc = self.doc();
        match self.backend {
            Backend::Sqlite => {
                let path: String = keys
                    .iter()
                    .map(|k| format!(".\"{}\"", k.replace('"', "")))
                    .collect();
                format!("EXISTS (SELECT 1 FROM json_each({doc}, '${path}') e WHERE {cond})")
            }
            Backend::Postgres => {
                let path: Vec<String> = keys
                    .iter()
                    .map(|k| k.replace(['{', '}', ',', '\''], ""))
                    .collect();
                format!(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(CAST({doc} AS jsonb) #> '{{{p}}}') = 'array' THEN CAST({doc} AS jsonb) #> '{{{p}}}' ELSE '[]'::jsonb END) e WHERE {cond})",
                    p = path.join(",")
                )
            }
        }
    }

    fn compare(
        &mut self,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<String, FilterRefused> {
        match resolve(path, self.over)? {
            Source::Column { expr, kind, folded } => self.scalar(expr, kind, folded, op, value),
            Source::Json { keys, kind } => {
                let t = self.json_text(self.doc(), &keys);
                self.scalar(&t, kind, false, op, value)
            }
            Source::JsonArray { keys, sub } => {
                let elem = self.element_text(sub.as_deref());
                let exact = sub.as_deref().is_some_and(exact);
                let cond = self.scalar(&elem, Kind::Text { exact }, false, op, value)?;
                let mut sql = self.exists_element(&keys, &cond);
                // A user's address is also its `email` column (what roster matches accounts by).
                let emails = self.over == Over::Users
                    && path.is("emails")
                    && sub
                        .as_deref()
                        .is_none_or(|s| s.eq_ignore_ascii_case("value"));
                if emails {
                    let column =
                        self.scalar("su.email", Kind::Text { exact: false }, true, op, value)?;
                    sql = format!("({sql} OR {column})");
                }
                Ok(sql)
            }
            Source::UserGroups { sub } => {
                let expr = if sub == "value" {
                    "sg2.id"
                } else {
                    "sg2.display_name"
                };
                let cond = self.scalar(
                    expr,
                    Kind::Text {
                        exact: sub == "value",
                    },
                    false,
                    op,
                    value,
                )?;
                Ok(format!(
                    "EXISTS (SELECT 1 FROM scim_group_members gm JOIN scim_groups sg2 ON sg2.id = gm.group_id WHERE gm.user_id = su.id AND {cond})"
                ))
            }
            Source::GroupMembers { sub } => {
                let expr = if sub == "value" {
                    "su2.id"
                } else {
                    "su2.user_name"
                };
                let cond = self.scalar(
                    expr,
                    Kind::Text {
                        exact: sub == "value",
                    },
                    false,
                    op,
                    value,
                )?;
                Ok(format!(
                    "EXISTS (SELECT 1 FROM scim_group_members gm JOIN scim_users su2 ON su2.id = gm.user_id WHERE gm.group_id = sg.id AND {cond})"
                ))
            }
        }
    }

    /// `attr[filter]`: an element of a multi-valued attribute matches the inner filter,
    /// whose paths name the element's sub-attributes.
    fn value_path(&mut self, attr: &AttrPath, inner: &Filter) -> Result<String, FilterRefused> {
        match resolve(attr, self.over)? {
            Source::JsonArray { keys, .. } => {
                let cond = self.element_filter(inner)?;
                Ok(self.exists_element(&keys, &cond))
            }
            Source::UserGroups { .. } | Source::GroupMembers { .. } => {
                // `members[value eq "x"]` is `members.value eq "x"`.
                let rewritten = prefix(inner, attr)?;
                self.filter(&rewritten)
            }
            _ => Err(FilterRefused(format!("{attr} is not multi-valued"))),
        }
    }

    /// A filter over one array element `e`.
    fn element_filter(&mut self, f: &Filter) -> Result<String, FilterRefused> {
        Ok(match f {
            Filter::And(a, b) => format!(
                "({} AND {})",
                self.element_filter(a)?,
                self.element_filter(b)?
            ),
            Filter::Or(a, b) => format!(
                "({} OR {})",
                self.element_filter(a)?,
                self.element_filter(b)?
            ),
            Filter::Not(a) => format!(
                "(CASE WHEN {} THEN 0 ELSE 1 END = 1)",
                self.element_filter(a)?
            ),
            Filter::Present(p) => {
                let t = self.element_text(Some(&sub_name(p)?));
                format!("({t} IS NOT NULL AND {t} <> '')")
            }
            Filter::Compare { path, op, value } => {
                let sub = sub_name(path)?;
                let t = self.element_text(Some(&sub));
                if sub.eq_ignore_ascii_case("primary") {
                    return self.element_flag(&sub, *op, value);
                }
                self.scalar(&t, Kind::Text { exact: exact(&sub) }, false, *op, value)?
            }
            Filter::ValuePath { .. } => {
                return Err(FilterRefused("value paths do not nest".into()));
            }
        })
    }

    /// A boolean sub-attribute of an element (`primary eq true`).
    fn element_flag(
        &mut self,
        sub: &str,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<String, FilterRefused> {
        let CompValue::Bool(b) = value else {
            return Err(FilterRefused(format!("{sub} compares with true or false")));
        };
        let t = match self.backend {
            Backend::Sqlite => format!("json_extract(e.value, '$.\"{sub}\"')"),
            Backend::Postgres => format!("(e.value ->> '{sub}')"),
        };
        let want = match self.backend {
            Backend::Sqlite => {
                if *b {
                    "1"
                } else {
                    "0"
                }
            }
            Backend::Postgres => {
                if *b {
                    "'true'"
                } else {
                    "'false'"
                }
            }
        };
        match op {
            CompareOp::Eq => Ok(format!("{t} = {want}")),
            CompareOp::Ne => Ok(format!("({t} IS NULL OR {t} <> {want})")),
            _ => Err(FilterRefused(format!("{sub} compares only with eq and ne"))),
        }
    }

    /// One comparison of a scalar SQL expression.
    fn scalar(
        &mut self,
        expr: &str,
        kind: Kind,
        folded: bool,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<String, FilterRefused> {
        use CompareOp::*;
        if let CompValue::Null = value {
            return match op {
                Eq => Ok(format!("{expr} IS NULL")),
                Ne => Ok(format!("{expr} IS NOT NULL")),
                _ => Err(FilterRefused(format!(
                    "{} null is not a comparison",
                    op.keyword()
                ))),
            };
        }
        match kind {
            Kind::Flag => {
                let b = match value {
                    CompValue::Bool(b) => *b,
                    CompValue::String(s) if s.eq_ignore_ascii_case("true") => true,
                    CompValue::String(s) if s.eq_ignore_ascii_case("false") => false,
                    _ => return Err(FilterRefused("active compares with true or false".into())),
                };
                let v = self.bind(b);
                match op {
                    Eq => Ok(format!("{expr} = {v}")),
                    Ne => Ok(format!("{expr} <> {v}")),
                    _ => Err(FilterRefused(format!(
                        "{} does not compare booleans",
                        op.keyword()
                    ))),
                }
            }
            Kind::Time => {
                let CompValue::String(s) = value else {
                    return Err(FilterRefused(
                        "a time compares with an RFC 3339 string".into(),
                    ));
                };
                let t = micros(s)
                    .ok_or_else(|| FilterRefused(format!("{s:?} is not an RFC 3339 time")))?;
                let v = self.bind(t);
                let sql_op = match op {
                    Eq => "=",
                    Ne => "<>",
                    Gt => ">",
                    Ge => ">=",
                    Lt => "<",
                    Le => "<=",
                    _ => {
                        return Err(FilterRefused(format!(
                            "{} does not compare times",
                            op.keyword()
                        )))
                    }
                };
                Ok(format!("{expr} {sql_op} {v}"))
            }
            Kind::Text { exact } => {
                let raw = match value {
                    CompValue::String(s) => s.clone(),
                    CompValue::Number(n) => n.clone(),
                    CompValue::Bool(b) => b.to_string(),
                    CompValue::Null => unreachable!("handled above"),
                };
                // Case-insensitive attributes compare lower-cased on both sides (a folded
                // column is lower-cased already, so its index serves `eq`).
                let (lhs, needle) = if exact {
                    (expr.to_string(), raw)
                } else if folded {
                    (expr.to_string(), raw.to_lowercase())
                } else {
                    (format!("LOWER({expr})"), raw.to_lowercase())
                };
                let position = |b: &Self, hay: &str, v: &str| match b.backend {
                    Backend::Sqlite => format!("instr({hay}, {v})"),
                    Backend::Postgres => format!("strpos({hay}, {v})"),
                };
                let len = |b: &Self, s: &str| match b.backend {
                    Backend::Sqlite => format!("length({s})"),
                    Backend::Postgres => format!("char_length({s})"),
                };
                Ok(match op {
                    Eq => format!("{lhs} = {}", self.bind(needle)),
                    Ne => format!("({lhs} IS NULL OR {lhs} <> {})", self.bind(needle)),
                    Co => {
                        let v = self.bind(needle);
                        format!("{} > 0", position(self, &lhs, &v))
                    }
                    Sw => {
                        let v = self.bind(needle);
                        format!("substr({lhs}, 1, {}) = {v}", len(self, &v))
                    }
                    Ew => {
                        let v = self.bind(needle);
                        let n = len(self, &v);
                        let m = len(self, &lhs);
                        format!("({m} >= {n} AND substr({lhs}, {m} - {n} + 1) = {v})")
                    }
                    Gt => format!("{lhs} > {}", self.bind(needle)),
                    Ge => format!("{lhs} >= {}", self.bind(needle)),
                    Lt => format!("{lhs} < {}", self.bind(needle)),
                    Le => format!("{lhs} <= {}", self.bind(needle)),
                })
            }
        }
    }
}

/// The sub-attribute a path inside a value filter names (`type`, or `emails.type`).
fn sub_name(path: &AttrPath) -> Result<String, FilterRefused> {
    match &path.sub {
        None => Ok(path.name.clone()),
        Some(sub) => Ok(sub.clone()),
    }
}

/// `members[value eq "x"]` rewritten as `members.value eq "x"`.
fn prefix(f: &Filter, attr: &AttrPath) -> Result<Filter, FilterRefused> {
    let re = |p: &AttrPath| AttrPath {
        uri: attr.uri.clone(),
        name: attr.name.clone(),
        sub: Some(p.name.clone()),
    };
    Ok(match f {
        Filter::And(a, b) => Filter::And(Box::new(prefix(a, attr)?), Box::new(prefix(b, attr)?)),
        Filter::Or(a, b) => Filter::Or(Box::new(prefix(a, attr)?), Box::new(prefix(b, attr)?)),
        Filter::Not(a) => Filter::Not(Box::new(prefix(a, attr)?)),
        Filter::Present(p) => Filter::Present(re(p)),
        Filter::Compare { path, op, value } => Filter::Compare {
            path: re(path),
            op: *op,
            value: value.clone(),
        },
        Filter::ValuePath { .. } => return Err(FilterRefused("value paths do not nest".into())),
    })
}

/// The SQL condition of a filter over users or groups.
pub fn condition(
    filter: &Filter,
    over: Over,
    backend: Backend,
) -> Result<Condition, FilterRefused> {
    let mut b = Builder {
        backend,
        over,
        args: Vec::new(),
    };
    let sql = b.filter(filter)?;
    Ok(Condition { sql, args: b.args })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(filter: &str, over: Over, backend: Backend) -> Result<(String, usize), FilterRefused> {
        let f: Filter = filter.parse().expect("a filter");
        condition(&f, over, backend).map(|c| (c.sql, c.args.len()))
    }

    #[test]
    fn indexed_attributes_compare_on_their_columns_with_bound_values() {
        let (s, n) = sql("userName eq \"A@B.C\"", Over::Users, Backend::Sqlite).unwrap();
        assert_eq!((s.as_str(), n), ("su.user_name_folded = $2", 1));
        let (s, _) = sql("externalId eq \"x\"", Over::Users, Backend::Postgres).unwrap();
        assert_eq!(s, "su.external_id = $2");
        let (s, _) = sql("displayName eq \"Ops\"", Over::Groups, Backend::Sqlite).unwrap();
        assert_eq!(s, "LOWER(sg.display_name) = $2");
    }

    #[test]
    fn logic_nests_and_numbers_values_in_order() {
        let (s, n) = sql(
            "userName sw \"a\" and (active eq true or not (title pr))",
            Over::Users,
            Backend::Sqlite,
        )
        .unwrap();
        assert_eq!(n, 2);
        assert!(
            s.starts_with("(substr(su.user_name_folded, 1, length($2)) = $2 AND ("),
            "{s}"
        );
        assert!(s.contains("su.active = $3"), "{s}");
        assert!(
            s.contains("json_extract(su.attributes, '$.\"title\"')"),
            "{s}"
        );
    }

    #[test]
    fn value_paths_look_inside_the_array_on_each_database() {
        let f = "emails[type eq \"work\" and value co \"@example\"]";
        let (s, n) = sql(f, Over::Users, Backend::Sqlite).unwrap();
        assert_eq!(n, 2);
        assert!(
            s.contains("json_each(su.attributes, '$.\"emails\"')"),
            "{s}"
        );
        let (s, _) = sql(f, Over::Users, Backend::Postgres).unwrap();
        assert!(s.contains("jsonb_array_elements"), "{s}");
        let (s, _) = sql("members[value eq \"abc\"]", Over::Groups, Backend::Sqlite).unwrap();
        assert!(s.contains("scim_group_members"), "{s}");
    }

    #[test]
    fn refused_filters_say_why() {
        assert!(sql("password eq \"x\"", Over::Users, Backend::Sqlite).is_err());
        assert!(sql("active gt true", Over::Users, Backend::Sqlite).is_err());
        assert!(sql(
            "meta.created gt \"yesterday\"",
            Over::Users,
            Backend::Sqlite
        )
        .is_err());
        assert!(sql(
            "urn:example:other:name eq \"x\"",
            Over::Users,
            Backend::Sqlite
        )
        .is_err());
        assert!(sql(
            "meta.created gt \"2026-01-01T00:00:00Z\"",
            Over::Users,
            Backend::Sqlite
        )
        .is_ok());
    }
}
