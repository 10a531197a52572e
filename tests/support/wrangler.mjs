// Starts the real worker in workerd (`wrangler dev`, local KV in a fresh directory) for a test
// file, and stops it, with every process it spawned, when the file is done.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The local admin token script/setup wrote to .dev.vars. */
export function adminToken() {
  const line = readFileSync(join(ROOT, '.dev.vars'), 'utf8').split('\n').find((l) => l.startsWith('ADMIN_TOKEN='));
  if (!line) throw new Error('.dev.vars has no ADMIN_TOKEN: run script/setup');
  return line.slice('ADMIN_TOKEN='.length).trim();
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Starts `wrangler dev` on a free loopback port; resolves once it answers. */
export async function startWorker() {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'rapport-kv-'));
  const child = spawn(
    join(ROOT, 'node_modules/.bin/wrangler'),
    ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state, '--log-level', 'warn',
      '--show-interactive-dev-session=false'],
    {
      cwd: ROOT,
      detached: true, // its own process group, so workerd and esbuild stop with it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        RAPPORT_PREBUILT: '1',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_SEND_ERROR_REPORTS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      },
    },
  );
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    rmSync(state, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const r = await fetch(`${base}/v1/bundle`);
      if (r.ok) return { base, stop, log: () => log };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  stop();
  throw new Error(`wrangler dev did not start on ${base}:\n${log}`);
}

/** Debian's Chromium, headless, with the flags this closed network needs (TOOLCHAIN.md). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Publishes the example store catalog to a worker started by `startWorker`. */
export async function publishExample(worker) {
  const r = await fetch(`${worker.base}/v1/admin/catalog`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken()}` },
    body: readFileSync(join(ROOT, 'examples/northwind.catalog.json'), 'utf8'),
  });
  if (r.status !== 200) throw new Error(`publishing the example catalog: ${r.status} ${await r.text()}`);
}
