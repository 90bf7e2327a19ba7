import { redactUrl, type DatabaseConfig } from '../config.js';

/**
 * One paragraph for an error met while opening or first using the configured database: what failed,
 * the likely cause, and the command that fixes it. Undefined for anything that is not such a mistake
 * (a bug keeps its stack trace).
 */
export function describeDatabaseError(error: unknown, database: DatabaseConfig): string | undefined {
  return database.kind === 'postgres' ? describePostgres(error, database.url) : describeSqlite(error, database.path);
}

interface CodedError {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

function codeOf(error: unknown): string | undefined {
  const e = error as CodedError | null;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string') return e.code;
  // A host with several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError of each attempt.
  if (Array.isArray(e.errors)) return e.errors.map(codeOf).find((c) => c !== undefined);
  return undefined;
}

function describePostgres(error: unknown, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const where = redactUrl(url);
  const host = parsed.hostname || 'localhost';
  const port = parsed.port || '5432';
  const name = decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || 'postgres';
  const role = decodeURIComponent(parsed.username) || 'the current system user';
  switch (codeOf(error)) {
    case 'ECONNREFUSED':
      return (
        `Cannot reach PostgreSQL at ${host}:${port} (DATABASE_URL=${where}): the connection was refused. ` +
        `Is the server running and listening there? Start it (Debian/Ubuntu: \`sudo systemctl start postgresql\`), ` +
        `check with \`pg_isready -h ${host} -p ${port}\`, or fix the host and port in DATABASE_URL.`
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Cannot reach PostgreSQL: the host "${host}" in DATABASE_URL=${where} does not resolve. Fix the host name in DATABASE_URL.`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return (
        `Cannot reach PostgreSQL at ${host}:${port} (DATABASE_URL=${where}): no answer. ` +
        `A firewall, a wrong address or a server that is down; check with \`pg_isready -h ${host} -p ${port}\`.`
      );
    case '3D000': // invalid_catalog_name
      return (
        `PostgreSQL at ${host}:${port} has no database "${name}" (DATABASE_URL=${where}). Create it first: ` +
        `\`helpdesk migrate --create-database\` (or \`createdb -h ${host} -p ${port} -U ${parsed.username || 'postgres'} ${name}\`), then start again.`
      );
    case '28000': // invalid_authorization_specification: no such role, or pg_hba.conf refuses it
      return (
        `PostgreSQL at ${host}:${port} refused the role ${role} (DATABASE_URL=${where}): ${messageOf(error)}. ` +
        `Create the role (\`sudo -u postgres createuser --createdb ${parsed.username || 'NAME'}\`) or name an existing one in DATABASE_URL; ` +
        `if the role exists, pg_hba.conf does not let it connect from here.`
      );
    case '28P01': // invalid_password
      return (
        `PostgreSQL at ${host}:${port} refused the password of role ${role} (DATABASE_URL=${where}). ` +
        `Fix the password in DATABASE_URL (percent-encode special characters), or set it with \`ALTER ROLE ${parsed.username || 'NAME'} PASSWORD '…'\`.`
      );
    case '42501': // insufficient_privilege
      return (
        `PostgreSQL role ${role} may not change the schema of "${name}" (DATABASE_URL=${where}): ${messageOf(error)}. ` +
        `helpdesk creates its tables at start-up; make the role the database's owner (\`ALTER DATABASE ${name} OWNER TO ${parsed.username || 'NAME'}\`).`
      );
    case '57P03': // cannot_connect_now
      return `PostgreSQL at ${host}:${port} is starting up or shutting down (DATABASE_URL=${where}); try again in a moment.`;
    default:
      return undefined;
  }
}

function describeSqlite(error: unknown, file: string): string | undefined {
  switch (codeOf(error)) {
    case 'SQLITE_CANTOPEN':
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOTDIR':
    case 'EEXIST':
      return (
        `Cannot create or open the SQLite database ${file} (${messageOf(error)}): its folder is not writable by this user, ` +
        `or a part of the path is not a folder. Point HELPDESK_DATA_DIR (or DATABASE_URL=sqlite:PATH) at a folder this user owns.`
      );
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
      return `The SQLite database ${file} is read-only for this user. Fix its permissions (and its folder's: SQLite writes a -wal file beside it) or run helpdesk as its owner.`;
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return `${file} is not a helpdesk SQLite database (or is damaged). Point DATABASE_URL=sqlite:PATH at the right file, or move this one away to start empty.`;
    case 'SQLITE_BUSY':
      return `The SQLite database ${file} is locked by another process. SQLite serves one helpdesk process; stop the other one, or use PostgreSQL to run several.`;
    default:
      return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
