//! This browser's side of Web Push: its permission, its `PushSubscription`, and the server's
//! `/api/push` routes (REST only: the service worker and other clients use them too). Outside a
//! browser (the server's build, the unit tests) everything is inert.

use serde::Deserialize;

/// The local record that this device is subscribed (its endpoint): in-page notifications then
/// stay quiet, since the push arrives whether or not the app is open.
#[cfg(feature = "csr")]
const PUSHED_HERE: &str = "claude-remote:push-endpoint";

/// A subscribed browser, as `GET /api/push/subscriptions` lists it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Device {
    pub id: String,
    pub endpoint: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub last_success_at: Option<i64>,
}

#[derive(Deserialize)]
struct DeviceList {
    subscriptions: Vec<Device>,
}

/// Why this browser cannot get a push while the app is closed.
#[cfg_attr(not(feature = "csr"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    /// iOS and iPadOS: only an app added to the Home Screen may receive pushes.
    NotInstalled,
    /// No Push API at all.
    NoPush,
}

/// A name for this device in the list, from its user agent: "Chrome on Android".
#[cfg_attr(not(feature = "csr"), allow(dead_code))]
pub fn device_name(user_agent: &str) -> String {
    let has = |needle: &str| user_agent.contains(needle);
    let system = if has("iPhone") {
        "iPhone"
    } else if has("iPad") {
        "iPad"
    } else if has("Android") {
        "Android"
    } else if has("Mac OS X") || has("Macintosh") {
        "Mac"
    } else if has("Windows") {
        "Windows"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Linux") {
        "Linux"
    } else {
        "this device"
    };
    let browser = if has("Edg/") {
        "Edge"
    } else if has("Firefox/") || has("FxiOS") {
        "Firefox"
    } else if has("Chrome/") || has("CriOS") {
        "Chrome"
    } else if has("Safari/") || has("iPhone") || has("iPad") {
        "Safari"
    } else {
        "Browser"
    };
    format!("{browser} on {system}")
}

/// Whether pushes can reach this browser with the app closed.
pub fn support() -> Result<(), Unsupported> {
    #[cfg(feature = "csr")]
    {
        let Some(window) = web_sys::window() else { return Err(Unsupported::NoPush) };
        let has = |name: &str| js_sys::Reflect::has(&window, &name.into()).unwrap_or(false);
        if has("PushManager") && has("Notification") {
            return Ok(());
        }
        let agent = window.navigator().user_agent().unwrap_or_default();
        if agent.contains("iPhone") || agent.contains("iPad") {
            Err(Unsupported::NotInstalled)
        } else {
            Err(Unsupported::NoPush)
        }
    }
    #[cfg(not(feature = "csr"))]
    {
        Err(Unsupported::NoPush)
    }
}

/// The endpoint this device subscribed with, if it did (and has not turned it off).
pub fn endpoint_here() -> Option<String> {
    #[cfg(feature = "csr")]
    {
        web_sys::window()?.local_storage().ok().flatten()?.get_item(PUSHED_HERE).ok().flatten()
    }
    #[cfg(not(feature = "csr"))]
    {
        None
    }
}

#[cfg(feature = "csr")]
fn remember_endpoint(endpoint: Option<&str>) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = match endpoint {
            Some(endpoint) => storage.set_item(PUSHED_HERE, endpoint),
            None => storage.remove_item(PUSHED_HERE),
        };
    }
}

/// Subscribes this browser with the server's key and registers it: its endpoint. The browser's
/// permission must be granted already (asked on the user's tap).
pub async fn subscribe() -> Result<String, String> {
    #[cfg(feature = "csr")]
    {
        let key = call("GET", "/api/push/key", None).await?;
        let key = key["public_key"].as_str().ok_or("the server sent no key")?.to_owned();
        let registration = registration().await.ok_or("the service worker is not running")?;
        let manager = registration.push_manager().map_err(|_| "this browser has no push service")?;
        let options = web_sys::PushSubscriptionOptionsInit::new();
        options.set_user_visible_only(true);
        options.set_application_server_key(&key_bytes(&key)?.into());
        let promise = manager.subscribe_with_options(&options).map_err(|_| "this browser refused to subscribe")?;
        let subscription = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|error| format!("the browser's push service cannot be reached ({})", js_message(&error)))?;
        let json = js_sys::JSON::stringify(&subscription).map_err(|_| "unreadable subscription")?;
        let mut body: serde_json::Value = serde_json::from_str(&String::from(json)).map_err(|_| "unreadable subscription")?;
        let agent = web_sys::window().and_then(|w| w.navigator().user_agent().ok()).unwrap_or_default();
        body["name"] = device_name(&agent).into();
        let endpoint = body["endpoint"].as_str().unwrap_or_default().to_owned();
        call("POST", "/api/push/subscriptions", Some(&body)).await?;
        remember_endpoint(Some(&endpoint));
        Ok(endpoint)
    }
    #[cfg(not(feature = "csr"))]
    {
        Err("not in a browser".into())
    }
}

