//! Safe on a public URL: throttled guessing, the browser surface, limits, injection, audit.

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::time::Duration;
use support::{Dirs, Server, PASSWORD, USER};

const LONG: Duration = Duration::from_secs(30);

fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::from(address)).build().expect("client")
}

#[tokio::test]
async fn hundreds_of_wrong_passwords_are_throttled_while_the_owner_still_signs_in() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let attacker = client_from([127, 0, 0, 1]);
    let mut statuses = Vec::new();
    for n in 0..300 {
        let response = attacker.get(server.url("/api/sessions")).basic_auth(USER, Some(format!("guess-{n}"))).send().await.expect("GET");
        if response.status() == 429 {
            let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
            assert!(retry.is_some_and(|s| (1..=3600).contains(&s)), "429 says when to retry: {retry:?}");
        }
        statuses.push(response.status().as_u16());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    println!("brute force: {checked} passwords checked, {throttled} refused unchecked out of 300");
    assert!(checked <= 5, "at most a few guesses a minute are even checked: {checked}");
    assert_eq!(checked + throttled, 300);

    // Even the right password waits on the guessing address...
    let response = attacker.get(server.url("/api/sessions")).basic_auth(USER, Some(PASSWORD)).send().await.expect("GET");
    assert_eq!(response.status(), 429);
    // ...but the owner, from another address, signs in: by Basic and by the sign-in form.
    let owner = client_from([127, 0, 0, 2]);
    let response = owner.get(server.url("/api/sessions")).basic_auth(USER, Some(PASSWORD)).send().await.expect("GET");
    assert_eq!(response.status(), 200);
    let response = owner.post(server.url("/api/fn/sign_in")).form(&[("username", USER), ("password", PASSWORD)]).send().await.expect("POST");
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_some());

    // The sign-in form is throttled the same way.
    let other = client_from([127, 0, 0, 3]);
    let mut form_statuses = Vec::new();
    for n in 0..10 {
        let response = other.post(server.url("/api/fn/sign_in")).form(&[("username", USER), ("password", &format!("nope-{n}"))]).send().await.expect("POST");
        form_statuses.push(response.status().as_u16());
    }
    assert_eq!(form_statuses[..5], [401; 5]);
    assert!(form_statuses[5..].iter().all(|s| *s == 429), "{form_statuses:?}");

    // The audit log saw the failures, with their address (read by the owner: the guessing
    // address is still throttled).
    let response = owner.get(server.url("/api/audit?limit=1000")).basic_auth(USER, Some(PASSWORD)).send().await.expect("GET");
    let (_, audit) = support::read(response).await;
    let failures: Vec<&Value> = audit["entries"].as_array().expect("entries").iter().filter(|e| e["event"] == "sign_in_failed").collect();
    // Repeats from one client are one entry with a count.
    assert_eq!(failures.iter().filter_map(|e| e["count"].as_u64()).sum::<u64>(), 10, "{failures:?}");
    assert!(failures.iter().any(|e| e["client"] == "127.0.0.3" && e["detail"] == "form" && e["count"] == 5));
}

async fn cookie_for(server: &Server) -> String {
    let response = server.http.post(server.url("/api/fn/sign_in")).form(&[("username", USER), ("password", PASSWORD)]).send().await.expect("POST");
    assert_eq!(response.status(), 200);
    let set = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    set.split(';').next().expect("pair").to_owned()
}

