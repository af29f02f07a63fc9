//! Web Push against the real server binary and a stand-in push service on 127.0.0.1 that does
//! what a real one does with a message: checks the VAPID JWT (audience, expiry, signature with the
//! key the server publishes) and decrypts the payload with the subscribing browser's private key.

mod support;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{Dirs, Server, PASSWORD, USER};

const LONG: Duration = Duration::from_secs(30);
/// The server's window for folding endings of one session (push::sender::COALESCE).
const COALESCE: Duration = Duration::from_secs(3);

/// A browser's side of a subscription: the keys only it holds.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
    /// What the stand-in answers a push with.
    answer: StatusCode,
    /// Posts answered 503 before that, as an overloaded push service does.
    unavailable_first: usize,
}

impl Browser {
    fn new(answer: StatusCode) -> Self {
        let secret = loop {
            if let Ok(secret) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break secret;
            }
        };
        Self { secret, auth: rand::random(), answer, unavailable_first: 0 }
    }

    /// `PushSubscription.toJSON()`, as the app posts it.
    fn subscription(&self, endpoint: &str) -> Value {
        let point = self.secret.public_key().to_encoded_point(false);
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {"p256dh": URL_SAFE_NO_PAD.encode(point.as_bytes()), "auth": URL_SAFE_NO_PAD.encode(self.auth)},
        })
    }
}

/// A message the stand-in took: its headers, its decrypted JSON, and what was wrong with it.
#[derive(Clone, Debug)]
struct Received {
    browser: String,
    urgency: Option<String>,
    ttl: Option<String>,
    topic: Option<String>,
    payload: Value,
    problems: Vec<String>,
}

#[derive(Clone)]
struct PushService {
    origin: String,
    /// The server's VAPID public key, as `GET /api/push/key` gave it.
    server_key: Arc<Mutex<String>>,
    browsers: Arc<Mutex<HashMap<String, Browser>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl PushService {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("address"));
        let service = Self { origin, server_key: Arc::default(), browsers: Arc::default(), received: Arc::default() };
        let app = axum::Router::new().route("/push/{browser}", axum::routing::post(receive)).with_state(service.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        service
    }

    /// Subscribes a new browser through the server's route; its endpoint here.
    async fn subscribe(&self, server: &Server, name: &str, answer: StatusCode) -> Value {
        self.subscribe_browser(server, name, Browser::new(answer)).await
    }

