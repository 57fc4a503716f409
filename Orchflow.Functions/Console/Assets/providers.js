// The account's model providers (list, add, delete) and the managed trial runs it has left. Keys go in once and are
// never shown again: Orchflow answers with a hint of each key only.

import { ApiError, del, get, post } from "./api.js";
import { field, h, showFieldErrors, timeAgo } from "./dom.js";

/** The provider kinds the API takes, in the words a person knows them by. */
const KINDS = [
  ["openai", "OpenAI"],
  ["azure_openai", "Azure OpenAI"],
  ["gemini", "Google Gemini"],
  ["anthropic", "Anthropic"],
  ["openai_compatible", "OpenAI-compatible server (Ollama, vLLM, LM Studio…)"],
];

/** Kinds with no public default address: the person says where their resource or server is. */
const NEEDS_ENDPOINT = new Set(["azure_openai", "openai_compatible"]);

export function providersView({ main, announce }) {
  const controller = new AbortController();
  const signal = controller.signal;
  const trial = h("p", { class: "trial", role: "status" }, "Reading the account…");
  const list = h("ul", { class: "provider-list", "aria-label": "Your providers" });
  const listStatus = h("p", { class: "form-status", role: "status" });

  const kind = field("Provider", h("select", { name: "provider" }, KINDS.map(([value, text]) => h("option", { value }, text))));
  const label = field("Label", h("input", { type: "text", name: "label", maxlength: 100, autocomplete: "off" }), "A name you will recognise in the New run form.");
  const model = field("Model", h("input", { type: "text", name: "model", maxlength: 200, required: true, autocomplete: "off", spellcheck: "false" }),
    "The model or deployment name, as your provider spells it (gemini-2.0-flash-lite, gpt-4o-mini…).");
  const key = field("API key", h("input", { type: "password", name: "api_key", maxlength: 1000, required: true, autocomplete: "off", spellcheck: "false" }),
    "Stored encrypted; Orchflow never shows it again, only its last characters.");
  const endpoint = field("Endpoint", h("input", { type: "url", name: "endpoint", maxlength: 500, autocomplete: "off", spellcheck: "false" }),
    "Needed for Azure OpenAI (your resource's address) and OpenAI-compatible servers (ending in /v1); optional otherwise.");
  const fields = { provider: kind, label, model, api_key: key, endpoint };
  const formStatus = h("p", { class: "form-status", role: "status" });

  const form = h("form", {
    class: "card", novalidate: true, "aria-labelledby": "add-provider-heading",
    onsubmit: async (event) => {
      event.preventDefault();
      Object.values(fields).forEach((f) => showFieldErrors(f, []));
      const missing = [[model, "Name the model to use."], [key, "Paste the provider's API key."]]
        .concat(NEEDS_ENDPOINT.has(kind.control.value) ? [[endpoint, "This kind of provider needs its endpoint."]] : [])
        .filter(([f]) => !f.control.value.trim());
      if (missing.length) {
        missing.forEach(([f, message]) => showFieldErrors(f, [message]));
        missing[0][0].control.focus();
        return;
      }
      const body = { provider: kind.control.value, model: model.control.value.trim(), api_key: key.control.value.trim() };
      if (label.control.value.trim()) {
        body.label = label.control.value.trim();
      }
      if (endpoint.control.value.trim()) {
        body.endpoint = endpoint.control.value.trim();
      }
      formStatus.textContent = "Adding…";
      try {
        const { body: added } = await post("/providers", body, { signal });
        form.reset();
        formStatus.textContent = `Added ${added.label}: choose it under Provider when you start a run.`;
        announce(`Provider ${added.label} added.`);
        await loadProviders();
      } catch (error) {
        if (error.name === "AbortError") {
          return;
        }
        if (error instanceof ApiError && error.status === 422) {
          for (const [name, messages] of Object.entries(error.errors)) {
            showFieldErrors(fields[name] ?? model, messages);
          }
          formStatus.textContent = "Not added: see the messages above.";
        } else {
          formStatus.textContent = `Not added: ${error.message}`;
        }
      }
    },
  }, h("h2", { id: "add-provider-heading" }, "Add a provider"),
  ...Object.values(fields).map((f) => f.element),
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add provider")), formStatus);

  main.append(
    h("h1", { tabindex: -1 }, "Providers"),
    h("p", { class: "lead" }, "Runs use Orchflow's managed model until its trial runs are used up; a provider of your own has no such limit."),
    h("section", { class: "card", "aria-labelledby": "trial-heading" }, h("h2", { id: "trial-heading" }, "Trial runs"), trial),
    h("section", { class: "card", "aria-labelledby": "providers-heading" }, h("h2", { id: "providers-heading" }, "Your providers"), listStatus, list),
    form);

  async function loadAccount() {
    const { body } = await get("/account", { signal });
    const left = body.trial_runs_remaining;
    trial.textContent = left === 0
      ? "No managed trial runs left: start runs on a provider of your own (add one below)."
      : `${left.toLocaleString("en")} managed trial ${left === 1 ? "run" : "runs"} left. Each run on the managed model uses one; a run on your own provider uses none.`;
  }

  async function loadProviders() {
    const { body } = await get("/providers", { signal });
    list.replaceChildren(...body.providers.map(row));
    listStatus.textContent = body.providers.length ? "" : "None yet: runs use the managed model.";
  }

  function row(p) {
    const item = h("li", { class: "provider", "data-provider-id": p.provider_id });
    const kindName = KINDS.find(([value]) => value === p.provider)?.[1] ?? p.provider;
    const remove = h("button", { type: "button", class: "danger-outline", "aria-label": `Delete ${p.label}` }, "Delete");
    remove.addEventListener("click", () => {
      const confirm = h("div", { class: "confirm", role: "group", "aria-label": `Confirm deleting ${p.label}` },
        h("p", {}, `Delete ${p.label}? Runs that use it can no longer call it.`),
        h("div", { class: "actions" },
          h("button", {
            type: "button", class: "danger", onclick: async (event) => {
              event.currentTarget.disabled = true;
              try {
                await del(`/providers/${encodeURIComponent(p.provider_id)}`, { signal });
                announce(`Provider ${p.label} deleted.`);
                await loadProviders();
                main.querySelector("h1")?.focus();
              } catch (error) {
                listStatus.textContent = `Not deleted: ${error.message}`;
              }
            },
          }, `Yes, delete ${p.label}`),
          h("button", { type: "button", onclick: () => { confirm.replaceWith(remove); remove.focus(); } }, "Keep it")));
      remove.replaceWith(confirm);
      confirm.querySelector("button").focus();
    });
    item.append(
      h("div", { class: "provider-head" }, h("strong", {}, p.label), " ", h("span", { class: "badge" }, kindName)),
      h("dl", { class: "meta" },
        h("dt", {}, "Model"), h("dd", { class: "mono" }, p.model),
        h("dt", {}, "Key"), h("dd", { class: "mono" }, p.key_hint),
        ...(p.endpoint ? [h("dt", {}, "Endpoint"), h("dd", { class: "mono" }, p.endpoint)] : []),
        h("dt", {}, "Added"), h("dd", {}, timeAgo(p.created_at)),
        h("dt", {}, "Id"), h("dd", { class: "mono" }, p.provider_id)),
      remove);
    return item;
  }

  Promise.all([loadAccount(), loadProviders()]).catch((error) => {
    if (error.name !== "AbortError") {
      listStatus.textContent = `Could not read the providers: ${error.message}`;
    }
  });
  return () => controller.abort();
}
