import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { unwrap, type Comment } from '../../api/client';
import { MAX_LENGTH } from '../../api/limits';
import { StatusBadge } from '../../components/badges';
import { Composer, type ComposerHandle } from '../../components/composer';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { HistoryTimeline, TicketThread, type Describers } from '../../components/conversation';
import { FormError } from '../../components/field';
import { ErrorState, Loading } from '../../components/states';
import { RelativeTime } from '../../components/time';
import { CustomerWaitingBadge } from '../../components/waiting';
import { humanize, ticketNumber } from '../../format';
import { useShortcuts } from '../../keyboard';
import { PageHeading, useDocumentTitle } from '../../page';
import { useSession } from '../../session/session';
import { describeRequestError } from '../../validation';
import { markSeen } from './seen';

const REPLY_RULE = { empty: 'Please write your reply before sending it.', noun: 'message', max: MAX_LENGTH.CreateCommentBody.content };

/** The route: one ticket's page, started afresh for each ticket. */
export function TicketRoute() {
  const ticketId = useParams().ticketId as string;
  return <TicketPage key={ticketId} ticketId={ticketId} />;
}

/** One of the customer's tickets: conversation with its changes, reply box and Close. */
function TicketPage({ ticketId }: { ticketId: string }) {
  const { api, userId } = useSession();
  const queryClient = useQueryClient();
  const [isConfirming, setConfirming] = useState(false);
  const composer = useRef<ComposerHandle>(null);
  const path = { ticketId };
  const detail = useQuery({
    queryKey: ['ticket', ticketId],
    queryFn: () => unwrap(api.GET('/api/v1/support/tickets/{ticketId}', { params: { path } })),
    // Opened again, the ticket may have a new answer: it is asked again rather than shown as last seen.
    refetchOnMount: 'always',
  });
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: ['ticket', ticketId] }), queryClient.invalidateQueries({ queryKey: ['my-tickets'] })]);
  const close = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/support/tickets/{ticketId}/close', { params: { path } })),
    onSettled: refresh,
  });
  useDocumentTitle(detail.data ? detail.data.ticket.title : detail.isError ? undefined : 'Ticket');
  useShortcuts({ r: () => composer.current?.focus() });
  // What the customer has now seen: My tickets marks a reply after this one as new.
  const seenCount = detail.data?.ticket.comment_count;
  useEffect(() => {
    if (seenCount !== undefined) markSeen(userId, ticketId, seenCount);
  }, [userId, ticketId, seenCount]);

  if (detail.isPending) return <Loading label="Loading the ticket…" />;
  if (detail.isError) return <ErrorState error={detail.error} notFound="ticket" onRetry={() => void detail.refetch()} backTo={{ href: '/tickets', label: 'Back to my tickets' }} />;
  const { ticket, history } = detail.data;
  const isClosed = ticket.status === 'closed';
  // A customer sees only their own tickets, so any change not theirs is staff's: never name an agent to a customer.
  const describers: Describers = {
    authorName: (comment: Comment) => (comment.author_type === 'staff' ? 'Support team' : comment.author_id === userId ? 'You' : comment.author_email),
    describeAssignee: () => 'a support agent',
    describeChanger: (entry) => (entry.changed_by === userId ? 'you' : 'a support agent'),
  };

  return (
    <article className="ticket">
      <p className="breadcrumb">
        <Link to="/tickets">My tickets</Link>
      </p>
      <header className="page-head">
        <PageHeading>{ticket.title}</PageHeading>
        <span className="badges">
          <CustomerWaitingBadge on={ticket.waiting_on} />
          <StatusBadge status={ticket.status} />
        </span>
      </header>
      <p className="meta">
        Ticket {ticketNumber(ticket.number)} · {humanize(ticket.type)} · opened <RelativeTime iso={ticket.created_at} />
      </p>
      <TicketThread
        description={ticket.description}
        attachments={ticket.attachments}
        comments={ticket.comments}
        history={history}
        describers={describers}
        toolbar={
          isClosed ? undefined : (
            <button type="button" className="quiet" onClick={() => composer.current?.focus()} aria-keyshortcuts="r">
              Reply <kbd aria-hidden="true">r</kbd>
            </button>
          )
        }
      />
      {isClosed ? (
        <p className="notice">This ticket is closed. Open a new ticket if you need more help.</p>
      ) : (
        <>
          {ticket.status === 'resolved' ? (
            <p className="notice">The support team marked this ticket as resolved. If something is still not right, reply below and it opens again.</p>
          ) : null}
          <Composer
            ref={composer}
            userId={userId}
            ticketId={ticket.ticket_id}
            rule={REPLY_RULE}
            label={() => (ticket.status === 'resolved' ? 'Your reply (reopens the ticket)' : 'Your reply')}
            submitLabel={() => (ticket.status === 'resolved' ? 'Send and reopen' : 'Send reply')}
            conflict="This ticket was closed in the meantime, so it takes no more replies. Please open a new ticket."
            onSend={(content, _isInternal, attachments) =>
              unwrap(api.POST('/api/v1/support/tickets/{ticketId}/comments', { params: { path }, body: { content, ...(attachments.length > 0 ? { attachments } : {}) } })).then(refresh)
            }
          />
          <FormError message={close.error ? describeRequestError(close.error, 'This ticket is already closed.') : undefined} />
          <div className="actions">
            <button type="button" className="danger" onClick={() => setConfirming(true)} disabled={close.isPending}>
              Close ticket
            </button>
          </div>
          <ConfirmDialog
            open={isConfirming}
            title="Close this ticket?"
            body="The support team will stop working on it, and you will not be able to reply any more."
            confirmLabel="Close ticket"
            onCancel={() => setConfirming(false)}
            onConfirm={() => {
              setConfirming(false);
              close.mutate();
            }}
          />
        </>
      )}
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <HistoryTimeline history={history} describeAssignee={describers.describeAssignee} describeChanger={describers.describeChanger} />
      </section>
    </article>
  );
}
