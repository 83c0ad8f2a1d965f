//! The REST API: routes, and the OpenAPI document generated from the handlers.

pub mod activity;
pub mod audit;
pub mod billing;
pub mod docs;
pub mod domains;
pub mod invites;
pub mod links;
pub mod member_bulk;
pub mod member_filters;
pub mod orgs;
pub mod pauses;
pub mod permissions;
pub mod projects;
pub mod saml;
pub mod scim;
pub mod session;
pub mod tags;
pub mod tokens;
pub mod totp;
pub mod users;
pub mod workspaces;

use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::AppState;
use docs::Security;

#[derive(OpenApi)]
#[openapi(
    info(title = "roster", description = "Organization membership, roles, seats and credentials; Label Studio Enterprise compatible."),
    paths(
        docs::health, docs::label_studio_health, docs::version,
        session::login, session::logout, session::signup, session::set_password, session::forgot_password,
        crate::web::sign_in::login_page, crate::web::sign_in::sso_sign_in, crate::web::sign_in::signup_page,
        crate::web::sign_in::set_password_page, crate::web::sign_in::forgot_password_page,
        users::whoami, users::current_user, users::update_current_user, users::list_users, users::get_user, users::update_user,
        users::hotkeys, users::update_hotkeys, users::delete_user, users::create_user,
        totp::totp_state, totp::start_totp, totp::confirm_totp, totp::disable_totp,
        tokens::legacy_key, tokens::reset_legacy_key, tokens::list_tokens, tokens::create_token, tokens::refresh, tokens::rotate,
        tokens::blacklist, tokens::jwt_settings, tokens::update_jwt_settings,
        orgs::list_orgs, orgs::get_org, orgs::update_org, orgs::set_default_role, orgs::seats,
        domains::list_domains, domains::claim_domain, domains::verify_domain, domains::remove_domain,
        permissions::list_permissions, permissions::permission_options, permissions::create_permission,
        permissions::get_permission, permissions::replace_permission, permissions::update_permission,
        permissions::reset_permission,
        orgs::list_members, orgs::assign_role, orgs::assign_role_post, orgs::get_member, orgs::delete_member,
        member_bulk::bulk_members,
        member_filters::filter_schema, member_filters::list_filtered, member_filters::search,
        member_filters::membership_options, member_filters::skills_options,
        tags::list_tags, tags::create_tag, tags::get_tag, tags::update_tag, tags::delete_tag,
        tags::bulk_create_tags, tags::bulk_delete_tags, tags::assign_tags, tags::import_tags, tags::get_import,
        invites::invite_link, invites::reset_invite_link, invites::send_invites, invites::revoke_invite, invites::list_invites,
        projects::list_projects, projects::create_project, projects::get_project, projects::add_project_member,
        projects::remove_project_member, projects::list_project_roles, projects::set_project_role,
        projects::project_roles, projects::remove_project_role,
        projects::paginated_project_members, projects::export_project_members,
        projects::bulk_assign_project_members, projects::bulk_unassign_project_members,
        projects::list_annotations, projects::create_annotation,
        pauses::list_pauses, pauses::create_pause, pauses::get_pause, pauses::update_pause, pauses::delete_pause,
        workspaces::list_workspaces, workspaces::create_workspace, workspaces::get_workspace,
        workspaces::update_workspace, workspaces::delete_workspace, workspaces::workspace_projects,
        workspaces::add_workspace_project, workspaces::remove_workspace_project,
        workspaces::workspace_members, workspaces::add_workspace_member,
        workspaces::remove_workspace_member, workspaces::bulk_add_members,
        workspaces::bulk_remove_members, workspaces::workspace_members_page,
        audit::list_events, activity::list_activity, activity::get_session_policy,
        activity::update_session_policy,
        billing::billing_info,
        scim::get_settings, scim::update_settings, scim::token_state, scim::create_token,
        saml::get_settings, saml::update_settings, saml::reset_settings, saml::validate_metadata_url,
        saml::refresh_metadata,
        saml::sp_metadata, crate::web::sso::login, crate::web::sso::acs, crate::web::sso::link_page,
        crate::web::sso::link, crate::web::sso::logout_page,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&Security),
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(docs::health))
        .route("/health", get(docs::label_studio_health))
        .route("/api/version", get(docs::version))
        .route("/openapi.json", get(docs::openapi_json))
        .route("/docs", get(docs::docs_page))
        // Their forms' pages (GET) are web routes, in `web::sign_in`.
        .route("/user/login", post(session::login))
        .route("/user/logout", post(session::logout))
        .route("/user/signup", post(session::signup))
        .route("/user/set-password", post(session::set_password))
        .route("/user/forgot-password", post(session::forgot_password))
        .route("/api/billing/info", get(billing::billing_info))
        .route("/api/current-user/whoami", get(users::whoami))
        .route(
            "/api/current-user/hotkeys",
            get(users::hotkeys).patch(users::update_hotkeys),
        )
        .route(
            "/api/current-user",
            get(users::current_user).patch(users::update_current_user),
        )
        .route("/api/current-user/token", get(tokens::legacy_key))
        .route(
            "/api/current-user/reset-token",
            post(tokens::reset_legacy_key),
        )
        .route(
            "/api/current-user/totp",
            get(totp::totp_state)
                .post(totp::start_totp)
                .delete(totp::disable_totp),
        )
        .route("/api/current-user/totp/confirm", post(totp::confirm_totp))
        .route(
            "/api/users",
            get(users::list_users).post(users::create_user),
        )
        .route(
            "/api/users/{id}",
            get(users::get_user)
                .patch(users::update_user)
                .delete(users::delete_user),
        )
        .route(
            "/api/token",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/api/token/refresh", post(tokens::refresh))
        .route("/api/token/rotate", post(tokens::rotate))
        .route("/api/token/blacklist", post(tokens::blacklist))
        .route(
            "/api/jwt/settings",
            get(tokens::jwt_settings).post(tokens::update_jwt_settings),
        )
        .route("/api/organizations", get(orgs::list_orgs))
        .route(
            "/api/organizations/{id}",
            get(orgs::get_org).patch(orgs::update_org),
        )
        .route(
            "/api/organizations/{id}/set-default-role",
            axum::routing::patch(orgs::set_default_role),
        )
        .route("/api/organizations/{id}/seats", get(orgs::seats))
        .route(
            "/api/organizations/{id}/domains",
            get(domains::list_domains).post(domains::claim_domain),
        )
        .route(
            "/api/organizations/{id}/domains/{domain}",
            axum::routing::delete(domains::remove_domain),
        )
        .route(
            "/api/organizations/{id}/domains/{domain}/verify",
            post(domains::verify_domain),
        )
        .route(
            "/api/organizations/{id}/memberships",
            get(orgs::list_members)
                .patch(orgs::assign_role)
                .post(orgs::assign_role_post),
        )
        .route(
            "/api/organizations/{id}/memberships/bulk",
            post(member_bulk::bulk_members),
        )
        .route(
            "/api/organizations/{id}/memberships/{user_id}",
            get(orgs::get_member).delete(orgs::delete_member),
        )
        .route(
            "/api/organizations/{id}/permissions",
            get(permissions::list_permissions).post(permissions::create_permission),
        )
        .route(
            "/api/organizations/{id}/permissions/options",
            get(permissions::permission_options),
        )
        .route(
            "/api/organizations/{id}/permissions/{permission_key}",
            get(permissions::get_permission)
                .put(permissions::replace_permission)
                .patch(permissions::update_permission)
                .delete(permissions::reset_permission),
        )
        .route(
            "/api/organizations/{id}/memberships/filter-schema",
            get(member_filters::filter_schema),
        )
        .route(
            "/api/organizations/{id}/memberships/search",
            get(member_filters::list_filtered).post(member_filters::search),
        )
        .route(
            "/api/organizations/{id}/memberships/filter-options/membership",
            get(member_filters::membership_options),
        )
        .route(
            "/api/organizations/{id}/memberships/filter-options/skills",
            get(member_filters::skills_options),
        )
        .route(
            "/api/organizations/{id}/member-tags",
            get(tags::list_tags).post(tags::create_tag),
        )
        .route(
            "/api/organizations/{id}/member-tags/bulk",
            post(tags::bulk_create_tags).delete(tags::bulk_delete_tags),
        )
        .route(
            "/api/organizations/{id}/member-tags/assignments",
            post(tags::assign_tags),
        )
        .route(
            "/api/organizations/{id}/member-tags/imports",
            post(tags::import_tags),
        )
        .route(
            "/api/organizations/{id}/member-tags/imports/{import_pk}",
            get(tags::get_import),
        )
        .route(
            "/api/organizations/{id}/member-tags/{tag_pk}",
            get(tags::get_tag)
                .patch(tags::update_tag)
                .delete(tags::delete_tag),
        )
        .route("/api/invite", get(invites::invite_link))
        .route("/api/invite/reset-token", post(invites::reset_invite_link))
        .route("/api/invite/send-email", post(invites::send_invites))
        .route("/api/invite/revoke", post(invites::revoke_invite))
        .route("/api/invites", get(invites::list_invites))
        .route(
            "/api/projects",
            get(projects::list_projects).post(projects::create_project),
        )
        .route(
            "/api/projects/roles",
            get(projects::list_project_roles).post(projects::set_project_role),
        )
        .route(
            "/api/projects/roles/{id}",
            axum::routing::delete(projects::remove_project_role),
        )
        .route("/api/projects/{id}", get(projects::get_project))
        .route("/api/projects/{id}/roles", get(projects::project_roles))
        .route(
            "/api/projects/{id}/members/paginated",
            get(projects::paginated_project_members),
        )
        .route(
            "/api/projects/{id}/members/bulk",
            post(projects::bulk_assign_project_members)
                .delete(projects::bulk_unassign_project_members),
        )
        .route(
            "/api/projects/{id}/members/export",
            get(projects::export_project_members),
        )
        .route(
            "/api/projects/{id}/members",
            post(projects::add_project_member).delete(projects::remove_project_member),
        )
        .route(
            "/api/projects/{id}/members/{user_id}/pauses",
            get(pauses::list_pauses).post(pauses::create_pause),
        )
        .route(
            "/api/projects/{id}/members/{user_id}/pauses/{pause_id}",
            get(pauses::get_pause)
                .patch(pauses::update_pause)
                .delete(pauses::delete_pause),
        )
        .route(
            "/api/projects/{id}/annotations",
            get(projects::list_annotations).post(projects::create_annotation),
        )
        .route(
            "/api/workspaces",
            get(workspaces::list_workspaces).post(workspaces::create_workspace),
        )
        .route(
            "/api/workspaces/{id}",
            get(workspaces::get_workspace)
                .patch(workspaces::update_workspace)
                .delete(workspaces::delete_workspace),
        )
        .route(
            "/api/workspaces/{id}/projects",
            get(workspaces::workspace_projects)
                .post(workspaces::add_workspace_project)
                .delete(workspaces::remove_workspace_project),
        )
        .route(
            "/api/workspaces/{id}/memberships",
            get(workspaces::workspace_members)
                .post(workspaces::add_workspace_member)
                .delete(workspaces::remove_workspace_member),
        )
        .route(
            "/api/workspaces/{id}/memberships/bulk",
            post(workspaces::bulk_add_members).delete(workspaces::bulk_remove_members),
        )
        .route(
            "/api/workspaces/{id}/memberships/paginated",
            get(workspaces::workspace_members_page),
        )
        .route("/api/audit-events", get(audit::list_events))
        .route("/api/activity-logs", get(activity::list_activity))
        .route(
            "/api/session-policy",
            get(activity::get_session_policy).patch(activity::update_session_policy),
        )
        .route(
            "/api/scim/settings",
            get(scim::get_settings).post(scim::update_settings),
        )
        .route(
            "/api/scim/token",
            get(scim::token_state).post(scim::create_token),
        )
        .route(
            "/api/saml/settings",
            get(saml::get_settings)
                .post(saml::update_settings)
                .delete(saml::reset_settings),
        )
        .route(
            "/api/saml/settings/validate-metadata-url",
            post(saml::validate_metadata_url),
        )
        .route(
            "/api/saml/settings/refresh-metadata",
            post(saml::refresh_metadata),
        )
        .route("/saml/{token}/metadata", get(saml::sp_metadata))
        .route("/static/{file}", get(docs::static_file))
}
