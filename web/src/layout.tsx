import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { unwrap } from './api/client';
import { preloadMarkdown } from './components/markdown';
import { ShortcutsDialog } from './components/shortcuts-dialog';
import { clearDrafts } from './drafts';
import { SHORTCUTS, useShortcuts } from './keyboard';
import { useFocusOnNavigation } from './page';
import { LiveIndicator, LiveProvider } from './live/live';
import { useSession } from './session/session';

/** The frame of every signed-in page: skip link, header with navigation and shortcuts, main content. */
export function Layout() {
  const session = useSession();
  const navigate = useNavigate();
  const [isHelpOpen, setHelpOpen] = useState(false);
  useFocusOnNavigation();
  // Once the first page is up, so a ticket's messages need not wait for the renderer.
  useEffect(preloadMarkdown, []);
  useShortcuts({
    '?': () => setHelpOpen(true),
    // A customer's c is a new ticket anywhere (staff compose on a ticket, where the page takes c).
    ...(session.isStaff ? {} : { c: () => void navigate('/tickets/new') }),
  });
  // Whether there is a development outbox to link to (no SMTP server configured).
  const devOutbox = useQuery({ queryKey: ['dashboard-config', 'signed-in'], queryFn: () => unwrap(session.api.GET('/api/v1/dashboard/config')), enabled: session.isStaff }).data?.dev_outbox;
  const links = session.isStaff
    ? [
        { to: '/staff/queue', label: 'Queue' },
        { to: '/staff/stats', label: 'Stats' },
        { to: '/staff/webhooks', label: 'Webhooks' },
        ...(devOutbox ? [{ to: '/staff/outbox', label: 'Outbox' }] : []),
      ]
    : [
        { to: '/tickets', label: 'My tickets', end: true },
        { to: '/tickets/new', label: 'New ticket' },
      ];
  return (
    <LiveProvider>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">helpdesk{session.isStaff ? <span className="brand-role"> staff</span> : null}</span>
        <nav aria-label="Main">
          <ul>
            {links.map((link) => (
              <li key={link.to}>
                <NavLink to={link.to} end={link.end ?? false}>
                  {link.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <LiveIndicator />
          <button type="button" className="link-button shortcuts-button" onClick={() => setHelpOpen(true)} aria-keyshortcuts="?">
            Shortcuts <kbd aria-hidden="true">?</kbd>
          </button>
          <span title={session.email}>{session.name}</span>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              clearDrafts(session.userId);
              session.signOut();
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} className={session.isStaff ? 'wide' : undefined}>
        <Outlet />
      </main>
      <ShortcutsDialog open={isHelpOpen} sections={session.isStaff ? SHORTCUTS.staff : SHORTCUTS.customer} onClose={() => setHelpOpen(false)} />
    </LiveProvider>
  );
}
