import { useMemo } from 'react';
import { renderMarkdown } from '../markdown';

/** The sanitised HTML of a message's Markdown (markdown.ts decides what may appear). */
export default function MarkdownHtml({ text, className }: { text: string; className: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div className={className} dangerouslySetInnerHTML={{ __html: html }} />;
}
