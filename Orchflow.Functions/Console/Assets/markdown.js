// A small Markdown renderer for task outputs, which are model text and must be treated as hostile. It never parses
// HTML: it reads the text line by line, builds DOM nodes, and puts every piece of text in with text nodes, so a
// "<script>" or an "onerror=" stays visible text. Links keep only http, https and mailto targets.
//
// What it knows: ATX headings, paragraphs, emphasis, strong, inline code, fenced code, block quotes, nested lists,
// pipe tables, horizontal rules, links and <autolinks>. Anything else is shown as the text it is.

import { h } from "./dom.js";

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([^`\s]*)\s*$/;
const HEADING = /^\s{0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
const RULE = /^\s{0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** How far to look for the end of emphasis or a code span, so hostile input cannot make rendering quadratic. */
const REACH = 400;
const MAX_DEPTH = 8;

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** The URL a link may point to, or null: only http, https and mailto, resolved against the page. */
export function safeHref(target) {
  try {
    // The URL parser drops tabs and newlines inside a scheme ("java\tscript:") the way browsers do.
    const url = new URL(target.trim(), document.baseURI);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** Renders Markdown text to a DocumentFragment. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  blocks(String(text ?? "").replace(/\r\n?/g, "\n").split("\n"), fragment, 0);
  return fragment;
}

function blocks(lines, parent, depth) {
  let i = 0;
  let paragraph = [];
  const flush = () => {
    if (paragraph.length > 0) {
      parent.append(inline(paragraph.join("\n"), h("p"), depth));
      paragraph = [];
    }
  };
  while (i < lines.length) {
    const line = lines[i];
    let match;
    if (line.trim() === "") {
      flush();
      i += 1;
    } else if ((match = FENCE.exec(line))) {
      flush();
      const fence = match[1];
      const code = [];
      i += 1;
      const closes = (candidate) => candidate.trim().startsWith(fence) && candidate.trim().replaceAll(fence[0], "") === "";
      while (i < lines.length && !closes(lines[i])) {
        code.push(lines[i]);
        i += 1;
      }
      i += 1;
      const element = h("code", {}, code.join("\n"));
      if (match[2]) {
        element.setAttribute("data-language", match[2]);
      }
      // Focusable, so a keyboard can scroll a wide block.
      parent.append(h("pre", { tabindex: 0 }, element));
    } else if (line.length < 2000 && (match = HEADING.exec(line))) {
      flush();
      // Output headings sit under the page's own: "#" becomes h3, and so on down to h6.
      const level = Math.min(6, match[1].length + 2);
      parent.append(inline(match[2] ?? "", h(`h${level}`), depth));
      i += 1;
    } else if (RULE.test(line)) {
      flush();
      parent.append(h("hr"));
      i += 1;
    } else if (QUOTE.test(line) && depth < MAX_DEPTH) {
      flush();
      const quoted = [];
      while (i < lines.length && (match = QUOTE.exec(lines[i]))) {
        quoted.push(match[1]);
        i += 1;
      }
      const quote = h("blockquote");
      blocks(quoted, quote, depth + 1);
      parent.append(quote);
    } else if (ITEM.test(line) && depth < MAX_DEPTH) {
      flush();
      i = list(lines, i, parent, depth);
    } else if (line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]) && lines[i + 1].includes("-")) {
      flush();
      i = table(lines, i, parent, depth);
    } else {
      paragraph.push(line.trim());
      i += 1;
    }
  }
  flush();
}

function list(lines, start, parent, depth) {
  const first = ITEM.exec(lines[start]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const element = h(ordered ? "ol" : "ul");
  if (ordered && Number.parseInt(first[2], 10) !== 1) {
    element.setAttribute("start", String(Number.parseInt(first[2], 10)));
  }
  let i = start;
  while (i < lines.length) {
    const match = ITEM.exec(lines[i]);
    if (!match || match[1].length !== indent || /\d/.test(match[2]) !== ordered) {
      break;
    }
    const content = [match[3]];
    i += 1;
    // The item goes on with lines indented past its marker, and with blank lines followed by such lines.
    while (i < lines.length) {
      const next = lines[i];
      const nested = ITEM.exec(next);
      if (next.trim() === "") {
        if (i + 1 < lines.length && lines[i + 1].search(/\S/) > indent) {
          content.push("");
          i += 1;
          continue;
        }
        break;
      }
      if (nested && nested[1].length <= indent) {
        break;
      }
      if (!nested && next.search(/\S/) <= indent) {
        // A lazy continuation of the item's text.
        if (content.length === 1 && !HEADING.test(next) && !FENCE.test(next)) {
          content[0] += "\n" + next.trim();
          i += 1;
          continue;
        }
        break;
      }
      content.push(next.slice(Math.min(next.search(/\S/), indent + 2)));
      i += 1;
    }
    const item = h("li");
    if (content.length === 1) {
      inline(content[0], item, depth);
    } else {
      const [head, ...rest] = content;
      inline(head, item, depth);
      blocks(rest, item, depth + 1);
    }
    element.append(item);
  }
  parent.append(element);
  return i;
}

function cells(line) {
  let row = line.trim();
  if (row.startsWith("|")) {
    row = row.slice(1);
  }
  if (row.endsWith("|") && !row.endsWith("\\|")) {
    row = row.slice(0, -1);
  }
  const result = [];
  let current = "";
  for (let i = 0; i < row.length; i += 1) {
    if (row[i] === "\\" && row[i + 1] === "|") {
      current += "|";
      i += 1;
    } else if (row[i] === "|") {
      result.push(current.trim());
      current = "";
    } else {
      current += row[i];
    }
  }
  result.push(current.trim());
  return result;
}

function table(lines, start, parent, depth) {
  const head = cells(lines[start]);
  const align = cells(lines[start + 1]).map((c) => (c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : null));
  const row = (values, tag) => {
    const tr = h("tr");
    head.forEach((_, column) => {
      const cell = h(tag, align[column] ? { class: `align-${align[column]}` } : {});
      if (tag === "th") {
        cell.setAttribute("scope", "col");
      }
      tr.append(inline(values[column] ?? "", cell, depth));
    });
    return tr;
  };
  const body = h("tbody");
  let i = start + 2;
  while (i < lines.length && lines[i].trim() !== "" && lines[i].includes("|")) {
    body.append(row(cells(lines[i]), "td"));
    i += 1;
  }
  // Wide tables scroll inside their own box, never the page.
  parent.append(h("div", { class: "table-scroll", tabindex: 0 }, h("table", {}, h("thead", {}, row(head, "th")), body)));
  return i;
}

/** Renders inline Markdown into `parent` and returns it. */
function inline(text, parent, depth) {
  let buffer = "";
  const flush = () => {
    if (buffer) {
      parent.append(document.createTextNode(buffer));
      buffer = "";
    }
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\" && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
      buffer += text[i + 1];
      i += 2;
      continue;
    }
    if (c === "\n") {
      // A line break inside a paragraph: two trailing spaces or a backslash make it hard, otherwise a space.
      if (buffer.endsWith("  ")) {
        buffer = buffer.trimEnd();
        flush();
        parent.append(h("br"));
      } else {
        buffer += " ";
      }
      i += 1;
      continue;
    }
    if (c === "`") {
      const run = /^`+/.exec(text.slice(i, i + 16))[0];
      const end = text.indexOf(run, i + run.length);
      if (end > 0 && end - i < REACH * 4) {
        flush();
        parent.append(h("code", {}, text.slice(i + run.length, end).trim() || text.slice(i + run.length, end)));
        i = end + run.length;
        continue;
      }
      buffer += run;
      i += run.length;
      continue;
    }
    if (c === "[" && depth < MAX_DEPTH) {
      // The target may hold one level of balanced parentheses, as in https://en.wikipedia.org/wiki/Graph_(abstract_data_type).
      const link = /^\[([^\]\n]{0,400})\]\(\s*<?((?:[^\s<>()]|\([^\s<>()]{0,200}\)){0,2000})>?(?:\s+"[^"]{0,200}")?\s*\)/.exec(text.slice(i, i + 2700));
      if (link) {
        flush();
        const href = safeHref(link[2]);
        const label = link[1] || link[2];
        parent.append(href
          ? inline(label, h("a", { href, rel: "noopener noreferrer nofollow" }), depth + 1)
          : inline(label, h("span", { class: "unsafe-link", title: "Link removed: only http, https and mailto links are kept" }), depth + 1));
        i += link[0].length;
        continue;
      }
    }
    if (c === "<") {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]{1,2000})>/i.exec(text.slice(i, i + 2010));
      if (auto && safeHref(auto[1])) {
        flush();
        parent.append(h("a", { href: safeHref(auto[1]), rel: "noopener noreferrer nofollow" }, auto[1]));
        i += auto[0].length;
        continue;
      }
    }
    if ((c === "*" || c === "_") && depth < MAX_DEPTH) {
      const strong = text[i + 1] === c;
      const marker = strong ? c + c : c;
      const end = closing(text, i + marker.length, marker);
      // An opener is followed by a non-space; "_" only opens at a word's start (snake_case stays as it is).
      const opens = end > 0 && /\S/.test(text[i + marker.length] ?? "") && (c === "*" || !/\w/.test(text[i - 1] ?? ""));
      if (opens) {
        flush();
        parent.append(inline(text.slice(i + marker.length, end), h(strong ? "strong" : "em"), depth + 1));
        i = end + marker.length;
        continue;
      }
      buffer += marker;
      i += marker.length;
      continue;
    }
    buffer += c;
    i += 1;
  }
  flush();
  return parent;
}

/** Where emphasis opened at `from` closes: the same marker after a non-space, within REACH; -1 when it does not. */
function closing(text, from, marker) {
  const limit = Math.min(text.length, from + REACH);
  for (let at = text.indexOf(marker, from + 1); at > 0 && at < limit; at = text.indexOf(marker, at + 1)) {
    const single = marker.length === 1;
    const before = text[at - 1];
    const after = text[at + marker.length];
    if (/\s/.test(before)) {
      continue;
    }
    // "*" must not be half of "**", and "_" must not be inside a word.
    if (single && (after === marker || before === marker)) {
      continue;
    }
    if (marker[0] === "_" && /\w/.test(after ?? "")) {
      continue;
    }
    return at;
  }
  return -1;
}
