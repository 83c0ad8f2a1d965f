//! SAML rules that need no I/O: the attribute names an identity provider's assertion is read
//! by, the email domains that may never route people to one organization, and what a sign-in
//! through an organization's identity provider does to the person's membership there.

use crate::scim::mapping::GroupMapping;
use crate::{Role, RoleSource};

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

/// Where a person stands in an organization when its identity provider signs them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Never a member.
    Newcomer,
    /// Their membership was deleted.
    Removed,
    /// A live membership.
    Member { role: Role, source: RoleSource },
}

/// The facts a sign-in decision reads besides the groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFacts {
    pub standing: Standing,
    /// SCIM deactivated them (`active=false`): only SCIM brings them back.
    pub scim_inactive: bool,
    /// The organization lets people change IdP-managed roles by hand; a role set by hand then
    /// stays until a person changes it.
    pub manual_role_management: bool,
}

/// What a sign-in does to the membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginChange {
    /// The person joins in this role.
    Join(Role),
    /// Their role becomes this one (the same role writes nothing).
    SetRole(Role),
    /// Their role stays as it is.
    Keep,
}

/// Why a sign-in through the identity provider is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefusal {
    #[error("You were removed from this organization, and signing in through its identity provider does not bring you back. Ask an Owner or Administrator for a new invite")]
    Removed,
    #[error("An Owner or Administrator deactivated you in this organization; signing in through its identity provider does not change that. Ask them to reactivate you")]
    DeactivatedByHand,
    #[error("Your identity provider's provisioning (SCIM) deactivated you in this organization. Ask your IT administrator to reactivate your account there")]
    DeactivatedByProvisioning,
    #[error("None of your groups at your identity provider gives you a role in this organization. Ask your IT administrator to add you to the right group")]
    NoMappedRole,
}

/// Decides what a sign-in through the organization's identity provider does, before the
/// membership path applies it (which still checks seats and the Owner's protection):
/// - a deleted member stays out; nobody but a person brings them back;
/// - a member deactivated by hand, or by SCIM's `active=false`, stays deactivated;
/// - a member a group mapping (SAML's or SCIM's) put on the Deactivated fallback is decided
///   again, so joining a mapped group brings them back;
/// - roles are re-synced from the groups at every sign-in (the highest mapped role, else the
///   fallback), overriding SCIM's group mapping; without role groups roles stay as people set
///   them (a newcomer joins in the fallback);
/// - with manual role management on, a role a person set by hand stays;
/// - the Owner is never changed by an identity provider.
pub fn decide_login<S: AsRef<str>>(
    mapping: &GroupMapping,
    groups: &[S],
    facts: LoginFacts,
) -> Result<LoginChange, LoginRefusal> {
    let (role, source) = match facts.standing {
        Standing::Removed => return Err(LoginRefusal::Removed),
        Standing::Newcomer => {
            let role = mapping
                .decide(true, groups, None)
                .unwrap_or(mapping.fallback);
            return match role {
                Role::Deactivated => Err(LoginRefusal::NoMappedRole),
                role => Ok(LoginChange::Join(role)),
            };
        }
        Standing::Member { role, source } => (role, source),
    };
    if role == Role::Owner {
        return Ok(LoginChange::Keep);
    }
    if role == Role::Deactivated {
        match source {
            RoleSource::Scim if facts.scim_inactive => {
                return Err(LoginRefusal::DeactivatedByProvisioning)
            }
            RoleSource::Scim | RoleSource::Saml => {}
            RoleSource::Manual | RoleSource::Api | RoleSource::Invite => {
                return Err(LoginRefusal::DeactivatedByHand)
            }
        }
    }
    if facts.manual_role_management && !source.is_identity_provider() {
        return Ok(LoginChange::Keep);
    }
    Ok(match mapping.decide(true, groups, Some(role)) {
        Some(to) => LoginChange::SetRole(to),
        None => LoginChange::Keep,
    })
}

/// Whether a member in `role` after the sign-in's change may have a session: everyone but
/// the deactivated (a pending member signs in and waits for activation, as with a password).
pub fn admits(role: Role) -> Result<(), LoginRefusal> {
    match role {
        Role::Deactivated => Err(LoginRefusal::NoMappedRole),
        _ => Ok(()),
    }
}

/// The longest path a sign-in may return to.
const MAX_RELAY_PATH: usize = 512;