#[tokio::test]
async fn a_cross_origin_write_with_the_cookie_is_refused() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let cookie = cookie_for(&server).await;
    let post = |headers: &[(&'static str, &'static str)]| {
        let mut request = server.http.post(server.url("/api/sessions/new/chat")).header("cookie", &cookie).json(&json!({"message": "hi"}));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send()
    };
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let (code, body) = support::read(post(&headers).await.expect("POST")).await;
        assert_eq!(code, 403, "{headers:?}: {body}");
    }
    let host = server.base.trim_start_matches("http://").to_owned();
    let origin = server.base.clone();
    let response = server
        .http
        .post(server.url("/api/sessions/new/chat"))
        .header("cookie", &cookie)
        .header("origin", origin)
        .header("host", host)
        .json(&json!({"message": "from the app itself"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200, "same origin is fine");
    server.wait_idle().await;
    assert!(!dirs.messages().iter().any(|m| m["message"] == "hi"), "no refused write reached the CLI");

    // A CORS preflight from another site gets no grant.
    let response = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/api/sessions/new/chat"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("OPTIONS");
    assert!(response.headers().keys().all(|k| !k.as_str().starts_with("access-control-")), "{:?}", response.headers());
}

#[tokio::test]
async fn nothing_a_user_sends_reaches_the_cli_as_an_option() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let corpus = [
        "-p",
        "--dangerously-skip-permissions",
        "--permission-mode=bypassPermissions",
        "--",
        "-- --help",
        "/cost",
        "/compact now",
        "line one\n--resume 00000000-0000-4000-8000-000000000000",
        "\t-tabbed",
        "--output-format=text",
    ];
    for message in corpus {
        let (task, session) = server.submit("new", message).await;
        assert_eq!(server.wait_finished(&session, &task, LONG).await["status"], "completed", "{message:?}");
    }
    let read: Vec<String> = dirs.messages().iter().filter_map(|m| m["message"].as_str().map(str::to_owned)).collect();
    assert_eq!(read, corpus, "every message reached the CLI's stdin as text");
    for invocation in dirs.invocations() {
        let argv: Vec<&str> = invocation["argv"].as_array().expect("argv").iter().filter_map(Value::as_str).collect();
        assert!(!argv.iter().any(|a| corpus[1..].contains(a) || a.contains("dangerously") || a.contains("bypass")), "{argv:?}");
    }
    // Refused before any process starts.
    let before = dirs.invocations().len();
    for (body, expected) in [
        (json!({"message": "nul\u{0}byte"}), 400),
        (json!({"message": "x".repeat(300 * 1024)}), 413),
        (json!({"message": "hi", "model": "-x"}), 400),
        (json!({"message": "hi", "allowed_tools": ["--dangerously-skip-permissions"]}), 400),
        (json!({"message": "hi", "permission_mode": "--help"}), 400),
    ] {
        let (code, answer) = server.post_json("/api/sessions/new/chat", &body).await;
        assert_eq!(code, expected, "{answer}");
    }
    // (Literal `..` segments are resolved by the client before sending; encoded ones reach us.)
    for id in ["-p", "--help", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc", "00000000-0000-4000-8000-00000000000%00"] {
        let (code, _) = server.post_json(&format!("/api/sessions/{id}/chat"), &json!({"message": "hi"})).await;
        assert_eq!(code, 400, "session id {id:?}");
        let (code, _) = server.get(&format!("/api/sessions/{id}/messages")).await;
        assert_eq!(code, 400, "session id {id:?}");
        let (code, _) = server.get(&format!("/api/sessions/new/tasks/{id}")).await;
        assert!(code == 400 || code == 404, "task id {id:?}: {code}");
    }
    assert_eq!(dirs.invocations().len(), before);
}

#[tokio::test]
async fn an_oversized_body_is_refused_from_its_length_without_being_read() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    // Headers only: the 50 MB body never comes, and no credentials are checked.
    write!(
        stream,
        "POST /api/sessions/new/chat HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic dGVzdGVyOndyb25n\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
    )
    .expect("write");
    let mut answer = [0u8; 512];
    let read = stream.read(&mut answer).expect("an answer before the body was sent");
    let head = String::from_utf8_lossy(&answer[..read]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let anonymous = reqwest::Client::new();
    let mut responses = Vec::new();
    for path in ["/health", "/api/config", "/", "/manifest.webmanifest", "/api/sessions", "/api/nope", "/api/sessions/bad/messages"] {
        responses.push((path, anonymous.get(server.url(path)).basic_auth(USER, Some(PASSWORD)).send().await.expect("GET")));
    }
    responses.push(("401", anonymous.get(server.url("/api/sessions")).send().await.expect("GET")));
    for (path, response) in &responses {
        let headers = response.headers();
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(get("x-frame-options"), "DENY", "{path}");
        let csp = get("content-security-policy");
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert!(headers.get("access-control-allow-origin").is_none(), "{path}");
        assert!(headers.get("strict-transport-security").is_none(), "no HSTS over plain HTTP: {path}");
    }
    let over_tunnel = anonymous.get(server.url("/health")).header("x-forwarded-proto", "https").send().await.expect("GET");
    assert!(over_tunnel.headers().get("strict-transport-security").is_some());
}

#[tokio::test]
async fn the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dirs = Dirs::new();
    // An earlier version left its output folder with the umask's mode.
    std::fs::create_dir_all(dirs.data().join("spool")).expect("spool");
    std::fs::set_permissions(dirs.data().join("spool"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "#SLOW=2 leave a trace").await;
    let _running = server.wait_status(&session, &task, "processing", LONG).await;
    let mode = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    let mut checked = 0;
    let mut folders = vec![dirs.data()];
    while let Some(folder) = folders.pop() {
        assert_eq!(mode(&folder), 0o700, "{folder:?}");
        for entry in std::fs::read_dir(&folder).expect("folder").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{path:?}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "the database, its journal, the key and a running task's output were all there: {checked}");
    server.wait_finished(&session, &task, LONG).await;
}

