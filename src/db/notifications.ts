import pg from 'pg';

/** A PostgreSQL LISTEN held open on a connection of its own. */
export interface Listener {
  /** Stops listening and closes the connection. */
  stop(): Promise<void>;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Calls `onNotify` whenever `channel` is notified on the PostgreSQL server at `url`: a LISTEN on
 * a connection outside the pool, opened again (with a growing pause) when it drops. A
 * notification sent while the connection was down is lost, so `onNotify` is also called after
 * every (re)connection: a listener treats a notification as a hint to read again, never as data.
 */
export function listenPostgres(url: string, channel: string, onNotify: () => void, onError: (error: unknown) => void): Listener {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let pause = RETRY_MIN_MS;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    client = next;
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    // Never thrown: a dropped connection is reported and opened again.
    next.on('error', (error) => {
      onError(error);
      again(next);
    });
    next.on('end', () => again(next));
    try {
      await next.connect();
      await next.query(`listen ${pg.escapeIdentifier(channel)}`);
      pause = RETRY_MIN_MS;
      onNotify();
    } catch (error) {
      onError(error);
      again(next);
    }
  };

  const again = (lost: pg.Client): void => {
    if (stopped || client !== lost || retry) return;
    client = undefined;
    void lost.end().catch(() => {});
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, pause);
    retry.unref();
    pause = Math.min(pause * 2, RETRY_MAX_MS);
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const last = client;
      client = undefined;
      await last?.end().catch(() => {});
    },
  };
}
