import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { unwrap } from '../../api/client';
import { useSession } from '../../session/session';

type Level = 'all' | 'replies' | 'none';
const LEVELS: ReadonlyArray<{ value: Level; label: string }> = [
  { value: 'all', label: 'All updates' },
  { value: 'replies', label: 'Only replies' },
  { value: 'none', label: 'Nothing' },
];

/** The customer's choice of what they are sent by e-mail. */
export function MailPreference() {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const current = useQuery({ queryKey: ['mail-preference'], queryFn: () => unwrap(api.GET('/api/v1/me/mail')) });
  const save = useMutation({
    mutationFn: (email: Level) => unwrap(api.PUT('/api/v1/me/mail', { body: { email } })),
    onSuccess: (data) => queryClient.setQueryData(['mail-preference'], data),
  });
  if (!current.data) return null;
  return (
    <form className="mail-preference" aria-label="E-mail notifications" onSubmit={(e) => e.preventDefault()}>
      <label>
        E-mail me about my tickets:{' '}
        <select value={current.data.email} disabled={save.isPending} onChange={(e) => save.mutate(e.target.value as Level)}>
          {LEVELS.map((level) => (
            <option key={level.value} value={level.value}>
              {level.label}
            </option>
          ))}
        </select>
      </label>{' '}
      <span role="status">{save.isSuccess ? 'Saved' : save.isError ? 'Not saved, try again' : ''}</span>
    </form>
  );
}
