// The edge under load: the worker in workerd (`wrangler dev`, pre-built, --log-level warn, as
// tests/support/wrangler.mjs starts it) with the example catalog published, driven by `wrk`.
//
//   node script/bench.d/edge.mjs [SECONDS]      (default: env EDGE_SECONDS, else 60)
//
// One visitor: its cookie comes from one GET /v1/decide, and every wrk request carries it, so
// each request also reads and writes that visitor's profile as a returning visitor's would.
// Targets, one after another in the same run:
//   static    /style.css, which the worker sees first and passes through untouched: the baseline,
//             what workerd and loopback cost before Rapport does anything;
//   decide    /v1/decide for two placements of /coats/;
//   page      /coats/, the personalized page (streamed fill, impressions recorded, state embedded).
// Writes target/bench/edge.json and prints each target against the baseline. Any non-2xx/3xx
// answer or socket error is reported and makes the exit status 1.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { promisify } from 'node:util';
import { publishExample, startWorker } from '../../tests/support/wrangler.mjs';

const seconds = Number(process.argv[2] ?? process.env.EDGE_SECONDS ?? 60);
if (!(Number.isInteger(seconds) && seconds > 0)) throw new Error(`edge: seconds must be a whole number above 0, got ${process.argv[2] ?? process.env.EDGE_SECONDS}`);
const TARGETS = [
  { name: 'static', path: '/style.css', what: 'static asset, passed through (baseline)' },
  { name: 'decide', path: '/v1/decide?placement=hero&placement=notice&path=/coats/', what: 'GET /v1/decide, 2 placements' },
  { name: 'page', path: '/coats/', what: 'GET /coats/, personalized page' },
];

/** wrk prints latencies as 812.00us, 61.20ms or 1.02s: in ms. */
function ms(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) throw new Error(`wrk: cannot read the latency ${text}`);
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
}

/** The figures of one `wrk --latency` run, from its text output. */
function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0; // wrk omits the error lines when there are none
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    if (!m) throw new Error(`wrk: no ${p}% latency in:\n${out}`);
    return ms(m[1]);
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests_per_s: num(/^Requests\/sec:\s+([\d.]+)/m),
    requests: num(/^\s+(\d+) requests in/m),
    p50_ms: pct(50),
    p90_ms: pct(90),
    p99_ms: pct(99),
    non_2xx_3xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socket_errors: socket
      ? { connect: +socket[1], read: +socket[2], write: +socket[3], timeout: +socket[4] }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
  };
}

const worker = await startWorker();
let wrk = null; // the wrk run under way
// Stop wrangler (its whole process group) and wrk whatever happens, Ctrl-C included.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    wrk?.kill();
    worker.stop();
    process.exit(130);
  });
}
try {
  await publishExample(worker);
  const first = await fetch(`${worker.base}/v1/decide?placement=hero`);
  const vid = (first.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('rapport_vid='));
  if (first.status !== 200 || !vid) throw new Error(`GET /v1/decide gave no visitor cookie (status ${first.status})`);

  const results = [];
  for (const target of TARGETS) {
    console.log(`wrk ${seconds}s ${target.path}`);
    // Asynchronous, so this process keeps draining wrangler's output pipes while wrk runs.
    const run = promisify(execFile)(
      'wrk',
      ['-t2', '-c32', `-d${seconds}s`, '--latency', '-H', `Cookie: ${vid}`, `${worker.base}${target.path}`],
      { maxBuffer: 1 << 20 },
    );
    wrk = run.child;
    const { stdout } = await run;
    wrk = null;
    results.push({ ...target, ...parseWrk(stdout) });
  }

  const base = results[0].requests_per_s;
  for (const r of results) r.vs_static = Math.round((r.requests_per_s / base) * 1000) / 1000;
  const errors = results.reduce(
    (n, r) => n + r.non_2xx_3xx + Object.values(r.socket_errors).reduce((a, b) => a + b, 0),
    0,
  );
  const report = {
    wrk: `-t2 -c32 -d${seconds}s --latency, one visitor cookie`,
    worker: 'wrangler dev --log-level warn (workerd, local KV and Durable Objects), loopback',
    seconds,
    // The machine is shared: how busy it was when this ran.
    load_average_1m: loadavg()[0],
    node: process.version,
    errors,
    targets: results,
  };
  mkdirSync('target/bench', { recursive: true });
  writeFileSync('target/bench/edge.json', JSON.stringify(report, null, 1) + '\n');

  console.log(`\n${'target'.padEnd(66)} ${'req/s'.padStart(8)} ${'p50'.padStart(8)} ${'p90'.padStart(8)} ${'p99'.padStart(8)}  vs static  errors`);
  for (const r of results) {
    const errs = r.non_2xx_3xx + Object.values(r.socket_errors).reduce((a, b) => a + b, 0);
    console.log(
      `${`${r.name.padEnd(7)} ${r.path}`.padEnd(66)} ${r.requests_per_s.toFixed(0).padStart(8)} ` +
        `${r.p50_ms.toFixed(1).padStart(6)}ms ${r.p90_ms.toFixed(1).padStart(6)}ms ${r.p99_ms.toFixed(1).padStart(6)}ms` +
        `  ${r.vs_static.toFixed(3).padStart(8)}×  ${errs}`,
    );
  }
  if (errors > 0) {
    console.error(`\nedge: ${errors} non-2xx/3xx answers or socket errors (see target/bench/edge.json); expected none`);
    process.exitCode = 1;
  }
} finally {
  worker.stop();
}
