// A run's task graph as SVG: one column per dependency depth, left to right, an edge for each depends_on. Each node
// is a focusable SVG group carrying data-task-id and data-state (the API's words); its state shows as colour, an
// icon and a word, so colour is never the only cue. Human tasks are hexagons, agent tasks rounded rectangles.

import { byTaskId, h, s } from "./dom.js";

const NODE_W = 176;
const GAP_X = 40;
const GAP_Y = 16;
const PAD = 10;
const LINE = 16;
/** Lines a task name may take; a longer name is cut (the task's detail shows it whole). */
const MAX_LINES = 4;

/** A node's height for names of `lines` lines: the id line, the name, the state line. */
const nodeHeight = (lines) => 48 + lines * LINE;

/** Where a node's text starts: further in on a hexagon, whose sides slant in. */
const inset = (task) => (task.kind === "human" ? 20 : 13);

/**
 * A graph may shrink to this share of its size to fit the window; a wider one is shown at full size and scrolls in
 * its own box, since shrinking it further would make its text too small to read on a phone.
 */
const MIN_SCALE = 0.85;

export const STATE_WORDS = {
  pending: "pending",
  running: "running",
  waiting_human: "waiting for you",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
};

/** What the graph's colours, icons and shapes mean, as a list beside it. */
export function legend() {
  const entries = ["pending", "running", "waiting_human", "completed", "failed", "cancelled"];
  return h("ul", { class: "legend", "aria-label": "What the colours and icons mean" },
    entries.map((state) => h("li", { "data-state": state }, h("span", { class: "swatch", "aria-hidden": "true" }), STATE_WORDS[state])),
    h("li", { class: "legend-shape" }, h("span", { class: "swatch hex", "aria-hidden": "true" }), "task for you"),
    h("li", { class: "legend-shape" }, h("span", { class: "swatch box", "aria-hidden": "true" }), "agent task"));
}

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
export function layout(tasks, nodeH = nodeHeight(2)) {
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
    const offset = ((tallest - column.length) * (nodeH + GAP_Y)) / 2;
    column.forEach((t, r) => nodes.set(t.task_id, {
      x: PAD + d * (NODE_W + GAP_X),
      y: PAD + offset + r * (nodeH + GAP_Y),
      depth: d,
    }));
  });
  return {
    nodes,
    width: PAD * 2 + Math.max(1, columns.length) * NODE_W + Math.max(0, columns.length - 1) * GAP_X,
    height: PAD * 2 + tallest * nodeH + (tallest - 1) * GAP_Y,
  };
}

/**
 * The path of an edge. Between neighbouring columns it is one curve; across columns between them it keeps to a lane
 * where no node is (a gap between nodes, or above or below them), crossing each column straight, so it never runs
 * behind a task it does not touch.
 */
export function edgePath(nodes, nodeH, fromId, toId) {
  const from = nodes.get(fromId);
  const to = nodes.get(toId);
  const start = [from.x + NODE_W, from.y + nodeH / 2];
  const end = [to.x - 2, to.y + nodeH / 2];
  const points = [start];
  for (let depth = from.depth + 1; depth < to.depth; depth += 1) {
    const left = PAD + depth * (NODE_W + GAP_X);
    const share = (depth - from.depth) / (to.depth - from.depth);
    const lane = freeLane([...nodes.values()].filter((n) => n.depth === depth), nodeH, start[1] + (end[1] - start[1]) * share);
    points.push([left - 6, lane], [left + NODE_W + 6, lane]);
  }
  points.push(end);
  let d = `M${start[0]},${start[1]}`;
  for (let i = 1; i < points.length; i += 1) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    // Odd steps cross a gap between columns (a curve); even ones cross a column along its lane (a line).
    if (i % 2 === 1) {
      const bend = Math.max(12, (x1 - x0) / 2);
      d += ` C${x0 + bend},${y0} ${x1 - bend},${y1} ${x1},${y1}`;
    } else {
      d += ` L${x1},${y1}`;
    }
  }
  return d;
}

