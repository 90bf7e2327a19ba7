/**
 * Point reads asked for during one event-loop turn, answered together by one query at its end.
 * The customer's cached list and ticket need one small read per request (a version), and under
 * load many requests arrive in one turn. On PostgreSQL each query is a round trip (a write to
 * the socket, a read, parsing on both sides); on SQLite one costs little alone but adds up on
 * a loaded server (a read transaction's locks and a cold B-tree path). Every caller asks
 * after its request arrived and the query runs after that, so each answer is as fresh as a
 * query of its own.
 *
 * `load` gets distinct keys (at most `MAX_KEYS` at once) and returns what it found by key.
 */
export function batchedByTurn<V>(load: (keys: string[]) => Promise<Map<string, V>>): (key: string) => Promise<V | undefined> {
  let pending: Map<string, Array<Waiter<V>>> | undefined;
  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      if (pending === undefined) {
        const batch = new Map<string, Array<Waiter<V>>>();
        pending = batch;
        setImmediate(() => {
          pending = undefined;
          const keys = [...batch.keys()];
          for (let start = 0; start < keys.length; start += MAX_KEYS) answer(batch, keys.slice(start, start + MAX_KEYS), load);
        });
      }
      const waiters = pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
    });
}

const MAX_KEYS = 200;

interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

function answer<V>(batch: Map<string, Array<Waiter<V>>>, keys: string[], load: (keys: string[]) => Promise<Map<string, V>>): void {
  load(keys).then(
    (found) => {
      for (const key of keys) for (const waiter of batch.get(key) ?? []) waiter.resolve(found.get(key));
    },
    (error: unknown) => {
      for (const key of keys) for (const waiter of batch.get(key) ?? []) waiter.reject(error);
    },
  );
}
