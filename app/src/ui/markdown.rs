//! Markdown to HTML through the `markdown` crate, which the app loads as a WebAssembly module of
//! its own the first time it has something to render: the parser is a fifth of the app's code,
//! and the sign-in screen needs none of it (see `markdown/` and `public/load-markdown.js`).
//!
//! Until the module is there (a first visit; afterwards the service worker has it) text shows
//! as written, escaped, with its line breaks; a view that rendered it so is rendered again once
//! the module has loaded, since [`to_html`] reads a signal that says so.

use leptos::prelude::*;

thread_local! {
    /// Whether `window.claudeMarkdown` is there.
    static READY: ArcRwSignal<bool> = ArcRwSignal::new(false);
    /// Whether the module was asked for and has not failed since.
    static REQUESTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A reply or a plan, as Markdown.
pub fn to_html(markdown: &str) -> String {
    render(markdown, false)
}

/// A message the user typed: as [`to_html`], and each line they broke stays broken.
pub fn typed_to_html(markdown: &str) -> String {
    render(markdown, true)
}

fn render(markdown: &str, keep_line_breaks: bool) -> String {
    if READY.with(|ready| ready.get()) {
        if let Some(html) = call_module(markdown, keep_line_breaks) {
            return html;
        }
    } else {
        load();
    }
    plain(markdown)
}

/// The text as written: escaped, in a paragraph that keeps its line breaks.
fn plain(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 24);
    html.push_str("<p class=\"plain\">");
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            c => html.push(c),
        }
    }
    html.push_str("</p>");
    html
}

#[cfg(feature = "csr")]
fn call_module(markdown: &str, keep_line_breaks: bool) -> Option<String> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window()?;
    let render = js_sys::Reflect::get(&window, &"claudeMarkdown".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    render.call2(&wasm_bindgen::JsValue::NULL, &markdown.into(), &keep_line_breaks.into()).ok()?.as_string()
}

#[cfg(not(feature = "csr"))]
fn call_module(_: &str, _: bool) -> Option<String> {
    None
}

/// Adds the module's loader to the page, once (again after a failure: offline on a first visit).
// The early return is the last statement only where the loader code is compiled out.
#[cfg_attr(not(feature = "csr"), allow(clippy::needless_return))]
fn load() {
    if REQUESTED.with(|requested| requested.replace(true)) {
        return;
    }
    #[cfg(feature = "csr")]
    {
        use wasm_bindgen::prelude::*;
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else { return };
        let ready = Closure::<dyn FnMut()>::new(|| READY.with(|ready| ready.set(true)));
        let _ = window.add_event_listener_with_callback("claude-markdown-ready", ready.as_ref().unchecked_ref());
        ready.forget();
        // Failing (offline on a first visit), the next text to render asks again.
        super::browser::add_script(
            "/load-markdown.js",
            true,
            Box::new(|ran| {
                if !ran {
                    REQUESTED.with(|requested| requested.set(false));
                }
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_the_module_loads_text_shows_as_written_and_escaped() {
        let html = to_html("**hi** <script>alert(1)</script> & more\nnext line");
        assert_eq!(html, "<p class=\"plain\">**hi** &lt;script&gt;alert(1)&lt;/script&gt; &amp; more\nnext line</p>");
    }
}
