//! The membership rules of the product, each decided here and nowhere else: the one Owner and
//! its transfer, no self re-role or self-delete, Administrators and the Owner, seats,
//! IdP-managed roles and IdP-given workspace and project memberships, and the role a link
//! sign-up receives.

use crate::{Role, RoleSource, SeatUsage, UserId};

/// One side of a membership decision: a person and their current live membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Party {
    pub user: UserId,
    pub role: Role,
    pub source: RoleSource,
}

/// Whether an actor is changing roles by hand (web, REST, CLI) or as an identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Manual,
    IdentityProvider,
}

/// The organization settings the rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgRules {
    pub manual_role_management: bool,
    /// People may remove workspace memberships an identity provider gave.
    pub manual_workspace_management: bool,
    /// People may remove or re-role project memberships an identity provider gave.
    pub manual_project_member_management: bool,
}

impl OrgRules {
    /// Every hand change allowed (the organization's defaults).
    pub const MANUAL: OrgRules = OrgRules {
        manual_role_management: true,
        manual_workspace_management: true,
        manual_project_member_management: true,
    };
}

/// A membership below the organization that an identity provider's group mapping may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Workspace,
    Project,
}

/// A rule that refuses a change. Each maps to one HTTP status in the adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error(
        "You cannot change your own role or remove yourself; ask another Owner or Administrator"
    )]
    SelfChange,
    #[error("Only the Owner can hand over ownership")]
    OnlyOwnerTransfers,
    #[error("The Owner's role cannot be changed, and the Owner cannot be deactivated or deleted; the Owner can hand ownership to another member")]
    OwnerIsProtected,
    #[error("Ownership can only go to a member in an active role (Administrator, Manager, Reviewer or Annotator); this member is {0}")]
    TransferTargetInactive(&'static str),
    #[error("{}; deactivate a member or raise the limit", .0.describe())]
    NoFreeSeat(SeatUsage),
    #[error("This member's role is managed by {0}, the source of truth while manual role management is off; change it there")]
    IdpManaged(&'static str),
    #[error("This workspace membership was given by {0} through a group mapping, the source of truth while manual workspace management is off; change the person's groups there, or turn manual workspace management on")]
    IdpManagedWorkspace(&'static str),
    #[error("This project membership was given by {0} through a group mapping, the source of truth while manual project member management is off; change the person's groups there, or turn manual project member management on")]
    IdpManagedProjectMember(&'static str),
    #[error(
        "{0} cannot be the default role for sign-ups; choose Not Activated, Annotator or Reviewer"
    )]
    DefaultRoleNotAllowed(&'static str),
    #[error("Identity providers do not manage the Owner")]
    IdpCannotManageOwner,
    #[error("You were removed from this organization; the shared invite link cannot bring you back. Ask an Owner or Administrator for a personal invite")]
    RemovedMemberNeedsInvite,
    #[error("This person also belongs to other organizations; only they can change their name")]
    ProfileBelongsElsewhere,
    #[error("{0} cannot be given by an invite")]
    NotAnInviteRole(&'static str),
    #[error("Only the Owner sets the seat limit.")]
    OnlyOwnerSetsSeats,
    #[error("Only the Owner decides whether members must sign in through single sign-on.")]
    OnlyOwnerSetsSsoOnly,
}

/// What a permitted role assignment does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    /// The member already has this role; nothing to write.
    Unchanged,
    /// The member moves from one role to another.
    Assign { from: Role, to: Role },
    /// The Owner hands ownership to `new_owner`, and becomes an Administrator.
    TransferOwnership {
        new_owner: UserId,
        previous_role: Role,
        old_owner: UserId,
    },
}

/// Facts about the target that the seat rule needs beyond its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeatFacts {
    /// The target already holds a seat through a pending email invite with a working role,
    /// so activating them uses that seat rather than a new one.
    pub holds_invite_seat: bool,
}

/// Decides a role assignment by `actor` on `target`. `actor` is `None` when an identity
/// provider acts (it is nobody's membership).
pub fn decide_role_change(
    actor: Option<&Party>,
    target: &Party,
    new_role: Role,
    origin: Origin,
    org: OrgRules,
    seats: SeatUsage,
    facts: SeatFacts,
) -> Result<RoleChange, RuleViolation> {
    if let Some(actor) = actor {
        if actor.user == target.user {
            return Err(RuleViolation::SelfChange);
        }
    }
    if origin == Origin::IdentityProvider && (target.role == Role::Owner || new_role == Role::Owner)
    {
        return Err(RuleViolation::IdpCannotManageOwner);
    }
    if new_role == Role::Owner {
        let actor = actor.ok_or(RuleViolation::OnlyOwnerTransfers)?;
        if actor.role != Role::Owner {
            return Err(RuleViolation::OnlyOwnerTransfers);
        }
        if !target.role.is_active() {
            return Err(RuleViolation::TransferTargetInactive(target.role.name()));
        }
        return Ok(RoleChange::TransferOwnership {
            new_owner: target.user,
            previous_role: target.role,
            old_owner: actor.user,
        });
    }
    if target.role == Role::Owner {
        return Err(RuleViolation::OwnerIsProtected);
    }
    if origin == Origin::Manual
        && !org.manual_role_management
        && target.source.is_identity_provider()
    {
        return Err(RuleViolation::IdpManaged(target.source.display_name()));
    }
    if target.role == new_role {
        return Ok(RoleChange::Unchanged);
    }
    let needs_seat = new_role.takes_seat() && !target.role.takes_seat() && !facts.holds_invite_seat;
    if needs_seat && !seats.fits(1) {
        return Err(RuleViolation::NoFreeSeat(seats));
    }
    Ok(RoleChange::Assign {
        from: target.role,
        to: new_role,
    })
}

/// Whether an actor of `origin` may remove, or change the project role of, a workspace or
/// project membership that `source` made. An identity provider always may (its group mapping
/// is the source of truth); people (web, REST API, command line) may change what they made
/// themselves, and what an identity provider gave only while the organization's manual
/// management of that kind of membership is on.
pub fn check_held_change(
    origin: Origin,
    org: OrgRules,
    held: Held,
    source: RoleSource,
) -> Result<(), RuleViolation> {
    let manual = match held {
        Held::Workspace => org.manual_workspace_management,
        Held::Project => org.manual_project_member_management,
    };
    if origin == Origin::Manual && !manual && source.is_identity_provider() {
        let by = source.display_name();
        return Err(match held {
            Held::Workspace => RuleViolation::IdpManagedWorkspace(by),
            Held::Project => RuleViolation::IdpManagedProjectMember(by),
        });
    }
    Ok(())
}

/// Decides whether `actor` may delete `target`'s membership.
pub fn decide_deletion(actor: Option<&Party>, target: &Party) -> Result<(), RuleViolation> {
    if let Some(actor) = actor {
        if actor.user == target.user {
            return Err(RuleViolation::SelfChange);
        }
    }
    if target.role == Role::Owner {
        return Err(RuleViolation::OwnerIsProtected);
    }
    Ok(())
}

/// Decides whether someone may join directly in `role` (an import, or an Administrator adding
/// them by email): never as Owner, and a working role needs a free seat unless an invite
/// already holds one for them.
pub fn check_direct_join(
    role: Role,
    seats: SeatUsage,
    facts: SeatFacts,
) -> Result<(), RuleViolation> {
    if role == Role::Owner {
        return Err(RuleViolation::OnlyOwnerTransfers);
    }
    if role.takes_seat() && !facts.holds_invite_seat && !seats.fits(1) {
        return Err(RuleViolation::NoFreeSeat(seats));
    }
    Ok(())
}

/// Validates a default role for link sign-ups.
pub fn check_default_role(role: Role) -> Result<(), RuleViolation> {
    if role.allowed_as_default() {
        Ok(())
    } else {
        Err(RuleViolation::DefaultRoleNotAllowed(role.name()))
    }
}

/// The roles a personal invite may carry, in the order pages offer them: any working role
/// but Owner (ownership is handed over, never given) and Not Activated; never Deactivated.
pub const INVITE_ROLES: [Role; 5] = [
    Role::Annotator,
    Role::Reviewer,
    Role::Manager,
    Role::Administrator,
    Role::NotActivated,
];

/// Whether a personal invite may carry `role`.
pub fn check_invite_role(role: Role) -> Result<(), RuleViolation> {
    if INVITE_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(RuleViolation::NotAnInviteRole(role.name()))
    }
}

