//! Signing in through an organization's identity provider: the AuthnRequest roster sends
//! (SP-initiated), the Response the IdP posts to the ACS (SP- or IdP-initiated), and what it
//! does to the person's account and membership. `roster-saml` verifies the message; here the
//! checks that need the database (the outstanding request, the replay cache, shared by every
//! roster node) and the membership, through the one membership path with SAML as the actor.

use roster_domain::saml::{
    admits, decide_login, same_site_path, LoginChange, LoginFacts, LoginRefusal, Standing,
};
use roster_domain::{OrgId, Role, RuleViolation, UserId};
use roster_saml::{Expectations, VerifiedAssertion};
use roster_store::saml::{self as store, SamlIdentityRecord, SamlSettingsRecord};
use roster_store::scim::ScimUserRecord;
use roster_store::{members, orgs, scim, users, Conn, MembershipRecord, WriteTx};
use serde::{Deserialize, Serialize};

use super::settings::SamlSettings;
use crate::accounts::{normalize_email, NewSession};
use crate::membership::{Actor, Change, Idp, JoinVia};
use crate::scim::prune_workspaces;
use crate::{clock, Authenticated, Context, CredentialKind, Result, Service, ServiceError};

/// How long an AuthnRequest waits for its answer.
const REQUEST_TTL: i64 = 10 * clock::MINUTE;
/// Sign-ins an organization may have waiting for the IdP at once: starting one writes a row
/// before anyone is known, so the number is bounded.
const MAX_OUTSTANDING: i64 = 10_000;
/// How long someone has to sign in with their password to link their account.
const LINK_TTL: i64 = 15 * clock::MINUTE;

/// What a verified Response led to.
#[derive(Debug)]
pub enum SamlSignIn {
    /// A session acting in the organization only, and the same-site path to go to.
    SignedIn { session: NewSession, go_to: String },
    /// The email has an account that this organization's identity provider may not open by
    /// itself (its domain is not verified here): the person signs in with their own
    /// credentials once to link it. `sealed` carries the vouched-for facts meanwhile.
    LinkNeeded {
        sealed: String,
        email: String,
        org_title: String,
    },
}

/// The facts an identity provider vouched for, kept (sealed, in the browser) while the person
/// proves with their password that the existing account is theirs.
#[derive(Debug, Serialize, Deserialize)]
struct PendingLink {
    org: i64,
    user: i64,
    name_id: String,
    groups: Vec<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    go_to: String,
    expires_at: i64,
}

/// What roster reads from a verified assertion, by the organization's attribute names.
struct Person {
    email: String,
    name_id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    groups: Vec<String>,
}

fn refused(e: LoginRefusal) -> ServiceError {
    ServiceError::Forbidden(format!("{e}."))
}

/// Changes a sign-in makes are recorded with the identity provider as their source.
fn saml_context(ctx: &Context) -> Context {
    Context {
        source: roster_domain::Source::Saml,
        address: ctx.address.clone(),
    }
}

fn no_sso() -> ServiceError {
    ServiceError::not_found("No single sign-on is set up here.")
}

/// A seat refusal, in words for the person signing in rather than for an administrator.
fn for_the_person(e: ServiceError, org: &str) -> ServiceError {
    match e {
        ServiceError::Rule(RuleViolation::NoFreeSeat(_)) => ServiceError::Forbidden(format!(
            "{org} has no free seat for you right now. Ask an Owner or Administrator to free \
             one or raise the limit, then sign in again."
        )),
        other => other,
    }
}

/// Where a person stands in the organization when a sign-in is decided, read fresh.
pub(super) struct LoginState {
    pub live: Option<MembershipRecord>,
    pub scim_user: Option<ScimUserRecord>,
    /// What the domain's `decide_login` reads besides the groups.
    pub facts: LoginFacts,
}

