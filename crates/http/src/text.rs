//! The one rule for text that comes in over HTTP, applied at the edge before any handler runs:
//! NUL is refused everywhere (PostgreSQL cannot store it, SQLite's full-text search cannot
//! quote it), and every other control character (tab, newline, DEL, C1) is refused in
//! single-line fields: names, titles, emails, usernames, search terms, tokens, URLs. Only the
//! fields listed as multi-line below keep newlines and tabs. A new field is single-line unless
//! it is added here, so forgetting it refuses too much, never too little.

use serde_json::Value;

/// Fields whose text may span lines (they still may not hold NUL): an identity provider's
/// metadata is an XML document, pasted as it came.
const MULTI_LINE: &[&str] = &["description", "contact_info", "metadata_xml"];

/// JSON fields whose whole value is free-form data (annotation results): every string inside
/// may span lines.
const FREE_FORM: &[&str] = &["result"];

/// Form fields that are text areas (one email per line on the Organization page).
const FORM_MULTI_LINE: &[&str] = &[
    "emails",
    "description",
    "contact_info",
    "metadata_xml",
    // The SAML page's "try a person": one group name per line.
    "try_groups",
    // Identity providers may wrap the base64 of their SAML Response into lines.
    "SAMLResponse",
];

/// Secrets are compared, never shown or stored as text: any character but NUL is allowed, so
/// that no existing password stops working.
const SECRET: &[&str] = &["password", "current_password"];

/// A redirect target is not refused for control characters: `safe_next` falls back to `/`
/// for anything that is not a same-origin path, so a mangled link still lets people sign in.
const REDIRECT: &[&str] = &["next"];

/// A text input that breaks the rule: the field (as `serde_path_to_error` names it) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadText {
    pub field: String,
    pub message: &'static str,
}

const NUL_MESSAGE: &str = "must not contain the NUL character (\\u0000).";
const CONTROL_MESSAGE: &str =
    "must be a single line without control characters (tab, newline and the like).";

#[derive(Clone, Copy, PartialEq)]
enum Rule {
    SingleLine,
    MultiLine,
}

fn check(field: &str, text: &str, rule: Rule) -> Result<(), BadText> {
    if text.contains('\0') {
        return Err(BadText {
            field: field.to_string(),
            message: NUL_MESSAGE,
        });
    }
    if rule == Rule::SingleLine && text.chars().any(char::is_control) {
        return Err(BadText {
            field: field.to_string(),
            message: CONTROL_MESSAGE,
        });
    }
    Ok(())
}

fn rule_of(name: &str, multi_line: &[&str]) -> Rule {
    if multi_line.contains(&name) || SECRET.contains(&name) || REDIRECT.contains(&name) {
        Rule::MultiLine
    } else {
        Rule::SingleLine
    }
}

/// Checks every key and string of a JSON document. A string's rule is its nearest field name's
/// (array items take their array's).
pub fn check_json(value: &Value) -> Result<(), BadText> {
    walk(value, "", "", false)
}

fn walk(value: &Value, path: &str, name: &str, free: bool) -> Result<(), BadText> {
    let field = if path.is_empty() {
        "non_field_errors"
    } else {
        path
    };
    match value {
        Value::String(s) => {
            let rule = if free {
                Rule::MultiLine
            } else {
                rule_of(name, MULTI_LINE)
            };
            check(field, s, rule)
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| walk(v, &format!("{path}[{i}]"), name, free)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let child = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let key_rule = if free {
                Rule::MultiLine
            } else {
                Rule::SingleLine
            };
            check(&child, k, key_rule)?;
            walk(v, &child, k, free || FREE_FORM.contains(&k.as_str()))
        }),
        _ => Ok(()),
    }
}

/// Checks a JSON document whose strings may all span lines (a SCIM resource: addresses and
/// other attributes are free text): only NUL is refused, in keys and strings alike.
pub fn check_json_free_form(value: &Value) -> Result<(), BadText> {
    walk(value, "", "", true)
}

/// Checks decoded `name=value` pairs (a query string or an HTML form); the field is the name.
pub fn check_pairs(bytes: &[u8], form: bool) -> Result<(), BadText> {
    let multi_line = if form { FORM_MULTI_LINE } else { &[][..] };
    for (k, v) in url::form_urlencoded::parse(bytes) {
        check(&k, &k, Rule::SingleLine)?;
        check(&k, &v, rule_of(&k, multi_line))?;
    }
    Ok(())
}

/// Checks a path parameter (always single-line).
pub fn check_path(name: &str, value: &str) -> Result<(), BadText> {
    check(name, value, Rule::SingleLine)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_field_and_applies_the_field_rule() {
        let bad = check_json(&json!({"title": "a\tb"})).unwrap_err();
        assert_eq!(bad.field, "title");
        assert!(check_json(&json!({"description": "a\n\tb"})).is_ok());
        assert_eq!(
            check_json(&json!({"description": "a\0b"}))
                .unwrap_err()
                .field,
            "description"
        );
        assert_eq!(
            check_json(&json!({"emails": ["ok@x.test", "b\u{7}@x.test"]}))
                .unwrap_err()
                .field,
            "emails[1]"
        );
        assert!(check_json(&json!({"result": [{"value": {"text": ["a\nb\tc"]}}]})).is_ok());
        assert_eq!(
            check_json(&json!({"result": [{"v": "a\0"}]}))
                .unwrap_err()
                .field,
            "result[0].v"
        );
        assert_eq!(
            check_pairs(b"search=a%00b", false).unwrap_err().field,
            "search"
        );
        assert!(check_pairs(b"emails=a%40x.test%0D%0Ab%40x.test", true).is_ok());
        assert!(check_pairs(b"emails=a%40x.test%0D%0Ab%40x.test", false).is_err());
        assert!(check_pairs(b"password=a%09b", true).is_ok());
    }
}