    async fn subscribe_browser(&self, server: &Server, name: &str, browser: Browser) -> Value {
        let (_, key) = server.get("/api/push/key").await;
        *self.server_key.lock().expect("lock") = key["public_key"].as_str().expect("key").to_owned();
        let mut body = browser.subscription(&format!("{}/push/{name}", self.origin));
        body["name"] = json!(name);
        self.browsers.lock().expect("lock").insert(name.to_owned(), browser);
        let (code, subscribed) = server.post_json("/api/push/subscriptions", &body).await;
        assert_eq!(code, 200, "{subscribed}");
        subscribed
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until `count` messages came (at most `limit`), then returns them all.
    async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let received = self.received();
            if received.len() >= count {
                for message in &received {
                    assert!(message.problems.is_empty(), "a real push service would refuse this: {message:?}");
                }
                return received;
            }
            assert!(Instant::now() < deadline, "{count} pushes expected within {limit:?}, got {received:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn receive(State(service): State<PushService>, Path(name): Path<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut problems = Vec::new();
    if header("content-encoding").as_deref() != Some("aes128gcm") {
        problems.push(format!("content-encoding {:?}", header("content-encoding")));
    }
    if header("ttl").and_then(|t| t.parse::<u64>().ok()).is_none() {
        problems.push("no TTL".into());
    }
    let server_key = service.server_key.lock().expect("lock").clone();
    if let Err(problem) = check_vapid(header("authorization").as_deref(), &service.origin, &server_key) {
        problems.push(problem);
    }
    let mut browsers = service.browsers.lock().expect("lock");
    let Some(browser) = browsers.get_mut(&name) else { return StatusCode::NOT_FOUND };
    if browser.unavailable_first > 0 {
        browser.unavailable_first -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let auth = web_push_native::Auth::clone_from_slice(&browser.auth);
    let payload = match web_push_native::decrypt(body.to_vec(), &browser.secret, &auth) {
        Ok(plain) => serde_json::from_slice(&plain).unwrap_or_else(|e| {
            problems.push(format!("not JSON: {e}"));
            Value::Null
        }),
        Err(error) => {
            problems.push(format!("cannot decrypt: {error}"));
            Value::Null
        }
    };
    let answer = browser.answer;
    drop(browsers);
    service.received.lock().expect("lock").push(Received {
        browser: name,
        urgency: header("urgency"),
        ttl: header("ttl"),
        topic: header("topic"),
        payload,
        problems,
    });
    answer
}

/// RFC 8292: `vapid t=<JWT>, k=<key>`, the JWT ES256-signed by `k`, for this origin, unexpired
/// and at most 24 h ahead, with a contact.
fn check_vapid(authorization: Option<&str>, origin: &str, server_key: &str) -> Result<(), String> {
    let value = authorization.ok_or("no Authorization")?;
    let (token, key) = value.strip_prefix("vapid t=").and_then(|rest| rest.split_once(", k=")).ok_or(format!("not VAPID: {value}"))?;
    if key != server_key {
        return Err("k is not the server's published key".into());
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts[..] else { return Err("not a JWS".into()) };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|e| format!("base64url: {e}"));
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let claims_json: Value = serde_json::from_slice(&decode(claims)?).map_err(|e| e.to_string())?;
    if claims_json["aud"] != origin {
        return Err(format!("audience {} is not {origin}", claims_json["aud"]));
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let exp = claims_json["exp"].as_u64().unwrap_or(0);
    if exp <= now || exp > now + 24 * 3600 {
        return Err(format!("exp {exp} is not within 24 h of {now}"));
    }
    let sub = claims_json["sub"].as_str().unwrap_or("");
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err(format!("sub {sub:?}"));
    }
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&decode(key)?).map_err(|_| "k is not a P-256 point")?;
    let signature = p256::ecdsa::Signature::from_slice(&decode(signature)?).map_err(|_| "not an r||s signature")?;
    let signed = format!("{}.{}", parts[0], parts[1]);
    verifying.verify(signed.as_bytes(), &signature).map_err(|_| "the signature does not verify".to_owned())
}

#[tokio::test]
async fn the_key_is_a_p256_point_kept_private_across_restarts() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let anonymous = reqwest::Client::new().get(server.url("/api/push/key")).send().await.expect("GET");
    assert_eq!(anonymous.status(), 401, "push routes are for signed-in callers");
    let (code, body) = server.get("/api/push/key").await;
    assert_eq!(code, 200, "{body}");
    let key = body["public_key"].as_str().expect("public_key").to_owned();
    assert!(!key.contains('=') && !key.contains('+') && !key.contains('/'), "base64url without padding: {key}");
    let point = URL_SAFE_NO_PAD.decode(&key).expect("base64url");
    assert_eq!((point.len(), point[0]), (65, 4), "an uncompressed P-256 point");
    assert!(p256::PublicKey::from_sec1_bytes(&point).is_ok(), "on the curve");

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dirs.data().join("vapid.key")).expect("vapid.key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    server.kill();
    let server = Server::start(&dirs);
    let (_, again) = server.get("/api/push/key").await;
    assert_eq!(again["public_key"], key.as_str(), "the same key after a restart: subscriptions stay valid");
}

#[tokio::test]
async fn subscriptions_are_listed_deleted_and_ended_by_sign_out_everywhere() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let browser = Browser::new(StatusCode::CREATED);

    for refused in ["http://push.example/x", "http://192.0.2.1/x", "ftp://127.0.0.1/x", "nonsense"] {
        let (code, body) = server.post_json("/api/push/subscriptions", &browser.subscription(refused)).await;
        assert_eq!(code, 400, "{refused}: {body}");
        assert!(body["error"].as_str().unwrap_or("").contains("https"), "{body}");
    }
    let mut bad_keys = browser.subscription("https://push.example/x");
    bad_keys["keys"]["p256dh"] = json!("AAAA");
    let (code, body) = server.post_json("/api/push/subscriptions", &bad_keys).await;
    assert_eq!(code, 400, "{body}");

