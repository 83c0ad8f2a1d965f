//! PATCH paths (RFC 7644 §3.5.2): which attribute, or which values of a multi-valued one, a
//! PATCH operation changes. The SCIM adapter turns a [`PathError`] into `invalidPath`.

use std::fmt;
use std::str::FromStr;

use winnow::ascii::space0;
use winnow::combinator::{eof, opt};
use winnow::prelude::*;

use super::filter::{
    attr_name, attr_path, bracket_filter, expected, place, read, Parsed, Refusal, MAX_DEPTH,
    MAX_LEN,
};
use super::{AttrPath, Filter};

/// `attrPath`, or `valuePath ["." subAttr]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchPath {
    /// `members`, `name.givenName`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`
    Attr(AttrPath),
    /// `members[value eq "2819c223"]`: the values of `attr` that match `filter`; with `sub`
    /// (`emails[type eq "work"].value`), that sub-attribute of each.
    Value {
        attr: AttrPath,
        filter: Filter,
        sub: Option<String>,
    },
}

impl PatchPath {
    /// The attribute the operation changes, whichever form the path takes.
    pub fn attr(&self) -> &AttrPath {
        match self {
            PatchPath::Attr(attr) | PatchPath::Value { attr, .. } => attr,
        }
    }
}

/// Why a PATCH path was refused; the message is the `invalidPath` detail a client reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("The path is empty")]
    Empty,
    #[error("The path is {0} bytes long; at most {MAX_LEN} are accepted")]
    TooLong(usize),
    #[error("The path nests parentheses or brackets more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error("The path is not valid {}: expected {expected}", place(*.at, .near))]
    Syntax {
        /// Characters (not bytes) before the point of refusal.
        at: usize,
        /// A few characters from that point on, to show the client where.
        near: String,
        expected: String,
    },
}

impl From<Refusal> for PathError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Empty => PathError::Empty,
            Refusal::TooLong(len) => PathError::TooLong(len),
            Refusal::TooDeep => PathError::TooDeep,
            Refusal::Syntax { at, near, expected } => PathError::Syntax { at, near, expected },
        }
    }
}

impl FromStr for PatchPath {
    type Err = PathError;

    /// Parses a PATCH path, e.g. `"emails[type eq \"work\"].value".parse::<PatchPath>()`.
    fn from_str(input: &str) -> Result<PatchPath, PathError> {
        read(input, patch_path).map_err(PathError::from)
    }
}