/// The facts a sign-in of `user` is decided by: shared by the sign-in and its preview.
pub(super) async fn login_state(
    c: &mut Conn,
    org: OrgId,
    user: UserId,
    manual_role_management: bool,
) -> Result<LoginState> {
    let live = members::live(c, org, user).await?;
    let scim_user = scim::user_of_account(c, org, user).await?;
    let standing = match &live {
        Some(m) => Standing::Member {
            role: m.role,
            source: m.role_source,
        },
        None if members::was_removed(c, org, user).await? => Standing::Removed,
        None => Standing::Newcomer,
    };
    let facts = LoginFacts {
        standing,
        scim_inactive: scim_user.as_ref().is_some_and(|su| !su.active),
        manual_role_management,
    };
    Ok(LoginState {
        live,
        scim_user,
        facts,
    })
}

impl Person {
    fn from_assertion(a: &VerifiedAssertion, s: &SamlSettings) -> Result<Person> {
        let first = |name: &str| {
            a.attributes
                .get(name)
                .and_then(|v| v.iter().map(|x| x.trim()).find(|x| !x.is_empty()))
                .map(str::to_string)
        };
        // The email attribute, else a NameID that is an email (the emailAddress format).
        let raw = first(&s.attributes.email).unwrap_or_else(|| a.name_id.clone());
        let email = normalize_email(&raw).map_err(|_| {
            ServiceError::Forbidden(format!(
                "Your identity provider sent no usable email address (attribute \"{}\" or the \
                 NameID); ask your IT administrator to send it.",
                s.attributes.email
            ))
        })?;
        let name = |attr: &str| first(attr).map(|n| n.chars().take(150).collect::<String>());
        let mut groups: Vec<String> = a
            .attributes
            .get(&s.attributes.groups)
            .map(|v| v.iter().filter(|g| !g.is_empty()).cloned().collect())
            .unwrap_or_default();
        groups.sort();
        groups.dedup();
        Ok(Person {
            email,
            name_id: a.name_id.clone(),
            first_name: name(&s.attributes.first_name),
            last_name: name(&s.attributes.last_name),
            groups,
        })
    }
}

impl Service {
    /// "Sign in with SSO" on the sign-in page: the same-site path that starts the sign-in
    /// through the identity provider of the organization that routes people with this email.
    /// That is the organization whose SAML settings list the email's domain and for which the
    /// domain is verified: a listed domain alone is only a claim, which anyone could make.
    pub async fn saml_login_for_email(&self, email: &str, next: Option<&str>) -> Result<String> {
        let email = normalize_email(email)
            .map_err(|_| ServiceError::invalid("email", "give your work email address"))?;
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_default();
        let nobody = || {
            ServiceError::not_found(format!(
                "No organization signs in people from {domain} through single sign-on; sign \
                 in with your password."
            ))
        };
        let mut c = self.store().read().await?;
        let org = roster_store::domains::domain_org(&mut c, &domain)
            .await?
            .ok_or_else(nobody)?;
        let record = store::settings(&mut c, org).await?.ok_or_else(nobody)?;
        let settings = SamlSettings::from_record(&record)?;
        if !settings.domains.contains(&domain) || settings.idp.is_none() {
            return Err(nobody());
        }
        let mut path = format!("/saml/{}/login", record.token);
        if let Some(next) = next.and_then(same_site_path) {
            path.push_str("?next=");
            path.extend(url::form_urlencoded::byte_serialize(next.as_bytes()));
        }
        Ok(path)
    }

    /// Starts an SP-initiated sign-in: remembers a new AuthnRequest (and where to go after)
    /// and answers the identity provider's URL to send the browser to.
    pub async fn saml_login_redirect(&self, token: &str, next: Option<&str>) -> Result<String> {
        let record = self.saml_record(token).await?;
        let settings = SamlSettings::from_record(&record)?;
        let idp = settings.idp.as_ref().ok_or_else(no_sso)?;
        let sso_url = idp.sso_redirect_url.as_deref().ok_or_else(|| {
            ServiceError::Forbidden(
                "The identity provider's metadata offers no HTTP-Redirect sign-in endpoint; \
                 start the sign-in from the identity provider instead."
                    .into(),
            )
        })?;
        let sp = self.sp_config(&record)?;
        let id = roster_saml::new_request_id();
        let now = self.now();
        let url =
            roster_saml::authn_request_redirect_url(&sp, sso_url, &id, now / clock::SECOND, None)
                .map_err(|e| ServiceError::Internal(format!("the AuthnRequest: {e}")))?;
        let mut tx = self.store().write().await?;
        store::sweep(&mut tx, now).await?;
        if store::outstanding_requests(&mut tx, record.org, now).await? >= MAX_OUTSTANDING {
            return Err(ServiceError::Busy(60));
        }
        store::insert_request(
            &mut tx,
            &id,
            record.org,
            next.and_then(same_site_path),
            now,
            now + REQUEST_TTL,
        )
        .await?;
        tx.commit().await?;
        Ok(url)
    }

