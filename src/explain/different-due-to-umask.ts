// different_due_to_umask: file modes follow the builder's umask (022 vs 002).
import type { Detector } from './detector.js';

/** Modes as printed in changes: octal "0644" or "-rw-r--r--". */
function octal(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^[0-7]{3,6}$/.test(v)) return parseInt(v, 8) & 0o7777;
  return undefined;
}

export const differentDueToUmask: Detector = {
  id: 'different_due_to_umask',
  title: 'File modes follow the build umask',
  fix: 'Set `umask 022` in the build, or install files with explicit modes (`install -m 644`, `chmod` before archiving).',
  detect(items) {
    const found = items.filter((i) => {
      if (i.change?.field !== 'mode') return false;
      const a = octal(i.change.value1);
      const b = octal(i.change.value2);
      // Only group/other write bits differ: exactly what a umask changes.
      return a !== undefined && b !== undefined && ((a ^ b) & ~0o022) === 0;
    });
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
