//! Micro-benchmarks: the domain's pure decisions, and the store reads that every member-list
//! page and every authenticated request pays, on SQLite and (when `ROSTER_BENCH_PG_URL` is set)
//! PostgreSQL. The organization is seeded through the service's bulk import, the path
//! `roster dev seed` takes, so counters, indexes and planner statistics are what production has.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use roster_domain::policy::{self, Access};
use roster_domain::rules::{self, OrgRules, Origin, Party, SeatFacts};
use roster_domain::MemberOrder;
use roster_domain::{OrgId, Role, RoleSource, SeatUsage, UserId};
use roster_service::import::ImportRow;
use roster_service::{
    Authenticated, Context, OrgRef, Secrets, Service, ServiceConfig, Staff, SystemClock,
};
use roster_store::members::{self, MemberQuery, PageEnd};
use roster_store::{Store, StoreOptions};
use tokio::runtime::Runtime;

/// Members generated on top of the Owner.
const MEMBERS: usize = 10_000;
/// Rows per import transaction, as `roster dev seed` defaults to.
const SEED_BATCH: usize = 5_000;
const PAGE: i64 = 100;
/// A fixed schema, dropped before and after a run, so an interrupted run leaves no litter
/// beyond the next one.
const PG_SCHEMA: &str = "roster_bench_micro";

const ACCESS: [Access; 4] = [Access::Member, Access::Staff, Access::Admin, Access::Owner];

fn party(id: i64, role: Role) -> Party {
    Party {
        user: UserId(id),
        role,
        source: RoleSource::Manual,
    }
}

fn domain(c: &mut Criterion) {
    let mut g = c.benchmark_group("domain");
    g.bench_function("policy_check/all_7_roles_x_4_access", |b| {
        b.iter(|| {
            let mut allowed = 0u32;
            for role in Role::ALL {
                for access in ACCESS {
                    allowed += u32::from(policy::check(black_box(role), black_box(access)).is_ok());
                }
            }
            allowed
        })
    });

    let manual = OrgRules::MANUAL;
    let room = SeatUsage {
        limit: Some(20),
        active: 12,
        pending_invites: 3,
    };
    let full = SeatUsage {
        limit: Some(20),
        active: 18,
        pending_invites: 2,
    };
    let admin = party(1, Role::Administrator);
    let pending = party(2, Role::NotActivated);
    g.bench_function("decide_role_change/activate_pending", |b| {
        b.iter(|| {
            rules::decide_role_change(
                Some(black_box(&admin)),
                black_box(&pending),
                black_box(Role::Annotator),
                Origin::Manual,
                manual,
                black_box(room),
                SeatFacts::default(),
            )
        })
    });
    g.bench_function("decide_role_change/refused_no_seat", |b| {
        b.iter(|| {
            rules::decide_role_change(
                Some(black_box(&admin)),
                black_box(&pending),
                black_box(Role::Annotator),
                Origin::Manual,
                manual,
                black_box(full),
                SeatFacts::default(),
            )
        })
    });
    // Every actor x target x new role: all branches, the way the property test sweeps them.
    g.bench_function("decide_role_change/all_7x7x7", |b| {
        b.iter(|| {
            let mut permitted = 0u32;
            for actor in Role::ALL {
                for target in Role::ALL {
                    for to in Role::ALL {
                        let r = rules::decide_role_change(
                            Some(&party(1, black_box(actor))),
                            &party(2, black_box(target)),
                            black_box(to),
                            Origin::Manual,
                            manual,
                            black_box(room),
                            SeatFacts::default(),
                        );
                        permitted += u32::from(r.is_ok());
                    }
                }
            }
            permitted
        })
    });
    let annotator = party(3, Role::Annotator);
    g.bench_function("decide_deletion", |b| {
        b.iter(|| rules::decide_deletion(Some(black_box(&admin)), black_box(&annotator)))
    });
    g.bench_function("check_direct_join", |b| {
        b.iter(|| {
            rules::check_direct_join(
                black_box(Role::Annotator),
                black_box(room),
                SeatFacts::default(),
            )
        })
    });
    g.bench_function("check_invites_fit", |b| {
        b.iter(|| {
            rules::check_invites_fit(black_box(Role::Reviewer), black_box(4), black_box(room))
        })
    });
    g.bench_function("link_signup_role", |b| {
        b.iter(|| rules::link_signup_role(black_box(Role::Annotator), black_box(full)))
    });
    g.finish();
}

