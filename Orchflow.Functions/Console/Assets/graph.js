// A run's task graph as SVG: one column per dependency depth, left to right, an edge for each depends_on. Each node
// is a focusable SVG group carrying data-task-id and data-state (the API's words); its state shows as colour, an
// icon and a word, so colour is never the only cue. Human tasks are hexagons, agent tasks rounded rectangles.

import { byTaskId, s } from "./dom.js";

const NODE_W = 176;
const NODE_H = 82;
const GAP_X = 40;
const GAP_Y = 16;
const PAD = 10;

/** A graph may shrink to this share of its size to fit the window; wider ones scroll in their own box. */
const MIN_SCALE = 0.7;

export const STATE_WORDS = {
  pending: "pending",
  running: "running",
  waiting_human: "waiting for you",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
};

/** Depth of every task: 0 without dependencies, else one more than its deepest dependency. */
export function depths(tasks) {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const depth = new Map();
  const visiting = new Set();
  const of = (id) => {
    if (depth.has(id)) {
      return depth.get(id);
    }
    if (visiting.has(id) || !byId.has(id)) {
      // A cycle or a missing task cannot come from a validated plan; draw it flat rather than fail.
      return -1;
    }
    visiting.add(id);
    const deps = byId.get(id).depends_on ?? [];
    const d = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(of));
    visiting.delete(id);
    depth.set(id, Math.max(0, d));
    return depth.get(id);
  };
  tasks.forEach((t) => of(t.task_id));
  return depth;
}

/** Positions of the nodes: columns by depth, each column ordered by where its dependencies sit, centred. */
export function layout(tasks) {
  const depth = depths(tasks);
  const columns = [];
  for (const task of [...tasks].sort((a, b) => byTaskId(a.task_id, b.task_id))) {
    const d = depth.get(task.task_id);
    (columns[d] ??= []).push(task);
  }
  const row = new Map();
  columns.forEach((column, d) => {
    if (d > 0) {
      // Barycentre ordering: a task sits near the mean row of its dependencies, which keeps edges short and uncrossed.
      const centre = (t) => {
        const rows = (t.depends_on ?? []).filter((id) => row.has(id)).map((id) => row.get(id));
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.MAX_SAFE_INTEGER;
      };
      column.sort((a, b) => centre(a) - centre(b) || byTaskId(a.task_id, b.task_id));
    }
    column.forEach((t, r) => row.set(t.task_id, r));
  });
  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const nodes = new Map();
  columns.forEach((column, d) => {
    const offset = ((tallest - column.length) * (NODE_H + GAP_Y)) / 2;
    column.forEach((t, r) => nodes.set(t.task_id, {
      x: PAD + d * (NODE_W + GAP_X),
      y: PAD + offset + r * (NODE_H + GAP_Y),
      depth: d,
    }));
  });
  return {
    nodes,
    width: PAD * 2 + Math.max(1, columns.length) * NODE_W + Math.max(0, columns.length - 1) * GAP_X,
    height: PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y,
  };
}

function shape(task, x, y) {
  if (task.kind === "human") {
    const c = 16;
    return s("path", {
      class: "shape",
      d: `M${x + c},${y} H${x + NODE_W - c} L${x + NODE_W},${y + NODE_H / 2} L${x + NODE_W - c},${y + NODE_H} H${x + c} L${x},${y + NODE_H / 2} Z`,
    });
  }
  return s("rect", { class: "shape", x, y, width: NODE_W, height: NODE_H, rx: 10 });
}

