import { lazy, Suspense } from 'react';

// The renderer (marked and DOMPurify, ~30 kB gzipped) is not part of the first download: it loads
// once the first page is up (or with the first message); until it is there, a message shows as
// its plain text.
const loadRenderer = () => import('./markdown-html');
const MarkdownHtml = lazy(loadRenderer);

/** Starts loading the Markdown renderer ahead of the first message. */
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
