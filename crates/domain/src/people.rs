//! How people are named wherever they appear: their display name, their initials, and the
//! "Deleted User" that stands in for a member whose membership was deleted (everywhere but
//! the audit log, which keeps the name recorded at the time).

/// The name shown for a person: their full name, else their email.
pub fn display_name(first: &str, last: &str, email: &str) -> String {
    let full = format!("{} {}", first.trim(), last.trim());
    match full.trim() {
        "" => email.to_string(),
        name => name.to_string(),
    }
}

/// Their initials, as Label Studio shows them: first letters of the names, else the first two
/// letters of the email's local part (never its "@").
pub fn initials(first: &str, last: &str, email: &str) -> String {
    let first = first.trim().chars().next();
    let last = last.trim().chars().next();
    let s: String = match (first, last) {
        (None, None) => email
            .split('@')
            .next()
            .unwrap_or_default()
            .chars()
            .take(2)
            .collect(),
        (a, b) => a.into_iter().chain(b).collect(),
    };
    s.to_uppercase()
}

/// What a deleted member's work and changes show instead of them (PRODUCT.md rule 8).
pub mod deleted_user {
    pub const FIRST_NAME: &str = "Deleted";
    pub const LAST_NAME: &str = "User";
    pub const USERNAME: &str = "Deleted";
    pub const EMAIL: &str = "Deleted";
    pub const INITIALS: &str = "DU";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_initials() {
        let table = [
            ("Ann", "Lee", "ann@x.io", "Ann Lee", "AL"),
            ("  Ann ", "", "ann@x.io", "Ann", "A"),
            ("", "Lee", "ann@x.io", "Lee", "L"),
            ("", "", "ann@x.io", "ann@x.io", "AN"),
            ("", "", "a@x.io", "a@x.io", "A"),
            (" ", "", "bo.chen@x.io", "bo.chen@x.io", "BO"),
            ("élodie", "ørsted", "e@x.io", "élodie ørsted", "ÉØ"),
        ];
        for (first, last, email, name, init) in table {
            assert_eq!(display_name(first, last, email), name);
            assert_eq!(initials(first, last, email), init);
        }
    }

    #[test]
    fn the_deleted_user_reads_as_deleted_user() {
        use deleted_user::*;
        assert_eq!(display_name(FIRST_NAME, LAST_NAME, EMAIL), "Deleted User");
        assert_eq!(initials(FIRST_NAME, LAST_NAME, EMAIL), INITIALS);
    }
}
