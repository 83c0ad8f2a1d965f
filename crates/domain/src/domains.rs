//! Proving control of an email domain with a DNS TXT record: where roster looks, what it
//! expects to find there, and whether what DNS answered proves the claim. The look-up itself
//! is the service's; nothing here performs I/O.

/// The label under the domain where the record is published.
pub const RECORD_LABEL: &str = "_roster-verification";
/// What the record's value starts with, before the claim's token.
pub const VALUE_PREFIX: &str = "roster-domain-verification=";

/// Found values a refusal quotes, and how much of each: a domain may publish many long TXT
/// records (SPF, other services' proofs) and the message stays readable.
const QUOTED_VALUES: usize = 5;
const QUOTED_CHARS: usize = 120;

/// The TXT record an Owner publishes to prove they control a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtChallenge {
    /// The record's name, e.g. `_roster-verification.example.com`.
    pub name: String,
    /// The record's value, e.g. `roster-domain-verification=<token>`.
    pub value: String,
}

impl TxtChallenge {
    /// The challenge for `domain` (already normalized) and a claim's token.
    pub fn new(domain: &str, token: &str) -> TxtChallenge {
        TxtChallenge {
            name: format!("{RECORD_LABEL}.{domain}"),
            value: format!("{VALUE_PREFIX}{token}"),
        }
    }

    /// Whether one of the TXT values DNS answered is the expected one. Surrounding spaces and
    /// the quotes some DNS consoles keep in the value are forgiven; the token must match
    /// exactly.
    pub fn proven_by(&self, found: &[String]) -> bool {
        found
            .iter()
            .any(|v| v.trim().trim_matches('"').trim() == self.value)
    }

    /// Why `found` does not prove the claim, in words: the record expected and what was there.
    pub fn mismatch(&self, found: &[String]) -> String {
        let expected = format!(
            "No TXT record at {} has the value {}",
            self.name, self.value
        );
        let seen = if found.is_empty() {
            "DNS answered with no TXT record at that name".to_string()
        } else {
            let mut quoted: Vec<String> =
                found.iter().take(QUOTED_VALUES).map(|v| quote(v)).collect();
            if found.len() > QUOTED_VALUES {
                quoted.push(format!("and {} more", found.len() - QUOTED_VALUES));
            }
            format!("DNS answered: {}", quoted.join(", "))
        };
        format!(
            "{expected}. {seen}. Publish the record (or correct it) and check again; a new \
             record can take a while to reach every DNS server."
        )
    }
}

/// A found value as a refusal quotes it: shortened, with control characters escaped (the
/// value is whatever the domain's DNS holds).
fn quote(v: &str) -> String {
    let short: String = v.chars().take(QUOTED_CHARS).collect();
    let ellipsis = if v.chars().count() > QUOTED_CHARS {
        "…"
    } else {
        ""
    };
    format!("{short:?}{ellipsis}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn the_record_lives_under_the_domain_and_names_the_token() {
        let c = TxtChallenge::new("example.com", "abc_-1");
        assert_eq!(c.name, "_roster-verification.example.com");
        assert_eq!(c.value, "roster-domain-verification=abc_-1");
    }

    #[test]
    fn only_the_exact_token_proves_the_claim() {
        let c = TxtChallenge::new("example.com", "Token1");
        assert!(c.proven_by(&found(&[
            "v=spf1 -all",
            "roster-domain-verification=Token1"
        ])));
        assert!(c.proven_by(&found(&["  \"roster-domain-verification=Token1\" "])));
        for wrong in [
            "roster-domain-verification=token1",
            "roster-domain-verification=Token12",
            "roster-domain-verification=",
            "Token1",
            "x roster-domain-verification=Token1",
        ] {
            assert!(!c.proven_by(&found(&[wrong])), "{wrong:?}");
        }
        assert!(!c.proven_by(&[]));
    }

    #[test]
    fn a_mismatch_names_the_record_expected_and_what_was_found() {
        let c = TxtChallenge::new("example.com", "T");
        let none = c.mismatch(&[]);
        assert!(none.contains("_roster-verification.example.com"), "{none}");
        assert!(none.contains("roster-domain-verification=T"), "{none}");
        assert!(none.contains("no TXT record"), "{none}");
        let some = c.mismatch(&found(&["roster-domain-verification=old", "bell\u{7}"]));
        assert!(
            some.contains("\"roster-domain-verification=old\""),
            "{some}"
        );
        assert!(
            some.contains("\\u{7}"),
            "control characters are escaped: {some}"
        );
        let many: Vec<String> = (0..9).map(|i| "x".repeat(200) + &i.to_string()).collect();
        let long = c.mismatch(&many);
        assert!(long.contains("and 4 more"), "{long}");
        assert!(long.len() < 1200, "{}", long.len());
    }
}
