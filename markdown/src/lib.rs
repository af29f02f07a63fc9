//! Model output rendered as Markdown, safely: raw HTML in the text is shown as text, never
//! executed, links keep only harmless schemes, and bare `http(s)://` URLs become links. Code
//! blocks get a bar with their language and a copy button (the app handles its clicks and
//! colours the code: `app/src/ui/markdown.rs`, `highlight.rs`).
//!
//! The app loads this as a module of its own (`load-markdown.js`), through the one export
//! [`render_markdown`].

use linkify::{LinkFinder, LinkKind};
use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use wasm_bindgen::prelude::wasm_bindgen;

/// What the app calls: `keep_line_breaks` for a message the user typed.
#[wasm_bindgen]
pub fn render_markdown(markdown: &str, keep_line_breaks: bool) -> String {
    render(markdown, keep_line_breaks)
}

pub fn to_html(markdown: &str) -> String {
    render(markdown, false)
}

/// A message the user typed: as [`to_html`], and each line they broke stays broken (as in a chat,
/// or a GitHub comment), where Markdown would join it to the next.
pub fn typed_to_html(markdown: &str) -> String {
    render(markdown, true)
}

fn render(markdown: &str, keep_line_breaks: bool) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut events = Vec::new();
    // Plain text waiting to be searched for bare URLs: pulldown-cmark hands one run of text over
    // in pieces (at entities, escapes, brackets), and a URL may span them.
    let mut text = String::new();
    let mut in_code_block = false;
    let mut in_link = 0usize;
    for event in Parser::new_ext(markdown, options) {
        let event = match event {
            // Raw HTML from the model becomes visible text.
            Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
            other => other,
        };
        if let Event::Text(piece) = &event
            && !in_code_block && in_link == 0 {
            text.push_str(piece);
            continue;
        }
        link_bare_urls(&mut text, &mut events);
        match event {
            Event::SoftBreak if keep_line_breaks => events.push(Event::HardBreak),
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                in_link += 1;
                let dest_url = if is_safe_url(&dest_url) { dest_url } else { CowStr::Borrowed("#") };
                events.push(Event::Start(Tag::Link { link_type, dest_url, title, id }));
            }
            Event::End(TagEnd::Link) => {
                in_link = in_link.saturating_sub(1);
                events.push(Event::End(TagEnd::Link));
            }
            Event::Start(Tag::Image { dest_url, title, .. }) => {
                // No remote images: they would leak the reader's address. Show the link instead.
                let label = if title.is_empty() { dest_url.clone() } else { title };
                text.push_str(&label);
                link_bare_urls(&mut text, &mut events);
                events.push(Event::Start(Tag::Emphasis));
            }
            Event::End(TagEnd::Image) => events.push(Event::End(TagEnd::Emphasis)),
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code_block = true;
                let language = match &kind {
                    CodeBlockKind::Fenced(lang) if !lang.is_empty() => escape_attr(lang),
                    _ => String::new(),
                };
                // A bar above the code, so the button never covers a line of it.
                events.push(Event::Html(CowStr::from(format!(
                    "<div class=\"code\"><div class=\"code-bar\"><span class=\"lang\">{language}</span>\
                     <button type=\"button\" class=\"copy\" data-lang=\"{language}\">Copy</button></div>"
                ))));
                events.push(Event::Start(Tag::CodeBlock(kind)));
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                events.push(Event::End(TagEnd::CodeBlock));
                events.push(Event::Html(CowStr::Borrowed("</div>")));
            }
            other => events.push(other),
        }
    }
    link_bare_urls(&mut text, &mut events);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    // Links open outside the installed app, without telling the site where they came from. A
    // code block can be scrolled sideways from the keyboard too (a long line on a phone). Text is
    // escaped, so these tags can only be the renderer's own.
    html.replace("<a href=", "<a rel=\"noopener noreferrer\" target=\"_blank\" href=").replace("<pre><code", "<pre tabindex=\"0\"><code")
}

/// Moves the pending `text` into `events`, each bare `http(s)://` URL in it made a link (as GitHub
/// does: a trailing `.`, `,` or unbalanced `)` stays out of it). Other schemes stay text.
fn link_bare_urls(text: &mut String, events: &mut Vec<Event<'_>>) {
    if text.is_empty() {
        return;
    }
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(true);
    let mut plain = 0;
    for link in finder.links(text) {
        let url = link.as_str();
        let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            continue;
        }
        if plain < link.start() {
            events.push(Event::Text(CowStr::from(text[plain..link.start()].to_owned())));
        }
        let dest_url = CowStr::from(url.to_owned());
        events.push(Event::Start(Tag::Link { link_type: LinkType::Autolink, dest_url: dest_url.clone(), title: CowStr::Borrowed(""), id: CowStr::Borrowed("") }));
        events.push(Event::Text(dest_url));
        events.push(Event::End(TagEnd::Link));
        plain = link.end();
    }
    if plain < text.len() {
        events.push(Event::Text(CowStr::from(text[plain..].to_owned())));
    }
    text.clear();
}