/// The roles `actor` may offer for a member now in `current` (the Organization page's
/// drop-down reads this): an Owner may name anyone Owner (the transfer), others any role but
/// Owner; the Owner's own row shows Owner, which nobody else can change anyway.
pub fn assignable_roles(actor: Role, current: Role) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Owner || actor == Role::Owner || current == Role::Owner)
        .collect()
}

/// An organization setting that only the Owner may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerSetting {
    SeatLimit,
    Ownership,
    /// Whether members sign in through the identity provider only.
    SsoOnly,
}

/// Whether `actor` may change an Owner-only setting.
pub fn check_owner_setting(actor: Role, setting: OwnerSetting) -> Result<(), RuleViolation> {
    if actor == Role::Owner {
        Ok(())
    } else {
        Err(match setting {
            OwnerSetting::SeatLimit => RuleViolation::OnlyOwnerSetsSeats,
            OwnerSetting::Ownership => RuleViolation::OnlyOwnerTransfers,
            OwnerSetting::SsoOnly => RuleViolation::OnlyOwnerSetsSsoOnly,
        })
    }
}

/// Whether an Owner or Administrator (`actor`) may edit another member's names (PRODUCT.md
/// rule 11): a profile belongs to its person, so only a member whose one live membership is
/// in this organization, and never the Owner by an Administrator.
pub fn check_name_edit(
    actor: Role,
    target: Role,
    target_live_memberships: usize,
) -> Result<(), RuleViolation> {
    if target == Role::Owner && actor != Role::Owner {
        return Err(RuleViolation::OwnerIsProtected);
    }
    if target_live_memberships > 1 {
        return Err(RuleViolation::ProfileBelongsElsewhere);
    }
    Ok(())
}

