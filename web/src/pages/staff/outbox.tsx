import { useQuery } from '@tanstack/react-query';
import { unwrap } from '../../api/client';
import { ErrorState, Loading } from '../../components/states';
import { RelativeTime } from '../../components/time';
import { PageHeading, useDocumentTitle } from '../../page';
import { useSession } from '../../session/session';

/** The development outbox: the notifications helpdesk would have mailed, while no SMTP server is set. */
export function OutboxPage() {
  const { api } = useSession();
  const outbox = useQuery({ queryKey: ['dev-outbox'], queryFn: () => unwrap(api.GET('/api/v1/admin/mail/outbox')) });
  useDocumentTitle('Outbox (development)');
  return (
    <>
      <div className="page-head">
        <PageHeading>Outbox (development)</PageHeading>
      </div>
      <p>No SMTP server is configured (HELPDESK_SMTP_URL), so notifications are kept here and as .eml files in the data directory.</p>
      {outbox.isPending ? (
        <Loading label="Loading messages…" />
      ) : outbox.isError ? (
        <ErrorState isInline error={outbox.error} onRetry={() => void outbox.refetch()} />
      ) : outbox.data.messages.length === 0 ? (
        <p>No messages yet.</p>
      ) : (
        <ul className="outbox">
          {outbox.data.messages.map((message) => (
            <li key={message.id}>
              <details>
                <summary>
                  <strong>{message.subject}</strong> to {message.to}, <RelativeTime iso={message.date} />
                </summary>
                <pre className="outbox-text">{message.text}</pre>
              </details>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
