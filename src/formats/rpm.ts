// RPM packages (the Format): the lead, the signature header, the main header and
// the payload, compared part by part. The parts live at their seams: rpm-parser.ts
// reads the bytes, rpm-views.ts shows the headers as rpm -qp does, rpm-integrity.ts
// checks the digests and sizes, rpm-payload.ts decompresses and compares the cpio
// payload. This file only wires them into one report node per package pair.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, type Difference } from '../compare/difference.js';
import { settleAll } from '../compare/settle.js';
import type { Format } from './format.js';
import { integrityComments } from './rpm-integrity.js';
import { LEAD_MAGIC, readRpm } from './rpm-parser.js';
import { comparePayloads, payloadOf } from './rpm-payload.js';
import { changelogNode, DEPENDENCY_KINDS, dependencies, dependencyNode, fileListNode, headerNode, scriptletNode } from './rpm-views.js';
import { FORMAT, NODE } from './names.js';

export async function compareRpm(a: Artifact, b: Artifact, ctx: Context, depth: number): Promise<Difference | null> {
  const [pa, pb] = await settleAll([readRpm(a), readRpm(b)]);
  const comments = [...pa.comments, ...pb.comments];
  const ya = payloadOf(a, pa);
  const yb = payloadOf(b, pb);
  const details: (Difference | null)[] = [
    await headerDifference(ctx, NODE.rpmLead, pa.lead, pb.lead),
    await headerNode(ctx, NODE.rpmSignatureHeader, pa.signature, pb.signature),
    await headerNode(ctx, NODE.rpmHeader, pa.header, pb.header),
  ];
  const viewComments: string[] = [];
  details.push(await fileListNode(ctx, pa, pb, viewComments, a.name, b.name));
  for (const [view, prefix] of DEPENDENCY_KINDS) details.push(await dependencyNode(ctx, view, dependencies(pa.header, prefix), dependencies(pb.header, prefix)));
  details.push(await scriptletNode(ctx, pa.header, pb.header));
  details.push(await changelogNode(ctx, pa.header, pb.header));
  const [ia, ib] = await settleAll([integrityComments(a, pa, ya), integrityComments(b, pb, yb)]);
  details.push(await comparePayloads(a, b, pa, pb, ya, yb, ctx, depth));
  return group(a.name, b.name, details, { comments: [...new Set([...comments, ...viewComments, ...ia, ...ib])] });
}

export const rpmFormat: Format = {
  name: FORMAT.rpm,
  magic: (head) => head.length >= 4 && head.subarray(0, 4).equals(LEAD_MAGIC),
  fileName: /\.rpm$/i,
  compare: compareRpm,
};
