// Building the page: every node is made with createElement and every text set with textContent or a text node,
// so nothing the API returns (task names, prompts, model outputs) is ever parsed as HTML.

const SVG = "http://www.w3.org/2000/svg";

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === "text") {
      element.textContent = String(value);
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class" && !(element instanceof SVGElement)) {
      element.className = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends strings (as text), nodes and arrays of them; null and false are skipped. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** An HTML element: h("p", { class: "hint" }, "text", h("strong", {}, "more")). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same shape as h. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

let ids = 0;

/** A fresh id for pairing a label with its control. */
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled field: the label above, the control, an optional hint and a place for its errors. */
export function field(label, control, hint) {
  const id = control.id || uid("f");
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const errors = h("ul", { class: "field-errors", id: `${id}-errors`, hidden: true });
  control.setAttribute("aria-describedby", [hintEl?.id, errors.id].filter(Boolean).join(" "));
  return { element: h("div", { class: "field" }, h("label", { for: id }, label), hintEl, control, errors), control, errors };
}

/** Shows messages under a field (or clears them with an empty list) and marks the control invalid. */
export function showFieldErrors(entry, messages) {
  clear(entry.errors);
  entry.errors.hidden = messages.length === 0;
  entry.control.toggleAttribute("aria-invalid", messages.length > 0);
  for (const message of messages) {
    entry.errors.append(h("li", {}, message));
  }
}

const units = [
  [60, "s"],
  [60, "min"],
  [24, "h"],
  [365, "d"],
];

/** How long ago an ISO time was, in words a person reads at a glance. */
export function age(iso, now = Date.now()) {
  let value = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (value < 10) {
    return "just now";
  }
  let unit = "s";
  for (const [size, name] of units) {
    unit = name;
    if (value < size) {
      break;
    }
    value /= size;
  }
  if (unit === "d" && value >= 365) {
    unit = "y";
    value /= 365;
  }
  return `${Math.floor(value)} ${unit} ago`;
}

/** A <time> showing the age, with the exact local time on hover and for assistive technology. */
export function timeAgo(iso) {
  if (!iso) {
    return h("span", {}, "—");
  }
  const when = new Date(iso);
  return h("time", { datetime: iso, title: when.toLocaleString(), "data-age": iso }, age(iso));
}

/** Refreshes every age shown on the page. */
export function refreshAges(root = document) {
  for (const element of root.querySelectorAll("time[data-age]")) {
    element.textContent = age(element.getAttribute("data-age"));
  }
}

export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) {
    return "—";
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  if (ms < 60_000) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Tokens a task or a run used, in words. */
export function usage(u) {
  if (!u) {
    return "—";
  }
  return `${u.input_tokens.toLocaleString()} tokens in, ${u.output_tokens.toLocaleString()} out`;
}

export function clockTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Orders T2 before T10. */
export function byTaskId(a, b) {
  return a.localeCompare(b, "en", { numeric: true });
}
