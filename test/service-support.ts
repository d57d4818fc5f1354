// What the service tests share: waiting for a state, and small packages built at
// test time with a recipe for the command backend.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SyncPackage } from '../src/api/schemas.js';
import { sh } from './helpers.js';

export /** Waits until `check` returns a value, polling; fails after `seconds`. */
async function until<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * Packages built at test time: each a source tarball and a recipe, published as the
 * file the recipe makes. `kind` says how a rebuild differs: not at all, by the date
 * it writes, or not at all but slowly (a build a worker can be killed in).
 */
export function makePackages(dir: string, names: string[], kind: (name: string) => 'same' | 'date' | 'slow' | 'fails'): SyncPackage[] {
  return names.map((name) => {
    const src = join(dir, 'src', name);
    sh(dir, `mkdir -p src/${name}/${name}-1.0 pub/${name} && echo "hello from ${name}" > src/${name}/${name}-1.0/data.txt && tar --sort=name --mtime=@0 --owner=0 --group=0 -C src/${name} -czf src/${name}.tar.gz ${name}-1.0`);
    const script = {
      same: 'cp data.txt "$OUT/$PACKAGE.txt"',
      slow: 'sleep 6; cp data.txt "$OUT/$PACKAGE.txt"',
      date: '{ cat data.txt; date +%s%N; } > "$OUT/$PACKAGE.txt"',
      fails: 'cp does-not-exist "$OUT/"',
    }[kind(name)];
    // The published file: what the build server made (for 'date', at another moment).
    sh(dir, `cp ${src}/${name}-1.0/data.txt pub/${name}/${name}.txt` + (kind(name) === 'date' ? ` && echo 1000 >> pub/${name}/${name}.txt` : ''));
    const pub = join(dir, 'pub', name, `${name}.txt`);
    const tarball = join(dir, 'src', `${name}.tar.gz`);
    return {
      name,
      version: '1.0',
      backend: 'command',
      recipe: { script, source: { url: `file://${tarball}`, sha256: sha256(tarball), strip: 1 } },
      artifacts: [{ name: `${name}.txt`, url: `file://${pub}`, sha256: sha256(pub) }],
    };
  });
}
