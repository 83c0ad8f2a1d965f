//! Password hashing is bounded: however many sign-ins arrive at once, at most the configured
//! number of argon2 hashes (19 MiB each) run together, the metrics show it, and requests
//! beyond the bounded queue get 503 with Retry-After in the one error shape. The memory figure
//! itself is proven against a spawned server by tests/security/login_flood.py.

use roster_service::ServiceConfig;
use roster_tests::TestServer;
use serde_json::json;

const METRICS_TOKEN: &str = "password-hashing-test-metrics-token-0123456789";

/// A server with these settings whose /metrics the tests may read.
async fn server_with(config: ServiceConfig) -> TestServer {
    let web = roster_http::WebConfig {
        metrics_token: Some(METRICS_TOKEN.into()),
        ..roster_http::WebConfig::default()
    };
    TestServer::start_with_both(config, web).await
}

/// A gauge's value from the Prometheus text at /metrics.
async fn metric(server: &TestServer, name: &str) -> Option<f64> {
    let text = server
        .anonymous()
        .with_auth(&format!("Bearer {METRICS_TOKEN}"))
        .get("/metrics")
        .await
        .text;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok())?
    })
}

/// `n` failed sign-ins at once, each for an account of its own from one of 50 addresses so
/// that the throttle evaluates them all; returns the responses.
async fn failed_sign_ins(server: &TestServer, n: usize) -> Vec<roster_tests::Resp> {
    let calls = (0..n).map(|i| {
        let api = server
            .anonymous()
            .from_address([127, 0, 3, 1 + (i % 50) as u8]);
        async move {
            api.post(
                "/user/login",
                json!({"email": format!("nobody-{i}@example.com"), "password": "wrong password"}),
            )
            .await
        }
    });
    futures_join_all(calls).await
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    calls: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = calls.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("request task"));
    }
    out
}

#[tokio::test]
async fn no_more_password_hashes_run_at_once_than_allowed() {
    let server = server_with(ServiceConfig {
        max_concurrent_hashes: 2,
        ..ServiceConfig::default()
    })
    .await;
    let answers = failed_sign_ins(&server, 24).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert!(
        answers.iter().all(|r| r.status == 401),
        "all evaluated: {statuses:?}"
    );
    assert_eq!(
        metric(&server, "roster_password_hashes_allowed").await,
        Some(2.0)
    );
    let peak = metric(&server, "roster_password_hashes_running_peak")
        .await
        .expect("the peak is in the metrics");
    assert!((1.0..=2.0).contains(&peak), "{peak} hashes ran at once");
    assert_eq!(
        metric(&server, "roster_password_hashes_running").await,
        Some(0.0)
    );
}

#[tokio::test]
async fn sign_ins_beyond_the_queue_get_503_with_retry_after() {
    let mut config = ServiceConfig {
        max_concurrent_hashes: 1,
        ..ServiceConfig::default()
    };
    config.throttle.address_free_failures = 10_000;
    let server = server_with(config).await;
    // One hash may run and 32 wait: of 150 at once, some must be refused.
    let answers = failed_sign_ins(&server, 150).await;
    let busy: Vec<_> = answers.iter().filter(|r| r.status == 503).collect();
    assert!(!busy.is_empty(), "none refused");
    assert!(answers.iter().all(|r| r.status == 401 || r.status == 503));
    let r = busy[0];
    assert_eq!(r.body["status_code"], 503, "{}", r.text);
    assert!(
        r.body["detail"].as_str().unwrap().contains("busy"),
        "{}",
        r.text
    );
    assert_eq!(r.headers.get("retry-after").unwrap(), "2");
    assert!(
        metric(&server, "roster_password_hashes_refused_total")
            .await
            .unwrap()
            >= busy.len() as f64
    );
    // Once the flood has passed, sign-in works again.
    let ok = server
        .anonymous()
        .from_address([127, 0, 3, 99])
        .post(
            "/user/login",
            json!({"email": "x@example.com", "password": "wrong password"}),
        )
        .await;
    assert_eq!(ok.status, 401, "{}", ok.text);
}
