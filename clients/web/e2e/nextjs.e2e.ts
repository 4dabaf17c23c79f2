/**
 * examples/nextjs as a user would run it: the packages packed into tarballs and installed from them (what
 * would be published), `next build`, `next start`, beside a real SignalStream server that trusts the app's
 * JWKS for token exchange and allows its origin. In Chromium: NextAuth sign-in, then live signals through
 * `useSignals` for the tier SignalStream keeps for that user. Then CORS seen from a browser: a page on a
 * second allowed origin calls the REST API; one on an origin not on the list is refused.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, statusLocator, type BrowserSession } from './browser';
import { ARTIFACTS, freePort, REPO_ROOT, TestServer } from './server';

const EXAMPLE = join(REPO_ROOT, 'examples/nextjs');
const NEXT_BIN = join(EXAMPLE, 'node_modules/next/dist/bin/next');

let counter = 0;
const uid = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): void {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

/** A bare page on its own origin, for fetches made from a browser there. */
async function staticOrigin(): Promise<{ origin: string; server: Server }> {
  const port = await freePort();
  const server = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>another app</title>');
  });
  await new Promise<void>((res) => server.listen(port, '127.0.0.1', res));
  return { origin: `http://127.0.0.1:${port}`, server };
}

/** Waits until `url` answers 200: the app is up. */
async function waitOk(url: string, app: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`next start exited with ${app.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not up after ${timeoutMs} ms`);
}

async function signIn(s: BrowserSession, appOrigin: string, username: string, password: string): Promise<void> {
  await s.page.goto(`${appOrigin}/api/auth/signin?callbackUrl=${encodeURIComponent(`${appOrigin}/`)}`);
  await s.page.locator('input[name=username]').fill(username);
  await s.page.locator('input[name=password]').fill(password);
  await s.page.locator('button[type=submit]').click();
  await s.page.locator('[data-testid=user]').waitFor();
}