    /// The assertion consumer service: verifies the Response the identity provider posted,
    /// then signs the person in to the organization, creating or updating their membership
    /// by the organization's mapping. A refused Response changes nothing.
    pub async fn saml_acs(
        &self,
        token: &str,
        saml_response: &str,
        relay_state: Option<&str>,
        ctx: &Context,
    ) -> Result<SamlSignIn> {
        let record = self.saml_record(token).await?;
        let settings = SamlSettings::from_record(&record)?;
        let assertion = self
            .verify_saml_response(&record, &settings, saml_response)
            .await?;
        let person = Person::from_assertion(&assertion, &settings)?;
        let org = record.org;
        let now = self.now();
        let ctx = saml_context(ctx);
        let (mut tx, org_rec) = self.locked_org(org).await?;
        store::sweep(&mut tx, now).await?;
        // The request this answers is consumed; an IdP-initiated response may name a path.
        let go_to = match &assertion.in_response_to {
            Some(id) => store::take_request(&mut tx, id, org, now)
                .await?
                .ok_or_else(|| {
                    ServiceError::Unauthenticated(
                        "This answer of the identity provider is for a sign-in roster did not \
                         start, has already used, or that took too long; start again."
                            .into(),
                    )
                })?,
            None => relay_state.and_then(same_site_path).map(str::to_string),
        }
        .unwrap_or_else(|| "/".to_string());
        let skew = self.config().saml.clock_skew_secs;
        let expires = (assertion.not_on_or_after_unix + skew) * clock::SECOND;
        if !store::remember_assertion(&mut tx, org, &assertion.assertion_id, expires).await? {
            return Err(ServiceError::Unauthenticated(
                "This answer of the identity provider has already been used; sign in again.".into(),
            ));
        }

        let verified = self
            .domain_verified_for(&mut tx, org, &person.email)
            .await?;
        let account = match users::by_email(&mut tx, &person.email).await? {
            Some(account) => account,
            None if verified => {
                let id = users::insert(
                    &mut tx,
                    users::NewUser {
                        email: &person.email,
                        username: &person.email,
                        first_name: person.first_name.as_deref().unwrap_or(""),
                        last_name: person.last_name.as_deref().unwrap_or(""),
                        password_hash: None,
                        now,
                    },
                )
                .await?;
                users::by_id(&mut tx, id)
                    .await?
                    .ok_or_else(|| ServiceError::Internal("a new account vanished".into()))?
            }
            None => {
                return Err(ServiceError::Forbidden(format!(
                    "{}'s single sign-on creates accounts only for addresses in the \
                     organization's verified domains, and {} is not in one. Ask an Owner or \
                     Administrator for an invite.",
                    org_rec.title, person.email
                )))
            }
        };
        let live = members::live_with_user(&mut tx, org, account.id).await?;
        if live.is_none() && !verified && !members::was_removed(&mut tx, org, account.id).await? {
            // Someone's existing account in a domain this organization does not control:
            // only the person can link it, by signing in once with their own credentials.
            tx.commit().await?;
            let link = PendingLink {
                org: org.0,
                user: account.id.0,
                name_id: person.name_id,
                groups: person.groups,
                first_name: person.first_name,
                last_name: person.last_name,
                go_to,
                expires_at: now + LINK_TTL,
            };
            let json = serde_json::to_string(&link)
                .map_err(|e| ServiceError::Internal(format!("a pending link: {e}")))?;
            return Ok(SamlSignIn::LinkNeeded {
                sealed: self.secrets().seal(&json),
                email: account.email,
                org_title: org_rec.title,
            });
        }
        let role = match self
            .apply_saml_login(&mut tx, &record, &settings, account.id, &person, &ctx)
            .await
        {
            Ok(role) => role,
            Err(e) => return Err(for_the_person(e, &org_rec.title)),
        };
        if let Err(why) = admits(role) {
            // The role follows the groups even when it leaves the person out.
            tx.commit().await?;
            return Err(refused(why));
        }
        let session = self
            .start_scoped_session_tx(&mut tx, account.id, Some(org))
            .await?;
        tx.commit().await?;
        Ok(SamlSignIn::SignedIn { session, go_to })
    }

