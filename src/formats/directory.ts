// Directories on disk: every entry below them (links are never followed, so a
// symlink loop is just a link), compared as a container.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactFromPath, type Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group } from '../compare/difference.js';
import { LimitError, ReproveError } from '../compare/errors.js';
import { compareMembers } from '../compare/members.js';
import type { Format } from './format.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';
import { limitNote } from '../compare/limits.js';

/** Every entry below `root`, depth first in name order, named by relative path. */
export async function listDirectory(root: Artifact, ctx: Context): Promise<Artifact[]> {
  const out: Artifact[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    if (depth > ctx.limits.maxDepth) throw new LimitError('max-depth', `Directory nesting deeper than ${ctx.limits.maxDepth} at ${rel} (${limitNote('maxDepth')})`);
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (out.length >= ctx.limits.maxMembers) throw new LimitError('max-members', `More than ${ctx.limits.maxMembers} entries (${limitNote('maxMembers')})`);
      const relPath = rel ? `${rel}/${name}` : name;
      const a = await artifactFromPath(ctx.files, join(dir, name), relPath, root.path);
      out.push(a);
      if (a.meta.type === 'dir') await walk(join(dir, name), relPath, depth + 1);
    }
  };
  if (!root.fsPath) throw new ReproveError('unsupported', `Cannot list ${root.name}: not a directory on disk`);
  await walk(root.fsPath, '', 0);
  return out;
}

export const directoryFormat: Format = {
  name: FORMAT.directory,
  async compare(a, b, ctx, depth) {
    const [la, lb] = await settleAll([listDirectory(a, ctx), listDirectory(b, ctx)]);
    const { details, comments } = await compareMembers(la, lb, ctx, depth, { metadataNodes: true });
    return group(a.name, b.name, details, { comments });
  },
};