/** A 16×16 icon for a state, drawn so it reads without colour. */
function icon(state) {
  const g = s("g", { class: "icon", "aria-hidden": "true" });
  switch (state) {
    case "completed":
      g.append(s("circle", { cx: 8, cy: 8, r: 7.5, class: "icon-disc" }), s("path", { d: "M4.5 8.3 L7 10.8 L11.7 5.6", class: "icon-mark" }));
      break;
    case "failed":
      g.append(s("circle", { cx: 8, cy: 8, r: 7.5, class: "icon-disc" }), s("path", { d: "M5.2 5.2 L10.8 10.8 M10.8 5.2 L5.2 10.8", class: "icon-mark" }));
      break;
    case "running":
      // The spinner's box is the whole circle, so CSS turns it about its centre.
      g.append(s("g", { class: "icon-spinner" },
        s("circle", { cx: 8, cy: 8, r: 6, class: "icon-track" }), s("path", { d: "M8 2 A6 6 0 0 1 14 8", class: "icon-spin" })));
      break;
    case "waiting_human":
      // A person: the run waits on one.
      g.append(s("circle", { cx: 8, cy: 8, r: 7.5, class: "icon-disc" }), s("circle", { cx: 8, cy: 5.8, r: 2.3, class: "icon-fill" }),
        s("path", { d: "M3.8 12.6 C4.6 9.6 11.4 9.6 12.2 12.6 Z", class: "icon-fill" }));
      break;
    case "cancelled":
      g.append(s("circle", { cx: 8, cy: 8, r: 6.5, class: "icon-ring" }), s("path", { d: "M3.6 12.4 L12.4 3.6", class: "icon-ring" }));
      break;
    default:
      g.append(s("circle", { cx: 8, cy: 8, r: 6, class: "icon-ring" }));
  }
  return g;
}

function label(task, state) {
  const who = task.kind === "human" ? "human task" : `${task.agent ?? "agent"} task`;
  return `${task.task_id}: ${task.name}. ${who}, ${STATE_WORDS[state] ?? state}.`;
}

