import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, unwrap, unwrapResponse, type Comment } from '../../api/client';
import { PriorityBadge, StatusBadge } from '../../components/badges';
import { HistoryTimeline, TicketThread } from '../../components/conversation';
import { ReplyForm } from '../../components/reply-form';
import { ErrorState, Loading } from '../../components/states';
import { formatDateTime, humanize } from '../../format';
import { useSession } from '../../session/session';
import { TriagePanel, type TicketChanges } from './triage-panel';

const CONFLICT_MESSAGE =
  'Someone else changed this ticket after you opened it, so your change was not saved. The ticket now shows their change: check it, then make your change again if it is still needed.';

/** A ticket as staff work it: conversation with internal notes, reply or note, and triage. */
export function WorkspacePage() {
  const ticketId = useParams().ticketId as string;
  const { api } = useSession();
  const queryClient = useQueryClient();
  const [isInternal, setInternal] = useState(false);
  const [conflict, setConflict] = useState(false);
  const path = { ticketId };
  const detail = useQuery({
    queryKey: ['staff-ticket', ticketId],
    queryFn: async () => {
      const { data, response } = await unwrapResponse(api.GET('/api/v1/admin/support/tickets/{ticketId}', { params: { path } }));
      return { ...data, etag: response.headers.get('etag') ?? undefined };
    },
  });
  const agents = useQuery({ queryKey: ['agents'], queryFn: () => unwrap(api.GET('/api/v1/admin/support/agents')) });
  const emailOf = (userId: string) => agents.data?.agents.find((a) => a.user_id === userId)?.email ?? userId;
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: ['staff-ticket', ticketId] }), queryClient.invalidateQueries({ queryKey: ['queue'] })]);
  const update = useMutation({
    mutationFn: (changes: TicketChanges) =>
      unwrap(api.PATCH('/api/v1/admin/support/tickets/{ticketId}', { params: { path, header: { 'if-match': detail.data?.etag } }, body: changes })),
    onMutate: () => setConflict(false),
    // The conflict message says the ticket now shows the other change: say it once it does.
    onSettled: async (_data, error) => {
      await refresh();
      if (error instanceof ApiError && error.status === 412) setConflict(true);
    },
  });

  if (detail.isPending) return <Loading label="Loading the ticket…" />;
  if (detail.isError) return <ErrorState error={detail.error} onRetry={() => void detail.refetch()} backTo={{ href: '/staff/queue', label: 'Back to the queue' }} />;
  const { ticket, history } = detail.data;
  const authorName = (comment: Comment) => `${comment.author_email}${comment.author_type === 'staff' ? ' (staff)' : ''}`;

  return (
    <div className="workspace">
      <article className="ticket">
        <p className="breadcrumb">
          <Link to="/staff/queue">Queue</Link>
        </p>
        <header className="page-head">
          <h1>{ticket.title}</h1>
          <span className="badges">
            <PriorityBadge priority={ticket.priority} />
            <StatusBadge status={ticket.status} />
          </span>
        </header>
        <p className="meta">
          {humanize(ticket.type)} · {ticket.created_by_email} at <strong>{ticket.tenant_id}</strong> · opened{' '}
          <time dateTime={ticket.created_at}>{formatDateTime(ticket.created_at)}</time>
        </p>
        <TicketThread description={ticket.description} comments={ticket.comments} authorName={authorName} />
        <ReplyForm
          label={isInternal ? 'Internal note (only the support team sees it)' : 'Reply to the customer'}
          submitLabel={isInternal ? 'Add internal note' : 'Send reply'}
          isInternal={isInternal}
          onSubmit={(content) =>
            unwrap(api.POST('/api/v1/admin/support/tickets/{ticketId}/comments', { params: { path }, body: { content, is_internal: isInternal } })).then(refresh)
          }
        >
          <fieldset className="toggle">
            <legend className="visually-hidden">Kind of comment</legend>
            <label>
              <input type="radio" name="kind" checked={!isInternal} onChange={() => setInternal(false)} /> Public reply
            </label>
            <label>
              <input type="radio" name="kind" checked={isInternal} onChange={() => setInternal(true)} /> Internal note
            </label>
          </fieldset>
        </ReplyForm>
        <section aria-labelledby="history-title">
          <h2 id="history-title">History</h2>
          <HistoryTimeline history={history} describeAssignee={emailOf} describeChanger={(entry) => entry.changed_by_email} />
        </section>
      </article>
      <TriagePanel
        key={ticket.ticket_id}
        ticket={ticket}
        isSaving={update.isPending}
        error={conflict ? CONFLICT_MESSAGE : update.error?.message}
        onSave={(changes) => update.mutateAsync(changes)}
      />
    </div>
  );
}
