//! Model output rendered as Markdown, safely: raw HTML in the text is shown as text, never
//! executed, and links keep only harmless schemes. Code blocks get a copy button (handled by one
//! delegated click listener in the conversation view).

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).flat_map(|event| match event {
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
                Event::Html(CowStr::from(format!(
                    "<div class=\"code\"><button type=\"button\" class=\"copy\" data-lang=\"{language}\">Copy</button>"
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
        assert!(html.contains("<button type=\"button\" class=\"copy\" data-lang=\"rust\">Copy</button>\n<pre><code class=\"language-rust\">fn main() {}"), "{html}");
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<table>") && html.contains("<td>2</td>"));
    }
}
