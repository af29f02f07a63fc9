//! The holes a hostile test found on a public URL, each reproduced against the real server binary
//! and kept closed: sign-in that an empty value opened, guessing that concurrency or forged
//! addresses made cheap, sessions that outlived a password change, an audit log anyone could
//! fill, secrets that reached the CLI.

mod support;

use futures_util::future::join_all;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use support::{fake_claude, Dirs, Server, PASSWORD, USER};

const LONG: Duration = Duration::from_secs(30);

async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

fn env(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (&*Box::leak(k.to_string().into_boxed_str()), v.to_string())).collect()
}

#[tokio::test]
async fn an_empty_password_or_user_name_never_signs_in() {
    let cases: [(&[&str], &[(&str, &str)]); 3] = [
        (&[], &[("AUTH_PASSWORD", "")]),
        (&["--password", ""], &[]),
        (&[], &[("AUTH_PASSWORD", " "), ("AUTH_USERNAME", "")]),
    ];
    for (args, vars) in cases {
        let dirs = Dirs::new();
        let server = Server::launch(&dirs, &fake_claude(), args, &env(vars));
        let user_line = server.printed("  user:");
        assert!(user_line.ends_with(USER) || user_line.ends_with("admin"), "{user_line}");
        for (user, password) in [(USER, ""), ("", ""), ("admin", ""), ("admin", " ")] {
            let basic = server.http.get(server.url("/api/sessions")).basic_auth(user, Some(password));
            assert_eq!(status_of(basic).await, 401, "{args:?} {vars:?}: {user:?}/{password:?}");
        }
        let form = server.http.post(server.url("/api/fn/sign_in")).form(&[("username", "admin"), ("password", "")]);
        assert_eq!(status_of(form).await, 401);
    }
}

