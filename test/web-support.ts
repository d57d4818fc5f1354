// Hostile package data for the website's tests: a package whose name, version,
// maintainer, log, message and reports hold markup, javascript: links and bidi
// control characters, put straight into the store (the API's schemas would refuse
// most of it; the store accepts whatever a distribution's archive could list).
// Every payload calls alert(): a browser test fails on any dialog.
import { presenters } from '../src/present/registry.js';
import type { Store } from '../src/store/index.js';

// The store refuses whitespace, '/', '\\', '..' and control or format characters in
// names and versions (so no bidi there), but not markup.
export const HOSTILE_NAME = '"><script>alert(1)<';
export const HOSTILE_VERSION = '1.0"><b>x<';
export const HOSTILE_MAINTAINER = '"><img src=x onerror="alert(2)"> \u202eevil <evil@example.org>';
export const HOSTILE_MESSAGE = 'UNREPRODUCIBLE: <script>alert(3)</script> javascript:alert(4) \u202egnp.exe';

export interface Hostile {
  packageId: number;
  /** The result whose report reprove made from hostile files. */
  resultId: number;
  /** A later result whose stored report is raw hostile HTML (as if the engine had failed to escape). */
  rawResultId: number;
}

/** Adds the hostile package (distribution "hostile") with one UNREPRODUCIBLE result whose blobs are all hostile. */
export async function addHostile(store: Store): Promise<Hostile> {
  await store.syncPackages({
    distribution: 'hostile',
    suite: 'main',
    architecture: 'x86_64',
    packages: [
      {
        name: HOSTILE_NAME,
        version: HOSTILE_VERSION,
        backend: 'command',
        maintainer: HOSTILE_MAINTAINER,
        buildinfoUrl: 'javascript:alert(5)',
        artifacts: [{ name: '"><b>x<', url: 'javascript:alert(7)', sha256: 'a'.repeat(64) }],
      },
    ],
  });
  const { worker } = await store.addWorker(`hostile-${Date.now()}`, { architectures: ['x86_64'], backends: ['command'] });
  let claimed = await store.claim(worker.id);
  while (claimed && claimed.job.package.distribution !== 'hostile') claimed = await store.claim(worker.id);
  if (!claimed) throw new Error('Cannot add the hostile package: its job was not claimable');
  // Reprove's own report of files holding markup (escaped by the engine), and a raw one standing for a report that was not.
  const difference = {
    source1: `${HOSTILE_NAME}.deb`,
    source2: 'rebuilt/"><img src=x onerror=alert(8)>',
    comments: ['<script>alert(9)</script>'],
    details: [{ source1: 'usr/share/doc/<svg onload=alert(10)>', source2: 'usr/share/doc/<svg onload=alert(10)>', comments: [], details: [], unifiedDiff: '@@ -1 +1 @@\n-<script>alert(11)</script>\n+<a href="javascript:alert(12)">\u202eclick</a>\n' }],
  };
  const html = await store.putBlob([Buffer.from([...presenters.html(difference)].join(''))]);
  const raw = await store.putBlob([Buffer.from('<!DOCTYPE html><title>raw</title><script>alert(13)</script><img src=x onerror="alert(14)"><p id="raw">raw report</p>')]);
  const rebuilt = await store.putBlob([Buffer.from('rebuilt <script>alert(20)</script>')]);
  const log = await store.putLog([Buffer.from('building\n<script>alert(15)</script>\n\u202eevil\n')]);
  const out = await store.report(claimed.job.id, claimed.leaseToken, {
    verdict: 'UNREPRODUCIBLE',
    failureClass: null,
    message: HOSTILE_MESSAGE,
    ignored: [{ artifact: '<i>x</i>', path: '"><script>alert(16)</script>', reason: 'javascript:alert(17)' }],
    issues: ['timestamps_in_gzip_headers', 'x_unknown_cause'],
    logBlob: log.sha256,
    reportHtmlBlob: html.sha256,
    artifacts: [{ name: '"><script>alert(19)<', sha256: rebuilt.sha256 }],
  });
  // A second result of the same package whose report is the raw one (for the sandbox check).
  await store.push({ distribution: 'hostile', suite: 'main', architecture: 'x86_64', name: HOSTILE_NAME, priority: 1000 });
  const again = await store.claim(worker.id);
  if (!again) throw new Error('Cannot add the hostile package: its second job was not claimable');
  const second = await store.report(again.job.id, again.leaseToken, { verdict: 'UNREPRODUCIBLE', failureClass: null, message: HOSTILE_MESSAGE, reportHtmlBlob: raw.sha256, logBlob: log.sha256 });
  await store.removeWorker(worker.id);
  return { packageId: claimed.job.package.id, resultId: out.result.id, rawResultId: second.result.id };
}
