import { useEffect, useRef } from 'react';

/** One shortcut as the cheat sheet lists it. */
export interface ShortcutHelp {
  keys: string[];
  does: string;
}

/** Every shortcut, by where it works: what the ? dialog shows (staff and customers see their own). */
export const SHORTCUTS: { staff: Array<[string, ShortcutHelp[]]>; customer: Array<[string, ShortcutHelp[]]> } = {
  staff: [
    ['Anywhere', [{ keys: ['?'], does: 'Show these shortcuts' }]],
    [
      'Queue',
      [
        { keys: ['j', 'k'], does: 'Move to the next or previous ticket' },
        { keys: ['Enter', 'o'], does: 'Open the selected ticket' },
        { keys: ['/'], does: 'Search' },
      ],
    ],
    [
      'Ticket',
      [
        { keys: ['r'], does: 'Reply to the customer' },
        { keys: ['n'], does: 'Write an internal note' },
        { keys: ['c'], does: 'Go to the composer' },
        { keys: ['a'], does: 'Assign to me' },
        { keys: ['Ctrl+Enter', '⌘+Enter'], does: 'Send (in the composer)' },
        { keys: ['Esc'], does: 'Leave the composer (the draft stays)' },
        { keys: ['['], does: 'Previous ticket of the queue you came from' },
        { keys: [']'], does: 'Next ticket of the queue you came from' },
        { keys: ['u'], does: 'Back to that queue' },
      ],
    ],
  ],
  customer: [
    ['Anywhere', [{ keys: ['?'], does: 'Show these shortcuts' }, { keys: ['c'], does: 'New ticket' }]],
    [
      'Ticket',
      [
        { keys: ['r'], does: 'Write a reply' },
        { keys: ['Ctrl+Enter', '⌘+Enter'], does: 'Send (in the reply box)' },
        { keys: ['Esc'], does: 'Leave the reply box (the draft stays)' },
      ],
    ],
  ],
};

/** Whether a key press lands where people type: then a letter is a letter, not a shortcut. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
  return false;
}

/**
 * Single-key shortcuts on the whole document, by `event.key` ("j", "?", "["). They never fire
 * while typing in a field, with Ctrl, ⌘ or Alt held (the browser's and the system's shortcuts),
 * or while a modal dialog is open. A handler returns false to let the key through.
 */
export function useShortcuts(handlers: Record<string, (event: KeyboardEvent) => boolean | void>): void {
  // The latest handlers, without re-adding the listener on every render.
  const ref = useRef(handlers);
  useEffect(() => {
    ref.current = handlers;
  });
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTypingTarget(event.target) || document.querySelector('dialog[open]')) return;
      const handler = ref.current[event.key];
      if (handler && handler(event) !== false) event.preventDefault();
    }
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, []);
}

/** Ctrl+Enter or ⌘+Enter: send, in a composer. */
export function isSendKey(event: { key: string; ctrlKey: boolean; metaKey: boolean }): boolean {
  return event.key === 'Enter' && (event.ctrlKey || event.metaKey);
}
