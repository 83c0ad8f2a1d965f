//! SAML rules that need no I/O: the attribute names an identity provider's assertion is read
//! by, and the email domains that may never route people to one organization.

/// The assertion attributes roster reads, by name (Label Studio Enterprise's defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeNames {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub groups: String,
}

impl Default for AttributeNames {
    fn default() -> Self {
        AttributeNames {
            email: "Email".into(),
            first_name: "FirstName".into(),
            last_name: "LastName".into(),
            groups: "Groups".into(),
        }
    }
}

/// The NameID format asked for unless the organization chooses another.
pub const DEFAULT_NAMEID_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// Public webmail providers: anyone can have an address there, so such a domain never
/// belongs to one organization's identity provider.
const WEBMAIL: [&str; 30] = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "ymail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "qq.com",
    "163.com",
    "126.com",
    "zoho.com",
    "fastmail.com",
    "tutanota.com",
];

/// Whether `domain` (lower-cased) is a public webmail provider's.
pub fn is_webmail(domain: &str) -> bool {
    WEBMAIL.contains(&domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webmail_domains_are_known() {
        assert!(is_webmail("gmail.com"));
        assert!(!is_webmail("acme.com"));
        assert!(!is_webmail("mail.acme.com"));
    }
}
