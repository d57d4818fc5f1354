// reprove as its users get it: the package is packed with npm, installed into a
// new project, and a consumer written against `import ... from 'reprove'` is
// type-checked and run there.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { sh, workdir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

const CONSUMER = `
import { writeFileSync } from 'node:fs';
import { AbortError, compare, explain, renderText, verifySet, writeReport, type Difference, type SetVerdict, type Verdict } from 'reprove';

const [a, b, out] = process.argv.slice(2) as [string, string, string];
const { difference }: { difference: Difference | null } = await compare(a, b, { limits: { maxReportSize: 1 << 20 } });
const set: SetVerdict = await verifySet([a], [b]);
const verdict: Verdict = set.verdict;
const causes = difference ? explain(difference).findings.map((f) => f.id) : [];
await writeReport(difference!, 'html', out);
let aborted = false;
try {
  await compare(a, b, { signal: AbortSignal.abort() });
} catch (e) {
  aborted = e instanceof AbortError;
}
writeFileSync(1, JSON.stringify({ differs: difference !== null, verdict, causes, text: renderText(difference!).includes('file list'), aborted }) + '\\n');
`;

// Wrong on purpose: the package's types must reject it.
const MISUSE = `
import { compare } from 'reprove';
await compare(1, 2);
`;

test('the packed package installs into a new project, whose TypeScript consumer type-checks against its declarations and runs', async (t) => {
  const d = workdir(t);
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', d], { cwd: ROOT, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
  const files = packed[0]!.files.map((f) => f.path);
  assert.ok(files.includes('dist/src/index.js') && files.includes('dist/src/index.d.ts') && files.includes('dist/bin/main.js'), 'the library, its declarations and the command are packed');
  assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('src/') || f.startsWith('test/')), 'tests and sources are not packed');

  const app = join(d, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(d, packed[0]!.filename)], { cwd: app, encoding: 'utf8' });
  assert.equal(install.status, 0, install.stderr);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')], skipLibCheck: false },
      files: ['consumer.ts'],
    }),
  );
  writeFileSync(join(app, 'consumer.ts'), CONSUMER);
  const tsc = spawnSync(process.execPath, [TSC, '-p', '.'], { cwd: app, encoding: 'utf8' });
  assert.equal(tsc.status, 0, `the consumer type-checks: ${tsc.stdout}${tsc.stderr}`);

  sh(app, 'mkdir -p x y && echo one > x/f && echo two > y/f && tar --mtime=@1 -cf a.tar -C x f && tar --mtime=@2 -cf b.tar -C y f');
  const run = spawnSync(process.execPath, ['out/consumer.js', 'a.tar', 'b.tar', 'report.html'], { cwd: app, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { differs: true, verdict: 'UNREPRODUCIBLE', causes: ['timestamps_in_tarball'], text: true, aborted: true });
  assert.match(sh(app, 'head -c 200 report.html'), /<!DOCTYPE html>/i);

  writeFileSync(join(app, 'misuse.ts'), MISUSE);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }, files: ['misuse.ts'] }));
  const misuse = spawnSync(process.execPath, [TSC, '-p', '.'], { cwd: app, encoding: 'utf8' });
  assert.notEqual(misuse.status, 0, 'passing numbers as paths is a type error');
  assert.match(misuse.stdout + misuse.stderr, /misuse\.ts.*number.*string/s);
});