    let mut phone = browser.subscription("https://push.example/send/phone");
    phone["name"] = json!("Pixel 7");
    let (code, first) = server.post_json("/api/push/subscriptions", &phone).await;
    assert_eq!(code, 200, "{first}");
    assert_eq!((first["endpoint"].as_str(), first["name"].as_str()), (Some("https://push.example/send/phone"), Some("Pixel 7")));
    assert!(first["created_at"].is_i64() && first["last_success_at"].is_null(), "{first}");
    assert!(first.get("keys").is_none() && first.get("p256dh").is_none(), "keys are never shown: {first}");
    let (_, again) = server.post_json("/api/push/subscriptions", &phone).await;
    assert_eq!(again["id"], first["id"], "the same endpoint again is the same subscription");
    let (code, _) = server.post_json("/api/push/subscriptions", &browser.subscription("http://127.0.0.1:9/push/laptop")).await;
    assert_eq!(code, 200, "http to loopback is allowed (a local push service)");

    let (code, list) = server.get("/api/push/subscriptions").await;
    assert_eq!(code, 200);
    let listed = list["subscriptions"].as_array().expect("subscriptions");
    assert_eq!(listed.len(), 2, "{list}");
    let id = first["id"].as_str().expect("id");
    let (code, deleted) = server.delete(&format!("/api/push/subscriptions/{id}")).await;
    assert_eq!((code, deleted), (200, json!({"status": "deleted"})));
    let (code, _) = server.delete(&format!("/api/push/subscriptions/{id}")).await;
    assert_eq!(code, 404);
    let (code, _) = server.delete("/api/push/subscriptions/not-an-id").await;
    assert_eq!(code, 400);

    let (_, audit) = server.get("/api/audit").await;
    let events: Vec<(&str, &str)> =
        audit["entries"].as_array().expect("entries").iter().map(|e| (e["event"].as_str().unwrap_or(""), e["detail"].as_str().unwrap_or(""))).collect();
    assert!(events.contains(&("push_subscribed", "https://push.example (Pixel 7)")), "who subscribed, and to which service (never the path): {events:?}");
    assert!(events.iter().any(|(event, _)| *event == "push_unsubscribed"), "{events:?}");

    let response = server.http.post(server.url("/api/fn/sign_out_everywhere")).basic_auth(USER, Some(PASSWORD)).send().await.expect("POST");
    assert!(response.status().is_success(), "{}", response.status());
    let (_, list) = server.get("/api/push/subscriptions").await;
    assert_eq!(list["subscriptions"], json!([]), "a lost phone gets no more notifications");
}

#[tokio::test]
async fn a_task_end_reaches_the_push_service_encrypted_and_signed() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let service = PushService::start().await;
    service.subscribe(&server, "phone", StatusCode::CREATED).await;

    let (task, session) = server.submit("new", "hello there").await;
    server.wait_finished(&session, &task, LONG).await;
    let received = service.wait_for(1, Duration::from_secs(10)).await;
    let message = &received[0];
    let payload = &message.payload;
    assert_eq!(payload["kind"], "ended", "{payload}");
    assert_eq!((payload["session_id"].as_str(), payload["task_id"].as_str()), (Some(session.as_str()), Some(task.as_str())));
    assert_eq!(payload["title"], "hello there", "{payload}");
    assert_eq!(payload["body"], "Fake reply to: hello there", "the reply's first words");
    assert_eq!(payload["status"], "completed");
    assert_eq!(payload["cost_usd"], 0.000175);
    assert_eq!(payload["url"], format!("/s/{session}"));
    assert_eq!(message.urgency.as_deref(), Some("normal"));
    assert!(message.ttl.as_deref().is_some_and(|t| t.parse::<u64>().unwrap_or(0) > 0), "{message:?}");
    assert_eq!(message.topic.as_deref(), Some(session.replace('-', "").as_str()), "a later ending replaces an undelivered one");

    wait_for_success(&server).await;
}

