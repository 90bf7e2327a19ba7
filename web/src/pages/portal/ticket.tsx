import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { unwrap, type Comment } from '../../api/client';
import { StatusBadge } from '../../components/badges';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { HistoryTimeline, TicketThread } from '../../components/conversation';
import { FormError } from '../../components/field';
import { ReplyForm } from '../../components/reply-form';
import { ErrorState, Loading } from '../../components/states';
import { formatDateTime, humanize } from '../../format';
import { useSession } from '../../session/session';

/** One of the customer's tickets: conversation, history, reply box and Close. */
export function TicketPage() {
  const ticketId = useParams().ticketId as string;
  const { api, userId } = useSession();
  const queryClient = useQueryClient();
  const [isConfirming, setConfirming] = useState(false);
  const path = { ticketId };
  const detail = useQuery({
    queryKey: ['ticket', ticketId],
    queryFn: () => unwrap(api.GET('/api/v1/support/tickets/{ticketId}', { params: { path } })),
  });
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: ['ticket', ticketId] }), queryClient.invalidateQueries({ queryKey: ['my-tickets'] })]);
  const close = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/support/tickets/{ticketId}/close', { params: { path } })),
    onSettled: refresh,
  });

  if (detail.isPending) return <Loading label="Loading the ticket…" />;
  if (detail.isError) return <ErrorState error={detail.error} onRetry={() => void detail.refetch()} backTo={{ href: '/tickets', label: 'Back to my tickets' }} />;
  const { ticket, history } = detail.data;
  const isClosed = ticket.status === 'closed';
  const authorName = (comment: Comment) =>
    comment.author_type === 'staff' ? 'Support team' : comment.author_id === userId ? 'You' : comment.author_email;

  return (
    <article className="ticket">
      <p className="breadcrumb">
        <Link to="/tickets">My tickets</Link>
      </p>
      <header className="page-head">
        <h1>{ticket.title}</h1>
        <StatusBadge status={ticket.status} />
      </header>
      <p className="meta">
        {humanize(ticket.type)} · opened <time dateTime={ticket.created_at}>{formatDateTime(ticket.created_at)}</time>
      </p>
      <TicketThread description={ticket.description} comments={ticket.comments} authorName={authorName} />
      {isClosed ? (
        <p className="notice">This ticket is closed. Open a new ticket if you need more help.</p>
      ) : (
        <>
          <ReplyForm
            label="Your reply"
            submitLabel="Send reply"
            onSubmit={(content) => unwrap(api.POST('/api/v1/support/tickets/{ticketId}/comments', { params: { path }, body: { content } })).then(refresh)}
          />
          <FormError message={close.error?.message} />
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
        {/* A customer sees only their own tickets, so any change not theirs is staff's: never name an agent to a customer. */}
        <HistoryTimeline
          history={history}
          describeAssignee={() => 'a support agent'}
          describeChanger={(entry) => (entry.changed_by === userId ? 'you' : 'a support agent')}
        />
      </section>
    </article>
  );
}
