//! Organizations that sign in through their identity provider only: which credentials such an
//! organization admits (checked by `authorize` on every request that touches it), what must
//! be in place before its Owner switches it on, and what may not be taken away while it is on.

use roster_domain::{OrgId, Role};
use roster_store::{orgs, saml, totp, MembershipRecord, OrgRecord, UserRecord, WriteTx};

use crate::totp::TotpState;
use crate::{Authenticated, CredentialKind, Result, ServiceError};

/// Whether a credential may act in `org`, which signs in through single sign-on only: a
/// session its identity provider started; the Owner's password session that passed the
/// second factor (break-glass, for when the identity provider fails); and personal access
/// tokens, which follow the organization's token settings as everywhere. Password sessions
/// without that and legacy keys are refused. Other organizations never see this rule.
pub(crate) fn admits(
    who: &Authenticated,
    org: &OrgRecord,
    membership: &MembershipRecord,
) -> Result<()> {
    let owner = membership.role == Role::Owner;
    let admitted = match who.kind {
        CredentialKind::AccessToken => true,
        CredentialKind::Session => who.sso_org == Some(org.id) || (owner && who.second_factor),
        CredentialKind::LegacyKey => false,
    };
    if admitted {
        return Ok(());
    }
    let mut message = format!(
        "{} requires single sign-on; sign in through your identity provider.",
        org.title
    );
    match who.kind {
        CredentialKind::LegacyKey => message.push_str(
            " Legacy API keys are refused here; personal access tokens follow the \
             organization's token settings.",
        ),
        CredentialKind::Session if owner => message.push_str(
            " As its Owner you may also sign in with your password and the code from your \
             authenticator app.",
        ),
        _ => {}
    }
    Err(ServiceError::Forbidden(message))
}

/// What must hold before `owner` switches single sign-on only on for `org`: an identity
/// provider whose metadata roster has, and the Owner's own second factor, without which a
/// failing identity provider would lock everyone out.
pub(crate) async fn check_ready(
    c: &mut WriteTx,
    org: &OrgRecord,
    owner: &UserRecord,
) -> Result<()> {
    let has_metadata = saml::settings(c, org.id)
        .await?
        .is_some_and(|s| s.metadata_xml.is_some());
    if !has_metadata {
        return Err(ServiceError::Conflict(
            "Single sign-on only needs the organization's identity provider first: set up SAML \
             with the identity provider's metadata (POST /api/saml/settings with metadata_xml \
             or metadata_url), then switch it on."
                .into(),
        ));
    }
    let factor = totp::factor(c, owner.id).await?;
    if TotpState::of(factor.as_ref()) != TotpState::On {
        return Err(ServiceError::Conflict(
            "Single sign-on only leaves you, the Owner, your password as the way in when the \
             identity provider fails, and that needs a second factor: set up an authenticator \
             app on your account page (or POST /api/current-user/totp) first."
                .into(),
        ));
    }
    Ok(())
}

/// Refuses to take away the identity provider (`what` says how) of an organization that
/// signs in through it only: its members would have no way in.
pub(crate) async fn keep_identity_provider(c: &mut WriteTx, org: OrgId, what: &str) -> Result<()> {
    match orgs::by_id(c, org).await? {
        Some(o) if o.sso_only => Err(ServiceError::Conflict(format!(
            "{} requires single sign-on, so its members would have no way in if you {what}; \
             switch single sign-on only off first.",
            o.title
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_domain::{MembershipId, RoleSource, UserId};

    fn org() -> OrgRecord {
        OrgRecord {
            id: OrgId(7),
            title: "Acme".into(),
            contact_info: None,
            invite_token_sealed: None,
            seat_limit: None,
            default_role: Role::NotActivated,
            manual_role_management: true,
            api_tokens_enabled: true,
            legacy_api_tokens_enabled: true,
            api_token_ttl_days: 365,
            created_by: None,
            created_at: 0,
            sso_only: true,
            manual_workspace_management: true,
            manual_project_member_management: true,
        }
    }

    fn who(kind: CredentialKind, sso_org: Option<OrgId>, second_factor: bool) -> Authenticated {
        Authenticated {
            user: UserRecord {
                id: UserId(1),
                email: "a@example.com".into(),
                username: "a@example.com".into(),
                first_name: String::new(),
                last_name: String::new(),
                phone: String::new(),
                password_hash: None,
                active_org: None,
                date_joined: 0,
                last_activity: None,
                preferences: Default::default(),
            },
            memberships: Vec::new(),
            orgs: Vec::new(),
            kind,
            csrf_token: None,
            sso_org,
            second_factor,
        }
    }

    fn membership(role: Role) -> MembershipRecord {
        MembershipRecord {
            id: MembershipId(1),
            org: OrgId(7),
            user: UserId(1),
            role,
            role_source: RoleSource::Manual,
            created_at: 0,
            updated_at: 0,
            deleted_at: None,
        }
    }

    #[test]
    fn only_single_sign_on_the_owners_second_factor_and_tokens_get_in() {
        use CredentialKind::*;
        let acme = Some(OrgId(7));
        let cases = [
            // (credential, sso org, second factor, role, admitted)
            (Session, acme, false, Role::Annotator, true),
            (Session, acme, false, Role::Owner, true),
            (Session, None, false, Role::Annotator, false),
            (Session, None, true, Role::Administrator, false),
            (Session, None, false, Role::Owner, false),
            (Session, None, true, Role::Owner, true),
            (LegacyKey, None, false, Role::Annotator, false),
            (LegacyKey, None, false, Role::Owner, false),
            (AccessToken, None, false, Role::Annotator, true),
            (AccessToken, None, false, Role::Owner, true),
        ];
        for (kind, sso, factor, role, want) in cases {
            let got = admits(&who(kind, sso, factor), &org(), &membership(role));
            assert_eq!(
                got.is_ok(),
                want,
                "{kind:?} sso={sso:?} 2fa={factor} {role:?}"
            );
            if let Err(e) = got {
                assert!(
                    e.to_string().starts_with("Acme requires single sign-on"),
                    "{e}"
                );
            }
        }
    }
}