describe('examples/nextjs: NextAuth sign-in, token exchange, useSignals', () => {
  let appOrigin = '';
  let app: ChildProcess | null = null;
  let allowed: { origin: string; server: Server };
  let refused: { origin: string; server: Server };
  let server: TestServer;

  beforeAll(async () => {
    allowed = await staticOrigin();
    refused = await staticOrigin();
    const appPort = await freePort();
    appOrigin = `http://127.0.0.1:${appPort}`;
    server = new TestServer('nextjs', [
      `--WebSockets:AllowedOrigins:1=${appOrigin}`,
      `--WebSockets:AllowedOrigins:2=${allowed.origin}`,
      `--Auth:External:Issuer=${appOrigin}`,
      `--Auth:External:JwksUrl=${appOrigin}/api/jwks`,
      '--Auth:External:Audience=signalstream',
      '--Auth:External:RequireHttpsMetadata=false', // the app speaks plain http on loopback
    ]);
    await server.start();
    await server.createUser('alice', 'alice-signalstream-1', 'STARTER');
    await server.createUser('bob', 'bob-signalstream-1', 'PROFESSIONAL');

    // Install what would be published: the tarballs, not workspace links (packages built by the global setup).
    const tarballs = join(EXAMPLE, '.tarballs');
    rmSync(tarballs, { recursive: true, force: true });
    mkdirSync(tarballs);
    run(
      'npm',
      ['pack', '-w', '@signalstream/client', '-w', '@signalstream/react', '--pack-destination', tarballs, '--silent'],
      join(REPO_ROOT, 'clients/web'),
    );
    rmSync(join(EXAMPLE, 'node_modules/@signalstream'), { recursive: true, force: true });
    run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], EXAMPLE);
    const env = { NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production', NEXT_PUBLIC_API_URL: server.origin };
    run(process.execPath, [NEXT_BIN, 'build'], EXAMPLE, env);

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    mkdirSync(ARTIFACTS, { recursive: true });
    const log = createWriteStream(join(ARTIFACTS, 'nextjs.log'));
    app = spawn(process.execPath, [NEXT_BIN, 'start', '-H', '127.0.0.1', '-p', String(appPort)], {
      cwd: EXAMPLE,
      detached: true, // its own process group, ended whole in afterAll
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...env,
        NEXTAUTH_URL: appOrigin,
        NEXTAUTH_SECRET: randomBytes(32).toString('base64'),
        EXCHANGE_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    app.stdout?.pipe(log);
    app.stderr?.pipe(log);
    await waitOk(`${appOrigin}/api/jwks`, app);
  }, 900_000);

  afterAll(async () => {
    if (app?.pid && app.exitCode === null) {
      const exited = new Promise((r) => app!.once('exit', r));
      process.kill(-app.pid, 'SIGTERM');
      await exited;
    }
    allowed?.server.close();
    refused?.server.close();
    await server?.stop();
  });

  it('a STARTER user sees a new STARTER signal appear without a reload, and never a premium one', async () => {
    const s = await openBrowser();
    try {
      await signIn(s, appOrigin, 'alice', 'alice-password');
      await statusLocator(s.page, 'connected').waitFor();
      expect(s.sockets.urls[0]).toContain(server.origin.replace('http', 'ws'));
      const navigations: string[] = [];
      s.page.on('framenavigated', (f) => navigations.push(f.url()));

      const premium = await server.publish({
        external_id: uid('p'),
        symbol: 'BTC-USD',
        side: 'BUY',
        premium: true,
      });
      const starter = await server.publish({ external_id: uid('s'), symbol: 'ETH-USD', side: 'SELL' });
      // Delivered in seq order: once the later STARTER signal is shown, the premium one would have come.
      await s.page.locator(`tr[data-seq="${starter.seq}"]`).waitFor();
      expect(navigations).toEqual([]);
      expect(await s.page.locator(`tr[data-seq="${premium.seq}"]`).count()).toBe(0);
      expect(s.sockets.signalSeqs).not.toContain(premium.seq);
      expect(await s.page.locator('tr[data-min-tier=PROFESSIONAL]').count()).toBe(0);
      await s.page.screenshot({ path: join(ARTIFACTS, 'nextjs-starter.png') });
    } finally {
      await s.close();
    }
  });

  it('a PROFESSIONAL user sees both', async () => {
    const s = await openBrowser();
    try {
      await signIn(s, appOrigin, 'bob', 'bob-password');
      await statusLocator(s.page, 'connected').waitFor();
      const premium = await server.publish({
        external_id: uid('p'),
        symbol: 'BTC-USD',
        side: 'BUY',
        premium: true,
      });
      const starter = await server.publish({ external_id: uid('s'), symbol: 'ETH-USD', side: 'SELL' });
      await s.page.locator(`tr[data-seq="${starter.seq}"]`).waitFor();
      expect(await s.page.locator(`tr[data-seq="${premium.seq}"]`).getAttribute('data-min-tier')).toBe('PROFESSIONAL');
    } finally {
      await s.close();
    }
  });

  it('a page on another allowed origin calls the REST API; an origin not on the list is refused', async () => {
    const s = await openBrowser();
    try {
      // What a page would do: log in (a JSON POST, so preflighted), then list with a bearer token.
      const callApi = (api: string) =>
        s.page.evaluate(async (apiUrl) => {
          try {
            const login = await fetch(`${apiUrl}/api/auth/token`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ username: 'bob', password: 'bob-signalstream-1' }),
            });
            const { access_token } = (await login.json()) as { access_token: string };
            const list = await fetch(`${apiUrl}/api/v1/signals?limit=5`, {
              headers: { Authorization: `Bearer ${access_token}` },
            });
            return {
              status: list.status,
              signals: ((await list.json()) as { signals: unknown[] }).signals.length,
            };
          } catch (e) {
            return { refused: String(e) };
          }
        }, api);

      await s.page.goto(`${allowed.origin}/`);
      const ok = await callApi(server.origin);
      expect(ok).toEqual({ status: 200, signals: expect.any(Number) as number });

      await s.page.goto(`${refused.origin}/`);
      expect(await callApi(server.origin)).toEqual({
        refused: expect.stringContaining('Failed to fetch') as string,
      });
    } finally {
      await s.close();
    }
  });
});
