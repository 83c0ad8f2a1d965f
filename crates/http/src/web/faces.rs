//! How pages show people and times: an initials avatar beside a name (the email beneath only
//! when the name is not the email itself), and times relative to now with the exact time on
//! hover. The Organization page, the member panel and the audit log all use these.

use std::fmt;

use roster_domain::people;

/// A person as a page row shows them.
pub(crate) struct Face {
    pub initials: String,
    pub name: String,
    /// The email, when it is not already what `name` shows.
    pub email: Option<String>,
}

impl Face {
    /// From a person's account: their names, else their email.
    pub(crate) fn of(first: &str, last: &str, email: &str) -> Face {
        Face::named(
            people::display_name(first, last, email),
            people::initials(first, last, email),
            email,
        )
    }

    /// From a name recorded at the time (the audit log keeps names, not their parts): the
    /// first and last words stand for the first and last names, so "Deleted User" is "DU".
    pub(crate) fn recorded(name: &str, email: &str) -> Face {
        let name = name.trim();
        let (first, last) = if name.is_empty() || name == email {
            ("", "")
        } else {
            let mut words = name.split_whitespace();
            let first = words.next().unwrap_or_default();
            (first, words.next_back().unwrap_or_default())
        };
        Face::of(first, last, email)
    }

    fn named(name: String, initials: String, email: &str) -> Face {
        Face {
            email: (name != email && !email.is_empty()).then(|| email.to_string()),
            initials,
            name,
        }
    }
}

/// A moment shown relative to now ("3 days ago"), with the exact UTC time as the element's
/// title; roster.js rewrites that title into the viewer's time zone.
pub(crate) struct When {
    at: Option<chrono::DateTime<chrono::Utc>>,
    relative: String,
}

/// `micros` (since the epoch) relative to `now`; None reads "never".
pub(crate) fn when(now: i64, micros: Option<i64>) -> When {
    let at = micros.and_then(chrono::DateTime::from_timestamp_micros);
    When {
        relative: match at {
            Some(_) => ago(now, micros.unwrap_or(now)),
            None => "never".into(),
        },
        at,
    }
}

/// How long ago, in the largest whole unit: "just now" under a minute (and for a moment a
/// little ahead of this server's clock), then minutes, hours, days, months of 30 days, years.
pub(crate) fn ago(now: i64, then: i64) -> String {
    let seconds = now.saturating_sub(then) / 1_000_000;
    if seconds < 60 {
        return "just now".into();
    }
    let (n, unit) = [
        (365 * 86_400, "year"),
        (30 * 86_400, "month"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
    ]
    .into_iter()
    .map(|(size, unit)| (seconds / size, unit))
    .find(|(n, _)| *n >= 1)
    .unwrap_or((1, "minute"));
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Markup of our own (digits, dashes, colons and words), so a template shows it with `|safe`.
impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(t) => write!(
                f,
                r#"<time datetime="{}" title="{}" data-exact>{}</time>"#,
                t.format("%Y-%m-%dT%H:%M:%SZ"),
                t.format("%Y-%m-%d %H:%M UTC"),
                self.relative
            ),
            None => f.write_str(&self.relative),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000_000;

    #[test]
    fn times_read_relative_to_now_in_the_largest_whole_unit() {
        let now = 1_800_000_000_000_000;
        let table = [
            (0, "just now"),
            (59 * 1_000_000, "just now"),
            (-5 * MINUTE, "just now"),
            (MINUTE, "1 minute ago"),
            (59 * MINUTE, "59 minutes ago"),
            (60 * MINUTE, "1 hour ago"),
            (3 * 24 * 60 * MINUTE, "3 days ago"),
            (45 * 24 * 60 * MINUTE, "1 month ago"),
            (800 * 24 * 60 * MINUTE, "2 years ago"),
        ];
        for (before, want) in table {
            assert_eq!(ago(now, now - before), want, "{before}");
        }
    }

    #[test]
    fn a_time_renders_as_markup_with_the_exact_time_on_hover() {
        // 2026-12-02 09:00 UTC, three days before "now".
        let at = 1_796_202_000_000_000;
        let now = at + 3 * 24 * 60 * MINUTE;
        assert_eq!(
            when(now, Some(at)).to_string(),
            r#"<time datetime="2026-12-02T09:00:00Z" title="2026-12-02 09:00 UTC" data-exact>3 days ago</time>"#
        );
        assert_eq!(when(now, None).to_string(), "never");
    }

    #[test]
    fn faces_show_initials_and_the_email_only_when_it_is_not_the_name() {
        let ann = Face::of("Ann", "Lee", "ann@x.io");
        assert_eq!(
            (ann.initials.as_str(), ann.name.as_str()),
            ("AL", "Ann Lee")
        );
        assert_eq!(ann.email.as_deref(), Some("ann@x.io"));
        let nameless = Face::of("", "", "bo.chen@x.io");
        assert_eq!(nameless.initials, "BO");
        assert_eq!(nameless.name, "bo.chen@x.io");
        assert_eq!(nameless.email, None);
        let recorded = Face::recorded("Ann Marie Lee", "ann@x.io");
        assert_eq!(recorded.initials, "AL");
        assert_eq!(Face::recorded("Deleted User", "Deleted").initials, "DU");
        assert_eq!(Face::recorded("bo@x.io", "bo@x.io").initials, "BO");
    }
}
