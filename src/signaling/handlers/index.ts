import type { HandlerMap } from '../handler.js';
import { assistantHandlers } from './assistant.js';
import { chatHandlers } from './chat.js';
import { consumerHandlers } from './consumers.js';
import { evidenceHandlers } from './evidence.js';
import { producerHandlers } from './producers.js';
import { roomHandlers } from './room.js';
import { statsHandlers } from './stats.js';
import { transportHandlers } from './transports.js';

/** Every request of the protocol has exactly one handler; the type fails to compile otherwise. */
export const handlers: HandlerMap = {
  ...roomHandlers,
  ...transportHandlers,
  ...producerHandlers,
  ...consumerHandlers,
  ...statsHandlers,
  ...evidenceHandlers,
  ...chatHandlers,
  ...assistantHandlers,
};
