/**
 * Before the end-to-end tests: build the packages and the dashboard into the server's wwwroot, then build the
 * server (Release), so the server serves the current dashboard. E2E_SKIP_BUILD=1 skips both.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SERVER_DLL } from './server';

export const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): void {
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: 'inherit',
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', ...env },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

export default function setup(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Install Debian's package: apt-get install -y chromium (never a downloaded browser).`,
    );
  }
  if (process.env.E2E_SKIP_BUILD === '1') {
    if (!existsSync(SERVER_DLL)) throw new Error(`E2E_SKIP_BUILD=1 but ${SERVER_DLL} does not exist`);
    return;
  }
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  run('npm', ['run', 'build', '--silent'], join(REPO_ROOT, 'clients/web'), { NODE_ENV: 'production' });
  run('dotnet', ['build', 'src/SignalStream.Server', '-c', 'Release', '-nologo', '-v', 'quiet'], REPO_ROOT);
}
