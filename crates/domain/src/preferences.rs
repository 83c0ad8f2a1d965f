//! A person's own preferences as Label Studio's user objects carry them: keyboard shortcuts,
//! email notification choices and the onboarding stage. The shapes are checked here, once,
//! and bounded, since they are stored and served back on every user object.

use serde_json::{Map, Value};

/// At most this many shortcuts or notification choices per person.
pub const MAX_ENTRIES: usize = 200;
/// Longest action or notification name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest key combination, in characters.
pub const MAX_KEY: usize = 100;

/// The onboarding stages Label Studio Enterprise knows (`OnboardingStateEnum`).
pub const ONBOARDING_STATES: &[&str] = &[
    "not_started",
    "signup",
    "trial_signup",
    "first_tutorial",
    "in_app_guidance",
    "complete",
];

/// Why a preference was refused; the caller names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn object(v: &Value) -> Result<&Map<String, Value>, Refused> {
    let map = v
        .as_object()
        .ok_or_else(|| Refused("must be an object".into()))?;
    if map.len() > MAX_ENTRIES {
        return Err(Refused(format!("must have at most {MAX_ENTRIES} entries")));
    }
    for name in map.keys() {
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control)
        {
            return Err(Refused(format!(
                "names must be 1 to {MAX_NAME} characters without control characters"
            )));
        }
    }
    Ok(map)
}

fn key(action: &str, v: &Value) -> Result<(), Refused> {
    let ok =
        |k: &str| !k.is_empty() && k.chars().count() <= MAX_KEY && !k.chars().any(char::is_control);
    match v {
        Value::String(k) if ok(k) => Ok(()),
        Value::Object(m) => {
            let key_ok = m.get("key").and_then(Value::as_str).is_some_and(ok);
            let rest_ok = m
                .iter()
                .all(|(f, v)| f == "key" || (f == "active" && v.is_boolean()));
            if key_ok && rest_ok {
                Ok(())
            } else {
                Err(Refused(format!(
                    "{action:?} must be a key combination, or {{\"key\": ..., \"active\": true|false}}"
                )))
            }
        }
        _ => Err(Refused(format!(
            "{action:?} must be a key combination of 1 to {MAX_KEY} characters"
        ))),
    }
}

/// Keyboard shortcuts: an object of action → key combination (a string, or Label Studio's
/// `{"key": "ctrl+enter", "active": true}`). Answers the JSON text to store.
pub fn check_hotkeys(v: &Value) -> Result<String, Refused> {
    let map = object(v)?;
    for (action, k) in map {
        key(action, k)?;
    }
    Ok(v.to_string())
}

/// Email notification choices: an object of notification name → on or off.
pub fn check_notification_settings(v: &Value) -> Result<String, Refused> {
    let map = object(v)?;
    if let Some((name, _)) = map.iter().find(|(_, v)| !v.is_boolean()) {
        return Err(Refused(format!("{name:?} must be true or false")));
    }
    Ok(v.to_string())
}

pub fn check_onboarding_state(s: &str) -> Result<String, Refused> {
    if ONBOARDING_STATES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(Refused(format!(
            "must be one of {}",
            ONBOARDING_STATES.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hotkeys_take_strings_or_label_studio_objects() {
        assert!(check_hotkeys(&json!({"annotation:submit": "ctrl+enter"})).is_ok());
        assert!(check_hotkeys(&json!({"a:b": {"key": "x", "active": false}})).is_ok());
        assert!(check_hotkeys(&json!({})).is_ok());
    }

    #[test]
    fn hotkeys_refuse_other_shapes() {
        for bad in [
            json!([]),
            json!("x"),
            json!({"a": 1}),
            json!({"a": ""}),
            json!({"": "x"}),
            json!({"a": {"key": "x", "other": 1}}),
            json!({"a": {"active": true}}),
            json!({"a": "k".repeat(MAX_KEY + 1)}),
        ] {
            assert!(check_hotkeys(&bad).is_err(), "{bad}");
        }
        let many: Map<String, Value> = (0..=MAX_ENTRIES)
            .map(|i| (format!("a{i}"), json!("x")))
            .collect();
        assert!(check_hotkeys(&Value::Object(many)).is_err());
    }

    #[test]
    fn notification_settings_are_switches() {
        assert!(check_notification_settings(&json!({"project_paused": true})).is_ok());
        assert!(check_notification_settings(&json!({"x": "yes"})).is_err());
        assert!(check_notification_settings(&json!(null)).is_err());
    }

    #[test]
    fn onboarding_states_are_label_studios() {
        assert!(check_onboarding_state("complete").is_ok());
        assert!(check_onboarding_state("done").is_err());
    }
}
