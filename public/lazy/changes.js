// Claude Remote: the diff viewer and the file browser, loaded only when one is first opened
// (app/src/ui/lazy.rs), so the first load pays nothing for them.
//
// Everything shown is set as text (textContent), never as HTML: a file's content cannot bring
// markup in. Syntax colours come from the same lazily loaded highlight.js as the chat's code
// blocks, which escapes what it colours.
"use strict";

(() => {
  const HIGHLIGHTER = "/vendor/highlight.js-11.11.1/highlight.min.js";
  const STYLES = "/lazy/changes.css";
  // Word-level highlighting compares at most this many tokens a side (else: the whole line).
  const MAX_TOKENS = 400;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.error) || `The server answered ${response.status}`);
    return body;
  }

  function failure(host, error) {
    host.replaceChildren(el("p", "changes-error", `Could not load: ${error.message}`));
  }

  // ---- diffs

  // Words, runs of spaces, and single other characters: what a changed word is made of.
  function tokens(line) {
    return line.match(/\w+|\s+|[^\w\s]/g) || [];
  }

  // Marks in `a` and `b` the tokens not in their longest common subsequence.
  function wordMarks(a, b) {
    const n = a.length;
    const m = b.length;
    if (n > MAX_TOKENS || m > MAX_TOKENS) return [a.map(() => true), b.map(() => true)];
    const table = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
      }
    }
    const markA = a.map(() => true);
    const markB = b.map(() => true);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) {
        markA[i++] = false;
        markB[j++] = false;
      } else if (table[i + 1][j] >= table[i][j + 1]) {
        i++;
      } else {
        j++;
      }
    }
    return [markA, markB];
  }

  function codeCell(text, marks) {
    const cell = el("td", "code");
    if (!marks) {
      cell.textContent = text;
      return cell;
    }
    const parts = tokens(text);
    let run = "";
    let marked = false;
    const flush = () => {
      if (!run) return;
      cell.append(marked ? el("mark", null, run) : document.createTextNode(run));
      run = "";
    };
    parts.forEach((part, k) => {
      if (marks[k] !== marked) {
        flush();
        marked = marks[k];
      }
      run += part;
    });
    flush();
    return cell;
  }

  function row(kind, oldNo, newNo, cell) {
    const tr = el("tr", kind);
    tr.append(el("td", "no", oldNo === null ? "" : String(oldNo)), el("td", "no", newNo === null ? "" : String(newNo)), cell);
    return tr;
  }

  // A unified diff as a table: old and new line numbers, the line, changed words marked.
  function diffTable(text) {
    const table = el("table", "diff");
    const body = el("tbody");
    table.append(body);
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    let oldNo = 0;
    let newNo = 0;
    let k = 0;
    while (k < lines.length) {
      const line = lines[k];
      const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
      if (line.startsWith("--- ") || line.startsWith("+++ ")) {
        k++;
      } else if (hunk) {
        oldNo = Number(hunk[1]);
        newNo = Number(hunk[2]);
        body.append(row("hunk", null, null, codeCell(line)));
        k++;
      } else if (line.startsWith("-") || line.startsWith("+")) {
        // A run of removed lines and the added lines after it: their words are compared pairwise.
        const removed = [];
        const added = [];
        while (k < lines.length && lines[k].startsWith("-")) removed.push(lines[k++].slice(1));
        while (k < lines.length && lines[k].startsWith("+")) added.push(lines[k++].slice(1));
        const marks = removed.map((r, p) => (p < added.length ? wordMarks(tokens(r), tokens(added[p])) : null));
        removed.forEach((r, p) => body.append(row("del", oldNo++, null, codeCell(r, marks[p] && marks[p][0]))));
        added.forEach((a, p) => body.append(row("add", null, newNo++, codeCell(a, marks[p] && marks[p][1]))));
      } else if (line.startsWith("\\")) {
        body.append(row("note", null, null, codeCell(line.slice(2))));
        k++;
      } else {
        body.append(row("ctx", oldNo++, newNo++, codeCell(line.slice(1))));
        k++;
      }
    }
    return table;
  }

  function counts(added, removed) {
    return `+${added} \u2212${removed}`;
  }

  // One file: a collapsible block whose diff is drawn when first opened.
  function fileBlock(file, open) {
    const details = el("details", "diff-file");
    const summary = el("summary");
    summary.append(el("span", "path", file.path), el("span", `status ${file.status}`, file.status), el("span", "counts", counts(file.added, file.removed)));
    details.append(summary);
    const draw = () => {
      if (details.dataset.drawn) return;
      details.dataset.drawn = "1";
      const box = el("div", "diff-body");
      box.append(file.diff.startsWith("---") ? diffTable(file.diff) : el("p", "diff-note", file.diff || "No text to show"));
      details.append(box);
    };
    details.addEventListener("toggle", () => details.open && draw());
    if (open) {
      details.open = true;
      draw();
    }
    return details;
  }

  function diffList(files) {
    const list = el("div", "diff-list");
    if (files.length > 1) {
      const tools = el("div", "diff-tools");
      const all = el("button", null, "Expand all");
      all.type = "button";
      all.addEventListener("click", () => {
        const open = all.textContent === "Expand all";
        list.querySelectorAll("details.diff-file").forEach((d) => {
          d.open = open;
        });
        all.textContent = open ? "Collapse all" : "Expand all";
      });
      tools.append(all);
      list.append(tools);
    }
    files.forEach((file) => list.append(fileBlock(file, files.length === 1)));
    return list;
  }

  // Fetches `url` and gives the answer to `show`; on failure `box` says why.
  async function fill(box, url, show) {
    try {
      show(await getJson(url));
    } catch (error) {
      failure(box, error);
    }
  }

  function showChanges(host, url) {
    return fill(host, url, (changes) =>
      host.replaceChildren(changes.files.length ? diffList(changes.files) : el("p", "diff-note", "No files changed.")),
    );
  }

  // ---- files

  let highlighter = null;
  function highlight(code) {
    if (!highlighter) {
      highlighter = new Promise((resolve, reject) => {
        if (window.hljs) return resolve();
        const script = el("script");
        script.src = HIGHLIGHTER;
        script.onload = resolve;
        script.onerror = () => {
          script.remove();
          highlighter = null;
          reject(new Error("no highlighter"));
        };
        document.body.append(script);
      });
    }
    // Offline, the text stays plain.
    highlighter.then(() => window.hljs.highlightElement(code)).catch(() => {});
  }

  function link(text, onClick, className) {
    const button = el("button", className || "link", text);
    button.type = "button";
    button.addEventListener("click", onClick);
    return button;
  }

  function showFiles(host, project) {
    const base = `/api/projects/${encodeURIComponent(project)}`;
    const gitBox = el("section", "git-state");
    const crumbs = el("nav", "crumbs");
    crumbs.setAttribute("aria-label", "Folder");
    const view = el("div", "files-body");
    host.replaceChildren(gitBox, crumbs, view);

    const path = (p) => `?path=${encodeURIComponent(p)}`;
    const setCrumbs = (dir, file) => {
      crumbs.replaceChildren(link("Project", () => openDir("")));
      let sofar = "";
      for (const part of dir ? dir.split("/") : []) {
        sofar = sofar ? `${sofar}/${part}` : part;
        const target = sofar;
        crumbs.append(el("span", "sep", "/"), link(part, () => openDir(target)));
      }
      if (file) crumbs.append(el("span", "sep", "/"), el("span", "here", file));
    };
    const parentOf = (p) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");

    // A step in the browser: the crumbs say where, the view waits, then shows the answer. A
    // slower answer to an earlier tap never replaces the latest one's.
    let latest = 0;
    function open(dir, file, url, show) {
      const step = ++latest;
      setCrumbs(dir, file);
      view.replaceChildren(el("p", "loading", "Loading\u2026"));
      fill(view, url, (body) => step === latest && show(body));
    }

    function openDir(dir) {
      open(dir, null, `${base}/files${path(dir)}`, (listing) => {
        const list = el("ul", "entries");
        for (const entry of listing.entries) {
          const item = el("li", entry.kind);
          const go = entry.kind === "dir" ? () => openDir(entry.path) : () => openFile(entry.path);
          item.append(link(entry.kind === "dir" ? `${entry.name}/` : entry.name, go));
          list.append(item);
        }
        if (!listing.entries.length) list.append(el("li", "empty", "Empty folder"));
        view.replaceChildren(list);
        if (listing.truncated) view.append(el("p", "diff-note", "More entries than one listing shows."));
      });
    }

    function openFile(file) {
      open(parentOf(file), file.split("/").pop(), `${base}/file${path(file)}`, (text) => {
        const pre = el("pre", "file-text");
        const code = el("code", text.language ? `language-${text.language}` : null, text.content);
        pre.append(code);
        view.replaceChildren(pre);
        if (text.language) highlight(code);
      });
    }

    function openDiff(file) {
      open(parentOf(file), file.split("/").pop(), `${base}/git/diff${path(file)}`, (change) =>
        view.replaceChildren(change ? diffList([change]) : el("p", "diff-note", "No difference from the last commit.")),
      );
    }

    fill(gitBox, `${base}/git`, (git) => {
      if (!git.repository) {
        gitBox.replaceChildren(el("p", "diff-note", "Not a git repository."));
        return;
      }
      const head = el("p", "branch");
      const where = git.branch ? `On ${git.branch}` : "Detached HEAD";
      const distance = git.upstream ? ` \u00b7 ${git.ahead} ahead, ${git.behind} behind ${git.upstream}` : "";
      head.textContent = `${where}${distance} \u00b7 ${git.files.length} changed`;
      const list = el("ul", "git-files");
      for (const file of git.files) {
        const item = el("li");
        item.append(el("span", `status ${file.status}`, file.status), link(file.path, () => openDiff(file.path)));
        list.append(item);
      }
      gitBox.replaceChildren(head, list);
    });
    openDir("");
  }

  if (!document.querySelector(`link[href="${STYLES}"]`)) {
    const styles = el("link");
    styles.rel = "stylesheet";
    styles.href = STYLES;
    document.head.append(styles);
  }
  window.claudeRemoteChanges = { showChanges, showFiles };
})();
