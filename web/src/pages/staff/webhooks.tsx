import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { Field, FormError } from '../../components/field';
import { ErrorState, Loading } from '../../components/states';
import { RelativeTime } from '../../components/time';
import { humanize } from '../../format';
import { PageHeading, useDocumentTitle } from '../../page';
import { useSession } from '../../session/session';

type Endpoint = components['schemas']['WebhookEndpoint'];
type Subscribable = Endpoint['events'][number];
type Delivery = components['schemas']['WebhookDelivery'];

const EVENT_TYPES: ReadonlyArray<{ type: Subscribable; label: string }> = [
  { type: '*', label: 'Everything a customer may see' },
  { type: 'ticket.created', label: 'Ticket created' },
  { type: 'ticket.updated', label: 'Priority, type or assignee changed' },
  { type: 'ticket.status_changed', label: 'Status changed' },
  { type: 'comment.created', label: 'Public comment' },
  { type: 'note.created', label: 'Internal note (staff only)' },
];
const FIELDS = ['url', 'events', 'description'] as const;

/** Staff's webhook endpoints: add one (its secret shown once), send a test, see and retry deliveries. */
export function WebhooksPage() {
  const { api } = useSession();
  const endpoints = useQuery({ queryKey: ['webhooks'], queryFn: () => unwrap(api.GET('/api/v1/admin/webhooks')) });
  const [secret, setSecret] = useState<{ url: string; secret: string } | undefined>();
  const [openId, setOpenId] = useState<string | undefined>();
  useDocumentTitle('Webhooks');

  return (
    <>
      <div className="page-head">
        <PageHeading>Webhooks</PageHeading>
      </div>
      <p className="muted">Every ticket change is POSTed to these endpoints, signed per Standard Webhooks, and retried until it is received.</p>
      {secret ? <SecretNotice {...secret} onDone={() => setSecret(undefined)} /> : <AddEndpoint onAdded={setSecret} />}
      <h2>Endpoints</h2>
      {endpoints.isPending ? (
        <Loading label="Loading endpoints…" />
      ) : endpoints.isError ? (
        <ErrorState isInline error={endpoints.error} onRetry={() => void endpoints.refetch()} />
      ) : endpoints.data.endpoints.length === 0 ? (
        <p>No endpoints yet.</p>
      ) : (
        <ul className="webhook-list">
          {endpoints.data.endpoints.map((endpoint) => (
            <EndpointItem key={endpoint.id} endpoint={endpoint} isOpen={openId === endpoint.id} onToggle={() => setOpenId(openId === endpoint.id ? undefined : endpoint.id)} />
          ))}
        </ul>
      )}
    </>
  );
}

