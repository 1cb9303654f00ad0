import { CodedError } from './errors.js';

const unavailable = (err: unknown) =>
  err instanceof CodedError ? err : new CodedError('NODE_UNAVAILABLE', `the cluster store is unreachable: ${(err as Error)?.message ?? err}`);

/** A call to the shared store (Redis): while it is away, callers get 503 NODE_UNAVAILABLE, never a 500. */
export async function reachable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw unavailable(err);
  }
}

/** The same for every method of a store object. */
export function reachableAll<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, name, receiver) {
      const value = Reflect.get(obj, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = value.apply(obj, args);
        return result instanceof Promise ? result.catch((err) => Promise.reject(unavailable(err))) : result;
      };
    },
  });
}
