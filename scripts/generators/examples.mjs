// Writes a TypeScript module that gives each request example of the OpenAPI document the type openapi-typescript
// generated for its schema, so tsc says whether the public docs' bodies type-check (scripts/generators.sh).
//
//   node scripts/generators/examples.mjs DOCUMENT > examples.ts   (beside orchflow.d.ts)
import { readFileSync } from "node:fs";

const document = JSON.parse(readFileSync(process.argv[2], "utf8"));
const lines = ['import type { components } from "./orchflow";', ""];
for (const item of Object.values(document.paths)) {
  for (const operation of Object.values(item)) {
    const media = operation?.requestBody?.content?.["application/json"];
    const name = media?.schema?.$ref?.split("/").pop();
    if (!name) continue;
    const examples = [
      ...(document.components.schemas[name].examples ?? []),
      ...Object.values(media.examples ?? {}).map((e) => e.value),
    ];
    examples.forEach((example, i) => {
      lines.push(`export const ${operation.operationId}${i}: components["schemas"]["${name}"] = ${JSON.stringify(example, null, 2)};`);
    });
  }
}
console.log(lines.join("\n"));
