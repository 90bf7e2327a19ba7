import { NavLink, Outlet } from 'react-router';
import { useSession } from './session/session';

/** The frame of every signed-in page: skip link, header with navigation, main content. */
export function Layout() {
  const session = useSession();
  const links = session.isStaff
    ? [
        { to: '/staff/queue', label: 'Queue' },
        { to: '/staff/stats', label: 'Stats' },
      ]
    : [
        { to: '/tickets', label: 'My tickets', end: true },
        { to: '/tickets/new', label: 'New ticket' },
      ];
  return (
    <>
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
          <span title={session.email}>{session.name}</span>
          <button type="button" className="link-button" onClick={session.signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
