//! `roster serve --demo`: a demo organization with an Owner, members in every role, a pending
//! sign-up, and a project with annotations, made through the same service calls as real use.

use roster_domain::{ProjectRole, Role, UserId};

use crate::invites::Joiner;
use crate::{Admin, Authorized, Context, Member, Result, Service, Staff};

/// The password every demo account shares; printed at start-up. Demo data only.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The demo organization's Owner.
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.roster";

/// The email domain of the demo people, verified for the demo organization.
pub const DEMO_DOMAIN: &str = "demo.roster";

/// What the demo created, for the start-up message.
#[derive(Debug, Clone)]
pub struct Demo {
    pub org_title: String,
    pub owner_email: String,
    pub accounts: Vec<(String, Role)>,
}

impl Service {
    /// Seeds the demo organization unless one exists already (idempotent across restarts).
    pub async fn seed_demo(&self) -> Result<Option<Demo>> {
        let ctx = Context::cli();
        let created = match self
            .init_first_org(
                "Demo Labeling Co",
                DEMO_OWNER_EMAIL,
                Some(DEMO_PASSWORD),
                &ctx,
            )
            .await
        {
            Ok(c) => c,
            Err(crate::ServiceError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let owner: Authorized<Admin> = self.operator_acting_as_owner(created.org.id).await?;
        // The demo people's domain is the demo organization's, so its identity provider
        // (SCIM, SSO) makes accounts at once, as a company's own domain does.
        self.operator_verify_domain(created.org.id, DEMO_DOMAIN)
            .await?;
        let people = [
            ("ada.admin@demo.roster", "Ada", "Admin", Role::Administrator),
            ("max.manager@demo.roster", "Max", "Manager", Role::Manager),
            (
                "rita.reviewer@demo.roster",
                "Rita",
                "Reviewer",
                Role::Reviewer,
            ),
            (
                "anna.annotator@demo.roster",
                "Anna",
                "Annotator",
                Role::Annotator,
            ),
            (
                "alan.annotator@demo.roster",
                "Alan",
                "Annotator",
                Role::Annotator,
            ),
            (
                "dora.deactivated@demo.roster",
                "Dora",
                "Deactivated",
                Role::Deactivated,
            ),
            (
                "pat.pending@demo.roster",
                "Pat",
                "Pending",
                Role::NotActivated,
            ),
        ];
        let token = &self.invite_token_of(&created.org)?;
        let mut accounts = vec![(created.owner.email.clone(), Role::Owner)];
        let mut ids: Vec<(UserId, Role)> = Vec::new();
        for (email, first, last, role) in people {
            let joiner = Joiner::Credentials {
                email,
                password: DEMO_PASSWORD,
                first_name: first,
                last_name: last,
            };
            let joined = self.join_with_link(token, joiner, &ctx).await?;
            if role != Role::NotActivated {
                self.assign_role(&owner, joined.user.id, role).await?;
            }
            ids.push((joined.user.id, role));
            accounts.push((email.to_string(), role));
        }
        let staff: Authorized<Staff> = owner.require()?;
        let project = self
            .create_project(
                &staff,
                "Street signs",
                "Label the signs in street photos.",
                None,
            )
            .await?;
        for (id, role) in &ids {
            let project_role = match role {
                Role::Reviewer => Some(ProjectRole::Reviewer),
                Role::Annotator => Some(ProjectRole::Annotator),
                _ => continue,
            };
            self.put_project_member(&staff, project.id, *id, project_role)
                .await?;
        }
        for (id, role) in &ids {
            if matches!(role, Role::Annotator | Role::Reviewer) {
                let who = self.authenticated_for(*id).await?;
                let member: Authorized<Member> = self
                    .authorize(&who, crate::OrgRef::Path(created.org.id.0), ctx.clone())
                    .await?;
                for label in ["stop", "yield"] {
                    self.create_annotation(
                        &member,
                        project.id,
                        &format!("{{\"label\":\"{label}\"}}"),
                    )
                    .await?;
                }
            }
        }
        Ok(Some(Demo {
            org_title: created.org.title,
            owner_email: created.owner.email,
            accounts,
        }))
    }

    /// Acts as a user without a credential: only the demo seeding and the CLI use this.
    async fn authenticated_for(&self, id: UserId) -> Result<crate::Authenticated> {
        let mut c = self.store().read().await?;
        let (user, access) = roster_store::credentials::user_with_access(&mut c, id)
            .await?
            .ok_or_else(|| crate::ServiceError::not_found("user"))?;
        Ok(crate::Authenticated::signed_in(
            user,
            access,
            crate::CredentialKind::Session,
        ))
    }
}