/// A seeded organization and the credentials of its Owner.
struct Seeded {
    service: Service,
    org: OrgId,
    owner: Authenticated,
    session_id: String,
    legacy_key: String,
}

/// The rows `roster dev seed` generates: 80% AN, 10% RE, 5% MA, 3% NO, 2% DI.
fn seed_row(i: usize) -> ImportRow {
    let role = match i % 100 {
        0..=79 => "AN",
        80..=89 => "RE",
        90..=94 => "MA",
        95..=97 => "NO",
        _ => "DI",
    };
    ImportRow {
        line: i + 1,
        email: format!("member{i:08}@seed.example.com"),
        first_name: format!("First{i}"),
        last_name: format!("Last{i}"),
        role: role.into(),
        projects: Vec::new(),
        workspaces: Vec::new(),
    }
}

async fn seed(url: &str, label: &str) -> Seeded {
    let store = Store::open(&StoreOptions {
        url: url.to_string(),
        max_connections: 4,
        sqlite_full_sync: false,
    })
    .await
    .expect("the database opens");
    let secrets = Secrets::from_master(b"roster-micro-bench-secret-0123456789abcdef");
    let service = Service::new(
        store,
        Arc::new(SystemClock),
        secrets,
        ServiceConfig::default(),
    )
    .await
    .expect("service starts");
    let created = service
        .create_org(
            "Bench Org",
            "owner@bench.example.com",
            None,
            &Context::cli(),
        )
        .await
        .expect("organization created");
    let org = created.org.id;
    let started = Instant::now();
    let rows: Vec<ImportRow> = (0..MEMBERS).map(seed_row).collect();
    for chunk in rows.chunks(SEED_BATCH) {
        let outcome = service
            .import_members(org, chunk, false)
            .await
            .expect("import batch");
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        assert_eq!(outcome.added, chunk.len());
    }
    // As `roster dev seed` does after its batches: plans are made for the grown tables.
    service
        .refresh_statistics()
        .await
        .expect("planner statistics");
    eprintln!(
        "seeded {MEMBERS} members on {label} through import_members (and refresh_statistics) in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let session = service.session_for(&created.owner).await.expect("session");
    let owner = service
        .authenticate_session(&session.id)
        .await
        .expect("session resolves");
    let legacy_key = service.legacy_key(&owner).await.expect("legacy key");
    Seeded {
        service,
        org,
        owner,
        session_id: session.id,
        legacy_key,
    }
}

fn query(org: OrgId, roles: Vec<Role>) -> MemberQuery {
    MemberQuery {
        roles,
        ..MemberQuery::everyone(org)
    }
}

/// The store reads of the member list and of request authentication. Each iteration takes a
/// pooled connection and resolves the query, as a request does.
fn store_group(c: &mut Criterion, rt: &Runtime, label: &str, url: &str) {
    let s = rt.block_on(seed(url, label));
    let store = s.service.raw_store_bypassing_rules();
    let all = query(s.org, vec![]);
    let pending = query(s.org, vec![Role::NotActivated]);
    // The end of page 50 of 101, as the service remembers it after serving that page.
    let middle: PageEnd = rt.block_on(async {
        let mut conn = store.read().await.expect("connection");
        let resolved = members::resolve(&mut conn, &all).await.expect("resolve");
        let rows = members::list(&mut conn, &resolved, 1, 50 * PAGE - 1)
            .await
            .expect("row");
        let last = rows.last().expect("a member in the middle");
        PageEnd {
            value: members::sort_value(MemberOrder::Email, last),
            id: last.membership.id,
        }
    });
    let (all, pending, middle) = (&all, &pending, &middle);

    let mut g = c.benchmark_group(format!("store_{label}"));
    g.bench_function("members_list/first_page_100", |b| {
        b.to_async(rt).iter(move || async move {
            let mut conn = store.read().await.expect("connection");
            let resolved = members::resolve(&mut conn, all).await.expect("resolve");
            let rows = members::list(&mut conn, &resolved, PAGE, 0)
                .await
                .expect("page");
            assert_eq!(rows.len(), PAGE as usize);
            rows
        })
    });
    g.bench_function("members_list/after_page_50_keyset_100", |b| {
        b.to_async(rt).iter(move || async move {
            let mut conn = store.read().await.expect("connection");
            let resolved = members::resolve(&mut conn, all).await.expect("resolve");
            let rows = members::list_after(&mut conn, &resolved, middle, PAGE)
                .await
                .expect("page");
            assert_eq!(rows.len(), PAGE as usize);
            rows
        })
    });
    // The same page by offset: a cold jump with no remembered page end, for comparison.
    g.bench_function("members_list/page_51_offset_100", |b| {
        b.to_async(rt).iter(move || async move {
            let mut conn = store.read().await.expect("connection");
            let resolved = members::resolve(&mut conn, all).await.expect("resolve");
            let rows = members::list(&mut conn, &resolved, PAGE, 50 * PAGE)
                .await
                .expect("page");
            assert_eq!(rows.len(), PAGE as usize);
            rows
        })
    });
    g.bench_function("members_list/role_NO_first_page_100", |b| {
        b.to_async(rt).iter(move || async move {
            let mut conn = store.read().await.expect("connection");
            let resolved = members::resolve(&mut conn, pending).await.expect("resolve");
            let rows = members::list(&mut conn, &resolved, PAGE, 0)
                .await
                .expect("page");
            assert_eq!(rows.len(), PAGE as usize);
            rows
        })
    });
    g.bench_function("members_count/all_from_counters", |b| {
        b.to_async(rt).iter(move || async move {
            let mut conn = store.read().await.expect("connection");
            let resolved = members::resolve(&mut conn, all).await.expect("resolve");
            let n = members::count(&mut conn, &resolved).await.expect("count");
            assert_eq!(n, MEMBERS as i64 + 1);
            n
        })
    });

    // What each authenticated request runs before its handler: resolve the credential (with
    // the account's memberships), then check the membership of the organization it touches.
    let service = &s.service;
    let (key, session_id, owner) = (&s.legacy_key, &s.session_id, &s.owner);
    let org = s.org;
    g.bench_function("authenticate/legacy_key", |b| {
        b.to_async(rt).iter(move || async move {
            service
                .authenticate_legacy_key(key)
                .await
                .expect("key resolves")
        })
    });
    g.bench_function("authenticate/session", |b| {
        b.to_async(rt).iter(move || async move {
            service
                .authenticate_session(session_id)
                .await
                .expect("session resolves")
        })
    });
    g.bench_function("authorize/staff", |b| {
        b.to_async(rt).iter(move || async move {
            service
                .authorize::<Staff>(owner, OrgRef::Path(org.0), Context::cli())
                .await
                .expect("owner is staff")
        })
    });
    g.finish();
    rt.block_on(store.close());
}

/// Runs `sql` on the PostgreSQL database named by `url` (its own default schema).
async fn pg_exec(url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("ROSTER_BENCH_PG_URL is reachable");
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .expect("schema statement");
    conn.close().await.ok();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();
    domain(&mut c);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    store_group(&mut c, &rt, "sqlite", &sqlite_url);

    if let Ok(base) = std::env::var("ROSTER_BENCH_PG_URL") {
        let reset = format!("DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE; CREATE SCHEMA {PG_SCHEMA}");
        rt.block_on(pg_exec(&base, &reset));
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{PG_SCHEMA}");
        store_group(&mut c, &rt, "postgres", &url);
        rt.block_on(pg_exec(
            &base,
            &format!("DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"),
        ));
    }
    c.final_summary();
}
