// Placeholder until the HTML presenter lands.
import type { Difference } from '../compare/difference.js';
import { renderText } from './text.js';

export function renderHtml(root: Difference): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><meta charset="utf-8"><pre>${esc(renderText(root))}</pre>\n`;
}
