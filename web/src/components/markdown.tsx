import { lazy, Suspense } from 'react';

// The renderer (marked and DOMPurify, ~30 kB gzipped) loads with the first page that shows a
// message, not with the queue; until it is there, a message shows as its plain text.
const loadRenderer = () => import('./markdown-html');
const MarkdownHtml = lazy(loadRenderer);

/** Starts loading the Markdown renderer ahead of the first message (a ticket page, while its data loads). */
export function preloadMarkdown(): void {
  void loadRenderer();
}

/** A message written in Markdown, rendered safely (see markdown.ts). */
export function Markdown({ text, className }: { text: string; className?: string }) {
  const classes = className ? `markdown ${className}` : 'markdown';
  return (
    <Suspense
      fallback={
        <div className={classes}>
          <p className="plain">{text}</p>
        </div>
      }
    >
      <MarkdownHtml text={text} className={classes} />
    </Suspense>
  );
}