#[tokio::test]
async fn a_password_hash_argon2_cannot_check_stops_the_server_with_one_line() {
    for bad in ["not-a-hash", "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"] {
        let dirs = Dirs::new();
        let output = Command::new(env!("CARGO_BIN_EXE_claude-remote"))
            .current_dir(dirs.root.path())
            .args(["--port", "0", "--data-dir"])
            .arg(dirs.data())
            .env_remove("AUTH_PASSWORD")
            .env("AUTH_PASSWORD_HASH", bad)
            .output()
            .expect("run the server");
        assert!(!output.status.success(), "{bad}: the server started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("AUTH_PASSWORD_HASH"), "{stderr}");
    }
    // An empty AUTH_PASSWORD beside a real hash is no conflict: the hash is the password.
    let dirs = Dirs::new();
    let hash = server::hash_password(PASSWORD).expect("hash");
    let server = Server::launch(&dirs, &fake_claude(), &[], &env(&[("AUTH_PASSWORD", ""), ("AUTH_PASSWORD_HASH", &hash)]));
    assert_eq!(server.get("/api/sessions").await.0, 200);
}

fn peak_memory_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

/// Answers of `count` concurrent Basic sign-ins with wrong passwords, each from the address
/// `address(n)` as the (trusted, local) proxy reports it.
async fn concurrent_guesses(server: &Server, count: usize, address: impl Fn(usize) -> String) -> Vec<u16> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    let guesses = (0..count).map(|n| {
        let request = http.get(server.url("/api/sessions")).basic_auth(USER, Some(format!("guess-{n}"))).header("x-forwarded-for", address(n));
        status_of(request)
    });
    join_all(guesses).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_passwords_are_counted_before_they_are_checked_and_memory_stays_bounded() {
    let dirs = Dirs::new();
    let hash = server::hash_password(PASSWORD).expect("hash");
    let server = Server::launch(&dirs, &fake_claude(), &["--trust-proxy"], &env(&[("AUTH_PASSWORD", ""), ("AUTH_PASSWORD_HASH", &hash)]));
    let baseline = peak_memory_kib(server.pid());

    let one_address = concurrent_guesses(&server, 100, |_| "203.0.113.7".into()).await;
    let checked = one_address.iter().filter(|s| **s == 401).count();
    println!("100 concurrent guesses from one address: {checked} checked");
    assert!(checked <= 5, "at most the per-address budget is checked: {checked}");
    assert!(one_address.iter().all(|s| *s == 401 || *s == 429), "{one_address:?}");

    let many_addresses = concurrent_guesses(&server, 400, |n| format!("198.18.{}.{}", n / 200, n % 200 + 1)).await;
    let checked_too = many_addresses.iter().filter(|s| **s == 401).count();
    let peak = peak_memory_kib(server.pid());
    println!("400 concurrent guesses from 400 addresses: {checked_too} more checked; peak RSS {} MiB (at start {} MiB)", peak / 1024, baseline / 1024);
    assert!(checked + checked_too <= 100, "the global budget is a hard cap: {}", checked + checked_too);
    assert!(peak < 200 * 1024, "argon2 runs a few at a time: peak RSS {} MiB", peak / 1024);
    // Still serving, and the owner's right password from a fresh address waits like everyone's.
    assert_eq!(server.http.get(server.url("/health")).send().await.map(|r| r.status().as_u16()).unwrap_or(0), 200);
}

async fn sign_in_form(http: &reqwest::Client, server: &Server, forwarded_for: &str, cookies: Option<&str>) -> (u16, Vec<String>) {
    let mut request = http.post(server.url("/api/fn/sign_in")).header("x-forwarded-for", forwarded_for).form(&[("username", USER), ("password", PASSWORD)]);
    if let Some(cookies) = cookies {
        request = request.header("cookie", cookies);
    }
    let response = request.send().await.expect("POST");
    let set: Vec<String> = response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
    (response.status().as_u16(), set)
}

fn cookie_pair(set_cookie: &[String], name: &str) -> String {
    set_cookie.iter().find(|c| c.starts_with(&format!("{name}="))).and_then(|c| c.split(';').next()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn forged_addresses_buy_no_guesses_and_a_browser_that_signed_in_before_still_gets_in() {
    let dirs = Dirs::new();
    let server = Server::start_with(&dirs, &["--trust-proxy"]);
    let http = reqwest::Client::new();
    // The owner's phone signed in last week: it keeps a device token.
    let (code, set) = sign_in_form(&http, &server, "198.51.100.10", None).await;
    assert_eq!(code, 200);
    let device = cookie_pair(&set, "cr_device");
    assert!(!device.is_empty(), "{set:?}");

    // A client writes any address it likes in front; the proxy appends the real one.
    let forged = concurrent_guesses(&server, 700, |n| format!("10.{}.{}.1, 203.0.113.7", n / 250, n % 250)).await;
    let checked = forged.iter().filter(|s| **s == 401).count();
    println!("700 guesses with forged X-Forwarded-For entries: {checked} checked");
    assert!(checked <= 5, "{checked}");

    // A botnet really has many addresses: the global budget caps them all together.
    let mut botnet_checked = 0;
    for n in 0..300 {
        let request = http.get(server.url("/api/sessions")).basic_auth(USER, Some("guess")).header("x-forwarded-for", format!("198.18.{}.{}", n / 200, n % 200 + 1));
        botnet_checked += usize::from(status_of(request).await == 401);
    }
    println!("300 guesses from 300 addresses: {botnet_checked} checked");
    assert!(checked + botnet_checked <= 100, "{}", checked + botnet_checked);
    let fresh = http.get(server.url("/api/sessions")).basic_auth(USER, Some(PASSWORD)).header("x-forwarded-for", "192.0.2.99");
    assert_eq!(status_of(fresh).await, 429, "nobody without a device token is checked now");

    // The phone, from wherever it is now, signs in on its own budget.
    let (code, set) = sign_in_form(&http, &server, "192.0.2.200", Some(&device)).await;
    assert_eq!(code, 200, "{set:?}");
    let session = cookie_pair(&set, "cr_session");
    let response = http.get(server.url("/api/sessions")).header("cookie", session).send().await.expect("GET");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_changed_password_or_user_name_ends_every_browser_session() {
    let dirs = Dirs::new();
    let signed_in = |server: &Server, cookie: &str| {
        let request = server.http.get(server.url("/api/sessions")).header("cookie", cookie.to_owned());
        async move { status_of(request).await }
    };
    let server = Server::start(&dirs);
    let (_, set) = sign_in_form(&server.http, &server, "", None).await;
    let cookie = cookie_pair(&set, "cr_session");
    assert_eq!(signed_in(&server, &cookie).await, 200);
    server.kill();

    let server = Server::start(&dirs);
    assert_eq!(signed_in(&server, &cookie).await, 200, "a restart alone keeps the session");
    let (_, set) = sign_in_form(&server.http, &server, "", None).await;
    let second = cookie_pair(&set, "cr_session");
    server.kill();

    let server = Server::launch(&dirs, &fake_claude(), &[], &env(&[("AUTH_PASSWORD", "a new password")]));
    assert_eq!(signed_in(&server, &cookie).await, 401, "the password changed");
    server.kill();

    let server = Server::launch(&dirs, &fake_claude(), &[], &env(&[("AUTH_USERNAME", "someone-else")]));
    assert_eq!(signed_in(&server, &second).await, 401, "the user name changed");
}

#[tokio::test]
async fn megabyte_user_names_cannot_fill_the_disk_or_the_audit_log() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let huge = "u".repeat(600 * 1024);
    let mut codes = Vec::new();
    for _ in 0..20 {
        let request = server.http.post(server.url("/api/fn/sign_in")).form(&[("username", huge.as_str()), ("password", "x\u{1b}[2J")]);
        codes.push(status_of(request).await);
    }
    assert!(codes.iter().all(|c| *c == 401 || *c == 429), "{codes:?}");
    let owner = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().expect("client");
    let response = owner.get(server.url("/api/audit")).basic_auth(USER, Some(PASSWORD)).send().await.expect("GET");
    let text = response.text().await.expect("body");
    println!("audit answer after 20 sign-ins with 600 KB user names: {} bytes", text.len());
    assert!(text.len() < 4096, "{} bytes", text.len());
    let audit: Value = serde_json::from_str(&text).expect("json");
    let failures: Vec<&Value> = audit["entries"].as_array().expect("entries").iter().filter(|e| e["event"] == "sign_in_failed").collect();
    assert_eq!(failures.len(), 1, "repeated failures are one entry: {failures:?}");
    assert_eq!(failures[0]["count"], codes.iter().filter(|c| **c == 401).count());
    assert_eq!(failures[0]["username"], "(another name, 614400 characters)");
    let database: u64 = ["claude-remote.db", "claude-remote.db-wal"]
        .iter()
        .map(|name| std::fs::metadata(dirs.data().join(name)).map(|m| m.len()).unwrap_or(0))
        .sum();
    assert!(database < 1024 * 1024, "the database grew to {database} bytes");
    let _ = LONG;
}

#[tokio::test]
async fn the_cli_and_its_tools_never_see_the_servers_secrets() {
    let dirs = Dirs::new();
    // `.env` is the server's file: what only it sets stays with the server.
    std::fs::write(dirs.root.path().join(".env"), "SESSION_DAYS=7\nSERVER_ONLY_NOTE=from-dotenv\n").expect("write .env");
    let env_log = dirs.root.path().join("cli-env.jsonl");
    let vars = env(&[
        ("TUNNEL_TOKEN", "tunnel-secret"),
        ("ANTHROPIC_API_KEY", "the-cli-needs-this"),
        ("FAKE_CLAUDE_ENV_LOG", env_log.to_str().expect("utf-8")),
    ]);
    let server = Server::launch(&dirs, &fake_claude(), &[], &vars);
    let (task, session) = server.submit("new", "run env").await;
    assert_eq!(server.wait_finished(&session, &task, LONG).await["status"], "completed");
    let seen: Value = std::fs::read_to_string(&env_log).ok().and_then(|t| serde_json::from_str(t.lines().last()?).ok()).expect("the CLI's environment");
    let text = seen.to_string();
    for secret in [PASSWORD, "tunnel-secret", "from-dotenv"] {
        assert!(!text.contains(secret), "{secret:?} reached the CLI");
    }
    for name in ["AUTH_PASSWORD", "AUTH_USERNAME", "TUNNEL_TOKEN", "SESSION_DAYS", "SERVER_ONLY_NOTE"] {
        assert!(seen.get(name).is_none(), "{name} reached the CLI");
    }
    assert_eq!(seen["ANTHROPIC_API_KEY"], "the-cli-needs-this", "the CLI's own settings pass");
    assert!(seen.get("PATH").is_some() && seen.get("CLAUDE_CONFIG_DIR").is_some());
}

#[tokio::test]
async fn health_tells_strangers_only_what_a_monitor_needs_and_notices_a_deleted_cli() {
    let dirs = Dirs::new();
    let cli = dirs.root.path().join("claude");
    std::fs::copy(fake_claude(), &cli).expect("copy the CLI");
    let server = Server::launch(&dirs, &cli, &[], &[]);
    let (code, public) = support::read(reqwest::get(server.url("/health")).await.expect("GET")).await;
    assert_eq!(code, 200);
    assert_eq!((public["status"].as_str(), public["cli"]["found"].as_bool()), (Some("ok"), Some(true)), "{public}");
    let text = public.to_string();
    for private in [dirs.root.path().to_str().expect("utf-8"), "running_tasks", "path", "2.1.197"] {
        assert!(!text.contains(private), "{private:?} in {text}");
    }
    let (_, signed_in) = server.get("/health").await;
    assert!(signed_in["cli"]["path"].is_string() && signed_in["running_tasks"].is_number(), "{signed_in}");

    std::fs::remove_file(&cli).expect("delete the CLI");
    // Noticed within a second (the file is looked at again at most that often).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, after) = support::read(reqwest::get(server.url("/health")).await.expect("GET")).await;
        if after["cli"]["found"] == false {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "a deleted CLI is still found: {after}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn out_of_range_resume_points_and_bad_query_strings_get_json_errors() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "one line or two").await;
    server.wait_finished(&session, &task, LONG).await;
    let events = format!("/api/sessions/{session}/tasks/{task}/events");
    let (code, all) = server.get(&format!("{events}?after=0")).await;
    assert_eq!(code, 200);
    assert!(!all["events"].as_array().expect("events").is_empty());
    for query in ["?after=9223372036854775808", "?after=18446744073709551615", "?after=-1", "?after=abc"] {
        let (code, body) = server.get(&format!("{events}{query}")).await;
        assert_eq!(code, 400, "{query}: {body}");
        assert!(body["error"].is_string(), "{query}: a JSON error, got {body}");
    }
    let response = server.http.get(server.url(&events)).basic_auth(USER, Some(PASSWORD)).header("last-event-id", "9223372036854775808").send().await.expect("GET");
    assert_eq!(response.status(), 400, "a replay of everything is not what a huge Last-Event-ID asks for");
    for path in ["/api/sessions?limit=lots", "/api/audit?limit=-5"] {
        let (code, body) = server.get(path).await;
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}
