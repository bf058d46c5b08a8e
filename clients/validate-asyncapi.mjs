// Validates an AsyncAPI document with the AsyncAPI parser (errors and warnings both fail):
// `node clients/validate-asyncapi.mjs docs/asyncapi.yaml` (tests/livestream/test_asyncapi.py runs it).
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, "utf8"), { source: path });
const problems = diagnostics.filter((d) => d.severity <= 1); // 0 error, 1 warning
for (const d of problems) console.log(`${d.severity === 0 ? "error" : "warning"} ${d.path.join(".")}: ${d.message}`);
if (!document || problems.length) process.exit(1);
console.log(`valid: ${document.channels().length} channels, ${document.allMessages().length} messages`);
