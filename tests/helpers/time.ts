/** Waits `ms` (a test that needs time to pass for its subject, not a budget it checks). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