    /// The account and organization a pending link would join, for the page that asks the
    /// signed-in person to confirm it: (email, organization title).
    pub async fn saml_link_preview(
        &self,
        who: &Authenticated,
        sealed: &str,
    ) -> Result<(String, String)> {
        let link = self.open_link(who, sealed)?;
        let title = self.org_title(OrgId(link.org)).await?;
        Ok((who.user.email.clone(), title))
    }

    /// A pending link, when it is the signed-in person's (on a password session) and fresh.
    fn open_link(&self, who: &Authenticated, sealed: &str) -> Result<PendingLink> {
        let stale = || {
            ServiceError::invalid(
                "link",
                "This link request has expired or is not yours; sign in through your identity provider again.",
            )
        };
        if who.kind != CredentialKind::Session || who.sso_org.is_some() {
            return Err(ServiceError::Forbidden(
                "Sign in with your own password to link your account.".into(),
            ));
        }
        let link: PendingLink = self
            .secrets()
            .open(sealed)
            .and_then(|json| serde_json::from_str(&json).ok())
            .ok_or_else(stale)?;
        if link.user != who.user.id.0 || link.expires_at <= self.now() {
            return Err(stale());
        }
        Ok(link)
    }

    /// Links an existing account to the organization's single sign-on, once the person has
    /// signed in with their own credentials (a password session, not one an IdP started):
    /// they join by the mapping of the sign-in that asked for the link. Where to go next.
    pub async fn saml_link(
        &self,
        who: &Authenticated,
        sealed: &str,
        ctx: &Context,
    ) -> Result<String> {
        let link = self.open_link(who, sealed)?;
        let org = OrgId(link.org);
        let mut c = self.store().read().await?;
        let record = store::settings(&mut c, org).await?.ok_or_else(no_sso)?;
        drop(c);
        let settings = SamlSettings::from_record(&record)?;
        let person = Person {
            email: who.user.email.clone(),
            name_id: link.name_id,
            first_name: link.first_name,
            last_name: link.last_name,
            groups: link.groups,
        };
        let ctx = saml_context(ctx);
        let (mut tx, org_rec) = self.locked_org(org).await?;
        let title = org_rec.title;
        let role = self
            .apply_saml_login(&mut tx, &record, &settings, who.user.id, &person, &ctx)
            .await
            .map_err(|e| for_the_person(e, &title))?;
        tx.commit().await?;
        admits(role).map_err(refused)?;
        Ok(link.go_to)
    }