#[tokio::test]
async fn the_openapi_document_is_private_and_matches_the_routes() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let anonymous = reqwest::Client::new().get(server.url("/api/openapi.json")).send().await.expect("GET");
    assert_eq!(anonymous.status(), 401);
    let (code, document) = server.get("/api/openapi.json").await;
    assert_eq!(code, 200);
    let paths = document["paths"].as_object().expect("paths");
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, methods)| methods.as_object().into_iter().flatten().map(move |(m, _)| (m.to_uppercase(), path.clone())))
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = [
        ("GET", "/health"),
        ("GET", "/api/config"),
        ("GET", "/api/sessions"),
        ("POST", "/api/sessions/{session_id}/chat"),
        ("GET", "/api/sessions/{session_id}/tasks/{task_id}"),
        ("DELETE", "/api/sessions/{session_id}/tasks/{task_id}"),
        ("POST", "/api/sessions/{session_id}/tasks/{task_id}/cancel"),
        ("GET", "/api/sessions/{session_id}/tasks/{task_id}/changes"),
        ("GET", "/api/projects/{id}/git"),
        ("GET", "/api/projects/{id}/git/diff"),
        ("GET", "/api/projects/{id}/files"),
        ("GET", "/api/projects/{id}/file"),
        ("POST", "/api/sessions/{session_id}/tasks/{task_id}/approvals/{approval_id}"),
        ("GET", "/api/sessions/{session_id}/tasks/{task_id}/events"),
        ("GET", "/api/sessions/{session_id}/messages"),
        ("PATCH", "/api/sessions/{session_id}"),
        ("DELETE", "/api/sessions/{session_id}"),
        ("POST", "/api/chat"),
        ("GET", "/api/audit"),
        ("GET", "/api/push/key"),
        ("POST", "/api/push/subscriptions"),
        ("GET", "/api/push/subscriptions"),
        ("DELETE", "/api/push/subscriptions/{id}"),
        ("POST", "/api/push/subscriptions/{id}/test"),
        ("POST", "/api/push/presence"),
        ("GET", "/api/projects"),
        ("POST", "/api/projects"),
        ("GET", "/api/projects/folders"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    expected.sort();
    assert_eq!(documented, expected);

    // Every documented route answers as itself, never as "no such route".
    let session = uuid::Uuid::new_v4().to_string();
    let task = uuid::Uuid::new_v4().to_string();
    for (method, path) in documented {
        let url = server.url(&path.replace("{session_id}", &session).replace("{task_id}", &task).replace("{approval_id}", "a1").replace("{id}", &task));
        let request = server.http.request(method.parse().expect("method"), url).basic_auth(USER, Some(PASSWORD));
        let body = if path.contains("approvals") { json!({"decision": "allow"}) } else { json!({"message": "documented"}) };
        let request = if method == "POST" { request.json(&body) } else { request };
        let (code, body) = support::read(request.send().await.expect("request")).await;
        assert_ne!(code, 405, "{method} {path}");
        assert!(!body.to_string().contains("no such API route"), "{method} {path}: {body}");
    }
}

/// The request log (`LOG=info`) says what was asked and how it went: method, path, status and
/// time. Never the password, the session cookie, a query string or a body.
#[tokio::test]
async fn the_request_log_names_method_path_and_status_and_no_secret() {
    let dirs = Dirs::new();
    let server = Server::launch(&dirs, &support::fake_claude(), &[], &[("LOG", "info".to_owned())]);
    let cookie = cookie_for(&server).await;
    let token = cookie.split_once('=').map(|(_, token)| token.to_owned()).expect("a token");
    let response = server
        .http
        .post(server.url("/api/sessions/new/chat?secret=query-secret-123"))
        .basic_auth(USER, Some(PASSWORD))
        .header("cookie", &cookie)
        .json(&json!({"message": "body-secret-456"}))
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16().to_string();
    let plain = |line: &String| {
        // Without the terminal colours the log may carry.
        let mut out = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                chars.by_ref().take_while(|c| *c != 'm').for_each(drop);
            } else {
                out.push(c);
            }
        }
        out
    };
    let mut logged = Vec::new();
    for _ in 0..200 {
        logged = server.stdout.lock().expect("lock").iter().map(plain).collect();
        if logged.iter().any(|l| l.contains("path=/api/sessions/new/chat") && l.contains(&format!("status={status}"))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let line = logged.iter().find(|l| l.contains("path=/api/sessions/new/chat")).unwrap_or_else(|| panic!("no request line: {logged:?}"));
    assert!(line.contains("method=POST") && line.contains(&format!("status={status}")) && line.contains("latency="), "{line}");
    assert!(logged.iter().any(|l| l.contains("path=/api/fn/sign_in")), "the sign-in is logged too: {logged:?}");
    for secret in [PASSWORD, token.as_str(), "query-secret-123", "body-secret-456"] {
        assert!(!logged.iter().any(|l| l.contains(secret)), "{secret:?} is in the log: {logged:?}");
    }
}