function AddEndpoint({ onAdded }: { onAdded: (shown: { url: string; secret: string }) => void }) {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<Subscribable[]>(['*']);
  const add = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/admin/webhooks', { body: { url, events, description } })),
    onSuccess: async (created) => {
      onAdded({ url: created.url, secret: created.secret });
      await queryClient.invalidateQueries({ queryKey: ['webhooks'] });
    },
  });
  const error = add.error instanceof ApiError ? add.error : undefined;
  const marked = error?.formErrors(FIELDS).fields ?? {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const toggle = (type: Subscribable, on: boolean) => setEvents(on ? [...events, type] : events.filter((t) => t !== type));

  return (
    <form className="card webhook-form" onSubmit={submit} aria-labelledby="add-webhook">
      <h2 id="add-webhook">Add an endpoint</h2>
      <FormError message={add.error ? (error ? error.formMessage(FIELDS) : add.error.message) : undefined} />
      <Field id="webhook-url" label="URL" error={marked.url} hint="https:// and a public address">
        {(control) => <input {...control} type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/hooks/helpdesk" />}
      </Field>
      <Field id="webhook-description" label="Description" error={marked.description}>
        {(control) => <input {...control} value={description} maxLength={500} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <fieldset>
        <legend>Events</legend>
        {EVENT_TYPES.map(({ type, label }) => (
          <label key={type} className="checkbox">
            <input type="checkbox" checked={events.includes(type)} onChange={(e) => toggle(type, e.target.checked)} /> {label}
          </label>
        ))}
        {marked.events ? <p className="field-error">{marked.events}</p> : null}
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={add.isPending}>
          Add endpoint
        </button>
      </div>
    </form>
  );
}

function SecretNotice({ url, secret, onDone }: { url: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <section className="card secret-notice" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret for {url}</h2>
      <p>Copy it now: it is not shown again. Your receiver verifies each delivery with it.</p>
      <p>
        <code aria-label="Signing secret">{secret}</code>
      </p>
      <div className="actions">
        <button
          type="button"
          onClick={() =>
            void navigator.clipboard.writeText(secret).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          Copy secret
        </button>
        <button type="button" className="link-button" onClick={onDone}>
          Done
        </button>
        <span role="status">{copied ? 'Copied' : ''}</span>
      </div>
    </section>
  );
}

function EndpointItem({ endpoint, isOpen, onToggle }: { endpoint: Endpoint; isOpen: boolean; onToggle: () => void }) {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: ['webhooks'] }), queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', endpoint.id] })]);
  const test = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/admin/webhooks/{webhookId}/test', { params: { path: { webhookId: endpoint.id } } })),
    onSuccess: refresh,
  });
  const setDisabled = useMutation({
    mutationFn: (disabled: boolean) => unwrap(api.PATCH('/api/v1/admin/webhooks/{webhookId}', { params: { path: { webhookId: endpoint.id } }, body: { disabled } })),
    onSuccess: refresh,
  });
  const failure = test.error ?? setDisabled.error;
  const listId = `deliveries-${endpoint.id}`;
  return (
    <li className="card webhook">
      <h3 className="webhook-url">{endpoint.url}</h3>
      <p className="muted small">
        {endpoint.description ? `${endpoint.description} · ` : ''}
        {endpoint.events.map((e) => (e === '*' ? 'everything a customer may see' : e)).join(', ')} ·{' '}
        {endpoint.disabled ? <strong>Disabled ({humanize(endpoint.disabled_reason ?? 'staff')})</strong> : 'Enabled'}
      </p>
      <FormError message={failure?.message} />
      <div className="actions">
        <button type="button" onClick={() => test.mutate()} disabled={endpoint.disabled || test.isPending}>
          Send test
        </button>
        <button type="button" onClick={() => setDisabled.mutate(!endpoint.disabled)} disabled={setDisabled.isPending}>
          {endpoint.disabled ? 'Enable' : 'Disable'}
        </button>
        <button type="button" className="link-button" aria-expanded={isOpen} aria-controls={listId} onClick={onToggle}>
          Recent deliveries
        </button>
      </div>
      {isOpen ? <Deliveries id={listId} endpointId={endpoint.id} /> : null}
    </li>
  );
}

function Deliveries({ id, endpointId }: { id: string; endpointId: string }) {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const deliveries = useQuery({
    queryKey: ['webhook-deliveries', endpointId],
    queryFn: () => unwrap(api.GET('/api/v1/admin/webhooks/{webhookId}/deliveries', { params: { path: { webhookId: endpointId }, query: { limit: 20 } } })),
    // Pending deliveries change on their own: look again while any is pending.
    refetchInterval: (query) => (query.state.data?.deliveries.some((d) => d.status === 'pending') ? 2_000 : false),
  });
  const retry = useMutation({
    mutationFn: (deliveryId: string) => unwrap(api.POST('/api/v1/admin/webhooks/deliveries/{deliveryId}/retry', { params: { path: { deliveryId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', endpointId] }),
  });
  if (deliveries.isPending) return <Loading label="Loading deliveries…" />;
  if (deliveries.isError) return <ErrorState isInline error={deliveries.error} onRetry={() => void deliveries.refetch()} />;
  return (
    <div id={id}>
      <FormError message={retry.error?.message} />
      {deliveries.data.deliveries.length === 0 ? (
        <p>No deliveries yet.</p>
      ) : (
        <table className="deliveries">
          <caption>Recent deliveries</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Made</th>
              <th scope="col">Status</th>
              <th scope="col">Last attempt</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data.deliveries.map((delivery) => (
              <tr key={delivery.id}>
                <td>{delivery.event_type}</td>
                <td>
                  <RelativeTime iso={delivery.created_at} />
                </td>
                <td>{humanize(delivery.status)}</td>
                <td>{lastAttempt(delivery)}</td>
                <td>
                  {delivery.status === 'pending' ? null : (
                    <button type="button" onClick={() => retry.mutate(delivery.id)} disabled={retry.isPending}>
                      Retry<span className="visually-hidden"> {delivery.event_type}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function lastAttempt(delivery: Delivery): string {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return 'Not yet sent';
  const answer = last.status_code === null ? (last.error ?? 'no answer') : `HTTP ${last.status_code}`;
  return `${answer}, ${last.duration_ms} ms (${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? '' : 's'})`;
}
