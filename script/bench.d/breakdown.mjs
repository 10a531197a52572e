// Where the browser SDK's Wasm goes, by module and by function: `twiggy top` of a build with
// names, summed here.
//
//   node script/bench.d/breakdown.mjs NAMED_WASM [TOP]      (script/bench breakdown makes it)
//
// NAMED_WASM is the SDK's Wasm as script/build makes it, but with the function names kept. Its
// code and data are the shipped module's within 0.5%. Shares are of the raw size (code and
// data, not the name and debug sections). Writes target/bench/breakdown.json and prints a
// table.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const [wasm, top = '25'] = process.argv.slice(2);
if (!wasm) {
  console.error('usage: node script/bench.d/breakdown.mjs NAMED_WASM [TOP]');
  process.exit(2);
}
const csv = execFileSync('twiggy', ['top', '-n', '1000000', '--format', 'csv', wasm], {
  encoding: 'utf8',
  maxBuffer: 256 << 20,
});

/** The fields of one CSV line (twiggy quotes names that hold commas or quotes). */
function fields(line) {
  const out = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

const items = [];
for (const line of csv.split('\n').slice(1)) {
  if (!line) continue;
  const [name, size] = fields(line);
  // Names and debug information are not shipped: only code and data count.
  if (name.startsWith('custom section') || name.includes('subsection')) continue;
  items.push({ name, bytes: Number(size) });
}

/** The module an item belongs to: `rapport::<module>`, another crate, data, or glue. */
function moduleOf(name) {
  const bare = name.replace(/^[<"]+/, '').replace(/\[[0-9a-f]+\]/g, '');
  if (bare.startsWith('data segment')) return 'data';
  const path = bare.match(/^([a-z_][a-z0-9_]*)::([a-z_][a-z0-9_]*)?/);
  if (!path) return 'other (exports, tables, trait impls named by their type)';
  if (path[1] === 'rapport' && path[2]) return `rapport::${path[2]}`;
  return path[1];
}

const total = items.reduce((sum, i) => sum + i.bytes, 0);
const byModule = new Map();
for (const item of items) {
  const module = moduleOf(item.name);
  byModule.set(module, (byModule.get(module) ?? 0) + item.bytes);
}
const share = (bytes) => Math.round((bytes / total) * 1000) / 10;
const modules = [...byModule]
  .sort((a, b) => b[1] - a[1])
  .map(([module, bytes]) => ({ module, bytes, percent: share(bytes) }));
const functions = items
  .filter((i) => !i.name.startsWith('data segment'))
  .sort((a, b) => b.bytes - a.bytes)
  .slice(0, Number(top))
  .map((i) => ({ name: i.name.replace(/::h[0-9a-f]{16}$/, ''), bytes: i.bytes }));

mkdirSync('target/bench', { recursive: true });
writeFileSync(
  'target/bench/breakdown.json',
  JSON.stringify({ wasm, raw_bytes: total, modules, functions }, null, 1) + '\n',
);
console.log(`${total} bytes of code and data`);
for (const m of modules) console.log(`${String(m.bytes).padStart(7)}  ${m.percent.toFixed(1).padStart(5)}%  ${m.module}`);
console.log(`\nthe ${top} largest functions:`);
for (const f of functions) console.log(`${String(f.bytes).padStart(7)}  ${f.name}`);
