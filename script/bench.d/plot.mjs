// Draws decision cost against catalog size as a self-contained SVG line chart, log-log.
//
//   node script/bench.d/plot.mjs [SCALE_JSON] [OUT_SVG]
//        (default target/bench/scale.json -> target/bench/decision-cost.svg)
//
// SCALE_JSON is an array of {"offers": N, "us_per_decision": X, ...}: every other numeric key
// is one more series (e.g. "json_logic_engine_us"), in µs per decision. Both axes are
// logarithmic, since catalogs span 10 to 10,000 offers and costs several decades; the x axis
// always covers 10..10,000 so charts from different runs line up. No dependencies.
import { readFileSync, writeFileSync } from 'node:fs';

const [input = 'target/bench/scale.json', output = 'target/bench/decision-cost.svg'] = process.argv.slice(2);
const rows = JSON.parse(readFileSync(input, 'utf8'));
if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${input}: expected a non-empty array`);
for (const r of rows) {
  if (!(r.offers > 0)) throw new Error(`${input}: every row needs "offers" > 0, got ${JSON.stringify(r)}`);
}
rows.sort((a, b) => a.offers - b.offers);

// Series: us_per_decision first (it is Rapport), then the other numeric keys in file order.
const keys = ['us_per_decision', ...new Set(rows.flatMap((r) => Object.keys(r)))].filter(
  (k, i, all) => k !== 'offers' && all.indexOf(k) === i && rows.some((r) => typeof r[k] === 'number'),
);
const NAMES = {
  us_per_decision: 'Rapport',
  native_us: 'Rapport, native',
  wasm_node_us: 'Rapport, Wasm in Node',
  wasm_node_json_us: 'Rapport, Wasm, profile as JSON',
  json_logic_engine_us: 'json-logic-engine',
  json_logic_js_us: 'json-logic-js',
};
const label = (k) => NAMES[k] ?? k.replace(/_us$/, '').replaceAll('_', ' ');
// Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
const COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

// Geometry: the plot area, with room on the right for the legend.
const W = 800, H = 480;
const M = { top: 66, right: 210, bottom: 64, left: 80 };
const PW = W - M.left - M.right, PH = H - M.top - M.bottom;

// Axis ranges in whole decades.
const values = rows.flatMap((r) => keys.map((k) => r[k])).filter((v) => typeof v === 'number' && v > 0);
if (!values.length) throw new Error(`${input}: no positive values to plot`);
const xLo = Math.min(1, Math.floor(Math.log10(rows[0].offers)));
const xHi = Math.max(4, Math.ceil(Math.log10(rows.at(-1).offers)));
let yLo = Math.floor(Math.log10(Math.min(...values)));
let yHi = Math.ceil(Math.log10(Math.max(...values)));
if (yHi === yLo) yHi += 1; // all values in one decade: still show one full decade

const x = (offers) => M.left + ((Math.log10(offers) - xLo) / (xHi - xLo)) * PW;
const y = (us) => M.top + PH - ((Math.log10(us) - yLo) / (yHi - yLo)) * PH;
const fmt = (v) => (v >= 1 ? v.toLocaleString('en-US') : String(Number(v.toPrecision(3))));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const r2 = (v) => Math.round(v * 100) / 100;

const svg = [];
svg.push(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13" fill="#1d2433">`,
  `<rect width="${W}" height="${H}" fill="#fff"/>`,
  `<text x="${M.left}" y="28" font-size="18" font-weight="600">Decision cost against catalog size</text>`,
  `<text x="${M.left}" y="46" font-size="12" fill="#555">µs per decision, both axes logarithmic; from ${esc(input)}</text>`,
);

// Grid and ticks: a labelled line at every decade, faint lines at 2..9 times it.
for (let d = xLo; d <= xHi; d++) {
  for (let m = 1; m < 10 && (m === 1 || d < xHi); m++) {
    const px = r2(x(m * 10 ** d));
    svg.push(`<line x1="${px}" x2="${px}" y1="${M.top}" y2="${M.top + PH}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
  }
  svg.push(`<text x="${r2(x(10 ** d))}" y="${M.top + PH + 18}" text-anchor="middle">${fmt(10 ** d)}</text>`);
}
// Over two decades or less, 2× and 5× are labelled too, so a narrow range still reads.
const yLabels = yHi - yLo <= 2 ? [1, 2, 5] : [1];
for (let d = yLo; d <= yHi; d++) {
  for (let m = 1; m < 10 && (m === 1 || d < yHi); m++) {
    const py = r2(y(m * 10 ** d));
    svg.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${py}" y2="${py}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
    if (yLabels.includes(m)) {
      svg.push(`<text x="${M.left - 8}" y="${py + 4}" text-anchor="end"${m === 1 ? '' : ' fill="#666"'}>${fmt(m * 10 ** d)}</text>`);
    }
  }
}
svg.push(
  `<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#888"/>`,
  `<text x="${M.left + PW / 2}" y="${H - 18}" text-anchor="middle" font-size="14">offers in the catalog</text>`,
  `<text transform="translate(22 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle" font-size="14">µs per decision</text>`,
);

// One line per series; a missing or non-positive value breaks the line (log scale).
keys.forEach((k, i) => {
  const colour = COLOURS[i % COLOURS.length];
  // Colour and dash both differ, so the lines stay apart in greyscale too.
  const dash = DASHES[i % DASHES.length];
  let run = [];
  const runs = [run];
  for (const r of rows) {
    if (typeof r[k] === 'number' && r[k] > 0) run.push(r);
    else if (run.length) runs.push((run = []));
  }
  for (const part of runs.filter((p) => p.length > 1)) {
    const points = part.map((r) => `${r2(x(r.offers))},${r2(y(r[k]))}`).join(' ');
    svg.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
  }
  for (const r of runs.flat()) {
    svg.push(
      `<circle cx="${r2(x(r.offers))}" cy="${r2(y(r[k]))}" r="3.5" fill="${colour}"><title>${esc(label(k))}: ${fmt(r.offers)} offers, ${r[k]} µs</title></circle>`,
    );
  }
  // Legend entry.
  const ly = M.top + 12 + i * 22;
  const lx = M.left + PW + 20;
  svg.push(
    `<line x1="${lx}" x2="${lx + 28}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
    `<circle cx="${lx + 14}" cy="${ly}" r="3.5" fill="${colour}"/>`,
    `<text x="${lx + 36}" y="${ly + 4}">${esc(label(k))}</text>`,
  );
});

svg.push('</svg>');
writeFileSync(output, svg.join('\n') + '\n');
console.log(`plot: ${keys.length} series, ${rows.length} catalog sizes -> ${output}`);