/// `path` when it is a path on this site to return to after signing in (RelayState, `next`):
/// absolute, not protocol-relative (`//host`, `/\\host`), printable URL characters only.
/// Anything else (a full URL, another site) is None: the sign-in goes to the home page.
pub fn same_site_path(path: &str) -> Option<&str> {
    let b = path.as_bytes();
    let ok = b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/') | Some(b'\\'))
        && path.len() <= MAX_RELAY_PATH
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~/?=&%+,:@!$'()*;#".contains(c));
    ok.then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::mapping::GroupMapping;

    fn mapping() -> GroupMapping {
        GroupMapping {
            roles_groups: vec![
                (Role::Reviewer, "Reviewers".into()),
                (Role::Manager, "Leads".into()),
            ],
            projects_groups: Vec::new(),
            workspaces_groups: vec![],
            fallback: Role::Deactivated,
        }
    }

    fn member(role: Role, source: RoleSource) -> LoginFacts {
        LoginFacts {
            standing: Standing::Member { role, source },
            scim_inactive: false,
            manual_role_management: false,
        }
    }

    #[test]
    fn a_newcomer_joins_with_the_highest_mapped_role_or_is_refused_without_one() {
        let newcomer = LoginFacts {
            standing: Standing::Newcomer,
            scim_inactive: false,
            manual_role_management: false,
        };
        assert_eq!(
            decide_login(&mapping(), &["Reviewers", "Leads"], newcomer),
            Ok(LoginChange::Join(Role::Manager))
        );
        assert_eq!(
            decide_login(&mapping(), &["Other"], newcomer),
            Err(LoginRefusal::NoMappedRole)
        );
        let lenient = GroupMapping {
            fallback: Role::Annotator,
            ..mapping()
        };
        assert_eq!(
            decide_login(&lenient, &["Other"], newcomer),
            Ok(LoginChange::Join(Role::Annotator))
        );
        // Without role groups a newcomer joins in the fallback.
        let unmanaged = GroupMapping {
            roles_groups: Vec::new(),
            fallback: Role::NotActivated,
            ..mapping()
        };
        assert_eq!(
            decide_login(&unmanaged, &["Leads"], newcomer),
            Ok(LoginChange::Join(Role::NotActivated))
        );
    }

    #[test]
    fn roles_follow_the_groups_at_every_sign_in_overriding_scim_mappings() {
        assert_eq!(
            decide_login(
                &mapping(),
                &["Leads"],
                member(Role::Reviewer, RoleSource::Saml)
            ),
            Ok(LoginChange::SetRole(Role::Manager))
        );
        assert_eq!(
            decide_login(
                &mapping(),
                &["Reviewers"],
                member(Role::Annotator, RoleSource::Scim)
            ),
            Ok(LoginChange::SetRole(Role::Reviewer))
        );
        // Out of every mapped group: the fallback, and then no session.
        assert_eq!(
            decide_login(
                &mapping(),
                &["Other"],
                member(Role::Manager, RoleSource::Saml)
            ),
            Ok(LoginChange::SetRole(Role::Deactivated))
        );
        assert_eq!(admits(Role::Deactivated), Err(LoginRefusal::NoMappedRole));
        assert_eq!(admits(Role::NotActivated), Ok(()));
    }

    #[test]
    fn the_fallback_is_decided_again_but_a_deactivation_by_a_person_or_scim_stays() {
        // Put on the fallback by a mapping (SAML's or SCIM's): a mapped group brings them back.
        for source in [RoleSource::Saml, RoleSource::Scim] {
            assert_eq!(
                decide_login(
                    &mapping(),
                    &["Reviewers"],
                    member(Role::Deactivated, source)
                ),
                Ok(LoginChange::SetRole(Role::Reviewer))
            );
        }
        for source in [RoleSource::Manual, RoleSource::Api, RoleSource::Invite] {
            assert_eq!(
                decide_login(&mapping(), &["Leads"], member(Role::Deactivated, source)),
                Err(LoginRefusal::DeactivatedByHand)
            );
        }
        let scim_off = LoginFacts {
            scim_inactive: true,
            ..member(Role::Deactivated, RoleSource::Scim)
        };
        assert_eq!(
            decide_login(&mapping(), &["Leads"], scim_off),
            Err(LoginRefusal::DeactivatedByProvisioning)
        );
        let removed = LoginFacts {
            standing: Standing::Removed,
            ..scim_off
        };
        assert_eq!(
            decide_login(&mapping(), &["Leads"], removed),
            Err(LoginRefusal::Removed)
        );
    }

    #[test]
    fn the_owner_and_hand_set_roles_under_manual_role_management_stay() {
        assert_eq!(
            decide_login(
                &mapping(),
                &["Other"],
                member(Role::Owner, RoleSource::Manual)
            ),
            Ok(LoginChange::Keep)
        );
        let manual = LoginFacts {
            manual_role_management: true,
            ..member(Role::Administrator, RoleSource::Manual)
        };
        assert_eq!(
            decide_login(&mapping(), &["Reviewers"], manual),
            Ok(LoginChange::Keep)
        );
        let idp_set = LoginFacts {
            manual_role_management: true,
            ..member(Role::Annotator, RoleSource::Saml)
        };
        assert_eq!(
            decide_login(&mapping(), &["Reviewers"], idp_set),
            Ok(LoginChange::SetRole(Role::Reviewer))
        );
    }

    #[test]
    fn without_role_groups_roles_stay_as_people_set_them() {
        let unmanaged = GroupMapping {
            roles_groups: Vec::new(),
            fallback: Role::Annotator,
            ..mapping()
        };
        assert_eq!(
            decide_login(
                &unmanaged,
                &["Leads"],
                member(Role::Manager, RoleSource::Manual)
            ),
            Ok(LoginChange::Keep)
        );
        assert_eq!(
            decide_login(
                &unmanaged,
                &["Leads"],
                member(Role::Deactivated, RoleSource::Saml)
            ),
            Ok(LoginChange::SetRole(Role::Annotator))
        );
    }

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(same_site_path("/projects?page=2"), Some("/projects?page=2"));
        assert_eq!(same_site_path("/"), Some("/"));
        for bad in [
            "",
            "projects",
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "/a b",
            "/a\nb",
            "/\u{fe0f}",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
        assert_eq!(same_site_path(&format!("/{}", "a".repeat(600))), None);
    }

    #[test]
    fn webmail_domains_are_known() {
        assert!(is_webmail("gmail.com"));
        assert!(!is_webmail("acme.com"));
        assert!(!is_webmail("mail.acme.com"));
    }
}
