// Connecting: paste an API key (kept in this tab's sessionStorage only), or register and get one.

import { ApiError, get, post, rememberKey } from "./api.js";
import { field, h, showFieldErrors } from "./dom.js";

/** Why a key was refused, in a person's words rather than the API's header terms. */
export function refusedInWords(key) {
  return key.trim().startsWith("orch_")
    ? "Orchflow does not know this key. Check that you pasted all of it, or register below to get a new one."
    : "This is not an Orchflow API key: those start with orch_. Paste the key you got when you registered, or register below.";
}

export function keyView({ main, go }, { refused, next }) {
  const controller = new AbortController();
  const status = h("p", { class: "form-status", role: "status" });

  const key = field("API key", h("input", {
    type: "password", name: "api_key", required: true, autocomplete: "off", spellcheck: "false", placeholder: "orch_…",
  }), "Kept in this browser tab only, and sent with each request the console makes; never put in an address, a cookie or a log.");
  if (refused) {
    showFieldErrors(key, [refused]);
  }
  const connect = h("form", {
    class: "card",
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      const value = key.control.value.trim();
      if (!value) {
        showFieldErrors(key, ["Paste the API key you got when you registered."]);
        key.control.focus();
        return;
      }
      showFieldErrors(key, []);
      rememberKey(value);
      status.textContent = "Checking the key…";
      try {
        await get("/runs?limit=1", { signal: controller.signal });
        go(next.startsWith("#/") ? next : "#/runs");
      } catch (error) {
        // A refused key sends the view back here with the reason (api.js forgets it); anything else is said here.
        if (!(error instanceof ApiError && error.status === 401) && error.name !== "AbortError") {
          status.textContent = `Could not reach Orchflow: ${error.message}`;
        }
      }
    },
  }, h("h2", {}, "Use your API key"), key.element, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Use key")), status);

  const name = field("Name", h("input", { type: "text", name: "name", required: true, maxlength: 100, autocomplete: "name" }));
  const email = field("Email", h("input", { type: "email", name: "email", required: true, maxlength: 254, autocomplete: "email" }));
  const registered = h("div", { class: "registered", hidden: true });
  const registerStatus = h("p", { class: "form-status", role: "status" });
  const register = h("form", {
    class: "card",
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      showFieldErrors(name, []);
      showFieldErrors(email, []);
      registerStatus.textContent = "Registering…";
      try {
        const { body } = await post("/auth/register", { name: name.control.value, email: email.control.value }, { signal: controller.signal });
        registerStatus.textContent = "";
        rememberKey(body.api_key);
        const shown = field("Your new API key", h("input", { type: "text", readonly: true, value: body.api_key, class: "mono" }),
          "Shown this once: Orchflow keeps only a hash of it. Copy it somewhere safe; this tab already uses it.");
        registered.replaceChildren(shown.element, h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", onclick: () => go(next.startsWith("#/") && next !== "#/runs" ? next : "#/new") }, "Continue")));
        registered.hidden = false;
        register.querySelector("fieldset").disabled = true;
        shown.control.select();
      } catch (error) {
        registerStatus.textContent = "";
        if (error instanceof ApiError && error.status === 422) {
          showFieldErrors(name, error.errors.name ?? []);
          showFieldErrors(email, error.errors.email ?? []);
        } else if (error instanceof ApiError && error.status === 409) {
          showFieldErrors(email, ["That email is already registered: use the key you got then."]);
        } else if (error.name !== "AbortError") {
          registerStatus.textContent = `Registration failed: ${error.message}`;
        }
      }
    },
  }, h("h2", {}, "New to Orchflow? Register"),
  h("fieldset", { class: "plain" }, h("legend", { class: "visually-hidden" }, "Your account"), name.element, email.element,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Register"))),
  registerStatus, registered);

  main.append(
    h("h1", { tabindex: -1 }, "Connect to Orchflow"),
    h("p", { class: "lead" }, "The console calls the Orchflow API with your key, as any client would."),
    h("div", { class: "columns" }, connect, register));
  return () => controller.abort();
}
