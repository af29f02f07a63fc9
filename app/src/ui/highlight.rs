//! Syntax colours for code blocks, fetched only when needed: the first block in a language the
//! highlighter knows loads it (highlight.js, vendored under `public/vendor/`, 37 KB with
//! brotli) with a same-origin `<script>`; from then on every such block is coloured as it
//! appears. A first load without code pays nothing for it. A block in another language, or any
//! block while the script cannot be had (offline before it was ever fetched), stays plain, and a
//! later block tries again.
//!
//! highlight.js reads the code's text and writes it back escaped, wrapped in `<span
//! class="hljs-…">`, so the text (what Copy copies) is unchanged and no markup can come in.

// Outside the browser (the server's build) only `watch` is used, and it does nothing.
#![cfg_attr(not(feature = "csr"), allow(dead_code))]

use leptos::html::Main;
use leptos::prelude::*;

/// The highlighter, served from the app's own files (the CSP allows no other origin). A new
/// version gets a new path, so the service worker may keep it for good.
pub const SCRIPT: &str = "/vendor/highlight.js-11.11.1/highlight.min.js";

/// The names and aliases of the languages in highlight.js's "common" build (its
/// `listLanguages()` and their `aliases`), less its plain-text ones, which colour nothing.
const LANGUAGES: &[&str] = &[
    "atom", "bash", "c", "c#", "c++", "cc", "cjs", "console", "cpp", "cs", "csharp", "css", "cts", "cxx", "diff", "gemspec", "go",
    "golang", "gql", "graphql", "gyp", "h", "h++", "hh", "hpp", "html", "hxx", "ini", "ipython", "irb", "java", "javascript", "js",
    "json", "jsonc", "jsp", "jsx", "kotlin", "kt", "kts", "less", "lua", "mak", "make", "makefile", "markdown", "md", "mjs", "mk",
    "mkd", "mkdown", "mm", "mts", "obj-c", "obj-c++", "objc", "objective-c++", "objectivec", "patch", "perl", "php",
    "php-template", "pl", "plist", "pluto", "pm", "podspec", "py", "pycon", "python", "python-repl", "r", "rb", "rs", "rss",
    "ruby", "rust", "scss", "sh", "shell", "shellsession", "sql", "svg", "swift", "thor", "toml", "ts", "tsx", "typescript",
    "vb", "vbnet", "wasm", "wsf", "xhtml", "xjb", "xml", "xsd", "xsl", "yaml", "yml", "zsh",
];

/// Whether a code block labelled `language` gets colours (and so may fetch the highlighter).
pub fn colours(language: &str) -> bool {
    LANGUAGES.contains(&language.to_ascii_lowercase().as_str())
}

/// The language a code element's classes name (`language-rust`, as pulldown-cmark writes it).
fn language_of(classes: &str) -> Option<&str> {
    classes.split_ascii_whitespace().find_map(|class| class.strip_prefix("language-")).filter(|l| !l.is_empty())
}

/// Colours every code block that appears below `container`, now or later.
pub fn watch(container: NodeRef<Main>) {
    #[cfg(feature = "csr")]
    container.on_load(move |main| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let element: web_sys::Element = main.into();
        let root = element.clone();
        // Markdown arrives as HTML set on a new element: a child added somewhere below.
        let changed = Closure::<dyn FnMut()>::new(move || dom::colour_new_blocks(&root));
        let Ok(observer) = web_sys::MutationObserver::new(changed.as_ref().unchecked_ref()) else { return };
        let options = web_sys::MutationObserverInit::new();
        options.set_child_list(true);
        options.set_subtree(true);
        let _ = observer.observe_with_options(&element, &options);
        dom::colour_new_blocks(&element);
        // Lives as long as the page's one conversation.
        changed.forget();
        on_cleanup(move || observer.disconnect());
    });
    #[cfg(not(feature = "csr"))]
    let _ = container;
}

#[cfg(feature = "csr")]
mod dom {
    use super::{colours, language_of, SCRIPT};
    use std::cell::Cell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    #[wasm_bindgen]
    extern "C" {
        /// highlight.js's own entry point; `hljs` is the global its script defines.
        #[wasm_bindgen(js_namespace = hljs, js_name = highlightElement, catch)]
        fn highlight_element(code: &web_sys::Element) -> Result<(), JsValue>;
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Script {
        Absent,
        Loading,
        Ready,
    }

    thread_local! {
        static SCRIPT_STATE: Cell<Script> = const { Cell::new(Script::Absent) };
    }

    /// Each code block below `root` not seen yet: coloured if its language is known and the
    /// script is here; if the script is not, it is fetched and the block waits for it.
    pub fn colour_new_blocks(root: &web_sys::Element) {
        let Ok(blocks) = root.query_selector_all("pre > code[class*=\"language-\"]:not([data-hl])") else { return };
        let state = SCRIPT_STATE.get();
        let mut waiting = false;
        for i in 0..blocks.length() {
            let Some(code) = blocks.item(i).and_then(|node| node.dyn_into::<web_sys::Element>().ok()) else { continue };
            let class = code.class_name();
            if !language_of(&class).is_some_and(colours) {
                let _ = code.set_attribute("data-hl", "plain");
            } else if state == Script::Ready {
                let _ = code.set_attribute("data-hl", "done");
                // Whatever the highlighter throws, the block keeps its plain text.
                let _ = highlight_element(&code);
            } else {
                waiting = true;
            }
        }
        if waiting && state == Script::Absent {
            load(root.clone());
        }
    }

    /// Adds the highlighter's `<script>` once; when it has run, colours what waits for it.
    /// Offline, say, the blocks stay plain, and the next one to appear tries again.
    fn load(root: web_sys::Element) {
        SCRIPT_STATE.set(Script::Loading);
        crate::ui::browser::add_script(
            SCRIPT,
            false,
            Box::new(move |ran| {
                SCRIPT_STATE.set(if ran { Script::Ready } else { Script::Absent });
                if ran {
                    colour_new_blocks(&root);
                }
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_languages_are_coloured_and_plain_text_is_not() {
        for language in ["rust", "rs", "ts", "typescript", "js", "python", "py", "bash", "sh", "json", "toml", "yaml", "yml", "diff", "go", "html", "css", "sql", "Rust"] {
            assert!(colours(language), "{language}");
        }
        for language in ["", "text", "txt", "plaintext", "mermaid", "nohighlight"] {
            assert!(!colours(language), "{language:?} fetches nothing");
        }
    }

    #[test]
    fn the_language_is_read_from_the_code_elements_class() {
        assert_eq!(language_of("language-rust"), Some("rust"));
        assert_eq!(language_of("hljs language-ts"), Some("ts"));
        assert_eq!(language_of("language-"), None);
        assert_eq!(language_of(""), None);
    }
}
