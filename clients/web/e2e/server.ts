/**
 * Starts and stops the real SignalStream server for end-to-end tests: own port, own data folder,
 * known keys. Uses the assembly built by the global setup (`dotnet build -c Release`), started with
 * `dotnet <dll>` so that killing it kills the server itself (a `dotnet run` parent would leave its
 * child holding the port).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../../..');
export const SERVER_PROJECT = join(REPO_ROOT, 'src/SignalStream.Server');
export const SERVER_DLL =
  process.env.E2E_SERVER_DLL ?? join(SERVER_PROJECT, 'bin/Release/net10.0/SignalStream.Server.dll');
export const ARTIFACTS = join(here, 'artifacts');

export const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';
export const PUBLISHER_KEY = 'e2e-publisher-key-0123456789abcdef';
export const SIGNING_KEY = 'e2e-signing-key-0123456789abcdef0123456789abcdef';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface SignalInput {
  external_id: string;
  source?: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  entry_price?: number;
  stop_loss?: number;
  take_profit?: number;
  confidence?: number;
  timeframe?: string;
  premium?: boolean;
  min_tier?: string;
  notes?: string;
  generated_at?: string;
}

export interface IngestResult {
  id: string;
  seq: number;
  duplicate: boolean;
}

export class TestServer {
  readonly name: string;
  /** Created at the first start; kept across restarts. */
  dataDir = '';
  port = 0;
  private proc: ChildProcess | null = null;
  private log: WriteStream | null = null;
  private extraArgs: string[];

  constructor(name: string, extraArgs: string[] = []) {
    this.name = name;
    this.extraArgs = extraArgs;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts the server (on the same port and data folder as before, when restarting) and waits until it is ready. */
  async start(extraArgs?: string[]): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (!existsSync(SERVER_DLL))
      throw new Error(
        `Server not built: ${SERVER_DLL} is missing (run: dotnet build src/SignalStream.Server -c Release)`,
      );
    if (extraArgs) this.extraArgs = extraArgs;
    if (this.port === 0) this.port = await freePort();
    if (!this.dataDir) this.dataDir = mkdtempSync(join(tmpdir(), `signalstream-e2e-${this.name}-`));
    mkdirSync(ARTIFACTS, { recursive: true });
    this.log = createWriteStream(join(ARTIFACTS, `server-${this.name}.log`), { flags: 'a' });
    const args = [
      SERVER_DLL,
      `--urls=${this.origin}`,
      `--Storage:ConnectionString=Data Source=${join(this.dataDir, 'signals.db')}`,
      `--Data:Directory=${this.dataDir}`,
      `--Auth:AdminApiKey=${ADMIN_KEY}`,
      `--Auth:PublisherApiKey=${PUBLISHER_KEY}`,
      `--Auth:SigningKey=${SIGNING_KEY}`,
      `--WebSockets:AllowedOrigins:0=${this.origin}`,
      ...this.extraArgs,
    ];
    this.log.write(`\n=== start ${new Date().toISOString()} dotnet ${args.join(' ')}\n`);
    const proc = spawn('dotnet', args, {
      cwd: SERVER_PROJECT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DOTNET_CLI_TELEMETRY_OPTOUT: '1',
        DOTNET_NOLOGO: '1',
        ASPNETCORE_ENVIRONMENT: 'Production',
      },
    });
    this.proc = proc;
    proc.stdout?.pipe(this.log, { end: false });
    proc.stderr?.pipe(this.log, { end: false });
    const exited = new Promise<never>((_, rej) => {
      proc.once('exit', (code, sig) =>
        rej(
          new Error(
            `${this.name} exited during start (code ${code}, signal ${sig}); see e2e/artifacts/server-${this.name}.log`,
          ),
        ),
      );
    });
    await Promise.race([this.waitReady(30000), exited]);
  }

  /** Polls /readyz until it answers 200: the condition the tests wait for, not a fixed delay. */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = null;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.origin}/readyz`);
        if (res.ok) return;
        last = res.status;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms (last: ${String(last)})`);
  }

  /** Kills the server (SIGKILL by default: a crash) and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    const done = new Promise<void>((res) => proc.once('exit', () => res()));
    proc.kill(signal);
    await done;
    this.log?.write(`=== ${signal} ${new Date().toISOString()}\n`);
    this.proc = null;
  }

  async restart(extraArgs?: string[]): Promise<void> {
    await this.kill();
    await this.start(extraArgs);
  }

  /** Stops the server and removes its data folder (set E2E_KEEP_DATA=1 to keep it). */
  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    this.log?.end();
    if (this.dataDir && process.env.E2E_KEEP_DATA !== '1') rmSync(this.dataDir, { recursive: true, force: true });
  }

  async createUser(
    username: string,
    password: string,
    tier: string,
  ): Promise<{ user_id: string; username: string; tier: string }> {
    const res = await fetch(`${this.origin}/api/admin/users`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': ADMIN_KEY },
      body: JSON.stringify({ username, password, tier }),
    });
    if (res.status !== 201) throw new Error(`create user ${username}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { user_id: string; username: string; tier: string };
  }

  async updateUser(userId: string, change: { tier?: string; disabled?: boolean; password?: string }): Promise<void> {
    const res = await fetch(`${this.origin}/api/admin/users/${userId}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': ADMIN_KEY },
      body: JSON.stringify(change),
    });
    if (res.status !== 200) throw new Error(`update user ${userId}: ${res.status} ${await res.text()}`);
  }

  async publish(signal: SignalInput): Promise<IngestResult> {
    const res = await fetch(`${this.origin}/api/v1/external-signals/sync/signal`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': PUBLISHER_KEY },
      body: JSON.stringify({ source: 'e2e', generated_at: new Date().toISOString(), ...signal }),
    });
    if (res.status !== 201 && res.status !== 200)
      throw new Error(`publish ${signal.external_id}: ${res.status} ${await res.text()}`);
    return (await res.json()) as IngestResult;
  }
}