/** The height nearest `wanted` at which a line crosses a column without touching any of its nodes. */
function freeLane(column, nodeH, wanted) {
  const margin = 5;
  const blocked = (y) => column.some((n) => y > n.y - margin && y < n.y + nodeH + margin);
  if (!blocked(wanted)) {
    return wanted;
  }
  const tops = column.map((n) => n.y).sort((a, b) => a - b);
  const candidates = [tops[0] - GAP_Y / 2, ...tops.map((y) => y + nodeH + GAP_Y / 2)];
  return candidates.filter((y) => !blocked(y)).sort((a, b) => Math.abs(a - wanted) - Math.abs(b - wanted))[0] ?? wanted;
}

function shape(task, x, y, height) {
  if (task.kind === "human") {
    const c = 16;
    return s("path", {
      class: "shape",
      d: `M${x + c},${y} H${x + NODE_W - c} L${x + NODE_W},${y + height / 2} L${x + NODE_W - c},${y + height} H${x + c} L${x},${y + height / 2} Z`,
    });
  }
  return s("rect", { class: "shape", x, y, width: NODE_W, height, rx: 10 });
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

/** The words of a name, broken into lines of at most `width` as `probe` (an SVG text in the document) measures them. */
function lines(probe, name, width) {
  const fits = (text) => {
    probe.textContent = text;
    return probe.getComputedTextLength() <= width;
  };
  const result = [];
  let line = "";
  for (const word of name.split(/\s+/).filter(Boolean)) {
    const longer = line ? `${line} ${word}` : word;
    if (fits(longer)) {
      line = longer;
      continue;
    }
    if (line) {
      result.push(line);
    }
    line = word;
    // A word wider than the node is cut where it must be.
    while (!fits(line) && line.length > 1) {
      let cut = line.length - 1;
      while (cut > 1 && !fits(line.slice(0, cut))) {
        cut -= 1;
      }
      result.push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  if (line) {
    result.push(line);
  }
  if (result.length > MAX_LINES) {
    const kept = result.slice(0, MAX_LINES);
    let last = kept[MAX_LINES - 1];
    while (last.length > 1 && !fits(last + "…")) {
      last = last.slice(0, -1).trimEnd();
    }
    kept[MAX_LINES - 1] = last + "…";
    return kept;
  }
  return result.length ? result : [""];
}

/**
 * The graph of a run. render() draws it anew when the tasks or their dependencies change; update() only sets
 * states, so a live run costs a few attribute writes per event.
 */
export class TaskGraph {
  constructor(container, { onSelect, cue }) {
    this.container = container;
    this.onSelect = onSelect;
    this.cue = cue;
    this.shape = "";
    this.nodes = new Map();
    this.tasks = new Map();
    this.writing = new Set();
  }

  /** The tasks whose text is arriving (live-output.js): a running one's state line says it is writing. */
  setWriting(taskIds) {
    this.writing = taskIds;
    if (this.stateOf) {
      this.update(this.stateOf, this.selected);
    }
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
    // Names are measured first, in the node's own font: every node gets the height of the longest name.
    const probeText = s("text", { class: "node-name" });
    const probe = s("svg", { class: "dag", width: 0, height: 0, "aria-hidden": "true" }, probeText);
    this.container.append(probe);
    const nameLines = new Map(tasks.map((t) => [t.task_id, lines(probeText, t.name, NODE_W - 2 * inset(t))]));
    probe.remove();
    const nodeH = nodeHeight(Math.max(...[...nameLines.values()].map((l) => l.length)));

    const { nodes, width, height } = layout(tasks, nodeH);
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
      for (const dep of task.depends_on ?? []) {
        if (nodes.has(dep)) {
          edges.append(s("path", {
            class: "edge", "data-from": dep, "data-to": task.task_id, "marker-end": "url(#dag-arrow)",
            d: edgePath(nodes, nodeH, dep, task.task_id),
          }));
        }
      }
    }
    const group = s("g", { class: "nodes" });
    const ordered = [...tasks].sort((a, b) => nodes.get(a.task_id).depth - nodes.get(b.task_id).depth || nodes.get(a.task_id).y - nodes.get(b.task_id).y);
    for (const task of ordered) {
      const { x, y } = nodes.get(task.task_id);
      const state = stateOf(task.task_id);
      const bottom = y + nodeH;
      const left = x + inset(task);
      const ids = ["id", "name", "state"].map((part) => `node-${task.task_id}-${part}`);
      const stateText = s("text", { class: "node-state", id: ids[2], x: left + 21, y: bottom - 11 }, STATE_WORDS[state] ?? state);
      const iconGroup = icon(state);
      iconGroup.setAttribute("transform", `translate(${left} ${bottom - 24})`);
      const name = s("text", { class: "node-name", id: ids[1] },
        // The spaces between the lines keep the words apart when the name is read as one text.
        nameLines.get(task.task_id).flatMap((line, i) => [i > 0 ? " " : null, s("tspan", { x: left, y: y + 35 + i * LINE }, line)]));
      // The node is named by what it shows (id and who does it, the name, the state in words), so a person who
      // says what they see, or hears it read, names the same thing. No <title>: its text would be a second name.
      const node = s("g", {
        class: "node", tabindex: 0, role: "button", "data-task-id": task.task_id, "data-state": state, "data-kind": task.kind,
        "aria-labelledby": ids.join(" "),
        onclick: () => this.onSelect(task.task_id),
        onkeydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            this.onSelect(task.task_id);
          }
        },
      },
      s("rect", { class: "focus-ring", x: x - 4, y: y - 4, width: NODE_W + 8, height: nodeH + 8, rx: 13 }),
      shape(task, x, y, nodeH),
      s("text", { class: "node-id", id: ids[0], x: left, y: y + 17 }, `${task.task_id} · ${task.kind === "human" ? "you" : task.agent ?? "agent"}`),
      // Spaces between the texts, as between the lines: read as one, the node's words stay apart.
      " ", name, " ", iconGroup, stateText);
      group.append(node);
      this.nodes.set(task.task_id, { node, stateText, iconGroup });
    }
    svg.append(defs, edges, group);
    this.container.replaceChildren(svg);
    this.svg = svg;
    this.size = { width, height };
    this.fitWidth();
    this.resizing ??= new ResizeObserver(() => this.fitWidth());
    this.resizing.observe(this.container);
  }

  /**
   * Shrinks a graph a little wider than its box to fit; one much wider keeps its full size and scrolls, and then the
   * box says so (the cue beside it, a shadow at the edge that hides more).
   */
  fitWidth() {
    if (!this.svg) {
      return;
    }
    const available = this.container.clientWidth;
    const { width, height } = this.size;
    const shown = available >= width ? width : available >= width * MIN_SCALE ? available : width;
    this.svg.setAttribute("width", String(Math.round(shown)));
    this.svg.setAttribute("height", String(Math.round((height * shown) / width)));
    const scrolls = shown > available + 1;
    this.container.classList.toggle("scrolls", scrolls);
    if (this.cue) {
      this.cue.hidden = !scrolls;
    }
  }

  update(stateOf, selected) {
    this.stateOf = stateOf;
    this.selected = selected;
    for (const [id, parts] of this.nodes) {
      const state = stateOf(id);
      const writing = state === "running" && this.writing.has(id);
      parts.node.classList.toggle("selected", id === selected);
      parts.node.setAttribute("aria-pressed", String(id === selected));
      if (parts.node.hasAttribute("data-writing") !== writing) {
        parts.node.toggleAttribute("data-writing", writing);
        parts.stateText.textContent = writing ? "writing…" : STATE_WORDS[state] ?? state;
      }
      if (parts.node.getAttribute("data-state") === state) {
        continue;
      }
      parts.node.setAttribute("data-state", state);
      parts.stateText.textContent = writing ? "writing…" : STATE_WORDS[state] ?? state;
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
