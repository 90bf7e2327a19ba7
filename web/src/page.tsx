import { useEffect, useRef, type ReactNode } from 'react';
import { useLocation } from 'react-router';

const APP_NAME = 'helpdesk';

/**
 * Names the browser tab (and what a screen reader announces for the page): "Unassigned · Queue ·
 * helpdesk". Undefined leaves the title to someone else: a page that failed leaves it to its error.
 */
export function useDocumentTitle(title: string | undefined): void {
  useEffect(() => {
    if (title !== undefined) document.title = `${title} · ${APP_NAME}`;
  }, [title]);
}

// Set when the path changed and the new page's heading has not been there to take focus yet.
let isFocusPending = false;

/**
 * After a navigation to another path, focus goes to the new page's h1, so keyboard and screen
 * reader users start on the page they came to, not on the link they left behind. (The first
 * load leaves focus where the browser puts it; a change of query, like a filter, moves nothing.)
 */
export function useFocusOnNavigation(): void {
  const { pathname } = useLocation();
  const isFirst = useRef(true);
  useEffect(() => {
    if (isFirst.current) {
      isFirst.current = false;
      return;
    }
    // The page may already show its heading, or still be loading it.
    const heading = document.querySelector<HTMLElement>('main h1');
    if (heading) heading.focus();
    isFocusPending = !heading;
  }, [pathname]);
}

/** A page's h1, which takes focus when it appears after a navigation. */
export function PageHeading({ children, id }: { children: ReactNode; id?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (isFocusPending && ref.current) {
      isFocusPending = false;
      ref.current.focus();
    }
  }, []);
  return (
    <h1 ref={ref} id={id} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** While `hasUnsentText`, leaving the page (reload, closing the tab, another site) asks first. */
export function useLeaveWarning(hasUnsentText: boolean): void {
  useEffect(() => {
    if (!hasUnsentText) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [hasUnsentText]);
}
