/** Debian's Chromium through playwright-core, one fresh profile per test; records WebSocket traffic. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM } from './globalSetup';

export interface SocketLog {
  /** URLs of every WebSocket the page opened, in order. */
  urls: string[];
  /** seq of every `signal` frame received, over all connections, in order. */
  signalSeqs: number[];
  /** Every frame type received. */
  types: string[];
  /** Every frame the page sent (parsed JSON). */
  sent: Array<Record<string, unknown>>;
  /** Timestamped trace of frames both ways, for failure reports. */
  trace: string[];
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  sockets: SocketLog;
  consoleErrors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'signalstream-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 760 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const sockets: SocketLog = { urls: [], signalSeqs: [], types: [], sent: [], trace: [] };
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  page.on('websocket', (ws) => {
    sockets.urls.push(ws.url());
    ws.on('framesent', (frame) => {
      if (typeof frame.payload !== 'string') return;
      sockets.trace.push(`${new Date().toISOString()} > ${frame.payload.slice(0, 120)}`);
      try {
        sockets.sent.push(JSON.parse(frame.payload) as Record<string, unknown>);
      } catch {
        /* not JSON */
      }
    });
    ws.on('framereceived', (frame) => {
      if (typeof frame.payload !== 'string') return;
      sockets.trace.push(`${new Date().toISOString()} < ${frame.payload.slice(0, 120)}`);
      try {
        const msg = JSON.parse(frame.payload) as { type?: string; seq?: number; signal?: { seq?: number } };
        if (msg.type) sockets.types.push(msg.type);
        if (msg.type === 'signal') sockets.signalSeqs.push(msg.seq ?? msg.signal?.seq ?? -1);
      } catch {
        /* not JSON */
      }
    });
  });
  return {
    context,
    page,
    sockets,
    consoleErrors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function logIn(page: Page, origin: string, username: string, password: string): Promise<void> {
  if (!page.url().startsWith(origin)) await page.goto(`${origin}/`);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.locator('button[type=submit]').click();
}

/** The seqs of the table's rows, top to bottom. */
export async function rowSeqs(page: Page): Promise<number[]> {
  return page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
}

export function statusLocator(page: Page, status: string) {
  return page.locator(`[data-testid=status][data-status=${status}]`);
}
