#!/usr/bin/env node
/**
 * Writes the "## Inputs" and "## Outputs" tables of every terraform/modules/<name>/README.md
 * from the module's variables.tf and outputs.tf (name, description, type, default, required),
 * so the tables cannot drift from the code. No network; the tables are laid out by the repository's
 * own formatter (biome), so `biome ci` and this check agree on every README.
 *
 *   node scripts/terraform-docs.mjs          rewrite the tables
 *   node scripts/terraform-docs.mjs --check  exit 1 and name every README that is stale (CI)
 *   --modules-dir <dir>                      another folder of modules (default terraform/modules)
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: { check: { type: 'boolean', default: false }, 'modules-dir': { type: 'string' } },
});
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modulesDir = path.resolve(options['modules-dir'] ?? path.join(root, 'terraform', 'modules'));
const check = options.check;

/** The top-level `<kind> "<name>" { ... }` blocks of an HCL file, with their bodies. */
function blocks(text, kind) {
  const found = [];
  const start = new RegExp(`^${kind} "([^"]+)" \\{`, 'gm');
  for (let match = start.exec(text); match; match = start.exec(text)) {
    let depth = 0;
    let i = match.index + match[0].length - 1;
    let inString = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '(' || c === '[') depth++;
      else if (c === '}' || c === ')' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    found.push({ name: match[1], body: text.slice(match.index + match[0].length, i) });
  }
  return found;
}

/** The expression of a body's top-level attribute (two-space indent), whitespace collapsed. */
function attribute(body, name) {
  const lines = body.split('\n');
  const first = lines.findIndex((l) => new RegExp(`^  ${name}\\s*=`).test(l));
  if (first < 0) return undefined;
  const taken = [lines[first].replace(new RegExp(`^  ${name}\\s*=\\s*`), '')];
  for (let i = first + 1; i < lines.length && !/^ {2}[a-z_]+\s*(=|\{)/.test(lines[i]); i++) taken.push(lines[i]);
  return taken
    .join('\n')
    .replace(/^\s*#.*$/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
}

const description = (body) => {
  const raw = attribute(body, 'description') ?? '""';
  return JSON.parse(raw);
};
const cell = (text) => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (text) => `\`${text.replace(/\|/g, '\\|')}\``;

function tables(moduleDir) {
  const variables = blocks(readFileSync(path.join(moduleDir, 'variables.tf'), 'utf8'), 'variable');
  const outputs = blocks(readFileSync(path.join(moduleDir, 'outputs.tf'), 'utf8'), 'output');
  const inputs = [
    '| Name | Description | Type | Default | Required |',
    '| ---- | ----------- | ---- | ------- | :------: |',
    ...variables.map(({ name, body }) => {
      const fallback = attribute(body, 'default');
      return `| ${code(name)} | ${cell(description(body))} | ${code(attribute(body, 'type') ?? 'any')} | ${
        fallback === undefined ? 'n/a' : code(fallback)
      } | ${fallback === undefined ? 'yes' : 'no'} |`;
    }),
  ];
  const outs = [
    '| Name | Description |',
    '| ---- | ----------- |',
    ...outputs.map(({ name, body }) => `| ${code(name)} | ${cell(description(body))} |`),
  ];
  return { inputs: inputs.join('\n'), outputs: outs.join('\n') };
}

/** The README with its Inputs and Outputs sections replaced (everything else kept). */
function render(readme, { inputs, outputs }) {
  const section = (text, title, table) => {
    const pattern = new RegExp(`(## ${title}\\n\\n)[\\s\\S]*?(\\n\\n## |$)`);
    if (!pattern.test(text)) throw new Error(`no "## ${title}" section`);
    return text.replace(pattern, (_, head, tail) => `${head}${table}${tail}`);
  };
  return format(section(section(readme, 'Inputs', inputs), 'Outputs', outputs));
}

/** The markdown as biome formats it (aligned table columns), so the check and `biome ci` agree. */
function format(markdown) {
  return execFileSync(path.join(root, 'node_modules', '.bin', 'biome'), ['format', '--stdin-file-path=README.md'], {
    cwd: root,
    input: markdown,
    encoding: 'utf8',
  });
}

const stale = [];
for (const name of readdirSync(modulesDir).sort()) {
  const file = path.join(modulesDir, name, 'README.md');
  const current = readFileSync(file, 'utf8');
  const next = render(current, tables(path.join(modulesDir, name)));
  if (next === current) continue;
  stale.push(path.relative(process.cwd(), file));
  if (!check) writeFileSync(file, next);
}
if (check && stale.length > 0) {
  console.error(
    `terraform-docs: stale Inputs/Outputs tables in ${stale.join(', ')}: run node scripts/terraform-docs.mjs`,
  );
  process.exit(1);
}
console.log(
  check ? 'terraform-docs: every module README is up to date' : `terraform-docs: rewrote ${stale.length} README(s)`,
);