#[tokio::test]
async fn an_approval_and_a_question_are_pushed_at_once_and_urgent() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let service = PushService::start().await;
    service.subscribe(&server, "phone", StatusCode::CREATED).await;

    let (task, session) = server.submit("new", "#BASH:echo hi #ASK").await;
    let waiting = server.wait_for_approval(&session, &task).await;
    let received = service.wait_for(1, Duration::from_secs(10)).await;
    let approval = &received[0];
    assert_eq!(approval.payload["kind"], "approval", "{:?}", approval.payload);
    assert_eq!(approval.payload["tool_name"], "Bash");
    assert_eq!(approval.payload["body"], "Wants to run Bash: echo hi");
    assert_eq!(approval.payload["approval_id"], waiting["pending_approvals"][0]["id"], "enough to answer from the notification");
    assert_eq!(approval.payload["url"], format!("/s/{session}"));
    assert_eq!(approval.urgency.as_deref(), Some("high"));
    assert_eq!(approval.topic, None, "an approval never replaces another");

    let id = waiting["pending_approvals"][0]["id"].as_str().expect("id");
    let (code, _) = server.decide(&session, &task, id, json!({"decision": "allow"})).await;
    assert_eq!(code, 200);
    let received = service.wait_for(2, Duration::from_secs(10)).await;
    let question = &received[1];
    assert_eq!((question.payload["kind"].as_str(), question.urgency.as_deref()), (Some("question"), Some("high")), "{:?}", question.payload);
    assert!(question.payload["body"].as_str().unwrap_or("").contains("Which colour"), "{:?}", question.payload);
}

#[tokio::test]
async fn a_gone_subscription_is_deleted() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let service = PushService::start().await;
    service.subscribe(&server, "old-phone", StatusCode::GONE).await;
    service.subscribe(&server, "phone", StatusCode::CREATED).await;

    let (task, session) = server.submit("new", "hello").await;
    server.wait_finished(&session, &task, LONG).await;
    service.wait_for(2, Duration::from_secs(10)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, list) = server.get("/api/push/subscriptions").await;
        let names: Vec<&str> = list["subscriptions"].as_array().expect("list").iter().filter_map(|s| s["name"].as_str()).collect();
        if names == ["phone"] {
            break;
        }
        assert!(Instant::now() < deadline, "the 410 did not remove the subscription: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_push_the_service_could_not_take_is_sent_again() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let service = PushService::start().await;
    let browser = Browser { unavailable_first: 1, ..Browser::new(StatusCode::CREATED) };
    service.subscribe_browser(&server, "phone", browser).await;

    let (task, session) = server.submit("new", "hello").await;
    let ended = Instant::now();
    server.wait_finished(&session, &task, LONG).await;
    let received = service.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].payload["task_id"], task.as_str());
    assert!(ended.elapsed() >= Duration::from_secs(1), "after a pause, not at once: {:?}", ended.elapsed());
    // A 503 keeps the subscription, and the retry succeeds.
    wait_for_success(&server).await;
}

