import { describe, expect, it } from 'vitest';
import type { Call } from '../../src/client/call.js';

/** Checked by `tsc -p .` (part of npm test): the directives below fail the build if the types loosen. */
describe('SDK types', () => {
  it('a misspelled event name is a type error; a real one types its payload', () => {
    const typeChecksOnly = (call: Call) => {
      // @ts-expect-error 'trakAdded' is not an event of Call
      call.on('trakAdded', () => undefined);
      call.on('trackAdded', (t) => t.track.kind);
      // @ts-expect-error the chat payload has no `body`
      call.on('chat', (m) => m.body);
    };
    expect(typeChecksOnly).toBeTypeOf('function');
  });
});