fn is_safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // No scheme (or a colon after a path/query/fragment start): relative.
        None => true,
        Some((scheme, _)) if scheme.contains(['/', '?', '#']) => true,
        Some((scheme, _)) => matches!(scheme, "http" | "https" | "mailto"),
    }
}

fn escape_attr(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.')).take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_block_is_labelled_with_its_language_above_its_code() {
        let html = to_html("```rust\nfn main() {}\n```");
        let bar = html.find("<span class=\"lang\">rust</span>").expect("the language label");
        let copy = html.find("class=\"copy\"").expect("the copy button");
        let code = html.find("<pre").expect("the code");
        assert!(bar < copy && copy < code, "label and button sit in a bar before the code: {html}");
        assert!(to_html("```\nplain\n```").contains("<span class=\"lang\"></span>"), "no language, no label text");
    }

    #[test]
    fn a_typed_message_keeps_its_line_breaks() {
        assert!(typed_to_html("first line\nsecond line").contains("first line<br />\nsecond line"));
        assert!(!to_html("first line\nsecond line").contains("<br"), "a reply is Markdown as written");
    }

    #[test]
    fn html_in_model_output_is_shown_not_executed() {
        let html = to_html("hi <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n<div onclick=x>block</div>");
        assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<div onclick"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn dangerous_links_are_defused_and_safe_ones_kept() {
        let html = to_html("[a](javascript:alert(1)) [b](https://example.com) [c](data:text/html,x) [d](docs/x.md)");
        assert!(!html.contains("javascript:") && !html.contains("data:"), "{html}");
        assert!(html.contains("href=\"https://example.com\""));
        assert!(html.contains("href=\"docs/x.md\""));
        assert!(html.contains("rel=\"noopener noreferrer\""));
        let html = to_html("![tracker](https://evil.example/pixel.png)");
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn code_blocks_lists_and_tables_render() {
        let html = to_html("```rust\nfn main() {}\n```\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<button type=\"button\" class=\"copy\" data-lang=\"rust\">Copy</button></div>\n<pre tabindex=\"0\"><code class=\"language-rust\">fn main() {}"), "{html}");
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<table>") && html.contains("<td>2</td>"));
    }

    #[test]
    fn bare_urls_become_links_that_open_outside() {
        let html = to_html("See https://example.com/docs?x=1&y=2 and http://localhost:8080/a for more");
        assert!(
            html.contains("<a rel=\"noopener noreferrer\" target=\"_blank\" href=\"https://example.com/docs?x=1&amp;y=2\">https://example.com/docs?x=1&amp;y=2</a> and"),
            "{html}"
        );
        assert!(html.contains("href=\"http://localhost:8080/a\">http://localhost:8080/a</a> for more"), "{html}");
        let mine = typed_to_html("my link: https://example.com/x");
        assert!(mine.contains("href=\"https://example.com/x\""), "the user's own messages too: {mine}");
    }

    #[test]
    fn trailing_punctuation_stays_out_of_a_bare_link() {
        let html = to_html("Read https://example.com/a. Then (see https://example.com/b), or https://en.wikipedia.org/wiki/Rust_(programming_language).");
        assert!(html.contains("href=\"https://example.com/a\">https://example.com/a</a>. Then"), "{html}");
        assert!(html.contains("(see <a rel=\"noopener noreferrer\" target=\"_blank\" href=\"https://example.com/b\">https://example.com/b</a>), or"), "{html}");
        assert!(html.contains(">https://en.wikipedia.org/wiki/Rust_(programming_language)</a>.</p>"), "balanced parentheses belong to the URL: {html}");
    }

    #[test]
    fn urls_in_code_and_in_links_are_left_alone() {
        let html = to_html("`https://a.example/x`\n\n```sh\ncurl https://b.example/y\n```\n\n[named](https://c.example/z) <https://d.example/w>");
        assert!(html.contains("<code>https://a.example/x</code>"), "inline code: {html}");
        assert!(html.contains("<code class=\"language-sh\">curl https://b.example/y\n</code>"), "code block: {html}");
        assert_eq!(html.matches("<a ").count(), 2, "the two links as written, none nested: {html}");
        assert!(html.contains("href=\"https://c.example/z\">named</a>"), "{html}");
    }

    #[test]
    fn only_web_urls_become_links() {
        let html = to_html("javascript:alert(1) javascript://x%0Aalert(1) data:text/html,x file:///etc/passwd ftp://x.example/f www.example.com mail me@example.com");
        assert!(!html.contains("<a "), "{html}");
        // Markup around a URL (shown as text) does not leak into it.
        let html = to_html("<b>https://example.com/x</b>\"onclick=\"y");
        assert!(html.contains("href=\"https://example.com/x\""), "{html}");
        assert!(!html.contains("onclick=\"y\""), "{html}");
    }
}
