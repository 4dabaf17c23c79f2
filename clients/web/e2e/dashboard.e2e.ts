/**
 * The dashboard in headless Chromium against the real server: log in, live signals, a server
 * killed and restarted, tier visibility, the polling fallback, an expired session.
 * Every wait is for an event (a selector, a response, a process exit), never a fixed sleep.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, openBrowser, rowSeqs, statusLocator, type BrowserSession } from './browser';
import { ARTIFACTS, REPO_ROOT, TestServer } from './server';

mkdirSync(ARTIFACTS, { recursive: true });
const shot = (s: BrowserSession, name: string) =>
  s.page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

let counter = 0;
const uid = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

/** Each seq once, and exactly the expected ones. */
function expectExactly(actual: number[], expected: number[]) {
  expect(new Set(actual).size).toBe(actual.length);
  expect([...actual].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
}

describe('dashboard on a running server', () => {
  const server = new TestServer('main');
  beforeAll(async () => {
    await server.start();
    await server.createUser('e2e-pro', 'pro-password-1', 'PROFESSIONAL');
    await server.createUser('e2e-starter', 'starter-password-1', 'STARTER');
  });
  afterAll(() => server.stop());

  it('is served at / and refuses a wrong password with a clear message', async () => {
    const s = await openBrowser();
    try {
      const res = await s.page.goto(`${server.origin}/`);
      expect(res?.status()).toBe(200);
      await logIn(s.page, server.origin, 'e2e-pro', 'not-the-password');
      await expect
        .poll(() => s.page.locator('[data-testid=login-error]').textContent())
        .toBe('Wrong username or password.');
      await shot(s, 'login-wrong-password');
      expect(s.consoleErrors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('logs in and shows a published signal without a reload, with tier badge, premium marker and latency', async () => {
    const s = await openBrowser();
    try {
      const early = await server.publish({
        external_id: uid('early'),
        symbol: 'SOL-USD',
        side: 'SELL',
        entry_price: 142.1,
        confidence: 0.64,
        timeframe: '4h',
      });
      await logIn(s.page, server.origin, 'e2e-pro', 'pro-password-1');
      await statusLocator(s.page, 'connected').waitFor();
      await s.page.locator(`tr[data-seq="${early.seq}"]`).waitFor(); // from the REST snapshot
      expect(await s.page.locator('[data-testid=user-tier]').textContent()).toBe('PROFESSIONAL');
      expect(s.sockets.urls[0]).toMatch(/\/ws\/signals\?.*ticket=/);
      expect(s.sockets.urls[0]).not.toMatch(/token=/);

      const navigations: string[] = [];
      s.page.on('framenavigated', (f) => navigations.push(f.url()));
      const live = await server.publish({
        external_id: uid('live'),
        symbol: 'BTC-USD',
        side: 'BUY',
        entry_price: 65000.5,
        stop_loss: 64000,
        take_profit: 68000,
        confidence: 0.82,
        timeframe: '1h',
        premium: true,
        min_tier: 'PROFESSIONAL',
        notes: 'e2e',
      });
      const row = s.page.locator(`tr[data-seq="${live.seq}"]`);
      await row.waitFor();
      expect(navigations).toEqual([]); // no reload
      expect(await row.getAttribute('data-premium')).toBe('true');
      expect(await row.locator('.star').count()).toBe(1);
      expect(await row.locator('.badge').textContent()).toBe('PROFESSIONAL');
      expect(await row.locator('[data-testid=row-latency]').textContent()).toMatch(/^\d+ ms$|^\d+\.\d s$/);
      await s.page.locator('[data-testid=latency-delivery]').waitFor();
      expect(await s.page.locator('[data-testid=latency-e2e]').textContent()).toMatch(/ms|s/);

      // More signals for a representative screenshot, and the symbol filter.
      const more = [];
      for (const [sym, side, price, premium] of [
        ['ETH-USD', 'BUY', 3120.4, false],
        ['AAPL', 'SELL', 227.3, false],
        ['EUR-USD', 'BUY', 1.0842, true],
        ['BTC-USD', 'SELL', 65410, false],
      ] as const) {
        more.push(
          await server.publish({
            external_id: uid('m'),
            symbol: sym,
            side,
            entry_price: price,
            confidence: 0.55 + more.length * 0.1,
            timeframe: '15m',
            premium,
          }),
        );
      }
      await s.page.locator(`tr[data-seq="${more[more.length - 1]!.seq}"]`).waitFor();
      expect(await rowSeqs(s.page)).toEqual(
        [...more]
          .reverse()
          .map((m) => m.seq)
          .concat([live.seq, early.seq]),
      );
      await shot(s, 'dashboard-professional');
      // The README's screenshot: written when missing, or refreshed with E2E_UPDATE_SCREENSHOT=1
      // (not on every run, so a test run does not leave a tracked file modified).
      const readmeShot = join(REPO_ROOT, 'docs/dashboard.png');
      if (!existsSync(readmeShot) || process.env.E2E_UPDATE_SCREENSHOT === '1') {
        mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true });
        copyFileSync(join(ARTIFACTS, 'dashboard-professional.png'), readmeShot);
      }

      const ws = s.sockets.urls.length;
      await s.page.locator('input[name=symbols]').fill('eth-usd');
      await s.page.locator('form[aria-label="Symbol filter"] button[type=submit]').click();
      await expect.poll(() => s.page.locator('[data-testid=filter-state]').textContent()).toBe('Showing ETH-USD');
      await expect.poll(() => s.sockets.sent).toContainEqual({ type: 'subscribe', symbols: ['ETH-USD'] });
      // The server has no acknowledgement for subscribe: publish BTC then ETH until the ETH one
      // arrives without the BTC one before it (the filter is in force), then check it stays so.
      let applied = false;
      for (let i = 0; i < 20 && !applied; i++) {
        const btc = await server.publish({
          external_id: uid('btc'),
          symbol: 'BTC-USD',
          side: 'BUY',
          entry_price: 65500,
        });
        const eth = await server.publish({
          external_id: uid('eth'),
          symbol: 'ETH-USD',
          side: 'SELL',
          entry_price: 3100,
        });
        await s.page.locator(`tr[data-seq="${eth.seq}"]`).waitFor();
        applied = !s.sockets.signalSeqs.includes(btc.seq);
      }
      expect(applied).toBe(true);
      const btc = await server.publish({ external_id: uid('btc'), symbol: 'BTC-USD', side: 'BUY', entry_price: 65600 });
      const after = await server.publish({
        external_id: uid('eth2'),
        symbol: 'ETH-USD',
        side: 'BUY',
        entry_price: 3101,
      });
      await s.page.locator(`tr[data-seq="${after.seq}"]`).waitFor();
      expect(s.sockets.signalSeqs).not.toContain(btc.seq);
      expect(s.sockets.urls.length).toBe(ws); // subscribe on the open socket, no reconnect
      // Only ETH rows are shown, BTC signals that came before the filter included.
      expect(
        new Set(
          await s.page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol'))),
        ),
      ).toEqual(new Set(['ETH-USD']));
      await shot(s, 'dashboard-symbol-filter');
      expect(s.consoleErrors).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('never shows premium signals to a STARTER user, live or after a reload', async () => {
    const s = await openBrowser();
    try {
      await logIn(s.page, server.origin, 'e2e-starter', 'starter-password-1');
      await statusLocator(s.page, 'connected').waitFor();
      expect(await s.page.locator('[data-testid=tier-note]').textContent()).toContain('PROFESSIONAL');
      const premium = await server.publish({
        external_id: uid('p'),
        symbol: 'BTC-USD',
        side: 'BUY',
        entry_price: 65000,
        premium: true,
      });
      const institutional = await server.publish({
        external_id: uid('i'),
        symbol: 'BTC-USD',
        side: 'BUY',
        entry_price: 65000,
        min_tier: 'INSTITUTIONAL',
      });
      const standard = await server.publish({
        external_id: uid('s'),
        symbol: 'ETH-USD',
        side: 'SELL',
        entry_price: 3000,
      });
      // Signals arrive in seq order: once the later standard one is shown, the premium ones would have come.
      await s.page.locator(`tr[data-seq="${standard.seq}"]`).waitFor();
      expect(s.sockets.signalSeqs).toContain(standard.seq);
      expect(s.sockets.signalSeqs).not.toContain(premium.seq);
      expect(s.sockets.signalSeqs).not.toContain(institutional.seq);
      expect(await s.page.locator('tr[data-premium=true]').count()).toBe(0);
      await shot(s, 'dashboard-starter');

      await s.page.reload();
      await statusLocator(s.page, 'connected').waitFor();
      await s.page.locator(`tr[data-seq="${standard.seq}"]`).waitFor();
      expect(await s.page.locator('tr[data-premium=true]').count()).toBe(0);
      expect(await rowSeqs(s.page)).not.toContain(premium.seq);
    } finally {
      await s.close();
    }
  });
});

describe('server killed and restarted', () => {
  const server = new TestServer('restart');
  beforeAll(async () => {
    await server.start();
    await server.createUser('e2e-trader', 'trader-password-1', 'INSTITUTIONAL');
  });
  afterAll(() => server.stop());

  it('goes reconnecting, then connected, and catches up with no signal lost or doubled', async () => {
    const s = await openBrowser();
    try {
      await logIn(s.page, server.origin, 'e2e-trader', 'trader-password-1');
      await statusLocator(s.page, 'connected').waitFor();
      const before = [
        await server.publish({ external_id: uid('a'), symbol: 'BTC-USD', side: 'BUY', entry_price: 1 }),
        await server.publish({ external_id: uid('b'), symbol: 'ETH-USD', side: 'SELL', entry_price: 2 }),
      ];
      await s.page.locator(`tr[data-seq="${before[1]!.seq}"]`).waitFor();

      await server.kill('SIGKILL');
      await statusLocator(s.page, 'reconnecting').waitFor();
      await expect.poll(() => s.page.locator('[data-testid=status]').textContent()).toMatch(/Reconnecting in \d+ s/);
      // The next attempt finds nothing listening: the page says so.
      await s.page.locator('[data-testid=error-banner]').waitFor();
      expect(await s.page.locator('[data-testid=error-banner]').textContent()).toContain('Cannot reach the server');
      await shot(s, 'dashboard-reconnecting');

      await server.start();
      // Published while the page is still waiting for its next attempt: must come by replay.
      const during = [
        await server.publish({ external_id: uid('c'), symbol: 'SOL-USD', side: 'BUY', entry_price: 3 }),
        await server.publish({ external_id: uid('d'), symbol: 'BTC-USD', side: 'SELL', entry_price: 4, premium: true }),
      ];
      await statusLocator(s.page, 'connected').waitFor({ timeout: 90_000 });
      await s.page.locator(`tr[data-seq="${during[1]!.seq}"]`).waitFor();
      const afterRestart = await server.publish({
        external_id: uid('e'),
        symbol: 'ETH-USD',
        side: 'BUY',
        entry_price: 5,
      });
      await s.page.locator(`tr[data-seq="${afterRestart.seq}"]`).waitFor();

      const all = [...before, ...during, afterRestart].map((r) => r.seq);
      expectExactly(await rowSeqs(s.page), all);
      expectExactly(s.sockets.signalSeqs, all); // over both connections, each seq once
      const resumeUrl = s.sockets.urls[s.sockets.urls.length - 1]!;
      expect(new URL(resumeUrl).searchParams.get('after_seq')).toBe(String(before[1]!.seq));
      expect(await s.page.locator('[data-testid=error-banner]').count()).toBe(0);
      await shot(s, 'dashboard-after-restart');

      // A reloaded tab catches up from the seq it stored.
      await s.page.reload();
      await statusLocator(s.page, 'connected').waitFor();
      const lastUrl = new URL(s.sockets.urls[s.sockets.urls.length - 1]!);
      expect(lastUrl.searchParams.get('after_seq')).toBe(String(afterRestart.seq));
      expectExactly(await rowSeqs(s.page), all);

      // Log out, then the server goes away: the login page says it cannot be reached.
      await s.page.getByRole('button', { name: 'Log out' }).click();
      await s.page.locator('input[name=username]').waitFor();
      await server.kill('SIGKILL');
      await logIn(s.page, server.origin, 'e2e-trader', 'trader-password-1');
      await s.page.locator('[data-testid=login-error]').waitFor();
      expect(await s.page.locator('[data-testid=login-error]').textContent()).toContain('Cannot reach the server');
      await shot(s, 'login-unreachable');
    } finally {
      await s.close();
    }
  });
});

describe('polling fallback', () => {
  const server = new TestServer('polling', ['--WebSockets:Enabled=false']);
  beforeAll(async () => {
    await server.start();
    await server.createUser('e2e-poller', 'poller-password-1', 'PROFESSIONAL');
  });
  afterAll(() => server.stop());

  it('polls while the socket is refused and switches back to it, losing and repeating nothing', async () => {
    const s = await openBrowser();
    try {
      const refused = s.page.waitForResponse(
        (r) => r.url().includes('/api/v1/signals?') && r.url().includes('after_seq='),
      );
      const first = await server.publish({ external_id: uid('p1'), symbol: 'BTC-USD', side: 'BUY', entry_price: 1 });
      await logIn(s.page, server.origin, 'e2e-poller', 'poller-password-1');
      await statusLocator(s.page, 'polling').waitFor();
      await refused;
      await s.page.locator(`tr[data-seq="${first.seq}"]`).waitFor();
      expect(await s.page.locator('[data-testid=status]').textContent()).toMatch(/Polling every 30 s/);

      // The next poll (every 30 s) brings a new signal.
      const polled = await server.publish({
        external_id: uid('p2'),
        symbol: 'ETH-USD',
        side: 'SELL',
        entry_price: 2,
        premium: true,
      });
      await s.page.locator(`tr[data-seq="${polled.seq}"]`).waitFor({ timeout: 45_000 });
      await shot(s, 'dashboard-polling');

      // Sockets allowed again: the page goes back to the socket, resuming after what it polled.
      await server.restart([]);
      await statusLocator(s.page, 'connected').waitFor({ timeout: 90_000 });
      const live = await server.publish({ external_id: uid('p3'), symbol: 'SOL-USD', side: 'BUY', entry_price: 3 });
      await s.page.locator(`tr[data-seq="${live.seq}"]`).waitFor();
      const lastUrl = new URL(s.sockets.urls[s.sockets.urls.length - 1]!);
      expect(lastUrl.searchParams.get('after_seq')).toBe(String(polled.seq));
      expectExactly(await rowSeqs(s.page), [first.seq, polled.seq, live.seq]);
      expect(s.sockets.signalSeqs).toEqual([live.seq]);

      // While connected, no polling.
      let polls = 0;
      s.page.on('request', (r) => {
        if (r.url().includes('/api/v1/signals')) polls++;
      });
      const another = await server.publish({ external_id: uid('p4'), symbol: 'SOL-USD', side: 'SELL', entry_price: 4 });
      await s.page.locator(`tr[data-seq="${another.seq}"]`).waitFor();
      expect(polls).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe('session lifetime', () => {
  const server = new TestServer('expiry', ['--Auth:TokenLifetime=00:00:20']);
  let userId = '';
  beforeAll(async () => {
    await server.start();
    userId = (await server.createUser('e2e-brief', 'brief-password-1', 'STARTER')).user_id;
  });
  afterAll(() => server.stop());

  it('extends itself on token_expiring, and goes back to login with a message when access is revoked', async () => {
    const s = await openBrowser();
    try {
      const loggedInAt = Date.now();
      await logIn(s.page, server.origin, 'e2e-brief', 'brief-password-1');
      await statusLocator(s.page, 'connected').waitFor();
      // token_expiring comes 10 s before the 20 s token runs out; the page answers with a renewed token.
      await expect.poll(() => s.sockets.sent.some((m) => m.type === 'refresh'), { timeout: 30_000 }).toBe(true);
      expect(s.sockets.types).toContain('token_expiring');
      // The first token's lifetime is what is under test here: wait for it to pass, then the
      // stream must still be live without a new login.
      await expect.poll(() => Date.now() - loggedInAt > 22_000, { timeout: 30_000, interval: 500 }).toBe(true);
      const late = await server.publish({ external_id: uid('late'), symbol: 'BTC-USD', side: 'BUY', entry_price: 1 });
      await s.page.locator(`tr[data-seq="${late.seq}"]`).waitFor();
      await statusLocator(s.page, 'connected').waitFor();

      // Revoked: the socket closes 4503 and the page says why.
      await server.updateUser(userId, { disabled: true });
      await s.page.locator('[data-testid=login-notice]').waitFor({ timeout: 10_000 });
      expect(await s.page.locator('[data-testid=login-notice]').textContent()).toContain('disabled');
      await shot(s, 'login-access-revoked');
    } finally {
      await s.close();
    }
  });
});
