// Loads the Markdown renderer (the `markdown` crate, built by Trunk into /markdown/) and hands its
// one function to the app as window.claudeMarkdown, then says so with a "claude-markdown-ready"
// event. Added to the page by app/src/ui/markdown.rs the first time there is text to render.
import init, { render_markdown } from "/markdown/markdown.js";

await init();
window.claudeMarkdown = render_markdown;
window.dispatchEvent(new Event("claude-markdown-ready"));
