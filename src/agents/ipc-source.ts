import type { FromWorker, JobHandlers, JobSource, ToWorker } from './jobs.js';

/** A worker a node started: its jobs come over the IPC channel (the node's LocalAgentQueue gives them). */
export class IpcJobSource implements JobSource {
  private listener?: (m: ToWorker) => void;

  constructor(private readonly channel: NodeJS.Process) {}

  start(capacity: number, handlers: JobHandlers) {
    this.listener = (m) => {
      if (m?.type === 'job') handlers.job(m.job);
      else if (m?.type === 'cancel') handlers.cancelled(m.jobId);
    };
    this.channel.on('message', this.listener);
    this.send({ type: 'ready', capacity });
  }

  async finished(jobId: string) {
    this.send({ type: 'finished', jobId });
  }

  private send(m: FromWorker) {
    // The node may be gone (then this worker goes too, on 'disconnect'): a failed send is no crash.
    if (this.channel.connected) this.channel.send!(m, undefined, undefined, () => undefined);
  }

  async stop() {
    if (this.listener) this.channel.off('message', this.listener);
  }
}
