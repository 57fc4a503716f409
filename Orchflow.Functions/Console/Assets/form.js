// A human task's form, drawn from its input_schema (the subset of JSON Schema MCP elicitation allows): a labelled
// control per field, the server's 422 shown beside the field it names, and free text as the fallback.

import { field, h, showFieldErrors } from "./dom.js";

/** Formats a string field may have, as the input type a browser offers for each. */
const INPUT_TYPES = { email: "email", uri: "url", date: "date", "date-time": "datetime-local" };

/** Text fields up to this long are one line; longer or unbounded ones get a box. */
const ONE_LINE = 200;

/**
 * The form answering `task` with its fields. `send(body, form, message, onFieldErrors)` posts the answer (and keeps the
 * controls disabled after a success); `freeText` is the plain answer form, shown beneath it as the fallback.
 */
export function inputForm(task, send, freeText) {
  const schema = task.input_schema;
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {}).map(([name, property]) => control(name, property, required.has(name)));
  const message = h("p", { class: "form-status", role: "status" });
  const formErrors = h("ul", { class: "field-errors", hidden: true });
  const form = h("form", {
    class: "task-form input-form", novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      for (const entry of entries) {
        showFieldErrors(entry, []);
      }
      showFormErrors(formErrors, []);
      form.querySelectorAll("button, input, select, textarea").forEach((c) => { c.disabled = true; });
      send({ input: Object.fromEntries(entries.map((e) => [e.name, e.read()]).filter(([, value]) => value !== undefined)) },
        form, message, (errors) => showErrors(errors, entries, formErrors));
    },
  },
  h("h3", {}, "Your answer"),
  h("p", { class: "hint" }, required.size ? "Fields marked (required) must be filled in." : "Fill in what you can."),
  ...entries.map((e) => e.element),
  formErrors,
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Submit form")),
  message);
  return h("div", { class: "task-answer" }, form, freeText);
}

/** One field's labelled control, and how to read its value (undefined: left out of the answer). */
function control(name, property, isRequired) {
  const label = (property.title ?? name) + (isRequired ? " (required)" : "");
  const common = { name, required: isRequired, "aria-required": isRequired ? "true" : null };
  let element;
  let read;
  if (property.type === "boolean") {
    element = h("input", { ...common, type: "checkbox", required: false, "aria-required": null });
    read = () => element.checked;
  } else if (property.type === "number" || property.type === "integer") {
    element = h("input", {
      ...common, type: "number", inputmode: property.type === "integer" ? "numeric" : "decimal",
      step: property.type === "integer" ? "1" : "any", min: property.minimum, max: property.maximum,
    });
    read = () => (element.value === "" ? undefined : Number(element.value));
  } else if (property.enum) {
    element = h("select", common, h("option", { value: "" }, isRequired ? "Choose…" : "(none)"),
      property.enum.map((choice) => h("option", { value: choice }, choice)));
    read = () => element.value || undefined;
  } else {
    const oneLine = property.format || (property.maxLength !== undefined && property.maxLength <= ONE_LINE);
    element = oneLine
      ? h("input", { ...common, type: INPUT_TYPES[property.format] ?? "text", minlength: property.minLength, maxlength: property.maxLength })
      : h("textarea", { ...common, rows: 3, minlength: property.minLength, maxlength: property.maxLength ?? 32000 });
    read = () => {
      if (element.value === "") {
        return undefined;
      }
      // A browser's date and time has no seconds or zone; the answer is a full RFC 3339 time.
      return property.format === "date-time" ? new Date(element.value).toISOString() : element.value;
    };
  }
  const entry = field(label, element, hint(property));
  if (property.type === "boolean") {
    entry.element.classList.add("checkbox-field");
  }
  return { ...entry, name, read };
}

/** What a person should know to fill a field in: its description, then its bounds and format in words. */
function hint(property) {
  const parts = [];
  if (property.description) {
    parts.push(property.description);
  }
  const whole = property.type === "integer" ? "A whole number" : property.type === "number" ? "A number" : null;
  if (whole && property.minimum !== undefined && property.maximum !== undefined) {
    parts.push(`${whole} from ${property.minimum} to ${property.maximum}.`);
  } else if (whole && property.minimum !== undefined) {
    parts.push(`${whole}, at least ${property.minimum}.`);
  } else if (whole && property.maximum !== undefined) {
    parts.push(`${whole}, at most ${property.maximum}.`);
  }
  if (property.maxLength !== undefined) {
    parts.push(`At most ${property.maxLength} characters.`);
  }
  if (property.format === "email") {
    parts.push("An email address.");
  } else if (property.format === "uri") {
    parts.push("A full address, such as https://example.com.");
  }
  return parts.join(" ") || null;
}

/** The server's 422: each message beside the field it names (input.<field>), the rest above the button. */
function showErrors(errors, entries, formErrors) {
  const rest = [];
  for (const [key, messages] of Object.entries(errors ?? {})) {
    const entry = entries.find((e) => key === `input.${e.name}`);
    if (entry) {
      showFieldErrors(entry, messages);
    } else {
      rest.push(...messages);
    }
  }
  showFormErrors(formErrors, rest);
  (entries.find((e) => e.control.getAttribute("aria-invalid") !== null)?.control)?.focus();
}

function showFormErrors(list, messages) {
  list.replaceChildren(...messages.map((m) => h("li", {}, m)));
  list.hidden = messages.length === 0;
}