/// Whether someone may join through the organization's shared invite link: a person whose
/// membership was deleted comes back only through a personal email invite or an Owner or
/// Administrator adding them (the seed's "you will need to re-invite them").
pub fn check_link_join(was_removed: bool) -> Result<(), RuleViolation> {
    if was_removed {
        Err(RuleViolation::RemovedMemberNeedsInvite)
    } else {
        Ok(())
    }
}

/// The role someone receives when joining through the organization's invite link: the
/// default role, or Not Activated when that role needs a seat and none is free.
pub fn link_signup_role(default_role: Role, seats: SeatUsage) -> Role {
    if default_role.takes_seat() && !seats.fits(1) {
        Role::NotActivated
    } else {
        default_role
    }
}

/// How many new seats a batch of email invites with `role` needs: one for each email that does
/// not already hold one (as a live working member, or through another pending invite).
pub fn seats_needed_for_invites(role: Role, emails_without_seat: usize) -> i64 {
    if role.takes_seat() {
        emails_without_seat as i64
    } else {
        0
    }
}

/// Checks that a batch of invites fits under the seat limit.
pub fn check_invites_fit(
    role: Role,
    emails_without_seat: usize,
    seats: SeatUsage,
) -> Result<(), RuleViolation> {
    let needed = seats_needed_for_invites(role, emails_without_seat);
    if seats.fits(needed) {
        Ok(())
    } else {
        Err(RuleViolation::NoFreeSeat(seats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invites_carry_any_role_but_owner_and_deactivated() {
        for role in Role::ALL {
            let allowed = !matches!(role, Role::Owner | Role::Deactivated);
            assert_eq!(check_invite_role(role).is_ok(), allowed, "{role:?}");
        }
    }

    #[test]
    fn the_drop_down_offers_owner_only_to_the_owner() {
        use Role::*;
        let table = [
            (Owner, Annotator, true),
            (Administrator, Annotator, false),
            (Administrator, Owner, true),
            (Manager, Reviewer, false),
        ];
        for (actor, current, offers_owner) in table {
            let roles = assignable_roles(actor, current);
            assert_eq!(
                roles.contains(&Owner),
                offers_owner,
                "{actor:?} on {current:?}"
            );
            assert_eq!(roles.len(), Role::ALL.len() - usize::from(!offers_owner));
        }
    }

    #[test]
    fn only_the_owner_changes_owner_settings() {
        for role in Role::ALL {
            for setting in [
                OwnerSetting::SeatLimit,
                OwnerSetting::Ownership,
                OwnerSetting::SsoOnly,
            ] {
                assert_eq!(
                    check_owner_setting(role, setting).is_ok(),
                    role == Role::Owner
                );
            }
        }
    }

    #[test]
    fn names_are_edited_only_for_people_of_this_organization_alone() {
        use Role::*;
        assert_eq!(check_name_edit(Owner, Annotator, 1), Ok(()));
        assert_eq!(check_name_edit(Administrator, Manager, 1), Ok(()));
        assert_eq!(check_name_edit(Owner, Administrator, 1), Ok(()));
        assert_eq!(
            check_name_edit(Administrator, Owner, 1),
            Err(RuleViolation::OwnerIsProtected)
        );
        assert_eq!(
            check_name_edit(Owner, Annotator, 2),
            Err(RuleViolation::ProfileBelongsElsewhere)
        );
        assert_eq!(
            check_name_edit(Administrator, Owner, 2),
            Err(RuleViolation::OwnerIsProtected)
        );
    }

    #[test]
    fn only_people_never_removed_join_through_the_shared_link() {
        assert_eq!(check_link_join(false), Ok(()));
        assert_eq!(
            check_link_join(true),
            Err(RuleViolation::RemovedMemberNeedsInvite)
        );
    }

    const MANUAL_ON: OrgRules = OrgRules::MANUAL;
    const MANUAL_OFF: OrgRules = OrgRules {
        manual_role_management: false,
        ..OrgRules::MANUAL
    };

    #[test]
    fn idp_given_workspace_and_project_memberships_follow_their_own_flag() {
        let sources = [
            RoleSource::Manual,
            RoleSource::Api,
            RoleSource::Invite,
            RoleSource::Scim,
            RoleSource::Saml,
        ];
        for held in [Held::Workspace, Held::Project] {
            for flag in [true, false] {
                let org = OrgRules {
                    manual_role_management: true,
                    manual_workspace_management: flag || held == Held::Project,
                    manual_project_member_management: flag || held == Held::Workspace,
                };
                for source in sources {
                    for origin in [Origin::Manual, Origin::IdentityProvider] {
                        let refused =
                            origin == Origin::Manual && !flag && source.is_identity_provider();
                        assert_eq!(
                            check_held_change(origin, org, held, source).is_err(),
                            refused,
                            "{held:?} flag={flag} {source:?} {origin:?}"
                        );
                    }
                }
            }
        }
        // One flag off leaves the other kind of membership to people.
        let workspaces_off = OrgRules {
            manual_workspace_management: false,
            ..OrgRules::MANUAL
        };
        assert!(check_held_change(
            Origin::Manual,
            workspaces_off,
            Held::Project,
            RoleSource::Scim
        )
        .is_ok());
        assert_eq!(
            check_held_change(
                Origin::Manual,
                workspaces_off,
                Held::Workspace,
                RoleSource::Saml
            ),
            Err(RuleViolation::IdpManagedWorkspace("SAML"))
        );
        assert_eq!(
            RuleViolation::IdpManagedProjectMember("SCIM").to_string(),
            "This project membership was given by SCIM through a group mapping, the source of \
             truth while manual project member management is off; change the person's groups \
             there, or turn manual project member management on"
        );
    }
    const UNLIMITED: SeatUsage = SeatUsage {
        limit: None,
        active: 3,
        pending_invites: 0,
    };
    const FULL: SeatUsage = SeatUsage {
        limit: Some(3),
        active: 3,
        pending_invites: 0,
    };

    fn party(id: i64, role: Role) -> Party {
        Party {
            user: UserId(id),
            role,
            source: RoleSource::Manual,
        }
    }

    fn change(
        actor: &Party,
        target: &Party,
        to: Role,
        seats: SeatUsage,
    ) -> Result<RoleChange, RuleViolation> {
        decide_role_change(
            Some(actor),
            target,
            to,
            Origin::Manual,
            MANUAL_ON,
            seats,
            SeatFacts::default(),
        )
    }

    #[test]
    fn activation_assigns_a_role_to_a_pending_member() {
        let admin = party(1, Role::Administrator);
        let pending = party(2, Role::NotActivated);
        assert_eq!(
            change(&admin, &pending, Role::Annotator, UNLIMITED),
            Ok(RoleChange::Assign {
                from: Role::NotActivated,
                to: Role::Annotator
            })
        );
    }

    #[test]
    fn no_seat_no_activation() {
        let admin = party(1, Role::Administrator);
        let pending = party(2, Role::NotActivated);
        let err = change(&admin, &pending, Role::Annotator, FULL).unwrap_err();
        assert_eq!(err, RuleViolation::NoFreeSeat(FULL));
        assert_eq!(
            err.to_string(),
            "3 of 3 seats in use; deactivate a member or raise the limit"
        );
    }

    #[test]
    fn moving_between_working_roles_needs_no_new_seat() {
        let admin = party(1, Role::Administrator);
        let annotator = party(2, Role::Annotator);
        assert!(change(&admin, &annotator, Role::Reviewer, FULL).is_ok());
    }

    #[test]
    fn deactivation_never_needs_a_seat() {
        let admin = party(1, Role::Administrator);
        let annotator = party(2, Role::Annotator);
        let over = SeatUsage {
            limit: Some(1),
            active: 5,
            pending_invites: 0,
        };
        assert_eq!(
            change(&admin, &annotator, Role::Deactivated, over),
            Ok(RoleChange::Assign {
                from: Role::Annotator,
                to: Role::Deactivated
            })
        );
    }

    #[test]
    fn a_pending_invite_seat_covers_its_own_activation() {
        let admin = party(1, Role::Owner);
        let pending = party(2, Role::NotActivated);
        let facts = SeatFacts {
            holds_invite_seat: true,
        };
        let r = decide_role_change(
            Some(&admin),
            &pending,
            Role::Annotator,
            Origin::Manual,
            MANUAL_ON,
            FULL,
            facts,
        );
        assert!(r.is_ok());
    }

    #[test]
    fn nobody_changes_their_own_role() {
        for role in Role::ACTIVE {
            let me = party(1, role);
            assert_eq!(
                change(&me, &me, Role::Annotator, UNLIMITED),
                Err(RuleViolation::SelfChange)
            );
            assert_eq!(
                decide_deletion(Some(&me), &me),
                Err(RuleViolation::SelfChange)
            );
        }
    }

    #[test]
    fn the_owner_is_protected_from_everyone_else() {
        let admin = party(1, Role::Administrator);
        let owner = party(2, Role::Owner);
        for to in Role::ALL.into_iter().filter(|r| *r != Role::Owner) {
            assert_eq!(
                change(&admin, &owner, to, UNLIMITED),
                Err(RuleViolation::OwnerIsProtected)
            );
        }
        assert_eq!(
            decide_deletion(Some(&admin), &owner),
            Err(RuleViolation::OwnerIsProtected)
        );
    }

    #[test]
    fn only_the_owner_hands_over_ownership() {
        let admin = party(1, Role::Administrator);
        let manager = party(2, Role::Manager);
        assert_eq!(
            change(&admin, &manager, Role::Owner, UNLIMITED),
            Err(RuleViolation::OnlyOwnerTransfers)
        );
        let owner = party(3, Role::Owner);
        assert_eq!(
            change(&owner, &manager, Role::Owner, FULL),
            Ok(RoleChange::TransferOwnership {
                new_owner: UserId(2),
                previous_role: Role::Manager,
                old_owner: UserId(3)
            })
        );
    }

    #[test]
    fn ownership_goes_only_to_an_active_member() {
        let owner = party(1, Role::Owner);
        for role in [Role::NotActivated, Role::Deactivated] {
            let target = party(2, role);
            assert!(matches!(
                change(&owner, &target, Role::Owner, UNLIMITED),
                Err(RuleViolation::TransferTargetInactive(_))
            ));
        }
    }

    #[test]
    fn idp_managed_roles_are_refused_when_manual_management_is_off() {
        let admin = party(1, Role::Administrator);
        let mut target = party(2, Role::Annotator);
        target.source = RoleSource::Scim;
        let refused = decide_role_change(
            Some(&admin),
            &target,
            Role::Reviewer,
            Origin::Manual,
            MANUAL_OFF,
            UNLIMITED,
            SeatFacts::default(),
        );
        assert_eq!(refused, Err(RuleViolation::IdpManaged("SCIM")));
        let allowed = decide_role_change(
            Some(&admin),
            &target,
            Role::Reviewer,
            Origin::Manual,
            MANUAL_ON,
            UNLIMITED,
            SeatFacts::default(),
        );
        assert!(allowed.is_ok());
        let by_idp = decide_role_change(
            None,
            &target,
            Role::Reviewer,
            Origin::IdentityProvider,
            MANUAL_OFF,
            UNLIMITED,
            SeatFacts::default(),
        );
        assert!(by_idp.is_ok());
    }

    #[test]
    fn identity_providers_never_manage_the_owner() {
        let owner = party(1, Role::Owner);
        let r = decide_role_change(
            None,
            &owner,
            Role::Deactivated,
            Origin::IdentityProvider,
            MANUAL_OFF,
            UNLIMITED,
            SeatFacts::default(),
        );
        assert_eq!(r, Err(RuleViolation::IdpCannotManageOwner));
    }

    #[test]
    fn direct_joins_need_a_seat_and_never_make_an_owner() {
        assert_eq!(
            check_direct_join(Role::Annotator, FULL, SeatFacts::default()),
            Err(RuleViolation::NoFreeSeat(FULL))
        );
        assert!(check_direct_join(
            Role::Annotator,
            FULL,
            SeatFacts {
                holds_invite_seat: true
            }
        )
        .is_ok());
        assert!(check_direct_join(Role::NotActivated, FULL, SeatFacts::default()).is_ok());
        assert_eq!(
            check_direct_join(Role::Owner, UNLIMITED, SeatFacts::default()),
            Err(RuleViolation::OnlyOwnerTransfers)
        );
    }

    #[test]
    fn link_signups_fall_back_to_pending_when_full() {
        assert_eq!(link_signup_role(Role::Annotator, FULL), Role::NotActivated);
        assert_eq!(
            link_signup_role(Role::Annotator, UNLIMITED),
            Role::Annotator
        );
        assert_eq!(
            link_signup_role(Role::NotActivated, FULL),
            Role::NotActivated
        );
    }

    #[test]
    fn invites_count_seats_only_for_working_roles() {
        assert!(check_invites_fit(Role::NotActivated, 10, FULL).is_ok());
        assert!(check_invites_fit(Role::Annotator, 0, FULL).is_ok());
        assert_eq!(
            check_invites_fit(Role::Annotator, 1, FULL),
            Err(RuleViolation::NoFreeSeat(FULL))
        );
    }

    fn any_role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    proptest! {
        /// Whatever anyone does by hand, an allowed assignment never leaves the organization
        /// without its Owner or with two, and never takes a seat that is not free.
        #[test]
        fn assignments_keep_one_owner_and_respect_seats(
            actor_role in any_role(), target_role in any_role(), to in any_role(),
            limit in 0i64..5, active in 0i64..6,
        ) {
            let actor = party(1, actor_role);
            let target = party(2, target_role);
            let seats = SeatUsage { limit: Some(limit), active, pending_invites: 0 };
            match change(&actor, &target, to, seats) {
                Ok(RoleChange::Assign { from, to }) => {
                    prop_assert_ne!(from, Role::Owner);
                    prop_assert_ne!(to, Role::Owner);
                    if to.takes_seat() && !from.takes_seat() {
                        prop_assert!(active < limit);
                    }
                }
                Ok(RoleChange::TransferOwnership { .. }) => {
                    prop_assert_eq!(actor_role, Role::Owner);
                    prop_assert!(target_role.is_active());
                }
                Ok(RoleChange::Unchanged) => prop_assert_eq!(target_role, to),
                Err(_) => {}
            }
        }
    }
}
