import type { Redis } from 'ioredis';
import type { AgentJob, AgentQueue, JobHandlers, JobSource } from './jobs.js';
import type { AgentWorkers } from './agent-workers.js';

/**
 * Assistant jobs in Redis, for a cluster: nodes put jobs in, workers anywhere take them.
 *
 *   sfu:agents:pending       list of job ids, in order
 *   sfu:agents:job:<id>      hash: json (the job), owner (the worker that has it), attempt
 *   sfu:agents:leases        sorted set: job id → when its worker's lease ends (epoch ms)
 *
 * Taking a job and owning it is one script, so a job goes to exactly one worker. A worker
 * renews its leases; a job whose lease ran out (its worker died) goes back in the list with
 * one more attempt, by whichever worker or node reaps first (a script too). Cancelling deletes
 * the job: its worker's next renewal fails, and it leaves the call.
 */
const K = { pending: 'sfu:agents:pending', leases: 'sfu:agents:leases', job: (id: string) => `sfu:agents:job:${id}` };
/** A job nobody took or finished is forgotten after a day. */
const JOB_TTL_S = 86_400;

const TAKE = `
for i = 1, 50 do
  local id = redis.call('LPOP', KEYS[1])
  if not id then return nil end
  local key = ARGV[4] .. id
  if redis.call('EXISTS', key) == 1 and not redis.call('HGET', key, 'owner') then
    redis.call('HSET', key, 'owner', ARGV[1])
    redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[3]), id)
    return { id, redis.call('HGET', key, 'json'), redis.call('HGET', key, 'attempt') }
  end
end
return nil`;
const RENEW = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[4])
return 1`;
const FINISH = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`;
const REAP = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[2] .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('HDEL', key, 'owner')
    redis.call('HINCRBY', key, 'attempt', 1)
    redis.call('RPUSH', KEYS[2], id)
  end
end
return #ids`;

type AgentRedis = Redis & {
  agentTake(pending: string, leases: string, worker: string, now: number, leaseMs: number, prefix: string): Promise<[string, string, string] | null>;
  agentRenew(job: string, leases: string, worker: string, now: number, leaseMs: number, id: string): Promise<number>;
  agentFinish(job: string, leases: string, worker: string, id: string): Promise<number>;
  agentReap(leases: string, pending: string, now: number, prefix: string): Promise<number>;
};

function scripted(redis: Redis): AgentRedis {
  const r = redis as AgentRedis;
  if (!r.agentTake) {
    redis.defineCommand('agentTake', { numberOfKeys: 2, lua: TAKE });
    redis.defineCommand('agentRenew', { numberOfKeys: 2, lua: RENEW });
    redis.defineCommand('agentFinish', { numberOfKeys: 2, lua: FINISH });
    redis.defineCommand('agentReap', { numberOfKeys: 2, lua: REAP });
  }
  return r;
}

const PREFIX = K.job('');

/** Jobs whose worker's lease ran out go back in the list; the number moved. */
export const reap = (redis: Redis, now = Date.now()) => scripted(redis).agentReap(K.leases, K.pending, now, PREFIX);

/** A node's side: it puts jobs in and cancels them; it reaps too, so jobs move on with no worker alive to do it. */
export class RedisAgentQueue implements AgentQueue {
  private readonly redis: AgentRedis;
  private timer?: NodeJS.Timeout;

  /** `pool`: the workers this node starts (they take jobs from Redis themselves), if any. */
  constructor(redis: Redis, private readonly leaseMs: number, private readonly pool?: AgentWorkers) {
    this.redis = scripted(redis);
  }

  async enqueue(job: AgentJob) {
    await this.redis.multi()
      .hset(K.job(job.jobId), 'json', JSON.stringify(job), 'attempt', String(job.attempt))
      .expire(K.job(job.jobId), JOB_TTL_S)
      .rpush(K.pending, job.jobId)
      .exec();
  }

  async cancel(jobId: string) {
    await this.redis.multi().del(K.job(jobId)).lrem(K.pending, 0, jobId).zrem(K.leases, jobId).exec();
  }

  async counts() {
    const [waiting, running] = await Promise.all([this.redis.llen(K.pending), this.redis.zcard(K.leases)]);
    return { waiting, running };
  }

  start() {
    this.pool?.start();
    this.timer = setInterval(() => void reap(this.redis).catch(() => undefined), this.leaseMs);
    this.timer.unref();
  }

  async stop() {
    clearInterval(this.timer);
    await this.pool?.stop();
  }
}

/** A worker's side: it takes jobs while it has room, renews them, and gives up those it lost. */
export class RedisJobSource implements JobSource {
  private readonly redis: AgentRedis;
  private readonly mine = new Set<string>();
  private handlers?: JobHandlers;
  private capacity = 0;
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(redis: Redis, readonly workerId: string, private readonly leaseMs: number, private readonly pollMs = 250) {
    this.redis = scripted(redis);
  }

  start(capacity: number, handlers: JobHandlers) {
    this.capacity = capacity;
    this.handlers = handlers;
    let renewAt = 0;
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      const now = Date.now();
      const renewing = now >= renewAt;
      if (renewing) renewAt = now + this.leaseMs / 3;
      void this.tick(renewing).catch(() => undefined).finally(() => (this.busy = false));
    }, this.pollMs);
  }

  private async tick(renew: boolean) {
    const now = Date.now();
    if (renew) {
      await reap(this.redis, now);
      for (const id of [...this.mine]) {
        if ((await this.redis.agentRenew(K.job(id), K.leases, this.workerId, now, this.leaseMs, id)) === 1) continue;
        this.mine.delete(id);
        this.handlers!.cancelled(id);
      }
    }
    while (this.mine.size < this.capacity) {
      const taken = await this.redis.agentTake(K.pending, K.leases, this.workerId, Date.now(), this.leaseMs, PREFIX);
      if (!taken) break;
      const [id, json, attempt] = taken;
      this.mine.add(id);
      this.handlers!.job({ ...(JSON.parse(json) as AgentJob), attempt: Number(attempt) });
    }
  }

  async finished(jobId: string) {
    if (!this.mine.delete(jobId)) return;
    await this.redis.agentFinish(K.job(jobId), K.leases, this.workerId, jobId).catch(() => undefined);
  }

  async stop() {
    clearInterval(this.timer);
    // What it still has goes to other workers at once rather than when its leases run out.
    await Promise.all([...this.mine].map((id) => this.redis.multi().hdel(K.job(id), 'owner').hincrby(K.job(id), 'attempt', 1).zrem(K.leases, id).rpush(K.pending, id).exec()));
    this.mine.clear();
  }
}
