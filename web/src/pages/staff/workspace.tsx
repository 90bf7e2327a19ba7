import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { STATUSES, unwrap, type Comment, type HistoryEntry, type TicketStatus } from '../../api/client';
import { MAX_LENGTH } from '../../api/limits';
import { PriorityBadge, StatusBadge } from '../../components/badges';
import { Composer, type ComposerHandle } from '../../components/composer';
import { HistoryTimeline, TicketThread, type Describers } from '../../components/conversation';
import { ErrorState, Loading } from '../../components/states';
import { RelativeTime } from '../../components/time';
import { WaitingBadge } from '../../components/waiting';
import { humanize, personName, ticketNumber } from '../../format';
import { useShortcuts } from '../../keyboard';
import { PageHeading, useDocumentTitle } from '../../page';
import { PresenceNote, useAnnouncePresence } from '../../live/presence';
import { useSession } from '../../session/session';
import { TicketNav, useTicketTrail } from './ticket-nav';
import { TriagePanel } from './triage-panel';
import { useStaffTicket } from './use-staff-ticket';

const REPLY_RULE = { empty: 'Please write something before sending.', noun: 'message', max: MAX_LENGTH.CreateStaffCommentBody.content };

/** The route: a ticket's workspace, started afresh for each ticket (its drafts, triage notices and trail are its own). */
export function WorkspaceRoute() {
  const ticketId = useParams().ticketId as string;
  return <WorkspacePage key={ticketId} ticketId={ticketId} />;
}

/** A ticket as staff work it: conversation with internal notes and changes, composer, and triage. */
function WorkspacePage({ ticketId }: { ticketId: string }) {
  const { api, userId } = useSession();
  const navigate = useNavigate();
  const work = useStaffTicket(ticketId);
  useAnnouncePresence(ticketId);
  const nav = useTicketTrail(ticketId);
  const composer = useRef<ComposerHandle>(null);
  const [statusAfter, setStatusAfter] = useState<TicketStatus | ''>('');
  const agents = useQuery({ queryKey: ['agents'], queryFn: () => unwrap(api.GET('/api/v1/admin/support/agents')) });
  const ticket = work.detail.data?.ticket;
  useDocumentTitle(ticket ? ticket.title : work.detail.isError ? undefined : 'Ticket');

  const describeAssignee = (id: string) => {
    if (id === userId) return 'you';
    const email = agents.data?.agents.find((a) => a.user_id === id)?.email ?? (ticket?.assigned_to === id ? ticket.assigned_to_email : undefined);
    return email ? personName(email) : id;
  };
  const describers: Describers = {
    authorName: (comment: Comment) => (comment.author_type === 'staff' ? `${personName(comment.author_email)} (staff)` : personName(comment.author_email)),
    describeAssignee,
    describeChanger: (entry: HistoryEntry) => (entry.changed_by === userId ? 'you' : personName(entry.changed_by_email)),
  };

  useShortcuts({
    r: () => composer.current?.focus('reply'),
    n: () => composer.current?.focus('note'),
    c: () => composer.current?.focus(),
    a: () => (ticket && ticket.assigned_to !== userId && work.pending.assigned_to === undefined ? void work.apply({ assigned_to: userId }) : false),
    '[': () => nav.previous(),
    ']': () => void nav.next(),
    u: () => void navigate(`/staff/queue${nav.trail?.search ?? ''}`),
  });

  if (work.detail.isPending) return <Loading label="Loading the ticket…" />;
  if (work.detail.isError) {
    return (
      <ErrorState
        error={work.detail.error}
        notFound="ticket"
        onRetry={() => void work.detail.refetch()}
        backTo={{ href: `/staff/queue${nav.trail?.search ?? ''}`, label: 'Back to the queue' }}
      />
    );
  }
  const { history } = work.detail.data;
  const current = work.detail.data.ticket;
  const emailed = new Set<string>(current.comments.filter((comment) => comment.channel === 'email').map((comment) => comment.comment_id));
  return (
    <div className="workspace">
      <div className="workspace-head">
        <TicketNav nav={nav} />
        <header className="page-head">
          <PageHeading>{current.title}</PageHeading>
          <span className="badges">
            <WaitingBadge on={current.waiting_on} since={current.waiting_since} />
            <PriorityBadge priority={current.priority} />
            <StatusBadge status={current.status} />
          </span>
        </header>
        <p className="meta">
          <span className="ticket-number">{ticketNumber(current.number)}</span> · {humanize(current.type)} · <span title={current.created_by_email}>{personName(current.created_by_email)}</span> at <strong>{current.tenant_id}</strong> · opened{' '}
          <RelativeTime iso={current.created_at} /> · updated <RelativeTime iso={current.updated_at} />
        </p>
        <PresenceNote ticketId={current.ticket_id} />
      </div>
      <TriagePanel
        ticket={current}
        pending={work.pending}
        applied={work.applied}
        conflict={work.conflict}
        error={work.error}
        describeAssignee={describeAssignee}
        onApply={(changes, options) => void work.apply(changes, options)}
        onDismissConflict={work.dismissConflict}
      />
      <div className="workspace-thread">
        <TicketThread
          description={current.description}
          attachments={current.attachments}
          comments={current.comments}
          history={history}
          describers={describers}
          emailedCommentIds={emailed}
          toolbar={
            <button type="button" className="quiet" onClick={() => composer.current?.focus('reply')} aria-keyshortcuts="r">
              Reply <kbd aria-hidden="true">r</kbd>
            </button>
          }
        />
        <Composer
          ref={composer}
          userId={userId}
          ticketId={current.ticket_id}
          rule={REPLY_RULE}
          canWriteNotes
          label={(isInternal) => (isInternal ? 'Internal note (only the support team sees it)' : 'Reply to the customer')}
          submitLabel={(isInternal) => `${isInternal ? 'Add internal note' : 'Send reply'}${statusAfter ? ` and set ${humanize(statusAfter)}` : ''}`}
          conflict="The ticket changed while you were writing. Your text is still here: please send it again."
          onSend={async (content, isInternal, attachments) => {
            await work.send(content, isInternal, statusAfter || undefined, attachments);
            setStatusAfter('');
          }}
          footer={() => (
            <label className="inline status-after">
              Then
              <select value={statusAfter} onChange={(e) => setStatusAfter(e.target.value as TicketStatus | '')}>
                <option value="">keep it {humanize(current.status).toLowerCase()}</option>
                {STATUSES.filter((s) => s !== current.status).map((s) => (
                  <option key={s} value={s}>
                    set {humanize(s).toLowerCase()}
                  </option>
                ))}
              </select>
            </label>
          )}
        />
        <section aria-labelledby="history-title">
          <h2 id="history-title">History</h2>
          <HistoryTimeline history={history} describeAssignee={describeAssignee} describeChanger={describers.describeChanger} />
        </section>
      </div>
    </div>
  );
}