/** The longest start of `words` that fits `width` in `text` (already in the document, so it can be measured). */
function longestFit(text, words, width, ellipsis) {
  let low = 1;
  let high = words.length;
  const measure = (n) => {
    text.textContent = words.slice(0, n).join(" ") + (ellipsis && n < words.length ? "…" : "");
    return text.getComputedTextLength();
  };
  if (measure(1) > width) {
    return 0;
  }
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (measure(mid) <= width) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

/** Cuts a long word to fit, with an ellipsis. */
function cut(text, word, width) {
  let low = 0;
  let high = word.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    text.textContent = word.slice(0, mid) + "…";
    if (text.getComputedTextLength() <= width) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  text.textContent = word.slice(0, low) + "…";
}

/** Sets a task name on up to two lines of `width`, the second cut with an ellipsis when the name is longer. */
function wrap(text, name, width) {
  const [first, second] = [...text.querySelectorAll("tspan")];
  const words = name.split(/\s+/).filter(Boolean);
  const n = longestFit(first, words, width, false);
  if (n === 0) {
    cut(first, words[0] ?? "", width);
    second.textContent = "";
    return;
  }
  first.textContent = words.slice(0, n).join(" ");
  const rest = words.slice(n);
  second.textContent = "";
  if (rest.length > 0) {
    const m = longestFit(second, rest, width, true);
    if (m === 0) {
      cut(second, rest.join(" "), width);
    } else {
      second.textContent = rest.slice(0, m).join(" ") + (m < rest.length ? "…" : "");
    }
  }
}

/**
 * The graph of a run. render() draws it anew when the tasks or their dependencies change; update() only sets
 * states, so a live run costs a few attribute writes per event.
 */
export class TaskGraph {
  constructor(container, { onSelect }) {
    this.container = container;
    this.onSelect = onSelect;
    this.shape = "";
    this.nodes = new Map();
    this.tasks = new Map();
  }

  render(tasks, stateOf, selected) {
    const shapeKey = JSON.stringify(tasks.map((t) => [t.task_id, t.kind, t.agent, t.name, t.depends_on]));
    if (shapeKey !== this.shape) {
      this.shape = shapeKey;
      this.draw(tasks, stateOf);
    }
    this.update(stateOf, selected);
  }

  draw(tasks, stateOf) {
    if (tasks.length === 0) {
      this.container.replaceChildren();
      this.nodes = new Map();
      this.svg = null;
      return;
    }
    const { nodes, width, height } = layout(tasks);
    this.tasks = new Map(tasks.map((t) => [t.task_id, t]));
    this.nodes = new Map();
    const svg = s("svg", {
      class: "dag",
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "group",
      "aria-label": `Task graph: ${tasks.length} tasks, dependencies left to right`,
    });
    const defs = s("defs", {}, s("marker", {
      id: "dag-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
    }, s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" })));
    const edges = s("g", { class: "edges", "aria-hidden": "true" });
    for (const task of tasks) {
      const to = nodes.get(task.task_id);
      for (const dep of task.depends_on ?? []) {
        const from = nodes.get(dep);
        if (!from) {
          continue;
        }
        const x1 = from.x + NODE_W;
        const y1 = from.y + NODE_H / 2;
        const x2 = to.x - 2;
        const y2 = to.y + NODE_H / 2;
        const bend = Math.max(24, (x2 - x1) / 2);
        edges.append(s("path", {
          class: "edge", "data-from": dep, "data-to": task.task_id, "marker-end": "url(#dag-arrow)",
          d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
        }));
      }
    }
    const group = s("g", { class: "nodes" });
    const ordered = [...tasks].sort((a, b) => nodes.get(a.task_id).depth - nodes.get(b.task_id).depth || nodes.get(a.task_id).y - nodes.get(b.task_id).y);
    for (const task of ordered) {
      const { x, y } = nodes.get(task.task_id);
      const state = stateOf(task.task_id);
      const stateText = s("text", { class: "node-state", x: x + 34, y: y + 72 }, STATE_WORDS[state] ?? state);
      const iconGroup = icon(state);
      iconGroup.setAttribute("transform", `translate(${x + 13} ${y + 60})`);
      const name = s("text", { class: "node-name" },
        s("tspan", { x: x + 13, y: y + 35 }), s("tspan", { x: x + 13, y: y + 51 }));
      const node = s("g", {
        class: "node", tabindex: 0, role: "button", "data-task-id": task.task_id, "data-state": state, "data-kind": task.kind,
        "aria-label": label(task, state),
        onclick: () => this.onSelect(task.task_id),
        onkeydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            this.onSelect(task.task_id);
          }
        },
      },
      s("title", {}, `${task.task_id} · ${task.name}`),
      s("rect", { class: "focus-ring", x: x - 4, y: y - 4, width: NODE_W + 8, height: NODE_H + 8, rx: 13 }),
      shape(task, x, y),
      s("text", { class: "node-id", x: x + 13, y: y + 17 }, `${task.task_id} · ${task.kind === "human" ? "you" : task.agent ?? "agent"}`),
      name,
      iconGroup,
      stateText);
      group.append(node);
      this.nodes.set(task.task_id, { node, stateText, iconGroup, name, x, y });
    }
    svg.append(defs, edges, group);
    this.container.replaceChildren(svg);
    this.svg = svg;
    this.size = { width, height };
    for (const [id, { name }] of this.nodes) {
      wrap(name, this.tasks.get(id).name, NODE_W - 24);
    }
    this.fitWidth();
    this.resizing ??= new ResizeObserver(() => this.fitWidth());
    this.resizing.observe(this.container);
  }

  /** Shrinks a graph a little wider than its box to fit; one much wider keeps a readable size and scrolls. */
  fitWidth() {
    if (!this.svg) {
      return;
    }
    const available = this.container.clientWidth;
    const { width, height } = this.size;
    const shown = available >= width ? width : Math.max(available, width * MIN_SCALE);
    this.svg.setAttribute("width", String(Math.round(shown)));
    this.svg.setAttribute("height", String(Math.round((height * shown) / width)));
  }

  update(stateOf, selected) {
    for (const [id, parts] of this.nodes) {
      const state = stateOf(id);
      parts.node.classList.toggle("selected", id === selected);
      parts.node.setAttribute("aria-pressed", String(id === selected));
      if (parts.node.getAttribute("data-state") === state) {
        continue;
      }
      parts.node.setAttribute("data-state", state);
      parts.node.setAttribute("aria-label", label(this.tasks.get(id), state));
      parts.stateText.textContent = STATE_WORDS[state] ?? state;
      const replacement = icon(state);
      replacement.setAttribute("transform", parts.iconGroup.getAttribute("transform"));
      parts.iconGroup.replaceWith(replacement);
      parts.iconGroup = replacement;
    }
    for (const edge of this.container.querySelectorAll(".edge")) {
      edge.classList.toggle("done", stateOf(edge.getAttribute("data-from")) === "completed");
    }
  }

  focus(taskId) {
    this.nodes.get(taskId)?.node.focus();
  }
}
