/*
 * TEMPORARY, to be replaced by the pg-boss runner: runs jobs in this process, in
 * memory, so the kernel boots while the real runner is built. Not durable.
 */
import { randomUUID } from 'node:crypto';
import { DomainError } from '../errors.js';
import type { DurableDelivery, DurableSubscription } from '../hooks.js';
import type { JobDefinition, JobRun, JobRunner, JobRunnerOptions, Jobs, JobStatus } from './jobs.js';

export async function openJobRunner(options: JobRunnerOptions): Promise<JobRunner> {
  const handlers = new Map<string, (job: JobRun<any>) => Promise<unknown>>();
  const statuses = new Map<string, JobStatus>();
  const waiting = new Map<string, (() => void)[]>();
  let subscriptions: readonly DurableSubscription[] = [];
  const run = (queue: string, id: string, data: any) => {
    setImmediate(async () => {
      const status = statuses.get(id)!;
      status.state = 'active';
      status.attempts++;
      try {
        const handler = handlers.get(queue);
        const sub = subscriptions.find((s) => s.queue === queue);
        if (sub) {
          const d = data as DurableDelivery['data'];
          await sub.handler(d.payload as never, { hookId: d.hookId, eventId: d.eventId, attempt: status.attempts });
        } else if (handler) {
          status.result = await handler({ id, queue, data, attempt: status.attempts, progress: async (p, m) => void ((status.progress = p), (status.message = m ?? null)), signal: new AbortController().signal, log: options.log });
        }
        status.state = 'completed';
      } catch (error) {
        status.state = 'failed';
        status.error = (error as Error).message;
      }
      for (const w of waiting.get(id) ?? []) w();
    });
  };
  const send = (queue: string, plugin: string, data: any) => {
    const id = randomUUID();
    statuses.set(id, { id, queue, plugin, state: 'queued', progress: 0, message: null, result: null, error: null, attempts: 0, ownerId: null, createdAt: new Date().toISOString(), startedAt: null, finishedAt: null });
    run(queue, id, data);
    return id;
  };
  const get = (id: string) => {
    const s = statuses.get(id);
    if (!s) throw new DomainError('not_found', 'JOB_NOT_FOUND', `Job ${id} does not exist`);
    return s;
  };
  return {
    forPlugin(plugin): Jobs {
      return {
        define(name, handler) {
          handlers.set(`${plugin}.${name}`, handler as never);
          return { plugin, name, queue: `${plugin}.${name}` } as JobDefinition<any, any>;
        },
        defineWorker(name) {
          return { plugin, name, queue: `${plugin}.${name}` } as JobDefinition<any, any>;
        },
        send: async (job, data) => send(job.queue, plugin, data),
        schedule: async () => {},
        unschedule: async () => {},
        get: async (id) => get(id),
        list: async () => ({ items: [...statuses.values()], nextCursor: null }),
        cancel: async (id) => get(id),
        wait: (id) => new Promise((resolve) => {
          const s = get(id);
          if (['completed', 'failed', 'cancelled'].includes(s.state)) return resolve(s);
          waiting.set(id, [...(waiting.get(id) ?? []), () => resolve(get(id))]);
        }),
      };
    },
    async write(deliveries) {
      for (const d of deliveries) send(d.queue, 'kernel', d.data);
    },
    async start(subs) {
      subscriptions = subs;
    },
    async stop() {},
  };
}
