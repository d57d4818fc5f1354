// Output formats by flag name; the CLI writes each one requested. Each yields the
// report in pieces, so a large report is written as it is made, never held whole.
import type { Difference } from '../compare/difference.js';
import { htmlChunks } from './html.js';
import { jsonChunks } from './json.js';
import { markdownChunks } from './markdown.js';
import { textChunks } from './text.js';

export const presenters = {
  text: textChunks,
  json: (d: Difference) => jsonChunks(d),
  html: htmlChunks,
  markdown: markdownChunks,
} satisfies Record<string, (d: Difference) => Iterable<string>>;

export type PresenterName = keyof typeof presenters;