/// Until the first subscription records a success: the service has a message before the server
/// has read the service's answer.
async fn wait_for_success(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, list) = server.get("/api/push/subscriptions").await;
        if list["subscriptions"][0]["last_success_at"].is_i64() {
            return;
        }
        assert!(Instant::now() < deadline, "no success recorded: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_dead_push_service_never_slows_a_task() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    // One that accepts and never answers, one that refuses connections.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_address = silent.local_addr().expect("address");
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = held.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = silent.accept().await {
            holder.lock().expect("lock").push(stream);
        }
    });
    // And a healthy one beside them: its pushes are not held up by theirs.
    let service = PushService::start().await;
    service.subscribe(&server, "phone", StatusCode::CREATED).await;
    let refused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let refused_address = refused.local_addr().expect("address");
    drop(refused);
    let browser = Browser::new(StatusCode::CREATED);
    for endpoint in [format!("http://{silent_address}/push/silent"), format!("http://{refused_address}/push/refused")] {
        let (code, body) = server.post_json("/api/push/subscriptions", &browser.subscription(&endpoint)).await;
        assert_eq!(code, 200, "{body}");
    }

    let (first, session) = server.submit("new", "first").await;
    server.wait_finished(&session, &first, LONG).await;
    let mut last = first.clone();
    for n in 0..4 {
        let started = Instant::now();
        let (task, _) = server.submit(&session, &format!("message {n}")).await;
        let done = server.wait_finished(&session, &task, LONG).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert!(started.elapsed() < Duration::from_secs(5), "a task took {:?} with a dead push service", started.elapsed());
        let asked = Instant::now();
        let (code, _) = server.get("/health").await;
        assert_eq!(code, 200);
        assert!(asked.elapsed() < Duration::from_secs(1), "/health took {:?}", asked.elapsed());
        last = task;
    }
    // The healthy service got the first ending at once, and the last one at most a window or two
    // later (quick endings are folded), whatever the dead ones do.
    let received = service.wait_for(1, Duration::from_secs(2)).await;
    assert_eq!(received[0].payload["task_id"], first.as_str());
    let deadline = Instant::now() + COALESCE * 2 + Duration::from_secs(3);
    while !service.received().iter().any(|m| m.payload["task_id"] == last.as_str()) {
        assert!(Instant::now() < deadline, "the last ending never reached the healthy service: {:?}", service.received());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!held.lock().expect("lock").is_empty(), "the silent service was tried (and left hanging)");
}

/// The server's bound on one post (push::sender::SEND_TIMEOUT).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_post_the_service_never_answers_is_given_up_at_its_time_limit() {
    use tokio::io::AsyncReadExt;
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}/push/silent", silent.local_addr().expect("address"));
    let (code, body) = server.post_json("/api/push/subscriptions", &Browser::new(StatusCode::CREATED).subscription(&endpoint)).await;
    assert_eq!(code, 200, "{body}");

    let (task, session) = server.submit("new", "hello").await;
    server.wait_finished(&session, &task, LONG).await;
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(10), silent.accept()).await.expect("the server posts").expect("accept");
    let connected = Instant::now();
    let mut request = Vec::new();
    // Read the request and never answer: the server must hang up by itself.
    let closed = tokio::time::timeout(SEND_TIMEOUT + Duration::from_secs(5), stream.read_to_end(&mut request)).await;
    assert!(closed.is_ok(), "still connected after {:?}", connected.elapsed());
    assert!(connected.elapsed() >= SEND_TIMEOUT - Duration::from_secs(1), "hung up early: {:?}", connected.elapsed());
    assert!(String::from_utf8_lossy(&request).starts_with("POST /push/silent"), "{}", String::from_utf8_lossy(&request));
}

#[tokio::test]
async fn quick_endings_in_one_session_make_one_more_push() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let service = PushService::start().await;
    service.subscribe(&server, "phone", StatusCode::CREATED).await;

    let (first, session) = server.submit("new", "one").await;
    let (second, _) = server.submit(&session, "two").await;
    let (third, _) = server.submit(&session, "three").await;
    server.wait_finished(&session, &third, LONG).await;
    let at_once = service.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(at_once[0].payload["task_id"], first.as_str(), "the first ending goes at once");
    let folded = service.wait_for(2, COALESCE * 2 + Duration::from_secs(5)).await;
    assert_eq!(folded[1].payload["task_id"], third.as_str(), "the latest ending stands for the others: {:?}", folded[1].payload);
    assert_eq!(folded[1].payload["endings"], 2, "{:?} (second task {second})", folded[1].payload);
    tokio::time::sleep(COALESCE + Duration::from_secs(1)).await;
    assert_eq!(service.received().len(), 2, "three endings, two pushes");
}