    /// What a sign-in does in the organization, in its transaction: the domain decides from
    /// where the person stands and their groups; the membership path applies the role; the
    /// mapped projects and workspaces, the names and the identity record follow. The role they end with.
    async fn apply_saml_login(
        &self,
        tx: &mut WriteTx,
        record: &SamlSettingsRecord,
        settings: &SamlSettings,
        user: UserId,
        person: &Person,
        ctx: &Context,
    ) -> Result<Role> {
        let org = record.org;
        let now = self.now();
        let actor = Actor::IdentityProvider {
            idp: Idp::Saml,
            on_behalf_of: None,
        };
        let org_rec = orgs::by_id(tx, org).await?.ok_or_else(no_sso)?;
        let account = users::by_id(tx, user)
            .await?
            .ok_or_else(|| ServiceError::Unauthenticated("User not found".into()))?;
        let LoginState {
            live,
            scim_user,
            facts,
        } = login_state(tx, org, user, org_rec.manual_role_management).await?;
        let role = match decide_login(&settings.mapping, &person.groups, facts).map_err(refused)? {
            LoginChange::Join(role) => {
                let change = Change::Join {
                    user: &account,
                    via: JoinVia::Direct(role),
                };
                self.change_membership(tx, org, &actor, change, ctx).await?;
                role
            }
            LoginChange::SetRole(role) => {
                let current = live.as_ref().map(|m| m.role);
                if current != Some(role) {
                    let change = Change::SetRole { target: user, role };
                    self.change_membership(tx, org, &actor, change, ctx).await?;
                }
                role
            }
            LoginChange::Keep => live.as_ref().map_or(Role::NotActivated, |m| m.role),
        };
        // People whose projects SCIM assigns keep SCIM's (Label Studio's interplay).
        let scim_assigns_projects = match &scim_user {
            Some(su) => {
                let scim_settings = self.scim_settings_tx(tx, org).await?;
                let groups: Vec<String> = scim::groups_of(tx, &su.id)
                    .await?
                    .into_iter()
                    .map(|(_, name)| name)
                    .collect();
                !scim_settings.mapping.project_roles(&groups).is_empty()
            }
            None => false,
        };
        if role.takes_seat() && !scim_assigns_projects {
            self.apply_project_mapping(
                tx,
                org,
                &actor,
                ctx,
                &settings.mapping,
                user,
                &person.groups,
            )
            .await?;
        }
        // Workspaces SAML gave follow the groups of each sign-in; SCIM's stay SCIM's.
        if role.takes_seat() {
            let mut mapping = settings.mapping.clone();
            prune_workspaces(tx, org, &mut mapping).await?;
            self.apply_workspace_mapping(
                tx,
                org,
                Idp::Saml,
                &actor,
                ctx,
                &mapping,
                user,
                &person.groups,
            )
            .await?;
        }
        self.apply_idp_names(
            tx,
            org,
            &account,
            person.first_name.as_deref(),
            person.last_name.as_deref(),
        )
        .await?;
        let groups = serde_json::to_string(&person.groups)
            .map_err(|e| ServiceError::Internal(format!("groups: {e}")))?;
        store::put_identity(
            tx,
            &SamlIdentityRecord {
                org,
                user,
                name_id: person.name_id.clone(),
                groups,
                last_login_at: now,
            },
        )
        .await?;
        Ok(role)
    }

    /// A write transaction holding the organization's membership lock, and the organization.
    async fn locked_org(&self, org: OrgId) -> Result<(WriteTx, roster_store::OrgRecord)> {
        let mut tx = self.store().write().await?;
        if !orgs::lock_for_membership_change(&mut tx, org).await? {
            return Err(no_sso());
        }
        let rec = orgs::by_id(&mut tx, org).await?.ok_or_else(no_sso)?;
        Ok((tx, rec))
    }

    /// The settings behind the token in the service provider's URLs.
    async fn saml_record(&self, token: &str) -> Result<SamlSettingsRecord> {
        let mut c = self.store().read().await?;
        store::settings_by_token(&mut c, token)
            .await?
            .ok_or_else(no_sso)
    }

    /// Verifies a Response against the organization's identity provider (off the async
    /// threads: it is public-key cryptography over XML).
    async fn verify_saml_response(
        &self,
        record: &SamlSettingsRecord,
        settings: &SamlSettings,
        saml_response: &str,
    ) -> Result<VerifiedAssertion> {
        let idp = settings.idp.clone().ok_or_else(no_sso)?;
        let sp = self.sp_config(record)?;
        let now_unix = self.now() / clock::SECOND;
        let skew = self.config().saml.clock_skew_secs;
        let response = saml_response.to_string();
        let verified = tokio::task::spawn_blocking(move || {
            roster_saml::verify_response(
                &response,
                &Expectations {
                    sp_entity_id: &sp.entity_id,
                    acs_url: &sp.acs_url,
                    idp_entity_id: &idp.entity_id,
                    idp_certs: &idp.signing_certs,
                    now_unix,
                    clock_skew_secs: skew,
                    sp_key_pem: sp.key_pem.as_deref(),
                },
            )
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("SAML verification: {e}")))?;
        verified.map_err(|e| {
            tracing::warn!(org = record.org.0, error = %e, "SAML response refused");
            ServiceError::Unauthenticated(format!(
                "Your identity provider's answer was refused ({e}). Nothing was changed; \
                 sign in again, and if this persists tell your IT administrator."
            ))
        })
    }
}
