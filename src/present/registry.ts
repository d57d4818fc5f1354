// Output formats by flag name; the CLI writes each one requested.
import type { Difference } from '../compare/difference.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderText } from './text.js';

export const presenters = {
  text: renderText,
  json: (d: Difference) => renderJson(d),
  html: renderHtml,
  markdown: renderMarkdown,
} satisfies Record<string, (d: Difference) => string>;

export type PresenterName = keyof typeof presenters;
