// rebuilderd's package list, `/api/v0/pkgs/list`, in its shape (PkgRelease: one
// entry per published artifact, status GOOD, BAD or UNKWN), so the tools that
// read rebuilderd instances (arch-repro-status, ismypackagereproducibleyet) read
// reprove unchanged. BIT_IDENTICAL, IDENTICAL_EXCEPT_SIGNATURE and REPRODUCIBLE
// are GOOD; UNREPRODUCIBLE and FTBFS are BAD (rebuilderd's v0 maps its FAIL to BAD
// too); an ERROR or no result yet is UNKWN.
import { Type } from '@sinclair/typebox';
import { RebuilderdPackage } from '../api/schemas.js';
import type { Verdict } from '../store/index.js';
import { type App, type RouteDeps, errorsOf } from './context.js';
import { rebuilderdRows } from './store-reads.js';

type Status = 'GOOD' | 'BAD' | 'UNKWN';
const STATUS: Record<Verdict, Status> = { BIT_IDENTICAL: 'GOOD', IDENTICAL_EXCEPT_SIGNATURE: 'GOOD', REPRODUCIBLE: 'GOOD', UNREPRODUCIBLE: 'BAD', FTBFS: 'BAD', ERROR: 'UNKWN' };
const VERDICTS_OF: Record<Status, (Verdict | 'none')[]> = { GOOD: ['BIT_IDENTICAL', 'IDENTICAL_EXCEPT_SIGNATURE', 'REPRODUCIBLE'], BAD: ['UNREPRODUCIBLE', 'FTBFS'], UNKWN: ['ERROR', 'none'] };

const ListQuery = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 255 })),
  status: Type.Optional(Type.Union([Type.Literal('GOOD'), Type.Literal('BAD'), Type.Literal('UNKWN')])),
  distro: Type.Optional(Type.String({ maxLength: 255 })),
  suite: Type.Optional(Type.String({ maxLength: 255 })),
  architecture: Type.Optional(Type.String({ maxLength: 64 })),
});

/** chrono's NaiveDateTime as serde writes it: UTC without a zone. */
const naive = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '');

export function rebuilderdRoutes(app: App, { store }: RouteDeps): void {
  app.get('/api/v0/pkgs/list', { schema: { tags: ['rebuilderd'], summary: "rebuilderd's package list (PkgRelease entries)", querystring: ListQuery, response: { 200: Type.Array(RebuilderdPackage), ...errorsOf(400) } } }, async (request) => {
    const q = request.query;
    const rows = await rebuilderdRows(store, { distro: q.distro, suite: q.suite, architecture: q.architecture, name: q.name, verdicts: q.status === undefined ? undefined : VERDICTS_OF[q.status] });
    return rows.map((r) => ({
      name: r.name,
      version: r.version,
      status: r.verdict === null ? 'UNKWN' : STATUS[r.verdict],
      distro: r.distribution,
      suite: r.suite,
      architecture: r.architecture,
      artifact_url: r.url ?? '',
      build_id: r.resultId,
      built_at: r.builtAt === null ? null : naive(r.builtAt),
      has_diffoscope: r.hasReport,
      has_attestation: false,
    }));
  });
}