/// Ends this browser's subscription (the server's entry is removed by the caller, or by the push
/// service's next 410).
pub async fn unsubscribe_here() {
    #[cfg(feature = "csr")]
    {
        use wasm_bindgen::JsCast;
        remember_endpoint(None);
        let Some(registration) = registration().await else { return };
        let Ok(manager) = registration.push_manager() else { return };
        let Ok(promise) = manager.get_subscription() else { return };
        if let Ok(subscription) = wasm_bindgen_futures::JsFuture::from(promise).await
            && let Some(subscription) = subscription.dyn_ref::<web_sys::PushSubscription>()
            && let Ok(done) = subscription.unsubscribe() {
            let _ = wasm_bindgen_futures::JsFuture::from(done).await;
        }
    }
}

pub async fn devices() -> Result<Vec<Device>, String> {
    let list = call("GET", "/api/push/subscriptions", None).await?;
    serde_json::from_value::<DeviceList>(list).map(|l| l.subscriptions).map_err(|_| "unreadable device list".into())
}

pub async fn remove(id: &str) -> Result<(), String> {
    call("DELETE", &format!("/api/push/subscriptions/{id}"), None).await.map(drop)
}

pub async fn test(id: &str) -> Result<(), String> {
    call("POST", &format!("/api/push/subscriptions/{id}/test"), Some(&serde_json::json!({}))).await.map(drop)
}

/// Tells the server whether `session` is on screen (no push for it then); best effort.
pub async fn presence(session: uuid::Uuid, visible: bool) {
    let body = serde_json::json!({ "session_id": session, "visible": visible });
    let _ = call("POST", "/api/push/presence", Some(&body)).await;
}

#[cfg(feature = "csr")]
async fn registration() -> Option<web_sys::ServiceWorkerRegistration> {
    use wasm_bindgen::JsCast;
    let ready = web_sys::window()?.navigator().service_worker().ready().ok()?;
    wasm_bindgen_futures::JsFuture::from(ready).await.ok().map(|r| r.unchecked_into())
}

/// The key as bytes: `applicationServerKey` takes a base64url string only in some browsers.
#[cfg(feature = "csr")]
fn key_bytes(key: &str) -> Result<js_sys::Uint8Array, String> {
    let mut standard: String = key.chars().map(|c| match c { '-' => '+', '_' => '/', c => c }).collect();
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    let binary = web_sys::window().and_then(|w| w.atob(&standard).ok()).ok_or("the server's key is not base64url")?;
    let bytes: Vec<u8> = binary.chars().map(|c| c as u8).collect();
    Ok(js_sys::Uint8Array::from(bytes.as_slice()))
}

#[cfg(feature = "csr")]
fn js_message(error: &wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| "no reason given".into())
}

/// One call to a REST route with the sign-in cookie: its JSON answer, or the error it carries.
async fn call(method: &str, path: &str, body: Option<&serde_json::Value>) -> Result<serde_json::Value, String> {
    #[cfg(feature = "csr")]
    {
        use wasm_bindgen::JsCast;
        let window = web_sys::window().ok_or("no window")?;
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        if let Some(body) = body {
            init.set_body(&body.to_string().into());
            let headers = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&headers, &"content-type".into(), &"application/json".into());
            init.set_headers(&headers);
        }
        let unreachable = |_| "your machine cannot be reached".to_owned();
        let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str_and_init(path, &init)).await.map_err(unreachable)?;
        let response: web_sys::Response = response.unchecked_into();
        let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(unreachable)?).await.map_err(unreachable)?;
        let answer: serde_json::Value = serde_json::from_str(&text.as_string().unwrap_or_default()).unwrap_or_default();
        if response.ok() {
            Ok(answer)
        } else {
            Err(answer["error"].as_str().map_or_else(|| format!("the server answered {}", response.status()), str::to_owned))
        }
    }
    #[cfg(not(feature = "csr"))]
    {
        let _ = (method, path, body);
        Err("not in a browser".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_named_by_its_browser_and_system() {
        let pixel = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
        assert_eq!(device_name(pixel), "Chrome on Android");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device_name(iphone), "Safari on iPhone");
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device_name(firefox), "Firefox on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0";
        assert_eq!(device_name(edge), "Edge on Windows");
    }
}
