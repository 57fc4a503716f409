// The console's shell: which view the address names (#/runs, #/new, #/runs/run_…), the key, and messages that
// concern every view. Views are plain functions that fill <main> and return a function that stops them.

import { apiKey, forgetKey, on } from "./api.js";
import { h, refreshAges } from "./dom.js";
import { keyView, refusedInWords } from "./key.js";
import { newRunView } from "./new-run.js";
import { providersView } from "./providers.js";
import { runView } from "./run.js";
import { runsView } from "./runs.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const notice = document.getElementById("notice");
const announcer = document.getElementById("announcer");

let stop = () => {};
let refused = null;

/** Says something to screen reader users without moving their focus. */
export function announce(text) {
  announcer.textContent = "";
  // A new text node after a tick, so the same words said twice are read twice.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

/** A message above the view: kind "error", "warning" or "info"; null clears it. */
export function showNotice(text, kind = "info") {
  notice.replaceChildren();
  notice.hidden = !text;
  notice.className = `notice notice-${kind}`;
  if (text) {
    notice.append(h("p", {}, text));
  }
}

export function go(hash) {
  if (location.hash === hash) {
    route();
  } else {
    location.hash = hash;
  }
}

function renderNav() {
  nav.replaceChildren();
  if (!apiKey()) {
    return;
  }
  const here = location.hash || "#/runs";
  const link = (href, text, current) => h("a", { href, "aria-current": current ? "page" : null }, text);
  nav.append(
    h("ul", {},
      h("li", {}, link("#/runs", "Runs", here.startsWith("#/runs"))),
      h("li", {}, link("#/new", "New run", here === "#/new")),
      h("li", {}, link("#/providers", "Providers", here === "#/providers")),
      h("li", {}, h("button", {
        type: "button",
        class: "link-button",
        onclick: () => {
          forgetKey();
          showNotice("The key is forgotten: this tab no longer holds it.", "info");
          go("#/runs");
        },
      }, "Forget key"))));
}

function route() {
  stop();
  stop = () => {};
  renderNav();
  const hash = location.hash || "#/runs";
  const context = { main, go, announce, showNotice };
  main.replaceChildren();
  if (!apiKey()) {
    stop = keyView(context, { refused, next: hash });
    refused = null;
  } else if (hash === "#/new") {
    stop = newRunView(context);
  } else if (hash === "#/providers") {
    stop = providersView(context);
  } else if (hash.startsWith("#/runs/")) {
    stop = runView(context, decodeURIComponent(hash.slice("#/runs/".length)));
  } else {
    const offset = Number.parseInt(new URLSearchParams(hash.split("?")[1] ?? "").get("offset") ?? "0", 10);
    stop = runsView(context, Number.isFinite(offset) && offset > 0 ? offset : 0);
  }
  // Each view starts with a heading that takes the focus, so keyboard and screen reader users land on it.
  main.querySelector("h1")?.focus({ preventScroll: true });
}

on("unauthorized", () => {
  const key = apiKey();
  if (!key) {
    return;
  }
  forgetKey();
  refused = refusedInWords(key);
  route();
});

on("waiting", (seconds) => {
  showNotice(`Orchflow asked the console to slow down; it tries again in ${seconds} s.`, "warning");
  setTimeout(() => showNotice(null), seconds * 1000 + 500);
});

window.addEventListener("hashchange", () => {
  showNotice(null);
  route();
});
setInterval(() => refreshAges(main), 15_000);
route();
