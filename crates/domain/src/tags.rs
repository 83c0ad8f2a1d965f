//! Member tags: the rules for a tag's label and for the tag filter's values.

/// The longest label a tag may have, in characters.
pub const MAX_LABEL: usize = 100;

/// Why a label is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_LABEL} characters")]
    TooLong,
    #[error("must not contain control characters")]
    Control,
}

/// A label as stored: trimmed, non-empty, at most `MAX_LABEL` characters, no control
/// characters (a label is shown on a page and written in a CSV cell).
pub fn check_label(raw: &str) -> Result<String, LabelError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(LabelError::Empty);
    }
    if t.chars().count() > MAX_LABEL {
        return Err(LabelError::TooLong);
    }
    if t.chars().any(char::is_control) {
        return Err(LabelError::Control);
    }
    Ok(t.to_string())
}

/// The form labels are compared in: two labels that fold alike are one tag of an organization.
pub fn fold_label(label: &str) -> String {
    label.to_lowercase()
}

/// A membership's seat type in Label Studio Enterprise's terms. roster's members are people
/// in standard seats: it has no flex or view-only seats.
pub const USER_TYPE: &str = "standard";

/// The seat types Label Studio Enterprise names (a filter value outside them is refused).
pub const KNOWN_USER_TYPES: [&str; 3] = ["standard", "flex", "viewonly"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(check_label("  QA team "), Ok("QA team".into()));
        assert_eq!(check_label("   "), Err(LabelError::Empty));
        assert_eq!(
            check_label(&"x".repeat(MAX_LABEL)),
            Ok("x".repeat(MAX_LABEL))
        );
        assert_eq!(
            check_label(&"é".repeat(MAX_LABEL + 1)),
            Err(LabelError::TooLong)
        );
        assert_eq!(check_label("a\nb"), Err(LabelError::Control));
    }

    #[test]
    fn labels_fold_case() {
        assert_eq!(fold_label("QA Ünit"), fold_label("qa ünit"));
        assert_ne!(fold_label("qa"), fold_label("qa2"));
    }
}
