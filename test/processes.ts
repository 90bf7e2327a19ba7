import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The CLI as a user runs it, from source, in its own process.
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];
const execFileAsync = promisify(execFile);

/** The environment of a test process: this one's, minus any real Clerk or database settings. */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CLERK_') && key !== 'DATABASE_URL'));
  return { ...clean, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', ...extra };
}

/** Runs `helpdesk <args>` to completion. Rejects (with code, stdout, stderr) on a non-zero exit. */
export function runCli(args: string[], env: NodeJS.ProcessEnv) {
  return execFileAsync(process.execPath, [...CLI, ...args], { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 });
}

/** Starts `helpdesk <args>` without waiting for it, e.g. to kill it midway; stderr is piped. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `helpdesk serve` on a free port and resolves once it listens. */
export function startServer(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...CLI, 'serve'], { cwd: ROOT, env });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          child,
          output: () => output,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

/** Mints a development token with `helpdesk token`. */
export async function devToken(env: NodeJS.ProcessEnv, user: { id: string; email: string; org?: string; staff?: boolean }): Promise<string> {
  const args = ['token', '--user', user.id, '--email', user.email, ...(user.org ? ['--org', user.org] : []), ...(user.staff ? ['--staff'] : [])];
  return (await runCli(args, env)).stdout.trim();
}
