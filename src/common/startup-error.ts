/**
 * A node that cannot start, with the one line that says which setting to change. main.ts
 * prints only this line and exits 78 (EX_CONFIG): no stack trace for an operator to decode.
 */
export class StartupError extends Error {}

/** Runs a start-up step; a failure becomes a StartupError with `explain`'s line. */
export async function startupStep<T>(step: () => Promise<T> | T, explain: (err: Error & { code?: string }) => string): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof StartupError) throw err;
    throw new StartupError(explain(err as Error & { code?: string }));
  }
}

export const inUse = (err: Error & { code?: string }) => err.code === 'EADDRINUSE' || /address already in use|EADDRINUSE/i.test(err.message);
