/**
 * Assistant jobs, after LiveKit Agents' workers and jobs: a node dispatches one when a call needs
 * its assistant; an agent worker process takes it and runs the assistant in the call, as a
 * protocol client. A job is taken by one worker at a time; a worker that dies has its jobs
 * dispatched again, and the next one goes on from the conversation the node kept.
 */
export interface AgentJob {
  jobId: string;
  tenant: string;
  /** The room's name, and its call. */
  room: string;
  callId: string;
  /** The node that hosts the room: where the assistant joins (a redirect is followed). */
  url: string;
  /** The assistant's access token (role bot, with the assist grant). */
  token: string;
  /** 0 for the first dispatch; more after a worker died with it. */
  attempt: number;
}

/** Where a node puts its jobs (chosen once at start: LocalAgentQueue alone, RedisAgentQueue in a cluster). */
export interface AgentQueue {
  enqueue(job: AgentJob): Promise<void>;
  /** The job ends: waiting, it is dropped; taken, its worker leaves the call. */
  cancel(jobId: string): Promise<void>;
  counts(): Promise<{ waiting: number; running: number }>;
  start(): void;
  stop(): Promise<void>;
}

/** What a worker hears of its jobs. */
export interface JobHandlers {
  job(job: AgentJob): void;
  /** Taken away: cancelled, or (in a cluster) given to another worker after this one stopped renewing it. */
  cancelled(jobId: string): void;
}

/** A worker's side of the queue (IpcJobSource under a node, RedisJobSource in a cluster). */
export interface JobSource {
  /** Starts giving jobs, at most `capacity` at once. */
  start(capacity: number, handlers: JobHandlers): void;
  /** The worker is done with a job (the call ended, or the assistant left it). */
  finished(jobId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Messages between a node and the workers it started (their IPC channel). */
export type ToWorker = { type: 'config'; config: unknown } | { type: 'job'; job: AgentJob } | { type: 'cancel'; jobId: string };
export type FromWorker = { type: 'ready'; capacity: number } | { type: 'finished'; jobId: string };
