import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A PostgreSQL server of its own for a fault test: a fresh cluster (initdb) in a
 * temporary folder, listening on 127.0.0.1 on a free port, that the test may kill
 * and start again. Never the shared server a suite otherwise runs against.
 */
export interface TemporaryPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The postmaster's process id while it runs. */
  readonly pid: number | undefined;
  /** Starts the server (again) and resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL of the postmaster, as a crash would; resolves when it has exited. */
  kill(): Promise<void>;
  /** `pg_ctl stop -m immediate` (no shutdown checkpoint); resolves when it has exited. */
  stopImmediate(): Promise<void>;
  /** Stops the server and deletes its folder. */
  destroy(): Promise<void>;
}

/** Where the PostgreSQL server binaries are: `$PG_BIN`, else the newest `/usr/lib/postgresql/<v>/bin`. */
export function postgresBinDir(): string | undefined {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'postgres'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Creates and starts a throw-away PostgreSQL cluster. As root, the cluster runs as
 * the `postgres` system user (PostgreSQL refuses to run as root).
 */
export async function startTemporaryPostgres(options: { binDir?: string } = {}): Promise<TemporaryPostgres> {
  const bin = options.binDir ?? postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found: install postgresql or set PG_BIN');
  const ids = await runAs();
  const dataDir = await mkdtemp(join(tmpdir(), 'diandan-pg-'));
  if (ids) await chown(dataDir, ids.uid, ids.gid);
  const spawnIds = ids ? { uid: ids.uid, gid: ids.gid } : {};
  await new Promise<void>((resolve, reject) => {
    const init = spawn(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
      ...spawnIds,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let stderr = '';
    init.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    init.once('error', reject);
    init.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (${code}): ${stderr}`))));
  });
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);

  const startOnce = async (): Promise<boolean> => {
    const proc = spawn(
      join(bin, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=60', '-c', 'shared_buffers=16MB'],
      { ...spawnIds, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    proc.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    child = proc;
    exited = gone;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        // Orphaned backends of a killed postmaster still hold the shared memory for a
        // moment ("pre-existing shared memory block is still in use"): try again.
        if (/shared memory|lock file|already running/i.test(log)) return false;
        throw new Error(`postgres did not start: ${log}`);
      }
      if (await acceptsConnections(bin, port)) return true;
      await sleep(50);
    }
    proc.kill('SIGKILL');
    throw new Error(`postgres did not accept connections within 15 s: ${log}`);
  };

  const server: TemporaryPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async start() {
      for (let attempt = 0; attempt < 100; attempt++) {
        if (await startOnce()) return;
        await sleep(100);
      }
      throw new Error('postgres did not start: shared memory still in use');
    },
    async kill() {
      if (server.pid) child!.kill('SIGKILL');
      await exited;
    },
    async stopImmediate() {
      if (!server.pid) return;
      await run(join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10'], spawnIds).catch(() => child?.kill('SIGKILL'));
      await exited;
    },
    async destroy() {
      process.off('exit', onExit);
      await server.kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

/** The uid/gid to run PostgreSQL as: the `postgres` user when we are root, else ourselves. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** True when the server completes a startup handshake (not "starting up"). */
async function acceptsConnections(bin: string, port: number): Promise<boolean> {
  // A TCP connect first: cheap, and pg_isready takes ~10 ms to spawn.
  const open = await new Promise<boolean>((resolve) => {
    const s = new Socket();
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
  if (!open) return false;
  try {
    await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '1']);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