#[tokio::test]
async fn no_push_for_the_session_the_app_shows() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let service = PushService::start().await;
    service.subscribe(&server, "phone", StatusCode::CREATED).await;

    let (task, session) = server.submit("new", "#SLOW=2 watched").await;
    let (code, answer) = server.post_json("/api/push/presence", &json!({"session_id": session, "visible": true})).await;
    assert_eq!(code, 200, "{answer}");
    assert!(answer["expires_in_secs"].as_u64().is_some_and(|s| s > answer["renew_in_secs"].as_u64().unwrap_or(u64::MAX)), "{answer}");
    server.wait_finished(&session, &task, LONG).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(service.received().is_empty(), "the user saw it end: {:?}", service.received());

    let (code, _) = server.post_json("/api/push/presence", &json!({"session_id": session, "visible": false})).await;
    assert_eq!(code, 200);
    let (task, _) = server.submit(&session, "unwatched").await;
    server.wait_finished(&session, &task, LONG).await;
    let received = service.wait_for(1, COALESCE + Duration::from_secs(10)).await;
    assert_eq!(received[0].payload["task_id"], task.as_str());
    assert_eq!(received[0].browser, "phone");

    let (code, body) = server.post_json("/api/push/presence", &json!({"session_id": "new", "visible": true})).await;
    assert_eq!(code, 400, "{body}");
}

#[tokio::test]
async fn a_push_carries_the_title_the_user_gave_the_session() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let service = PushService::start().await;
    service.subscribe(&server, "phone", StatusCode::CREATED).await;
    let (task, session) = server.submit("new", "first words").await;
    server.wait_finished(&session, &task, LONG).await;
    service.wait_for(1, Duration::from_secs(10)).await;

    let renamed = server.http.patch(server.url(&format!("/api/sessions/{session}"))).basic_auth(USER, Some(PASSWORD)).json(&json!({"title": "Release prep"}));
    let (code, body) = support::read(renamed.send().await.expect("PATCH")).await;
    assert_eq!(code, 200, "{body}");
    tokio::time::sleep(COALESCE).await;
    let (task, _) = server.submit(&session, "more").await;
    server.wait_finished(&session, &task, LONG).await;
    let received = service.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(received[1].payload["title"], "Release prep", "{:?}", received[1].payload);
}

#[tokio::test]
async fn the_test_button_reaches_the_device_or_says_why_not() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let service = PushService::start().await;
    let phone = service.subscribe(&server, "phone", StatusCode::CREATED).await;
    let broken = service.subscribe(&server, "broken", StatusCode::INTERNAL_SERVER_ERROR).await;
    let old = service.subscribe(&server, "old", StatusCode::GONE).await;
    let test = |subscription: &Value| format!("/api/push/subscriptions/{}/test", subscription["id"].as_str().expect("id"));

    let (code, body) = server.post_json(&test(&phone), &json!({})).await;
    assert_eq!((code, body), (200, json!({"status": "sent"})), "the answer waits for the push service's");
    let received = service.wait_for(1, Duration::from_secs(1)).await;
    assert_eq!(received.len(), 1, "only the tested device gets it: {received:?}");
    assert_eq!((received[0].browser.as_str(), received[0].payload["kind"].as_str()), ("phone", Some("test")));
    assert_eq!(received[0].payload["url"], "/");
    let (_, list) = server.get("/api/push/subscriptions").await;
    let tested = list["subscriptions"].as_array().expect("list").iter().find(|s| s["name"] == "phone").cloned().expect("phone");
    assert!(tested["last_success_at"].is_i64(), "the list shows when it last worked: {tested}");

    let (code, body) = server.post_json(&test(&broken), &json!({})).await;
    assert_eq!(code, 502, "{body}");
    assert!(body["error"].as_str().unwrap_or("").contains("500"), "the push service's answer is told: {body}");

    let (code, body) = server.post_json(&test(&old), &json!({})).await;
    assert_eq!(code, 404, "{body}");
    let (_, list) = server.get("/api/push/subscriptions").await;
    let names: Vec<&str> = list["subscriptions"].as_array().expect("list").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["phone", "broken"], "a browser that unsubscribed is removed");
    let (code, _) = server.post_json("/api/push/subscriptions/not-an-id/test", &json!({})).await;
    assert_eq!(code, 400);
}
