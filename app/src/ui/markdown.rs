//! Model output rendered as Markdown, safely: raw HTML in the text is shown as text, never
//! executed, and links keep only harmless schemes. Code blocks get a copy button (handled by one
//! delegated click listener in the conversation view).

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

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
    let events = Parser::new_ext(markdown, options).flat_map(|event| match event {
        Event::SoftBreak if keep_line_breaks => vec![Event::HardBreak],
        // Raw HTML from the model becomes visible text.
        Event::Html(html) | Event::InlineHtml(html) => vec![Event::Text(html)],
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest_url = if is_safe_url(&dest_url) { dest_url } else { CowStr::Borrowed("#") };
            vec![Event::Start(Tag::Link { link_type, dest_url, title, id })]
        }
        Event::Start(Tag::Image { dest_url, title, .. }) => {
            // No remote images: they would leak the reader's address. Show the link instead.
            let label = if title.is_empty() { dest_url.clone() } else { title };
            vec![Event::Text(label), Event::Start(Tag::Emphasis)]
        }
        Event::End(TagEnd::Image) => vec![Event::End(TagEnd::Emphasis)],
        Event::Start(Tag::CodeBlock(kind)) => {
            let language = match &kind {
                CodeBlockKind::Fenced(lang) if !lang.is_empty() => escape_attr(lang),
                _ => String::new(),
            };
            vec![
                // A bar above the code, so the button never covers a line of it.
                Event::Html(CowStr::from(format!(
                    "<div class=\"code\"><div class=\"code-bar\"><span class=\"lang\">{language}</span>\
                     <button type=\"button\" class=\"copy\" data-lang=\"{language}\">Copy</button></div>"
                ))),
                Event::Start(Tag::CodeBlock(kind)),
            ]
        }
        Event::End(TagEnd::CodeBlock) => vec![Event::End(TagEnd::CodeBlock), Event::Html(CowStr::Borrowed("</div>"))],
        other => vec![other],
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    // Links open outside the installed app, without telling the site where they came from.
    html.replace("<a href=", "<a rel=\"noopener noreferrer\" target=\"_blank\" href=")
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
        let code = html.find("<pre>").expect("the code");
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
        assert!(html.contains("<button type=\"button\" class=\"copy\" data-lang=\"rust\">Copy</button></div>\n<pre><code class=\"language-rust\">fn main() {}"), "{html}");
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<table>") && html.contains("<td>2</td>"));
    }
}
