// Checks what Kiota, NSwag and openapi-typescript generated from Orchflow's OpenAPI document (scripts/generators.sh
// runs them): every model the document types is typed, errors are one problem-details type, a request field the
// document leaves optional is optional. Prints one line of figures per generator; exits 1 naming each finding.
//
//   node scripts/generators/check.mjs DOCUMENT OUT_DIR
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const [documentPath, out] = process.argv.slice(2);
const document = JSON.parse(readFileSync(documentPath, "utf8"));
const schemas = document.components.schemas;
const findings = [];
const find = (generator, message) => findings.push(`${generator}: ${message}`);

const resolve = (schema) => (schema?.$ref ? resolve(schemas[schema.$ref.split("/").pop()]) : schema);

// Property names whose schema the contract leaves open (tool arguments, JSON Schemas) or empty (an event's data with
// nothing beyond its type): a generator may type these as a plain object or dictionary.
const openProperties = new Set();
// Properties that are maps of a typed value (`subtasks`): name → the value's schema name.
const typedMaps = new Map();
const visit = (schema) => {
  if (!schema || typeof schema !== "object") return;
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const resolved = resolve(property);
    if (resolved?.type === "object" && !resolved.properties) {
      const values = resolved.additionalProperties;
      if (values && typeof values === "object" && values.$ref) {
        typedMaps.set(name, values.$ref.split("/").pop());
      } else {
        openProperties.add(name);
      }
    }
    visit(property);
  }
  for (const key of ["items", "additionalProperties", "then", "else"]) visit(schema[key]);
  for (const key of ["allOf", "oneOf", "anyOf"]) (schema[key] ?? []).forEach(visit);
};
Object.values(schemas).forEach(visit);

// The request bodies' schemas, with the fields each leaves optional.
const requestSchemas = new Set();
for (const item of Object.values(document.paths)) {
  for (const operation of Object.values(item)) {
    const schema = operation?.requestBody?.content?.["application/json"]?.schema;
    if (schema?.$ref) requestSchemas.add(schema.$ref.split("/").pop());
  }
}

function kiota() {
  const dir = join(out, "kiota", "Models");
  if (!existsSync(dir)) return find("kiota", "generated no models (see kiota.log)");
  const files = readdirSync(dir).filter((f) => f.endsWith(".cs"));
  const errorClasses = [];
  for (const file of files) {
    const text = readFileSync(join(dir, file), "utf8");
    if (/class \w+ : ApiException/.test(text)) errorClasses.push(file.replace(/\.cs$/, ""));
    for (const match of text.matchAll(/\{ "([a-z_0-9]+)", n => \{ \w+ = n\.GetObjectValue<UntypedNode>/g)) {
      if (!openProperties.has(match[1])) find("kiota", `${file}: '${match[1]}' is an UntypedNode`);
    }
    if (/class \w+ : IComposedTypeWrapper/.test(text) && !file.startsWith("RunEvent")) {
      find("kiota", `${file}: a wrapper of alternatives instead of one model`);
    }
  }
  if (errorClasses.join() !== "Problem") find("kiota", `error classes ${errorClasses.join(", ") || "(none)"}; expected only Problem`);
  // Kiota has no typed maps: a map of typed values becomes a class of additional data. Reported, not a finding.
  const untypedMaps = [...typedMaps.keys()];
  console.log(`kiota: ${files.length} models, ${errorClasses.length} error class(es) (${errorClasses.join(", ")}); ` +
    `maps Kiota cannot type: ${untypedMaps.join(", ") || "none"}`);
}

function nswag() {
  const file = join(out, "nswag", "Client.cs");
  if (!existsSync(file)) return find("nswag", "generated no client (see nswag.log)");
  const text = readFileSync(file, "utf8");
  const classes = [...text.matchAll(/public partial class (\w+)/g)].map((m) => m[1]);
  const documented = new Set(Object.keys(schemas));
  for (const match of text.matchAll(/JsonProperty\("([a-z_0-9]+)"[^\n]*\n(?:\s*\[[^\n]*\n)*\s*public (object|[\w.<>, ]+) \w+ \{/g)) {
    const [, name, type] = match;
    if (type === "object" && !openProperties.has(name)) find("nswag", `'${name}' is typed object`);
    if (typedMaps.has(name) && !type.includes(`IDictionary<string, ${typedMaps.get(name)}>`)) {
      find("nswag", `'${name}' is ${type}, not a dictionary of ${typedMaps.get(name)}`);
    }
  }
  // Classes named after a property rather than a schema (Task_id, Data2…) are shapes the document did not name.
  const invented = classes.filter((c) => !documented.has(c) && !["ApiException", "FileResponse"].includes(c) && c !== "OrchflowNSwagClient");
  const untypedInvented = invented.filter((c) => {
    const body = text.slice(text.indexOf(`public partial class ${c}`));
    const end = body.indexOf("\n    }\n");
    return !/JsonProperty\("/.test(body.slice(0, end));
  });
  for (const c of untypedInvented) {
    if (!openProperties.has(c.replace(/\d+$/, "").toLowerCase())) find("nswag", `class ${c} has no typed field`);
  }
  const errors = new Set([...text.matchAll(/ApiException<(\w+)>/g)].map((m) => m[1]).filter((t) => t !== "TResult"));
  if ([...errors].join() !== "Problem") find("nswag", `error types ${[...errors].join(", ")}; expected only Problem`);
  console.log(`nswag: ${classes.length} classes (${invented.length} named after a property), error types: ${[...errors].join(", ")}`);
}

function openapiTypescript() {
  const file = join(out, "ts", "orchflow.d.ts");
  if (!existsSync(file)) return find("openapi-typescript", "generated nothing (see ts.log)");
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (/\bunknown\b/.test(line) && !/^\s*(\*|\/\*\*)/.test(line) && !/\[(name|key): string\]: unknown;/.test(line)) {
      find("openapi-typescript", `line ${i + 1} is unknown: ${line.trim()}`);
    }
  });
  const problems = [...text.matchAll(/"application\/problem\+json": ([^;]+);/g)].map((m) => m[1]);
  const others = problems.filter((p) => p !== 'components["schemas"]["Problem"]');
  if (others.length) find("openapi-typescript", `${others.length} problem responses are not the shared Problem`);
  for (const name of requestSchemas) {
    const block = text.match(new RegExp(`\\n        ${name}: \\{\\n([\\s\\S]*?)\\n        \\};?`));
    if (!block) {
      find("openapi-typescript", `no type ${name}`);
      continue;
    }
    const required = new Set(schemas[name].required ?? []);
    for (const match of block[1].matchAll(/^ {12}"?([a-z_0-9]+)"?(\??): /gm)) {
      const [, field, optional] = match;
      if (!required.has(field) && !optional) find("openapi-typescript", `${name}.${field} is optional in the document but required in the type`);
    }
  }
  for (const [name, value] of typedMaps) {
    if (!new RegExp(`${name}\\??: \\{\\s*\\[key: string\\]: components\\["schemas"\\]\\["${value}"\\];`).test(text)) {
      find("openapi-typescript", `'${name}' is not a map of ${value}`);
    }
  }
  console.log(`openapi-typescript: ${lines.length} lines, ${problems.length} problem responses, all the shared Problem: ${others.length === 0}`);
}

kiota();
nswag();
openapiTypescript();
for (const finding of findings) console.log(`FINDING ${finding}`);
process.exit(findings.length ? 1 : 0);
