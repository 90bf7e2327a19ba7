import { useEffect, useRef } from 'react';
import type { ShortcutHelp } from '../keyboard';

/** The cheat sheet: every shortcut, by where it works (native <dialog>: Escape closes it). */
export function ShortcutsDialog({ open, sections, onClose }: { open: boolean; sections: Array<[string, ShortcutHelp[]]>; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (open && dialog && !dialog.open) dialog.showModal();
    if (!open && dialog?.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby="shortcuts-title" onClose={onClose} className="shortcuts">
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <p className="muted small">Single keys work when you are not typing in a field.</p>
      {sections.map(([title, shortcuts]) => (
        <section key={title} aria-labelledby={`shortcuts-${title}`}>
          <h3 id={`shortcuts-${title}`}>{title}</h3>
          <dl>
            {shortcuts.map((s) => (
              <div key={s.does}>
                <dt>
                  {s.keys.map((key, i) => (
                    <span key={key}>
                      {i > 0 ? ' or ' : null}
                      <kbd>{key}</kbd>
                    </span>
                  ))}
                </dt>
                <dd>{s.does}</dd>
              </div>
            ))}
          </dl>
        </section>
      ))}
      <div className="actions">
        <button type="button" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
    </dialog>
  );
}
