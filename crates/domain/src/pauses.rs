//! Pauses of a person's work in a project: the reasons Label Studio Enterprise names, and
//! what a pause allows.

/// Why a person is paused (the SDK's `ReasonEnum`). roster sets none of these itself: a
/// Manager, Administrator or Owner pauses someone and picks the reason.
pub const REASONS: &[&str] = &[
    "MANUAL",
    "BEHAVIOR_BASED",
    "ANNOTATOR_EVALUATION",
    "ANNOTATION_LIMIT",
    "CUSTOM_SCRIPT",
];

/// Longest `verbose_reason`, in characters.
pub const MAX_VERBOSE_REASON: usize = 2000;

pub fn check_reason(reason: &str) -> Result<(), String> {
    if REASONS.contains(&reason) {
        Ok(())
    } else {
        Err(format!("must be one of {}", REASONS.join(", ")))
    }
}

pub fn check_verbose_reason(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_VERBOSE_REASON {
        Err(format!("must be at most {MAX_VERBOSE_REASON} characters"))
    } else {
        Ok(())
    }
}

/// What a paused person is told when they try to work in the project.
pub fn refusal(project_title: &str, verbose_reason: &str) -> String {
    let mut message = format!("Your work in project \"{project_title}\" is paused");
    if verbose_reason.trim().is_empty() {
        message.push_str("; ask a manager of the project to resume it.");
    } else {
        message.push_str(&format!(": {}", verbose_reason.trim()));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_label_studios() {
        assert!(check_reason("MANUAL").is_ok());
        assert!(check_reason("manual").is_err());
        assert!(check_reason("").is_err());
    }

    #[test]
    fn verbose_reason_is_bounded() {
        assert!(check_verbose_reason(&"x".repeat(MAX_VERBOSE_REASON)).is_ok());
        assert!(check_verbose_reason(&"x".repeat(MAX_VERBOSE_REASON + 1)).is_err());
    }

    #[test]
    fn refusal_says_why() {
        assert_eq!(
            refusal("Cats", "Too many skips"),
            "Your work in project \"Cats\" is paused: Too many skips"
        );
        assert!(refusal("Cats", " ").contains("ask a manager"));
    }
}