fn patch_path(i: &mut &str) -> Parsed<PatchPath> {
    space0.parse_next(i)?;
    let attr = attr_path(i)?;
    if opt('[').parse_next(i)?.is_none() {
        (space0, eof)
            .context(expected("`[` or the end of the path"))
            .parse_next(i)?;
        return Ok(PatchPath::Attr(attr));
    }
    let filter = bracket_filter(i)?;
    let sub = match opt('.').parse_next(i)? {
        Some(_) => Some(
            attr_name
                .context(expected("a sub-attribute name after `].`"))
                .parse_next(i)?
                .to_owned(),
        ),
        None => None,
    };
    (space0, eof)
        .context(expected("`.` and a sub-attribute, or the end of the path"))
        .parse_next(i)?;
    Ok(PatchPath::Value { attr, filter, sub })
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Attr(attr) => write!(f, "{attr}"),
            PatchPath::Value { attr, filter, sub } => {
                write!(f, "{attr}[{filter}]")?;
                match sub {
                    Some(sub) => write!(f, ".{sub}"),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::tests::{attr_paths, bracket_filters};
    use crate::scim::{CompValue, CompareOp, ENTERPRISE_USER_SCHEMA, USER_SCHEMA};
    use proptest::prelude::*;

    fn attr(uri: Option<&str>, name: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            uri: uri.map(str::to_owned),
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        }
    }

    fn eq_str(name: &str, value: &str) -> Filter {
        Filter::Compare {
            path: attr(None, name, None),
            op: CompareOp::Eq,
            value: CompValue::String(value.to_owned()),
        }
    }

    fn parse(text: &str) -> Result<PatchPath, PathError> {
        text.parse()
    }

    #[test]
    fn accepted_paths_give_their_tree() {
        let table = [
            ("members", PatchPath::Attr(attr(None, "members", None))),
            ("active", PatchPath::Attr(attr(None, "active", None))),
            (
                "name.givenName",
                PatchPath::Attr(attr(None, "name", Some("givenName"))),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                PatchPath::Attr(attr(Some(ENTERPRISE_USER_SCHEMA), "manager", None)),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                PatchPath::Attr(attr(Some(ENTERPRISE_USER_SCHEMA), "employeeNumber", None)),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
                PatchPath::Attr(attr(Some(USER_SCHEMA), "name", Some("familyName"))),
            ),
            (
                r#"members[value eq "2819c223"]"#,
                PatchPath::Value {
                    attr: attr(None, "members", None),
                    filter: eq_str("value", "2819c223"),
                    sub: None,
                },
            ),
            (
                r#"emails[type eq "work"].value"#,
                PatchPath::Value {
                    attr: attr(None, "emails", None),
                    filter: eq_str("type", "work"),
                    sub: Some("value".to_owned()),
                },
            ),
            (
                r#"addresses[type eq "work"].streetAddress"#,
                PatchPath::Value {
                    attr: attr(None, "addresses", None),
                    filter: eq_str("type", "work"),
                    sub: Some("streetAddress".to_owned()),
                },
            ),
            (
                r#"emails[type eq "work" and primary eq true]"#,
                PatchPath::Value {
                    attr: attr(None, "emails", None),
                    filter: Filter::And(
                        Box::new(eq_str("type", "work")),
                        Box::new(Filter::Compare {
                            path: attr(None, "primary", None),
                            op: CompareOp::Eq,
                            value: CompValue::Bool(true),
                        }),
                    ),
                    sub: None,
                },
            ),
            (" members ", PatchPath::Attr(attr(None, "members", None))),
        ];
        for (text, tree) in table {
            assert_eq!(parse(text), Ok(tree), "{text}");
        }
    }

    #[test]
    fn refused_paths_say_what_was_expected() {
        let table = [
            ("members[", "at the end: expected an attribute name"),
            (r#"members[value eq "x""#, "expected `and`, `or` or `]`"),
            (
                "members]",
                "at character 8, near `]`: expected `[` or the end of the path",
            ),
            (
                r#"emails[type eq "work"]."#,
                "expected a sub-attribute name after `].`",
            ),
            (
                r#"emails[type eq "work"].value.display"#,
                "near `.display`: expected `.` and a sub-attribute, or the end of the path",
            ),
            (
                r#"emails[type eq "work"] x"#,
                "expected `.` and a sub-attribute",
            ),
            ("a.b.c", "expected an attribute name"),
            ("members value", "expected `[` or the end of the path"),
            (
                r#"emails[x[y pr]]"#,
                "brackets cannot hold another value path",
            ),
            (
                r#"emails[type eq "work"].value eq "x""#,
                "or the end of the path",
            ),
            ("userName eq \"x\"", "expected `[` or the end of the path"),
        ];
        for (text, message) in table {
            let shown = parse(text).expect_err(text).to_string();
            assert!(
                shown.starts_with("The path is not valid "),
                "{text}: {shown}"
            );
            assert!(shown.contains(message), "{text}: {shown}");
        }
    }

    #[test]
    fn empty_overlong_and_overdeep_paths_are_refused() {
        assert_eq!(parse(""), Err(PathError::Empty));
        assert_eq!(
            parse(&"a".repeat(1 << 20)),
            Err(PathError::TooLong(1 << 20))
        );
        let deep = format!("x[{}a pr{}]", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse(&deep), Err(PathError::TooDeep));
        assert_eq!(
            PathError::TooDeep.to_string(),
            "The path nests parentheses or brackets more than 50 deep"
        );
    }

    #[test]
    fn the_changed_attribute_is_known_in_either_form() {
        let value: PatchPath = r#"Members[value eq "1"]"#.parse().unwrap();
        assert!(value.attr().is("members"));
        let plain: PatchPath = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
            .parse()
            .unwrap();
        assert!(plain.attr().is("manager"));
        assert_eq!(
            plain.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
        );
    }

    fn patch_paths() -> impl Strategy<Value = PatchPath> {
        let sub = prop::option::of("[a-zA-Z][a-zA-Z0-9_-]{0,6}");
        prop_oneof![
            attr_paths().prop_map(PatchPath::Attr),
            (attr_paths(), bracket_filters(), sub)
                .prop_map(|(attr, filter, sub)| PatchPath::Value { attr, filter, sub }),
        ]
    }

    proptest! {
        #[test]
        fn display_parses_back_to_the_same_path(path in patch_paths()) {
            let text = path.to_string();
            prop_assert_eq!(parse(&text), Ok(path), "{}", text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }
    }
}
